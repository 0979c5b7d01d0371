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
it per coordinate on floats, the NumPy reference on whole arrays.
"""

import numpy as np
from numba import njit

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


@njit(cache=True, inline="always")
def rule_update(rule, m, s, g, corrections):
    """One update of one coordinate (or, in NumPy, of an array of them).

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
    code, momentum, beta_1, beta_2, eps = rule
    if code == MOMENTUM:
        m = momentum * m + g
        return m, m, s
    if code == NESTEROV:
        m = momentum * m + g
        return g + momentum * m, m, s
    if code == ADAGRAD:
        s = s + g * g
        return g / (np.sqrt(s) + eps), m, s
    if code == RMSPROP:
        s = beta_2 * s + (1.0 - beta_2) * (g * g)
        return g / (np.sqrt(s) + eps), m, s
    if code == ADAM:
        m = beta_1 * m + (1.0 - beta_1) * g
        s = beta_2 * s + (1.0 - beta_2) * (g * g)
        # m_hat / (sqrt(s_hat) + eps), with one division and one root
        return (m * corrections[0]) / (np.sqrt(s) * corrections[1] + eps), m, s
    return g, m, s
