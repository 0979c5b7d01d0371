"""Multi-output fits: ``k`` targets (the columns of a 2-D ``y``) trained together on one read of the rows.

The targets are independent problems sharing ``X``: the whole objective is
the sum over targets of each target's objective. Each target has its own
:class:`~skgd._engine.TrainingState` and runs the engine's own epoch loop
(:func:`~skgd._engine.epochs`), with its own step, stopping rule, step
divisions and best model, exactly as a fit to that column alone would; the
loops advance together, and their passes over the rows are served together
by :class:`TargetPasses`, one pass for all targets (see
``_target_kernels``). A target that has stopped stops changing while the
others go on; the row order of each epoch is drawn once, from the random
state the targets share, so that it is the order a fit to one column would
use.
"""

import numpy as np
import scipy.sparse as sp
from sklearn.utils.validation import check_array

from ._array_api import is_device_array
from ._arrays import float64_coef, kernel_array
from ._engine import Passes, Path, Validation, drive, epochs, run_epochs
from ._kernels import batch_step
from ._parallel import one_blas_thread
from ._target_kernels import targets_batch_sums, targets_loss_sums, targets_minibatch_epoch


# Rows of a recorded path converted to the units of coef_ at a time.
PATH_CHUNK_ROWS = 4096


def train(X, y, sample_weight, state, settings, max_epochs, stop_early, validation=None, rows=None, path=None,
          callbacks=None):
    """:func:`~skgd._engine.run_epochs` for a 1-D ``y``, :func:`run_target_epochs` for a 2-D one."""
    if len(y.shape) == 1:  # (y on dask blocks is a Column, with a shape only)
        return run_epochs(X, y, sample_weight, state, settings, max_epochs, stop_early, validation, rows, path,
                          callbacks)
    if is_device_array(X):
        raise ValueError(
            f"A 2-D y ({y.shape[1]} targets) is supported for NumPy arrays only, not for arrays of another "
            "Array API namespace: fit one model per column."
        )
    validations = None
    if validation is not None:
        validations = [Validation(validation.X, validation.y[:, target], validation.sample_weight)
                       for target in range(y.shape[1])]
    return run_target_epochs(X, y, sample_weight, state, settings, max_epochs, stop_early, validations, rows,
                             path, callbacks)


def run_target_epochs(X, Y, sample_weight, states, settings, max_epochs, stop_early, validations=None, rows=None,
                      paths=None, callbacks=None):
    """:func:`~skgd._engine.run_epochs` for the targets of ``Y`` (n_samples, k) and their :class:`TargetStates`.

    ``validations`` and ``paths`` hold one per target (or are None);
    ``callbacks`` are told of the whole model's epochs. Returns whether
    every target was stopped before ``max_epochs``.
    """
    if Y.shape[1] == 1:  # one column: the one-target kernels, so that it fits as a 1-D y bit for bit
        Y = kernel_array(Y[:, 0])
        passes = Passes(X, Y, sample_weight, rows, settings, states.rng)
        Y = Y[:, None]
    else:
        passes = TargetPasses(X, Y, sample_weight, rows, settings, states.rng)
    validations = validations or [None] * Y.shape[1]
    paths = paths or [None] * Y.shape[1]
    runs = [
        epochs(passes, Y[:, target], sample_weight, state, settings, max_epochs, stop_early, validation, path)
        for target, (state, validation, path) in enumerate(zip(states.states, validations, paths))
    ]
    return all(drive(runs, passes, callbacks, states))


class TargetPasses(Passes):
    """:class:`~skgd._engine.Passes` for the targets of ``Y``: the requests of run ``a`` are for column ``a``.

    The requests served together make one pass over the rows.
    """

    def serve(self, kind, requests):
        targets = np.fromiter(requests, dtype=np.int64, count=len(requests))
        if kind == "epoch":
            return dict(zip(requests, self._epoch(self.order(), targets, list(requests.values()))))
        if kind == "gradient":
            coefs = np.array([request[1] for request in requests.values()])
            intercepts = np.array([request[2] for request in requests.values()])
            shift = next(iter(requests.values()))[3]  # X's, the same for every target
            sums = self._batch_sums(self.rows, coefs, intercepts, targets, shift)
            return {index: np.ascontiguousarray(sums[:, a]) for a, index in enumerate(requests)}
        counts = [request[1].shape[0] for request in requests.values()]
        sums = self._loss_sums(
            np.concatenate([request[1] for request in requests.values()]),
            np.concatenate([request[2] for request in requests.values()]),
            np.repeat(targets, counts),
        )
        return dict(zip(requests, np.split(sums, np.cumsum(counts)[:-1])))

    def _batch_sums(self, rows, coefs, intercepts, targets, shift):
        return targets_batch_sums(self.X, self.y, self.sample_weight, rows, coefs, intercepts, targets,
                                  self.settings.loss, shift)

    def _loss_sums(self, coefs, intercepts, targets):
        X, Y, weights, rows, loss = self.X, self.y, self.sample_weight, self.rows, self.settings.loss
        if isinstance(X, np.ndarray):
            return targets_loss_sums(X, Y, weights, rows, coefs, intercepts, targets, loss)
        return sum(
            targets_loss_sums(X[part], Y[part], weights[part], np.arange(part.shape[0]), coefs, intercepts,
                              targets, loss)
            for part in X.chunks(rows, 1)
        )

    def _epoch(self, order, targets, requests):
        """One epoch of the targets' models, in place; each gets what ``_engine._epoch`` returns."""
        states = [request[1] for request in requests]
        coefs = np.array([request[2] for request in requests])
        intercepts = np.array([state.intercept for state in states])
        schedule, settings = requests[0][3], self.settings
        precond = states[0].preconditioner.arrays()
        t, rule_count = states[0].t, states[0].rule_count
        if self.full_batch:
            sums = self._batch_sums(order, coefs, intercepts, targets, precond[0])
            results = []
            for a, (_, state, coef, schedule, average_from, updates) in enumerate(requests):
                result = batch_step(
                    sums[:, a], order.shape[0], coef, state.intercept, settings.fit_intercept, settings.penalty,
                    schedule, precond, t, settings.rule, state.rule_state, rule_count, average_from,
                )
                if updates is not None:
                    updates[0] = np.append(coef, result[1])
                results.append(result)
            return results
        etas = np.array([request[3][1] for request in requests])
        average_froms = np.array([request[4] for request in requests], dtype=np.int64)
        rule_states = np.array([state.rule_state for state in states])
        recording = requests[0][5] is not None
        n_updates = -(-order.shape[0] // self.batch_size)
        paths = np.empty((n_updates if recording else 0, len(requests), coefs.shape[1] + 1))
        if isinstance(self.X, np.ndarray):
            parts = [(self.X, self.y, self.sample_weight, order)]
        else:
            parts = (
                (self.X[rows], self.y[rows], self.sample_weight[rows], np.arange(rows.shape[0]))
                for rows in self.X.chunks(order, self.batch_size)
            )
        loss_sums, start = np.zeros(len(requests)), t
        with one_blas_thread():  # the batches' matrix products, whatever the thread count
            for X_part, Y_part, weight_part, order_part in parts:
                part_sums, t, rule_count = targets_minibatch_epoch(
                    X_part, Y_part, weight_part, order_part, self.batch_size, coefs, intercepts, targets,
                    settings.fit_intercept, settings.loss, settings.penalty, schedule, etas, precond,
                    t, settings.rule, rule_states, rule_count, average_froms, paths[t - start:],
                )
                loss_sums += part_sums
        results = []
        for a, (_, state, coef, _, _, updates) in enumerate(requests):
            coef[:] = coefs[a]
            state.rule_state[:] = rule_states[a]
            if updates is not None:
                updates[:] = paths[:, a]
            results.append((loss_sums[a], intercepts[a], t, rule_count))
        return results


class TargetStates:
    """The training states of a multi-output fit, one per target, as one model.

    They share the design (``features``), the preconditioner and the random
    state. The attributes the estimator publishes are those of the whole
    model: coefficients of shape (k, n_features), the whole objective
    (the sum over targets; a target that has stopped counts with its last
    objective), the validation R² averaged over targets.
    """

    def __init__(self, states):
        self.states = states

    def __getattr__(self, name):
        if name in ("features", "dtype", "rng", "rule_code", "preconditioner", "moments"):
            return getattr(self.states[0], name)
        raise AttributeError(name)

    def model(self):
        models = [state.model() for state in self.states]
        return np.array([coef for coef, _ in models]), np.array([intercept for _, intercept in models])

    @property
    def n_iter(self):
        return max(state.n_iter for state in self.states)

    @property
    def t(self):
        return max(state.t for state in self.states)

    @property
    def loss_curve(self):
        return list(np.sum(_padded([state.loss_curve for state in self.states]), axis=0))

    @property
    def best_loss(self):
        return float(sum(state.best_loss for state in self.states))

    @property
    def validation_scores(self):
        if self.states[0].validation_scores is None:
            return None
        return list(np.mean(_padded([state.validation_scores for state in self.states]), axis=0))

    @property
    def best_validation_score(self):
        return float(np.mean([state.best_validation_score for state in self.states]))


def _padded(curves):
    """The curves as one array, each continued with its last value to the longest's length."""
    length = max(len(curve) for curve in curves)
    return np.array([list(curve) + [curve[-1]] * (length - len(curve)) for curve in curves], dtype=np.float64)


def targets_of(state):
    """The per-target training states of ``state`` (itself, for one target)."""
    return state.states if isinstance(state, TargetStates) else [state]


def check_dense_for_targets(X, y):
    """Refuse sparse ``X`` with a 2-D ``y``: the multi-output kernels read dense rows."""
    if len(y.shape) == 2 and sp.issparse(X):
        raise ValueError(
            f"A 2-D y ({y.shape[1]} targets) needs dense X: sparse X is supported with a 1-D y only. "
            "Fit one model per column (e.g. sklearn.multioutput.MultiOutputRegressor), or pass X.toarray()."
        )


def check_same_targets(state, y):
    """Refuse a ``partial_fit`` whose ``y`` has another number of targets than the model's."""
    before = len(state.states) if isinstance(state, TargetStates) else None
    now = y.shape[1] if len(y.shape) == 2 else None
    if before != now:
        def shape(count):
            return "1-D" if count is None else f"of {count} targets"
        raise ValueError(
            f"partial_fit was given y {shape(now)}, but the model was fitted to y {shape(before)}: "
            "each call must give the same number of targets."
        )


def target_inits(coef_init, intercept_init, n_targets, n_features):
    """``fit``'s starting point for each target: ``coef_init`` of shape (k, n_features), ``intercept_init`` (k,)."""
    coefs, intercepts = [None] * n_targets, [None] * n_targets
    if coef_init is not None:
        coef = check_array(coef_init, ensure_2d=False, input_name="coef_init")
        if coef.shape != (n_targets, n_features):
            raise ValueError(
                f"coef_init has shape {coef.shape}, but a fit to {n_targets} targets on this data has "
                f"coefficients of shape ({n_targets}, {n_features}) (that of coef_)."
            )
        coefs = list(coef)
    if intercept_init is not None:
        intercept = check_array(np.atleast_1d(intercept_init), ensure_2d=False, input_name="intercept_init")
        if intercept.shape != (n_targets,):
            raise ValueError(
                f"intercept_init has shape {intercept.shape}, but a fit to {n_targets} targets has "
                f"{n_targets} intercepts: pass an array of shape ({n_targets},)."
            )
        intercepts = list(intercept)
    return list(zip(coefs, intercepts))


def new_paths(state, every_update, earlier=None, n_earlier=0):
    """The :class:`~skgd._engine.Path` to record from ``state``, or after the ``earlier`` one (of ``n_earlier`` points).

    For :class:`TargetStates`, a list of one per target, after the
    ``earlier`` list (each with its own count of points).
    """
    if isinstance(state, TargetStates):
        earlier = earlier if earlier is not None else [None] * len(state.states)
        return [new_paths(target, every_update, previous, 0 if previous is None else previous.n_points)
                for target, previous in zip(state.states, earlier)]
    if earlier is not None:
        return Path(state.coef.shape[0], every_update, earlier.points, n_earlier)
    path = Path(state.coef.shape[0], every_update)
    path.add(state.coef, state.intercept)
    return path


def published_paths(path, state):
    """``coef_path_`` and ``intercept_path_``, in the units of ``coef_``.

    The points are converted in place, a chunk of rows at a time. For
    :class:`TargetStates`, ``coef_path_`` has shape (n_points, k,
    n_features) and ``intercept_path_`` (n_points, k), a target that stopped
    early keeping its last point.
    """
    if isinstance(state, TargetStates):
        published = [published_paths(target_path, target) for target_path, target in zip(path, state.states)]
        n_points = max(coefs.shape[0] for coefs, _ in published)

        def padded(points):
            return np.concatenate([points, np.repeat(points[-1:], n_points - points.shape[0], axis=0)])

        coefs = np.stack([padded(coefs) for coefs, _ in published], axis=1)
        intercepts = np.stack([padded(intercepts) for _, intercepts in published], axis=1)
        return coefs, intercepts
    points = path.points[:path.n_points]
    for start in range(path.n_earlier, path.n_points, PATH_CHUNK_ROWS):
        chunk = points[start:start + PATH_CHUNK_ROWS]
        chunk[:, :-1], chunk[:, -1] = state.features.to_raw(chunk[:, :-1], chunk[:, -1])
    return points[:, :-1], points[:, -1]


def target_predictions(predict, coef, intercept):
    """``predict(coef, intercept)`` of a fitted model: for each target (columns), when ``intercept`` is an array.

    ``coef`` and ``intercept`` are the published ``coef_`` and ``intercept_``
    (float32, or sparse after ``sparsify``); ``predict`` gets float64 ones.
    """
    if not np.ndim(intercept):
        return predict(float64_coef(coef), float(intercept))
    coefs = float64_coef(coef).reshape(len(intercept), -1)
    return np.column_stack([predict(coefs[target], float(intercept[target])) for target in range(len(intercept))])
