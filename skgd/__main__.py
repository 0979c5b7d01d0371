"""``python -m skgd``: fit the three solvers on the diabetes data and compare."""

import time

from sklearn.datasets import load_diabetes
from sklearn.linear_model import LinearRegression

from . import GDRegressor, __version__

SOLVERS = ("batch", "minibatch", "sgd")


def _timed_fit(model, X, y):
    start = time.perf_counter()
    model.fit(X, y)
    return model, 1000 * (time.perf_counter() - start)


def main():
    X, y = load_diabetes(return_X_y=True)
    print(f"skgd {__version__}: GDRegressor on load_diabetes "
          f"({X.shape[0]} samples, {X.shape[1]} features), penalty=None, random_state=0")
    print("Warming up the numba kernels (compiled and cached on the first run, "
          "which takes several seconds)...", flush=True)
    GDRegressor(max_iter=1, tol=None).fit(X[:20], y[:20])  # load/compile, not timed

    rows = []
    for solver in SOLVERS:
        model, ms = _timed_fit(GDRegressor(solver=solver, penalty=None, random_state=0), X, y)
        rows.append((solver, model.score(X, y), model.n_iter_, model.t_, ms))
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


if __name__ == "__main__":
    main()
