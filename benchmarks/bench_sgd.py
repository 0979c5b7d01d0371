"""Per-epoch time of skgd's ``sgd`` solver against scikit-learn's ``SGDRegressor``.

Both fit the same standardised data with the same loss, penalty and schedule,
shuffling every epoch, for a fixed number of epochs (``tol=None``). The figure
is the ratio of epoch times (ours / SGDRegressor), the median of several
repeats measured side by side in one run.

Usage: ``python benchmarks/bench_sgd.py [--repeats 5] [--epochs 5]``
"""

import argparse
import time
import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import SGDRegressor

from skgd import GDRegressor

SIZES = [(200_000, 50), (1_000_000, 10)]
CONFIGS = [
    dict(loss="squared_error", penalty="l2", learning_rate="invscaling"),
    dict(loss="squared_error", penalty="l2", learning_rate="constant"),
    dict(loss="huber", penalty="elasticnet", learning_rate="optimal"),
]


def make_data(n_samples, n_features, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n_samples, n_features))
    y = X @ rng.standard_normal(n_features) + 0.5 * rng.standard_normal(n_samples)
    return X, y


def epoch_time(model, X, y, epochs):
    model.set_params(max_iter=epochs, tol=None, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        start = time.perf_counter()
        model.fit(X, y)
    return (time.perf_counter() - start) / epochs


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--epochs", type=int, default=5)
    args = parser.parse_args()
    GDRegressor(solver="sgd", max_iter=1).fit(*make_data(100, 3))  # compile outside timings
    print("| n_samples x n_features | loss | penalty | schedule | skgd epoch (ms) "
          "| SGDRegressor epoch (ms) | ratio ours / SGDRegressor |")
    print("|---|---|---|---|---|---|---|")
    for n_samples, n_features in SIZES:
        X, y = make_data(n_samples, n_features)
        for config in CONFIGS:
            ours = GDRegressor(solver="sgd", **config)
            theirs = SGDRegressor(**config)
            pairs = [(epoch_time(ours, X, y, args.epochs), epoch_time(theirs, X, y, args.epochs))
                     for _ in range(args.repeats)]
            ours_t, theirs_t = np.median(pairs, axis=0)
            ratio = np.median([a / b for a, b in pairs])
            print(f"| {n_samples:,} x {n_features} | {config['loss']} | {config['penalty']} "
                  f"| {config['learning_rate']} | {1e3 * ours_t:.1f} | {1e3 * theirs_t:.1f} "
                  f"| {ratio:.2f} |", flush=True)


if __name__ == "__main__":
    main()
