"""Sparse input against SGDRegressor and Ridge on text-like data (issue 14, must show 3).

Data: CSR, ``--rows`` x ``--columns`` (200,000 x 100,000), about ``--nnz``
(50) non-zeros per row, column frequencies Zipf-like (exponent 1, as words
in text), positive values, rows scaled to unit norm (as TfidfVectorizer's);
``y = X @ w + 0.1 * noise`` with ``w`` standard normal.

Side by side in one run, times the median of ``--repeats`` (5), the models
interleaved within each repeat:

1. one epoch (``fit`` with ``max_iter=1, tol=None``) of
   ``GDRegressor(solver='sgd')`` over one of ``SGDRegressor``, both with
   the same schedule (``'invscaling'``, ``eta0=0.01``, ``power_t=0.25``,
   SGDRegressor's default) and penalty (``'l2'``, ``'elasticnet'``),
   ``alpha=1e-4``, shuffled, ``random_state=0``;
2. one epoch of ``GDRegressor(solver='minibatch', batch_size=256)``, same
   schedule and ``'l2'``, over the same SGDRegressor epoch;
3. the default fits: ``GDRegressor(random_state=0)``,
   ``SGDRegressor(random_state=0)``, ``Ridge(alpha=n * 1e-4,
   solver='sparse_cg')``: fit time, epochs and the relative suboptimality
   ``(J - J*) / J*`` of ``J(w, b) = 1/2 mean((X w + b - y)^2) + alpha/2
   ||w||^2``, ``alpha = 1e-4``, whose minimiser is ``Ridge(alpha=n *
   alpha)``; ``J*`` from ``Ridge(solver='lsqr', tol=1e-12)``;
4. the peak of memory allocated during the default ``fit`` (tracemalloc:
   NumPy's and SciPy's allocations; numba's few O(n_features) work arrays
   are not traced) over the bytes of the sparse ``X`` (data, indices,
   indptr).

Timings are printed, never asserted; the machine is shared and noisy.
"""

import argparse
import time
import tracemalloc
import warnings

import numpy as np
import scipy.sparse as sp
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import Ridge, SGDRegressor

from skgd import GDRegressor

ALPHA = 1e-4


def text_like(n_rows, n_columns, nnz, seed=0):
    rng = np.random.RandomState(seed)
    draws = nnz + nnz // 8  # repeated columns are merged: about nnz remain
    weights = 1.0 / np.arange(1, n_columns + 1)
    columns = rng.permutation(n_columns)[np.searchsorted(np.cumsum(weights) / weights.sum(),
                                                          rng.rand(n_rows * draws))]
    columns = np.minimum(columns, n_columns - 1)
    data = rng.exponential(1.0, n_rows * draws)
    X = sp.csr_matrix((data, columns, np.arange(0, n_rows * draws + 1, draws)), shape=(n_rows, n_columns))
    X.sum_duplicates()
    norms = np.sqrt(np.asarray(X.multiply(X).sum(axis=1)).ravel())
    X = sp.diags(1.0 / norms) @ X
    X = X.tocsr()
    X.sort_indices()
    w = rng.randn(n_columns)
    y = X @ w + 0.1 * rng.randn(n_rows)
    return X, y


def objective(X, y, coef, intercept):
    residual = X @ coef + intercept - y
    return 0.5 * np.mean(residual**2) + 0.5 * ALPHA * coef @ coef


def timed(make, X, y):
    time.sleep(0.2)
    model = make()
    start = time.perf_counter()
    model.fit(X, y)
    return time.perf_counter() - start, model


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--columns", type=int, default=100_000)
    parser.add_argument("--nnz", type=int, default=50)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    warnings.simplefilter("ignore", ConvergenceWarning)
    X, y = text_like(args.rows, args.columns, args.nnz)
    n = X.shape[0]
    x_bytes = X.data.nbytes + X.indices.nbytes + X.indptr.nbytes
    print(f"X: {X.shape[0]} x {X.shape[1]}, {X.nnz} non-zeros ({X.nnz / n:.1f} per row), {x_bytes / 2**20:.1f} MiB")

    schedule = dict(learning_rate="invscaling", eta0=0.01, power_t=0.25, alpha=ALPHA, random_state=0,
                    max_iter=1, tol=None)
    epochs = {
        "SGDRegressor l2": lambda: SGDRegressor(penalty="l2", **schedule),
        "skgd sgd l2": lambda: GDRegressor(solver="sgd", penalty="l2", **schedule),
        "SGDRegressor elasticnet": lambda: SGDRegressor(penalty="elasticnet", **schedule),
        "skgd sgd elasticnet": lambda: GDRegressor(solver="sgd", penalty="elasticnet", **schedule),
        "skgd minibatch(256) l2": lambda: GDRegressor(solver="minibatch", batch_size=256, penalty="l2", **schedule),
    }
    fits = {
        "skgd default": lambda: GDRegressor(random_state=0),
        "SGDRegressor default": lambda: SGDRegressor(random_state=0),
        "Ridge sparse_cg": lambda: Ridge(alpha=n * ALPHA, solver="sparse_cg"),
    }
    for make in list(epochs.values()) + [fits["skgd default"]]:  # compile the kernels
        make().set_params(max_iter=1).fit(X[:2000], y[:2000])

    reference = Ridge(alpha=n * ALPHA, solver="lsqr", tol=1e-12, max_iter=100_000).fit(X, y)
    best = objective(X, y, reference.coef_, reference.intercept_)
    print(f"J* = {best:.10g} (Ridge lsqr, tol 1e-12, {reference.n_iter_} iterations)")

    times = {name: [] for name in list(epochs) + list(fits)}
    models = {}
    for _ in range(args.repeats):
        for name, make in list(epochs.items()) + list(fits.items()):
            seconds, models[name] = timed(make, X, y)
            times[name].append(seconds)
    median = {name: float(np.median(values)) for name, values in times.items()}

    print("\n| one epoch | seconds (median) | / SGDRegressor's epoch, same penalty |")
    print("|---|---:|---:|")
    for name in epochs:
        penalty = "elasticnet" if "elasticnet" in name else "l2"
        print(f"| {name} | {median[name]:.3f} | {median[name] / median['SGDRegressor ' + penalty]:.3f} |")

    print("\n| default fit | seconds (median) | epochs | (J - J*) / J* | time / Ridge sparse_cg |")
    print("|---|---:|---:|---:|---:|")
    for name in fits:
        model = models[name]
        gap = (objective(X, y, model.coef_, model.intercept_) - best) / best
        n_iter = getattr(model, "n_iter_", "")
        n_iter = n_iter[0] if isinstance(n_iter, np.ndarray) else n_iter
        print(f"| {name} | {median[name]:.3f} | {n_iter} | {gap:.2e} | {median[name] / median['Ridge sparse_cg']:.2f} |")

    tracemalloc.start()
    GDRegressor(random_state=0).fit(X, y)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    print(f"\npeak memory allocated by the default fit: {peak / 2**20:.1f} MiB = {peak / x_bytes:.3f} x the sparse X")


if __name__ == "__main__":
    main()
