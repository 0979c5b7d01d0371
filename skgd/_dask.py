"""Dask arrays: training passes run where the blocks live; only models and sums travel.

A dask ``X`` (chunked by rows, one chunk of columns: rechunked if not) is
never gathered on the client or on one worker. Its blocks, with the blocks
of ``y`` and of the sample weights cut alike, form a :class:`Blocks`: the
rows object (see ``_rows``) the engine asks for what a solver needs:

- ``gradient_sums``: the loss and gradient sums of one model over all rows,
  for the ``'batch'`` solver. Each block runs the compiled pass the in-memory solver
  uses (:func:`~skgd._kernels.batch_sums`) where it lives and gives one
  vector of ``n_features + 2`` sums; the client adds them in block order,
  so that the result does not depend on which worker holds which block.
  The update is then the in-memory one, :func:`~skgd._kernels.batch_step`,
  on the client.
- ``updates``: one pass of ``'minibatch'`` or ``'sgd'``. The model (its
  coefficients, intercept and update rule's state: a few vectors) travels
  from block to block; each block runs :func:`~skgd._kernels.minibatch_epoch`
  on its rows, in :func:`epoch_order`'s order (drawn by ``order``): the blocks in a fresh
  random order, the rows of each block in a random order of their own. Unlike
  a full shuffle, the rows of one block stay together in an epoch, and a
  batch never spans two blocks (a block's last batch may be short).
- ``model_loss_sums``: the objectives of models (the ``Judge`` of ``'auto'``),
  added in block order too.
- ``__getitem__`` and ``head``: design rows as a NumPy array, for a sample
  of rows (the ``'auto'`` statistics, at most 20,000 rows) and the final
  check (1,000).
- ``target_statistics``: the centre of ``y`` for ``'auto'``: its weighted
  mean, or for the robust losses its weighted median, found exactly in a
  few passes of histograms over ``y`` (:meth:`Blocks.weighted_median`),
  never gathering it.
- ``split``: early stopping's held-out rows, drawn in each block where it
  lives (:func:`validation_split`); the training rows and the held-out rows
  are two :class:`Blocks` of the same blocks, and the validation R² is
  computed blockwise (:class:`HeldOut`).

With a ``distributed.Client`` in scope and the blocks persisted on it, a
pass over every block is one call per worker to a ``distributed`` actor
(:class:`Share`) that holds the blocks the worker runs: each of the
worker's threads runs its share of them, one block after the other, and
the results of the worker come back together. No task and no graph is
made per pass: a call is one request from the client to the worker and
back (1 to 2 ms on a ``LocalCluster``), where a task's messages wait on
the client's, the scheduler's and the worker's batched streams (10 to
18 ms for a pass of two tasks). The blocks are first balanced over the
workers, in proportion to their threads (a worker holding more than its
share hands its last blocks on, once, see :func:`balanced`), so that a
pass takes the time of one share, wherever the scheduler had put the
blocks. Otherwise (the threaded scheduler, or blocks computed again at
every pass) a pass is one ``dask.delayed`` task per block, computed by
``dask.compute``, which the ``distributed.Client`` in scope runs where
each block is.

Blocks are persisted (kept in the workers' memory between epochs) when
``X``, ``y`` and the weights take at most :data:`PERSIST_SHARE` of the
memory of the workers (their ``memory_limit``), or, without a
``distributed.Client``, of this machine's available memory. Otherwise
every pass computes the blocks again from their source (out of core): a
lazily generated or file-backed array is regenerated or read each epoch.

The feature map (polynomial expansion, standardisation, rotation) is applied
to each block where it lives.
"""

import copy
import functools
import numbers
import os

import numpy as np

from ._arrays import float64_coef, kernel_array
from ._features import RAW_FEATURES
from ._kernels import linear_predictions, minibatch_epoch
from ._losses import loss_tuple
from ._preconditioning import Moments
from ._rows import ArrayRows, Rows, training_rows, weighted_median
from ._targets import target_predictions

# Values each block sends per round of the blockwise weighted median.
MEDIAN_PIVOTS = 1024
# Blocks whose held-out rows (early stopping) a process keeps between passes.
HELD_OUT_BLOCKS = 64
# Persist the data when it takes at most this share of the workers' memory.
PERSIST_SHARE = 0.5


def is_dask(array):
    """Whether ``array`` is a dask array (dask itself is imported only if it is)."""
    return type(array).__module__.startswith("dask.array")


# --------------------------------------------------------------------------- validation


def validate_training_data(estimator, X, y, sample_weight, reset):
    """Validated rows of dask ``X``, ``y`` and ``sample_weight``, as the estimator's validation gives them.

    Returns a :class:`Blocks` and its ``y`` and weights as :class:`Column`
    objects; the weights are normalised to mean 1 (lazily). Checks the
    values in one pass over the blocks.
    """
    import dask
    import dask.array as da

    X = validate_X(estimator, X, reset)
    y = da.asarray(y)
    if y.ndim not in (1, 2):
        raise ValueError(f"y should be a 1d or 2d array, got an array of shape {y.shape} instead.")
    if y.shape[0] != X.shape[0]:
        raise ValueError(
            f"Found input variables with inconsistent numbers of samples: [{X.shape[0]}, {y.shape[0]}]"
        )
    # a 2-D y (several targets, see _targets): its blocks hold every target of their rows
    y = y.astype(np.float64).rechunk((X.chunks[0], *((-1,) if y.ndim == 2 else ())))
    if sample_weight is None:
        weights = da.ones(X.shape[0], chunks=(X.chunks[0],))
    elif isinstance(sample_weight, numbers.Number):
        weights = da.full(X.shape[0], float(sample_weight), chunks=(X.chunks[0],))
    else:
        weights = da.asarray(sample_weight).astype(np.float64)
        if weights.shape != (X.shape[0],):
            raise ValueError(f"sample_weight.shape == {weights.shape}, expected {(X.shape[0],)}!")
        weights = weights.rechunk((X.chunks[0],))
    X, y, weights = _persisted_if_room(X, y, weights)
    finite_X, finite_y, largest, smallest_weight, largest_weight, total_weight, finite_weights = dask.compute(
        da.isfinite(X).all(), da.isfinite(y).all(), abs(y).max(), weights.min(), weights.max(), weights.sum(),
        da.isfinite(weights).all(),
    )
    if not finite_X:
        raise ValueError("Input X contains NaN or infinity.")
    if not finite_y:
        raise ValueError("Input y contains NaN or infinity.")
    if not finite_weights:
        raise ValueError("Input sample_weight contains NaN or infinity.")
    if smallest_weight < 0:
        raise ValueError("Negative values in data passed to `sample_weight`")
    if not largest_weight > 0:
        raise ValueError("The sample weights sum to zero: at least one must be positive.")
    estimator._check_target_magnitude(float(largest), X.shape[0])
    # as in memory: divided by the largest, then by the mean (known now: no reduction left in the graph)
    weights = weights / largest_weight / (total_weight / largest_weight / X.shape[0])
    if _persisted(X):
        weights = weights.persist()
    blocks = Blocks(X, y, weights)
    return blocks, blocks.y, blocks.sample_weight


def validate_X(estimator, X, reset):
    """``X`` as a float dask array of one column chunk; sets or checks ``n_features_in_``."""
    from sklearn.utils.validation import _check_n_features

    if X.ndim != 2:
        raise ValueError(f"Expected 2D array, got {X.ndim}D array instead.")
    if X.shape[0] < 1:
        raise ValueError(f"Found array with 0 sample(s) (shape={X.shape}) while a minimum of 1 is required.")
    if np.isnan(X.shape[0]) or any(np.isnan(size) for size in X.chunks[0]):
        raise ValueError("The dask array's chunk sizes must be known: call X.compute_chunk_sizes() first.")
    if X.dtype not in (np.float32, np.float64):
        X = X.astype(np.float64)
    if len(X.chunks[1]) > 1:
        X = X.rechunk({1: -1})
    _check_n_features(estimator, X, reset=reset)
    if reset and hasattr(estimator, "feature_names_in_"):
        del estimator.feature_names_in_
    return X


def _client():
    """The ``distributed.Client`` in scope, or None."""
    try:
        from distributed import default_client
    except ImportError:
        return None
    try:
        return default_client()
    except ValueError:
        return None


def workers_memory():
    """Bytes the blocks may take: the workers' memory limits, or this machine's available memory."""
    client = _client()
    if client is not None:
        limits = [worker.get("memory_limit") or 0 for worker in client.scheduler_info()["workers"].values()]
        if limits and all(limits):
            return sum(limits)
    try:
        import psutil  # comes with distributed
    except ImportError:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    return psutil.virtual_memory().available


def _persisted_if_room(*arrays):
    """``arrays`` persisted when they fit in :data:`PERSIST_SHARE` of the workers' memory, else as given."""
    if sum(array.nbytes for array in arrays) > PERSIST_SHARE * workers_memory():
        return arrays
    import dask

    return dask.persist(*arrays)


def _persisted(array):
    """Whether every task of ``array``'s graph is a computed block."""
    return len(array.__dask_graph__()) == array.npartitions


# --------------------------------------------------------------------------- rows on blocks


class Column:
    """``y`` or the sample weights on the blocks of a :class:`Blocks`: indexing gathers the rows asked for.

    A 2-D ``y`` (several targets) has shape (n_samples, n_targets);
    ``y[:, column]`` is the :class:`Column` of one target (``column``), whose
    blocks are those of the 2-D ``y``, the target taken where they live.
    """

    def __init__(self, array, blocks, column=None):
        self.array, self.blocks, self.column = array, blocks, column
        self.shape = (blocks.shape[0], *(array.shape[1:] if column is None else ()))

    def __getitem__(self, rows):
        if isinstance(rows, tuple):  # y[:, column]: one target
            every_row, column = rows
            if every_row != slice(None) or self.column is not None or len(self.shape) != 2:
                raise IndexError(f"{rows!r}: rows on blocks give one target as y[:, column]")
            return Column(self.array, self.blocks, int(column))
        gathered = self.blocks.gather(self.array, rows)
        return gathered if self.column is None else np.ascontiguousarray(gathered[:, self.column])


class Blocks(Rows):
    """The rows of a design on the blocks of a dask ``X``, with ``y`` and weights cut alike: all are training rows.

    ``features`` (see ``_features``) maps a block of ``X`` to its block of
    the design, where the block lives. ``selection`` says which rows of each
    block count (see :meth:`split`): None for all of them, else one
    ``(seed, n_held_out, held_out)`` per block; the rows are then those
    kept, in their order (``shape[0]`` is their number). With a 2-D ``y``,
    ``column`` is None for every target (the k-target passes, ``target_*``),
    or the one target whose rows these are (:meth:`target`): each block
    then takes that column of its ``y`` where it lives.
    """

    def __init__(self, X, y, weights, features=RAW_FEATURES, selection=None):
        # not Rows.__init__: its indices of all rows would be an array as long as X
        self.X, self.features, self.dtype, self.rows, self.indices = X, features, X.dtype, None, None
        self.selection = [None] * len(X.chunks[0]) if selection is None else list(selection)
        self.lengths = np.array([_kept_count(choice, length) for choice, length in zip(self.selection, X.chunks[0])],
                                dtype=np.int64)
        self.blocks = list(zip(X.to_delayed().ravel(), y.to_delayed().ravel(), weights.to_delayed().ravel()))
        n_columns = features.design(np.zeros((1, X.shape[1]), dtype=X.dtype)).shape[1]
        self.shape = (int(self.lengths.sum()), n_columns)
        self.n_samples = self.shape[0]
        self.column = None
        self.y, self.sample_weight = Column(y, self), Column(weights, self)
        self.placement = _placement(X, y, weights)

    def target(self, column):
        """The rows of one target of a 2-D ``y``: these blocks, each taking column ``column`` of its ``y``."""
        rows = copy.copy(self)
        rows.column, rows.y = int(column), Column(self.y.array, rows, int(column))
        return rows

    def targets(self):
        """The rows of each target of a 2-D ``y`` (see :meth:`target`), each measuring its own scale on the blocks."""
        return [self.target(column) for column in range(self.y.shape[1])]

    def holding(self, y):
        """These rows with ``y``: their own, or one target of it (a :class:`Column` ``y[:, column]``)."""
        return self if y.column == self.column else self.target(y.column)

    def mapped(self, features):
        """The same rows under another feature map."""
        mapped = copy.copy(self)
        mapped.features = features
        mapped.shape = (self.shape[0], features.design(np.zeros((1, self.X.shape[1]), dtype=self.dtype)).shape[1])
        return mapped

    def __getitem__(self, rows):
        """Design rows ``rows`` (a slice or increasing indices) as a NumPy array, gathered from their blocks."""
        return _design(self.features, self.gather(self.X, rows))

    def head(self, n_rows):
        """The first ``n_rows`` rows, gathered as :class:`~skgd._rows.ArrayRows`."""
        rows = slice(None, n_rows)
        return training_rows(self[rows], self.y[rows], self.sample_weight[rows])

    def gather(self, array, rows):
        """Rows ``rows`` (a slice or increasing indices) of the rows kept of ``array`` (``X``, ``y`` or the weights).

        Each block gives the rows asked of it where it lives, so that only they travel.
        """
        import dask

        if isinstance(rows, slice):
            rows = np.arange(*rows.indices(self.shape[0]))
        rows = np.asarray(rows)
        starts = np.concatenate([[0], np.cumsum(self.lengths)])
        bounds = np.searchsorted(rows, starts)
        taken = [dask.delayed(_take)(block, choice, rows[bounds[b]:bounds[b + 1]] - starts[b])
                 for b, (block, choice) in enumerate(zip(array.to_delayed().ravel(), self.selection))
                 if bounds[b + 1] > bounds[b]]
        if not taken:
            return np.empty((0, *array.shape[1:]), dtype=array.dtype)
        return np.concatenate(dask.compute(*taken))

    def each_block(self, task, *args, design=True):
        """``task(block, *args)`` on every block, where it lives; the results in block order.

        ``block`` is the block's :class:`~skgd._rows.ArrayRows`: its design,
        ``y`` and weights (writable), its rows kept as its training rows.
        Without ``design``, ``task(y, w, *args)`` on the rows kept of ``y``
        and the weights alone (``X`` is then not even computed).

        With a ``distributed.Client`` and persisted blocks, one call to
        each worker's :class:`Share` (see :func:`_placement`), whose threads
        run their shares of its blocks, the results of the worker sent back
        together; otherwise one ``dask.delayed`` task per block.
        """
        features = self.features if design else None
        if self.placement is None:
            import dask

            return list(dask.compute(*[
                dask.delayed(_on_block)(task, features, self.column,
                                        *(part if design else (None, *part[1:])), choice, args)
                for part, choice in zip(self.blocks, self.selection)
            ]))
        calls = [(shares, actor.run(task, features, self.column, {b: self.selection[b] for share in shares
                                                                      for b in share}, args, design))
                 for _, shares, actor, _ in self.placement]
        results = [None] * len(self.blocks)
        for shares, call in calls:
            for share, values in zip(shares, call.result()):
                for b, value in zip(share, values):
                    results[b] = value
        return results

    def target_scale(self):
        """``mean(w * (y**2 + |y|))``, the engine's scale of the targets."""
        return sum(self.each_block(_scale_sum, design=False)) / self.shape[0]

    def order(self, rng, shuffle):
        """The blocks of the next epoch and the seeds of their rows' orders (see :func:`block_schedule`)."""
        return block_schedule(rng, len(self.blocks), shuffle)

    def n_updates(self, batch_size):
        """The number of updates of an epoch: a batch never spans two blocks (one update for a full batch)."""
        if batch_size >= self.n_samples:
            return 1
        return int(np.sum(-(-self.lengths // batch_size)))

    def gradient_sums(self, coef, intercept, loss, shift):
        """Loss and gradient sums at one model, as one row of :func:`~skgd._kernels.batch_sums`.

        The blocks' sums are added in block order, wherever the blocks are.
        """
        return np.sum(self.each_block(_block_sums, coef, intercept, loss, shift), axis=0)[None, :]

    def model_loss_sums(self, coefs, intercepts, loss):
        """Sums of the weighted losses of several models over all rows, added in block order."""
        return np.sum(self.each_block(_block_loss_sums, coefs, intercepts, loss), axis=0)

    def target_sums(self, coefs, intercepts, targets, loss, shift):
        """The full-batch sums of several models (a 2-D ``y``), as one block: shape (1, n_models, n_features + 2).

        Each block runs the k-target pass of the in-memory fit
        (:meth:`~skgd._rows.Rows.target_sums`) where it lives and sends one
        (n_models, n_features + 2) array; they are added in block order.
        """
        return np.sum(self.each_block(_block_target_sums, coefs, intercepts, targets, loss, shift), axis=0)[None]

    def target_loss_sums(self, coefs, intercepts, targets, loss):
        """Sums of the weighted losses of several models (a 2-D ``y``) over all rows, added in block order."""
        return np.sum(self.each_block(_block_target_loss_sums, coefs, intercepts, targets, loss), axis=0)

    def moments(self, sample_weight=None):
        """Weighted :class:`~skgd._preconditioning.Moments` (diagonal) of the design, merged in block order.

        The weights are the blocks' own (``sample_weight`` is them, as a :class:`Column`).
        """
        return _merge_moments(self.each_block(_block_moments))

    def target_statistics(self, robust):
        """Weighted centre of ``y`` (mean, or median for ``robust``), mean ``|y - centre|`` and mean ``|y|``.

        The weighted median is found blockwise (see :meth:`weighted_median`).
        For a 2-D ``y``, a list of them, one per target.
        """
        if self.column is None and len(self.y.shape) == 2:
            return [rows.target_statistics(robust) for rows in self.targets()]
        if robust:
            centre = self.weighted_median()
        else:
            total, weighted = np.sum(self.each_block(_weighted_sums, design=False), axis=0)
            centre = weighted / total
        total, spread, size = np.sum(self.each_block(_spread_sums, centre, design=False), axis=0)
        return float(centre), float(spread / total), float(size / total)

    def weighted_median(self):
        """The weighted median of ``y``, equal to ``_rows.weighted_median`` of all its rows, without gathering them.

        An interval ``(low, high]`` holds the median (at first, every
        number). Each block sends its rows in it if it has at most
        :data:`MEDIAN_PIVOTS` of them, else that many of their order
        statistics (their smallest and largest among them); then the
        weights of its rows up to each value sent (a histogram) place the
        median between two consecutive values. That interval holds at most
        about ``1 / MEDIAN_PIVOTS`` of each block's rows of the last one,
        until every block sends its rows in it: the median is then found
        among them as in memory, from the weight of the rows below ``low``.
        Two passes over ``y`` and the weights per round; one round when
        every block has at most :data:`MEDIAN_PIVOTS` rows.
        """
        low, high, below, half = -np.inf, np.inf, 0.0, None
        while True:
            replies = self.each_block(_median_candidates, low, high, design=False)
            if half is None:
                half = 0.5 * sum(total for _, _, _, total in replies)
            if all(whole for whole, _, _, _ in replies):  # every row in (low, high]
                values = np.concatenate([values for _, values, _, _ in replies])
                weights = np.concatenate([weights for _, _, weights, _ in replies])
                return weighted_median(values, weights, below, half)
            pivots = np.unique(np.concatenate([values for _, values, _, _ in replies]))
            if pivots[0] == high:  # every row in (low, high] is at high
                return high
            cumulative = below + np.cumsum(np.sum(self.each_block(_weights_up_to, low, high, pivots, design=False),
                                                  axis=0))
            at = min(int(np.searchsorted(cumulative, half)), pivots.size - 1)
            if at:
                low, below = pivots[at - 1], cumulative[at - 1]
            high = pivots[at]

    def split(self, fraction, rng):
        """The training rows and the held-out rows for early stopping, as two :class:`Blocks`.

        Each block holds out its share of ``ceil(fraction * n_samples)``
        rows, drawn where it lives (see :func:`validation_split`). Raises as
        the in-memory split does for an empty side, or held-out weights of
        zero. The weights of both are divided by the mean weight of the
        training rows, as in memory.
        """
        from ._linear import check_validation_split

        seeds, held_out = validation_split(rng, self.X.chunks[0], fraction)
        training = Blocks(self.X, self.y.array, self.sample_weight.array, self.features,
                          [(seed, count, False) for seed, count in zip(seeds, held_out)])
        validation = Blocks(self.X, self.y.array, self.sample_weight.array, self.features,
                            [(seed, count, True) for seed, count in zip(seeds, held_out)])
        training_weight = np.sum(training.each_block(_weight_counts, design=False), axis=0)[0]
        validation_weight, positive = np.sum(validation.each_block(_weight_counts, design=False), axis=0)
        check_validation_split(self.shape[0], fraction, training.shape[0], validation.shape[0], training_weight,
                               validation_weight, positive)
        weights = self.sample_weight.array / (training_weight / training.shape[0])
        if self.placement is not None or _persisted(self.sample_weight.array):
            weights = weights.persist()
        return (Blocks(self.X, self.y.array, weights, self.features, training.selection),
                Blocks(self.X, self.y.array, weights, self.features, validation.selection))

    def validation(self, features):
        """These rows, under ``features``, as the held-out set of early stopping (see :class:`HeldOut`)."""
        return HeldOut(self.mapped(features))

    def updates(self, order, batch_size, coef, state, settings, schedule, average_from, updates):
        """One pass of :func:`~skgd._kernels.minibatch_epoch` over the blocks in ``order`` (see :meth:`order`).

        Updates ``coef`` and the rule's state in place and returns the loss
        sum, intercept, update count and rule count, as the kernel does;
        ``updates`` (None, or a row per update) receives the path.
        """
        import dask

        rule_state = state.rule_state
        model = (coef, state.intercept, state.t, state.rule_count, rule_state, 0.0)
        records = []
        for block, seed in zip(*order):
            model, record = dask.delayed(_block_epoch, nout=2)(
                self.features, self.column, *self.blocks[block], self.selection[block], seed, model, batch_size,
                settings.fit_intercept, settings.loss, settings.penalty, schedule, state.preconditioner.arrays(),
                settings.rule, average_from, updates is not None,
            )
            records.append(record)
        model, records = dask.compute(model, records if updates is not None else [])
        new_coef, intercept, t, rule_count, new_rule_state, loss_sum = model
        coef[:], rule_state[:] = new_coef, new_rule_state
        if updates is not None:
            np.concatenate(records, out=updates)
        return loss_sum, intercept, t, rule_count

    def target_epoch(self, order, batch_size, coefs, intercepts, targets, *args, paths):
        """One pass of :func:`~skgd._target_kernels.targets_minibatch_epoch` over the blocks in ``order``.

        As :meth:`updates` for several models (a 2-D ``y``): their
        coefficients, intercepts, update rule states and loss sums travel
        from block to block, each block running the in-memory fit's
        :meth:`~skgd._rows.Rows.target_epoch` on its rows. Arguments and
        result are those of :meth:`~skgd._rows.Rows.target_epoch`.
        """
        import dask

        fit_intercept, loss, penalty, schedule, etas, precond, t, rule, rule_states, rule_count, average_froms = args
        model = (coefs, intercepts, t, rule_count, rule_states, np.zeros(coefs.shape[0]))
        records = []
        for block, seed in zip(*order):
            model, record = dask.delayed(_block_target_epoch, nout=2)(
                self.features, *self.blocks[block], self.selection[block], seed, model, batch_size, targets,
                (fit_intercept, loss, penalty, schedule, etas, precond), (rule, average_froms), paths.shape[0] > 0,
            )
            records.append(record)
        model, records = dask.compute(model, records if paths.shape[0] else [])
        new_coefs, new_intercepts, t, rule_count, new_rule_states, loss_sums = model
        coefs[:], intercepts[:], rule_states[:] = new_coefs, new_intercepts, new_rule_states
        if paths.shape[0]:
            np.concatenate(records, out=paths)
        return loss_sums, t, rule_count


class HeldOut:
    """The held-out rows of early stopping on blocks: R² scored blockwise, as ``_engine.Validation`` in memory."""

    def __init__(self, blocks):
        self.blocks = blocks
        self.total = None  # the weighted sum of squares about the mean, at the first score (of one target)

    def target(self, column):
        """The held-out rows of one target, column ``column`` of a 2-D ``y``."""
        return HeldOut(self.blocks.target(column))

    def score(self, coef, intercept):
        """R² of the linear model (coefficients of the design, intercept) on the held-out rows."""
        if self.total is None:
            total, weighted = np.sum(self.blocks.each_block(_weighted_sums, design=False), axis=0)
            self.total = float(np.sum(self.blocks.each_block(_squares_about, weighted / total, design=False)))
        error = 2.0 * float(self.blocks.loss_sums(coef[None, :], np.array([float(intercept)]),
                                                  loss_tuple("squared_error", 0.0))[0])
        return 1.0 - error / self.total if self.total > 0 else 0.0


def validation_split(rng, lengths, fraction):
    """Which rows of blocks of ``lengths`` rows early stopping holds out: a seed and a number for each block.

    As ``ShuffleSplit(test_size=fraction)`` in memory, ``ceil(fraction *
    n_samples)`` rows are held out, spread over the blocks in proportion to
    their lengths: the block of rows ``start`` to ``stop`` holds out
    ``ceil(fraction * stop) - ceil(fraction * start)`` of them, chosen where
    it lives by ``numpy.random.default_rng(seed).choice``, with one seed per
    block drawn by ``rng.randint``.
    """
    ends = np.ceil(fraction * np.concatenate([[0], np.cumsum(lengths)])).astype(np.int64)
    return rng.randint(np.iinfo(np.int32).max, size=len(lengths)), np.diff(ends)


def validation_rows(rng, lengths, fraction):
    """The training rows and the held-out rows (increasing indices) of :func:`validation_split`.

    The in-memory equivalent of a dask fit's split, drawing from ``rng`` as it does.
    """
    starts = np.concatenate([[0], np.cumsum(lengths)])
    seeds, held_out = validation_split(rng, lengths, fraction)
    return tuple(
        np.concatenate([starts[b] + _kept_rows((seed, count, side), length)
                        for b, (seed, count, length) in enumerate(zip(seeds, held_out, lengths))])
        for side in (False, True)
    )


def _kept_rows(choice, length):
    """The rows of a block of ``length`` rows that a selection ``choice`` keeps (increasing), or None for all."""
    if choice is None:
        return None
    seed, n_held_out, held_out = choice
    rows = _held_out_rows(seed, length, n_held_out)
    if held_out:
        return rows
    kept = np.ones(length, dtype=bool)
    kept[rows] = False
    return np.flatnonzero(kept)


@functools.lru_cache(maxsize=HELD_OUT_BLOCKS)
def _held_out_rows(seed, length, n_held_out):
    """A block's held-out rows (increasing), drawn once where it lives, then kept for the next passes."""
    rows = np.sort(np.random.default_rng(seed).choice(length, n_held_out, replace=False))
    rows.flags.writeable = False
    return rows


def _kept_count(choice, length):
    if choice is None:
        return length
    _, n_held_out, held_out = choice
    return n_held_out if held_out else length - n_held_out


def _placement(*arrays):
    """Where the passes over persisted blocks run, for :meth:`Blocks.each_block`: one :class:`Share` per worker.

    Returns ``(worker, shares, actor, future)`` for each worker that runs passes:
    ``shares`` are lists of blocks (in block order), one per thread of the
    worker, each an equal share of the blocks it runs; ``actor`` is a
    :class:`Share` on that worker, holding the parts (``X``, ``y``, the
    weights) of those blocks. A worker runs the blocks it holds, unless it
    holds more than its share of the rows (in proportion to its threads,
    within half a block): its last blocks then go to the workers with the
    most room (:func:`balanced`), so that a pass takes the time of one
    share, not of the most loaded worker's blocks. The parts of a block are
    brought to its worker once, when the actor starts (the scheduler may
    have put the blocks of ``y`` and of the weights elsewhere than their
    block of ``X``): a pass fetches nothing. The actor keeps them while the
    fit runs (a part brought from elsewhere then takes memory twice), the
    originals staying where they are (the caller's persisted arrays may
    hold them); ``future`` is the actor's, which keeps it while held.

    None without a ``distributed.Client`` or with blocks not persisted on it.
    """
    client = _client()
    if client is None:
        return None
    from dask.core import flatten
    from distributed import Actor, Future, wait

    graphs = [dict(array.__dask_graph__()) for array in arrays]
    futures = [[graph.get(key) for key in flatten(array.__dask_keys__())] for array, graph in zip(arrays, graphs)]
    if not all(isinstance(future, Future) for blocks in futures for future in blocks):
        return None
    wait(futures)
    holders = client.who_has(futures[0])
    held_by = [(list(holders.get(future.key) or []) or [None])[0] for future in futures[0]]
    threads = client.nthreads()
    on_worker = {}
    for b, worker in enumerate(balanced(held_by, arrays[0].chunks[0], threads)):
        on_worker.setdefault(worker, []).append(b)
    parts = list(zip(*futures))
    shares = [[[int(b) for b in share] for share in np.array_split(held, min(len(held), threads.get(worker, 1)))]
              for worker, held in on_worker.items()]
    actors = [client.submit(Share, {b: parts[b] for b in held}, worker_shares, actor=True, pure=False,
                            workers=None if worker is None else [worker], allow_other_workers=worker is None)
              for (worker, held), worker_shares in zip(on_worker.items(), shares)]
    wait(actors)
    runs_on = client.who_has(actors)
    # the handles made here, where the client is the one in scope (not where the loop thread unpickles them)
    return [(worker, worker_shares, Actor(Share, list(runs_on[actor.key])[0], actor.key), actor)
            for worker, worker_shares, actor in zip(on_worker, shares, actors)]


class Share:
    """The passes of one worker over the blocks it runs: a ``distributed`` actor (see :func:`_placement`).

    An actor's calls go from the client to its worker and back as one
    request (through the scheduler, which forwards it, or straight to the
    worker for a client made with ``direct_to_workers=True``), not as tasks:
    a task is a message that the client, the scheduler and the worker each
    send on in batches (the client's every 10 ms), so that a pass of a few
    tasks took 10 to 18 ms more than its arithmetic on a ``LocalCluster``;
    a call takes 1 to 2 ms.

    ``parts`` maps each block to its ``(X, y, weights)`` blocks (computed,
    on this worker); ``shares`` are lists of blocks, one per thread of the
    worker, run in parallel (the kernels release the GIL).
    """

    def __init__(self, parts, shares):
        from concurrent.futures import ThreadPoolExecutor

        self.parts, self.shares = parts, shares
        # threads of its own (the actor's calls run on one thread of the worker): not a pool the kernels use
        self.threads = ThreadPoolExecutor(len(shares), thread_name_prefix="skgd-share") if len(shares) > 1 else None

    def run(self, task, features, column, selection, args, design):
        """:func:`_on_block` on each block, ``selection`` its rows kept; each share's results, in its order."""
        def share(blocks):
            return [_on_block(task, features, column, *(self.parts[b] if design else (None, *self.parts[b][1:])),
                              selection[b], args) for b in blocks]

        if self.threads is None:
            return [share(self.shares[0])]
        return list(self.threads.map(share, self.shares))


def balanced(held_by, lengths, threads):
    """The worker each block's passes run on: the one holding it, unless that one holds more than its share.

    ``held_by`` is each block's holder (None: unknown), ``lengths`` its
    rows, ``threads`` each worker's thread count. A worker's share is the
    rows in proportion to its threads; it keeps its blocks, in block order,
    while they overfill its share by at most half a block. The others go,
    in block order, to the worker with the most room left (the first such
    in ``threads``), unless that is their holder.
    """
    total, n_threads = float(np.sum(lengths)), sum(threads.values())
    room = {worker: total * count / n_threads for worker, count in threads.items()}
    runs_on, spare = list(held_by), []
    for b, worker in enumerate(held_by):
        if worker not in room:
            continue
        if room[worker] - lengths[b] >= -lengths[b] / 2:
            room[worker] -= lengths[b]
        else:
            spare.append(b)
    for b in spare:
        worker = max(room, key=room.get)
        runs_on[b] = worker
        room[worker] -= lengths[b]
    return runs_on


def block_schedule(rng, n_blocks, shuffle):
    """The blocks of an epoch in the order visited, and the seed of each one's row order."""
    if not shuffle:
        return np.arange(n_blocks), [None] * n_blocks
    return rng.permutation(n_blocks), rng.randint(np.iinfo(np.int32).max, size=n_blocks)


def _rows_in_block(seed, length):
    return np.arange(length) if seed is None else np.random.RandomState(seed).permutation(length)


def epoch_order(rng, lengths, shuffle=True):
    """The rows of one epoch over blocks of ``lengths`` rows, in the order a dask fit visits them.

    The in-memory equivalent of a dask epoch: blocks in the order
    ``rng.permutation(n_blocks)``, then one seed per block from
    ``rng.randint``, the rows of the ``k``-th block visited in the order
    ``RandomState(seed_k).permutation(length)``. An in-memory fit whose
    epochs visit the rows in this order (and whose batches do not span
    blocks) makes the same updates as the dask fit. With early stopping,
    ``lengths`` are the blocks' training rows, and the indices are
    positions among the training rows.
    """
    starts = np.concatenate([[0], np.cumsum(lengths)])
    blocks, seeds = block_schedule(rng, len(lengths), shuffle)
    return np.concatenate([starts[b] + _rows_in_block(seed, lengths[b]) for b, seed in zip(blocks, seeds)])


# --------------------------------------------------------------------------- the tasks


def _design(features, X_block):
    return kernel_array(features.design(kernel_array(X_block)))


def _block(features, X_block, y_block, w_block, rows=None):
    """A block as rows the kernels read: the design (read-only), ``y`` (read-only), writable weights (copied only
    if not), its training ``rows``."""
    return ArrayRows(_design(features, X_block), kernel_array(y_block), np.require(w_block, np.float64, ["C", "W"]),
                     rows)


def _on_block(task, features, column, X_block, y_block, w_block, choice, args):
    """:meth:`Blocks.each_block`'s ``task`` on one block (its columns alone if ``X_block`` is None).

    ``column``: the target taken from a 2-D ``y`` (None: ``y`` as it is).
    """
    rows = _kept_rows(choice, y_block.shape[0])
    y_block = _target_of(y_block, column)
    if X_block is None:
        y, w = np.asarray(y_block, dtype=np.float64), np.asarray(w_block, dtype=np.float64)
        return task(*((y, w) if rows is None else (y[rows], w[rows])), *args)
    return task(_block(features, X_block, y_block, w_block, rows), *args)


def _target_of(y_block, column):
    """Column ``column`` of a block of a 2-D ``y`` (contiguous), or the block itself for None."""
    return y_block if column is None else np.ascontiguousarray(y_block[:, column])


def _take(block, choice, positions):
    rows = _kept_rows(choice, block.shape[0])
    return np.take(block, positions if rows is None else rows[positions], axis=0)


def _block_sums(block, coef, intercept, loss, shift):
    return block.gradient_sums(coef, intercept, loss, shift).sum(axis=0)


def _block_loss_sums(block, coefs, intercepts, loss):
    return block.model_loss_sums(coefs, intercepts, loss)


def _block_target_sums(block, coefs, intercepts, targets, loss, shift):
    return block.target_sums(coefs, intercepts, targets, loss, shift).sum(axis=0)


def _block_target_loss_sums(block, coefs, intercepts, targets, loss):
    return block.target_loss_sums(coefs, intercepts, targets, loss)


def _block_moments(block):
    return Moments.of(block.X if block.rows is None else block.X[block.rows], block.training_targets()[1], full=False)


def _merge_moments(parts):
    merged = parts[0]
    for part in parts[1:]:
        merged = merged.merge(part)
    return merged


def _scale_sum(y, w):
    return float(np.einsum("i,i,i->", w, y, y) + np.einsum("i,i->", w, np.abs(y)))


def _weighted_sums(y, w):
    return np.array([w.sum(), w @ y])


def _spread_sums(y, w, centre):
    return np.array([w.sum(), w @ np.abs(y - centre), w @ np.abs(y)])


def _squares_about(y, w, centre):
    return float(w @ (y - centre) ** 2)


def _weight_counts(y, w):
    return np.array([w.sum(), np.count_nonzero(w)])


def _median_candidates(y, w, low, high):
    """A block's rows in ``(low, high]`` if at most :data:`MEDIAN_PIVOTS`, else that many of their order statistics.

    As ``(whole, values, weights, total weight of the block)``.
    """
    inside = (y > low) & (y <= high)
    values = y[inside]
    if values.size <= MEDIAN_PIVOTS:
        return True, values, w[inside], float(w.sum())
    values = np.sort(values)
    return False, values[np.linspace(0, values.size - 1, MEDIAN_PIVOTS).astype(np.int64)], None, float(w.sum())


def _weights_up_to(y, w, low, high, pivots):
    """The weights of a block's rows in ``(low, high]`` in the bins ``(pivots[k - 1], pivots[k]]``."""
    inside = (y > low) & (y <= high)
    return np.bincount(np.searchsorted(pivots, y[inside]), weights=w[inside], minlength=pivots.size)


def _block_epoch(features, column, X_block, y_block, w_block, choice, seed, model, batch_size, fit_intercept, loss,
                 penalty, schedule, precond, rule, average_from, record):
    """:func:`~skgd._kernels.minibatch_epoch` on one block's rows kept, from ``model``; returns the new model and the path."""
    coef, intercept, t, rule_count, rule_state, loss_sum = model
    coef, rule_state = coef.copy(), rule_state.copy()
    block = _block(features, X_block, _target_of(y_block, column), w_block, _kept_rows(choice, y_block.shape[0]))
    order = block.indices[_rows_in_block(seed, block.n_samples)].astype(np.int64)
    n_updates = -(-order.shape[0] // batch_size)
    path = np.empty((n_updates, coef.shape[0] + 1)) if record else None
    block_loss, intercept, t, rule_count = minibatch_epoch(
        block.X, block.y, block.sample_weight, order, batch_size, coef, intercept, fit_intercept, loss, penalty,
        schedule, precond, t, rule, rule_state, rule_count, average_from, *(() if path is None else (path,)),
    )
    return (coef, intercept, t, rule_count, rule_state, loss_sum + block_loss), path


def _block_target_epoch(features, X_block, y_block, w_block, choice, seed, model, batch_size, targets, step, averaging,
                        record):
    """:meth:`~skgd._rows.Rows.target_epoch` on one block's rows kept, from ``model`` (several models); returns the
    new model and the path."""
    coefs, intercepts, t, rule_count, rule_states, loss_sums = model
    coefs, intercepts, rule_states = coefs.copy(), intercepts.copy(), rule_states.copy()
    fit_intercept, loss, penalty, schedule, etas, precond = step
    rule, average_froms = averaging
    block = _block(features, X_block, y_block, w_block, _kept_rows(choice, y_block.shape[0]))
    order = block.indices[_rows_in_block(seed, block.n_samples)].astype(np.int64)
    paths = np.empty((block.n_updates(batch_size) if record else 0, *coefs.shape[:1], coefs.shape[1] + 1))
    block_sums, t, rule_count = block.target_epoch(
        order, batch_size, coefs, intercepts, targets, fit_intercept, loss, penalty, schedule, etas, precond, t, rule,
        rule_states, rule_count, average_froms, paths=paths,
    )
    return (coefs, intercepts, t, rule_count, rule_states, loss_sums + block_sums), paths if record else None


# --------------------------------------------------------------------------- predict and score


def predict(estimator, X):
    """Lazy predictions of a fitted estimator on dask ``X``: the compiled predictor on each block.

    One column per target for a model fitted to a 2-D ``y``, as in memory.
    """
    import dask.array as da

    X = validate_X(estimator, X, reset=False)
    features = estimator._state.features.unstandardised()
    dtype = np.result_type(X.dtype, estimator.coef_.dtype)  # as the in-memory predict
    coef, intercept = float64_coef(estimator.coef_), estimator.intercept_
    if not np.ndim(intercept):
        return da.map_blocks(_block_predictions, X, features, coef, float(intercept), dtype, drop_axis=1,
                             dtype=dtype, meta=np.empty((0,), dtype=dtype))
    return da.map_blocks(_block_predictions, X, features, coef, np.asarray(intercept, dtype=np.float64), dtype,
                         dtype=dtype, chunks=(X.chunks[0], (len(intercept),)), meta=np.empty((0, 0), dtype=dtype))


def _block_predictions(X_block, features, coef, intercept, dtype):
    design = _design(features, X_block)
    return target_predictions(lambda coef, intercept: linear_predictions(design, coef, intercept), coef,
                              intercept).astype(dtype, copy=False)


def score(estimator, X, y, sample_weight=None):
    """Weighted R² of the predictions on dask ``X``, computed blockwise (as ``r2_score``)."""
    import dask.array as da

    predictions = predict(estimator, X)
    y = da.asarray(y).astype(np.float64)
    # as r2_score: one score per target (column), averaged
    predictions, y = (array if array.ndim == 2 else array[:, None] for array in (predictions, y))
    if y.shape[1] != predictions.shape[1]:
        raise ValueError(f"y_true and y_pred have different number of output ({y.shape[1]}!={predictions.shape[1]})")
    y = y.rechunk((predictions.chunks[0], -1))
    if sample_weight is None:
        weights = da.ones(y.shape[0], chunks=(predictions.chunks[0],))
    else:
        weights = da.asarray(sample_weight).astype(np.float64).rechunk((predictions.chunks[0],))
    weights = weights[:, None]
    mean = (weights * y).sum(axis=0) / weights.sum()
    error, total = _compute((weights * (y - predictions) ** 2).sum(axis=0), (weights * (y - mean) ** 2).sum(axis=0))
    scores = np.where(total == 0, np.where(error == 0, 1.0, 0.0), 1.0 - error / np.where(total == 0, 1.0, total))
    return float(np.mean(scores))


def _compute(*collections):
    import dask

    return dask.compute(*collections)
