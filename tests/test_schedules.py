"""Learning-rate schedules: formulas, SGDRegressor's t0, and per-sample SGD."""

import math
import warnings

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import SGDRegressor

from skgd import GDRegressor
from skgd._losses import LOSS_CODES
from skgd._schedules import (
    ADAPTIVE,
    ADAPTIVE_DIVISOR,
    AUTO,
    CONSTANT,
    INVSCALING,
    OPTIMAL,
    SCHEDULE_CODES,
    learning_rate,
    optimal_t0,
)

from _shared import LOSSES, make_regression_data


def test_schedule_codes():
    assert SCHEDULE_CODES == {
        "constant": CONSTANT,
        "optimal": OPTIMAL,
        "invscaling": INVSCALING,
        "adaptive": CONSTANT,
        "auto": AUTO,
    }
    assert ADAPTIVE == {"adaptive", "auto"}
    assert ADAPTIVE_DIVISOR == 5.0


@pytest.mark.parametrize("compiled", [True, False], ids=["njit", "py_func"])
def test_constant_schedule(compiled):
    rate = learning_rate if compiled else learning_rate.py_func
    for t in (1, 2, 10, 10_000):
        assert rate((CONSTANT, 0.37, 0.25, 1e-3, 5.0), t) == 0.37


@pytest.mark.parametrize("compiled", [True, False], ids=["njit", "py_func"])
@pytest.mark.parametrize("eta0, power_t", [(0.01, 0.25), (0.5, 0.5), (2.0, 1.0), (0.1, -0.5)])
def test_invscaling_schedule(compiled, eta0, power_t):
    rate = learning_rate if compiled else learning_rate.py_func
    for t in (1, 2, 3, 17, 1000):
        assert rate((INVSCALING, eta0, power_t, 1e-3, 0.0), t) == pytest.approx(
            eta0 / t**power_t, rel=1e-15
        )
    assert rate((INVSCALING, eta0, power_t, 1e-3, 0.0), 1) == pytest.approx(eta0, rel=1e-15)


@pytest.mark.parametrize("compiled", [True, False], ids=["njit", "py_func"])
@pytest.mark.parametrize("alpha, t0", [(1e-4, 1000.0), (0.1, 3.0), (1.0, 1.0)])
def test_optimal_schedule(compiled, alpha, t0):
    rate = learning_rate if compiled else learning_rate.py_func
    for t in (1, 2, 5, 1000):
        assert rate((OPTIMAL, 99.0, 0.25, alpha, t0), t) == pytest.approx(
            1.0 / (alpha * (t0 + t - 1)), rel=1e-15
        )
    # the first step is 1 / (alpha * t0) and eta0 plays no role
    assert rate((OPTIMAL, 99.0, 0.25, alpha, t0), 1) == pytest.approx(1 / (alpha * t0), rel=1e-15)


@pytest.mark.parametrize("loss", LOSSES)
@pytest.mark.parametrize("alpha", [1e-6, 1e-4, 0.01, 1.0, 25.0])
@pytest.mark.parametrize("epsilon", [0.01, 0.1, 1.0])
def test_optimal_t0_is_sgdregressor_heuristic(loss, alpha, epsilon):
    """As in sklearn's _plain_sgd: typw = sqrt(1/sqrt(alpha)),
    eta0 = typw / max(1, dloss(p=-typw, y=1)), t0 = 1/(eta0*alpha); for these
    regression losses dloss(-typw, 1) < 0, so t0 = 1/(typw*alpha)."""
    typw = math.sqrt(1.0 / math.sqrt(alpha))
    expected = 1.0 / (typw * alpha)
    assert optimal_t0(alpha, LOSS_CODES[loss], epsilon) == pytest.approx(expected, rel=1e-14)


def _sgdregressor_settings(lr, loss, penalty):
    return dict(
        learning_rate=lr,
        eta0=0.01,
        power_t=0.3,
        alpha=1.0 if lr == "optimal" else 0.01,
        penalty=penalty,
        loss=loss,
        epsilon=0.1,
        shuffle=False,
        tol=None,
        max_iter=4,
    )


@pytest.mark.parametrize("lr", ["constant", "optimal", "invscaling"])
@pytest.mark.parametrize(
    "loss", ["squared_error", "huber", "epsilon_insensitive", "squared_epsilon_insensitive"]
)
@pytest.mark.parametrize("penalty", [None, "l2"])
def test_sgd_solver_reproduces_sgdregressor(lr, loss, penalty):
    """solver='sgd' without shuffling is scikit-learn's SGDRegressor step for step
    (L2 weight decay is the same update as the L2 gradient)."""
    X, y = make_regression_data(n_samples=40, n_features=3)
    settings = _sgdregressor_settings(lr, loss, penalty)
    ours = GDRegressor(solver="sgd", **settings).fit(X, y)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        theirs = SGDRegressor(**settings).fit(X, y)
    np.testing.assert_allclose(ours.coef_, theirs.coef_, rtol=1e-12, atol=1e-13)
    assert ours.intercept_ == pytest.approx(theirs.intercept_[0], rel=1e-12, abs=1e-13)
    assert ours.t_ == 4 * 40 == theirs.t_ - 1  # SGDRegressor's t_ starts at 1


def _hand_written_invscaling_sgd(X, y, eta0, power_t, n_epochs):
    w = np.zeros(X.shape[1])
    b = 0.0
    t = 0
    for _ in range(n_epochs):
        for i in range(X.shape[0]):
            t += 1
            eta = eta0 / t**power_t
            r = X[i] @ w + b - y[i]
            w = w - eta * r * X[i]
            b = b - eta * r
    return w, b, t


@pytest.mark.parametrize("power_t", [0.25, 0.5])
def test_invscaling_sgd_matches_hand_written_loop(power_t):
    X, y = make_regression_data(n_samples=50, n_features=3, seed=7)
    model = GDRegressor(
        solver="sgd", learning_rate="invscaling", eta0=0.05, power_t=power_t,
        penalty=None, shuffle=False, tol=None, max_iter=6,
    ).fit(X, y)
    w, b, t = _hand_written_invscaling_sgd(X, y, 0.05, power_t, 6)
    np.testing.assert_allclose(model.coef_, w, rtol=1e-12, atol=1e-12)
    assert model.intercept_ == pytest.approx(b, rel=1e-12, abs=1e-12)
    assert model.t_ == t == 300


def test_invscaling_schedule_continues_across_partial_fit():
    """t is not reset between partial_fit calls: two calls == one fit of two epochs."""
    X, y = make_regression_data(n_samples=30, n_features=3, seed=8)
    params = dict(solver="sgd", learning_rate="invscaling", eta0=0.05, penalty=None, shuffle=False)
    streamed = GDRegressor(**params).partial_fit(X, y).partial_fit(X, y)
    w, b, t = _hand_written_invscaling_sgd(X, y, 0.05, 0.25, 2)
    np.testing.assert_allclose(streamed.coef_, w, rtol=1e-12, atol=1e-12)
    assert streamed.intercept_ == pytest.approx(b, rel=1e-12, abs=1e-12)
    assert streamed.t_ == t


def test_optimal_requires_positive_alpha():
    X, y = make_regression_data()
    with pytest.raises(ValueError, match="alpha must be > 0"):
        GDRegressor(learning_rate="optimal", alpha=0.0).fit(X, y)
    with pytest.raises(ValueError, match="alpha must be > 0"):
        GDRegressor(learning_rate="optimal", alpha=0.0).partial_fit(X, y)
