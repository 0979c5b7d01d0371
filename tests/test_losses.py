"""Losses and penalties: closed forms, derivatives, vectorised versions."""

import numpy as np
import pytest
from sklearn.linear_model._sgd_fast import EpsilonInsensitive, SquaredEpsilonInsensitive

from skgd._losses import (
    CURVATURE,
    LOSS_CODES,
    ROBUST,
    loss_derivative,
    loss_derivatives,
    loss_value,
    loss_values,
)
from skgd._penalties import (
    penalty_derivative,
    penalty_gradient,
    penalty_strengths,
    penalty_value,
    soft_threshold,
    soft_thresholds,
)

from _shared import LOSSES

EPSILON = 0.3


def closed_form_value(loss, p, y, eps):
    """The table of the ``_losses`` module docstring, written independently."""
    r = p - y
    if loss == "squared_error":
        return r**2 / 2
    if loss == "absolute_error":
        return abs(r)
    if loss == "huber":
        return r**2 / 2 if abs(r) <= eps else eps * abs(r) - eps**2 / 2
    if loss == "epsilon_insensitive":
        return max(0.0, abs(r) - eps)
    if loss == "squared_epsilon_insensitive":
        return max(0.0, abs(r) - eps) ** 2
    raise AssertionError(loss)


def closed_form_derivative(loss, p, y, eps):
    r = p - y
    if loss == "squared_error":
        return r
    if loss == "absolute_error":
        return float(np.sign(r))
    if loss == "huber":
        return float(np.clip(r, -eps, eps))
    if loss == "epsilon_insensitive":
        return float(np.sign(r)) if abs(r) > eps else 0.0
    if loss == "squared_epsilon_insensitive":
        return 2 * float(np.sign(r)) * max(0.0, abs(r) - eps)
    raise AssertionError(loss)


def _random_points(n, seed):
    """``n`` (p, y) pairs drawn uniformly from [-3, 3]."""
    rng = np.random.RandomState(seed)
    return rng.uniform(-3, 3, n), rng.uniform(-3, 3, n)


def _points_away_from_kinks(n=400, seed=0, margin=1e-3):
    """(p, y) pairs whose residual is at least ``margin`` from 0 and from ±EPSILON."""
    p, y = _random_points(4 * n, seed)
    r = np.abs(p - y)
    keep = (r > margin) & (np.abs(r - EPSILON) > margin)
    return p[keep][:n], y[keep][:n]


def test_loss_codes_cover_all_losses():
    assert set(LOSS_CODES) == set(LOSSES)
    assert sorted(LOSS_CODES.values()) == list(range(len(LOSSES)))
    assert set(CURVATURE) == set(LOSSES)
    assert ROBUST <= set(LOSSES)


@pytest.mark.parametrize("loss", LOSSES)
@pytest.mark.parametrize("compiled", [True, False], ids=["njit", "py_func"])
def test_loss_derivative_matches_central_difference(loss, compiled):
    code = LOSS_CODES[loss]
    value = loss_value if compiled else loss_value.py_func
    derivative = loss_derivative if compiled else loss_derivative.py_func
    h = 1e-6
    p, y = _points_away_from_kinks()
    assert p.size == 400
    for pi, yi in zip(p, y):
        numeric = (value(code, pi + h, yi, EPSILON) - value(code, pi - h, yi, EPSILON)) / (2 * h)
        analytic = derivative(code, pi, yi, EPSILON)
        assert analytic == pytest.approx(numeric, rel=1e-6, abs=1e-7), (pi, yi)


@pytest.mark.parametrize("loss", LOSSES)
def test_loss_value_and_derivative_match_closed_forms(loss):
    code = LOSS_CODES[loss]
    p, y = _random_points(300, seed=1)
    # Include the kinks themselves and exact hits of the epsilon boundary.
    p = np.concatenate([p, [0.0, EPSILON, -EPSILON, 1.0 + EPSILON, 1.0 - EPSILON, 2.0]])
    y = np.concatenate([y, [0.0, 0.0, 0.0, 1.0, 1.0, 2.0]])
    for pi, yi in zip(p, y):
        assert loss_value(code, pi, yi, EPSILON) == pytest.approx(
            closed_form_value(loss, pi, yi, EPSILON), rel=1e-14, abs=1e-15
        )
        assert loss_derivative(code, pi, yi, EPSILON) == pytest.approx(
            closed_form_derivative(loss, pi, yi, EPSILON), rel=1e-14, abs=1e-15
        )


@pytest.mark.parametrize(
    "loss, p, y, value, derivative",
    [
        ("squared_error", 3.0, 1.0, 2.0, 2.0),
        ("squared_error", -1.0, 1.0, 2.0, -2.0),
        ("absolute_error", 3.0, 1.0, 2.0, 1.0),
        ("absolute_error", -1.0, 1.0, 2.0, -1.0),
        ("absolute_error", 1.0, 1.0, 0.0, 0.0),
        ("huber", 1.2, 1.0, 0.02, 0.2),  # inside eps=0.3: quadratic
        ("huber", 3.0, 1.0, 0.3 * 2.0 - 0.045, 0.3),  # outside: linear
        ("huber", -1.0, 1.0, 0.3 * 2.0 - 0.045, -0.3),
        ("epsilon_insensitive", 1.2, 1.0, 0.0, 0.0),
        ("epsilon_insensitive", 3.0, 1.0, 1.7, 1.0),
        ("epsilon_insensitive", -1.0, 1.0, 1.7, -1.0),
        ("squared_epsilon_insensitive", 1.2, 1.0, 0.0, 0.0),
        ("squared_epsilon_insensitive", 3.0, 1.0, 1.7**2, 3.4),
        ("squared_epsilon_insensitive", -1.0, 1.0, 1.7**2, -3.4),
    ],
)
def test_loss_hand_computed_values(loss, p, y, value, derivative):
    code = LOSS_CODES[loss]
    assert loss_value(code, p, y, EPSILON) == pytest.approx(value, abs=1e-14)
    assert loss_derivative(code, p, y, EPSILON) == pytest.approx(derivative, abs=1e-14)


@pytest.mark.parametrize("loss", ["huber", "epsilon_insensitive", "squared_epsilon_insensitive"])
def test_losses_are_continuous_at_epsilon(loss):
    code = LOSS_CODES[loss]
    for y in (0.0, 2.5):
        for edge in (y + EPSILON, y - EPSILON):
            below = loss_value(code, edge - 1e-9, y, EPSILON)
            above = loss_value(code, edge + 1e-9, y, EPSILON)
            assert abs(below - above) < 1e-8


@pytest.mark.parametrize("loss", LOSSES)
def test_vectorised_losses_match_scalar(loss):
    code = LOSS_CODES[loss]
    p, y = _random_points(200, seed=2)
    values = loss_values(code, p, y, EPSILON)
    derivatives = loss_derivatives(code, p, y, EPSILON)
    assert values.shape == derivatives.shape == (200,)
    assert values.dtype == derivatives.dtype == np.float64
    expected_values = np.array([loss_value(code, a, b, EPSILON) for a, b in zip(p, y)])
    expected_derivatives = np.array([loss_derivative(code, a, b, EPSILON) for a, b in zip(p, y)])
    np.testing.assert_array_equal(values, expected_values)
    np.testing.assert_array_equal(derivatives, expected_derivatives)


@pytest.mark.parametrize(
    "loss, sklearn_loss",
    [
        ("epsilon_insensitive", EpsilonInsensitive),
        ("squared_epsilon_insensitive", SquaredEpsilonInsensitive),
    ],
)
def test_epsilon_losses_match_sgdregressor(loss, sklearn_loss):
    """scikit-learn's own loss objects (``py_loss(p, y)``) agree with ours."""
    code = LOSS_CODES[loss]
    reference = sklearn_loss(EPSILON)
    p, y = _points_away_from_kinks(n=100, seed=3)
    for pi, yi in zip(p, y):
        assert loss_value(code, pi, yi, EPSILON) == pytest.approx(reference.py_loss(pi, yi), rel=1e-14, abs=1e-15)
        assert loss_derivative(code, pi, yi, EPSILON) == pytest.approx(reference.py_dloss(pi, yi), rel=1e-14, abs=1e-15)


@pytest.mark.parametrize("loss", ["squared_error", "huber", "squared_epsilon_insensitive"])
def test_curvature_bounds_second_derivative(loss):
    """CURVATURE is an upper bound of d²loss/dp² (it sizes the 'auto' step)."""
    code = LOSS_CODES[loss]
    p, y = _points_away_from_kinks(n=200, seed=4)
    h = 1e-5
    second = [
        (loss_derivative(code, a + h, b, EPSILON) - loss_derivative(code, a - h, b, EPSILON)) / (2 * h)
        for a, b in zip(p, y)
    ]
    assert max(second) == pytest.approx(CURVATURE[loss], rel=1e-6)


# --- penalties -----------------------------------------------------------------


@pytest.mark.parametrize(
    "penalty, expected",
    [
        (None, (0.0, 0.0)),
        ("l2", (0.0, 0.5)),
        ("l1", (0.5, 0.0)),
        ("elasticnet", (0.5 * 0.15, 0.5 * 0.85)),
    ],
)
def test_penalty_strengths(penalty, expected):
    l1, l2 = penalty_strengths(penalty, 0.5, 0.15)
    assert l1 == pytest.approx(expected[0], rel=1e-15)
    assert l2 == pytest.approx(expected[1], rel=1e-15)


def test_penalty_strengths_elasticnet_extremes():
    assert penalty_strengths("elasticnet", 2.0, 0.0) == pytest.approx((0.0, 2.0))
    assert penalty_strengths("elasticnet", 2.0, 1.0) == pytest.approx((2.0, 0.0))
    # l1_ratio is ignored by 'l1' and 'l2'
    assert penalty_strengths("l2", 2.0, 0.9) == pytest.approx((0.0, 2.0))
    assert penalty_strengths("l1", 2.0, 0.1) == pytest.approx((2.0, 0.0))


def test_penalty_value_closed_form():
    w = np.array([1.0, -2.0, 0.5, 0.0])
    alpha, l1_ratio = 0.3, 0.4
    l1, l2 = penalty_strengths("elasticnet", alpha, l1_ratio)
    expected = alpha * ((1 - l1_ratio) / 2 * (w @ w) + l1_ratio * np.abs(w).sum())
    assert penalty_value(w, l1, l2) == pytest.approx(expected, rel=1e-14)
    assert penalty_value(w, 0.0, 0.0) == 0.0
    assert penalty_value(np.zeros(3), 1.0, 1.0) == 0.0


def test_penalty_gradient_is_the_l2_part_s():
    """The L1 part leaves the gradient: it is applied by its proximal step."""
    _, l2 = penalty_strengths("elasticnet", 0.7, 0.3)
    rng = np.random.RandomState(5)
    h = 1e-6
    w = rng.uniform(-2, 2, size=6)
    gradient = penalty_gradient(w, l2)
    for j in range(w.size):
        up, down = w.copy(), w.copy()
        up[j] += h
        down[j] -= h
        numeric = (penalty_value(up, 0.0, l2) - penalty_value(down, 0.0, l2)) / (2 * h)
        assert gradient[j] == pytest.approx(numeric, rel=1e-6, abs=1e-8)
        assert penalty_derivative(w[j], l2) == pytest.approx(numeric, rel=1e-6, abs=1e-8)
        assert penalty_derivative.py_func(w[j], l2) == gradient[j]


@pytest.mark.parametrize("threshold", [0.0, 0.3, 2.0])
def test_soft_threshold_is_the_proximal_step_of_l1(threshold):
    """prox(v) = argmin_w threshold * |w| + (w - v)**2 / 2, checked on a fine grid; exact zeros inside."""
    values = np.linspace(-3.0, 3.0, 61)
    grid = np.linspace(-4.0, 4.0, 80001)
    for v in values:
        expected = grid[np.argmin(threshold * np.abs(grid) + 0.5 * (grid - v) ** 2)]
        assert soft_threshold(v, threshold) == pytest.approx(expected, abs=1e-4)
        assert soft_threshold.py_func(v, threshold) == soft_threshold(v, threshold)
    proximal = soft_thresholds(values, threshold)
    np.testing.assert_array_equal(proximal, [soft_threshold(v, threshold) for v in values])
    np.testing.assert_array_equal(proximal == 0.0, np.abs(values) <= threshold)
