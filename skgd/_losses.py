"""Regression losses: the value of each loss and its derivative in the prediction.

A loss is identified by a small integer code so that the compiled kernels can
evaluate it without Python objects. ``loss_value`` and ``loss_derivative`` are
compiled scalar functions for the kernels; ``loss_values`` and
``loss_derivatives`` the same over arrays of any Array API namespace, for
the vectorised path (see ``_vectorised``). The definitions are those of
scikit-learn's ``SGDRegressor`` (``absolute_error`` added), with ``r = p - y``:

=============================== ================================== ====================
loss                            value                              derivative in ``p``
=============================== ================================== ====================
``squared_error``               ``r**2 / 2``                       ``r``
``absolute_error``              ``|r|``                            ``sign(r)``
``huber``                       ``r**2 / 2`` if ``|r| <= eps``,    ``clip(r, -eps, eps)``
                                else ``eps * |r| - eps**2 / 2``
``epsilon_insensitive``         ``max(0, |r| - eps)``              ``sign(r)`` outside
``squared_epsilon_insensitive`` ``max(0, |r| - eps)**2``           ``2 * sign(r) * max(0, |r| - eps)``
=============================== ================================== ====================
"""

from numba import njit
from numba.extending import overload
from sklearn.utils._array_api import get_namespace

from ._codes import coded, coded_classes, static_code

SQUARED_ERROR = 0
ABSOLUTE_ERROR = 1
HUBER = 2
EPSILON_INSENSITIVE = 3
SQUARED_EPSILON_INSENSITIVE = 4

LOSS_CODES = {
    "squared_error": SQUARED_ERROR,
    "absolute_error": ABSOLUTE_ERROR,
    "huber": HUBER,
    "epsilon_insensitive": EPSILON_INSENSITIVE,
    "squared_epsilon_insensitive": SQUARED_EPSILON_INSENSITIVE,
}

# Upper bound of the second derivative in the prediction, for smooth losses;
# ``None`` for the piecewise-linear losses, whose steps are sized differently.
CURVATURE = {
    "squared_error": 1.0,
    "absolute_error": None,
    "huber": 1.0,
    "epsilon_insensitive": None,
    "squared_epsilon_insensitive": 2.0,
}

# Losses that are robust to outliers: their natural centre is the median.
ROBUST = {"absolute_error", "huber", "epsilon_insensitive"}

# A loss tuple ``(code, epsilon)`` of its own type for each loss (see ``_codes``).
_LOSS_TUPLES = coded_classes(
    ("SquaredErrorLoss", "AbsoluteErrorLoss", "HuberLoss", "EpsilonInsensitiveLoss",
     "SquaredEpsilonInsensitiveLoss"),
    ("code", "epsilon"), __name__,
)
(SquaredErrorLoss, AbsoluteErrorLoss, HuberLoss, EpsilonInsensitiveLoss,
 SquaredEpsilonInsensitiveLoss) = _LOSS_TUPLES


def loss_tuple(name, epsilon):
    """The loss ``name`` as ``(code, epsilon)``, a tuple of the loss's own type, which the kernels compile for alone."""
    return coded(_LOSS_TUPLES, (LOSS_CODES[name], float(epsilon)))


@njit(cache=True, inline="always")
def loss_value(code, p, y, epsilon):
    """Value of the loss ``code`` at prediction ``p`` for target ``y``."""
    r = p - y
    a = abs(r)
    if code == SQUARED_ERROR:
        return 0.5 * r * r
    if code == ABSOLUTE_ERROR:
        return a
    if code == HUBER:
        if a <= epsilon:
            return 0.5 * r * r
        return epsilon * a - 0.5 * epsilon * epsilon
    z = a - epsilon if a > epsilon else 0.0
    if code == EPSILON_INSENSITIVE:
        return z
    return z * z


@njit(cache=True, inline="always")
def loss_derivative(code, p, y, epsilon):
    """Derivative of the loss ``code`` in the prediction ``p``."""
    r = p - y
    if code == SQUARED_ERROR:
        return r
    if code == HUBER:
        if r > epsilon:
            return epsilon
        if r < -epsilon:
            return -epsilon
        return r
    sign = 1.0 if r > 0.0 else (-1.0 if r < 0.0 else 0.0)
    if code == ABSOLUTE_ERROR:
        return sign
    a = abs(r)
    if a <= epsilon:
        return 0.0
    if code == EPSILON_INSENSITIVE:
        return sign
    return 2.0 * sign * (a - epsilon)


def loss_terms(loss, p, y):
    """The derivative in ``p`` and the value of the loss ``(code, epsilon)``, at prediction ``p`` for target ``y``.

    Compiled for a tuple of :func:`loss_tuple`, it is only that loss's
    arithmetic; for a plain tuple, every loss's behind a branch.
    """
    code, epsilon = loss
    return loss_derivative.py_func(code, p, y, epsilon), loss_value.py_func(code, p, y, epsilon)


@overload(loss_terms, inline="always")
def _compiled_loss_terms(loss, p, y):
    code = static_code(loss)
    if code is None:
        return lambda loss, p, y: (loss_derivative(loss[0], p, y, loss[1]), loss_value(loss[0], p, y, loss[1]))
    # the code a constant: the compiler drops the other losses' branches
    return lambda loss, p, y: (loss_derivative(code, p, y, loss[1]), loss_value(code, p, y, loss[1]))


def loss_values(code, p, y, epsilon):
    """:func:`loss_value` over arrays of any Array API namespace (the vectorised path)."""
    xp, _ = get_namespace(p)
    r = p - y
    a = xp.abs(r)
    if code == SQUARED_ERROR:
        return 0.5 * r * r
    if code == ABSOLUTE_ERROR:
        return a
    if code == HUBER:
        return xp.where(a <= epsilon, 0.5 * r * r, epsilon * a - 0.5 * epsilon * epsilon)
    z = xp.where(a > epsilon, a - epsilon, xp.zeros_like(a))
    return z if code == EPSILON_INSENSITIVE else z * z


def loss_derivatives(code, p, y, epsilon):
    """:func:`loss_derivative` over arrays of any Array API namespace (the vectorised path)."""
    xp, _ = get_namespace(p)
    r = p - y
    if code == SQUARED_ERROR:
        return r
    if code == HUBER:
        return xp.clip(r, -epsilon, epsilon)
    sign = xp.sign(r)
    if code == ABSOLUTE_ERROR:
        return sign
    a = xp.abs(r)
    outside = xp.where(a <= epsilon, xp.zeros_like(a), a - epsilon)
    if code == EPSILON_INSENSITIVE:
        return xp.where(a <= epsilon, xp.zeros_like(sign), sign)
    return 2.0 * sign * outside
