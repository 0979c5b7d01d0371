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

import time
from dataclasses import replace

import numpy as np
from sklearn.utils.validation import check_array

from ._array_api import on_host
from ._arrays import float64_coef
from ._engine import Passes, Path, _current_step, drive, epoch_line, epochs, print_events, run_epochs
from ._rows import training_rows


# Rows of a recorded path converted to the units of coef_ at a time.
PATH_CHUNK_ROWS = 4096


def train(X, y, sample_weight, state, settings, max_epochs, stop_early, validation=None, rows=None, path=None,
          callbacks=None):
    """:func:`~skgd._engine.run_epochs` for a 1-D ``y``, :func:`run_target_epochs` for a 2-D one."""
    if len(y.shape) == 1:  # (y on dask blocks is a Column, with a shape only)
        return run_epochs(X, y, sample_weight, state, settings, max_epochs, stop_early, validation, rows, path,
                          callbacks)
    validations = None
    if validation is not None:
        validations = [validation.target(target) for target in range(y.shape[1])]
    return run_target_epochs(X, y, sample_weight, state, settings, max_epochs, stop_early, validations, rows,
                             path, callbacks)


def run_target_epochs(X, Y, sample_weight, states, settings, max_epochs, stop_early, validations=None, rows=None,
                      paths=None, callbacks=None):
    """:func:`~skgd._engine.run_epochs` for the targets of ``Y`` (n_samples, k) and their :class:`TargetStates`.

    ``validations`` and ``paths`` hold one per target (or are None);
    ``callbacks`` are told of the whole model's epochs. Returns whether
    every target was stopped before ``max_epochs``.
    """
    training = training_rows(X, Y, sample_weight, rows)  # (which refuses a kind that reads one target only)
    if Y.shape[1] == 1:  # one column: the one-target kernels, so that it fits as a 1-D y bit for bit
        training = training.target(0)
        passes, targets = Passes(training, settings, states.rng), [training]
    else:  # each target's own rows give its scale and its divergence check
        passes = TargetPasses(training, settings, states.rng)
        targets = training.targets()
    validations = validations or [None] * Y.shape[1]
    paths = paths or [None] * Y.shape[1]
    quiet = replace(settings, verbose=0)  # the whole model's lines, not each target's
    runs = [
        epochs(passes, rows, state, quiet, max_epochs, stop_early, validation, path)
        for rows, state, validation, path in zip(targets, states.states, validations, paths)
    ]
    if not settings.verbose:
        return all(drive(runs, passes, callbacks, states))
    report = EpochReport(settings, callbacks)
    stopped = all(drive(runs, passes, report, states))
    if stopped:
        print(f"{report.stopped_by} after {states.n_iter} epochs took {time.perf_counter() - report.first:.2f} "
              "seconds")
    return stopped


class EpochReport:
    """``verbose``'s lines for the whole model of a multi-output fit, one per epoch (not one per target).

    Told of the epochs as the ``callbacks`` are (and passing them on): the
    line of an epoch gives the whole objective, the running targets' step
    (its range, where they differ), the updates, the time, the mean
    validation R² and how many targets still run (those that have not
    stopped). At ``verbose >= 2`` it adds the coefficients' norm (all
    targets) and non-zeros, the intercepts' norm, the best whole objective,
    the range of the epochs without improvement, and each target's events.
    """

    def __init__(self, settings, callbacks):
        self.settings, self.callbacks = settings, callbacks
        self.first = self.started = time.perf_counter()
        self.stopped_by = "Convergence"
        self.etas = self.restarts = None

    def epoch_begin(self, model):
        self.started = time.perf_counter()
        self.etas = [state.eta for state in model.states]
        self.restarts = [state.restarts for state in model.states]
        if self.callbacks is not None:
            self.callbacks.epoch_begin(model)

    def epoch_end(self, model):
        seconds = time.perf_counter() - self.started
        states, settings = model.states, self.settings
        running = [state for state in states if state.n_iter == model.n_iter]
        steps = _span([_current_step(state, settings) for state in running], ".3g")
        print(epoch_line(model, steps, seconds) + f", targets running {len(running)} of {len(states)}")
        if settings.verbose >= 2:
            coef, intercept = model.model()
            waits = _span([state.no_improvement_count for state in running], "d")
            print(f"   norm {np.linalg.norm(coef):.6g}, nonzero {np.count_nonzero(coef)}, "
                  f"intercepts' norm {np.linalg.norm(intercept):.6g}, best objective {model.best_loss:.6g}, "
                  f"epochs without improvement {waits}")
            for target, state in enumerate(states):
                print_events(state, settings, state.restarts != self.restarts[target], self.etas[target],
                             f"target {target}: ")
        stop = self.callbacks is not None and self.callbacks.epoch_end(model)
        if stop:
            self.stopped_by = "Stopped by a callback"
        return stop


def _span(values, spec):
    """``values``' range as text: ``"a to b"``, or ``"a"`` where the targets agree."""
    low, high = format(min(values), spec), format(max(values), spec)
    return low if low == high else f"{low} to {high}"


class TargetPasses(Passes):
    """:class:`~skgd._engine.Passes` for the targets of ``Y``: the requests of run ``a`` are for column ``a``.

    The requests served together make one pass over the rows, which the
    rows object makes (``_rows``: ``target_sums``, ``target_loss_sums``,
    ``target_epoch``) with the k-target kernels (``_target_kernels``) over
    its parts: an array, a lazy design a chunk at a time, CSR rows, or
    blocks where they live (``_dask``).
    """

    def serve(self, kind, requests):
        targets = np.fromiter(requests, dtype=np.int64, count=len(requests))
        if kind == "epoch":
            order = self.rows.order(self.rng, self.shuffle)
            return dict(zip(requests, self._epoch(order, targets, list(requests.values()))))
        if kind == "gradient":
            coefs = np.array([request[1] for request in requests.values()])
            intercepts = np.array([request[2] for request in requests.values()])
            shift = next(iter(requests.values()))[3]  # X's, the same for every target
            sums = self.rows.target_sums(coefs, intercepts, targets, self.settings.loss, shift)
            return {index: np.ascontiguousarray(sums[:, a]) for a, index in enumerate(requests)}
        counts = [len(request[1]) for request in requests.values()]
        sums = self.rows.target_loss_sums(
            np.array([coef for request in requests.values() for coef in request[1]], dtype=np.float64),
            np.array([intercept for request in requests.values() for intercept in request[2]], dtype=np.float64),
            np.repeat(targets, counts), self.settings.loss,
        )
        return dict(zip(requests, np.split(sums, np.cumsum(counts)[:-1])))

    def _epoch(self, order, targets, requests):
        """One epoch of the targets' models, in place; each gets what ``_rows.Rows.epoch`` returns."""
        states = [request[1] for request in requests]
        coefs = np.array([request[2] for request in requests])
        intercepts = np.array([state.intercept for state in states])
        schedule, settings = requests[0][3], self.settings
        precond = states[0].preconditioner.arrays()
        t, rule_count = states[0].t, states[0].rule_count
        if self.full_batch:  # one pass for all targets (in memory order), then each target's update
            sums = self.rows.target_sums(coefs, intercepts, targets, self.settings.loss, precond[0])
            return [self.rows.step(sums[:, a], coef, state, settings, schedule, average_from, updates)
                    for a, (_, state, coef, schedule, average_from, updates) in enumerate(requests)]
        etas = np.array([request[3][1] for request in requests])
        average_froms = np.array([request[4] for request in requests], dtype=np.int64)
        rule_states = np.array([state.rule_state for state in states])
        recording = requests[0][5] is not None
        paths = np.empty((self.rows.n_updates(self.batch_size) if recording else 0, len(requests),
                          coefs.shape[1] + 1))
        loss_sums, t, rule_count = self.rows.target_epoch(
            order, self.batch_size, coefs, intercepts, targets, settings.fit_intercept, settings.loss,
            settings.penalty, schedule, etas, precond, t, settings.rule, rule_states, rule_count, average_froms,
            paths=paths,
        )
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
        coef = check_array(on_host(coef_init), ensure_2d=False, input_name="coef_init")
        if coef.shape != (n_targets, n_features):
            raise ValueError(
                f"coef_init has shape {coef.shape}, but a fit to {n_targets} targets on this data has "
                f"coefficients of shape ({n_targets}, {n_features}) (that of coef_)."
            )
        coefs = list(coef)
    if intercept_init is not None:
        intercept = check_array(np.atleast_1d(on_host(intercept_init)), ensure_2d=False, input_name="intercept_init")
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
