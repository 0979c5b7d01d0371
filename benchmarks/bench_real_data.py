"""Issue 13, must show 4: with ``penalty=None`` and defaults, every solver and
both estimators stay within 1e-3 of the least-squares R² on real data.

For each data set of ``_data.REAL_LOADERS`` (raw features, no scaling:
statsmodels star98, engel, grunfeld, macrodata, nile, longley, scotland,
committee, copper; scikit-learn's diabetes unscaled; issue 13's finding-3 and
finding-4 snippets), each estimator

- ``GDRegressor(solver=s, penalty=None, random_state=seed)``, reference:
  least squares on ``X``;
- ``GDPolynomialRegressor(degree=2, solver=s, penalty=None,
  random_state=seed)``, reference: least squares on
  ``PolynomialFeatures(2, include_bias=False).fit_transform(X)``;

each solver (batch, minibatch, sgd) and each seed in ``range(--seeds)``: the
shortfall ``R²(least squares) - R²(fit)`` on the training data. Least squares
is ``np.linalg.lstsq`` on centred columns divided by their standard deviation
(``_data.lstsq_r2``), with an intercept. Where the centred design has rank
``n - 1`` (more monomials than rows), least squares interpolates (R² = 1):
those rows are marked "interpolates" and counted apart in the summary.

Per fit, ConvergenceWarnings are counted, and an exception counts as a
failure (its shortfall is taken as infinite) and is printed.

Prints a markdown table of the worst (and median) shortfall per
(data set, estimator, solver), then the number of fits short by more than
``--threshold`` (1e-3). Exits 0 whatever the result.

Usage::

    python benchmarks/bench_real_data.py [--seeds 20] [--quick] [--threshold 1e-3]
        [--datasets engel nile ...]

``--quick``: 2 seeds on four small data sets.
"""

import argparse
import os
import platform
import sys
import time
import traceback
import warnings
from collections import defaultdict

import numpy as np
import sklearn
from sklearn.exceptions import ConvergenceWarning
from sklearn.preprocessing import PolynomialFeatures

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import skgd  # noqa: E402
from _data import REAL_LOADERS, lstsq_r2, r2, real_datasets  # noqa: E402
from skgd import GDPolynomialRegressor, GDRegressor  # noqa: E402

SOLVERS = ("batch", "minibatch", "sgd")
QUICK_DATASETS = ("engel", "nile", "committee", "finding4 15 points")

# estimator name -> (factory(solver, seed), reference design matrix from X)
ESTIMATORS = {
    "GDRegressor": (
        lambda solver, seed: GDRegressor(solver=solver, penalty=None, random_state=seed),
        lambda X: X,
    ),
    "GDPolynomialRegressor(2)": (
        lambda solver, seed: GDPolynomialRegressor(degree=2, solver=solver, penalty=None, random_state=seed),
        lambda X: PolynomialFeatures(2, include_bias=False).fit_transform(X),
    ),
}


def warm_up():
    """Compile (or load from cache) the kernels before anything is timed."""
    rng = np.random.default_rng(0)
    for d in (1, 5, 20):
        X = rng.standard_normal((60, d))
        y = X.sum(axis=1)
        for factory, _ in ESTIMATORS.values():
            for solver in SOLVERS:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    factory(solver, 0).fit(X, y)


def fit_one(factory, solver, seed, X, y):
    """One fit: dict with r2, n_iter, convergence warnings, error, seconds."""
    out = dict(r2=np.nan, n_iter=None, conv=0, error=None)
    start = time.perf_counter()
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            model = factory(solver, seed).fit(X, y)
            out["r2"] = r2(y, model.predict(X))
            out["n_iter"] = int(model.n_iter_)
        out["conv"] = sum(issubclass(w.category, ConvergenceWarning) for w in caught)
    except Exception as exc:  # a failure, counted and printed
        out["error"] = f"{type(exc).__name__}: {exc}"
        out["trace"] = traceback.format_exc(limit=3)
    out["seconds"] = time.perf_counter() - start
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, default=None, help="random_state in range(SEEDS) (default 20; 2 with --quick)")
    parser.add_argument("--quick", action="store_true", help=f"2 seeds on {', '.join(QUICK_DATASETS)}")
    parser.add_argument("--threshold", type=float, default=1e-3, help="a fit short of least squares by more is counted")
    parser.add_argument("--datasets", nargs="+", choices=list(REAL_LOADERS), help="a subset of the data sets")
    args = parser.parse_args()
    seeds = args.seeds if args.seeds is not None else (2 if args.quick else 20)
    names = args.datasets or (QUICK_DATASETS if args.quick else list(REAL_LOADERS))

    print(
        f"Python {platform.python_version()}, numpy {np.__version__}, scikit-learn {sklearn.__version__}, "
        f"skgd from {os.path.dirname(skgd.__file__)}; seeds 0..{seeds - 1}; penalty=None, defaults otherwise; "
        f"threshold {args.threshold:g}"
    )
    data = real_datasets(names)
    warm_up()
    rows = []  # (dataset, estimator, solver, n, p, ref, results list, underdetermined)
    errors = []
    total_start = time.perf_counter()
    for name, (X, y) in data.items():
        for est_name, (factory, design) in ESTIMATORS.items():
            Z = design(X)
            n, p = Z.shape
            ref, rank = lstsq_r2(Z, y, return_rank=True)
            under = rank >= n - 1
            for solver in SOLVERS:
                results = []
                for seed in range(seeds):
                    res = fit_one(factory, solver, seed, X, y)
                    res["short"] = np.inf if res["error"] else ref - res["r2"]
                    if res["error"]:
                        errors.append((name, est_name, solver, seed, res["error"], res["trace"]))
                    results.append(res)
                rows.append((name, est_name, solver, n, p, ref, results, under))
                worst = max(r["short"] for r in results)
                print(f"  {name:>20} {est_name:>25} {solver:>9}: worst shortfall {worst:.2e}", file=sys.stderr, flush=True)
    elapsed = time.perf_counter() - total_start

    thr = args.threshold
    print(f"\n## R² of least squares minus R² of the fit (training data), worst over {seeds} seeds\n")
    cols = ["data set", "estimator", "solver", "n x p", "LS R²", "worst shortfall", "median shortfall", f"fits short > {thr:g}", "ConvergenceWarnings", "errors", "median epochs", "median fit (ms)"]
    print("| " + " | ".join(cols) + " |")
    print("|" + "---|" * len(cols))
    for name, est_name, solver, n, p, ref, results, under in rows:
        shorts = np.array([r["short"] for r in results])
        n_short = int(np.sum(shorts > thr))
        iters = [r["n_iter"] for r in results if r["n_iter"] is not None]
        cells = [
            name,
            est_name,
            solver,
            f"{n} x {p}" + (" (interpolates)" if under else ""),
            f"{ref:.4f}",
            f"{shorts.max():.1e}",
            f"{np.median(shorts):.1e}",
            f"**{n_short}**" if n_short else "0",
            sum(r["conv"] for r in results),
            sum(r["error"] is not None for r in results),
            f"{np.median(iters):.0f}" if iters else "—",
            f"{1e3 * np.median([r['seconds'] for r in results]):.0f}",
        ]
        print("| " + " | ".join(str(c) for c in cells) + " |")

    # summary counts
    count = defaultdict(lambda: [0, 0])  # key -> [short, total]
    for name, est_name, solver, n, p, ref, results, under in rows:
        kind = "stochastic solvers" if solver != "batch" else "batch solver"
        group = "LS interpolates" if under else "LS does not interpolate"
        for r in results:
            short = r["short"] > thr
            for key in [("all",), (est_name,), ("solver " + solver,), (kind,), (group,), (est_name, kind, group)]:
                count[key][0] += short
                count[key][1] += 1
    print(f"\n## Fits short of least squares by more than {thr:g}\n")
    print("| fits | short | of |")
    print("|---|---|---|")
    order = [("all",), ("batch solver",), ("stochastic solvers",), ("solver minibatch",), ("solver sgd",)]
    order += [("GDRegressor",), ("GDPolynomialRegressor(2)",), ("LS does not interpolate",), ("LS interpolates",)]
    order += sorted(k for k in count if len(k) == 3)
    for key in order:
        if key in count:
            short, total = count[key]
            print(f"| {', '.join(key)} | {short} | {total} |")
    conv = sum(r["conv"] for row in rows for r in row[6])
    n_fits = sum(len(row[6]) for row in rows)
    print(f"\nConvergenceWarnings: {conv} over {n_fits} fits. Errors: {len(errors)}. Wall time {elapsed:.1f} s.")
    for name, est_name, solver, seed, err, trace in errors:
        print(f"\nERROR {name} / {est_name} / {solver} / seed {seed}: {err}\n{trace}")
    return 0


if __name__ == "__main__":
    main()
    sys.exit(0)
