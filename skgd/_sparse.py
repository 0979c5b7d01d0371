"""Sparse rows: a CSR design, and the kernels that read its rows.

A sparse ``X`` (any ``scipy.sparse`` matrix or array; scikit-learn's
validation converts it) is stored once, as CSR: its ``data``, ``indices``
and ``indptr`` are handed to the kernels as they are, never densified and
never centred (centring a sparse matrix makes it dense). :class:`SparseRows`
is that design, one more kind of rows beside the dense array and the lazily
expanded polynomial rows of ``_features``; the engine asks its rows object
(``_rows.CsrRows``) for these kernels' results, not for ``X[i, j]``.

The arithmetic is that of ``_kernels.minibatch_epoch``, over the non-zeros
of each row, with the proximal L1 step of ``_penalties`` (soft thresholding
by ``eta * l1 * P_jj`` after each update, the intercept following the
coefficients' actual change):

- Plain steps without a preconditioner or averaging (the fixed schedules),
  one row or a mini-batch, cost O(non-zeros of the batch's rows): the
  coefficients are kept as ``w = S * c``, with ``S`` the running product
  of the L2 shrink factors ``1 - eta_t * l2`` (as ``SGDRegressor`` does),
  and the L1 proximal step is applied lazily: a coordinate untouched since
  it was last brought up to date, when the cumulative threshold was
  ``C_0``, is ``S * soft(c, C - C_0)`` with ``C = sum_t eta_t * l1 / S_t``,
  which is exactly the composition of the untouched updates' shrinks and
  soft thresholds (each ``soft(S_t c, eta_t l1) / S_t = soft(c, eta_t l1 /
  S_t)``, and soft thresholds of one sign add). A batch marks the
  coordinates it has thresholded, so that each is thresholded once.
- Every other step sums the batch's gradient ``sum_B r_i x_i`` over its
  non-zeros, the dense part ``-(sum_B r_i) shift`` of the centred gradient
  (rank one) entering the step, which costs O(n_features) per update: the
  plain rule with a diagonal ``P`` (``'auto'``) in one fused pass, the
  other rules (and a full ``P``) through ``_kernels``' own step.

Full-batch sums, the losses of several models (the judge's measure) and
the column moments of ``'auto'`` are one pass over the non-zeros.
"""

import numpy as np
import scipy.sparse as sp
from numba import njit
from scipy.sparse.linalg import LinearOperator, eigsh

from ._arrays import index_array, kernel_array
from ._kernels import (
    ERROR_MODEL, FASTMATH, MIN_WEIGHT_SCALE, PARALLEL_MIN_VALUES, _apply_step, _average, _corrections, _is_identity,
    _row_terms, blockwise_loss_sums,
)
from ._kernels import linear_predictions as dense_predictions
from ._penalties import soft_threshold
from ._prefetch import PREFETCH_DISTANCE, prefetch_span
from ._schedules import batch_learning_rate
from ._update_rules import ADAM, AVERAGE, PLAIN


# What validation accepts as is; scikit-learn converts other formats to the first.
SPARSE_FORMATS = ("csr", "csc")
# An 'auto' mini-batch of sparse rows holds at most this share of them.
MAX_BATCH_SHARE = 1 / 32


def linear_predictions(X, coef, intercept):
    """``X @ coef + intercept`` in float64, for an array (``_kernels.linear_predictions``) or a sparse ``X``."""
    if sp.issparse(X):
        return np.asarray(X @ coef, dtype=np.float64) + intercept
    return dense_predictions(X, coef, intercept)


def sparse_batch_size(X, smallest):
    """Rows per ``'auto'`` mini-batch of a design ``X`` whose every step costs O(n_features).

    For sparse rows, enough that their non-zeros, which the batch's sums
    read, reach ``n_features``, which its step reads (so that the step costs
    no more than the sums): ``n_features / (non-zeros per row)``, at least
    ``smallest``, at most :data:`MAX_BATCH_SHARE` of the rows (and
    ``smallest`` if that is less). Other designs: ``smallest``.
    """
    if not isinstance(X, SparseRows) or X.X.nnz == 0:
        return smallest
    n_rows, n_features = X.shape
    return max(smallest, min(-(-n_features * n_rows // X.X.nnz), int(n_rows * MAX_BATCH_SHARE)))


class SparseRows:
    """A CSR design as the kernels read it.

    Parameters
    ----------
    X : scipy.sparse matrix or array, CSR
        Validated data (float32 or float64), kept as it is: no copy.

    Attributes
    ----------
    X : scipy.sparse CSR matrix or array
    shape : tuple of int
    arrays : tuple of ndarray
        ``(data, indices, indptr)``, as read-only views (see ``_arrays``), the
        indices as unsigned integers (``_arrays.index_array``).
    """

    def __init__(self, X):
        if not X.has_canonical_format:  # repeated columns in a row summed (on a copy), sorted
            X = X.copy()
            X.sum_duplicates()
        self.X = X
        self.shape = X.shape
        self.arrays = (kernel_array(X.data), index_array(X.indices), index_array(X.indptr))

    def __getitem__(self, rows):
        """Rows ``rows`` (indices or a slice) as a new :class:`SparseRows` (all rows: this one, no copy)."""
        if isinstance(rows, slice) and rows == slice(None):
            return self
        return SparseRows(self.X[rows])

    def __matmul__(self, coef):
        return np.asarray(self.X @ coef, dtype=np.float64)

    def moments(self, sample_weight):
        """Weighted ``(weight, mean, spread)`` of the columns, in one pass over the non-zeros."""
        weight = float(sample_weight.sum())
        if not weight > 0:
            zeros = np.zeros(self.shape[1])
            return weight, zeros, zeros
        return (weight, *column_moments(self.arrays, sample_weight, self.shape[1]))

    def centred_curvatures(self, shift, sample_weight, column_scale):
        """Without forming them: the largest eigenvalue of ``Z.T @ Z / sum(s)`` and each ``||z_i||^2``.

        ``z_i = sqrt(s_i) * (x_i - shift) * column_scale``, the rows centred
        implicitly (see ``_preconditioning``), and nothing the size of ``X``
        allocated. As for an array, the eigenvalue is exact through the
        smaller Gram matrix when ``Z`` has at most
        :data:`~skgd._preconditioning.MAX_FULL_FEATURES` rows or columns,
        else from Lanczos iterations (each one pass over the non-zeros) to
        1e-3, raised by 1%.
        """
        from ._preconditioning import MAX_FULL_FEATURES  # not at the top: _preconditioning imports this module

        n_rows, n_columns = self.shape
        shifted = shift * column_scale
        row_norms = sample_weight * centred_row_norms(self.arrays, shift, column_scale, shifted @ shifted)
        if min(n_rows, n_columns) <= MAX_FULL_FEATURES:
            small = centred_gram(self.arrays, sample_weight, shifted, column_scale, n_rows < n_columns)
            largest = float(np.linalg.eigvalsh(small)[-1])
        else:
            X = self.X

            def gram_times(v):  # Z.T Z v
                u = sample_weight * (X @ (column_scale * v) - shifted @ v)
                return column_scale * (X.T @ u) - shifted * u.sum()

            operator = LinearOperator((n_columns, n_columns), matvec=gram_times, dtype=float)
            largest = float(eigsh(operator, k=1, which="LA", tol=1e-3, return_eigenvectors=False)[0]) * 1.01
        return largest / sample_weight.sum(), row_norms


@njit(cache=True)
def column_moments(csr, sample_weight, n_columns):
    """Weighted mean and standard deviation of each column (weights summing to more than 0), in float64.

    Passes over the non-zeros: the mean, the largest deviation from it
    (zeros included), then the squared deviations of the non-zeros plus
    those of the zeros, ``(W - W_j) * mean_j**2`` with ``W_j`` the weight
    of column ``j``'s non-zero rows, each divided by the largest deviation
    so that no square overflows or underflows (as ``_preconditioning.Moments``).
    """
    data, indices, indptr = csr
    n_rows = indptr.shape[0] - 1
    total = sample_weight.sum()
    mean = np.zeros(n_columns)
    seen = np.zeros(n_columns)
    for i in range(n_rows):
        for n in range(indptr[i], indptr[i + 1]):
            mean[indices[n]] += sample_weight[i] * np.float64(data[n])
            seen[indices[n]] += sample_weight[i]
    mean /= total
    zeros = np.maximum(total - seen, 0.0)  # the weight of each column's zeros
    size = np.where(zeros > 0.0, np.abs(mean), 0.0)
    for i in range(n_rows):
        for n in range(indptr[i], indptr[i + 1]):
            size[indices[n]] = max(size[indices[n]], abs(np.float64(data[n]) - mean[indices[n]]))
    unit = np.zeros(n_columns)
    for i in range(n_rows):
        for n in range(indptr[i], indptr[i + 1]):
            j = indices[n]
            if size[j] > 0.0:
                deviation = (np.float64(data[n]) - mean[j]) / size[j]
                unit[j] += sample_weight[i] * deviation * deviation
    spread = np.zeros(n_columns)
    for j in range(n_columns):
        if size[j] > 0.0:
            ratio = mean[j] / size[j]
            spread[j] = size[j] * np.sqrt((unit[j] + zeros[j] * ratio * ratio) / total)
    return mean, spread


@njit(cache=True)
def centred_row_norms(csr, shift, column_scale, shift_norm):
    """``||(x_i - shift) * column_scale||^2`` of each row, ``shift_norm`` being ``||shift * column_scale||^2``."""
    data, indices, indptr = csr
    n_rows = indptr.shape[0] - 1
    norms = np.empty(n_rows)
    for i in range(n_rows):
        total = shift_norm
        for n in range(indptr[i], indptr[i + 1]):
            j = indices[n]
            q = column_scale[j] * column_scale[j]
            deviation = np.float64(data[n]) - shift[j]
            total += (deviation * deviation - shift[j] * shift[j]) * q
        norms[i] = total
    return norms


@njit(cache=True)
def centred_gram(csr, sample_weight, shifted, column_scale, by_rows):
    """``Z @ Z.T`` (``by_rows``) or ``Z.T @ Z`` for the rows ``z_i = sqrt(s_i) (x_i - shift) q``, ``shifted = shift q``."""
    data, indices, indptr = csr
    n_rows, n_columns = indptr.shape[0] - 1, shifted.shape[0]
    if by_rows:  # at most MAX_FULL_FEATURES rows: one of them spread out at a time
        inner = np.zeros(n_rows)  # (x_i q) . shifted
        for i in range(n_rows):
            for n in range(indptr[i], indptr[i + 1]):
                inner[i] += np.float64(data[n]) * column_scale[indices[n]] * shifted[indices[n]]
        shift_norm = shifted @ shifted
        row = np.zeros(n_columns)
        gram = np.empty((n_rows, n_rows))
        for i in range(n_rows):
            for n in range(indptr[i], indptr[i + 1]):
                row[indices[n]] = np.float64(data[n]) * column_scale[indices[n]]
            for k in range(i, n_rows):
                dot = 0.0
                for n in range(indptr[k], indptr[k + 1]):
                    dot += row[indices[n]] * np.float64(data[n]) * column_scale[indices[n]]
                value = np.sqrt(sample_weight[i] * sample_weight[k]) * (dot - inner[i] - inner[k] + shift_norm)
                gram[i, k] = gram[k, i] = value
            for n in range(indptr[i], indptr[i + 1]):
                row[indices[n]] = 0.0
        return gram
    # sum_i s_i (x_i q - shifted)(x_i q - shifted)^T, from the non-zeros and the weighted column sums
    gram = np.zeros((n_columns, n_columns))
    sums = np.zeros(n_columns)
    for i in range(n_rows):
        w = sample_weight[i]
        for a in range(indptr[i], indptr[i + 1]):
            j = indices[a]
            value = w * np.float64(data[a]) * column_scale[j]
            sums[j] += value
            for b in range(indptr[i], indptr[i + 1]):
                k = indices[b]
                gram[j, k] += value * np.float64(data[b]) * column_scale[k]
    total = sample_weight.sum()
    for j in range(n_columns):
        for k in range(n_columns):
            gram[j, k] += total * shifted[j] * shifted[k] - sums[j] * shifted[k] - shifted[j] * sums[k]
    return gram


def sparse_loss_sums(csr, y, sample_weight, rows, coefs, intercepts, loss):
    """Sums of the weighted losses over ``rows`` of the models ``coefs[m]``, ``intercepts[m]``, in one pass.

    :func:`_kernels.blockwise_loss_sums` over the CSR arrays: each row is
    read once for all models, in blocks summed apart (on several cores from
    :data:`~skgd._kernels.PARALLEL_MIN_VALUES` non-zeros) and added in block
    order, so that the sums do not depend on the number of threads.
    """
    data, _, indptr = csr
    n_values = data.shape[0] * rows.shape[0] / max(indptr.shape[0] - 1, 1)  # about the rows' non-zeros
    return blockwise_loss_sums(csr, y, sample_weight, rows, coefs, intercepts, loss,
                               parallel=n_values >= PARALLEL_MIN_VALUES)


@njit(cache=True, nogil=True, fastmath=FASTMATH)
def sparse_batch_sums(csr, y, sample_weight, rows, coef, intercept, loss, shift, out):
    """``out`` gets ``sum s_i dloss_i (x_i - shift)``, then ``sum s_i dloss_i`` and ``sum s_i loss_i``."""
    data, indices, indptr = csr
    n_features = coef.shape[0]
    out[:] = 0.0
    grad_intercept = 0.0
    loss_sum = 0.0
    for k in range(rows.shape[0]):
        i = rows[k]
        p = intercept
        for n in range(indptr[i], indptr[i + 1]):
            p += data[n] * coef[indices[n]]
        r, row_loss = _row_terms(loss, p, y[i], sample_weight[i])
        grad_intercept += r
        loss_sum += row_loss
        if r != 0.0:
            for n in range(indptr[i], indptr[i + 1]):
                out[indices[n]] += r * data[n]
    for j in range(n_features):
        out[j] -= grad_intercept * shift[j]
    out[n_features] = grad_intercept
    out[n_features + 1] = loss_sum


@njit(cache=True, fastmath=FASTMATH, error_model=ERROR_MODEL)
def sparse_minibatch_epoch(
    csr, y, sample_weight, order, batch_size, coef, intercept, fit_intercept,
    loss, penalty, schedule, preconditioner, t, rule, rule_state, rule_count, average_from, path=None,
):
    """:func:`_kernels.minibatch_epoch` over CSR rows ``csr = (data, indices, indptr)``; same results."""
    data, indices, indptr = csr
    n_rows = order.shape[0]
    n_features = coef.shape[0]
    l1_strength, l2_strength = penalty
    shift, scale_diag, scale_full, _, _ = preconditioner
    code, _, beta_1, beta_2, _ = rule
    full = scale_full.shape[0] > 0
    # Plain steps without a preconditioner or averaging: O(nnz) each, with
    # w = weight_scale * coef and the L1 prox lazy (see the module's docstring).
    lazy = not full and code == PLAIN and average_from == 0 and _is_identity(shift, scale_diag)
    weight_scale = 1.0
    threshold = 0.0  # C: the cumulative threshold, in units of coef
    caught_up = np.zeros(n_features if lazy and l1_strength > 0.0 else 0)  # C when each coef was last updated
    lazy_l1 = caught_up.shape[0] > 0
    residuals = np.empty(batch_size if lazy else 0)
    decay_1, decay_2 = (beta_1**rule_count, beta_2**rule_count) if code == ADAM else (1.0, 1.0)
    grad = np.zeros(0 if lazy else n_features)
    step = np.empty(0 if lazy else n_features)
    loss_sum = 0.0
    for start in range(0, n_rows, batch_size):
        stop = min(start + batch_size, n_rows)
        size = stop - start
        grad_intercept = 0.0
        for k in range(start, stop):
            if k + PREFETCH_DISTANCE < n_rows:
                ahead = order[k + PREFETCH_DISTANCE]
                prefetch_span(data, indptr[ahead], indptr[ahead + 1])
                prefetch_span(indices, indptr[ahead], indptr[ahead + 1])
                prefetch_span(y, ahead, ahead + 1)
                prefetch_span(sample_weight, ahead, ahead + 1)
            i = order[k]
            dot = 0.0
            if lazy_l1:  # (two loops, so that the plain one has no stores)
                for n in range(indptr[i], indptr[i + 1]):
                    j = indices[n]
                    coef[j] = soft_threshold(coef[j], threshold - caught_up[j])
                    caught_up[j] = threshold
                    dot += data[n] * coef[j]
            else:
                for n in range(indptr[i], indptr[i + 1]):
                    dot += data[n] * coef[indices[n]]
            r, row_loss = _row_terms(loss, intercept + weight_scale * dot, y[i], sample_weight[i])
            loss_sum += row_loss
            grad_intercept += r
            if lazy:
                residuals[k - start] = r
            elif r != 0.0:
                for n in range(indptr[i], indptr[i + 1]):
                    grad[indices[n]] += r * data[n]
        t += 1
        rule_count += 1
        eta = batch_learning_rate(schedule, t, size, batch_size)
        if lazy:
            shrink = 1.0 - eta * l2_strength
            if not shrink * weight_scale > MIN_WEIGHT_SCALE:
                # fold the scale into the coefficients before it underflows (or turns negative)
                _catch_up(coef, weight_scale, threshold, caught_up)
                weight_scale, threshold = 1.0, 0.0
                if not shrink > MIN_WEIGHT_SCALE:
                    for j in range(n_features):
                        coef[j] *= shrink
                    shrink = 1.0
            weight_scale *= shrink
            cut = eta * l1_strength / weight_scale
            threshold += cut
            for k in range(start, stop):
                i = order[k]
                c = eta * (residuals[k - start] / size) / weight_scale
                if lazy_l1 and size == 1:  # a row's columns are distinct (canonical CSR): prox each once
                    for n in range(indptr[i], indptr[i + 1]):
                        j = indices[n]
                        coef[j] = soft_threshold(coef[j] - c * data[n], cut)
                        caught_up[j] = threshold
                elif c != 0.0:
                    for n in range(indptr[i], indptr[i + 1]):
                        coef[indices[n]] -= c * data[n]
            if lazy_l1 and size > 1:  # the prox of each coefficient the batch touched, once
                for k in range(start, stop):
                    i = order[k]
                    for n in range(indptr[i], indptr[i + 1]):
                        j = indices[n]
                        if caught_up[j] != threshold:
                            coef[j] = soft_threshold(coef[j], cut)
                            caught_up[j] = threshold
            if fit_intercept:
                intercept -= eta * (grad_intercept / size)
        elif not full and code == PLAIN:
            intercept = _diagonal_plain_step(coef, intercept, grad, grad_intercept, size, fit_intercept, penalty,
                                             eta, shift, scale_diag)
        else:
            for j in range(n_features):
                grad[j] -= grad_intercept * shift[j]
            corrections, decay_1, decay_2 = _corrections(rule, decay_1, decay_2)
            intercept = _apply_step(
                coef, intercept, grad, grad_intercept, size, fit_intercept, penalty, eta,
                preconditioner, rule, rule_state, corrections, step,
            )
        if average_from > 0 and t >= average_from:
            _average(coef, intercept, rule_state[AVERAGE], t - average_from + 1)
        if path is not None:
            update = start // batch_size
            for j in range(n_features):
                value = coef[j]
                if lazy_l1:
                    value = soft_threshold(value, threshold - caught_up[j])
                path[update, j] = weight_scale * value
            path[update, n_features] = intercept
    if lazy:
        _catch_up(coef, weight_scale, threshold, caught_up)
    return loss_sum, intercept, t, rule_count


@njit(cache=True, fastmath=FASTMATH, error_model=ERROR_MODEL)
def _diagonal_plain_step(coef, intercept, grad, grad_intercept, size, fit_intercept, penalty, eta, shift, scale_diag):
    """The plain rule's step with a diagonal ``P``, in one pass over the coefficients; returns the new intercept.

    ``grad`` holds ``sum_B s_i dloss_i x_i`` over the batch's non-zeros, and
    is zeroed for the next batch; ``shift`` enters as the rank-one
    ``grad_intercept * shift``. The L1 part is the proximal step of the
    metric ``P`` (``_penalties``), the intercept following the actual change
    of the coefficients.
    """
    l1_strength, l2_strength = penalty
    mean_residual = grad_intercept / size
    shift_step = 0.0
    for j in range(coef.shape[0]):
        old = coef[j]
        g = grad[j] / size - mean_residual * shift[j] + l2_strength * old
        new = old - eta * (scale_diag[j] * g)
        if l1_strength > 0.0:
            new = soft_threshold(new, eta * l1_strength * scale_diag[j])
        coef[j] = new
        shift_step += shift[j] * (old - new)
        grad[j] = 0.0
    if fit_intercept:
        intercept += shift_step - eta * mean_residual
    return intercept


@njit(cache=True)
def _catch_up(coef, weight_scale, threshold, caught_up):
    """Every coefficient brought up to date, ``w = weight_scale * soft(c, C - C_j)``; the bookkeeping reset."""
    lazy_l1 = caught_up.shape[0] > 0
    for j in range(coef.shape[0]):
        value = coef[j]
        if lazy_l1:
            value = soft_threshold(value, threshold - caught_up[j])
            caught_up[j] = 0.0
        coef[j] = weight_scale * value
