"""Where the rows come from: one small class per kind of data, which the engine asks alike.

:func:`training_rows` builds it from a design (see ``_features``), ``y``, the
weights and the training rows: :class:`ArrayRows` (NumPy, ``_kernels``;
``y`` may be 2-D, see ``_targets``), :class:`LazyRows` (expanded a chunk of
whole batches at a time), :class:`CsrRows` (``_sparse``), :class:`DeviceRows`
(another Array API namespace, ``_vectorised``) or ``_dask.Blocks`` (rows on
blocks: they hold their ``y`` and weights, and draw their own order).
"""

import copy
from functools import cached_property

import numpy as np

from . import _vectorised
from ._array_api import device_rows, is_device_array, namespace, to_numpy, xp_device
from ._arrays import kernel_array
from ._features import ExpandedRows
from ._kernels import batch_step, batch_sums, loss_sums, minibatch_epoch
from ._sparse import SparseRows, sparse_batch_sums, sparse_loss_sums, sparse_minibatch_epoch
from ._target_kernels import DENSE_TARGET_KERNELS, SPARSE_TARGET_KERNELS, target_moments, target_scales


def training_rows(X, y, sample_weight, rows=None):
    """The rows object of the design ``X`` (rows on blocks are their own), ``y``, the weights and the training ``rows``."""
    if isinstance(X, Rows):  # rows on blocks (see _dask): they hold their y (or one of its targets) and weights
        return X.holding(y)
    if is_device_array(X):
        return DeviceRows(X, y, sample_weight, rows)
    kind = {SparseRows: CsrRows, ExpandedRows: LazyRows}.get(type(X), ArrayRows)
    return kind(X, y, sample_weight, rows)


class Rows:
    """The training rows of one kind of data, and the passes the engine makes over them.

    Each kind gives ``gradient_sums(coef, intercept, loss, shift)`` (the
    full-batch sums, for :meth:`step`), ``updates`` (:meth:`epoch` in batches)
    and ``model_loss_sums`` (:meth:`loss_sums` of arrays); the base the rest.

    Parameters
    ----------
    X : design
    y : ndarray of shape (n_samples,), or (n_samples, n_targets) for the kinds that read several
    sample_weight : ndarray of shape (n_samples,)
        Normalised to mean 1 over the training rows.
    rows : ndarray of int64, default=None
        The training rows, increasing; None for all.

    Attributes
    ----------
    n_samples : int
    indices : ndarray of int64
        The training rows in memory order (the kernels' ``rows``), built
        when first asked for.
    one_pass : bool
        Whether a full batch is one ``gradient_sums`` and one :meth:`step` (not lazily).
    """

    one_pass = True
    scale = None  # the target's scale where :meth:`targets` measured it

    def __init__(self, X, y, sample_weight, rows=None):
        self.X, self.y, self.sample_weight, self.rows = X, y, sample_weight, rows
        self.n_samples = X.shape[0] if rows is None else rows.shape[0]

    @cached_property
    def indices(self):
        """The training rows in memory order, built when a pass first asks for them (a shuffled epoch does not)."""
        return np.arange(self.n_samples) if self.rows is None else self.rows

    def order(self, rng, shuffle):
        """The rows of the next epoch: in memory order, or in a new random order drawn from ``rng``."""
        if not shuffle:
            return self.indices
        permutation = rng.permutation(self.n_samples)
        return permutation if self.rows is None else self.rows[permutation]

    def epoch(self, order, batch_size, coef, state, settings, schedule, average_from, updates):
        """One epoch of updates on ``coef`` (in place) over the rows in ``order``, ``batch_size`` rows each.

        Returns ``(loss_sum, intercept, t, rule_count)`` as
        ``_kernels.minibatch_epoch`` does; ``updates`` (None, or one row per
        update) receives the coefficients and intercept after each update.
        """
        if not (self.one_pass and batch_size == self.n_samples):  # (a full batch is in memory order)
            return self.updates(order, batch_size, coef, state, settings, schedule, average_from, updates)
        sums = self.gradient_sums(coef, state.intercept, settings.loss, state.preconditioner.shift)
        return self.step(sums, coef, state, settings, schedule, average_from, updates)

    def n_updates(self, batch_size):
        """The number of updates of an epoch in batches of ``batch_size`` rows."""
        return -(-self.n_samples // batch_size)

    def gradient_loss(self, sums):
        """The loss sum of :meth:`gradient_sums`."""
        return sums[:, -1].sum()

    def step(self, sums, coef, state, settings, schedule, average_from, updates):
        """The full-batch update of ``coef`` (in place) from ``sums``; returns what :meth:`epoch` does."""
        result = self.update(sums, coef, state.intercept, settings.fit_intercept,
                             *_step(state, settings, schedule, average_from))
        if updates is not None:
            updates[0, :-1], updates[0, -1] = to_numpy(coef), float(result[1])
        return result

    def update(self, sums, *args):
        """:func:`~skgd._kernels.batch_step` from ``sums`` (``args``: what follows its ``n_rows``)."""
        return batch_step(sums, self.n_samples, *args)

    def target(self, column):
        """The rows of one target, column ``column`` of a 2-D ``y``, as a fit to it alone has them.

        The same ``X``, weights and ``indices`` (not built again for each
        target), and the column seen in place, not copied: the k-target
        kernels read the 2-D ``y``, the column's own passes only its
        :meth:`head` (which copies it) and its :meth:`target_scale`. (The
        column of a ``y`` of one column is contiguous, as the one-target
        kernels take it.)
        """
        rows = copy.copy(self)
        rows.y, rows.indices = self.y[:, column], self.indices
        return rows

    def targets(self):
        """The rows of each target of a 2-D ``y`` (see :meth:`target`), their scales measured together in one read of ``y``."""
        scales = target_scales(self.y, self.sample_weight, self.indices)
        columns = [self.target(column) for column in range(self.y.shape[1])]
        for rows, scale in zip(columns, scales):
            rows.scale = float(scale)
        return columns

    # A 2-D y: the passes of several models, model ``a`` on column ``targets[a]``, with the k-target kernels of
    # the kind of rows (``target_kernels``, see ``_target_kernels``) over its ``parts``.

    def target_sums(self, coefs, intercepts, targets, loss, shift):
        """The full-batch sums of each model at once: shape (n_blocks, n_models, n_features + 2)."""
        (X, Y, weights, rows), = self.parts(self.indices, self.n_samples)  # a full batch: the rows in one part
        return self.target_kernels.batch_sums(X, Y, weights, rows, coefs, intercepts, targets, loss, shift)

    def target_loss_sums(self, coefs, intercepts, targets, loss):
        """Sums of the weighted losses of each model over the training rows: shape (n_models,)."""
        return sum(self.target_kernels.loss_sums(*part, coefs, intercepts, targets, loss)
                   for part in self.parts(self.indices, 1))

    def target_epoch(self, order, batch_size, coefs, intercepts, targets, *args, paths):
        """One epoch of every model over the rows in ``order``, in place (``coefs``, ``intercepts``, rule states).

        ``args`` are those of :func:`~skgd._target_kernels.targets_minibatch_epoch` from
        ``fit_intercept`` to ``average_froms``, and ``paths`` its own; returns its
        ``(loss_sums, t, rule_count)``.
        """
        fit_intercept, loss, penalty, schedule, etas, precond, t, rule, rule_states, rule_count, average_froms = args
        loss_sums, start = np.zeros(coefs.shape[0]), t
        for X_part, Y_part, weight_part, order_part in self.parts(order, batch_size):
            part_sums, t, rule_count = self.target_kernels.epoch(
                X_part, Y_part, weight_part, order_part, batch_size, coefs, intercepts, targets, fit_intercept,
                loss, penalty, schedule, etas, precond, t, rule, rule_states, rule_count, average_froms,
                paths[t - start:],
            )
            loss_sums += part_sums
        return loss_sums, t, rule_count

    def loss_sums(self, coefs, intercepts, loss):
        """Sums of the weighted losses over the training rows of the models ``coefs[m]``, ``intercepts[m]`` (lists)."""
        coefs, intercepts = np.array(coefs, dtype=np.float64), np.array(intercepts, dtype=np.float64)
        return self.model_loss_sums(coefs, intercepts, loss)

    def head(self, n_rows):
        """The first ``n_rows`` training rows, as rows of their own in memory."""
        rows = slice(None, n_rows) if self.rows is None else self.rows[:n_rows]
        return training_rows(self.X[rows], kernel_array(self.y[rows]), self.sample_weight[rows])

    def training_targets(self):
        """``y`` and the weights of the training rows."""
        rows = slice(None) if self.rows is None else self.rows
        return self.y[rows], self.sample_weight[rows]

    def target_statistics(self, robust):
        """Weighted centre of the training ``y`` (median if ``robust``, else mean), mean ``|y - centre|``, mean ``|y|``.

        For a 2-D ``y``, a list of them, one per column, from two reads of
        ``y`` (and a median per column).
        """
        if len(self.y.shape) == 2:
            centres = np.zeros(self.y.shape[1])
            if robust:
                y, weights = self.training_targets()
                centres = np.array([weighted_median(y[:, column], weights) for column in range(y.shape[1])])
            moments = target_moments(self.y, self.sample_weight, self.indices, centres, not robust)
            return [tuple(float(value) for value in column) for column in zip(*moments)]
        y, weights = self.training_targets()
        centre = weighted_median(y, weights) if robust else np.average(y, weights=weights)
        spread = np.average(np.abs(y - centre), weights=weights)
        return centre, spread, np.average(np.abs(y), weights=weights)

    def target_scale(self):
        """The scale of the targets, ``mean(s * (y**2 + |y|))`` over the training rows, for the divergence test.

        A target's rows from :meth:`targets` know theirs.
        """
        if self.scale is not None:
            return self.scale
        y_train, weight_train = self.training_targets()
        # einsum, not BLAS: a threaded BLAS call leaves its threads spinning for a
        # while, taking cores from the first epochs of the parallel batch pass.
        return (np.einsum("i,i,i->", weight_train, y_train, y_train)
                + np.einsum("i,i->", weight_train, np.abs(y_train))) / y_train.shape[0]


class ArrayRows(Rows):
    """A NumPy design, read by the compiled kernels (``_kernels``); ``y`` may be 2-D (see ``_targets``)."""

    target_kernels = DENSE_TARGET_KERNELS  # for a 2-D y, over the parts

    def parts(self, order, batch_size):
        """The ``(X, y, sample_weight, order)`` the kernels read for the rows in ``order``: one, the design itself."""
        return [(self.X, self.y, self.sample_weight, order)]

    def gradient_sums(self, coef, intercept, loss, shift):
        """The full-batch block sums of :func:`~skgd._kernels.batch_sums` at a model."""
        return batch_sums(self.X, self.y, self.sample_weight, self.indices, coef, intercept, loss, shift)

    def model_loss_sums(self, coefs, intercepts, loss):
        return sum(loss_sums(*part, coefs, intercepts, loss) for part in self.parts(self.indices, 1))

    def updates(self, order, batch_size, coef, state, settings, schedule, average_from, updates):
        """:meth:`epoch` in batches: :func:`~skgd._kernels.minibatch_epoch` over each part of the rows."""
        loss_sum, intercept, t, rule_count = 0.0, state.intercept, state.t, state.rule_count
        for X_part, y_part, weight_part, order_part in self.parts(order, batch_size):
            # Omitted, not None, without a record: the kernel compiled without its writes.
            record = () if updates is None else (updates[t - state.t:],)
            chunk_loss, intercept, t, rule_count = minibatch_epoch(
                X_part, y_part, weight_part, order_part, batch_size, coef, intercept,
                settings.fit_intercept, settings.loss, settings.penalty, schedule,
                state.preconditioner.arrays(), t, settings.rule, state.rule_state, rule_count, average_from, *record,
            )
            loss_sum += chunk_loss
        return loss_sum, intercept, t, rule_count


class LazyRows(ArrayRows):
    """A lazily expanded design (``_features.ExpandedRows``), read a chunk of whole batches at a time."""

    one_pass = False

    def parts(self, order, batch_size):
        return (
            (self.X[rows], self.y[rows], self.sample_weight[rows], np.arange(rows.shape[0]))
            for rows in self.X.chunks(order, batch_size)
        )


class CsrRows(Rows):
    """Sparse rows (``_sparse.SparseRows``), read over their non-zeros by ``_sparse``'s kernels; ``y`` may be 2-D."""

    target_kernels = SPARSE_TARGET_KERNELS

    def parts(self, order, batch_size):
        """What the k-target kernels read for the rows in ``order``: one part, the CSR arrays."""
        return [(self.X.arrays, self.y, self.sample_weight, order)]

    def gradient_sums(self, coef, intercept, loss, shift):
        """The full-batch sums of :func:`~skgd._sparse.sparse_batch_sums` at a model, as one block."""
        sums = np.empty((1, self.X.shape[1] + 2))
        sparse_batch_sums(self.X.arrays, self.y, self.sample_weight, self.indices, coef, intercept, loss, shift,
                          sums[0])
        return sums

    def model_loss_sums(self, coefs, intercepts, loss):
        return sparse_loss_sums(self.X.arrays, self.y, self.sample_weight, self.indices, coefs, intercepts, loss)

    def updates(self, order, batch_size, coef, state, settings, schedule, average_from, updates):
        record = () if updates is None else (updates,)
        return sparse_minibatch_epoch(self.X.arrays, self.y, self.sample_weight, order, batch_size, coef,
                                      state.intercept, settings.fit_intercept, settings.loss,
                                      *_step(state, settings, schedule, average_from), *record)


class DeviceRows(Rows):
    """An array of another Array API namespace, with ``y``, the weights and the model on its device.

    ``indices`` is None for all rows in memory order (slices, which copy nothing).
    """

    def __init__(self, X, y, sample_weight, rows=None):
        if len(y.shape) == 2:
            raise ValueError(f"A 2-D y ({y.shape[1]} targets) is supported for NumPy arrays only, not for arrays of "
                             "another Array API namespace: fit one model per column.")
        super().__init__(X, y, sample_weight, rows)
        self.indices = None if rows is None else device_rows(rows, X)

    def order(self, rng, shuffle):
        order = super().order(rng, shuffle)
        return device_rows(order, self.X) if shuffle else order

    def updates(self, order, batch_size, coef, state, settings, schedule, average_from, updates):
        return _vectorised.minibatch_epoch(self.X, self.y, self.sample_weight, order, batch_size, coef,
                                           state.intercept, settings.fit_intercept, settings.loss,
                                           *_step(state, settings, schedule, average_from), updates)

    def gradient_sums(self, coef, intercept, loss, shift):
        """``(gradient, intercept's gradient, loss)`` sums, see :func:`~skgd._vectorised.gradient_sums`."""
        rows = slice(None) if self.indices is None else self.indices
        return _vectorised.gradient_sums(self.X, self.y, self.sample_weight, rows, coef, intercept, loss, shift)

    def gradient_loss(self, sums):
        return float(sums[2])

    def update(self, sums, *args):
        return (sums[2], *_vectorised.batch_step(sums[0], sums[1], self.n_samples, *args))

    def loss_sums(self, coefs, intercepts, loss):
        xp = namespace(coefs[0])
        stacked = xp.stack(coefs)
        intercepts = xp.stack([xp.asarray(i, dtype=stacked.dtype, device=xp_device(stacked)) for i in intercepts])
        return to_numpy(_vectorised.loss_sums(self.X, self.y, self.sample_weight, self.indices, stacked, intercepts,
                                              loss))

    def head(self, n_rows):
        rows = np.arange(min(n_rows, self.X.shape[0])) if self.rows is None else self.rows[:n_rows]
        return DeviceRows(self.X, self.y, self.sample_weight, rows)

    def target_scale(self):
        xp, y_train, weight_train = namespace(self.y), self.y, self.sample_weight
        if self.indices is not None:
            y_train, weight_train = xp.take(y_train, self.indices), xp.take(weight_train, self.indices)
        return float(xp.sum(weight_train * (y_train * y_train + xp.abs(y_train)))) / y_train.shape[0]


def _step(state, settings, schedule, average_from):
    """The arguments of an update that follow ``fit_intercept`` (and an epoch kernel's ``loss``)."""
    return (settings.penalty, schedule, state.preconditioner.arrays(), state.t, settings.rule, state.rule_state,
            state.rule_count, average_from)


def weighted_median(values, weights, below=0.0, half=None):
    """The weighted median of ``values``: the first (in increasing order) at which the cumulative weight reaches ``half``.

    The weight accumulates from ``below``; ``half`` is by default half of
    the weights' sum. (Rows on blocks find theirs among the rows of an
    interval, see ``_dask``.)
    """
    order = np.argsort(values, kind="stable")
    cumulative = below + np.cumsum(weights[order])
    at = np.searchsorted(cumulative, 0.5 * cumulative[-1] if half is None else half)
    return values[order][min(at, values.size - 1)]
