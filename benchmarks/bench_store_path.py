"""Recording the descent: what ``store_path`` costs, and that leaving it off costs nothing.

Prints two markdown tables:

1. Fit time with ``store_path=None`` over the fit time of a baseline
   version of skgd (``--baseline``, a git revision, by default the last one
   before recording existed, imported as the package ``skgd_baseline``),
   per solver, on the same data, seed and number of epochs (``tol=None``),
   the two versions' fits interleaved in one process, median of
   ``--repeats``. A ratio near 1 means recording off costs nothing.
2. With the current version, fit time with ``store_path='epoch'`` and
   ``'step'`` over ``store_path=None``, on data small enough to record every
   step; and the memory a fit with a path keeps beyond one without
   (tracemalloc, retained after the fit), in vectors of ``n_features + 1``
   floats per recorded point, and what is left beyond that one vector per
   point (array headers).

Timings are never asserted; they move with the machine.

Usage: ``python benchmarks/bench_store_path.py [--baseline REV] [--repeats 15] [--quick]``
"""

import argparse
import importlib
import os
import platform
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
BASELINE = "136c4dd"  # update rules landed; recording not yet
SOLVERS = ("batch", "minibatch", "sgd")
SIZES = [(200_000, 50), (20_000, 10)]
QUICK_SIZES = [(20_000, 10)]
EPOCHS = 20


def data(n_samples, n_features, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n_samples, n_features))
    return X, X @ rng.standard_normal(n_features) + rng.standard_normal(n_samples)


def fit_seconds(solver, n_samples, n_features, store_path=None, epochs=EPOCHS, estimator=None):
    """Seconds of one fit of ``estimator`` (skgd's GDRegressor by default)."""
    from skgd import GDRegressor

    estimator = estimator or GDRegressor
    X, y = data(n_samples, n_features)
    params = dict(solver=solver, max_iter=epochs, tol=None, random_state=0)
    if store_path is not None:
        params["store_path"] = store_path
    time.sleep(0.05)  # let BLAS threads go idle
    start = time.perf_counter()
    estimator(**params).fit(X, y)
    return time.perf_counter() - start


def import_baseline(revision, directory):
    """skgd as of ``revision``, imported as the package ``skgd_baseline``."""
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", revision, "skgd"], check=True,
                             capture_output=True).stdout
    subprocess.run(["tar", "-x", "-C", str(directory)], input=archive, check=True)
    os.rename(Path(directory) / "skgd", Path(directory) / "skgd_baseline")
    sys.path.insert(0, str(directory))
    return importlib.import_module("skgd_baseline")


def recording_off_table(baseline, sizes, repeats):
    from skgd import GDRegressor

    with tempfile.TemporaryDirectory() as directory:
        versions = {"current": GDRegressor, baseline: import_baseline(baseline, directory).GDRegressor}
        print(f"| fit, {EPOCHS} epochs, store_path=None | current (ms) | {baseline} (ms) "
              f"| current / {baseline} |")
        print("|---|---|---|---|")
        for n_samples, n_features in sizes:
            for solver in SOLVERS:
                times = {name: [] for name in versions}
                for name, estimator in versions.items():  # load (or compile) the kernels
                    fit_seconds(solver, n_samples, n_features, estimator=estimator)
                for _ in range(repeats):
                    for name, estimator in versions.items():
                        times[name].append(fit_seconds(solver, n_samples, n_features, estimator=estimator))
                current, before = np.median(times["current"]), np.median(times[baseline])
                print(f"| {solver} {n_samples}x{n_features} | {1000 * current:.1f} | {1000 * before:.1f} "
                      f"| {current / before:.3f} |")


def recording_on_table(repeats, n_samples=2_000, n_features=10, epochs=20):
    from skgd import GDRegressor

    X, y = data(n_samples, n_features)
    vector = (n_features + 1) * 8
    print(f"| {n_samples} x {n_features}, {epochs} epochs | 'epoch' / None | 'step' / None "
          "| held per point, in vectors ('epoch', 'step') | bytes beyond one vector per point |")
    print("|---|---|---|---|---|")
    for solver in SOLVERS:
        times = {mode: [] for mode in (None, "epoch", "step")}
        for _ in range(repeats):
            for mode in times:
                times[mode].append(fit_seconds(solver, n_samples, n_features, mode, epochs))
        retained = {mode: retained_bytes(X, y, solver, mode, epochs) for mode in times}
        extra = {mode: retained[mode][0] - retained[None][0] for mode in ("epoch", "step")}
        held = [extra[mode] / (retained[mode][1] * vector) for mode in extra]
        beyond = [extra[mode] - retained[mode][1] * vector for mode in extra]
        off = np.median(times[None])
        print(f"| {solver} | {np.median(times['epoch']) / off:.3f} | {np.median(times['step']) / off:.3f} "
              f"| {held[0]:.3f}, {held[1]:.3f} | {beyond[0]}, {beyond[1]} |")


def retained_bytes(X, y, solver, store_path, epochs):
    """Memory a fit leaves allocated (tracemalloc; after a first fit that loads the kernels), and its points."""
    from skgd import GDRegressor

    params = dict(solver=solver, max_iter=epochs, tol=None, random_state=0, store_path=store_path)
    GDRegressor(**params).fit(X, y)
    tracemalloc.start()
    model = GDRegressor(**params).fit(X, y)
    retained = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    return retained, 0 if store_path is None else model.coef_path_.shape[0]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline", default=BASELINE)
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    sizes = QUICK_SIZES if args.quick else SIZES
    repeats = 2 if args.quick else args.repeats
    print(f"Machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
          f"Python {platform.python_version()}, numpy {np.__version__}\n")
    recording_off_table(args.baseline, sizes, repeats)
    print()
    recording_on_table(repeats)


if __name__ == "__main__":
    main()
