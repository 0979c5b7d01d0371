"""One epoch of mini-batch gradient descent: the compiled kernel and its reference.

Batch gradient descent is a mini-batch of the whole set, SGD a mini-batch of
one row, so this single epoch serves all three solvers. For each batch ``B`` of
rows taken in ``order``, with normalised sample weights ``s`` (mean 1)::

    g_w = sum_B s_i * dloss(p_i, y_i) * (x_i - shift) / |B| + grad R(w)
    g_b = sum_B s_i * dloss(p_i, y_i) / |B|
    u_v, u_c = rule(W.T @ g_w), rule(g_b)   (the update rule, see ``_update_rules``)
    step = W @ u_v                      (``P @ g_w`` for the plain rule, P = W W.T)
    w_new = prox(w - eta_t * step)
    b <- b - eta_t * u_c + shift @ (w - w_new)     (if ``fit_intercept``)
    w <- w_new

where ``grad R`` is the L2 part of the penalty's gradient and ``prox`` the
L1 part's proximal step, soft thresholding each coefficient by ``eta_t *
l1_strength * D_j``, ``D_j`` the diagonal of the step's metric: ``P_jj`` for
the plain rule, ``W_jj**2`` times the rule's own scale (``rule_scale``)
otherwise. (With L1 the preconditioner is diagonal.)

With ``shift = 0`` and ``P = W = I`` and the plain rule this is the textbook
update ``theta <- theta - eta * grad J(theta)``. A non-trivial ``(shift, P)``
is gradient descent in centred, preconditioned coordinates ``w = W v``,
mapped back to the raw coefficients (see ``_preconditioning``); the
objective is unchanged. The rules act, with their state, on the coordinates
``v`` and the centred intercept. With averaging (``average_from > 0``), from
update ``average_from`` on, the running mean of the coefficients and
intercept after each update is kept in the ``AVERAGE`` row of the rule state
(averaged SGD, as in ``SGDRegressor``).

A preconditioner is passed as the tuple ``(shift, scale_diag, scale_full,
root_diag, root_full)``: ``P`` is ``scale_full``, or ``diag(scale_diag)``
when ``scale_full`` has shape ``(0, 0)``, and ``W`` is ``root_full`` or
``diag(root_diag)`` likewise. A rule is ``(code, momentum, beta_1, beta_2,
stability_epsilon)``, its state the array of ``_update_rules.new_state``.

``minibatch_epoch`` runs one of two kernels compiled with numba, one for
batches of one row and one for the others, so that a first fit compiles only
its solver's, and only for its loss and rule (their tuples' types tell them,
see ``_codes``) and, for data the caches hold, without prefetching;
``minibatch_epoch_reference`` is the same arithmetic as vectorised array
code, one step per batch, which the tests hold the kernels to:
``_vectorised.minibatch_epoch``, also the engine's path for arrays of other
Array API namespaces. The full-batch pass is compiled, but its one update per
epoch is the reference's step (``_vectorised.batch_step``): compiling it would
cost a first fit more than it saves.
"""

import numpy as np
from numba import njit, types
from numba.extending import overload

from ._codes import static_code
from ._losses import loss_terms, loss_value, loss_values
from ._penalties import penalty_derivative, soft_threshold
from ._parallel import run_over_blocks
from ._prefetch import PREFETCH_DISTANCE, prefetch_row
from ._schedules import batch_learning_rate, learning_rate
from ._update_rules import (
    ADAGRAD, ADAM, AVERAGE, FIRST, MOMENTUM, NESTEROV, PLAIN, RMSPROP, SECOND, adam_corrections, rule_scale,
    rule_update,
)
from ._vectorised import batch_step as vectorised_step
from ._vectorised import minibatch_epoch as minibatch_epoch_reference  # noqa: F401 (the kernels' reference)

# Data of at least this many bytes is prefetched row by row (see ``_prefetch``);
# smaller data stays in the caches, and its kernel is compiled without it.
PREFETCH_MIN_BYTES = 2**22
# Below this, the weight scale of one-row updates is folded into the
# coefficients (as in SGDRegressor), before it underflows.
MIN_WEIGHT_SCALE = 1e-9
# Rows per block of the full-batch pass (its sums are kept per block), and the
# size of data from which the pass runs on several cores.
BLOCK_ROWS = 4096
PARALLEL_MIN_VALUES = 2**18
# Reassociation lets the compiler vectorise sums; inf and NaN still propagate,
# so that divergence is detected.
FASTMATH = {"reassoc", "contract"}
# Below this, ``1 - decay`` is exactly 1: Adam's bias corrections are then
# skipped, which changes no bit.
NEGLIGIBLE_DECAY = 2.0**-54
# NumPy's error model: a division by zero gives inf or NaN (caught as
# divergence) instead of a check that keeps loops with a division (the
# adaptive rules') from being vectorised.
ERROR_MODEL = "numpy"


def minibatch_epoch(
    X, y, sample_weight, order, batch_size, coef, intercept, fit_intercept,
    loss, penalty, schedule, preconditioner, t, rule, rule_state, rule_count, average_from, path=None,
):
    """Run one epoch in place on ``coef`` and ``rule_state``.

    Batches of one row with a diagonal preconditioner (``'sgd'``) take
    :func:`_rows_epoch`, other batches :func:`_batches_epoch`: a first fit
    compiles only the kernel its solver runs.

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
        Best a tuple of :func:`_losses.loss_tuple`, of the loss's own type,
        for which the kernel compiles that loss alone.
    penalty : tuple ``(l1_strength, l2_strength)``
    schedule : tuple ``(code, eta0, power_t, alpha, t0)``
    preconditioner : tuple of ndarray
        ``(shift, scale_diag, scale_full, root_diag, root_full)``.
    t : int
        Updates made before this epoch.
    rule : tuple ``(code, momentum, beta_1, beta_2, stability_epsilon)``
    rule_state : ndarray of shape (3, n_features + 1)
        The rule's state and the running average, updated in place; the
        last column is the intercept's.
    rule_count : int
        Updates the rule has made before this epoch.
    average_from : int
        First update (counted like ``t``) that is averaged; 0 for none.
    path : ndarray of shape (n_updates, n_features + 1), optional
        Where to write the coefficients and intercept after each of the
        epoch's updates, one row per update. Omitted, the kernel is compiled
        without the writes.

    Returns
    -------
    loss_sum : float
        Sum of weighted losses, each at the coefficients before its update.
    intercept : float
        Intercept after the epoch.
    t, rule_count : int
        Updates made after the epoch.
    """
    # Omitted, not None, without a path: the kernel is compiled without its writes; likewise without
    # prefetching, for data that the caches hold.
    record = () if path is None else (path,)
    options = dict(ahead=PREFETCH_DISTANCE) if X.nbytes >= PREFETCH_MIN_BYTES else {}
    if batch_size == 1 and preconditioner[2].shape[0] == 0:
        return _rows_epoch(X, y, sample_weight, order, batch_size, coef, intercept, fit_intercept, loss, penalty,
                           schedule, preconditioner, t, rule, rule_state, rule_count, average_from, *record,
                           **options)
    # The gradient's sums and the step, made here: allocating them in the
    # kernel would compile NumPy's allocation for it (a quarter second).
    scratch = np.zeros((2, coef.shape[0]))
    return _batches_epoch(X, y, sample_weight, order, batch_size, coef, intercept, fit_intercept, loss, penalty,
                          schedule, preconditioner, t, rule, rule_state, rule_count, average_from, scratch, *record,
                          **options)


@njit(cache=True, fastmath=FASTMATH, error_model=ERROR_MODEL)
def _batches_epoch(
    X, y, sample_weight, order, batch_size, coef, intercept, fit_intercept,
    loss, penalty, schedule, preconditioner, t, rule, rule_state, rule_count, average_from, scratch, path=None,
    ahead=None,
):
    """:func:`minibatch_epoch` for batches of several rows, or a full preconditioner.

    ``scratch`` holds two zero rows of ``n_features``: the gradient's sums and the step.
    """
    n_rows = order.shape[0]
    n_features = X.shape[1]
    shift = preconditioner[0]
    code, _, beta_1, beta_2, _ = rule
    decay_1, decay_2 = (beta_1**rule_count, beta_2**rule_count) if code == ADAM else (1.0, 1.0)
    grad, step = scratch[0], scratch[1]
    loss_sum = 0.0
    for start in range(0, n_rows, batch_size):
        stop = min(start + batch_size, n_rows)
        size = stop - start
        grad_intercept = 0.0
        for k in range(start, stop):
            i = _next_row(X, y, sample_weight, order, k, ahead)
            r, row_loss = _row_terms(loss, intercept + _dot(X, i, coef), y[i], sample_weight[i])
            loss_sum += row_loss
            grad_intercept += r
            if r != 0.0:
                for j in range(n_features):
                    grad[j] += r * (X[i, j] - shift[j])
        t += 1
        rule_count += 1
        eta = batch_learning_rate(schedule, t, size, batch_size)
        corrections, decay_1, decay_2 = _corrections(rule, decay_1, decay_2)
        intercept = _apply_step(
            coef, intercept, grad, grad_intercept, size, fit_intercept, penalty, eta,
            preconditioner, rule, rule_state, corrections, step,
        )
        if average_from > 0 and t >= average_from:
            _average(coef, intercept, rule_state[AVERAGE], t - average_from + 1)
        if path is not None:
            _record(path, start // batch_size, coef, 1.0, intercept)
    return loss_sum, intercept, t, rule_count


@njit(cache=True, fastmath=FASTMATH, error_model=ERROR_MODEL)
def _rows_epoch(
    X, y, sample_weight, order, batch_size, coef, intercept, fit_intercept,
    loss, penalty, schedule, preconditioner, t, rule, rule_state, rule_count, average_from, path=None, ahead=None,
):
    """:func:`minibatch_epoch` for batches of one row and a diagonal preconditioner (``batch_size`` is 1)."""
    n_rows = order.shape[0]
    n_features = X.shape[1]
    l1_strength, l2_strength = penalty
    shift, scale_diag, _, _, _ = preconditioner
    code, _, beta_1, beta_2, _ = rule
    first, second = rule_state[FIRST], rule_state[SECOND]
    # With an L2 penalty and no preconditioner, the coefficients are kept as
    # ``weight_scale * coef``, as SGDRegressor does: the penalty's shrinkage
    # is then one multiplication, not one per feature.
    scaled = l1_strength == 0.0 and code == PLAIN and average_from == 0 and _is_identity(shift, scale_diag)
    weight_scale = 1.0
    decay_1, decay_2 = (beta_1**rule_count, beta_2**rule_count) if code == ADAM else (1.0, 1.0)
    loss_sum = 0.0
    for k in range(n_rows):
        i = _next_row(X, y, sample_weight, order, k, ahead)
        r, row_loss = _row_terms(loss, intercept + weight_scale * _dot(X, i, coef), y[i], sample_weight[i])
        loss_sum += row_loss
        t += 1
        rule_count += 1
        eta = learning_rate(schedule, t)
        corrections, decay_1, decay_2 = _corrections(rule, decay_1, decay_2)
        # The gradient is r * (x - shift), no buffer needed.
        shift_change = 0.0
        if scaled:
            weight_scale *= 1.0 - eta * l2_strength
            if not weight_scale > MIN_WEIGHT_SCALE:
                for j in range(n_features):
                    coef[j] *= weight_scale
                weight_scale = 1.0
            if r != 0.0:
                c = eta * r / weight_scale
                for j in range(n_features):
                    coef[j] -= c * X[i, j]
        else:
            shift_change = _row_step(rule, X, i, r, coef, penalty, eta, preconditioner, first, second, corrections)
        if fit_intercept:
            intercept += shift_change - eta * _intercept_direction(rule, rule_state, r, corrections)
        if average_from > 0 and t >= average_from:
            _average(coef, intercept, rule_state[AVERAGE], t - average_from + 1)
        if path is not None:
            _record(path, k, coef, weight_scale, intercept)
    if weight_scale != 1.0:
        for j in range(n_features):
            coef[j] *= weight_scale
    return loss_sum, intercept, t, rule_count


@njit(cache=True, inline="always")
def _row_step(rule, X, i, r, coef, penalty, eta, preconditioner, first, second, corrections):
    """One row's update of ``coef`` by the gradient ``r * (x_i - shift)``, diagonal preconditioner, L1 by its prox.

    Returns the change of ``shift @ coef`` (the centred intercept's share of the update).
    """
    l1_strength, l2_strength = penalty
    shift, scale_diag, _, root_diag, _ = preconditioner
    if rule[0] != PLAIN:
        return _one_row_step(rule, X, i, r, coef, penalty, eta, shift, root_diag, first, second, corrections)
    shift_change = 0.0
    for j in range(coef.shape[0]):
        g = r * (X[i, j] - shift[j]) + penalty_derivative(coef[j], l2_strength)
        shift_change += _move(coef, j, eta * (scale_diag[j] * g), eta * l1_strength * scale_diag[j], shift)
    return shift_change


@njit(cache=True, inline="always")
def _next_row(X, y, sample_weight, order, k, ahead):
    """``order[k]``, once the row ``ahead`` places further is asked for (none if ``ahead`` is omitted)."""
    if ahead is not None and k + ahead < order.shape[0]:
        row = order[k + ahead]
        prefetch_row(X, row)
        prefetch_row(y, row)
        prefetch_row(sample_weight, row)
    return order[k]


@njit(cache=True, inline="always")
def _corrections(rule, decay_1, decay_2):
    """Adam's bias corrections for the next update, from the running ``b1**k``, ``b2**k``, and those advanced."""
    if rule[0] == ADAM and max(decay_1, decay_2) > NEGLIGIBLE_DECAY:
        decay_1 *= rule[2]
        decay_2 *= rule[3]
        return adam_corrections(decay_1, decay_2), decay_1, decay_2
    return (1.0, 1.0), decay_1, decay_2


@njit(cache=True, inline="always")
def _record(path, update, coef, weight_scale, intercept):
    """Row ``update`` of ``path``: the coefficients ``weight_scale * coef`` and the intercept."""
    n_features = coef.shape[0]
    for j in range(n_features):
        path[update, j] = weight_scale * coef[j]
    path[update, n_features] = intercept


def batch_sums(X, y, sample_weight, rows, coef, intercept, loss, shift):
    """The per-block sums of :func:`block_sums` over all of ``rows``, in one parallel pass.

    ``rows`` (increasing, for memory order) are visited in one pass that,
    while each row is in cache, adds its loss and its gradient. Blocks of
    :data:`BLOCK_ROWS` rows are summed apart, on several cores for data of at
    least :data:`PARALLEL_MIN_VALUES` values; :func:`batch_step` adds them in
    block order, so that the result does not depend on the number of threads.
    A full-batch epoch is these sums and that step.
    """
    n_blocks = -(-rows.shape[0] // BLOCK_ROWS)
    sums = np.empty((n_blocks, X.shape[1] + 2))

    def sum_blocks(first, last):
        # scratch for each thread, made here: allocating in the kernel would compile NumPy's allocation
        block_sums(X, y, sample_weight, rows, first, last, coef, intercept, loss, shift, sums, np.empty((2, 4)))

    run_over_blocks(sum_blocks, n_blocks, parallel=_parallel(rows, X))
    return sums


def loss_sums(X, y, sample_weight, rows, coefs, intercepts, loss):
    """Sums of the weighted losses over ``rows`` of several linear models, in one parallel pass.

    Model ``m`` has coefficients ``coefs[m]`` and intercept ``intercepts[m]``;
    each row is read once for all of them. Blocks of :data:`BLOCK_ROWS` rows
    are summed apart and added in order, as in :func:`batch_sums`. Data of
    fewer than :data:`PARALLEL_MIN_VALUES` values is summed in NumPy
    instead, which a first fit on small data need not compile (half a
    second) and which costs little there.
    """
    if not _parallel(rows, X):
        return _small_loss_sums(X, y, sample_weight, rows, coefs, intercepts, loss)
    return blockwise_loss_sums(X, y, sample_weight, rows, coefs, intercepts, loss, parallel=True)


def blockwise_loss_sums(X, y, sample_weight, rows, coefs, intercepts, loss, parallel):
    """:func:`block_loss_sums` over all of ``rows``, on several cores if ``parallel``, added in block order.

    ``X`` is a dense array or CSR arrays ``(data, indices, indptr)`` (see
    :func:`row_prediction`).
    """
    n_blocks = -(-rows.shape[0] // BLOCK_ROWS)
    sums = np.empty((n_blocks, coefs.shape[0]))

    def sum_blocks(first, last):
        block_loss_sums(X, y, sample_weight, rows, first, last, coefs, intercepts, loss, sums)

    run_over_blocks(sum_blocks, n_blocks, parallel)
    return sums.sum(axis=0)


def _small_loss_sums(X, y, sample_weight, rows, coefs, intercepts, loss):
    """:func:`loss_sums` in NumPy: ``einsum``, not BLAS, so that the sums do not depend on the thread count."""
    predictions = np.einsum("ij,mj->im", X[rows], coefs) + intercepts
    return np.einsum("i,im->m", sample_weight[rows], loss_values(loss[0], predictions, y[rows][:, None], loss[1]))


def _parallel(rows, X):
    return rows.shape[0] * X.shape[1] >= PARALLEL_MIN_VALUES


@njit(cache=True, nogil=True, fastmath=FASTMATH)
def block_loss_sums(X, y, sample_weight, rows, first, last, coefs, intercepts, loss, sums):
    """Row ``b`` of ``sums`` gets, for each model, ``sum s_i loss_i`` over block ``b`` of ``rows``."""
    loss_code, epsilon = loss
    n_rows, n_models = rows.shape[0], coefs.shape[0]
    for block in range(first, last):
        out = sums[block]
        out[:] = 0.0
        for k in range(block * BLOCK_ROWS, min((block + 1) * BLOCK_ROWS, n_rows)):
            i = rows[k]
            for m in range(n_models):
                p = row_prediction(X, i, coefs[m], intercepts[m])
                out[m] += sample_weight[i] * loss_value(loss_code, p, y[i], epsilon)


def row_prediction(X, i, coef, intercept):
    """``X[i] @ coef + intercept``, for a dense ``X`` or CSR arrays ``X = (data, indices, indptr)`` (compiled only)."""
    raise NotImplementedError("compiled only")


@overload(row_prediction, inline="always")
def _compiled_row_prediction(X, i, coef, intercept):
    return (_csr_row_prediction if isinstance(X, types.BaseTuple) else _dense_row_prediction).py_func


@njit(cache=True, inline="always")
def _dense_row_prediction(X, i, coef, intercept):
    p = intercept
    for j in range(X.shape[1]):
        p += X[i, j] * coef[j]
    return p


@njit(cache=True, inline="always")
def _csr_row_prediction(X, i, coef, intercept):
    data, indices, indptr = X
    p = intercept
    for n in range(indptr[i], indptr[i + 1]):
        p += data[n] * coef[indices[n]]
    return p


@njit(cache=True, nogil=True, fastmath=FASTMATH)
def block_sums(X, y, sample_weight, rows, first, last, coef, intercept, loss, shift, sums, scratch):
    """Gradient and loss sums of blocks ``first`` to ``last`` of ``rows``, into ``sums``.

    Row ``b`` of ``sums`` gets, over block ``b``'s rows, ``sum s_i dloss_i
    (x_i - shift)`` then ``sum s_i dloss_i`` and ``sum s_i loss_i``. Rows go
    four at a time, so that each pass over a block's gradient serves four;
    ``scratch``, of shape (2, 4), holds their predictions and loss terms.
    """
    n_rows, n_features = rows.shape[0], X.shape[1]
    # The four rows' predictions, then their loss terms, one row at a time:
    # the loss's code appears once in the compiled pass, not once per row.
    predictions, terms = scratch[0], scratch[1]
    for block in range(first, last):
        out = sums[block]
        out[:] = 0.0
        grad_intercept = 0.0
        loss_sum = 0.0
        k = block * BLOCK_ROWS
        stop = min(k + BLOCK_ROWS, n_rows)
        while k < stop:
            n_group = min(4, stop - k)
            if n_group == 4:
                i0, i1, i2, i3 = rows[k], rows[k + 1], rows[k + 2], rows[k + 3]
                p0 = p1 = p2 = p3 = 0.0
                for j in range(n_features):
                    c = coef[j]
                    p0 += X[i0, j] * c
                    p1 += X[i1, j] * c
                    p2 += X[i2, j] * c
                    p3 += X[i3, j] * c
                predictions[0], predictions[1], predictions[2], predictions[3] = p0, p1, p2, p3
            else:
                for q in range(n_group):
                    predictions[q] = _dot(X, rows[k + q], coef)
            group_loss = 0.0
            for q in range(n_group):
                i = rows[k + q]
                terms[q], row_loss = _row_terms(loss, intercept + predictions[q], y[i], sample_weight[i])
                group_loss += row_loss
            loss_sum += group_loss
            if n_group == 4:
                r0, r1, r2, r3 = terms[0], terms[1], terms[2], terms[3]
                r_sum = r0 + r1 + r2 + r3
                grad_intercept += r_sum
                for j in range(n_features):
                    out[j] += r0 * X[i0, j] + r1 * X[i1, j] + r2 * X[i2, j] + r3 * X[i3, j] - r_sum * shift[j]
            else:
                for q in range(n_group):
                    i, r = rows[k + q], terms[q]
                    grad_intercept += r
                    for j in range(n_features):
                        out[j] += r * (X[i, j] - shift[j])
            k += n_group
        out[n_features] = grad_intercept
        out[n_features + 1] = loss_sum


def batch_step(sums, n_rows, coef, intercept, fit_intercept, penalty, schedule,
               preconditioner, t, rule, rule_state, rule_count, average_from):
    """Add the block sums in block order and make the update; returns what :func:`minibatch_epoch` does.

    In NumPy, the update of :func:`minibatch_epoch_reference`: it runs once
    per epoch on ``n_features`` values, so compiling it would cost a first
    fit more than it saves.
    """
    total = sums.sum(axis=0)  # row after row, in block order
    n_features = coef.shape[0]
    intercept, t, rule_count = vectorised_step(
        total[:n_features], total[n_features], n_rows, coef, intercept, fit_intercept, penalty, schedule,
        preconditioner, t, rule, rule_state, rule_count, average_from,
    )
    return total[n_features + 1], intercept, t, rule_count


@njit(cache=True, inline="always")
def _dot(X, i, coef):
    """``X[i] @ coef``, in float64."""
    p = 0.0
    for j in range(coef.shape[0]):
        p += X[i, j] * coef[j]
    return p


@njit(cache=True, inline="always")
def _row_terms(loss, p, y, weight):
    """One row's weighted loss derivative and loss."""
    derivative, value = loss_terms(loss, p, y)
    return weight * derivative, weight * value


@njit(cache=True, inline="always")
def _apply_step(coef, intercept, grad, grad_intercept, size, fit_intercept, penalty, eta,
                preconditioner, rule, rule_state, corrections, step):
    """Update ``coef`` and the rule's state in place from the gradient sums of a batch of ``size`` rows.

    ``grad`` holds ``sum s_i dloss_i (x_i - shift)`` and is zeroed for the
    next batch; ``step`` is scratch space. Returns the new intercept.
    """
    l1_strength, l2_strength = penalty
    shift, scale_diag, _, root_diag, _ = preconditioner
    second = rule_state[SECOND]
    n_features = coef.shape[0]
    for j in range(n_features):
        grad[j] = grad[j] / size + penalty_derivative(coef[j], l2_strength)
    _direction(rule, preconditioner, rule_state, grad, step, corrections)
    shift_change = 0.0
    for j in range(n_features):
        threshold = 0.0
        if l1_strength > 0.0:  # the diagonal of the step's metric (diagonal where there is L1)
            metric = scale_diag[j] if rule[0] == PLAIN else root_diag[j] ** 2 * rule_scale(rule, second[j], corrections)
            threshold = eta * l1_strength * metric
        shift_change += _move(coef, j, eta * step[j], threshold, shift)
        grad[j] = 0.0
    if fit_intercept:
        intercept += shift_change - eta * _intercept_direction(rule, rule_state, grad_intercept / size, corrections)
    return intercept


@njit(cache=True, inline="always")
def _move(coef, j, step, threshold, shift):
    """``coef[j] <- soft_threshold(coef[j] - step, threshold)``; returns ``shift[j]`` times the change made.

    The intercept, descended on in centred coordinates, follows the actual
    change of the coefficients (``b <- b + shift @ (w_old - w_new) - eta *
    u_c``), L1's proximal step included.
    """
    old = coef[j]
    new = old - step
    if threshold > 0.0:
        new = soft_threshold(new, threshold)
    coef[j] = new
    return shift[j] * (old - new)


def _direction(rule, preconditioner, rule_state, grad, step, corrections):
    """Write into ``step`` the rule's step for the gradient ``grad`` (scratch space after).

    Compiled for a rule known from its type (see ``_update_rules.rule_tuple``),
    only that rule's branch is compiled: a default fit's plain rule compiles
    no rule state.
    """
    raise NotImplementedError("compiled only")


@overload(_direction)
def _compiled_direction(rule, preconditioner, rule_state, grad, step, corrections):
    code = static_code(rule)
    chosen = _any_direction if code is None else _plain_direction if code == PLAIN else _rule_direction
    return chosen.py_func


@njit(cache=True, inline="always")
def _plain_direction(rule, preconditioner, rule_state, grad, step, corrections):
    """``step = P @ grad``."""
    _, scale_diag, scale_full, _, _ = preconditioner
    _multiply(scale_full, scale_diag, grad, step, scale_full.shape[0] > 0, False)


@njit(cache=True, inline="always")
def _rule_direction(rule, preconditioner, rule_state, grad, step, corrections):
    """``step = W @ u``, ``u`` the rule's direction for the gradient ``W.T @ grad`` of the coordinates ``v`` of ``w = W v``."""
    _, _, _, root_diag, root_full = preconditioner
    full = root_full.shape[0] > 0
    # ``step`` holds W.T @ g, then u; ``grad`` then W @ u.
    _multiply(root_full, root_diag, grad, step, full, True)
    first, second = rule_state[FIRST], rule_state[SECOND]
    for j in range(grad.shape[0]):
        step[j], first[j], second[j] = rule_update(rule, first[j], second[j], step[j], corrections)
    _multiply(root_full, root_diag, step, grad, full, False)
    for j in range(grad.shape[0]):  # not ``step[:] = grad``, whose shape check costs a second to compile
        step[j] = grad[j]


@njit(cache=True, inline="always")
def _any_direction(rule, preconditioner, rule_state, grad, step, corrections):
    if rule[0] == PLAIN:
        _plain_direction(rule, preconditioner, rule_state, grad, step, corrections)
    else:
        _rule_direction(rule, preconditioner, rule_state, grad, step, corrections)


def _one_row_step(rule, X, i, r, coef, penalty, eta, shift, root_diag, first, second, corrections):
    """One row's update of ``coef`` under a rule other than plain, with a diagonal ``W``; returns ``shift @ step``.

    Each rule gets its own copy of the loop, its code a constant, so that
    the compiler drops the other rules' branches from it. Compiled for a
    rule known from its type (see ``_update_rules.rule_tuple``), only that
    rule's copy is compiled.
    """
    raise NotImplementedError("compiled only")


@overload(_one_row_step, inline="always")
def _compiled_one_row_step(rule, X, i, r, coef, penalty, eta, shift, root_diag, first, second, corrections):
    code = static_code(rule)
    return _any_row_step if code is None else _ROW_STEPS[code]


def _any_row_step(rule, X, i, r, coef, penalty, eta, shift, root_diag, first, second, corrections):
    code, momentum, beta_1, beta_2, eps = rule
    args = (X, i, r, coef, penalty, eta, shift, root_diag, first, second, corrections)
    if code == MOMENTUM:
        return _one_row_loop((MOMENTUM, momentum, beta_1, beta_2, eps), args)
    if code == NESTEROV:
        return _one_row_loop((NESTEROV, momentum, beta_1, beta_2, eps), args)
    if code == ADAGRAD:
        return _one_row_loop((ADAGRAD, momentum, beta_1, beta_2, eps), args)
    if code == RMSPROP:
        return _one_row_loop((RMSPROP, momentum, beta_1, beta_2, eps), args)
    return _one_row_loop((ADAM, momentum, beta_1, beta_2, eps), args)


def _no_row_step(rule, X, i, r, coef, penalty, eta, shift, root_diag, first, second, corrections):
    return 0.0  # the plain rule takes its own branch


def _rule_row_step(rule, X, i, r, coef, penalty, eta, shift, root_diag, first, second, corrections):
    return _one_row_loop(rule, (X, i, r, coef, penalty, eta, shift, root_diag, first, second, corrections))


_ROW_STEPS = (_no_row_step,) + (_rule_row_step,) * 5


@njit(cache=True, inline="always")
def _one_row_loop(rule, args):
    X, i, r, coef, penalty, eta, shift, root_diag, first, second, corrections = args
    l1_strength, l2_strength = penalty
    uses_first = rule[0] != ADAGRAD and rule[0] != RMSPROP
    uses_second = rule[0] >= ADAGRAD
    shift_change = 0.0
    for j in range(coef.shape[0]):
        root = root_diag[j]
        g = root * (r * (X[i, j] - shift[j]) + penalty_derivative(coef[j], l2_strength))
        u, m, v = rule_update(rule, first[j], second[j], g, corrections)
        # store only the state the rule keeps (the condition is a constant)
        if uses_first:
            first[j] = m
        if uses_second:
            second[j] = v
        threshold = eta * l1_strength * root * root * rule_scale(rule, v, corrections) if l1_strength > 0.0 else 0.0
        shift_change += _move(coef, j, eta * (root * u), threshold, shift)
    return shift_change


@njit(cache=True, inline="always")
def _multiply(matrix, diagonal, vector, out, full, transpose):
    """``out = A @ vector`` (``A.T`` if ``transpose``), ``A`` = ``matrix`` if ``full`` else ``diag(diagonal)``."""
    n = vector.shape[0]
    if full:
        for j in range(n):
            acc = 0.0
            for m in range(n):
                acc += (matrix[m, j] if transpose else matrix[j, m]) * vector[m]
            out[j] = acc
    else:
        for j in range(n):
            out[j] = diagonal[j] * vector[j]


@njit(cache=True, inline="always")
def _intercept_direction(rule, rule_state, grad_intercept, corrections):
    """The rule's direction for the (centred) intercept, whose state is the last column."""
    last = rule_state.shape[1] - 1
    u, rule_state[FIRST, last], rule_state[SECOND, last] = rule_update(
        rule, rule_state[FIRST, last], rule_state[SECOND, last], grad_intercept, corrections
    )
    return u


@njit(cache=True, inline="always")
def _average(coef, intercept, average, count):
    """Fold the coefficients and intercept into their running mean over ``count`` updates."""
    n_features = coef.shape[0]
    for j in range(n_features):
        average[j] += (coef[j] - average[j]) / count
    average[n_features] += (intercept - average[n_features]) / count


@njit(cache=True, inline="always")
def _is_identity(shift, scale_diag):
    for j in range(shift.shape[0]):
        if shift[j] != 0.0 or scale_diag[j] != 1.0:
            return False
    return True


@njit(cache=True, nogil=True, fastmath=FASTMATH)
def linear_predictions(X, coef, intercept):
    """``X @ coef + intercept`` in float64, without a float64 copy of a float32 ``X``."""
    predictions = np.empty(X.shape[0])
    for i in range(X.shape[0]):
        p = 0.0
        for j in range(X.shape[1]):
            p += X[i, j] * coef[j]
        predictions[i] = intercept + p
    return predictions
