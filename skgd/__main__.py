"""``python -m skgd`` or ``skgd-demo``: fit the three solvers on the diabetes data, compare them, and plot their loss curves.

The plot goes to ``skgd_demo_loss_curves.png`` in the current directory (or
the path given as the first argument), when matplotlib is installed
(``pip install skgd[plot]``).
"""

import sys
import time
from pathlib import Path

from sklearn.datasets import load_diabetes
from sklearn.linear_model import LinearRegression

from . import GDRegressor, __version__

SOLVERS = ("batch", "minibatch", "sgd")
PNG = "skgd_demo_loss_curves.png"


def _timed_fit(model, X, y):
    start = time.perf_counter()
    model.fit(X, y)
    return model, 1000 * (time.perf_counter() - start)


def main(png=PNG):
    X, y = load_diabetes(return_X_y=True)
    print(f"skgd {__version__}: GDRegressor on load_diabetes "
          f"({X.shape[0]} samples, {X.shape[1]} features), penalty=None, random_state=0")
    print("Compiling (first run) or loading the numba kernels of the three solvers, "
          "outside the timed fits...", flush=True)
    start = time.perf_counter()
    for solver in SOLVERS:  # the timed fits' kernels, for one epoch
        GDRegressor(solver=solver, penalty=None, max_iter=1, tol=None).fit(X, y)
    print(f"done in {time.perf_counter() - start:.1f} s (not in the fit times below)", flush=True)

    rows, models = [], []
    for solver in SOLVERS:
        model, ms = _timed_fit(GDRegressor(solver=solver, penalty=None, random_state=0), X, y)
        rows.append((solver, model.score(X, y), model.n_iter_, model.t_, ms))
        models.append(model)
    reference, ms = _timed_fit(LinearRegression(), X, y)
    rows.append(("LinearRegression", reference.score(X, y), "-", "-", ms))

    header = ("solver", "R²", "epochs", "updates", "fit time (ms)")
    print()
    print(f"{header[0]:<17}{header[1]:>8}{header[2]:>8}{header[3]:>9}{header[4]:>15}")
    for name, r2, epochs, updates, ms in rows:
        print(f"{name:<17}{r2:>8.4f}{epochs:>8}{updates:>9}{ms:>15.1f}")
    print()
    print("epochs = n_iter_ (passes over the data), updates = t_ (gradient steps); "
          "LinearRegression is the closed-form least-squares optimum.")
    print()
    # the objective (half the mean squared error) at the least-squares optimum
    optimum = 0.5 * (1 - reference.score(X, y)) * y.var()
    print(_plot(models, optimum, Path(png)))


def _plot(models, optimum, png):
    """Save the three loss curves, and the ``optimum`` objective, to ``png``; returns what to tell the user."""
    try:
        import matplotlib
    except ImportError:
        return "Install matplotlib (pip install skgd[plot]) to also get a plot of the loss curves."
    matplotlib.use("Agg")
    from .plotting import LossCurveDisplay

    display = LossCurveDisplay.from_estimators(models, log_scale=True)
    display.ax_.axhline(optimum, color="grey", linestyle=":", label="least squares")
    display.ax_.legend()
    display.ax_.set_title("GDRegressor on load_diabetes: objective per epoch")
    display.figure_.savefig(png, dpi=120, bbox_inches="tight")
    return f"Loss curves of the three solvers saved to {png.resolve()}"


def cli():
    """The ``skgd-demo`` command: :func:`main`, with the PNG's path as an optional argument."""
    main(*sys.argv[1:2])


if __name__ == "__main__":
    cli()
