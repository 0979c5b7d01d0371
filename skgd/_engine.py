"""The solver loop shared by every solver: epochs, stopping, adaptive steps.

An epoch visits every training row once, in a fresh random order when
``shuffle`` is set, in batches of ``batch_size`` rows (all rows for ``'batch'``,
one for ``'sgd'``); :func:`~skgd._kernels.minibatch_epoch` does the arithmetic.
After each epoch the loop

1. records the epoch objective (weighted mean loss over the epoch, each row's
   loss taken before its update, plus the penalty at the epoch's start); for
   ``'batch'`` this is exactly ``J(theta)`` at the epoch's start;
2. raises on divergence (a non-finite or exploding objective);
3. counts epochs without improvement: the objective must fall by a relative
   ``tol`` (so rescaling ``y`` does not change when it stops), or, with early
   stopping, the validation R² must rise by ``tol``;
4. after ``n_iter_no_change`` such epochs, stops, or for the ``'adaptive'`` and
   ``'auto'`` schedules divides the step by 5 first. ``'adaptive'`` stops once
   the step falls below 1e-6 (as ``SGDRegressor``); in a fit, ``'auto'``
   divides again while the training objective stalls above its best (the
   step overshoots, as with a strong L1 penalty) and stops when stalled at
   its best after a division that brought no improvement. ``partial_fit``
   never stops; it divides the step on stalls while divisions help.

With ``restart`` (momentum and Nesterov under ``'auto'``), an epoch whose
objective rose above the previous epoch's zeroes the velocity (adaptive
restart, O'Donoghue and Candès, 2015), so that momentum cannot carry the
descent uphill for long.

Two observers are optional, and cost nothing when absent: a :class:`Path`
records the coefficients after every epoch, or after every update, and
``callbacks`` (see ``_callbacks``) are told of each epoch's start and end,
and may stop the loop.
"""

import time
from dataclasses import dataclass, field

import numpy as np

from ._kernels import batch_epoch, minibatch_epoch, weighted_loss_sum
from ._penalties import penalty_value
from ._schedules import ADAPTIVE_DIVISOR, learning_rate
from ._update_rules import AVERAGE, FIRST

# An objective this many times larger than the starting one counts as divergence.
DIVERGENCE_FACTOR = 1e12
# Rows on which the coefficients left by the last epoch are checked.
FINAL_CHECK_ROWS = 1000
# 'adaptive' stops below this step, as in SGDRegressor; 'auto' below this
# share of its initial step.
ADAPTIVE_MIN_STEP = 1e-6
AUTO_MIN_STEP = 1e-9


@dataclass
class Settings:
    """What the loop needs to know about the problem and the solver."""

    loss: tuple
    penalty: tuple
    fit_intercept: bool
    batch_size: int
    shuffle: bool
    schedule_name: str
    schedule: tuple
    tol: float | None
    n_iter_no_change: int
    rule: tuple
    average_from: int = 0
    restart: bool = False
    verbose: int = 0


@dataclass
class TrainingState:
    """Everything a fit has learned, so that training can resume from it."""

    coef: np.ndarray
    intercept: float
    preconditioner: object
    eta: float
    base_eta: float
    rng: np.random.RandomState
    # The update rule's state and the running average (see _update_rules),
    # the number of updates the rule has made, and which rule it is.
    rule_state: np.ndarray
    rule_count: int = 0
    rule_code: int = 0
    # The update from which averaged SGD has begun (0 until it has).
    average_from: int = 0
    moments: object = None
    t: int = 0
    n_iter: int = 0
    loss_curve: list = field(default_factory=list)
    best_loss: float = np.inf
    no_improvement_count: int = 0
    best_at_last_decrease: float = np.inf
    validation_scores: list | None = None
    best_validation_score: float = -np.inf
    # With early stopping, the coefficients of the best validation score;
    # else those at the start of the epoch of the lowest objective.
    best_coef: np.ndarray | None = None
    best_intercept: float = 0.0
    # The estimator's map from X to the design descended on (see _features);
    # coef and intercept are those of the design.
    features: object = None

    def model(self):
        """The coefficients and intercept the fit reports: the average once averaging has begun."""
        if self.average_from:
            average = self.rule_state[AVERAGE]
            return average[:-1].copy(), float(average[-1])
        return self.coef, self.intercept


class Path:
    """Points of the descent, one row each: the design's coefficients, then the intercept.

    ``points[:n_points]`` are recorded; the first ``n_earlier`` of them by
    an earlier call, whose arrays were published as views of ``points``
    (``shared``), so that ``points`` may then only be replaced, never
    reallocated. A new path's array grows in place, row by row, holding
    exactly the points recorded; a shared one moves to a new array with
    room for half as many again, so that a stream of ``partial_fit`` calls
    copies its path only now and then.
    """

    def __init__(self, n_coef, every_update, earlier=None, n_earlier=0):
        self.every_update = every_update
        self.shared = earlier is not None
        self.points = earlier if self.shared else np.empty((0, n_coef + 1))
        self.n_points = self.n_earlier = n_earlier

    def new_rows(self, n_rows):
        """``n_rows`` rows added at the end, to be written before the next addition."""
        start, stop = self.n_points, self.n_points + n_rows
        if stop > self.points.shape[0]:
            if self.shared:
                grown = np.empty((stop + stop // 2, self.points.shape[1]))
                grown[:start] = self.points[:start]
                self.points, self.shared = grown, False
            else:  # no view of it survives: reallocate in place
                self.points.resize((stop, self.points.shape[1]), refcheck=False)
        self.n_points = stop
        return self.points[start:stop]

    def add(self, coef, intercept):
        """Record one point."""
        row = self.new_rows(1)[0]
        row[:-1], row[-1] = coef, intercept


@dataclass
class Validation:
    """A held-out set scored after each epoch (early stopping)."""

    X: np.ndarray
    y: np.ndarray
    sample_weight: np.ndarray

    def score(self, coef, intercept):
        """R² of the linear model on the held-out set."""
        residual = self.y - (self.X @ coef + intercept)
        mean = np.average(self.y, weights=self.sample_weight)
        total = self.sample_weight @ (self.y - mean) ** 2
        error = self.sample_weight @ residual**2
        return 1.0 - error / total if total > 0 else 0.0


def run_epochs(X, y, sample_weight, state, settings, max_epochs, stop_early, validation=None, rows=None,
               path=None, callbacks=None):
    """Train ``state`` in place for up to ``max_epochs`` epochs.

    ``X`` is an array or a lazy design (see ``_features``); training uses
    its ``rows`` (increasing indices; None for all), so that holding rows out
    copies nothing. ``sample_weight`` is normalised to mean 1 over them. With
    ``stop_early`` false (as in ``partial_fit``) no stopping rule ends the
    loop, though the adaptive step still adapts. ``path`` (a :class:`Path`)
    records the descent; ``callbacks`` are told of each epoch.

    Returns
    -------
    stopped : bool
        Whether the stopping rule, or a callback, ended the loop before
        ``max_epochs``.
    """
    y_train, weight_train = (y, sample_weight) if rows is None else (y[rows], sample_weight[rows])
    # einsum, not BLAS: a threaded BLAS call leaves its threads spinning for a
    # while, taking cores from the first epochs of the parallel batch pass.
    target_scale = (np.einsum("i,i,i->", weight_train, y_train, y_train)
                    + np.einsum("i,i->", weight_train, np.abs(y_train))) / y_train.shape[0]
    started = time.perf_counter()
    stopped_by = _run(X, y, sample_weight, rows, state, settings, max_epochs, stop_early, validation,
                      target_scale, path, callbacks)
    if settings.verbose and stopped_by:
        print(f"{stopped_by} after {state.n_iter} epochs took {time.perf_counter() - started:.2f} seconds")
    _check_final_coefficients(X, y, sample_weight, rows, state, settings, target_scale)
    return stopped_by is not None


def _run(X, y, sample_weight, rows, state, settings, max_epochs, stop_early, validation, target_scale,
         path, callbacks):
    """The epochs; returns what stopped them early ("Convergence", "Stopped by a callback"), or None."""
    n_samples = X.shape[0] if rows is None else rows.shape[0]
    batch_size = min(settings.batch_size, n_samples)
    # A full batch's gradient is a sum: memory order is fastest.
    shuffle = settings.shuffle and batch_size < n_samples
    if not shuffle:
        order = np.arange(n_samples) if rows is None else rows
    last_epoch = state.n_iter + max_epochs
    for _ in range(max_epochs):
        started = time.perf_counter()
        if shuffle:
            permutation = state.rng.permutation(n_samples)
            order = permutation if rows is None else rows[permutation]
        coef = state.coef.copy()
        penalty = penalty_value(coef, *settings.penalty)
        schedule = (settings.schedule[0], state.eta, *settings.schedule[2:])
        average_from = _average_from(state, settings)
        if callbacks is not None:
            callbacks.epoch_begin(state)
        updates = None
        if path is not None and path.every_update:
            updates = path.new_rows(-(-n_samples // batch_size))
        loss_sum, intercept, t, rule_count = _epoch(
            X, y, sample_weight, order, batch_size, coef, state, settings, schedule, average_from, updates
        )
        objective = loss_sum / n_samples + penalty
        _check_divergence(objective, coef, intercept, state, settings, target_scale)
        restarted = settings.restart and bool(state.loss_curve) and objective > state.loss_curve[-1]
        if restarted:
            state.rule_state[FIRST] = 0.0
        start_coef, start_intercept = state.coef, state.intercept
        state.coef, state.intercept, state.t, state.rule_count = coef, intercept, t, rule_count
        if average_from and t >= average_from:
            state.average_from = average_from  # averaging has begun
        state.n_iter += 1
        state.loss_curve.append(objective)
        if path is not None and not path.every_update:
            path.add(coef, intercept)
        if validation is not None:
            model_coef, model_intercept = state.model()
            score = validation.score(model_coef, model_intercept)
            state.validation_scores.append(score)
            if score > state.best_validation_score:
                state.best_coef, state.best_intercept = model_coef.copy(), model_intercept
            current, best = -score, -state.best_validation_score
            state.best_validation_score = max(score, state.best_validation_score)
        else:
            if objective < state.best_loss:  # the objective of the epoch's start
                state.best_coef, state.best_intercept = start_coef, start_intercept
            current, best = objective, state.best_loss
        state.best_loss = min(objective, state.best_loss)
        eta = state.eta
        stop = _after_epoch(state, settings, current, best, validation is not None, stop_early)
        if settings.verbose:
            _report(state, settings, time.perf_counter() - started, restarted, eta)
        if callbacks is not None and callbacks.epoch_end(state) and not stop and state.n_iter < last_epoch:
            return "Stopped by a callback"
        if stop:
            return "Convergence"
    return None


def _report(state, settings, seconds, restarted, eta_before):
    """Print the epoch's line (``verbose >= 1``) and, at ``verbose >= 2``, its details and events."""
    line = (f"-- Epoch {state.n_iter}: objective {state.loss_curve[-1]:.6g}, "
            f"step {_current_step(state, settings):.3g}, updates {state.t}, time {seconds:.3f} s")
    if state.validation_scores is not None:
        line += f", validation R2 {state.validation_scores[-1]:.4f}"
    print(line)
    if settings.verbose < 2:
        return
    coef, intercept = state.model()
    print(f"   norm {np.linalg.norm(coef):.6g}, nonzero {np.count_nonzero(coef)}, intercept {intercept:.6g}, "
          f"best objective {state.best_loss:.6g}, epochs without improvement {state.no_improvement_count}")
    if restarted:
        print("   objective rose: velocity restarted")
    if state.eta != eta_before:
        print(f"   stalled for {settings.n_iter_no_change} epochs: step divided by {eta_before / state.eta:g}")


def _epoch(X, y, sample_weight, order, batch_size, coef, state, settings, schedule, average_from, updates):
    """One pass of the kernel over the rows in ``order``, updating ``coef`` in place.

    A full batch of an array takes the parallel :func:`batch_epoch`. A lazy
    design (see ``_features``) is expanded a chunk of whole batches at a
    time, so the updates are those of the expanded array in the same order.
    ``updates`` (None, or one row per update) receives the coefficients and
    intercept after each update.
    """
    precond = state.preconditioner.arrays()
    if isinstance(X, np.ndarray) and batch_size == order.shape[0]:
        result = batch_epoch(
            X, y, sample_weight, order, coef, state.intercept, settings.fit_intercept,
            settings.loss, settings.penalty, schedule, precond, state.t,
            settings.rule, state.rule_state, state.rule_count, average_from,
        )
        if updates is not None:
            updates[0] = np.append(coef, result[1])
        return result
    if isinstance(X, np.ndarray):
        parts = [(X, y, sample_weight, order)]
    else:
        parts = (
            (X[rows], y[rows], sample_weight[rows], np.arange(rows.shape[0]))
            for rows in X.chunks(order, batch_size)
        )
    loss_sum, intercept, t, rule_count = 0.0, state.intercept, state.t, state.rule_count
    for X_part, y_part, weight_part, order_part in parts:
        # Omitted, not None, without a record: the kernel compiled without its writes.
        record = () if updates is None else (updates[t - state.t:],)
        chunk_loss, intercept, t, rule_count = minibatch_epoch(
            X_part, y_part, weight_part, order_part, batch_size, coef, intercept,
            settings.fit_intercept, settings.loss, settings.penalty, schedule,
            precond, t, settings.rule, state.rule_state, rule_count, average_from, *record,
        )
        loss_sum += chunk_loss
    return loss_sum, intercept, t, rule_count


def _average_from(state, settings):
    """The update from which to average: where averaging began, else where it is to begin (0: never).

    A start already passed (a stream whose batches grew) is the next update.
    """
    if state.average_from or not settings.average_from:
        return state.average_from
    return max(settings.average_from, state.t + 1)


def restore_best(state, settings, early_stopping):
    """End a fit on its best coefficients where that is the rule.

    With early stopping, those of the best validation score (of the average,
    with averaging). Without averaging and with ``'auto'``, if the fit ended
    above its lowest objective by more than ``tol`` (a step that overshot, as
    with a strong L1 penalty), those at the start of the epoch with the
    lowest objective.
    """
    if state.best_coef is None:
        return
    averaging = state.average_from > 0
    overshot = (
        settings.schedule_name == "auto"
        and settings.tol is not None
        and not averaging
        and _improves(state.best_loss, state.loss_curve[-1], settings.tol, absolute=False)
    )
    if early_stopping or overshot:
        state.coef, state.intercept = state.best_coef, state.best_intercept
        if averaging:
            state.rule_state[AVERAGE] = np.append(state.best_coef, state.best_intercept)


def _improves(current, best, tol, absolute):
    """Whether ``current`` beats ``best`` by ``tol`` (relative unless ``absolute``)."""
    if not np.isfinite(best):
        return True
    margin = tol if absolute else tol * abs(best)
    return current < best - margin


def _after_epoch(state, settings, current, best, absolute, stop_early):
    """Update the no-improvement count and the adaptive step; True means stop.

    Without ``stop_early`` (``partial_fit``) the step still adapts, but the
    loop is never stopped.
    """
    if settings.tol is None:
        return False
    if _improves(current, best, settings.tol, absolute):
        state.no_improvement_count = 0
        return False
    state.no_improvement_count += 1
    if state.no_improvement_count < settings.n_iter_no_change:
        return False
    state.no_improvement_count = 0
    best = min(current, best)
    if settings.schedule_name == "adaptive":
        if state.eta > ADAPTIVE_MIN_STEP:
            state.eta /= ADAPTIVE_DIVISOR
        return state.eta <= ADAPTIVE_MIN_STEP and stop_early
    if settings.schedule_name == "auto":
        # In a fit, a training objective stalled above its best means the step
        # overshoots: divide it whatever. (Not so for a validation score below
        # its best, which is overfitting, nor for the chunks of a stream, whose
        # objectives differ.) Stalled at the best: stop, unless the last
        # division still helped.
        overshooting = stop_early and not absolute and _improves(best, current, settings.tol, absolute)
        helped = _improves(best, state.best_at_last_decrease, settings.tol, absolute)
        if not (overshooting or helped) or state.eta < AUTO_MIN_STEP * state.base_eta:
            return stop_early
        state.best_at_last_decrease = best
        state.eta /= ADAPTIVE_DIVISOR
        return False
    return stop_early


def _check_final_coefficients(X, y, sample_weight, rows, state, settings, target_scale):
    """Divergence check of the coefficients the last epoch left.

    Epoch objectives are measured before each update, so the last update is
    checked here, on at most ``FINAL_CHECK_ROWS`` training rows.
    """
    rows = slice(None, FINAL_CHECK_ROWS) if rows is None else rows[:FINAL_CHECK_ROWS]
    loss_sum = weighted_loss_sum(X[rows], y[rows], sample_weight[rows], state.coef, state.intercept, settings.loss)
    objective = loss_sum / y[rows].shape[0] + penalty_value(state.coef, *settings.penalty)
    _check_divergence(objective, state.coef, state.intercept, state, settings, target_scale)


def _check_divergence(objective, coef, intercept, state, settings, target_scale):
    """Raise if the objective is non-finite or has exploded.

    Exploding means exceeding ``DIVERGENCE_FACTOR`` times the larger of the
    run's first objective and the scale of the targets (``mean(y**2 + |y|)``).
    """
    reference = max(state.loss_curve[0] if state.loss_curve else objective, target_scale)
    exploding = objective / DIVERGENCE_FACTOR > max(reference, np.finfo(float).tiny)
    if np.isfinite(objective) and np.isfinite(intercept) and np.all(np.isfinite(coef)) and not exploding:
        return
    name, step = settings.schedule_name, _current_step(state, settings)
    if name == "auto":
        cause = f"the automatic step ({step:.3g}) is too large for this data"
        advice = "use learning_rate='adaptive' with a small eta0, or scale the features (e.g. StandardScaler)"
    elif name == "optimal":
        cause = f"the 'optimal' schedule's step ({step:.3g}, set by alpha, not eta0) is too large for this data"
        if step * settings.penalty[1] >= 2.0:  # the L2 penalty's own step overshoots
            advice = "decrease alpha, or use learning_rate='auto'"
        else:
            advice = "increase alpha, use learning_rate='auto', or scale the features (e.g. StandardScaler)"
    else:
        cause = f"the learning rate (eta0={settings.schedule[1]:.3g}, step {step:.3g}) is too large for this data"
        advice = "lower eta0, use learning_rate='auto', or scale the features (e.g. StandardScaler)"
    raise ValueError(
        f"Gradient descent diverged in epoch {state.n_iter + 1}: the objective became "
        f"{objective:.3g}; {cause}. To fix it, {advice}."
    )


def _current_step(state, settings):
    """Step size of the last update made, for messages."""
    return learning_rate.py_func((settings.schedule[0], state.eta, *settings.schedule[2:]), max(state.t, 1))
