"""``GDPolynomialRegressor(degree=3)`` against the pipeline users write today.

1. Fit time and R² of ``GDPolynomialRegressor(degree=3)`` (defaults, each
   solver) against ``make_pipeline(PolynomialFeatures(3), StandardScaler(),
   SGDRegressor())`` (defaults) on the same unscaled data, with the R² of least
   squares on the expanded features for reference. Times are medians of
   ``--repeats`` fits measured side by side; the ratio is ours / pipeline.
2. Peak memory of ``fit`` at degree 3 on 100,000 x 20 (1,770 monomials), each
   in a fresh process: the peak resident set during ``fit`` minus the resident
   set just before it (data loaded, kernels compiled).

Usage: ``python benchmarks/bench_polynomial.py [--repeats 5] [--skip-memory]``
"""

import argparse
import subprocess
import sys
import time
import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import SGDRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import PolynomialFeatures, StandardScaler

from skgd import GDPolynomialRegressor

SIZES = [(10_000, 2), (100_000, 5), (10_000, 10)]
SOLVERS = ("batch", "minibatch", "sgd")
MEMORY_SIZE = (100_000, 20)


def make_data(n_samples, n_features, seed=0):
    """Unscaled features in [0, 10] and a cubic target with noise."""
    rng = np.random.default_rng(seed)
    X = rng.uniform(0, 10, (n_samples, n_features))
    y = 0.05 * X[:, 0] ** 3 - X[:, 0] * X[:, -1] + 2 * X[:, n_features // 2] + 5
    return X, y + 5 * rng.standard_normal(n_samples)


def pipeline():
    return make_pipeline(PolynomialFeatures(3), StandardScaler(), SGDRegressor(random_state=0))


def fit_time(model, X, y):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        start = time.perf_counter()
        model.fit(X, y)
    return time.perf_counter() - start


def least_squares_r2(X, y):
    A = PolynomialFeatures(3).fit_transform(X)
    coef = np.linalg.lstsq(A, y, rcond=None)[0]
    return 1 - np.sum((A @ coef - y) ** 2) / np.sum((y - y.mean()) ** 2)


def speed_table(repeats):
    print("| n_samples x n_features (monomials) | solver | skgd fit (s) | skgd R² | pipeline fit (s) "
          "| pipeline R² | least squares R² | ratio ours / pipeline |")
    print("|---|---|---|---|---|---|---|---|")
    for n_samples, n_features in SIZES:
        X, y = make_data(n_samples, n_features)
        best = least_squares_r2(X, y)
        n_monomials = PolynomialFeatures(3, include_bias=False).fit(X[:1]).n_output_features_
        for solver in SOLVERS:
            ours, theirs = GDPolynomialRegressor(degree=3, solver=solver, random_state=0), pipeline()
            pairs = [(fit_time(ours, X, y), fit_time(theirs, X, y)) for _ in range(repeats)]
            ours_t, theirs_t = np.median(pairs, axis=0)
            ratio = np.median([a / b for a, b in pairs])
            print(f"| {n_samples:,} x {n_features} ({n_monomials}) | {solver} | {ours_t:.2f} "
                  f"| {ours.score(X, y):.4f} | {theirs_t:.2f} | {theirs.score(X, y):.4f} | {best:.4f} "
                  f"| {ratio:.2f} |", flush=True)


def peak_memory(which):
    """Run in a child process: print the growth of the peak RSS (MiB) during fit."""
    X, y = make_data(*MEMORY_SIZE)
    if which == "pipeline":
        model = pipeline().set_params(sgdregressor__max_iter=3, sgdregressor__tol=None)
    else:
        model = GDPolynomialRegressor(degree=3, solver=which, max_iter=3, tol=None, random_state=0)
    fit_time(GDPolynomialRegressor(degree=3, solver=which if which in SOLVERS else "sgd", max_iter=1),
             X[:100], y[:100])  # compile and warm up outside the measurement
    before = _resident_kib("VmRSS")
    with open("/proc/self/clear_refs", "w") as clear:
        clear.write("5")  # reset the peak (VmHWM) to the current resident set
    fit_time(model, X, y)
    print((_resident_kib("VmHWM") - before) / 1024)


def _resident_kib(field):
    """A memory figure of this process from /proc/self/status (Linux), in KiB."""
    with open("/proc/self/status") as status:
        line = next(line for line in status if line.startswith(field + ":"))
    return int(line.split()[1])


def memory_table():
    X, _ = make_data(*MEMORY_SIZE)
    print(f"\nPeak memory of fit, degree 3, {MEMORY_SIZE[0]:,} x {MEMORY_SIZE[1]} "
          f"(X: {X.nbytes / 2**20:.0f} MiB; expanded: {X.shape[0] * 1770 * 8 / 2**20:.0f} MiB)\n")
    print("| model | peak growth (MiB) | / size of X |")
    print("|---|---|---|")
    for which in (*SOLVERS, "pipeline"):
        out = subprocess.run([sys.executable, __file__, "--peak-memory", which],
                             capture_output=True, text=True, check=True).stdout
        growth = float(out.split()[-1])
        name = f"skgd {which}" if which in SOLVERS else "PolynomialFeatures + StandardScaler + SGDRegressor"
        print(f"| {name} | {growth:.0f} | {growth * 2**20 / X.nbytes:.1f} |", flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--skip-memory", action="store_true")
    parser.add_argument("--peak-memory", choices=(*SOLVERS, "pipeline"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.peak_memory:
        return peak_memory(args.peak_memory)
    fit_time(GDPolynomialRegressor(max_iter=2), *make_data(100, 2))  # compile outside timings
    speed_table(args.repeats)
    if not args.skip_memory:
        memory_table()


if __name__ == "__main__":
    main()
