"""Dask arrays: training passes run where the blocks live; only models and sums travel.

A dask ``X`` (chunked by rows, one chunk of columns: rechunked if not) is
never gathered on the client or on one worker. Its blocks, with the blocks
of ``y`` and of the sample weights cut alike, form a :class:`Blocks`: the
rows object (see ``_rows``) the engine asks for what a solver needs:

- ``gradient_sums``: the loss and gradient sums of one model over all rows,
  for the ``'batch'`` solver. Each block runs the compiled pass the in-memory solver
  uses (:func:`~skgd._kernels.batch_sums`) where it lives and sends back one
  vector of ``n_features + 2`` sums; the vectors are added in a tree of
  :data:`SPLIT_EVERY` (as ``dask.array``'s reductions are). The update is
  then the in-memory one, :func:`~skgd._kernels.batch_step`, on the client.
- ``updates``: one pass of ``'minibatch'`` or ``'sgd'``. The model (its
  coefficients, intercept and update rule's state: a few vectors) travels
  from block to block; each block runs :func:`~skgd._kernels.minibatch_epoch`
  on its rows, in :func:`epoch_order`'s order (drawn by ``order``): the blocks in a fresh
  random order, the rows of each block in a random order of their own. Unlike
  a full shuffle, the rows of one block stay together in an epoch, and a
  batch never spans two blocks (a block's last batch may be short).
- ``loss_sums``: the objectives of models (the ``Judge`` of ``'auto'``),
  summed blockwise in the same tree.
- ``__getitem__``: design rows as a NumPy array, for a sample of rows (the
  ``'auto'`` statistics, at most 20,000 rows) and the final check (1,000).

The tasks are plain ``dask.delayed`` calls computed by ``dask.compute``:
the threaded scheduler by default, or the ``distributed.Client`` in scope,
which runs each task where its block is.

Blocks are persisted (kept in the workers' memory between epochs) when
``X``, ``y`` and the weights take at most :data:`PERSIST_SHARE` of the
memory of the workers (their ``memory_limit``), or, without a
``distributed.Client``, of this machine's available memory. Otherwise
every pass computes the blocks again from their source (out of core): a
lazily generated or file-backed array is regenerated or read each epoch.

The feature map (polynomial expansion, standardisation, rotation) is applied
to each block where it lives.
"""

import numbers
import os

import numpy as np

from ._arrays import float64_coef, kernel_array
from ._features import RAW_FEATURES
from ._kernels import linear_predictions, minibatch_epoch
from ._preconditioning import Moments
from ._rows import ArrayRows, Rows, training_rows, weighted_median

# Partial sums added per task of the tree reduction.
SPLIT_EVERY = 8
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

    if estimator.early_stopping:
        raise NotImplementedError(
            "early_stopping is not supported yet on dask arrays. Hold out a validation set yourself "
            "(e.g. some blocks) and score it, or fit without early_stopping."
        )
    X = validate_X(estimator, X, reset)
    y = da.asarray(y)
    if y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]
    if y.ndim != 1:
        raise ValueError(f"y should be a 1d array, got an array of shape {y.shape} instead.")
    if y.shape[0] != X.shape[0]:
        raise ValueError(
            f"Found input variables with inconsistent numbers of samples: [{X.shape[0]}, {y.shape[0]}]"
        )
    y = y.astype(np.float64).rechunk((X.chunks[0],))
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
    """``y`` or the sample weights on blocks: indexing gathers the rows asked for."""

    def __init__(self, array):
        self.array = array
        self.shape = array.shape

    def __getitem__(self, rows):
        return _gather(self.array, rows)


class Blocks(Rows):
    """The rows of a design on the blocks of a dask ``X``, with ``y`` and weights cut alike: all are training rows.

    ``features`` (see ``_features``) maps a block of ``X`` to its block of
    the design, where the block lives.
    """

    def __init__(self, X, y, weights, features=RAW_FEATURES):
        y, weights = (y, weights) if isinstance(y, Column) else (Column(y), Column(weights))
        super().__init__(X, y, weights)
        self.features, self.dtype, self.indices = features, X.dtype, None
        self.parts = list(zip(X.to_delayed().ravel(), self.y.array.to_delayed().ravel(),
                              self.sample_weight.array.to_delayed().ravel()))
        n_columns = features.design(np.zeros((1, X.shape[1]), dtype=X.dtype)).shape[1]
        self.shape = (X.shape[0], n_columns)

    def mapped(self, features):
        """The same rows under another feature map."""
        return Blocks(self.X, self.y, self.sample_weight, features)

    def __getitem__(self, rows):
        """Design rows ``rows`` (a slice or indices) as a NumPy array, gathered from their blocks."""
        return _design(self.features, _gather(self.X, rows))

    def head(self, n_rows):
        """The first ``n_rows`` rows, gathered as :class:`~skgd._rows.ArrayRows`."""
        rows = slice(None, n_rows)
        return training_rows(self[rows], self.y[rows], self.sample_weight[rows])

    def target_scale(self):
        """``mean(w * (y**2 + |y|))``, the engine's scale of the targets."""
        y, w = self.y.array, self.sample_weight.array
        return float((w * (y * y + abs(y))).mean().compute())

    def order(self, rng, shuffle):
        """The blocks of the next epoch and the seeds of their rows' orders (see :func:`block_schedule`)."""
        return block_schedule(rng, len(self.parts), shuffle)

    def gradient_sums(self, coef, intercept, loss, shift):
        """Loss and gradient sums at one model, as one row of :func:`~skgd._kernels.batch_sums`."""
        import dask

        parts = [dask.delayed(_block_sums)(self.features, *part, coef, intercept, loss, shift)
                 for part in self.parts]
        return dask.compute(_tree_sum(parts))[0][None, :]

    def model_loss_sums(self, coefs, intercepts, loss):
        """Sums of the weighted losses of several models over all rows."""
        import dask

        parts = [dask.delayed(_block_loss_sums)(self.features, *part, coefs, intercepts, loss)
                 for part in self.parts]
        return dask.compute(_tree_sum(parts))[0]

    def moments(self, sample_weight=None):
        """Weighted :class:`~skgd._preconditioning.Moments` (diagonal) of the design, merged blockwise in a tree.

        The weights are the blocks' own (``sample_weight`` is them, as a :class:`Column`).
        """
        import dask

        parts = [dask.delayed(_block_moments)(self.features, x, w) for x, _, w in self.parts]
        while len(parts) > 1:
            parts = [dask.delayed(_merge_moments)(parts[k:k + SPLIT_EVERY])
                     for k in range(0, len(parts), SPLIT_EVERY)]
        return dask.compute(parts[0])[0]

    def target_statistics(self, robust):
        """Weighted centre of ``y`` (mean, or median for ``robust``), mean ``|y - centre|`` and mean ``|y|``.

        The weighted median gathers ``y`` and the weights: two numbers a row, an
        ``n_features``-th (or less) of ``X``'s size.
        """
        y, w = self.y.array, self.sample_weight.array
        if robust:
            centre = weighted_median(*(np.asarray(column) for column in _compute(y, w)))
        else:
            centre = (w * y).sum() / w.sum()
        spread, size, total = _compute((w * abs(y - centre)).sum(), (w * abs(y)).sum(), w.sum())
        return float(centre), float(spread / total), float(size / total)

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
                self.features, *self.parts[block], seed, model, batch_size, settings.fit_intercept,
                settings.loss, settings.penalty, schedule, state.preconditioner.arrays(), settings.rule,
                average_from, updates is not None,
            )
            records.append(record)
        model, records = dask.compute(model, records if updates is not None else [])
        new_coef, intercept, t, rule_count, new_rule_state, loss_sum = model
        coef[:], rule_state[:] = new_coef, new_rule_state
        if updates is not None:
            np.concatenate(records, out=updates)
        return loss_sum, intercept, t, rule_count


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
    blocks) makes the same updates as the dask fit.
    """
    starts = np.concatenate([[0], np.cumsum(lengths)])
    blocks, seeds = block_schedule(rng, len(lengths), shuffle)
    return np.concatenate([starts[b] + _rows_in_block(seed, lengths[b]) for b, seed in zip(blocks, seeds)])


# --------------------------------------------------------------------------- the tasks


def _design(features, X_block):
    return kernel_array(features.design(kernel_array(X_block)))


def _block(features, X_block, y_block, w_block):
    """A block as rows the kernels read: the design (read-only), ``y`` (read-only) and writable weights."""
    return ArrayRows(_design(features, X_block), kernel_array(y_block), np.array(w_block, dtype=np.float64))


def _block_sums(features, X_block, y_block, w_block, coef, intercept, loss, shift):
    return _block(features, X_block, y_block, w_block).gradient_sums(coef, intercept, loss, shift).sum(axis=0)


def _block_loss_sums(features, X_block, y_block, w_block, coefs, intercepts, loss):
    return _block(features, X_block, y_block, w_block).model_loss_sums(coefs, intercepts, loss)


def _block_moments(features, X_block, w_block):
    return Moments.of(_design(features, X_block), np.asarray(w_block, dtype=np.float64), full=False)


def _merge_moments(parts):
    merged = parts[0]
    for part in parts[1:]:
        merged = merged.merge(part)
    return merged


def _add(parts):
    total = parts[0].copy()
    for part in parts[1:]:
        total += part
    return total


def _tree_sum(parts):
    """The sum of delayed arrays, added :data:`SPLIT_EVERY` at a time in a tree."""
    import dask

    while len(parts) > 1:
        parts = [dask.delayed(_add)(parts[k:k + SPLIT_EVERY]) for k in range(0, len(parts), SPLIT_EVERY)]
    return parts[0]


def _block_epoch(features, X_block, y_block, w_block, seed, model, batch_size, fit_intercept, loss, penalty,
                 schedule, precond, rule, average_from, record):
    """:func:`~skgd._kernels.minibatch_epoch` on one block, from ``model``; returns the new model and the path."""
    coef, intercept, t, rule_count, rule_state, loss_sum = model
    coef, rule_state = coef.copy(), rule_state.copy()
    block = _block(features, X_block, y_block, w_block)
    order = _rows_in_block(seed, block.n_samples).astype(np.int64)
    n_updates = -(-block.n_samples // batch_size)
    path = np.empty((n_updates, coef.shape[0] + 1)) if record else None
    block_loss, intercept, t, rule_count = minibatch_epoch(
        block.X, block.y, block.sample_weight, order, batch_size, coef, intercept, fit_intercept, loss, penalty,
        schedule, precond, t, rule, rule_state, rule_count, average_from, *(() if path is None else (path,)),
    )
    return (coef, intercept, t, rule_count, rule_state, loss_sum + block_loss), path


# --------------------------------------------------------------------------- predict and score


def predict(estimator, X):
    """Lazy predictions of a fitted estimator on dask ``X``: the compiled predictor on each block."""
    import dask.array as da

    X = validate_X(estimator, X, reset=False)
    features = estimator._state.features.unstandardised()
    coef, intercept = float64_coef(estimator.coef_), float(estimator.intercept_)
    dtype = np.result_type(X.dtype, estimator.coef_.dtype)  # as the in-memory predict
    return da.map_blocks(_block_predictions, X, features, coef, intercept, dtype, drop_axis=1, dtype=dtype,
                         meta=np.empty((0,), dtype=dtype))


def _block_predictions(X_block, features, coef, intercept, dtype):
    return linear_predictions(_design(features, X_block), coef, intercept).astype(dtype, copy=False)


def score(estimator, X, y, sample_weight=None):
    """Weighted R² of the predictions on dask ``X``, computed blockwise (as ``r2_score``)."""
    import dask.array as da

    predictions = predict(estimator, X)
    y = da.asarray(y).astype(np.float64).rechunk((predictions.chunks[0],))
    if y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]
    if sample_weight is None:
        weights = da.ones_like(y)
    else:
        weights = da.asarray(sample_weight).astype(np.float64).rechunk((predictions.chunks[0],))
    mean = (weights * y).sum() / weights.sum()
    error, total = _compute((weights * (y - predictions) ** 2).sum(), (weights * (y - mean) ** 2).sum())
    if total == 0:
        return 1.0 if error == 0 else 0.0
    return float(1.0 - error / total)


def _compute(*collections):
    import dask

    return dask.compute(*collections)


def _gather(array, rows):
    """Rows ``rows`` (a slice or increasing indices) of a dask array, as a NumPy array.

    Indices are taken from each block where it lives, so that only the rows
    asked for travel.
    """
    import dask

    if isinstance(rows, slice):
        return np.asarray(array[rows].compute())
    rows = np.asarray(rows)
    starts = np.concatenate([[0], np.cumsum(array.chunks[0])])
    blocks = array.to_delayed().ravel()
    taken = []
    for b, block in enumerate(blocks):
        local = rows[(rows >= starts[b]) & (rows < starts[b + 1])] - starts[b]
        if local.size:
            taken.append(dask.delayed(np.take)(block, local, axis=0))
    if not taken:
        return np.empty((0, *array.shape[1:]), dtype=array.dtype)
    return np.concatenate(dask.compute(*taken))
