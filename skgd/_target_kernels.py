"""Kernels for several targets sharing ``X``: each row is read once for all of them.

A multi-output fit is ``k`` independent problems on the same rows, one per
column of ``Y``. These kernels do for models ``a = 0..k-1``, model ``a``
fitted to column ``targets[a]`` of ``Y``, what the single-target kernels of
``_kernels`` do for one: each row is read once, then each model's
prediction, residual and gradient row follow from it. Each model has its own
step (``etas``), update rule state and averaging start; the update count
``t`` and the rule's count are shared (the targets train in step). As the
one-target kernels, they take the loss and the rule as tuples of their own
type (``_losses.loss_tuple``, ``_update_rules.rule_tuple``; see ``_codes``),
so that each is compiled for one loss and one rule; plain tuples compile
every loss's branch.

Their reference is the single-target arithmetic itself: a model's updates
are those of :func:`~skgd._kernels.minibatch_epoch_reference` on its column,
to rounding (the tests hold them to it). The sums over several rows go
:data:`GROUP` rows at a time (see :func:`_group_sums`), vectorised across
features: the group's rows stay in cache while every model reads them, and
each pass over the features serves two to four models. This is a register
tile of the two products ``X @ coefs.T`` and ``X.T @ residuals``: at these
shapes (a few models) it is about twice as fast as BLAS on one thread (the
sums of 8 models over 200,000 x 50 rows: 10 ms, against 21), and its sums
do not depend on the thread count.
"""

from collections import namedtuple

import numpy as np
from numba import njit

from ._kernels import (
    BLOCK_ROWS, ERROR_MODEL, FASTMATH, _apply_step, _average, _dot, _intercept_direction, _parallel, _row_step,
    _row_terms,
)
from ._parallel import run_over_blocks
from ._prefetch import PREFETCH_DISTANCE, prefetch_row, prefetch_span
from ._schedules import batch_learning_rate
from ._sparse import _diagonal_plain_step
from ._update_rules import AVERAGE, FIRST, PLAIN, SECOND, adam_corrections

# Rows summed together (their predictions and gradient terms in registers).
GROUP = 4


@njit(cache=True, fastmath=FASTMATH, error_model=ERROR_MODEL)
def targets_minibatch_epoch(
    X, Y, sample_weight, order, batch_size, coefs, intercepts, targets, fit_intercept,
    loss, penalty, schedule, etas, preconditioner, t, rule, rule_states, rule_count, average_froms, paths,
):
    """One epoch of every model, in place on ``coefs``, ``intercepts`` and ``rule_states``.

    Takes what :func:`~skgd._kernels.minibatch_epoch` does, with one row
    per model in ``coefs`` (n_models, n_features), ``intercepts``,
    ``etas`` (each model's ``eta0`` in ``schedule``), ``rule_states``
    (n_models, 3, n_features + 1) and ``average_froms``; ``targets`` gives
    each model's column of ``Y``. ``paths`` (n_updates, n_models,
    n_features + 1) receives the models after each update, or has no rows.

    Returns
    -------
    loss_sums : ndarray of shape (n_models,)
        Each model's sum of weighted losses, each at the model before its update.
    t, rule_count : int
        Updates made after the epoch.
    """
    n_rows = order.shape[0]
    n_models, n_features = coefs.shape
    shift, _, scale_full, _, _ = preconditioner
    _, _, beta_1, beta_2, _ = rule
    full = scale_full.shape[0] > 0
    grads = np.zeros((n_models, n_features))
    grad_intercepts = np.zeros(n_models)
    step = np.empty(n_features)
    loss_sums = np.zeros(n_models)
    predictions = np.empty((GROUP, n_models))  # batches of several rows: see _group_sums
    eta = 0.0
    for start in range(0, n_rows, batch_size):
        stop = min(start + batch_size, n_rows)
        size = stop - start
        # One row: the gradient is r * (x - shift), no buffer needed.
        one_row = size == 1 and not full
        if one_row:
            if start + PREFETCH_DISTANCE < n_rows:
                ahead = order[start + PREFETCH_DISTANCE]
                prefetch_row(X, ahead)
                prefetch_row(Y, ahead)
            i = order[start]
            _row_residuals(X, i, Y, sample_weight, coefs, intercepts, targets, loss, predictions, grad_intercepts,
                           loss_sums)
        else:
            _group_sums(X, Y, sample_weight, order, start, stop, coefs, intercepts, targets, loss, predictions,
                        grads, grad_intercepts, loss_sums)
            for a in range(n_models):
                for j in range(n_features):
                    grads[a, j] -= grad_intercepts[a] * shift[j]
        t += 1
        rule_count += 1
        corrections = adam_corrections(beta_1**rule_count, beta_2**rule_count)
        i = order[start]
        for a in range(n_models):
            if a == 0 or etas[a] != etas[a - 1]:  # the schedule's power once for equal steps
                eta = batch_learning_rate((schedule[0], etas[a], schedule[2], schedule[3], schedule[4]), t,
                                          size, batch_size)
            coef, state, r = coefs[a], rule_states[a], grad_intercepts[a]
            if not one_row:
                intercepts[a] = _apply_step(
                    coef, intercepts[a], grads[a], r, size, fit_intercept, penalty, eta,
                    preconditioner, rule, state, corrections, step,
                )
            else:
                shift_change = _row_step(rule, X, i, r, coef, penalty, eta, preconditioner, state[FIRST],
                                         state[SECOND], corrections)
                if fit_intercept:
                    intercepts[a] += shift_change - eta * _intercept_direction(rule, state, r, corrections)
            grad_intercepts[a] = 0.0
            if average_froms[a] > 0 and t >= average_froms[a]:
                _average(coef, intercepts[a], state[AVERAGE], t - average_froms[a] + 1)
            if paths.shape[0] > 0:
                update = start // batch_size
                for j in range(n_features):
                    paths[update, a, j] = coef[j]
                paths[update, a, n_features] = intercepts[a]
    return loss_sums, t, rule_count


@njit(cache=True, fastmath=FASTMATH, error_model=ERROR_MODEL)
def sparse_targets_minibatch_epoch(
    csr, Y, sample_weight, order, batch_size, coefs, intercepts, targets, fit_intercept,
    loss, penalty, schedule, etas, preconditioner, t, rule, rule_states, rule_count, average_froms, paths,
):
    """:func:`targets_minibatch_epoch` over CSR rows ``csr = (data, indices, indptr)`` (see ``_sparse``).

    Each row's non-zeros are read once for all models. Every update sums
    the batch's gradient over the non-zeros, then costs O(n_features) per
    model: the plain rule with a diagonal ``P`` in one fused pass (as
    ``_sparse``'s), the others through ``_kernels``' step. (The O(nnz)
    lazy steps of a one-target fit keep one weight scale and one L1
    threshold per step size: they are not used here.)
    """
    data, indices, indptr = csr
    n_rows = order.shape[0]
    n_models, n_features = coefs.shape
    shift, scale_diag, scale_full, _, _ = preconditioner
    code, _, beta_1, beta_2, _ = rule
    diagonal_plain = scale_full.shape[0] == 0 and code == PLAIN
    grads = np.zeros((n_models, n_features))
    grad_intercepts = np.zeros(n_models)
    step = np.empty(n_features)
    loss_sums = np.zeros(n_models)
    for start in range(0, n_rows, batch_size):
        stop = min(start + batch_size, n_rows)
        size = stop - start
        for k in range(start, stop):
            if k + PREFETCH_DISTANCE < n_rows:
                ahead = order[k + PREFETCH_DISTANCE]
                prefetch_span(data, indptr[ahead], indptr[ahead + 1])
                prefetch_span(indices, indptr[ahead], indptr[ahead + 1])
                prefetch_row(Y, ahead)
            _sparse_row_sums(csr, order[k], Y, sample_weight, coefs, intercepts, targets, loss, grads,
                             grad_intercepts, loss_sums)
        t += 1
        rule_count += 1
        corrections = adam_corrections(beta_1**rule_count, beta_2**rule_count)
        for a in range(n_models):
            eta = batch_learning_rate((schedule[0], etas[a], schedule[2], schedule[3], schedule[4]), t, size,
                                      batch_size)
            coef, state = coefs[a], rule_states[a]
            if diagonal_plain:
                intercepts[a] = _diagonal_plain_step(coef, intercepts[a], grads[a], grad_intercepts[a], size,
                                                     fit_intercept, penalty, eta, shift, scale_diag)
            else:
                for j in range(n_features):
                    grads[a, j] -= grad_intercepts[a] * shift[j]
                intercepts[a] = _apply_step(coef, intercepts[a], grads[a], grad_intercepts[a], size, fit_intercept,
                                            penalty, eta, preconditioner, rule, state, corrections, step)
            grad_intercepts[a] = 0.0
            _after_update(a, t, start // batch_size, coef, intercepts[a], state, average_froms, paths)
    return loss_sums, t, rule_count


@njit(cache=True)
def _after_update(a, t, update, coef, intercept, rule_state, average_froms, paths):
    """Model ``a`` after update ``t``: averaged once its averaging has begun, and recorded in ``paths``.

    A call, not inlined: inlined into :func:`sparse_targets_minibatch_epoch`,
    numba 0.68 compiled the running average wrong (tested).
    """
    if average_froms[a] > 0 and t >= average_froms[a]:
        _average(coef, intercept, rule_state[AVERAGE], t - average_froms[a] + 1)
    if paths.shape[0] > 0:
        n_features = coef.shape[0]
        for j in range(n_features):
            paths[update, a, j] = coef[j]
        paths[update, a, n_features] = intercept


@njit(cache=True, nogil=True, fastmath=FASTMATH, inline="always")
def _sparse_row_sums(csr, i, Y, sample_weight, coefs, intercepts, targets, loss, grads, grad_intercepts, loss_sums):
    """Add CSR row ``i``'s terms for each model: ``s_i dloss_i x_i`` to ``grads[a]`` (its non-zeros), and the rest."""
    data, indices, indptr = csr
    for a in range(coefs.shape[0]):
        p = intercepts[a]
        for n in range(indptr[i], indptr[i + 1]):
            p += data[n] * coefs[a, indices[n]]
        r, row_loss = _row_terms(loss, p, Y[i, targets[a]], sample_weight[i])
        loss_sums[a] += row_loss
        grad_intercepts[a] += r
        if r != 0.0:
            for n in range(indptr[i], indptr[i + 1]):
                grads[a, indices[n]] += r * data[n]


@njit(cache=True, nogil=True, fastmath=FASTMATH)
def sparse_targets_batch_sums(csr, Y, sample_weight, rows, coefs, intercepts, targets, loss, shift):
    """The sums of :func:`targets_block_sums` over all CSR ``rows``, as one block: (1, n_models, n_features + 2)."""
    n_models, n_features = coefs.shape
    grads = np.zeros((n_models, n_features))
    grad_intercepts, loss_sums = np.zeros(n_models), np.zeros(n_models)
    for k in range(rows.shape[0]):
        _sparse_row_sums(csr, rows[k], Y, sample_weight, coefs, intercepts, targets, loss, grads, grad_intercepts,
                         loss_sums)
    sums = np.empty((1, n_models, n_features + 2))
    for a in range(n_models):
        for j in range(n_features):
            sums[0, a, j] = grads[a, j] - grad_intercepts[a] * shift[j]
        sums[0, a, n_features] = grad_intercepts[a]
        sums[0, a, n_features + 1] = loss_sums[a]
    return sums


@njit(cache=True, nogil=True, fastmath=FASTMATH)
def sparse_targets_loss_sums(csr, Y, sample_weight, rows, coefs, intercepts, targets, loss):
    """Sums of the weighted losses over CSR ``rows`` of models ``coefs``, model ``a`` on column ``targets[a]``."""
    data, indices, indptr = csr
    sums = np.zeros(coefs.shape[0])
    for k in range(rows.shape[0]):
        i = rows[k]
        for a in range(coefs.shape[0]):
            p = intercepts[a]
            for n in range(indptr[i], indptr[i + 1]):
                p += data[n] * coefs[a, indices[n]]
            sums[a] += _row_terms(loss, p, Y[i, targets[a]], sample_weight[i])[1]
    return sums


def targets_batch_sums(X, Y, sample_weight, rows, coefs, intercepts, targets, loss, shift):
    """The per-block sums of :func:`targets_block_sums`, shape (n_blocks, n_models, n_features + 2), in one parallel pass."""
    n_blocks = -(-rows.shape[0] // BLOCK_ROWS)
    sums = np.empty((n_blocks, coefs.shape[0], X.shape[1] + 2))

    def sum_blocks(first, last):
        targets_block_sums(X, Y, sample_weight, rows, first, last, coefs, intercepts, targets, loss, shift, sums)

    run_over_blocks(sum_blocks, n_blocks, parallel=_parallel(rows, X))
    return sums


def targets_loss_sums(X, Y, sample_weight, rows, coefs, intercepts, targets, loss):
    """Sums of the weighted losses over ``rows`` of models ``coefs``, model ``a`` on column ``targets[a]``.

    As :func:`~skgd._kernels.loss_sums`, in one parallel pass.
    """
    n_blocks = -(-rows.shape[0] // BLOCK_ROWS)
    sums = np.empty((n_blocks, coefs.shape[0]))

    def sum_blocks(first, last):
        targets_block_loss_sums(X, Y, sample_weight, rows, first, last, coefs, intercepts, targets, loss, sums)

    run_over_blocks(sum_blocks, n_blocks, parallel=_parallel(rows, X))
    return sums.sum(axis=0)


@njit(cache=True, nogil=True, fastmath=FASTMATH)
def targets_block_loss_sums(X, Y, sample_weight, rows, first, last, coefs, intercepts, targets, loss, sums):
    """Row ``b`` of ``sums`` gets, for each model, ``sum s_i loss_i`` over block ``b`` of ``rows``."""
    n_rows, n_models = rows.shape[0], coefs.shape[0]
    predictions = np.empty((GROUP, n_models))
    derivative_sums = np.empty(n_models)  # scratch: the loss terms' other sums
    for block in range(first, last):
        out = sums[block]
        out[:] = 0.0
        stop = min((block + 1) * BLOCK_ROWS, n_rows)
        for start in range(block * BLOCK_ROWS, stop, GROUP):
            size = min(GROUP, stop - start)
            _group_predictions(X, rows, start, size, coefs, predictions)
            for q in range(size):
                i = rows[start + q]
                _residuals(loss, predictions, q, intercepts, Y, i, targets, sample_weight[i], derivative_sums, out)


@njit(cache=True, nogil=True, fastmath=FASTMATH)
def targets_block_sums(X, Y, sample_weight, rows, first, last, coefs, intercepts, targets, loss, shift, sums):
    """Gradient and loss sums of blocks ``first`` to ``last`` of ``rows``, for each model, into ``sums``.

    ``sums[b, a]`` gets what :func:`~skgd._kernels.block_sums` gives for
    model ``a`` alone: over block ``b``'s rows, ``sum s_i dloss_i (x_i -
    shift)``, then ``sum s_i dloss_i`` and ``sum s_i loss_i``. Each row is
    read once for all models (see :func:`_group_sums`).
    """
    n_rows, n_features, n_models = rows.shape[0], X.shape[1], coefs.shape[0]
    predictions = np.empty((GROUP, n_models))
    grads = np.empty((n_models, n_features))
    grad_intercepts, loss_sums = np.empty(n_models), np.empty(n_models)
    for block in range(first, last):
        grads[:] = 0.0
        grad_intercepts[:] = 0.0
        loss_sums[:] = 0.0
        _group_sums(X, Y, sample_weight, rows, block * BLOCK_ROWS, min((block + 1) * BLOCK_ROWS, n_rows), coefs,
                    intercepts, targets, loss, predictions, grads, grad_intercepts, loss_sums)
        out = sums[block]
        for a in range(n_models):
            for j in range(n_features):
                out[a, j] = grads[a, j] - grad_intercepts[a] * shift[j]
            out[a, n_features] = grad_intercepts[a]
            out[a, n_features + 1] = loss_sums[a]


@njit(cache=True, nogil=True, fastmath=FASTMATH, inline="always")
def _group_sums(X, Y, sample_weight, rows, start, stop, coefs, intercepts, targets, loss, predictions, grads,
                grad_intercepts, loss_sums):
    """Add the sums of rows ``rows[start:stop]`` for each model: ``grads += residuals.T @ X[rows]`` and the rest.

    Model ``a`` adds ``sum s_i dloss_i x_i`` to ``grads[a]``, ``sum s_i
    dloss_i`` to ``grad_intercepts[a]`` and ``sum s_i loss_i`` to
    ``loss_sums[a]``. The rows go :data:`GROUP` at a time: their
    predictions for every model (two models per pass over the features),
    their residuals, then their gradient terms (four models per pass).
    ``predictions`` (GROUP, n_models) is scratch; it holds the residuals
    once they are known.
    """
    for group in range(start, stop, GROUP):
        size = min(GROUP, stop - group)
        for q in range(PREFETCH_DISTANCE, PREFETCH_DISTANCE + GROUP):  # the rows of a group ahead
            if group + q < rows.shape[0]:
                ahead = rows[group + q]
                prefetch_row(X, ahead)
                prefetch_row(Y, ahead)
                prefetch_row(sample_weight, ahead)
        _group_predictions(X, rows, group, size, coefs, predictions)
        for q in range(size):
            i = rows[group + q]
            _residuals(loss, predictions, q, intercepts, Y, i, targets, sample_weight[i], grad_intercepts, loss_sums)
        predictions[size:] = 0.0  # rows past the end (a repeated row) add nothing
        _group_gradients(X, rows, group, size, predictions, grads)


@njit(cache=True, nogil=True, fastmath=FASTMATH, inline="always")
def _group_rows(rows, start, size):
    """The indices of the :data:`GROUP` rows from ``rows[start]``; past ``size``, the last row again."""
    last = start + size - 1
    return rows[start], rows[min(start + 1, last)], rows[min(start + 2, last)], rows[min(start + 3, last)]


@njit(cache=True, nogil=True, fastmath=FASTMATH, inline="always")
def _group_predictions(X, rows, start, size, coefs, predictions):
    """``predictions[q, a] = X[rows[start + q]] @ coefs[a]`` for the :data:`GROUP` rows from ``start``."""
    n_models = coefs.shape[0]
    i0, i1, i2, i3 = _group_rows(rows, start, size)
    for a in range(0, n_models, 2):
        b = min(a + 1, n_models - 1)  # an odd last model is computed twice
        c, e = coefs[a], coefs[b]
        p0 = p1 = p2 = p3 = q0 = q1 = q2 = q3 = 0.0
        for j in range(X.shape[1]):
            x0, x1, x2, x3 = X[i0, j], X[i1, j], X[i2, j], X[i3, j]
            p0 += x0 * c[j]
            p1 += x1 * c[j]
            p2 += x2 * c[j]
            p3 += x3 * c[j]
            q0 += x0 * e[j]
            q1 += x1 * e[j]
            q2 += x2 * e[j]
            q3 += x3 * e[j]
        predictions[0, a], predictions[1, a], predictions[2, a], predictions[3, a] = p0, p1, p2, p3
        predictions[0, b], predictions[1, b], predictions[2, b], predictions[3, b] = q0, q1, q2, q3


@njit(cache=True, nogil=True, fastmath=FASTMATH, inline="always")
def _group_gradients(X, rows, start, size, residuals, grads):
    """``grads[a] += sum_q residuals[q, a] X[rows[start + q]]`` for the :data:`GROUP` rows from ``start``.

    Four models per pass over the features, then the one to three left.
    """
    n_models = grads.shape[0]
    i0, i1, i2, i3 = _group_rows(rows, start, size)
    for a in range(0, n_models - 3, 4):
        g, h, u, v = grads[a], grads[a + 1], grads[a + 2], grads[a + 3]
        r0, r1, r2, r3 = residuals[0, a], residuals[1, a], residuals[2, a], residuals[3, a]
        s0, s1, s2, s3 = residuals[0, a + 1], residuals[1, a + 1], residuals[2, a + 1], residuals[3, a + 1]
        t0, t1, t2, t3 = residuals[0, a + 2], residuals[1, a + 2], residuals[2, a + 2], residuals[3, a + 2]
        w0, w1, w2, w3 = residuals[0, a + 3], residuals[1, a + 3], residuals[2, a + 3], residuals[3, a + 3]
        for j in range(X.shape[1]):
            x0, x1, x2, x3 = X[i0, j], X[i1, j], X[i2, j], X[i3, j]
            g[j] += r0 * x0 + r1 * x1 + r2 * x2 + r3 * x3
            h[j] += s0 * x0 + s1 * x1 + s2 * x2 + s3 * x3
            u[j] += t0 * x0 + t1 * x1 + t2 * x2 + t3 * x3
            v[j] += w0 * x0 + w1 * x1 + w2 * x2 + w3 * x3
    for a in range(n_models - n_models % 4, n_models):
        g = grads[a]
        r0, r1, r2, r3 = residuals[0, a], residuals[1, a], residuals[2, a], residuals[3, a]
        for j in range(X.shape[1]):
            g[j] += r0 * X[i0, j] + r1 * X[i1, j] + r2 * X[i2, j] + r3 * X[i3, j]


@njit(cache=True, nogil=True, fastmath=FASTMATH)
def _row_residuals(X, i, Y, sample_weight, coefs, intercepts, targets, loss, predictions, grad_intercepts, loss_sums):
    """Row ``i``'s weighted loss derivatives for every model into ``grad_intercepts`` (zero before), their losses added.

    A call, not inlined: :func:`_residuals` inlined twice into
    :func:`targets_minibatch_epoch` made numba 0.68 warn (NumbaIRAssumptionWarning).
    """
    for a in range(coefs.shape[0]):
        predictions[0, a] = _dot(X, i, coefs[a])
    _residuals(loss, predictions, 0, intercepts, Y, i, targets, sample_weight[i], grad_intercepts, loss_sums)


@njit(cache=True, nogil=True, fastmath=FASTMATH, inline="always")
def _residuals(loss, predictions, q, intercepts, Y, i, targets, weight, grad_intercepts, loss_sums):
    """Row ``i``'s weighted loss derivatives, in place of its ``predictions[q]``, for every model; their sums added.

    For a loss tuple of its own type (``_losses.loss_tuple``) the loop over
    the models is that loss's arithmetic alone, without a branch (and
    vectorised).
    """
    for a in range(predictions.shape[1]):
        r, row_loss = _row_terms(loss, intercepts[a] + predictions[q, a], Y[i, targets[a]], weight)
        predictions[q, a] = r
        grad_intercepts[a] += r
        loss_sums[a] += row_loss


@njit(cache=True, nogil=True)
def target_scales(Y, sample_weight, rows):
    """Each column's scale, ``mean(s * (y**2 + |y|))`` over ``rows`` of ``Y``, in one read of ``Y``.

    The divergence test's scale of each target (``_rows.Rows.target_scale``
    of one column, to rounding).
    """
    sums = np.zeros(Y.shape[1])
    for k in range(rows.shape[0]):
        i = rows[k]
        for a in range(Y.shape[1]):
            value = Y[i, a]
            sums[a] += sample_weight[i] * (value * value + abs(value))
    return sums / rows.shape[0]


@njit(cache=True, nogil=True)
def target_moments(Y, sample_weight, rows, centres, find_centres):
    """Each column's weighted centre, mean ``|y - centre|`` and mean ``|y|`` over ``rows`` of ``Y``, in two reads.

    The centre is the weighted mean where ``find_centres``, else
    ``centres`` (the medians). Each column's arithmetic is that of
    ``np.average`` on it alone (``_rows.Rows.target_statistics``), to
    rounding.
    """
    n_columns = Y.shape[1]
    total, sums = 0.0, np.zeros(n_columns)
    for k in range(rows.shape[0]):
        i = rows[k]
        total += sample_weight[i]
        for a in range(n_columns):
            sums[a] += sample_weight[i] * Y[i, a]
    if find_centres:
        centres = sums / total
    spreads, sizes = np.zeros(n_columns), np.zeros(n_columns)
    for k in range(rows.shape[0]):
        i = rows[k]
        for a in range(n_columns):
            value = Y[i, a]
            spreads[a] += sample_weight[i] * abs(value - centres[a])
            sizes[a] += sample_weight[i] * abs(value)
    return centres, spreads / total, sizes / total


# The kernels a kind of rows (``_rows``) gives a multi-output fit, each over one part of its rows.
TargetKernels = namedtuple("TargetKernels", ["batch_sums", "loss_sums", "epoch"])
DENSE_TARGET_KERNELS = TargetKernels(targets_batch_sums, targets_loss_sums, targets_minibatch_epoch)
SPARSE_TARGET_KERNELS = TargetKernels(sparse_targets_batch_sums, sparse_targets_loss_sums,
                                      sparse_targets_minibatch_epoch)
