"""Cost of multi-output fits: k targets against one, for each solver, beside scikit-learn.

Prints a markdown table of fit times at ``--rows`` x ``--features`` (200,000
x 50 by default) for ``k`` = 1, 2, 8, 32 targets, each as a ratio to the
same estimator's fit to one target (a 1-D ``y``) in the same run, the
median over ``--repeats``:

- skgd's ``batch``, ``minibatch`` (batch size 200) and ``sgd`` solvers with
  a fixed schedule (``'invscaling'``, SGDRegressor's default) and under
  ``learning_rate='auto'`` (preconditioner, per-target steps and the pass
  that measures each epoch's models included). Every fit runs exactly
  ``--epochs`` epochs (``max_iter`` fixed, ``tol=None``), so that the ratio
  compares the same work per target; with the stopping rule, targets stop
  at different epochs and the ratio would measure that too.
- ``MultiOutputRegressor(SGDRegressor(max_iter=epochs, tol=None))``, which
  fits one SGDRegressor per target (reading X once per target), against one
  ``SGDRegressor``.
- ``Ridge`` (closed form, every target from one factorisation).

The absolute time of the one-target fit is printed too. The targets are
``X @ W + noise`` with standard normal ``X`` and ``W``. Each measurement
starts after a 0.2 s pause. Timings are never asserted; they move with the
machine.

Usage: ``python benchmarks/bench_multioutput.py [--repeats 3] [--epochs 5] [--quick]``
"""

import argparse
import os
import platform
import time
import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import Ridge, SGDRegressor
from sklearn.multioutput import MultiOutputRegressor

from skgd import GDRegressor
from skgd._kernels import PREFETCH_MIN_BYTES

TARGETS = (1, 2, 8, 32)
SOLVERS = {
    "batch": dict(solver="batch"),
    "minibatch": dict(solver="minibatch", batch_size=200),
    "sgd": dict(solver="sgd"),
}
# SGDRegressor's defaults, so that the two SGD rows compare like with like.
FIXED = dict(learning_rate="invscaling", eta0=0.01, power_t=0.25)


def make_data(n_samples, n_features, n_targets, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n_samples, n_features))
    Y = X @ rng.standard_normal((n_features, n_targets)) + 0.5 * rng.standard_normal((n_samples, n_targets))
    return X, Y


def seconds(make, X, y):
    """Wall time of ``make().fit(X, y)``."""
    model = make()
    time.sleep(0.2)
    started = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(X, y)
    return time.perf_counter() - started


def estimators(epochs):
    """Name -> factory of each estimator compared."""
    rows = {}
    for solver, params in SOLVERS.items():
        for schedule, extra in (("invscaling", FIXED), ("auto", dict(learning_rate="auto"))):
            rows[f"skgd {solver}, {schedule}"] = (
                lambda params=params, extra=extra: GDRegressor(
                    **params, **extra, max_iter=epochs, tol=None, random_state=0
                )
            )
    rows["MultiOutputRegressor(SGDRegressor)"] = lambda: SGDRegressor(max_iter=epochs, tol=None, random_state=0)
    rows["Ridge"] = lambda: Ridge(alpha=1e-4)
    return rows


def y_of(name, Y, k):
    """The target given to a fit of ``k`` targets: 1-D for one target."""
    return Y[:, 0] if k == 1 else Y[:, :k]


def wrapped(name, make, k):
    if name.startswith("MultiOutputRegressor") and k > 1:
        return lambda: MultiOutputRegressor(make())
    return make


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--features", type=int, default=50)
    parser.add_argument("--quick", action="store_true", help="20,000 rows, one repeat")
    args = parser.parse_args()
    if args.quick:
        args.rows, args.repeats = 20_000, 1
    X, Y = make_data(args.rows, args.features, max(TARGETS))
    print(f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores; {args.rows:,} x {args.features}, "
          f"{args.epochs} epochs, median of {args.repeats}")
    # compile every kernel first (1-D and 2-D y), so that no timing includes it: on rows enough for the
    # kernels that prefetch (data of at least PREFETCH_MIN_BYTES), which smaller data does not compile
    warm = min(args.rows, -(-PREFETCH_MIN_BYTES // (8 * args.features)) + 1)
    for name, make in estimators(1).items():
        for k in (1, 2):
            wrapped(name, make, k)().fit(X[:warm], y_of(name, Y[:warm], k))
    print()
    print("| estimator | k = 1 (s) | " + " | ".join(f"k = {k}" for k in TARGETS[1:]) + " |")
    print("|---|---:|" + "---:|" * (len(TARGETS) - 1))
    for name, make in estimators(args.epochs).items():
        times = {k: np.median([seconds(wrapped(name, make, k), X, y_of(name, Y, k)) for _ in range(args.repeats)])
                 for k in TARGETS}
        ratios = " | ".join(f"{times[k] / times[1]:.2f}" for k in TARGETS[1:])
        print(f"| {name} | {times[1]:.3f} | {ratios} |", flush=True)


if __name__ == "__main__":
    main()
