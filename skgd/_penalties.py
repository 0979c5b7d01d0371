"""Penalties on the coefficients (never on the intercept).

As in scikit-learn's ``SGDRegressor``, every penalty is the elastic net

    R(w) = alpha * ((1 - l1_ratio) / 2 * ||w||_2^2 + l1_ratio * ||w||_1)

with ``l1_ratio`` forced to 0 for ``'l2'``, to 1 for ``'l1'``, and ``alpha`` to
0 for ``None``. The kernels see it as the pair of strengths
``(l1_strength, l2_strength) = (alpha * l1_ratio, alpha * (1 - l1_ratio))``.
The L2 part enters the gradient; the L1 part is applied by its proximal step
(soft thresholding) after each update's step, ``w <- prox(w - eta * step)``
with the threshold ``eta * l1_strength * D_j`` (``D`` the diagonal of the
step's metric, see ``_kernels``), so that coefficients come out exactly zero
where the lasso solution has zeros, and a fixed point of the update is an
optimum of the penalised objective.
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
def penalty_derivative(w, l2_strength):
    """Derivative of the penalty's smooth (L2) part in one coefficient ``w``."""
    return l2_strength * w


def penalty_gradient(coef, l2_strength):
    """Vectorised :func:`penalty_derivative` over ``coef``, an array of any namespace (vectorised path)."""
    return l2_strength * coef


@njit(cache=True, inline="always")
def soft_threshold(w, threshold):
    """The proximal step of ``threshold * |w|`` (``threshold >= 0``): ``sign(w) * max(|w| - threshold, 0)``.

    For floats (the kernels), without branches: ``w`` minus ``w`` clipped to
    ``[-threshold, threshold]``.
    """
    return w - min(max(w, -threshold), threshold)


def soft_thresholds(coef, threshold):
    """:func:`soft_threshold` over arrays of any namespace (vectorised path), with the same arithmetic."""
    xp, _ = get_namespace(coef)
    return coef - xp.minimum(xp.maximum(coef, -threshold), threshold)
