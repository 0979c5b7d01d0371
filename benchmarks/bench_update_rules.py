"""Update rules: epochs to converge on an ill-conditioned problem, and cost per epoch.

Prints two markdown tables:

1. On least squares with condition number ``--kappa`` (1e4 by default;
   eigenvalues of the Hessian log-spaced from ``L / kappa`` to ``L``), the
   ``batch`` solver with ``learning_rate='constant'`` and the same step
   ``1 / L`` for every rule, ``momentum=0.98``, no penalty or intercept: the
   epochs each rule needs to bring the relative suboptimality
   ``(J_k - J*) / (J_0 - J*)`` to 1e-6, read from ``loss_curve_`` (for
   ``batch`` it is ``J`` at the start of each epoch), beside a hand-written
   NumPy loop of the same update where there is one, and the ratio to
   ``'plain'``. Theory for ``'plain'``: about ``kappa / 2 * ln(1e6)`` epochs.
2. Time per epoch of the compiled ``sgd`` kernel for each rule (identity
   preconditioner, constant step, L2 penalty) over ``'plain'``'s, the
   kernel called directly on the same shuffled order, median of
   ``--repeats``, the rules interleaved.

Timings are never asserted; they move with the machine.

Usage: ``python benchmarks/bench_update_rules.py [--kappa 1e4] [--repeats 5] [--quick]``
"""

import argparse
import os
import platform
import time
import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning

from skgd import GDRegressor
from skgd._kernels import minibatch_epoch
from skgd._losses import loss_tuple
from skgd._preconditioning import Preconditioner
from skgd._schedules import CONSTANT
from skgd._update_rules import RULE_CODES, new_state

TARGET = 1e-6
MOMENTUM = 0.98
SIZES = [(200_000, 50), (1_000_000, 100)]
QUICK_SIZES = [(20_000, 50)]


def conditioned_problem(kappa, n_samples=400, n_features=40, seed=0):
    """``X`` with ``X.T @ X / n`` of eigenvalues log-spaced from ``1 / kappa`` to 1, and ``y``."""
    rng = np.random.default_rng(seed)
    U, _ = np.linalg.qr(rng.standard_normal((n_samples, n_features)))
    V, _ = np.linalg.qr(rng.standard_normal((n_features, n_features)))
    X = np.sqrt(n_samples) * (U * np.sqrt(np.logspace(-np.log10(kappa), 0, n_features))) @ V.T
    y = X @ rng.standard_normal(n_features) + 0.1 * rng.standard_normal(n_samples)
    return X, y


def epochs_to_target(curve, optimum):
    """First epoch ``k`` (from 0) with ``(J_k - J*) / (J_0 - J*) <= TARGET``, or None."""
    gap = (np.asarray(curve) - optimum) / (curve[0] - optimum)
    reached = np.flatnonzero(gap <= TARGET)
    return int(reached[0]) if reached.size else None


def hand_written_curve(rule, X, y, eta, n_epochs):
    """Objective at each step of textbook plain GD, heavy ball or Nesterov (Sutskever) from zero."""
    n = len(y)
    objective = lambda w: 0.5 * np.mean((X @ w - y) ** 2)
    gradient = lambda w: X.T @ (X @ w - y) / n
    w, previous, velocity = np.zeros(X.shape[1]), np.zeros(X.shape[1]), np.zeros(X.shape[1])
    curve = []
    for _ in range(n_epochs):
        if rule == "nesterov":  # the model is the look-ahead point w + mu v
            curve.append(objective(w + MOMENTUM * velocity))
            velocity = MOMENTUM * velocity - eta * gradient(w + MOMENTUM * velocity)
            w = w + velocity
        else:
            curve.append(objective(w))
            mu = MOMENTUM if rule == "momentum" else 0.0
            w, previous = w - eta * gradient(w) + mu * (w - previous), w
    return curve


def table_epochs(kappa, max_epochs):
    X, y = conditioned_problem(kappa)
    L = np.linalg.eigvalsh(X.T @ X / len(y)).max()
    optimum = 0.5 * np.mean((X @ np.linalg.lstsq(X, y, rcond=None)[0] - y) ** 2)
    print(f"\n### Epochs to 1e-6 relative suboptimality: kappa = {kappa:.0e}, step 1/L, momentum {MOMENTUM}\n")
    print(f"{X.shape[0]} x {X.shape[1]}, theory for plain: {kappa / 2 * np.log(1 / TARGET):.0f} epochs\n")
    print("| rule | epochs (skgd) | epochs (hand-written loop) | / plain (skgd) |")
    print("|---|---|---|---|")
    plain = None
    for rule in RULE_CODES:
        model = GDRegressor(
            solver="batch", optimizer=rule, momentum=MOMENTUM, learning_rate="constant", eta0=1.0 / L,
            penalty=None, fit_intercept=False, tol=None, max_iter=max_epochs,
        )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            model.fit(X, y)
        epochs = epochs_to_target(model.loss_curve_, optimum)
        plain = epochs if rule == "plain" else plain
        hand = "-"
        if rule in ("plain", "momentum", "nesterov"):
            hand = epochs_to_target(hand_written_curve(rule, X, y, 1.0 / L, max_epochs), optimum)
        shown = lambda e: f"> {max_epochs}" if e is None else str(e)
        ratio = f"1/{plain / epochs:.0f}" if epochs and plain else "-"
        print(f"| {rule} | {shown(epochs)} | {shown(hand) if hand != '-' else hand} | {ratio} |")


def epoch_seconds(X, y, order, rule, rule_state, coef):
    start = time.perf_counter()
    minibatch_epoch(
        X, y, np.ones(len(y)), order, 1, coef, 0.0, True, loss_tuple("squared_error", 0.1),
        (0.0, 1e-4), (CONSTANT, 1e-4, 0.25, 1e-4, 0.0), Preconditioner.identity(X.shape[1]).arrays(),
        0, rule, rule_state, 0, 0,
    )
    return time.perf_counter() - start


def table_cost(sizes, repeats):
    print("\n### Time per epoch of the compiled sgd kernel, over 'plain' (median of %d)\n" % repeats)
    rules = list(RULE_CODES)
    print("| n x d | plain (ms) | " + " | ".join(rules[1:]) + " |")
    print("|---|---|" + "---|" * (len(rules) - 1))
    for n_samples, n_features in sizes:
        rng = np.random.default_rng(0)
        X = rng.standard_normal((n_samples, n_features))
        y = X @ rng.standard_normal(n_features) + rng.standard_normal(n_samples)
        order = rng.permutation(n_samples)
        times = {rule: [] for rule in rules}
        for repeat in range(repeats + 1):  # the first round compiles and warms up
            for rule in rules:
                code = (RULE_CODES[rule], 0.9, 0.9, 0.999, 1e-8)
                seconds = epoch_seconds(X, y, order, code, new_state(n_features + 1), np.zeros(n_features))
                if repeat:
                    times[rule].append(seconds)
        plain = np.median(times["plain"])
        ratios = " | ".join(f"{np.median(times[rule]) / plain:.2f}" for rule in rules[1:])
        print(f"| {n_samples:,} x {n_features} | {1e3 * plain:.0f} | {ratios} |")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--kappa", type=float, default=1e4)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--quick", action="store_true", help="kappa 1e3 and small data")
    args = parser.parse_args()
    kappa = 1e3 if args.quick else args.kappa
    print(f"Machine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs")
    table_epochs(kappa, max_epochs=int(kappa * 10))
    table_cost(QUICK_SIZES if args.quick else SIZES, args.repeats)


if __name__ == "__main__":
    main()
