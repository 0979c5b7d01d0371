"""Speed of skgd's solvers against the memory floor and against scikit-learn.

Prints three markdown tables. Every figure is a ratio of times measured side
by side in the same run (ours / reference), the median over ``--repeats``:

1. Epoch time of each solver against the memory floor (numpy's ``X @ w`` plus
   ``X.T @ r``, and ``X.sum()``), against ``SGDRegressor`` (same loss,
   penalty and schedule: SGDRegressor's defaults, both shuffling every epoch)
   and against ``MLPRegressor(hidden_layer_sizes=(), solver='sgd')`` with the
   same batch size and plain steps; and float32 input against float64.
2. The ``sgd`` epoch against ``SGDRegressor``'s over losses, penalties and
   schedules.
3. Time to reach within 1e-3 (relative) of the optimal objective: the fewest
   epochs ``max_iter`` for which a fresh fit with the defaults otherwise
   (stopping rule included) gets there, and the time of that fit; against
   ``SGDRegressor`` with its defaults and against ``LinearRegression``'s fit,
   on standardised correlated data.
4. The ``sgd`` epoch under ``learning_rate='auto'`` (its preconditioning,
   iterate averaging and the pass that measures each epoch's model included)
   against ``SGDRegressor``'s with its defaults, on standard normal data and
   on correlated columns (where a fit descends a rotated design).

An epoch's time is that of a fit of ``1 + E`` epochs minus that of a fit of
one epoch, divided by ``E``, so that set-up (validation, the ``'auto'``
estimate) cancels. Each measurement starts after a 0.2 s pause, so that
threads of the one before (OpenBLAS's spin after a call) are idle. Timings are
never asserted; they move with the machine.

Usage: ``python benchmarks/bench_speed.py [--repeats 5] [--quick]``
"""

import argparse
import os
import platform
import time
import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LinearRegression, SGDRegressor
from sklearn.neural_network import MLPRegressor
from sklearn.preprocessing import StandardScaler

from skgd import GDRegressor

SIZES = [(100_000, 10), (100_000, 100), (200_000, 50), (1_000_000, 10), (1_000_000, 100)]
QUICK_SIZES = [(20_000, 10), (20_000, 50)]
# SGDRegressor's defaults, which every comparison shares.
SHARED = dict(loss="squared_error", penalty="l2", alpha=1e-4, learning_rate="invscaling", eta0=0.01, power_t=0.25)
SOLVERS = {
    "batch": dict(solver="batch"),
    "minibatch 256": dict(solver="minibatch", batch_size=256),
    "minibatch 32": dict(solver="minibatch", batch_size=32),
    "sgd": dict(solver="sgd"),
}
SGD_CONFIGS = [
    dict(loss="squared_error", penalty="l2", learning_rate="invscaling"),
    dict(loss="squared_error", penalty="l2", learning_rate="constant"),
    dict(loss="huber", penalty="elasticnet", learning_rate="optimal"),
]
TARGET_GAP = 1e-3
MAX_EPOCHS_TO_TARGET = 20


def make_data(n_samples, n_features, seed=0, correlated=False):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n_samples, n_features))
    if correlated:  # neighbouring columns correlated, then standardised
        X[:, 1:] += 0.9 * X[:, :-1]
        X = StandardScaler().fit_transform(X)
    y = X @ rng.standard_normal(n_features) + 0.5 * rng.standard_normal(n_samples)
    return X, y


def fit_seconds(model, X, y, epochs, exactly=True):
    """Wall time of a fit of ``epochs`` epochs (at most, unless ``exactly``)."""
    model.set_params(max_iter=epochs, random_state=0)
    settle()
    if exactly and isinstance(model, MLPRegressor):
        model.set_params(tol=0.0, n_iter_no_change=epochs + 1)
    elif exactly:
        model.set_params(tol=None)
    start = time.perf_counter()
    model.fit(X, y)
    return time.perf_counter() - start


def settle():
    """Let threads of the previous measurement go idle (OpenBLAS's spin for about 0.1 s
    after a threaded call, taking cores from whatever runs next)."""
    time.sleep(0.2)


def epoch_seconds(model, X, y, epochs):
    return (fit_seconds(model, X, y, 1 + epochs) - fit_seconds(model, X, y, 1)) / epochs


def call_seconds(function):
    settle()
    start = time.perf_counter()
    function()
    return time.perf_counter() - start


def median_ratio(times, name, reference):
    return float(np.median(np.array(times[name]) / np.array(times[reference])))


def measure(timers, repeats):
    """Seconds of each named timer, run in turn ``repeats`` times (side by side)."""
    times = {name: [] for name in timers}
    for _ in range(repeats):
        for name, timer in timers.items():
            times[name].append(timer())
    return times


def epochs_timed(X):
    """Epochs per epoch-time measurement: fewer on big data."""
    return 1 if X.size > 2e7 else 3


def print_header(title, columns):
    print(f"## {title}\n")
    print("| " + " | ".join(columns) + " |")
    print("|" + "---|" * len(columns))


def epoch_table(sizes, repeats):
    print_header("1. Epoch time against the memory floor and the peers",
                 ["n_samples x n_features", "solver", "epoch (ms)", "/ (X @ w + X.T @ r)", "/ X.sum()",
                  "/ SGDRegressor", "/ MLPRegressor", "float32 / float64"])
    for n_samples, n_features in sizes:
        X, y = make_data(n_samples, n_features)
        X32 = X.astype(np.float32)
        epochs = epochs_timed(X)
        w = np.full(n_features, 0.1)
        references = {
            "floor": lambda: call_seconds(lambda: X.T @ (X @ w - y)),
            "sum": lambda: call_seconds(X.sum),
            "SGDRegressor": lambda: epoch_seconds(SGDRegressor(**SHARED), X, y, epochs),
        }
        for batch_size in (32, 256):
            mlp = MLPRegressor(hidden_layer_sizes=(), solver="sgd", batch_size=batch_size, alpha=1e-4,
                               learning_rate_init=0.01, momentum=0.0)
            references[f"MLP {batch_size}"] = lambda mlp=mlp: epoch_seconds(mlp, X, y, epochs)
        for name, params in SOLVERS.items():
            model = GDRegressor(**params, **SHARED)
            references[name] = lambda model=model: epoch_seconds(model, X, y, epochs)
            references[name + " f32"] = lambda model=model: epoch_seconds(model, X32, y, epochs)
        times = measure(references, repeats)
        for name, params in SOLVERS.items():
            batch_size = params.get("batch_size")
            cells = [
                f"{1e3 * np.median(times[name]):.1f}",
                f"{median_ratio(times, name, 'floor'):.2f}",
                f"{median_ratio(times, name, 'sum'):.2f}",
                f"{median_ratio(times, name, 'SGDRegressor'):.2f}" if name != "batch" else "—",
                f"{median_ratio(times, name, f'MLP {batch_size}'):.2f}" if batch_size else "—",
                f"{median_ratio(times, name + ' f32', name):.2f}",
            ]
            print(f"| {n_samples:,} x {n_features} | {name} | " + " | ".join(cells) + " |", flush=True)
    print()


def sgd_table(sizes, repeats):
    print_header("2. sgd epoch / SGDRegressor epoch, same loss, penalty and schedule",
                 ["n_samples x n_features", "loss", "penalty", "schedule", "skgd epoch (ms)",
                  "SGDRegressor epoch (ms)", "ratio"])
    for n_samples, n_features in sizes:
        X, y = make_data(n_samples, n_features)
        epochs = epochs_timed(X)
        for config in SGD_CONFIGS:
            times = measure({
                "ours": lambda: epoch_seconds(GDRegressor(solver="sgd", **config), X, y, epochs),
                "theirs": lambda: epoch_seconds(SGDRegressor(**config), X, y, epochs),
            }, repeats)
            print(f"| {n_samples:,} x {n_features} | {config['loss']} | {config['penalty']} "
                  f"| {config['learning_rate']} | {1e3 * np.median(times['ours']):.1f} "
                  f"| {1e3 * np.median(times['theirs']):.1f} | {median_ratio(times, 'ours', 'theirs'):.2f} |",
                  flush=True)
    print()


def auto_sgd_table(sizes, repeats):
    print_header("4. sgd epoch under learning_rate='auto' / SGDRegressor epoch (its defaults)",
                 ["n_samples x n_features", "data", "skgd epoch (ms)", "SGDRegressor epoch (ms)", "ratio"])
    for n_samples, n_features in sizes:
        for correlated in (False, True):
            X, y = make_data(n_samples, n_features, correlated=correlated)
            epochs = 8  # the one-off set-up (a rotated copy of the design) cancels out, up to its noise
            times = measure({
                "ours": lambda: epoch_seconds(GDRegressor(solver="sgd"), X, y, epochs),
                "theirs": lambda: epoch_seconds(SGDRegressor(**SHARED), X, y, epochs),
            }, repeats)
            data = "correlated (rotated design)" if correlated else "standard normal"
            print(f"| {n_samples:,} x {n_features} | {data} | {1e3 * np.median(times['ours']):.1f} "
                  f"| {1e3 * np.median(times['theirs']):.1f} | {median_ratio(times, 'ours', 'theirs'):.2f} |",
                  flush=True)
    print()


def objective(model, X, y, alpha):
    residual = X @ model.coef_ + model.intercept_ - y
    return 0.5 * np.mean(residual**2) + 0.5 * alpha * model.coef_ @ model.coef_


def optimal_objective(X, y, alpha):
    """The ridge optimum of ``mean(r**2) / 2 + alpha / 2 * ||w||**2``, by the normal equations."""
    mean = X.mean(axis=0)
    centred = X - mean
    gram = centred.T @ centred / X.shape[0] + alpha * np.eye(X.shape[1])
    coef = np.linalg.solve(gram, centred.T @ (y - y.mean()) / X.shape[0])
    model = LinearRegression()
    model.coef_, model.intercept_ = coef, y.mean() - mean @ coef
    return objective(model, X, y, alpha)


def epochs_to_target(model, X, y, best, alpha):
    """Fewest ``max_iter`` for which a fresh fit ends within TARGET_GAP of ``best``, with its gap.

    Bisection on ``max_iter`` (a fit of ``k`` epochs is the start of a fit of
    more, so the gap falls with ``k`` up to noise). None if a fit of
    MAX_EPOCHS_TO_TARGET epochs, or one its own rule stopped, does not get there.
    """
    def gap(epochs):
        fit_seconds(model, X, y, epochs, exactly=False)
        return objective(model, X, y, alpha) / best - 1.0

    last = gap(MAX_EPOCHS_TO_TARGET)
    if last > TARGET_GAP:
        return None, last
    low, high, high_gap = 0, MAX_EPOCHS_TO_TARGET, last
    while high - low > 1:
        middle = (low + high) // 2
        middle_gap = gap(middle)
        if middle_gap <= TARGET_GAP:
            high, high_gap = middle, middle_gap
        else:
            low = middle
    return high, high_gap


def convergence_table(sizes, repeats):
    print_header(f"3. Time to reach within {TARGET_GAP:g} of the optimal objective (standardised data)",
                 ["n_samples x n_features", "estimator", "epochs", "gap", "time (ms)", "/ SGDRegressor",
                  "/ LinearRegression"])
    alpha = SHARED["alpha"]
    for n_samples, n_features in sizes:
        X, y = make_data(n_samples, n_features, seed=1, correlated=True)
        best = optimal_objective(X, y, alpha)
        models = {f"GDRegressor {solver}": GDRegressor(solver=solver) for solver in ("batch", "minibatch", "sgd")}
        models["SGDRegressor"] = SGDRegressor()
        found = {name: epochs_to_target(model, X, y, best, alpha) for name, model in models.items()}
        timers = {
            name: lambda model=model, epochs=found[name][0] or MAX_EPOCHS_TO_TARGET:
                fit_seconds(model, X, y, epochs, exactly=False)
            for name, model in models.items()
        }
        timers["LinearRegression"] = lambda: call_seconds(lambda: LinearRegression().fit(X, y))
        times = measure(timers, repeats)
        for name, (epochs, gap) in found.items():
            reached = "" if epochs else " (stops short)"
            ratio_sgd = median_ratio(times, name, "SGDRegressor") if name != "SGDRegressor" else 1.0
            print(f"| {n_samples:,} x {n_features} | {name}{reached} | {epochs or models[name].n_iter_} "
                  f"| {gap:.1e} | {1e3 * np.median(times[name]):.0f} | {ratio_sgd:.2f} "
                  f"| {median_ratio(times, name, 'LinearRegression'):.2f} |", flush=True)
        print(f"| {n_samples:,} x {n_features} | LinearRegression | — | — "
              f"| {1e3 * np.median(times['LinearRegression']):.0f} | — | 1.00 |", flush=True)
    print()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--quick", action="store_true", help="small sizes only, to check the script")
    args = parser.parse_args()
    warnings.simplefilter("ignore", ConvergenceWarning)
    # Compile outside the timings, on small data and on data of at least 4 MiB in
    # float32 too (whose kernels prefetch), for every loss the tables use.
    for X, y in (make_data(100, 3), make_data(400_000, 3)):
        for solver in SOLVERS.values():
            for dtype in (np.float64, np.float32):
                GDRegressor(**solver, max_iter=2).fit(X.astype(dtype), y)
                for config in (SHARED, *SGD_CONFIGS):
                    GDRegressor(**solver, **{**SHARED, **config}, max_iter=2).fit(X.astype(dtype), y)
    print(f"Machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
          f"Python {platform.python_version()}, numpy {np.__version__}\n")
    sizes = QUICK_SIZES if args.quick else SIZES
    epoch_table(sizes, args.repeats)
    sgd_table(QUICK_SIZES if args.quick else [(200_000, 50), (1_000_000, 100)], args.repeats)
    convergence_table(QUICK_SIZES if args.quick else [(200_000, 50), (1_000_000, 100)], args.repeats)
    auto_sgd_table(QUICK_SIZES if args.quick else [(200_000, 20), (200_000, 50), (1_000_000, 100)], args.repeats)


if __name__ == "__main__":
    main()
