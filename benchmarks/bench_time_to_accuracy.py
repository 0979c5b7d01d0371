"""Time to accuracy of skgd's defaults against scikit-learn (issue 13).

The objective throughout is skgd's default one,

    J(w, b) = 1/2 mean((X w + b - y)^2) + alpha/2 ||w||^2,   alpha = 1e-4,

whose exact minimiser is ``Ridge(alpha=n * alpha)``. ``J*`` is computed in
float64 from the centred normal equations (``_data.ridge_optimum``: Cholesky
plus one step of iterative refinement) and checked against
``Ridge(solver='cholesky')``. Each fitted model is reported by its relative
suboptimality ``(J - J*) / J*``, with ``J - J*`` computed without
cancellation as ``1/2 mean((X dw + db)^2) + alpha/2 ||dw||^2``.

Default run (one table per data set):

- ``GDRegressor(solver=s, random_state=0)`` for s in batch, minibatch (the
  default), sgd; everything else at its default.
- ``make_pipeline(StandardScaler(), SGDRegressor(random_state=0))``, its
  defaults otherwise. It optimises a different objective in scaled
  coordinates (its ``alpha`` penalises the scaled coefficients); J is
  evaluated on its predictions in raw coordinates (``coef = sgd.coef_ /
  scale``, intercept adjusted), so its suboptimality is reported as it is.
- ``Ridge(alpha=n * 1e-4, solver=s)`` for s in cholesky, sag, saga, lsqr
  (sag and saga with ``random_state=0`` and at most ``--sag-max-iter``
  epochs, 100 by default, so that a raw ill-conditioned 1,000,000 x 100 fit
  stays bounded; ``--sag-max-iter 0`` uses scikit-learn's own limit), and
  ``LinearRegression()`` (the unpenalised optimum, so a small positive
  suboptimality).

Sizes 100,000 x 10, 1,000,000 x 10, 1,000,000 x 100 on well-conditioned data
(standard normal) and ill-conditioned data (neighbouring columns correlated,
column spreads log-spaced 1e-2 to 1e2, offset +10, every feature
informative); see ``_data.py``.

``--must-show``: issue 13's "Must show 2 and 3" instead: on (a) standard
normal 200,000 x 20, (b) spreads 1e-2 to 1e2 at 200,000 x 20 with every
feature informative, (c) 100,000 x 40 driven by three factors plus noise,
offset 10: each skgd solver with its defaults and the StandardScaler +
SGDRegressor pipeline with its defaults (suboptimality, epochs, fit time, and
the default (minibatch) fit's time over the pipeline's); then at 1,000,000 x
10 the default batch fit's time over ``Ridge(alpha=n * 1e-4)`` with solver
'auto' and 'cholesky'. ``--all`` runs both parts.

Times: wall time of ``fit``, median over ``--repeats`` (5) repeats, the
models interleaved within each repeat, each fit after a 0.2 s pause (so
OpenBLAS threads of the one before are idle). skgd's compiled kernels are
warmed up on a small fit first. A model whose first fit takes longer than
``--max-seconds`` (60) is not repeated (marked "1 run"). Suboptimality and
epochs are the median over the repeats (the estimators are seeded, so they
repeat exactly). Timings are never asserted: they move with the machine,
which is why every time is also given as a ratio to a reference measured in
the same run.

Usage::

    python benchmarks/bench_time_to_accuracy.py [--quick] [--repeats 5]
        [--must-show | --all] [--sag-max-iter 100] [--max-seconds 60]

``--quick`` runs tiny sizes (seconds) to check the script.
"""

import argparse
import os
import platform
import sys
import time
import warnings

import numpy as np
import sklearn
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LinearRegression, Ridge, SGDRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import skgd  # noqa: E402
from _data import (  # noqa: E402
    MUST_SHOW,
    ill_conditioned,
    objective,
    ridge_optimum,
    suboptimality,
    well_conditioned,
)
from skgd import GDRegressor  # noqa: E402

ALPHA = 1e-4
SKGD_SOLVERS = ("batch", "minibatch", "sgd")
SIZES = [(100_000, 10), (1_000_000, 10), (1_000_000, 100)]
QUICK_SIZES = [(5_000, 5), (20_000, 10)]
KINDS = {"well-conditioned": well_conditioned, "ill-conditioned": ill_conditioned}
QUICK_MUST_SHOW_SCALE = 0.05  # --quick: the must-show sets at 5% of their rows
RIDGE_SIZE, QUICK_RIDGE_SIZE = (1_000_000, 10), (50_000, 10)


# --------------------------------------------------------------------------
# Models
# --------------------------------------------------------------------------


def skgd_model(solver):
    return GDRegressor(solver=solver, random_state=0)


def sgd_pipeline():
    return make_pipeline(StandardScaler(), SGDRegressor(random_state=0))


def ridge(n, solver, sag_max_iter):
    kw = dict(alpha=n * ALPHA, solver=solver)
    if solver in ("sag", "saga"):
        kw["random_state"] = 0
        if sag_max_iter:
            kw["max_iter"] = sag_max_iter
    return Ridge(**kw)


def raw_coefficients(model):
    """``(coef, intercept)`` in raw coordinates, whatever the model."""
    if hasattr(model, "steps"):  # StandardScaler + SGDRegressor
        scaler, sgd = model.steps[0][1], model.steps[-1][1]
        coef = sgd.coef_ / scaler.scale_
        intercept = float(np.ravel(sgd.intercept_)[0]) - scaler.mean_ @ coef
        return coef, intercept
    return np.ravel(model.coef_), float(np.ravel(model.intercept_)[0])


def epochs(model):
    est = model.steps[-1][1] if hasattr(model, "steps") else model
    n_iter = getattr(est, "n_iter_", None)
    if n_iter is None:
        return "—"
    return str(int(np.max(n_iter)))


# --------------------------------------------------------------------------
# Timing
# --------------------------------------------------------------------------


def settle():
    time.sleep(0.2)


def timed_fit(model, X, y):
    """``(seconds, ConvergenceWarnings, fitted model)``."""
    settle()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ConvergenceWarning)
        start = time.perf_counter()
        model.fit(X, y)
        seconds = time.perf_counter() - start
    n_warn = sum(issubclass(w.category, ConvergenceWarning) for w in caught)
    return seconds, n_warn, model


def warm_up():
    """Compile (or load from cache) skgd's kernels before anything is timed."""
    X, y = well_conditioned(2_000, 5, seed=1)
    for s in SKGD_SOLVERS:
        GDRegressor(solver=s, random_state=0).fit(X, y)
    sgd_pipeline().fit(X, y)


def run_models(factories, X, y, opt, J_star, repeats, max_seconds):
    """Interleaved repeats of each model; returns name -> result dict."""
    results = {name: dict(times=[], subopts=[], epochs=None, warnings=0, single=False) for name in factories}
    for rep in range(repeats):
        for name, factory in factories.items():
            res = results[name]
            if rep > 0 and res["single"]:
                continue
            seconds, n_warn, model = timed_fit(factory(), X, y)
            coef, intercept = raw_coefficients(model)
            res["times"].append(seconds)
            res["subopts"].append(suboptimality(X, y, coef, intercept, opt, J_star, ALPHA))
            res["epochs"] = epochs(model)
            res["warnings"] += n_warn
            if rep == 0 and seconds > max_seconds and repeats > 1:
                res["single"] = True
            del model
    for res in results.values():
        res["time"] = float(np.median(res["times"]))
        res["subopt"] = float(np.median(res["subopts"]))
    return results


def optimum(X, y):
    start = time.perf_counter()
    opt = ridge_optimum(X, y, ALPHA)
    J_star = objective(X, y, opt[0], opt[1], ALPHA)
    return opt, J_star, time.perf_counter() - start


# --------------------------------------------------------------------------
# Formatting
# --------------------------------------------------------------------------


def fmt_sub(x):
    # below ~1e-12 the figure is within the rounding of w* itself
    return "< 1e-12" if x < 1e-12 else f"{x:.1e}"


def fmt_ms(seconds):
    ms = 1e3 * seconds
    return f"{ms:.0f}" if ms >= 10 else f"{ms:.1f}"


def header(title, columns):
    print(f"\n### {title}\n")
    print("| " + " | ".join(columns) + " |")
    print("|" + "---|" * len(columns))


def row(cells):
    print("| " + " | ".join(str(c) for c in cells) + " |")


def machine_line(args):
    print(
        f"Python {platform.python_version()}, numpy {np.__version__}, scikit-learn {sklearn.__version__}, "
        f"skgd from {os.path.dirname(skgd.__file__)}; {os.cpu_count()} CPUs; repeats {args.repeats}; "
        f"alpha {ALPHA}; sag/saga max_iter {args.sag_max_iter or 'scikit-learn default'}"
    )


# --------------------------------------------------------------------------
# Part 1: the size x kind tables
# --------------------------------------------------------------------------


def main_tables(args):
    sizes = QUICK_SIZES if args.quick else SIZES
    print("\n## Time to accuracy: fit time / Ridge(solver='cholesky') and (J - J*) / J*")
    summary = []
    for kind, make in KINDS.items():
        for n, d in sizes:
            X, y = make(n, d, seed=0)
            opt, J_star, opt_s = optimum(X, y)
            factories = {f"GDRegressor {s}" + (" (default)" if s == "minibatch" else ""): (lambda s=s: skgd_model(s)) for s in SKGD_SOLVERS}
            factories["StandardScaler + SGDRegressor"] = sgd_pipeline
            for s in ("cholesky", "sag", "saga", "lsqr"):
                factories[f"Ridge {s}"] = lambda s=s: ridge(n, s, args.sag_max_iter)
            factories["LinearRegression"] = LinearRegression
            res = run_models(factories, X, y, opt, J_star, args.repeats, args.max_seconds)
            ref = res["Ridge cholesky"]["time"]
            header(
                f"{kind}, {n:,} x {d} (J* = {J_star:.6g}; closed form in {fmt_ms(opt_s)} ms)",
                ["estimator", "epochs", "(J - J*) / J*", "fit (ms)", "/ Ridge cholesky", "ConvergenceWarnings"],
            )
            for name, r in res.items():
                note = " (1 run)" if r["single"] else ""
                row([name, r["epochs"], fmt_sub(r["subopt"]), fmt_ms(r["time"]) + note, f"{r['time'] / ref:.2f}", r["warnings"]])
                summary.append((kind, n, d, name, r["subopt"], r["time"] / ref))
            chol = res["Ridge cholesky"]["subopt"]
            print(f"\nCheck: Ridge(solver='cholesky') against the closed form: (J - J*) / J* = {chol:.1e}" + ("" if chol < 1e-8 else "  ** DISAGREES **"))
            del X, y
    # compact summary: one row per estimator, one column per (kind, size)
    cols = [(k, n, d) for k in KINDS for n, d in sizes]
    names = list(dict.fromkeys(s[3] for s in summary))
    lookup = {(s[0], s[1], s[2], s[3]): s for s in summary}
    header(
        "Summary: (J - J*) / J* and time / Ridge cholesky",
        ["estimator"] + [f"{'well' if k.startswith('well') else 'ill'} {n // 1000:,}k x {d}" for k, n, d in cols],
    )
    for name in names:
        row([name] + [f"{fmt_sub(lookup[c + (name,)][4])}, {lookup[c + (name,)][5]:.2f}x" for c in cols])


# --------------------------------------------------------------------------
# Part 2: issue 13's "Must show 2 and 3"
# --------------------------------------------------------------------------


def must_show(args):
    print("\n## Issue 13, must show 2 and 3 (defaults: penalty 'l2', alpha 1e-4, random_state=0)")
    print("\nTargets: every skgd solver (J - J*) / J* <= 1e-4; default (minibatch) time <= 0.5x the pipeline's; batch <= 1.0x Ridge at 1,000,000 x 10.")
    ratios = []
    for label, (make, kw) in MUST_SHOW.items():
        kw = dict(kw)
        if args.quick:
            kw["n_samples"] = int(kw["n_samples"] * QUICK_MUST_SHOW_SCALE)
        X, y = make(**kw)
        n, d = X.shape
        opt, J_star, _ = optimum(X, y)
        factories = {f"GDRegressor {s}" + (" (default)" if s == "minibatch" else ""): (lambda s=s: skgd_model(s)) for s in SKGD_SOLVERS}
        factories["StandardScaler + SGDRegressor"] = sgd_pipeline
        res = run_models(factories, X, y, opt, J_star, args.repeats, args.max_seconds)
        pipe = res["StandardScaler + SGDRegressor"]["time"]
        penalty_share = 0.5 * ALPHA * opt[0] @ opt[0] / J_star
        header(
            f"{label}, {n:,} x {d} (J* = {J_star:.6g}, of which the penalty {100 * penalty_share:.0f}%)",
            ["estimator", "(J - J*) / J*", "<= 1e-4", "epochs", "fit (ms)", "/ pipeline", "ConvergenceWarnings"],
        )
        for name, r in res.items():
            ok = "yes" if r["subopt"] <= 1e-4 else "no"
            note = " (1 run)" if r["single"] else ""
            row([name, fmt_sub(r["subopt"]), ok if name.startswith("GD") else "—", r["epochs"], fmt_ms(r["time"]) + note, f"{r['time'] / pipe:.2f}", r["warnings"]])
        ratio = res["GDRegressor minibatch (default)"]["time"] / pipe
        ratios.append((label, ratio))
        print(f"\nDefault (minibatch) / pipeline: {ratio:.2f} (target <= 0.5)")
        del X, y

    n, d = QUICK_RIDGE_SIZE if args.quick else RIDGE_SIZE
    ridge_rows = []
    for kind, make in KINDS.items():
        X, y = make(n, d, seed=0)
        opt, J_star, _ = optimum(X, y)
        factories = {
            "GDRegressor batch": lambda: skgd_model("batch"),
            "Ridge auto": lambda: Ridge(alpha=n * ALPHA),
            "Ridge cholesky": lambda: Ridge(alpha=n * ALPHA, solver="cholesky"),
        }
        res = run_models(factories, X, y, opt, J_star, args.repeats, args.max_seconds)
        ridge_rows.append((kind, res))
        del X, y
    header(
        f"Default batch fit against Ridge(alpha=n*1e-4), {n:,} x {d}",
        ["data", "batch epochs", "batch (J - J*) / J*", "batch (ms)", "Ridge auto (ms)", "Ridge cholesky (ms)", "batch / Ridge auto", "batch / Ridge cholesky"],
    )
    for kind, res in ridge_rows:
        b, a, c = res["GDRegressor batch"], res["Ridge auto"], res["Ridge cholesky"]
        row([kind, b["epochs"], fmt_sub(b["subopt"]), fmt_ms(b["time"]), fmt_ms(a["time"]), fmt_ms(c["time"]), f"{b['time'] / a['time']:.2f}", f"{b['time'] / c['time']:.2f}"])
    print("\nTarget: batch / Ridge <= 1.0.")
    header("Summary: default (minibatch) time / pipeline time", ["data set", "ratio (target <= 0.5)"])
    for label, ratio in ratios:
        row([label, f"{ratio:.2f}"])


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="tiny sizes, to check the script in seconds")
    parser.add_argument("--repeats", type=int, default=None, help="repeats per model (default 5; 2 with --quick)")
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--must-show", action="store_true", help="only issue 13's must-show 2 and 3 tables")
    group.add_argument("--all", action="store_true", help="both the main tables and the must-show tables")
    parser.add_argument("--sag-max-iter", type=int, default=100, help="max_iter of Ridge sag/saga (0: scikit-learn's default)")
    parser.add_argument("--max-seconds", type=float, default=60.0, help="a model whose first fit takes longer is not repeated")
    args = parser.parse_args()
    if args.repeats is None:
        args.repeats = 2 if args.quick else 5
    machine_line(args)
    warm_up()
    if not args.must_show:
        main_tables(args)
    if args.must_show or args.all:
        must_show(args)


if __name__ == "__main__":
    main()
