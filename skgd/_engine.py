"""The solver loop shared by every solver: epochs, stopping, adaptive steps.

An epoch visits every training row once, in a fresh random order when
``shuffle`` is set, in batches of ``batch_size`` rows (all rows for ``'batch'``,
one for ``'sgd'``); the rows object of the data's kind (see ``_rows``) runs
the kernel that does the arithmetic (:func:`~skgd._kernels.minibatch_epoch`
for an array).
After each epoch the loop

1. records the epoch objective: in a fit under ``'auto'``, the exact objective
   of the epoch's model, measured by a :class:`Judge`; otherwise the weighted
   mean loss over the epoch, each row's loss taken before its update, plus
   the penalty at the epoch's start (for ``'batch'``, exactly ``J(theta)`` at
   the epoch's start);
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
   never stops; it divides the step on stalls while divisions help. A fit
   under ``'auto'`` (without early stopping) follows :func:`_judge_epoch`
   instead, on the measured objectives, and returns the best model measured.

With ``restart`` (momentum and Nesterov under ``'auto'``), an epoch whose
objective rose above the previous epoch's zeroes the velocity (adaptive
restart, O'Donoghue and Candès, 2015), so that momentum cannot carry the
descent uphill for long; a fit also moves back to its best model.

Two observers are optional, and cost nothing when absent: a :class:`Path`
records the coefficients after every epoch, or after every update, and
``callbacks`` (see ``_callbacks``) are told of each epoch's start and end,
and may stop the loop.
"""

import time
from dataclasses import dataclass, field

import numpy as np

from ._array_api import all_finite, copied, namespace, to_numpy
from ._losses import SQUARED_ERROR
from ._penalties import penalty_value, soft_thresholds
from ._rows import training_rows
from ._schedules import ADAPTIVE_DIVISOR, learning_rate
from ._update_rules import AVERAGE, FIRST, SECOND, adam_corrections
from ._vectorised import proximal_metric

# An objective this many times larger than the starting one counts as divergence.
DIVERGENCE_FACTOR = 1e12
# Rows on which the coefficients left by the last epoch are checked.
FINAL_CHECK_ROWS = 1000
# 'adaptive' stops below this step, as in SGDRegressor; 'auto' below this
# share of its initial step.
ADAPTIVE_MIN_STEP = 1e-6
AUTO_MIN_STEP = 1e-9
# Objectives this close (relative) are equal to rounding.
ROUNDING = 1e-12


@dataclass
class Settings:
    """What the loop needs to know about the problem and the solver."""

    loss: tuple  # ``_losses.loss_tuple``: of the loss's own type
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
    iterate_is_model: bool = False
    # The judge's model of the running mean where it is not the mean itself:
    # under L1, the mean's proximal map (see Judge).
    mean_model: tuple | None = None
    moments: object = None
    t: int = 0
    n_iter: int = 0
    loss_curve: list = field(default_factory=list)
    best_loss: float = np.inf
    no_improvement_count: int = 0
    best_at_last_decrease: float = np.inf
    # Under 'auto' in a fit: the relative gain of the previous epoch (see _judge).
    last_gain: float = np.nan
    # Momentum restarts made (for messages).
    restarts: int = 0
    validation_scores: list | None = None
    best_validation_score: float = -np.inf
    # With early stopping, the coefficients of the best validation score;
    # else those at the start of the epoch of the lowest objective.
    best_coef: np.ndarray | None = None
    best_intercept: float = 0.0
    # The estimator's map from X to the design descended on (see _features);
    # coef and intercept are those of the design.
    features: object = None
    # The dtype of the training data, which the published model takes (the
    # kernels keep float64 coefficients).
    dtype: np.dtype = np.dtype(np.float64)

    def model(self):
        """The coefficients and intercept the fit reports: the average once averaging has begun.

        (Unless, under ``'auto'``, the last epoch's iterate was better than the
        average; under L1 there, the average's proximal map.)
        """
        if self.average_from and not self.iterate_is_model:
            if self.mean_model is not None:
                return self.mean_model
            average = self.rule_state[AVERAGE, ...]
            return copied(average[:-1]), float(average[-1])
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
        row[:-1], row[-1] = to_numpy(coef), float(intercept)


@dataclass
class Validation:
    """A held-out set scored after each epoch (early stopping)."""

    X: np.ndarray
    y: np.ndarray
    sample_weight: np.ndarray

    def score(self, coef, intercept):
        """R² of the linear model on the held-out set (in the namespace of its arrays)."""
        xp = namespace(self.y)
        residual = self.y - (self.X @ coef + intercept)
        mean = xp.sum(self.sample_weight * self.y) / xp.sum(self.sample_weight)
        total = float(self.sample_weight @ (self.y - mean) ** 2)
        error = float(self.sample_weight @ residual**2)
        return 1.0 - error / total if total > 0 else 0.0

    def target(self, column):
        """The held-out set of one target, column ``column`` of a 2-D ``y``."""
        return Validation(self.X, self.y[:, column], self.sample_weight)


def run_epochs(X, y, sample_weight, state, settings, max_epochs, stop_early, validation=None, rows=None,
               path=None, callbacks=None):
    """Train ``state`` in place for up to ``max_epochs`` epochs.

    ``X`` is a design (see ``_features``) of any kind (see ``_rows``: on a
    device, with ``y``, ``sample_weight`` and the state there); training
    uses its ``rows`` (increasing indices; None for all), so that holding
    rows out copies nothing. ``sample_weight`` is normalised to mean 1
    over them. With
    ``stop_early`` false (as in ``partial_fit``) no stopping rule ends the
    loop, though the adaptive step still adapts. ``path`` (a :class:`Path`)
    records the descent; ``callbacks`` are told of each epoch.

    Returns
    -------
    stopped : bool
        Whether the stopping rule, or a callback, ended the loop before
        ``max_epochs``.
    """
    training = training_rows(X, y, sample_weight, rows)
    passes = Passes(training, settings, state.rng)
    run = epochs(passes, training, state, settings, max_epochs, stop_early, validation, path)
    return drive([run], passes, callbacks, state)[0]


def drive(runs, passes, callbacks, model):
    """Advance the generators of :func:`epochs` together, serving their passes over the rows; returns their results.

    Each run asks for one thing at a time. The passes asked for at once
    are served together (one pass over the rows for all of them, see
    :class:`Passes`). A run at the start or the end of an epoch
    (``("begin",)``, ``("end",)``) waits until every run is: the callbacks
    are then told of the epoch of ``model`` once, and their decision to
    stop sent to all, so that the runs go through their epochs together
    (one row order for all).
    """
    results = [None] * len(runs)
    pending = {}

    def advance(index, answer):
        try:
            pending[index] = runs[index].send(answer)
        except StopIteration as finished:
            results[index] = finished.value
            pending.pop(index, None)

    for index in range(len(runs)):
        advance(index, None)
    while pending:
        kinds = {request[0] for request in pending.values()}
        answers = {}
        if kinds <= {"begin", "end"}:  # every run is between two epochs
            kind = "end" if "end" in kinds else "begin"
            if kind == "end":
                answer = callbacks is not None and callbacks.epoch_end(model)
            elif callbacks is not None:
                answer = callbacks.epoch_begin(model)
            answers = {index: answer if kind == "end" else None
                       for index, request in pending.items() if request[0] == kind}
        for kind in sorted(kinds - {"begin", "end"}):
            group = {index: request for index, request in pending.items() if request[0] == kind}
            answers.update(passes.serve(kind, group))
        for index, answer in answers.items():
            advance(index, answer)
    return results


class Passes:
    """The passes over the training rows that a run of :func:`epochs` asks for, for one target.

    ``serve(kind, requests)`` answers requests of one kind, a dict from run
    to request: ``("epoch", state, coef, schedule, average_from, updates)``
    (one epoch of updates on ``coef``, in place; answered with the kernel's
    ``(loss_sum, intercept, t, rule_count)``), ``("gradient", coef,
    intercept, shift)`` (the full-batch sums at a model) and ``("losses",
    coefs, intercepts)`` (the loss sums of models). The rows object (see
    ``_rows``) answers them, and orders each epoch's rows (at random from
    ``rng`` when shuffling). ``_targets.TargetPasses`` serves several targets.
    """

    def __init__(self, rows, settings, rng):
        self.rows, self.settings, self.rng = rows, settings, rng
        self.n_samples = rows.n_samples
        self.batch_size = min(settings.batch_size, self.n_samples)
        # A full batch's gradient is a sum: memory order is fastest.
        self.shuffle = settings.shuffle and self.batch_size < self.n_samples
        self.full_batch = rows.one_pass and self.batch_size == self.n_samples

    def serve(self, kind, requests):
        rows, loss = self.rows, self.settings.loss
        if kind == "epoch":
            order = rows.order(self.rng, self.shuffle)
            return {index: rows.epoch(order, self.batch_size, coef, state, self.settings, schedule, average_from,
                                      updates)
                    for index, (_, state, coef, schedule, average_from, updates) in requests.items()}
        if kind == "gradient":
            return {index: rows.gradient_sums(coef, intercept, loss, shift)
                    for index, (_, coef, intercept, shift) in requests.items()}
        return {index: rows.loss_sums(coefs, intercepts, loss) for index, (_, coefs, intercepts) in requests.items()}


def epochs(passes, rows, state, settings, max_epochs, stop_early, validation, path):
    """A generator that trains ``state`` on the target of ``rows`` as :func:`run_epochs` does, asking ``passes`` for its passes.

    It yields its requests (see :class:`Passes`), ``("begin",)`` at the
    start of each epoch and ``("end",)`` at its end (answered True if a
    callback stops training), and returns whether the stopping rule, or a
    callback, ended it.
    """
    # Divergence is judged against the starting model's objective too (a
    # warm start's), not against the first epoch's, which may have exploded.
    checked = rows.head(FINAL_CHECK_ROWS)
    reference = max(rows.target_scale(), _objective(checked, state.coef, state.intercept, settings))
    started = time.perf_counter()
    stopped_by = yield from _run(passes, state, settings, max_epochs, stop_early, validation, reference, path)
    if settings.verbose and stopped_by:
        print(f"{stopped_by} after {state.n_iter} epochs took {time.perf_counter() - started:.2f} seconds")
    if not (settings.schedule_name == "auto" and stop_early):  # else every model was measured
        # (epoch objectives are measured before each update: the last one is checked here)
        _check_divergence(_objective(checked, state.coef, state.intercept, settings), state.coef, state.intercept,
                          state, settings, reference)
    return stopped_by is not None


def _run(passes, state, settings, max_epochs, stop_early, validation, reference, path):
    """The epochs; returns what stopped them early ("Convergence", "Stopped by a callback"), or None."""
    n_samples, batch_size = passes.n_samples, passes.batch_size
    # Under 'auto', a fit judges each epoch by the exact objective of its model.
    judge = None
    if settings.schedule_name == "auto" and stop_early:
        judge = Judge(passes, settings, averaging=not settings.average_from and batch_size < n_samples)
        yield from judge.start(state)
    last_epoch = state.n_iter + max_epochs
    for _ in range(max_epochs):
        started = time.perf_counter()
        yield ("begin",)
        coef = copied(state.coef)
        schedule = (settings.schedule[0], state.eta, *settings.schedule[2:])
        average_from = _average_from(state, settings, judge)
        updates = None
        if path is not None and path.every_update:
            updates = path.new_rows(passes.rows.n_updates(batch_size))
        if judge is not None and judge.full_batch:
            # the full-batch update from the gradient the judge measured at coef
            _, intercept, t, rule_count = passes.rows.step(judge.gradient, coef, state, settings, schedule,
                                                           average_from, updates)
        else:
            penalty = penalty_value(coef, *settings.penalty)  # at the epoch's start
            loss_sum, intercept, t, rule_count = yield ("epoch", state, coef, schedule, average_from, updates)
            objective = float(loss_sum) / n_samples + penalty
        if judge is not None:
            objective, iterate_objective, averaged = yield from judge.measure(coef, intercept, state,
                                                                              average_from, t, rule_count)
            objective, iterate_objective = float(objective), float(iterate_objective)
        else:
            iterate_objective, averaged = objective, average_from and t >= average_from
        _check_divergence(iterate_objective, coef, intercept, state, settings, reference)
        restarted = settings.restart and bool(state.loss_curve) and iterate_objective > state.loss_curve[-1]
        if restarted:
            state.rule_state[FIRST, ...] = 0.0
            state.restarts += 1
        start_coef, start_intercept = state.coef, state.intercept
        state.coef, state.intercept, state.t, state.rule_count = coef, intercept, t, rule_count
        state.average_from = average_from if averaged else 0
        state.n_iter += 1
        state.loss_curve.append(objective)
        if path is not None and not path.every_update:
            path.add(coef, intercept)
        if restarted and judge is not None and state.best_coef is not None:
            # back to the best model, from where the velocity starts afresh
            state.coef, state.intercept = yield from judge.restart_at(state)
        if validation is not None:
            model_coef, model_intercept = state.model()
            score = validation.score(model_coef, model_intercept)
            state.validation_scores.append(score)
            if score > state.best_validation_score:
                state.best_coef, state.best_intercept = copied(model_coef), model_intercept
            current, best = -score, -state.best_validation_score
            state.best_validation_score = max(score, state.best_validation_score)
        elif judge is not None:
            previous_best = state.best_loss
            # the model after this epoch; a later one equal to rounding is preferred
            if objective <= state.best_loss + ROUNDING * abs(state.best_loss):
                model_coef, model_intercept = state.model()
                state.best_coef, state.best_intercept = copied(model_coef), model_intercept
            if judge.restarts_mean:  # (once the epoch's model, which may be the mean, is kept)
                state.average_from, state.iterate_is_model, state.mean_model = 0, False, None
        else:
            if objective < state.best_loss:  # the objective of the epoch's start
                state.best_coef, state.best_intercept = start_coef, start_intercept
            current, best = objective, state.best_loss
        state.best_loss = min(objective, state.best_loss)
        eta = state.eta
        if judge is not None and validation is None:
            stop = _judge_epoch(state, settings, objective, previous_best, judge)
        else:
            stop = _after_epoch(state, settings, current, best, validation is not None, stop_early)
        if settings.verbose:
            _report(state, settings, time.perf_counter() - started, restarted, eta)
        if (yield ("end",)) and not stop and state.n_iter < last_epoch:
            return "Stopped by a callback"
        if stop:
            return "Convergence"
    return None


def _report(state, settings, seconds, restarted, eta_before):
    """Print the epoch's line (``verbose >= 1``) and, at ``verbose >= 2``, its details and events."""
    print(epoch_line(state, f"{_current_step(state, settings):.3g}", seconds))
    if settings.verbose < 2:
        return
    coef, intercept = state.model()
    coef = to_numpy(coef)
    print(f"   norm {np.linalg.norm(coef):.6g}, nonzero {np.count_nonzero(coef)}, intercept {intercept:.6g}, "
          f"best objective {state.best_loss:.6g}, epochs without improvement {state.no_improvement_count}")
    print_events(state, settings, restarted, eta_before)


def epoch_line(model, steps, seconds):
    """``verbose``'s line of the epoch ``model`` (a state, or a multi-output fit's states) ended, taking ``seconds``."""
    line = (f"-- Epoch {model.n_iter}: objective {model.loss_curve[-1]:.6g}, step {steps}, updates {model.t}, "
            f"time {seconds:.3f} s")
    if model.validation_scores is not None:
        line += f", validation R2 {model.validation_scores[-1]:.4f}"
    return line


def print_events(state, settings, restarted, eta_before, name=""):
    """Print (``verbose >= 2``) the epoch's events: a restart of the velocity, a division of the step."""
    if restarted:
        print(f"   {name}objective rose: velocity restarted")
    if state.eta != eta_before:
        print(f"   {name}stalled for {settings.n_iter_no_change} epochs: step divided by {eta_before / state.eta:g}")


def _average_from(state, settings, judge=None):
    """The update from which to average: where averaging began, else where it is to begin (0: never).

    A start already passed (a stream whose batches grew) is the next update.
    A :class:`Judge` that averages starts afresh with the epoch when the
    last epoch's iterate beat the average.
    """
    if state.average_from:
        return state.average_from
    if judge is not None and judge.averaging:
        return state.t + 1
    if not settings.average_from:
        return 0
    return max(settings.average_from, state.t + 1)


class Judge:
    """The exact training objective of each epoch's model, for a fit under ``'auto'``.

    After each epoch the model is measured on every training row: for
    ``'batch'`` the iterate, its loss and gradient coming from one pass
    (whose gradient makes the next epoch's step); for the stochastic solvers
    the last iterate and, with ``averaging``, the running mean of the
    iterates (Polyak-Ruppert), in one pass. The better of the two is the
    epoch's model. Under an L1 penalty the mean, which has no exact zeros,
    is replaced by its proximal map (soft thresholding, with the step and
    metric of the updates, see ``_kernels``), measured as exactly. The mean
    covers the epochs at the current step but the first (a burn-in: it
    starts afresh after it), and starts afresh again after its first epoch
    if the iterate beat it (the descent was still on its way down), so that
    it forgets the early steps and keeps shrinking the noise of the later
    ones (Bach and Moulines, 2013; tail averaging: Jain et al., 2018). The
    epoch after which it starts afresh still offers the better of its
    iterate and its mean as its model (``restarts_mean`` tells the loop to
    start the mean afresh once that model is kept). ``gain`` is the relative
    fall of the mean's objective in the last epoch (None where there is no
    such trend), and ``mean_epochs`` the epochs it covers.
    """

    def __init__(self, passes, settings, averaging):
        self.n_rows = passes.n_samples
        self.settings = settings
        self.rows = passes.rows
        self.full_batch = passes.full_batch
        self.averaging = averaging and not self.full_batch
        self.proximal = self.averaging and settings.penalty[0] > 0.0
        # a running mean of a quadratic objective converges to its optimum at any (stable) step
        self.quadratic = self.averaging and settings.loss[0] == SQUARED_ERROR and settings.penalty[0] == 0.0
        # with momentum's restarts the mean is no steady trend: the best objective's gain judges
        self.follows_mean = self.averaging and not settings.restart
        self.gradient = None
        self.eta = np.nan  # the step of the epochs the running mean covers
        self.mean_objective = np.nan  # the running mean's objective after the last epoch (nan: none)
        self.gain = None  # the relative fall of the running mean's objective in the last epoch (None: none)
        self.mean_epochs = 0  # the epochs the running mean covers
        self.restarts_mean = False  # whether the running mean starts afresh after the epoch just measured

    # The methods that measure are generators: they yield their passes over
    # the rows (see Passes), which the driver serves.

    def start(self, state):
        """Measure the starting model: the first best model (as for a strong L1 penalty, whose optimum may be 0)."""
        coef, intercept = state.model()
        if self.full_batch:
            objective = yield from self._gradient_pass(state.coef, state.intercept, state.preconditioner)
        else:
            objective = (yield from self._objectives([coef], [intercept]))[0]
        state.best_loss = float(objective)
        state.best_coef, state.best_intercept = copied(coef), intercept

    def restart_at(self, state):
        """The best model's coefficients and intercept, as a new iterate (measured again for ``'batch'``)."""
        coef, intercept = copied(state.best_coef), state.best_intercept
        if self.full_batch:
            yield from self._gradient_pass(coef, intercept, state.preconditioner)
        return coef, intercept

    def measure(self, coef, intercept, state, average_from, t, rule_count):
        """The epoch's model objective, its iterate's objective, and whether the iterates are being averaged.

        ``t`` and ``rule_count`` are the counts of updates after the epoch.
        """
        state.iterate_is_model, state.mean_model = False, None
        self.gain, self.restarts_mean = None, False
        if self.full_batch:
            objective = yield from self._gradient_pass(coef, intercept, state.preconditioner)
            if average_from and t >= average_from:  # the user's averaging: the model is the mean
                average = state.rule_state[AVERAGE, ...]
                objective = (yield from self._objectives([average[:-1]], [average[-1]]))[0]
            return objective, objective, bool(average_from and t >= average_from)
        if not (average_from and t >= average_from):
            objective = (yield from self._objectives([coef], [intercept]))[0]
            return objective, objective, False
        average = state.rule_state[AVERAGE, ...]
        mean_coef, mean_intercept = average[:-1], average[-1]
        if self.proximal:
            mean_coef, mean_intercept = state.mean_model = self._proximal_mean(state, rule_count)
        iterate, mean = yield from self._objectives([coef, mean_coef], [intercept, mean_intercept])
        if not self.averaging:  # the user's averaging: the model is the mean
            return mean, iterate, True
        state.iterate_is_model = iterate < mean
        # The first epoch at a step carries the descent from where the step
        # began (the start, or the best model at a larger step): its mean
        # starts afresh. So does a fresh mean the last iterate beat (the
        # descent was still on its way down).
        first_at_step, self.eta = state.eta != self.eta, state.eta
        fresh = first_at_step or self.mean_epochs == 0
        previous_mean, self.mean_objective = self.mean_objective, float(mean)
        if first_at_step or (fresh and iterate < mean):
            self.mean_objective = np.nan
            self.mean_epochs = 0
            self.restarts_mean = True
            return min(iterate, mean), iterate, True
        self.mean_epochs = 1 if fresh else self.mean_epochs + 1
        if self.follows_mean and not fresh and np.isfinite(previous_mean):
            self.gain = (previous_mean - float(mean)) / max(abs(float(mean)), np.finfo(float).tiny)
        return min(iterate, mean), iterate, True

    def _proximal_mean(self, state, rule_count):
        """The L1 proximal map of the running mean, with the threshold of the epoch's updates, and its intercept.

        The intercept follows the coefficients' change, as in an update.
        """
        average = state.rule_state[AVERAGE, ...]
        coef, rule = average[:-1], self.settings.rule
        corrections = tuple(map(float, adam_corrections.py_func(rule[2] ** rule_count, rule[3] ** rule_count)))
        preconditioner = state.preconditioner.arrays()
        metric = proximal_metric(rule, preconditioner, state.rule_state[SECOND, :-1], corrections)
        proximal = soft_thresholds(coef, (state.eta * self.settings.penalty[0]) * metric)
        return proximal, average[-1] + preconditioner[0] @ (coef - proximal)

    def _gradient_pass(self, coef, intercept, preconditioner):
        """One pass at ``coef``: keeps its gradient sums, returns its objective."""
        self.gradient = yield ("gradient", coef, intercept, preconditioner.shift)
        return self.rows.gradient_loss(self.gradient) / self.n_rows + penalty_value(coef, *self.settings.penalty)

    def _objectives(self, coefs, intercepts):
        """The objective of each model (coefficients of the design, intercept) on the training rows."""
        sums = yield ("losses", coefs, intercepts)
        penalties = np.array([penalty_value(c, *self.settings.penalty) for c in coefs])
        return sums / self.n_rows + penalties


def restore_best(state, settings, early_stopping):
    """End a fit on its best model where that is the rule.

    With early stopping, the model of the best validation score (the
    average, with averaging). Under ``'auto'``, the model of the epoch with
    the lowest objective (see :class:`Judge`). With ``average`` set, the
    average is set to it; otherwise the iterate is, and an average the judge
    kept is dropped.
    """
    if state.best_coef is None or not (early_stopping or settings.schedule_name == "auto"):
        return
    state.coef, state.intercept = copied(state.best_coef), state.best_intercept
    state.iterate_is_model, state.mean_model = False, None
    if settings.average_from and state.average_from:
        state.rule_state[AVERAGE, :-1], state.rule_state[AVERAGE, -1] = state.best_coef, state.best_intercept
    else:
        state.average_from = 0


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


def _judge_epoch(state, settings, objective, previous_best, judge):
    """Under ``'auto'`` in a fit: stop (True), or go on, dividing the step when it no longer helps.

    The epoch's *gain* is the relative fall of the best objective,
    ``(previous_best - objective) / objective``; where the :class:`Judge`
    averages (without momentum's restarts, which break the trend), that of
    the running mean's objective since the last epoch (``judge.gain``), the
    sequence the descent converges along, which a lucky iterate does not
    hide. The descent has *settled*
    when the gain is within ``tol`` of zero and the gain still to come is
    within ``tol`` too: the model is then within about ``tol`` (relative)
    of where the descent is going. The gain to come is extrapolated
    geometrically from the last two gains (their ratio ``rho``),
    ``2 * gain * rho / (1 - rho)``; for a running mean, which converges as
    ``1 / k`` after ``k`` epochs (Bach and Moulines, 2013), it is at least
    ``k * gain``. It has *stalled* after ``n_iter_no_change`` epochs
    without a gain above ``tol``, not counting those of a running mean
    whose extrapolated gain to come is above ``tol`` (slow but steady).
    Settled or stalled, ``'batch'`` stops; a stochastic solver, whose noise
    floor falls with the step, first divides the step by 5, and stops once a
    division brought no gain above ``tol`` (the first epoch after a division,
    whose mean has no trend yet, is not judged). A running mean of a
    quadratic objective (squared error, no L1) settled on its way down
    stops without dividing: it converges to the optimum whatever the step.
    Any solver stalled above its best (overshooting) divides its step again
    and again.
    """
    if settings.tol is None:
        return False
    tol = settings.tol
    of_mean = judge.gain is not None
    if of_mean:
        gain = judge.gain
    else:
        gain = (previous_best - objective) / max(abs(objective), np.finfo(float).tiny)
    last_gain, state.last_gain = state.last_gain, gain
    if judge.averaging and np.isnan(last_gain) and np.isfinite(state.best_at_last_decrease):
        # the first epoch after a division: its fresh mean has no trend yet
        state.no_improvement_count = 0
        return False
    if 0.0 < gain < last_gain:
        rho = gain / last_gain
        to_come = 2.0 * gain * rho / (1.0 - rho)
    else:  # no gain, or none to extrapolate from
        to_come = 0.0 if gain <= 0.0 else np.inf
    if gain > tol or (of_mean and to_come > tol):
        state.no_improvement_count = 0
    else:
        state.no_improvement_count += 1
    if of_mean and gain > 0.0:
        to_come = max(to_come, judge.mean_epochs * gain)
    settled = abs(gain) <= tol and to_come <= tol
    stalled = state.no_improvement_count >= settings.n_iter_no_change
    if not (settled or stalled):
        return False
    overshooting = stalled and _improves(state.best_loss, objective, tol, absolute=False)
    helped = _improves(state.best_loss, state.best_at_last_decrease, tol, absolute=False)
    stochastic = not judge.full_batch
    converging = judge.quadratic and of_mean and gain > 0.0
    if (overshooting or (stochastic and helped and not converging)) and state.eta >= AUTO_MIN_STEP * state.base_eta:
        state.best_at_last_decrease = state.best_loss
        state.eta /= ADAPTIVE_DIVISOR
        state.no_improvement_count = 0
        state.last_gain = np.nan
        if stochastic and not settings.average_from:
            # the smaller steps start from the best model, and average afresh
            state.coef, state.intercept = copied(state.best_coef), state.best_intercept
            state.average_from = 0
            state.rule_state[FIRST, ...] = 0.0
        return False
    return True


def _objective(rows, coef, intercept, settings):
    """The objective of a model on ``rows``."""
    loss_sum = rows.loss_sums([coef], [intercept], settings.loss)[0]
    return loss_sum / rows.n_samples + penalty_value(coef, *settings.penalty)


def _check_divergence(objective, coef, intercept, state, settings, reference):
    """Raise if the objective is non-finite or has exploded.

    Exploding means exceeding ``DIVERGENCE_FACTOR`` times ``reference``,
    the larger of the scale of the targets (``mean(y**2 + |y|)``) and the
    starting model's objective (see :func:`run_epochs`).
    """
    exploding = objective / DIVERGENCE_FACTOR > max(reference, np.finfo(float).tiny)
    if np.isfinite(objective) and np.isfinite(float(intercept)) and all_finite(coef) and not exploding:
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
