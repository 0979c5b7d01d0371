"""The epoch and the measuring passes as vectorised array code, in any Array API namespace.

One batch at a time, the arithmetic of the compiled kernels (see ``_kernels``
for the update it makes) written once against the namespace ``xp`` of the
arrays it is given (``sklearn.utils._array_api.get_namespace``): NumPy is one
namespace among others. It serves two purposes:

- it is the reference the compiled kernels are tested against, with NumPy
  arrays (``_kernels.minibatch_epoch_reference`` is :func:`minibatch_epoch`);
- it is the engine's path for the arrays of other namespaces (PyTorch, CuPy,
  ``array_api_strict``) under scikit-learn's ``array_api_dispatch``, where it
  runs on the arrays' device: ``X``, ``y``, the weights, the coefficients, the
  rule's state and the preconditioner all live there, in the dtype of ``X``.

Rows are given as ``rows``, an integer array on the data's device, or None for
all rows in memory order (slices, which copy nothing). The intercept is a
float for NumPy arrays, a 0-d array of the namespace otherwise, so that no
step waits for the device; sums come back the same way.
"""

from sklearn.utils._array_api import _convert_to_numpy, get_namespace

from ._losses import loss_derivatives, loss_values
from ._penalties import penalty_gradient, soft_thresholds
from ._schedules import AUTO, learning_rate
from ._update_rules import AVERAGE, FIRST, PLAIN, SECOND, adam_corrections, rule_scale, rule_update


def minibatch_epoch(
    X, y, sample_weight, order, batch_size, coef, intercept, fit_intercept,
    loss, penalty, schedule, preconditioner, t, rule, rule_state, rule_count, average_from, path=None,
):
    """:func:`_kernels.minibatch_epoch`, one vectorised step per batch (same arguments and results).

    ``order`` may be None for all rows in memory order. ``path`` is a NumPy
    array whatever the namespace of the data.
    """
    n_rows = X.shape[0] if order is None else order.shape[0]
    loss_sum = 0.0
    for start in range(0, n_rows, batch_size):
        stop = min(start + batch_size, n_rows)
        rows = slice(start, stop) if order is None else order[start:stop]
        size = stop - start
        grad, grad_intercept, batch_loss = gradient_sums(X, y, sample_weight, rows, coef, intercept, loss,
                                                         preconditioner[0])
        loss_sum += batch_loss
        eta_share = size / batch_size if schedule[0] == AUTO and size < batch_size else 1.0
        intercept, t, rule_count = batch_step(
            grad, grad_intercept, size, coef, intercept, fit_intercept, penalty, schedule, preconditioner,
            t, rule, rule_state, rule_count, average_from, eta_share,
        )
        if path is not None:
            path[start // batch_size, :-1] = _to_numpy(coef)
            path[start // batch_size, -1] = float(intercept)
    return loss_sum, intercept, t, rule_count


def gradient_sums(X, y, sample_weight, rows, coef, intercept, loss, shift):
    """The sums ``sum s_i dloss_i (x_i - shift)``, ``sum s_i dloss_i`` and ``sum s_i loss_i`` over ``rows``.

    ``rows`` is a slice or an index array.
    """
    xp, _ = get_namespace(X)
    if isinstance(rows, slice):
        X_rows, y_rows, s_rows = X[rows, ...], y[rows], sample_weight[rows]
    else:
        X_rows, y_rows, s_rows = xp.take(X, rows, axis=0), xp.take(y, rows), xp.take(sample_weight, rows)
    loss_code, epsilon = loss
    p = X_rows @ coef + intercept
    loss_sum = xp.sum(s_rows * loss_values(loss_code, p, y_rows, epsilon))
    r = s_rows * loss_derivatives(loss_code, p, y_rows, epsilon)
    r_sum = xp.sum(r)
    # X.T @ r - shift * sum(r): the centred rows are never formed
    return r @ X_rows - r_sum * shift, r_sum, loss_sum


def batch_step(grad, grad_intercept, size, coef, intercept, fit_intercept, penalty, schedule, preconditioner,
               t, rule, rule_state, rule_count, average_from, eta_share=1.0):
    """One update of ``coef`` (in place) and of the rule's state from the gradient sums of ``size`` rows.

    Returns the new intercept, ``t`` and ``rule_count``. ``eta_share``
    scales the step (an ``'auto'`` batch shorter than ``batch_size``).
    """
    shift, scale_diag, scale_full, root_diag, root_full = preconditioner
    last = coef.shape[0]
    t += 1
    rule_count += 1
    eta = float(learning_rate.py_func(schedule, t)) * eta_share
    l1_strength, l2_strength = penalty
    grad = grad / size + penalty_gradient(coef, l2_strength)
    corrections = tuple(map(float, adam_corrections.py_func(rule[2] ** rule_count, rule[3] ** rule_count)))
    if rule[0] == PLAIN:
        step = scale_full @ grad if scale_full.shape[0] else scale_diag * grad
    else:
        root_t_grad = root_full.T @ grad if root_full.shape[0] else root_diag * grad
        u, rule_state[FIRST, :last], rule_state[SECOND, :last] = rule_update(
            rule, rule_state[FIRST, :last], rule_state[SECOND, :last], root_t_grad, corrections
        )
        step = root_full @ u if root_full.shape[0] else root_diag * u
    coef -= eta * step
    # The intercept follows the coefficients' actual change, L1's proximal
    # step (in the step's diagonal metric) included; the step's part is
    # taken from the step itself, which float32 on a device keeps exact.
    proximal_change = 0.0
    if l1_strength > 0.0:
        metric = proximal_metric(rule, preconditioner, rule_state[SECOND, :last], corrections)
        proximal = soft_thresholds(coef, (eta * l1_strength) * metric)
        proximal_change = shift @ (coef - proximal)
        coef[...] = proximal
    if fit_intercept:
        u_c, rule_state[FIRST, last], rule_state[SECOND, last] = rule_update(
            rule, rule_state[FIRST, last], rule_state[SECOND, last], grad_intercept / size, corrections
        )
        intercept = intercept + eta * (shift @ step - u_c) + proximal_change
    if average_from > 0 and t >= average_from:
        count = t - average_from + 1
        rule_state[AVERAGE, :last] += (coef - rule_state[AVERAGE, :last]) / count
        rule_state[AVERAGE, last] += (intercept - rule_state[AVERAGE, last]) / count
    return intercept, t, rule_count


def proximal_metric(rule, preconditioner, second, corrections):
    """The diagonal ``D`` of the step's metric, which scales L1's threshold ``eta * l1_strength * D``.

    ``P_jj`` for the plain rule, ``W_jj**2`` times the rule's own scale at
    the second moments ``second`` otherwise (see ``_kernels``); arrays of
    any namespace.
    """
    _, scale_diag, _, root_diag, _ = preconditioner
    if rule[0] == PLAIN:
        return scale_diag
    return root_diag**2 * rule_scale.py_func(rule, second, corrections)


def loss_sums(X, y, sample_weight, rows, coefs, intercepts, loss):
    """Sums of the weighted losses over ``rows`` (None for all) of the models ``coefs[m]``, ``intercepts[m]``."""
    xp, _ = get_namespace(X)
    if rows is not None:
        X, y, sample_weight = xp.take(X, rows, axis=0), xp.take(y, rows), xp.take(sample_weight, rows)
    p = X @ coefs.T + intercepts
    return sample_weight @ loss_values(loss[0], p, y[:, None], loss[1])


def _to_numpy(array):
    """``array`` as a NumPy array, from any namespace and device."""
    return _convert_to_numpy(array, get_namespace(array)[0])
