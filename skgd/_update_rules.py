"""Update rules: how a gradient becomes a step, with the learning rate kept outside.

An update rule maps the gradient ``g`` of one coordinate to the direction
``u`` the coordinate moves in, ``theta <- theta - eta * u``, through a state
it carries from update to update (``m``: first moments or velocity, ``s``:
second moments, ``k``: the rule's own update count, from 1)::

    'plain'     u = g
    'momentum'  m = mu * m + g;                 u = m
    'nesterov'  m = mu * m + g;                 u = g + mu * m
    'adagrad'   s = s + g**2;                   u = g / (sqrt(s) + eps)
    'rmsprop'   s = b2 * s + (1 - b2) * g**2;   u = g / (sqrt(s) + eps)
    'adam'      m = b1 * m + (1 - b1) * g;  s = b2 * s + (1 - b2) * g**2;
                u = (m / (1 - b1**k)) / (sqrt(s / (1 - b2**k)) + eps)

with ``mu`` the ``momentum``, ``b1``, ``b2`` the ``beta_1``, ``beta_2`` and
``eps`` the ``stability_epsilon`` of the estimators. Momentum follows the
convention of ``torch.optim.SGD``: the velocity accumulates gradients and the
learning rate multiplies it, so with a constant ``eta`` it is Polyak's heavy
ball, ``theta_{k+1} = theta_k - eta * g_k + mu * (theta_k - theta_{k-1})``.
``'nesterov'`` is Sutskever et al.'s accelerated gradient written, as in
torch, for the look-ahead point ``theta + mu * v`` (``v`` Sutskever's
velocity): the gradient is taken at the look-ahead point, once per update, and
that point is what the model holds. AdaGrad is Duchi et al.'s (diagonal),
RMSProp Hinton's (with ``b2`` as its decay), Adam Kingma and Ba's.

:func:`rule_update` is one pure function over values: the compiled kernels call
it per coordinate on floats, the vectorised path on whole arrays of any Array
API namespace.
"""

import math
import numpy as np
from numba import njit
from numba.extending import overload
from sklearn.utils._array_api import get_namespace

from ._codes import coded, coded_classes, static_code

PLAIN = 0
MOMENTUM = 1
NESTEROV = 2
ADAGRAD = 3
RMSPROP = 4
ADAM = 5

RULE_CODES = {
    "plain": PLAIN,
    "momentum": MOMENTUM,
    "nesterov": NESTEROV,
    "adagrad": ADAGRAD,
    "rmsprop": RMSPROP,
    "adam": ADAM,
}
# Rules with a velocity, which 'auto' restarts when the objective rises.
MOMENTUM_RULES = {"momentum", "nesterov"}

# Rows of a rule's state array (see ``new_state``).
FIRST = 0
SECOND = 1
AVERAGE = 2


def new_state(n_coordinates):
    """State of a rule over ``n_coordinates``, all zero: rows ``FIRST``, ``SECOND``, ``AVERAGE``.

    ``FIRST`` holds the velocity or first moments ``m``, ``SECOND`` the
    second moments ``s``; ``AVERAGE`` the averaged coordinates of averaged
    SGD (see ``_kernels``).
    """
    return np.zeros((3, n_coordinates))


@njit(cache=True, inline="always")
def adam_corrections(decay_1, decay_2):
    """Adam's bias corrections ``(1 / (1 - b1**k), 1 / sqrt(1 - b2**k))`` from ``b1**k``, ``b2**k``."""
    return 1.0 / (1.0 - decay_1), 1.0 / np.sqrt(1.0 - decay_2)


def rule_update(rule, m, s, g, corrections):
    """One update of one coordinate (or, in NumPy, of an array of them).

    In Python it runs the rule's function from :data:`RULE_STEPS`; in
    compiled code it is that function itself when the rule is known from
    its type (a tuple of :func:`rule_tuple`, or one whose code is a
    constant), so that a kernel compiles only the rule it runs.

    Parameters
    ----------
    rule : tuple ``(code, momentum, beta_1, beta_2, stability_epsilon)``
    m, s : float or ndarray
        The coordinate's state before the update.
    g : float or ndarray
        Its gradient.
    corrections : tuple of float
        Adam's bias corrections (see :func:`adam_corrections`); unused by
        the other rules.

    Returns
    -------
    u, m, s
        The direction (the step is ``eta * u``) and the new state.
    """
    return RULE_STEPS[rule[0]].py_func(rule, m, s, g, corrections)


# The name the NumPy reference and the tests use for the Python version.
rule_update.py_func = rule_update


def _sqrt(x):
    """The square root of a float, or of an array of any Array API namespace; ``np.sqrt`` compiled."""
    if isinstance(x, float):
        return math.sqrt(x)
    return get_namespace(x)[0].sqrt(x)


@overload(_sqrt, inline="always")
def _compiled_sqrt(x):
    return lambda x: np.sqrt(x)


@njit(inline="always")
def _plain(rule, m, s, g, corrections):
    return g, m, s


@njit(inline="always")
def _momentum(rule, m, s, g, corrections):
    m = rule[1] * m + g
    return m, m, s


@njit(inline="always")
def _nesterov(rule, m, s, g, corrections):
    m = rule[1] * m + g
    return g + rule[1] * m, m, s


@njit(inline="always")
def _adagrad(rule, m, s, g, corrections):
    s = s + g * g
    return g / (_sqrt(s) + rule[4]), m, s


@njit(inline="always")
def _rmsprop(rule, m, s, g, corrections):
    s = rule[3] * s + (1.0 - rule[3]) * (g * g)
    return g / (_sqrt(s) + rule[4]), m, s


@njit(inline="always")
def _adam(rule, m, s, g, corrections):
    m = rule[2] * m + (1.0 - rule[2]) * g
    s = rule[3] * s + (1.0 - rule[3]) * (g * g)
    # m_hat / (sqrt(s_hat) + eps), with one division and one root
    return (m * corrections[0]) / (_sqrt(s) * corrections[1] + rule[4]), m, s


def rule_scale(rule, s, corrections):
    """The rule's own per-coordinate scale of the gradient, at second moment ``s`` after the update.

    1 for the plain rule, momentum and Nesterov; ``1 / (sqrt(s) + eps)`` for
    AdaGrad and RMSProp, and Adam's bias-corrected ``1 / (sqrt(s) * c_2 +
    eps)``. The L1 penalty's proximal step is scaled by it (see ``_kernels``),
    so that a fixed point of the update is an optimum. Works on floats and
    on arrays of any namespace; compiled, on floats, as :func:`rule_update`
    is: only the rule that the rule's type fixes.
    """
    return RULE_SCALES[rule[0]].py_func(rule, s, corrections)


# The name the NumPy reference uses for the Python version.
rule_scale.py_func = rule_scale


@njit(inline="always")
def _unit_scale(rule, s, corrections):
    return 1.0


@njit(inline="always")
def _root_scale(rule, s, corrections):
    return 1.0 / (_sqrt(s) + rule[4])


@njit(inline="always")
def _adam_scale(rule, s, corrections):
    return 1.0 / (_sqrt(s) * corrections[1] + rule[4])


# Each rule's scale, indexed by its code.
RULE_SCALES = (_unit_scale, _unit_scale, _unit_scale, _root_scale, _root_scale, _adam_scale)


def _any_scale(rule, s, corrections):
    if rule[0] == ADAM:
        return _adam_scale(rule, s, corrections)
    if rule[0] == ADAGRAD or rule[0] == RMSPROP:
        return _root_scale(rule, s, corrections)
    return 1.0


@overload(rule_scale, inline="always")
def _compiled_rule_scale(rule, s, corrections):
    code = static_code(rule)
    return _any_scale if code is None else RULE_SCALES[code].py_func


# Each rule's update, indexed by its code.
RULE_STEPS = (_plain, _momentum, _nesterov, _adagrad, _rmsprop, _adam)


def _any_rule(rule, m, s, g, corrections):
    """:func:`rule_update` for a rule known only at run time."""
    code = rule[0]
    if code == MOMENTUM:
        return _momentum(rule, m, s, g, corrections)
    if code == NESTEROV:
        return _nesterov(rule, m, s, g, corrections)
    if code == ADAGRAD:
        return _adagrad(rule, m, s, g, corrections)
    if code == RMSPROP:
        return _rmsprop(rule, m, s, g, corrections)
    if code == ADAM:
        return _adam(rule, m, s, g, corrections)
    return _plain(rule, m, s, g, corrections)


@overload(rule_update, inline="always")
def _compiled_rule_update(rule, m, s, g, corrections):
    """In compiled code, the rule's own update when its type tells which; else all six behind a branch."""
    code = static_code(rule)
    return _any_rule if code is None else RULE_STEPS[code].py_func


# A rule tuple of its own type for each rule: the kernels are compiled once
# per rule, each with only that rule's arithmetic.
_RULE_TUPLES = coded_classes(
    ("PlainRule", "MomentumRule", "NesterovRule", "AdagradRule", "RmspropRule", "AdamRule"),
    ("code", "momentum", "beta_1", "beta_2", "stability_epsilon"), __name__,
)
PlainRule, MomentumRule, NesterovRule, AdagradRule, RmspropRule, AdamRule = _RULE_TUPLES


def rule_tuple(code, momentum, beta_1, beta_2, stability_epsilon):
    """The rule ``(code, momentum, beta_1, beta_2, stability_epsilon)`` as the kernels take it.

    A tuple of the rule's own type (see ``_codes``), so that each kernel is
    compiled for one rule only; it compares equal to the plain tuple.
    """
    return coded(_RULE_TUPLES, (code, float(momentum), float(beta_1), float(beta_2), float(stability_epsilon)))
