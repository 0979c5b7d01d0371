"""Constants and helpers shared by the test modules (imported, not a test file)."""

import numpy as np

from skgd import GDPolynomialRegressor, GDRegressor
from skgd._kernels import batch_step, batch_sums

ESTIMATORS = (GDRegressor, GDPolynomialRegressor)
SOLVERS = ("batch", "minibatch", "sgd")
LOSSES = (
    "squared_error",
    "absolute_error",
    "huber",
    "epsilon_insensitive",
    "squared_epsilon_insensitive",
)


def make_regression_data(n_samples=60, n_features=4, noise=0.1, seed=42, intercept=1.0):
    """Standard-normal features and a linear target with Gaussian noise."""
    rng = np.random.RandomState(seed)
    X = rng.standard_normal((n_samples, n_features))
    coef = np.linspace(-2.0, 3.0, n_features)
    y = X @ coef + intercept + noise * rng.standard_normal(n_samples)
    return X, y


def lstsq_fit(X, y, fit_intercept=True, sample_weight=None):
    """Exact (weighted) least squares via np.linalg.lstsq on centred data."""
    w = np.ones(len(y)) if sample_weight is None else np.asarray(sample_weight, float)
    if fit_intercept:
        X_mean = w @ X / w.sum()
        y_mean = w @ y / w.sum()
    else:
        X_mean, y_mean = np.zeros(X.shape[1]), 0.0
    root = np.sqrt(w)[:, None]
    coef = np.linalg.lstsq((X - X_mean) * root, (y - y_mean) * root[:, 0], rcond=None)[0]
    return coef, y_mean - X_mean @ coef


def r2(y, pred):
    return 1.0 - np.sum((y - pred) ** 2) / np.sum((y - y.mean()) ** 2)


def batch_epoch(X, y, sample_weight, rows, coef, intercept, fit_intercept, loss, penalty, schedule, preconditioner,
                t, rule, rule_state, rule_count, average_from):
    """A full-batch epoch as the engine makes it (``_rows.ArrayRows``): the block sums, then one step."""
    sums = batch_sums(X, y, sample_weight, rows, coef, intercept, loss, preconditioner[0])
    return batch_step(sums, rows.shape[0], coef, intercept, fit_intercept, penalty, schedule, preconditioner, t,
                      rule, rule_state, rule_count, average_from)
