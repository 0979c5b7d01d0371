"""Penalties on the coefficients (never on the intercept).

As in scikit-learn's ``SGDRegressor``, every penalty is the elastic net

    R(w) = alpha * ((1 - l1_ratio) / 2 * ||w||_2^2 + l1_ratio * ||w||_1)

with ``l1_ratio`` forced to 0 for ``'l2'``, to 1 for ``'l1'``, and ``alpha`` to
0 for ``None``. The kernels see it as the pair of strengths
``(l1_strength, l2_strength) = (alpha * l1_ratio, alpha * (1 - l1_ratio))``.
The L1 part enters the gradient through its subgradient ``sign(w)``
(``sign(0) = 0``), so that every solver follows the textbook update.
"""

from numba import njit
from sklearn.utils._array_api import get_namespace


def penalty_strengths(penalty, alpha, l1_ratio):
    """Return ``(l1_strength, l2_strength)`` for a named penalty (``l1_ratio`` may be None but for ``'elasticnet'``)."""
    if penalty is None:
        return 0.0, 0.0
    ratio = float(l1_ratio) if penalty == "elasticnet" else {"l2": 0.0, "l1": 1.0}[penalty]
    return alpha * ratio, alpha * (1.0 - ratio)


def penalty_value(coef, l1_strength, l2_strength):
    """Value of the elastic-net penalty at ``coef``, an array of any namespace (once per epoch, from Python)."""
    xp, _ = get_namespace(coef)
    return float(l1_strength * xp.sum(xp.abs(coef)) + 0.5 * l2_strength * xp.sum(coef * coef))


@njit(cache=True, inline="always")
def penalty_derivative(w, l1_strength, l2_strength):
    """Derivative (subgradient for L1) of the penalty in one coefficient ``w``."""
    sign = 1.0 if w > 0.0 else (-1.0 if w < 0.0 else 0.0)
    return l2_strength * w + l1_strength * sign


def penalty_gradient(coef, l1_strength, l2_strength):
    """Vectorised :func:`penalty_derivative` over ``coef``, an array of any namespace (vectorised path)."""
    xp, _ = get_namespace(coef)
    return l2_strength * coef + l1_strength * xp.sign(coef)
