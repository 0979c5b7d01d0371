"""One epoch of mini-batch gradient descent: the compiled kernel and its reference.

Batch gradient descent is a mini-batch of the whole set, SGD a mini-batch of
one row, so this single epoch serves all three solvers. For each batch ``B`` of
rows taken in ``order``, with normalised sample weights ``s`` (mean 1)::

    g_w = sum_B s_i * dloss(p_i, y_i) * (x_i - shift) / |B| + grad R(w)
    g_b = sum_B s_i * dloss(p_i, y_i) / |B|
    step = P @ g_w                      (P: ``scale_full``, else ``diag(scale_diag)``)
    w <- w - eta_t * step
    b <- b - eta_t * g_b + eta_t * shift @ step     (if ``fit_intercept``)

With ``shift = 0`` and ``P = I`` this is the textbook update
``theta <- theta - eta * grad J(theta)``. A non-trivial ``(shift, P)`` is
gradient descent in centred, preconditioned coordinates, mapped back to the
raw coefficients (see ``_preconditioning``); the objective is unchanged.

``minibatch_epoch`` is compiled with numba; ``minibatch_epoch_reference`` is the
same arithmetic in NumPy, one vectorised step per batch, which the tests hold the
kernel to.
"""

import numpy as np
from numba import njit

from ._losses import loss_derivative, loss_derivatives, loss_value, loss_values
from ._penalties import penalty_derivative, penalty_gradient
from ._schedules import learning_rate


@njit(cache=True, fastmath={"reassoc", "contract"})
def minibatch_epoch(
    X, y, sample_weight, order, batch_size, coef, intercept, fit_intercept,
    loss, penalty, schedule, shift, scale_diag, scale_full, t,
):
    """Run one epoch in place on ``coef``.

    Parameters
    ----------
    X, y, sample_weight : ndarray
        Training rows, targets and weights normalised to mean 1.
    order : ndarray of int64
        The order in which rows are visited.
    batch_size : int
        Rows per update.
    coef : ndarray of float64
        Coefficients, updated in place.
    intercept : float
        Intercept at the start of the epoch.
    fit_intercept : bool
        Whether the intercept is updated.
    loss : tuple ``(code, epsilon)``
    penalty : tuple ``(l1_strength, l2_strength)``
    schedule : tuple ``(code, eta0, power_t, alpha, t0)``
    shift, scale_diag, scale_full : ndarray
        The preconditioner; ``scale_full`` of shape ``(0, 0)`` means diagonal.
    t : int
        Updates made before this epoch.

    Returns
    -------
    loss_sum : float
        Sum of weighted losses, each at the coefficients before its update.
    intercept : float
        Intercept after the epoch.
    t : int
        Updates made after the epoch.
    """
    n_samples, n_features = X.shape
    loss_code, epsilon = loss
    l1_strength, l2_strength = penalty
    full = scale_full.shape[0] > 0
    grad = np.zeros(n_features)
    step = np.empty(n_features)
    loss_sum = 0.0
    for start in range(0, n_samples, batch_size):
        stop = min(start + batch_size, n_samples)
        size = stop - start
        grad_intercept = 0.0
        for k in range(start, stop):
            i = order[k]
            p = intercept
            for j in range(n_features):
                p += X[i, j] * coef[j]
            loss_sum += sample_weight[i] * loss_value(loss_code, p, y[i], epsilon)
            r = sample_weight[i] * loss_derivative(loss_code, p, y[i], epsilon)
            grad_intercept += r
            if size > 1 or full:
                if r != 0.0:
                    for j in range(n_features):
                        grad[j] += r * (X[i, j] - shift[j])
        t += 1
        eta = learning_rate(schedule, t)
        shift_step = 0.0
        if full:
            for j in range(n_features):
                grad[j] = grad[j] / size + penalty_derivative(coef[j], l1_strength, l2_strength)
            for j in range(n_features):
                acc = 0.0
                for m in range(n_features):
                    acc += scale_full[j, m] * grad[m]
                step[j] = acc
            for j in range(n_features):
                coef[j] -= eta * step[j]
                shift_step += shift[j] * step[j]
                grad[j] = 0.0
        elif size > 1:
            for j in range(n_features):
                g = grad[j] / size + penalty_derivative(coef[j], l1_strength, l2_strength)
                s = scale_diag[j] * g
                coef[j] -= eta * s
                shift_step += shift[j] * s
                grad[j] = 0.0
        else:
            # One row: the gradient is r * (x - shift), no buffer needed.
            i = order[start]
            r = grad_intercept
            for j in range(n_features):
                g = r * (X[i, j] - shift[j]) + penalty_derivative(coef[j], l1_strength, l2_strength)
                s = scale_diag[j] * g
                coef[j] -= eta * s
                shift_step += shift[j] * s
        if fit_intercept:
            intercept += eta * (shift_step - grad_intercept / size)
    return loss_sum, intercept, t


@njit(cache=True)
def weighted_loss_sum(X, y, sample_weight, coef, intercept, loss):
    """Sum of the weighted losses of the linear model over the rows of ``X``."""
    loss_code, epsilon = loss
    total = 0.0
    for i in range(X.shape[0]):
        p = intercept
        for j in range(X.shape[1]):
            p += X[i, j] * coef[j]
        total += sample_weight[i] * loss_value(loss_code, p, y[i], epsilon)
    return total


def minibatch_epoch_reference(
    X, y, sample_weight, order, batch_size, coef, intercept, fit_intercept,
    loss, penalty, schedule, shift, scale_diag, scale_full, t,
):
    """NumPy version of :func:`minibatch_epoch` (same arguments and results)."""
    loss_code, epsilon = loss
    loss_sum = 0.0
    for start in range(0, X.shape[0], batch_size):
        rows = order[start:start + batch_size]
        X_batch, y_batch, s_batch = X[rows], y[rows], sample_weight[rows]
        p = X_batch @ coef + intercept
        loss_sum += s_batch @ loss_values(loss_code, p, y_batch, epsilon)
        r = s_batch * loss_derivatives(loss_code, p, y_batch, epsilon)
        grad = (X_batch - shift).T @ r / len(rows) + penalty_gradient(coef, *penalty)
        t += 1
        eta = learning_rate.py_func(schedule, t)
        step = scale_full @ grad if scale_full.shape[0] else scale_diag * grad
        coef -= eta * step
        if fit_intercept:
            intercept += eta * (shift @ step - r.sum() / len(rows))
    return loss_sum, intercept, t
