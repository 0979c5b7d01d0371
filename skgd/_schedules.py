"""Learning-rate schedules: the step size as a function of the update count.

``t`` counts updates from 1 (the first update uses ``t = 1``), as in
scikit-learn's ``SGDRegressor``:

- ``'constant'``: ``eta = eta0``;
- ``'optimal'``: ``eta = 1 / (alpha * (t0 + t - 1))`` with Léon Bottou's
  heuristic ``t0``, as in ``SGDRegressor``;
- ``'invscaling'``: ``eta = eta0 / t ** power_t``;
- ``'adaptive'`` and ``'auto'``: constant within an epoch; the solver loop
  divides the step by 5 when the objective stalls (see ``_engine``).
  ``'auto'``'s step is sized for a batch of ``batch_size`` rows: the kernels
  scale the step of a shorter batch (an epoch's last) by its share of them.

Inside the kernels a schedule is the tuple ``(code, eta0, power_t, alpha, t0)``.
"""

import math

from numba import njit

from ._losses import loss_derivative

CONSTANT = 0
OPTIMAL = 1
INVSCALING = 2
AUTO = 3

SCHEDULE_CODES = {
    "constant": CONSTANT,
    "optimal": OPTIMAL,
    "invscaling": INVSCALING,
    "adaptive": CONSTANT,
    "auto": AUTO,
}

# Schedules whose step the solver loop divides by this factor on a stall.
ADAPTIVE = {"adaptive", "auto"}
ADAPTIVE_DIVISOR = 5.0


def optimal_t0(alpha, loss_code, epsilon):
    """Offset ``t0`` of the ``'optimal'`` schedule, as ``SGDRegressor`` computes it."""
    typical_weight = math.sqrt(1.0 / math.sqrt(alpha))
    eta = typical_weight / max(1.0, loss_derivative(loss_code, -typical_weight, 1.0, epsilon))
    return 1.0 / (eta * alpha)


@njit(cache=True, inline="always")
def learning_rate(schedule, t):
    """Step size of update number ``t`` (from 1) under ``schedule``."""
    code, eta0, power_t, alpha, t0 = schedule
    if code == OPTIMAL:
        # (t - 1) first: t0 below the rounding of t (a huge alpha) must not vanish
        return 1.0 / (alpha * ((t - 1.0) + t0))
    if code == INVSCALING:
        return eta0 / t**power_t
    return eta0


@njit(cache=True, inline="always")
def batch_learning_rate(schedule, t, size, batch_size):
    """:func:`learning_rate` for an update from ``size`` rows: ``'auto'`` sizes its step for ``batch_size`` rows."""
    eta = learning_rate(schedule, t)
    if schedule[0] == AUTO and size < batch_size:
        eta *= size / batch_size
    return eta
