"""Kernels for several targets sharing ``X``: each row is read once for all of them.

A multi-output fit is ``k`` independent problems on the same rows, one per
column of ``Y``. These kernels do for models ``a = 0..k-1``, model ``a``
fitted to column ``targets[a]`` of ``Y``, what the single-target kernels of
``_kernels`` do for one: each row is read once, then each model's
prediction, residual and gradient row follow from it. Each model has its own
step (``etas``), update rule state and averaging start; the update count
``t`` and the rule's count are shared (the targets train in step).

Their reference is the single-target arithmetic itself: a model's updates
are those of :func:`~skgd._kernels.minibatch_epoch_reference` on its column,
to rounding (the tests hold them to it). The sums over a batch's rows are
two small matrix products per :data:`SUB_ROWS` rows (see
:func:`_rows_gradients`), vectorised across models.
"""

import numpy as np
from numba import njit, types
from numba.extending import overload

from ._kernels import (
    BLOCK_ROWS, ERROR_MODEL, FASTMATH, _apply_step, _average, _dot, _intercept_direction, _parallel, _row_step,
    _row_terms,
)
from ._losses import loss_value
from ._parallel import one_blas_thread, run_over_blocks
from ._prefetch import PREFETCH_DISTANCE, prefetch_row
from ._schedules import batch_learning_rate
from ._update_rules import AVERAGE, FIRST, SECOND, adam_corrections

# Rows multiplied by the models at a time (in cache, whatever the number of models).
SUB_ROWS = 256


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
    loss_code, epsilon = loss
    shift, _, scale_full, _, _ = preconditioner
    _, _, beta_1, beta_2, _ = rule
    full = scale_full.shape[0] > 0
    grads = np.zeros((n_models, n_features))
    grad_intercepts = np.zeros(n_models)
    step = np.empty(n_features)
    loss_sums = np.zeros(n_models)
    # batches of several rows: see _rows_gradients
    coefs_t = np.ascontiguousarray(coefs.T)
    buffer, residuals = np.empty((SUB_ROWS, n_features)), np.empty((SUB_ROWS, n_models))
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
            for a in range(n_models):
                r, row_loss = _row_terms(loss_code, epsilon, intercepts[a] + _dot(X, i, coefs[a]), Y[i, targets[a]],
                                         sample_weight[i])
                loss_sums[a] += row_loss
                grad_intercepts[a] = r
        else:
            for part in range(start, stop, SUB_ROWS):
                grads_t = _rows_gradients(X, Y, sample_weight, order, part, min(part + SUB_ROWS, stop), coefs_t,
                                          intercepts, targets, loss, buffer, residuals, grad_intercepts, loss_sums)
                for a in range(n_models):
                    for j in range(n_features):
                        grads[a, j] += grads_t[j, a]
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
        if not (one_row and batch_size == 1):  # coefs_t serves the batches of several rows
            for a in range(n_models):
                for j in range(n_features):
                    coefs_t[j, a] = coefs[a, j]
    return loss_sums, t, rule_count


def targets_batch_sums(X, Y, sample_weight, rows, coefs, intercepts, targets, loss, shift):
    """The per-block sums of :func:`targets_block_sums`, shape (n_blocks, n_models, n_features + 2), in one parallel pass."""
    n_blocks = -(-rows.shape[0] // BLOCK_ROWS)
    sums = np.empty((n_blocks, coefs.shape[0], X.shape[1] + 2))

    def sum_blocks(first, last):
        targets_block_sums(X, Y, sample_weight, rows, first, last, coefs, intercepts, targets, loss, shift, sums)

    with one_blas_thread():  # each block's products on the thread summing it
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

    with one_blas_thread():  # each block's products on the thread summing it
        run_over_blocks(sum_blocks, n_blocks, parallel=_parallel(rows, X))
    return sums.sum(axis=0)


@njit(cache=True, nogil=True, fastmath=FASTMATH)
def targets_block_loss_sums(X, Y, sample_weight, rows, first, last, coefs, intercepts, targets, loss, sums):
    """Row ``b`` of ``sums`` gets, for each model, ``sum s_i loss_i`` over block ``b`` of ``rows``."""
    loss_code, epsilon = loss
    n_rows, n_models = rows.shape[0], coefs.shape[0]
    coefs_t = np.ascontiguousarray(coefs.T)
    buffer = np.empty((SUB_ROWS, X.shape[1]))
    for block in range(first, last):
        out = sums[block]
        out[:] = 0.0
        stop = min((block + 1) * BLOCK_ROWS, n_rows)
        for start in range(block * BLOCK_ROWS, stop, SUB_ROWS):
            size = min(SUB_ROWS, stop - start)
            _gather(X, rows, start, size, buffer)
            predictions = np.dot(buffer[:size], coefs_t)
            for q in range(size):
                i = rows[start + q]
                for a in range(n_models):
                    p = intercepts[a] + predictions[q, a]
                    out[a] += sample_weight[i] * loss_value(loss_code, p, Y[i, targets[a]], epsilon)


@njit(cache=True, nogil=True, fastmath=FASTMATH)
def targets_block_sums(X, Y, sample_weight, rows, first, last, coefs, intercepts, targets, loss, shift, sums):
    """Gradient and loss sums of blocks ``first`` to ``last`` of ``rows``, for each model, into ``sums``.

    ``sums[b, a]`` gets what :func:`~skgd._kernels.block_sums` gives for
    model ``a`` alone: over block ``b``'s rows, ``sum s_i dloss_i (x_i -
    shift)``, then ``sum s_i dloss_i`` and ``sum s_i loss_i``. Each row is
    read once for all models, the models the inner (vectorised) axis.
    """
    n_rows, n_features, n_models = rows.shape[0], X.shape[1], coefs.shape[0]
    coefs_t = np.ascontiguousarray(coefs.T)
    buffer, residuals = np.empty((SUB_ROWS, n_features)), np.empty((SUB_ROWS, n_models))
    grads_t = np.empty((n_features, n_models))
    grad_intercepts, loss_sums = np.empty(n_models), np.empty(n_models)
    for block in range(first, last):
        grads_t[:] = 0.0
        grad_intercepts[:] = 0.0
        loss_sums[:] = 0.0
        stop = min((block + 1) * BLOCK_ROWS, n_rows)
        for start in range(block * BLOCK_ROWS, stop, SUB_ROWS):
            grads_t += _rows_gradients(X, Y, sample_weight, rows, start, min(start + SUB_ROWS, stop), coefs_t,
                                       intercepts, targets, loss, buffer, residuals, grad_intercepts, loss_sums)
        out = sums[block]
        for a in range(n_models):
            for j in range(n_features):
                out[a, j] = grads_t[j, a] - grad_intercepts[a] * shift[j]
            out[a, n_features] = grad_intercepts[a]
            out[a, n_features + 1] = loss_sums[a]


def _rows_gradients(X, Y, sample_weight, rows, start, stop, coefs_t, intercepts, targets, loss, buffer, residuals,
                    grad_intercepts, loss_sums):
    """``X[rows[start:stop]].T @ residuals`` (n_features, n_models), each model's residuals added to the sums.

    The rows (at most :data:`SUB_ROWS`) are multiplied by the models in two
    small matrix products (BLAS, on one thread at these sizes), so that
    each row is read from memory once for all models and the arithmetic is
    vectorised across them: consecutive float64 rows where they are,
    others copied into ``buffer`` (float64) first. ``coefs_t`` is
    (n_features, n_models); ``residuals`` (SUB_ROWS, n_models) scratch.
    """
    raise NotImplementedError("compiled only")


@overload(_rows_gradients, inline="always")
def _compiled_rows_gradients(X, Y, sample_weight, rows, start, stop, coefs_t, intercepts, targets, loss, buffer,
                             residuals, grad_intercepts, loss_sums):
    # a float32 X is always copied: the matrix products take one dtype
    return _in_place_or_copied if X.dtype == types.float64 else _copied.py_func


def _in_place_or_copied(X, Y, sample_weight, rows, start, stop, coefs_t, intercepts, targets, loss, buffer, residuals,
                        grad_intercepts, loss_sums):
    size = stop - start
    first = rows[start]
    if rows[stop - 1] - first == size - 1 and _increasing(rows, start, stop):
        return _block_gradients(X[first:first + size], Y, sample_weight, rows, start, coefs_t, intercepts, targets,
                                loss, residuals, grad_intercepts, loss_sums)
    return _copied(X, Y, sample_weight, rows, start, stop, coefs_t, intercepts, targets, loss, buffer, residuals,
                   grad_intercepts, loss_sums)


@njit(cache=True, nogil=True, fastmath=FASTMATH, inline="always")
def _copied(X, Y, sample_weight, rows, start, stop, coefs_t, intercepts, targets, loss, buffer, residuals,
            grad_intercepts, loss_sums):
    size = stop - start
    _gather(X, rows, start, size, buffer)
    return _block_gradients(buffer[:size], Y, sample_weight, rows, start, coefs_t, intercepts, targets, loss,
                            residuals, grad_intercepts, loss_sums)


@njit(cache=True, nogil=True, fastmath=FASTMATH, inline="always")
def _block_gradients(block, Y, sample_weight, rows, start, coefs_t, intercepts, targets, loss, residuals,
                     grad_intercepts, loss_sums):
    """:func:`_rows_gradients` of the rows ``block`` (those of ``rows[start:]``)."""
    loss_code, epsilon = loss
    size, n_models = block.shape[0], intercepts.shape[0]
    predictions = np.dot(block, coefs_t)
    for q in range(size):
        i = rows[start + q]
        for a in range(n_models):
            r, row_loss = _row_terms(loss_code, epsilon, intercepts[a] + predictions[q, a], Y[i, targets[a]],
                                     sample_weight[i])
            residuals[q, a] = r
            grad_intercepts[a] += r
            loss_sums[a] += row_loss
    return np.dot(block.T, residuals[:size])


@njit(cache=True, nogil=True, inline="always")
def _increasing(rows, start, stop):
    for k in range(start + 1, stop):
        if rows[k] <= rows[k - 1]:
            return False
    return True


@njit(cache=True, nogil=True, inline="always")
def _gather(X, rows, start, size, buffer):
    """``buffer[:size] = X[rows[start:start + size]]``, the rows ahead prefetched."""
    for q in range(size):
        if start + q + PREFETCH_DISTANCE < rows.shape[0]:
            prefetch_row(X, rows[start + q + PREFETCH_DISTANCE])
        i = rows[start + q]
        for j in range(X.shape[1]):
            buffer[q, j] = X[i, j]
