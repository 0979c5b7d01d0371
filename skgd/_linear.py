"""``GDRegressor``: linear regression fitted by gradient descent."""

import copy
import warnings
from contextlib import contextmanager
from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator, RegressorMixin, _fit_context
from sklearn.exceptions import ConvergenceWarning, UndefinedMetricWarning
from sklearn.linear_model._base import SparseCoefMixin
from sklearn.model_selection import ShuffleSplit
from sklearn.utils import check_random_state
from sklearn.utils._array_api import check_same_namespace
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import _check_sample_weight, check_array, check_is_fitted, validate_data

from ._array_api import (
    HostRows, check_solver, copied, dispatched_namespace, host_view, is_device_array, moved_preconditioner, moved_to,
    namespace, numpy_dtype, on_device_of, on_host, take_rows, validated_training_data, xp_device,
)
from ._arrays import float64_coef, kernel_array, predictions, published
from ._callbacks import CallbackSupportMixin, EpochCallbacks
from ._dask import Blocks, is_dask
from ._dask import predict as dask_predict
from ._dask import score as dask_score
from ._dask import validate_training_data as dask_training_data
from ._engine import Settings, TrainingState, Validation, restore_best
from ._features import RAW_FEATURES, RotatedFeatures
from ._losses import CURVATURE, LOSS_CODES, ROBUST, loss_tuple, loss_value
from ._parallel import one_blas_thread
from ._penalties import penalty_strengths
from ._preconditioning import Preconditioner
from ._rows import training_rows
from ._schedules import SCHEDULE_CODES, optimal_t0
from ._sparse import SPARSE_FORMATS, linear_predictions, sparse_batch_size
from ._targets import (
    TargetStates, check_same_targets, new_paths, published_paths, target_inits, target_predictions, targets_of,
    train,
)
from ._update_rules import AVERAGE, FIRST, MOMENTUM_RULES, RULE_CODES, SECOND, new_state, rule_tuple

AUTO_BATCH_SIZE = 200
# Under 'auto', a fit's step has the gradient-noise part of its curvature
# multiplied by this, as averaged SGD converges for steps up to about half
# the largest stable one.
AVERAGING_NOISE_FACTOR = 2.0
# 'auto' step of the adaptive rules, as a share of the spread of y (in the
# preconditioned coordinates, coefficients are of that size). Each of their
# first steps moves every coordinate by about eta; AdaGrad's steps then
# shrink as 1 / sqrt(k), so its eta is the distance to travel (Duchi et
# al.), while RMSProp and Adam keep steps near eta and need a finer one.
ADAPTIVE_STEP_SHARES = {"adagrad": 1.0, "rmsprop": 0.01, "adam": 0.01}


class GDRegressor(CallbackSupportMixin, SparseCoefMixin, RegressorMixin, BaseEstimator):
    """Linear regression fitted by batch, mini-batch or stochastic gradient descent.

    Minimises the weighted mean loss plus a penalty on the coefficients,

        J(w, b) = sum_i s_i * loss(x_i @ w + b, y_i) / sum_i s_i + R(w),

    by gradient descent: ``solver='batch'`` uses every row for each step,
    ``'sgd'`` one row, ``'minibatch'`` ``batch_size`` rows. Parameter names and
    meanings follow :class:`~sklearn.linear_model.SGDRegressor`.

    A 2-D ``y`` of shape (n_samples, n_targets) is that many independent
    problems sharing ``X``, one model per column (multi-output, as in
    :class:`~sklearn.linear_model.Ridge`): the whole objective is the sum
    over targets of each target's ``J``. Each target has its own step,
    stopping rule, step divisions and best model, exactly as a fit to its
    column alone (with the same ``random_state``, the rows are visited in
    the same order); each row is read once for all targets.

    Parameters
    ----------
    solver : {'batch', 'minibatch', 'sgd'}, default='minibatch'
        How many rows each gradient step sees: all of them, ``batch_size``
        shuffled rows, or one.
    batch_size : int or 'auto', default='auto'
        Rows per step for ``solver='minibatch'``; ``'auto'`` means
        ``min(200, n_samples)``, except for sparse ``X`` under
        ``learning_rate='auto'`` (whose step is sized for the batch, and
        costs O(n_features) on sparse rows): there, enough rows that their
        non-zeros reach ``n_features`` (``n_features`` divided by the mean
        non-zeros per row), at least 200 and at most ``n_samples / 32`` (and
        200 if that is less), so that a step costs no more than reading its
        rows. Larger values are clipped to ``n_samples``. Ignored by the
        other solvers.
    loss : {'squared_error', 'absolute_error', 'huber', 'epsilon_insensitive', \
            'squared_epsilon_insensitive'}, default='squared_error'
        Loss of a prediction ``p`` for target ``y``, with ``r = p - y``:
        ``r**2 / 2``; ``|r|``; ``r**2 / 2`` within ``epsilon`` and linear
        beyond; ``max(0, |r| - epsilon)``; ``max(0, |r| - epsilon)**2``.
    epsilon : float, default=0.1
        Threshold of the ``'huber'`` and epsilon-insensitive losses, in units
        of ``y``.
    penalty : {'l2', 'l1', 'elasticnet'} or None, default='l2'
        Penalty on the coefficients (never on the intercept):
        ``alpha * ((1 - l1_ratio) / 2 * ||w||^2 + l1_ratio * ||w||_1)``, with
        ``l1_ratio`` 0 for ``'l2'`` and 1 for ``'l1'``. The L2 part enters the
        gradient; the L1 part is applied by its proximal step (soft
        thresholding) after each update, so coefficients come out exactly
        zero where the lasso solution has zeros.
    alpha : float, default=1e-4
        Strength of the penalty; also sets the ``'optimal'`` learning rate.
    l1_ratio : float or None, default=0.15
        Share of L1 in the ``'elasticnet'`` penalty, in ``[0, 1]``. May be
        None unless ``penalty='elasticnet'`` (as in ``SGDRegressor``).
    fit_intercept : bool, default=True
        Whether to fit an intercept.
    learning_rate : {'auto', 'constant', 'optimal', 'invscaling', 'adaptive'}, \
            default='auto'
        Step size schedule, ``t`` counting updates from 1:

        - ``'auto'``: chosen from the data so that every solver converges on
          unscaled features. The descent runs in centred, preconditioned
          coordinates: whitened by the inverse of the penalised second-moment
          matrix of the features when there are at most 256 of them and at
          most 16 times the batch size, diagonally rescaled otherwise. It
          starts from the weighted mean of ``y`` as intercept (the weighted
          median for robust losses) with the step ``1 / L``, ``L`` the
          curvature of the preconditioned objective for the solver's batch
          size (a shorter last batch takes a step in proportion). On
          correlated columns too many for a full ``P`` per one-row update, a
          fit with the plain rule and no L1 penalty descends on the design
          rotated so that ``P`` is diagonal (one float64 copy of it). The
          change of coordinates alters the path only, not the objective or
          the coefficients. Sparse ``X`` gets the diagonal preconditioner
          only, its centring implicit. After each epoch of a fit the model is measured
          exactly on every training row: for the stochastic solvers, the
          better of the last iterate and the running mean of the iterates
          (Polyak-Ruppert averaging; with an L1 penalty, the mean's proximal
          map, which has the exact zeros a mean lacks). The fit stops once
          that objective has settled within ``tol`` of where it is going
          (see ``tol``; for the stochastic solvers, along the trend of the
          running mean, which converges as ``1 / k``); the
          stochastic solvers first divide the step by 5 and restart from the
          best model, again while divisions help. The fit returns the model
          of the lowest objective it measured.
          With ``partial_fit``, the preconditioner and step are re-estimated
          at each call from the moments of all rows seen (until 20,000),
          shrunk towards the diagonal by ``d / (n + d)`` after ``n`` rows.
        - ``'constant'``: ``eta0``, from zero coefficients and intercept:
          exactly ``theta <- theta - eta0 * grad J(theta)``.
        - ``'optimal'``: ``1 / (alpha * (t0 + t - 1))``, ``t0`` as in
          ``SGDRegressor``.
        - ``'invscaling'``: ``eta0 / t ** power_t``.
        - ``'adaptive'``: ``eta0``, divided by 5 each time the objective
          stalls for ``n_iter_no_change`` epochs; stops below 1e-6.
    eta0 : float, default=0.01
        Initial step for the ``'constant'``, ``'invscaling'`` and
        ``'adaptive'`` schedules.
    power_t : float, default=0.25
        Exponent of the ``'invscaling'`` schedule, in ``[0, inf)`` (a
        negative one, which ``SGDRegressor`` deprecates, is refused).
    optimizer : {'plain', 'momentum', 'nesterov', 'adagrad', 'rmsprop', \
            'adam'}, default='plain'
        Update rule turning each gradient ``g`` into a step ``eta * u`` (the
        schedule gives ``eta``); its state ``m``, ``s`` (zero at the start)
        and update count ``k`` carry across epochs, ``partial_fit`` calls,
        ``warm_start`` fits and pickling:

        - ``'plain'``: ``u = g``.
        - ``'momentum'``: ``m = momentum * m + g``, ``u = m`` (the convention
          of ``torch.optim.SGD``; with a constant step, Polyak's heavy ball
          ``theta <- theta - eta * g + momentum * (theta - theta_previous)``).
        - ``'nesterov'``: ``m = momentum * m + g``, ``u = g + momentum * m``:
          Nesterov's accelerated gradient, the gradient taken at the
          look-ahead point, which is the point the model holds.
        - ``'adagrad'``: ``s = s + g**2``, ``u = g / (sqrt(s) +
          stability_epsilon)``.
        - ``'rmsprop'``: ``s = beta_2 * s + (1 - beta_2) * g**2``,
          ``u = g / (sqrt(s) + stability_epsilon)``.
        - ``'adam'``: ``m = beta_1 * m + (1 - beta_1) * g``, ``s`` as for
          ``'rmsprop'``, ``u = m_hat / (sqrt(s_hat) + stability_epsilon)``
          with ``m_hat = m / (1 - beta_1**k)``, ``s_hat = s / (1 - beta_2**k)``.

        Every rule combines with every schedule. With ``learning_rate='auto'``
        the rules act in the preconditioned coordinates, and the step is:
        for ``'momentum'`` and ``'nesterov'``, ``'plain'``'s ``1 / L`` with the
        gradient-noise part of ``L`` multiplied by ``1 / (1 - momentum)``
        (so ``1 / L`` for ``'batch'``), and the velocity is zeroed after any
        epoch whose objective rose (adaptive restart); for the adaptive rules,
        which need no Lipschitz bound, a share of the spread of ``y`` (its
        mean absolute deviation; without an intercept, the mean of ``|y|``):
        1 for ``'adagrad'``, 0.01 for ``'rmsprop'`` and ``'adam'``, the
        intercept starting at the mean of ``y``. Switching ``optimizer``
        between ``partial_fit`` calls or for a ``warm_start`` fit starts the
        new rule's state afresh.
    momentum : float, default=0.9
        Momentum of ``'momentum'`` and ``'nesterov'``, in ``[0, 1)``.
    beta_1 : float, default=0.9
        Decay of ``'adam'``'s first-moment estimate, in ``[0, 1)``.
    beta_2 : float, default=0.999
        Decay of the second-moment estimate of ``'adam'`` and ``'rmsprop'``,
        in ``[0, 1)``.
    stability_epsilon : float, default=1e-8
        Added to the root of the second moments by ``'adagrad'``,
        ``'rmsprop'`` and ``'adam'``, so that they never divide by zero.
        (Not the ``epsilon`` of the losses.)
    average : bool or int, default=False
        Averaged SGD, as in ``SGDRegressor``: when True, ``coef_`` and
        ``intercept_`` are the mean of the coefficients and intercept after
        every update; an int ``n`` starts the mean once ``n`` rows have
        been seen (at update ``ceil(n / batch_size)``). The descent itself,
        and ``loss_curve_``, follow the non-averaged coefficients. Averaging
        restarts at each ``fit``, and ``partial_fit`` continues it.
    max_iter : int, default=1000
        Maximum number of epochs (passes over the training data) in ``fit``.
    tol : float or None, default=1e-4
        Stopping tolerance. Under ``'auto'``, a relative suboptimality: a fit
        stops once the best objective's relative fall in the last epoch (for
        the stochastic solvers without momentum, the running mean's) is
        within ``tol`` of zero and the fall still to come, extrapolated
        geometrically from the last two epochs' falls (for a running mean
        over ``k`` epochs, at least ``k`` times the last fall), is within
        ``tol`` too (or after
        ``n_iter_no_change`` epochs without a fall above ``tol``, a running
        mean's steady descent excepted). For the fixed schedules, training
        stops when the epoch objective has not fallen by a relative ``tol``
        (``loss < best_loss - tol * |best_loss|``) for ``n_iter_no_change``
        consecutive epochs.
        With early stopping, the validation R² must instead rise by ``tol``.
        ``None`` disables stopping.
    n_iter_no_change : int, default=5
        Number of epochs without improvement before stopping (or dividing
        the step, for ``'adaptive'`` and ``'auto'``).
    early_stopping : bool, default=False
        Hold out ``validation_fraction`` of the training data and stop when
        its R² stops improving; the coefficients with the best validation
        score are kept. Not available with ``partial_fit``. On a dask
        array, each block holds out its share of the rows (see the user
        guide's *Dask arrays*).
    validation_fraction : float, default=0.1
        Share of the training data held out for early stopping.
    shuffle : bool, default=True
        Whether to visit the rows in a new random order each epoch. The
        ``'batch'`` solver, whose gradient is a sum over all rows, reads
        them in memory order either way.
    random_state : int, RandomState instance or None, default=None
        Seeds the shuffling, the validation split and the subsample the
        ``'auto'`` preconditioner is estimated on. An int gives bit-identical
        fits.
    warm_start : bool, default=False
        Whether ``fit`` starts from the previous solution's coefficients and
        intercept, and the update rule's state (the schedule, step, curve
        and average start afresh).
    verbose : int, default=0
        At 1, print one line per epoch, as ``SGDRegressor`` does: the epoch,
        its objective, the step size, the number of updates, the epoch's
        time (and the validation R² with early stopping), then the
        convergence line. At 2, also the coefficients' norm and number of
        non-zeros, the intercept, the best objective and the epochs without
        improvement, and the events: a momentum restart, a step division.
        Nothing at 0. With a 2-D ``y``, one line per epoch for the whole
        model: the whole objective, the targets' step (its range where they
        differ) and how many targets still run; each target's events.
    store_path : {'epoch', 'step'} or None, default=None
        Record the descent's path in ``coef_path_`` and
        ``intercept_path_``: the starting point, then the coefficients
        and intercept after every epoch (``'epoch'``) or after every update
        (``'step'``; one row per update, meant for small data). ``fit``
        starts a new path, ``partial_fit`` extends it. None records nothing
        and costs nothing.

    Attributes
    ----------
    coef_ : ndarray of shape (n_features,) or (n_targets, n_features)
        Coefficients of the raw features, one row per target for a 2-D
        ``y`` (a ``y`` of shape (n_samples, 1) gives shape (1, n_features),
        as in ``Ridge``); their running mean, with
        ``average``), in the dtype of the training data (of the first
        ``partial_fit`` call's): float32 for float32 ``X``, else float64.
        The descent itself keeps float64 coefficients. A scipy.sparse row
        after :meth:`sparsify`, until :meth:`densify` or further training.
    intercept_ : float or ndarray of shape (n_targets,)
        Intercept (its running mean, with ``average``): a ``float``, or a
        ``numpy.float32`` for float32 training data; for a 2-D ``y``, one
        per target, in the dtype of the training data.
    n_iter_ : int
        Epochs run since training started (``fit`` restarts the count,
        ``partial_fit`` adds one); for a 2-D ``y``, those of the target
        that ran longest.
    t_ : int
        Number of gradient updates made (for a 2-D ``y``, by the target
        that ran longest).
    loss_curve_ : list of float
        One value per epoch. In a fit under ``'auto'``: the exact objective
        of the epoch's model (the one returned had the fit stopped there).
        Otherwise: the weighted mean loss over the epoch (each row's loss
        taken before its update) plus the penalty at the start of the
        epoch; for ``solver='batch'``, exactly the objective at the start of
        each epoch. For a 2-D ``y``, the whole objective: the sum over
        targets, a target that has stopped counting with its last value.
    best_loss_ : float
        Smallest value in ``loss_curve_``. Under ``'auto'``, the objective
        of the model a fit returns, the best it measured: the starting
        model's (``w = 0``, the intercept at the centre of ``y``) when no
        epoch's model did better. For a 2-D ``y``, the sum over targets of
        each target's.
    validation_scores_ : list of float or None
        R² on the held-out set after each epoch, with early stopping (for a
        2-D ``y``, averaged over targets, as ``r2_score`` does by default; a
        target that has stopped counting with its last score); else None.
    best_validation_score_ : float or None
        Best value in ``validation_scores_``, with early stopping (for a
        2-D ``y``, the mean over targets of each target's best score, that
        of the model kept); else None.
    coef_path_ : ndarray of shape (n_points, n_features) or (n_points, n_targets, n_features) or None
        With ``store_path``, the coefficients at the start and after each
        epoch or update, in the units of ``coef_``; else None. The
        iterates, not their average: with ``average``, or when the fit
        returns the coefficients of its best epoch, ``coef_`` is not the
        last row. Always float64, the iterates as the descent computed
        them (float32 data included). For a 2-D ``y``, the target axis
        second; a target that stopped early keeps its last point.
    intercept_path_ : ndarray of shape (n_points,) or (n_points, n_targets) or None
        The intercept at the same points as ``coef_path_`` (float64); else
        None.
    n_features_in_ : int
        Number of features seen during ``fit``.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during ``fit``, when ``X`` has string column
        names.

    See Also
    --------
    sklearn.linear_model.SGDRegressor : Per-sample SGD, without batch or
        mini-batch solvers, loss curve or automatic step.
    sklearn.linear_model.LinearRegression : The closed-form least squares
        optimum.

    Examples
    --------
    >>> from sklearn.datasets import load_diabetes
    >>> from skgd import GDRegressor
    >>> X, y = load_diabetes(return_X_y=True)
    >>> model = GDRegressor(solver="batch", penalty=None).fit(X, y)
    >>> round(model.score(X, y), 3)
    0.518
    """

    _parameter_constraints = {
        "solver": [StrOptions({"batch", "minibatch", "sgd"})],
        "batch_size": [Interval(Integral, 1, None, closed="left"), StrOptions({"auto"})],
        "loss": [StrOptions(set(LOSS_CODES))],
        "epsilon": [Interval(Real, 0, None, closed="left")],
        "penalty": [StrOptions({"l2", "l1", "elasticnet"}), None],
        "alpha": [Interval(Real, 0, None, closed="left")],
        "l1_ratio": [Interval(Real, 0, 1, closed="both"), None],
        "fit_intercept": ["boolean"],
        "learning_rate": [StrOptions(set(SCHEDULE_CODES))],
        "eta0": [Interval(Real, 0, None, closed="neither")],
        "power_t": [Interval(Real, 0, None, closed="left")],
        "optimizer": [StrOptions(set(RULE_CODES))],
        "momentum": [Interval(Real, 0, 1, closed="left")],
        "beta_1": [Interval(Real, 0, 1, closed="left")],
        "beta_2": [Interval(Real, 0, 1, closed="left")],
        "stability_epsilon": [Interval(Real, 0, None, closed="neither")],
        "average": [Interval(Integral, 0, None, closed="left"), "boolean"],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="left"), None],
        "n_iter_no_change": [Interval(Integral, 1, None, closed="left")],
        "early_stopping": ["boolean"],
        "validation_fraction": [Interval(Real, 0, 1, closed="neither")],
        "shuffle": ["boolean"],
        "random_state": ["random_state"],
        "warm_start": ["boolean"],
        "verbose": ["verbose"],
        "store_path": [StrOptions({"epoch", "step"}), None],
    }

    def __init__(
        self,
        *,
        solver="minibatch",
        batch_size="auto",
        loss="squared_error",
        epsilon=0.1,
        penalty="l2",
        alpha=1e-4,
        l1_ratio=0.15,
        fit_intercept=True,
        learning_rate="auto",
        eta0=0.01,
        power_t=0.25,
        optimizer="plain",
        momentum=0.9,
        beta_1=0.9,
        beta_2=0.999,
        stability_epsilon=1e-8,
        average=False,
        max_iter=1000,
        tol=1e-4,
        n_iter_no_change=5,
        early_stopping=False,
        validation_fraction=0.1,
        shuffle=True,
        random_state=None,
        warm_start=False,
        verbose=0,
        store_path=None,
    ):
        self.solver = solver
        self.batch_size = batch_size
        self.loss = loss
        self.epsilon = epsilon
        self.penalty = penalty
        self.alpha = alpha
        self.l1_ratio = l1_ratio
        self.fit_intercept = fit_intercept
        self.learning_rate = learning_rate
        self.eta0 = eta0
        self.power_t = power_t
        self.optimizer = optimizer
        self.momentum = momentum
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.stability_epsilon = stability_epsilon
        self.average = average
        self.max_iter = max_iter
        self.tol = tol
        self.n_iter_no_change = n_iter_no_change
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.shuffle = shuffle
        self.random_state = random_state
        self.warm_start = warm_start
        self.verbose = verbose
        self.store_path = store_path

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, coef_init=None, intercept_init=None, sample_weight=None):
        """Fit the model by gradient descent for up to ``max_iter`` epochs.

        The arguments are those of ``SGDRegressor.fit``, in its order.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training data. A sparse matrix is kept as CSR (see the user
            guide's *Sparse input*), never densified.
        y : array-like of shape (n_samples,) or (n_samples, n_targets)
            Target values; a 2-D ``y`` fits one model per column (NumPy
            ``X``, dense or sparse, or dask arrays).
        coef_init : array-like of shape (n_coef,) or (n_targets, n_coef), default=None
            Coefficients to start from, in the units of ``coef_`` (one per
            feature of ``X``; for ``GDPolynomialRegressor``, one per
            monomial, ``n_output_features_``; one row per target for a 2-D
            ``y``). Under ``'auto'`` they are
            mapped into the preconditioned coordinates the descent runs in.
            None starts from zeros (or, with ``warm_start``, from the
            previous ``coef_``).
        intercept_init : float or array-like of shape (1,) or (n_targets,), default=None
            Intercept to start from (one per target for a 2-D ``y``). None
            starts, with ``warm_start``, from the previous ``intercept_``;
            otherwise where a fit without it
            would, adjusted to ``coef_init``: 0 for the fixed schedules (as
            ``SGDRegressor``); under ``'auto'`` with ``fit_intercept``, the
            centre of ``y`` minus the features' mean times ``coef_init``.
            With ``fit_intercept=False`` the intercept stays where it starts.
        sample_weight : array-like of shape (n_samples,), default=None
            Weight of each sample's loss; None weighs all equally.

        Returns
        -------
        self : GDRegressor
            The fitted estimator.
        """
        self._check_params(for_partial_fit=False)
        with _restored_on_failure(self):
            self._fit(X, y, sample_weight, (coef_init, intercept_init))
        return self

    def _fit(self, X, y, sample_weight, init):
        X, y, weights = self._validate_training_data(X, y, sample_weight, reset=True)
        rng = check_random_state(self.random_state)
        features = self._fit_features(X, weights)
        rows, held_out, validation, training = None, None, None, X
        if self.early_stopping and isinstance(X, Blocks):  # each block holds out some of its rows (see _dask)
            training, held_out = X.split(self.validation_fraction, rng)
            y, weights = training.y, training.sample_weight
        elif self.early_stopping:
            rows, held_out = self._split_validation(X, host_view(weights), rng)
            weights = weights / namespace(weights).mean(take_rows(weights, rows))
        design = features.design(training, lazy=self._lazy_design())
        warm = self.warm_start and hasattr(self, "coef_")
        state = self._initial_state(*host_view(design, y, weights), rng, warm, features, rows=rows, init=init,
                                    dtype=numpy_dtype(X))
        state = moved_to(state, X)
        if state.preconditioner.rotate:
            design = _rotate(state, training)
        if held_out is not None:
            validation = (held_out.validation(state.features) if rows is None else
                          Validation(state.features.design(take_rows(X, held_out), lazy=True),
                                     take_rows(y, held_out), take_rows(weights, held_out)))
            for target_state in targets_of(state):
                target_state.validation_scores = []
        settings = self._settings(training.shape[0] if rows is None else rows.shape[0], design)
        path = self._new_path(state)
        callbacks = EpochCallbacks.start(self, X, y, sample_weight, self.max_iter, self._model_snapshot)
        stopped = train(
            design, y, weights, state, settings, self.max_iter, stop_early=True,
            validation=validation, rows=rows, path=path, callbacks=callbacks,
        )
        for target_state in targets_of(state):
            restore_best(target_state, settings, validation is not None)
        if not stopped and self.tol is not None:
            warnings.warn(
                f"Maximum number of epochs ({self.max_iter}) reached and the "
                "optimisation has not converged; consider increasing max_iter.",
                ConvergenceWarning,
            )
        if callbacks is not None:
            callbacks.end(state)
        self._publish(state, path)

    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y, sample_weight=None):
        """Run one epoch of gradient descent over the data given.

        Continues the coefficients, the schedule, the update count, the
        update rule's state and the average of the previous calls (or of
        ``fit``). If it raises, the fitted state is left as it was.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            A chunk of training data.
        y : array-like of shape (n_samples,) or (n_samples, n_targets)
            Target values; as many targets at every call.
        sample_weight : array-like of shape (n_samples,), default=None
            Weight of each sample's loss; None weighs all equally.

        Returns
        -------
        self : GDRegressor
            The updated estimator.
        """
        self._check_params(for_partial_fit=True)
        with _restored_on_failure(self):
            self._partial_fit(X, y, sample_weight, first_call=not hasattr(self, "_state"))
        return self

    def _partial_fit(self, X, y, sample_weight, first_call):
        X, y, weights = self._validate_training_data(X, y, sample_weight, reset=first_call)
        state = None if first_call else copy.deepcopy(self._state)
        features = self._fit_features(X, weights) if first_call else state.features
        design = features.design(X, lazy=self._lazy_design())
        if first_call:
            rng = check_random_state(self.random_state)
            state = self._initial_state(*host_view(design, y, weights), rng, False, features, streaming=True,
                                        dtype=numpy_dtype(X))
            state = moved_to(state, X)
        else:
            check_same_targets(state, y)
        if not first_call and self.learning_rate == "auto":
            # Refresh from the moments of all rows seen; keep the divisions.
            host_design, host_y, host_weights = host_view(design, y, weights)
            preconditioner, moments = self._auto_preconditioner(
                host_design, host_weights, state.rng, streaming=True, moments=state.moments
            )
            for target, target_state in enumerate(targets_of(state)):
                divisions = target_state.eta / target_state.base_eta
                target_state.moments = moments
                target_state.preconditioner = moved_preconditioner(preconditioner, X)
                target_state.base_eta, _ = self._auto_step(
                    host_design, preconditioner, host_y if len(host_y.shape) == 1 else host_y[:, target], host_weights,
                    streaming=True,
                )
                target_state.eta = target_state.base_eta * divisions
        for target_state in targets_of(state) if not first_call else ():
            if self.learning_rate not in ("auto", "adaptive"):
                target_state.eta = target_state.base_eta = float(self.eta0)  # as set now
            if target_state.rule_code != RULE_CODES[self.optimizer]:
                # another rule from now on: its state starts afresh (the average carries on)
                target_state.rule_state[FIRST:SECOND + 1, ...] = 0.0
                target_state.rule_count, target_state.rule_code = 0, RULE_CODES[self.optimizer]
        path = self._new_path(state, continuing=getattr(self, "coef_path_", None) is not None)
        callbacks = EpochCallbacks.start(self, X, y, sample_weight, 1, self._model_snapshot)
        train(
            design, y, weights, state, self._settings(X.shape[0], design),
            1, stop_early=False, path=path, callbacks=callbacks,
        )
        if callbacks is not None:
            callbacks.end(state)
        self._publish(state, path)

    def predict(self, X):
        """Predict with the linear model.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Samples.

        Returns
        -------
        y_pred : ndarray of shape (n_samples,) or (n_samples, n_targets)
            Predicted values (one column per target for a model fitted to a
            2-D ``y``), float32 if both ``X`` and ``coef_`` are, else
            float64.
        """
        check_is_fitted(self)
        if is_dask(X):
            return dask_predict(self, X)
        check_same_namespace(X, self, attribute="coef_", method="predict")
        xp = dispatched_namespace(X)
        if xp is not None:  # fitted on arrays of the same namespace and device
            X = validate_data(self, X, dtype=[xp.float64, xp.float32], reset=False)
            dtype = xp.result_type(X.dtype, self.coef_.dtype)
            return xp.astype(X, dtype) @ xp.astype(self.coef_, dtype) + xp.astype(self.intercept_, dtype)
        X = kernel_array(validate_data(self, X, accept_sparse=SPARSE_FORMATS, dtype=[np.float64, np.float32],
                                       order="C", reset=False))
        return predictions(target_predictions(lambda coef, intercept: linear_predictions(X, coef, intercept),
                                              self.coef_, self.intercept_), X, self.coef_)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        # arrays of any Array API namespace, on their device (see _array_api); not one row at a time
        tags.array_api_support = self.solver != "sgd"
        tags.target_tags.multi_output = True  # a 2-D y fits one model per column
        return tags

    def score(self, X, y, sample_weight=None):
        """Coefficient of determination R² of the predictions.

        As :meth:`sklearn.base.RegressorMixin.score`; on dask arrays it is
        computed blockwise, where the blocks are.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Test samples.
        y : array-like of shape (n_samples,) or (n_samples, n_targets)
            True values for ``X`` (for several targets, the R² of each,
            averaged, as ``r2_score`` does).
        sample_weight : array-like of shape (n_samples,), default=None
            Sample weights.

        Returns
        -------
        score : float
            R² of ``self.predict(X)`` with respect to ``y``.
        """
        if is_dask(X):
            check_is_fitted(self)
            return dask_score(self, X, y, sample_weight)
        return super().score(X, y, sample_weight)

    def _check_params(self, for_partial_fit):
        """Rules that involve more than one parameter, and the parameters of a continuing ``partial_fit``.

        ``_fit_context`` validates the parameters of ``fit`` and of a first
        ``partial_fit`` only; ``set_params`` may have changed them since.
        """
        if for_partial_fit and hasattr(self, "_state"):
            self._validate_params()
        if for_partial_fit and self.early_stopping:
            raise ValueError("early_stopping should be False with partial_fit")
        if self.penalty == "elasticnet" and self.l1_ratio is None:
            raise ValueError("l1_ratio must be set when penalty is 'elasticnet'")
        if self.learning_rate == "optimal" and self.alpha == 0:
            raise ValueError(
                "alpha must be > 0 since learning_rate is 'optimal'. alpha is used "
                "to compute the optimal learning rate."
            )

    def _validate_training_data(self, X, y, sample_weight, reset):
        """Validated ``X`` and ``y``, and the sample weights as a new array normalised to mean 1.

        A dask ``X`` gives rows on its blocks instead (see ``_dask``). Under
        ``array_api_dispatch``, arrays of another namespace than NumPy's stay
        in it, on their device (see ``_array_api``).
        """
        if is_dask(X):
            return dask_training_data(self, X, y, sample_weight, reset)
        if dispatched_namespace(X) is not None:
            check_solver(self)
            return validated_training_data(self, X, y, sample_weight, reset)
        if type(y) is np.ndarray and y.dtype.kind == "f" and not y.flags.c_contiguous:
            # the columns of a wider array (or a strided vector) are copied once, first, so that every
            # check reads them in memory order
            y = np.ascontiguousarray(y, dtype=np.float64)
        X, y = validate_data(
            self, X, y, accept_sparse=SPARSE_FORMATS, dtype=[np.float64, np.float32], order="C", y_numeric=True,
            multi_output=True, reset=reset,
        )
        if not (isinstance(y, np.ndarray) and y.dtype == np.float64 and y.flags.c_contiguous):
            # y given as strings is converted only now: check it again as numbers (a float64 C-ordered y
            # was checked finite already)
            y = check_array(y, ensure_2d=False, dtype=np.float64, order="C", input_name="y")
        self._check_target_magnitude(max(float(y.max()), -float(y.min())), y.shape[0])
        # read-only views, so that read-only input compiles nothing new (see _arrays)
        X, y = kernel_array(X), kernel_array(y)
        sample_weight = _check_sample_weight(
            sample_weight, X, dtype=np.float64, ensure_non_negative=True, copy=sample_weight is not None
        )
        largest = sample_weight.max()
        if not largest > 0:
            raise ValueError("The sample weights sum to zero: at least one must be positive.")
        # so that the objective is a weighted mean; by the largest first, so
        # that the sum of weights near the float64 maximum does not overflow
        sample_weight /= largest
        sample_weight /= sample_weight.mean()
        return X, y, sample_weight

    def _check_target_magnitude(self, largest, n_samples):
        """Refuse targets, of largest magnitude ``largest``, whose objective cannot be computed in float64.

        An epoch sums the loss of every row before averaging, and at the
        start a residual may reach twice the largest ``|y|``.
        """
        # the kernels' loss, in Python: compiling it alone would slow a first fit
        worst = loss_value.py_func(LOSS_CODES[self.loss], 2.0 * largest, 0.0, float(self.epsilon))
        if not np.isfinite(worst * n_samples):
            raise ValueError(
                f"Input y is too large in magnitude (up to {largest:.3g}) for the {self.loss!r} "
                "objective to be computed in float64. Divide y by a constant, e.g. fit "
                "sklearn.compose.TransformedTargetRegressor(regressor=GDRegressor(...), "
                "transformer=MaxAbsScaler()), whose predictions are in the units of y."
            )

    def _fit_features(self, X, sample_weight):
        """The map from ``X`` to the design gradient descent runs on: ``X`` itself."""
        return RAW_FEATURES

    def _lazy_design(self):
        """Whether the design may be built a chunk of rows at a time (not for full batches)."""
        return self.solver != "batch"

    def _split_validation(self, X, sample_weight, rng):
        """Training rows (increasing indices) and held-out rows for early stopping."""
        splitter = ShuffleSplit(test_size=self.validation_fraction, random_state=rng)
        train, test = next(splitter.split(X))
        check_validation_split(X.shape[0], self.validation_fraction, train.size, test.size,
                               sample_weight[train].sum(), sample_weight[test].sum(),
                               np.count_nonzero(sample_weight[test]))
        return np.sort(train), test

    def _batch_size(self, n_samples, X=None):
        """Rows per update for ``n_samples`` training rows of the design ``X``."""
        if self.solver == "batch":
            return n_samples
        if self.solver == "sgd":
            return 1
        if self.batch_size == "auto":
            # 'auto' sizes its step for the batch, whose every step costs O(n_features) on sparse rows
            return min(sparse_batch_size(X, AUTO_BATCH_SIZE) if self.learning_rate == "auto" else AUTO_BATCH_SIZE,
                       n_samples)
        return min(self.batch_size, n_samples)

    def _settings(self, n_samples, X=None):
        schedule_code = SCHEDULE_CODES[self.learning_rate]
        t0 = optimal_t0(self.alpha, LOSS_CODES[self.loss], self.epsilon) if self.learning_rate == "optimal" else 0.0
        batch_size = self._batch_size(n_samples, X)
        return Settings(
            loss=loss_tuple(self.loss, self.epsilon),  # of its own type: the kernels compile this loss alone
            penalty=penalty_strengths(self.penalty, float(self.alpha), self.l1_ratio),
            fit_intercept=self.fit_intercept,
            batch_size=batch_size,
            shuffle=self.shuffle,
            schedule_name=self.learning_rate,
            schedule=(schedule_code, float(self.eta0), float(self.power_t), float(self.alpha), t0),
            tol=self.tol,
            n_iter_no_change=self.n_iter_no_change,
            rule=rule_tuple(RULE_CODES[self.optimizer], self.momentum, self.beta_1,
                            self.beta_2, self.stability_epsilon),
            # averaging begins once ``average`` rows have been seen
            average_from=-(-int(self.average) // batch_size),
            restart=self.learning_rate == "auto" and self.optimizer in MOMENTUM_RULES,
            verbose=self.verbose,
        )

    def _initial_state(self, X, y, weights, rng, warm, features, streaming=False, rows=None, init=(None, None),
                       dtype=np.dtype(np.float64)):
        """Starting coefficients, preconditioner and step for a new training run.

        ``X`` is the design of ``features``, trained on its ``rows`` (None for
        all); ``weights`` are the sample weights normalised to mean 1 over them.
        ``init`` is ``fit``'s ``(coef_init, intercept_init)``; ``dtype`` that
        of the training data, which the published model takes. For a 2-D
        ``y``, the :class:`~skgd._targets.TargetStates` of its columns, which
        share the ``'auto'`` preconditioner (that of ``X``).
        """
        auto = None
        if self.learning_rate == "auto":
            auto = self._auto_preconditioner(X, weights, rng, streaming=streaming, rows=rows, rotatable=not streaming)
        if len(y.shape) == 1:  # (y on dask blocks is a Column, with a shape only)
            previous = (self.coef_, self.intercept_, self._state) if warm else None
            return self._target_state(X, y, weights, rng, features, auto, streaming, rows, init, dtype, previous)
        n_targets, n_features = y.shape[1], X.shape[1]
        if warm and self.coef_.shape != (n_targets, n_features):
            raise ValueError(
                f"warm_start=True needs the previous solution's shape: coef_ has shape {self.coef_.shape} "
                f"but this data gives {(n_targets, n_features)}. Set warm_start=False to start afresh."
            )
        inits = target_inits(*init, n_targets, n_features)
        previous_coefs = float64_coef(self.coef_).reshape(n_targets, -1) if warm else None  # sparsified too
        statistics = [None] * n_targets
        if auto is not None and n_targets > 1:  # every target's together (one column: as a 1-D y, bit for bit)
            statistics = training_rows(X, y, weights, rows).target_statistics(self.loss in ROBUST)
        return TargetStates([
            self._target_state(
                X, y[:, target], weights, rng, features, auto, streaming, rows, inits[target], dtype,
                (previous_coefs[target], self.intercept_[target], self._state.states[target]) if warm else None,
                statistics[target],
            )
            for target in range(n_targets)
        ])

    def _target_state(self, X, y, weights, rng, features, auto, streaming, rows, init, dtype, previous,
                      statistics=None):
        """The starting state for the target ``y`` (1-D); ``auto`` is the preconditioner and moments of ``'auto'``.

        ``previous`` is the ``(coef_, intercept_, state)`` a warm start
        continues, or None; ``statistics`` those of ``y`` for ``'auto'``
        where they were measured with other targets' (see :meth:`_auto_step`).
        """
        n_features = X.shape[1]
        coef = np.zeros(n_features)
        intercept = 0.0
        moments = None
        rule_state, rule_count = new_state(n_features + 1), 0
        if auto is not None:
            preconditioner, moments = auto
            eta, centre = self._auto_step(X, preconditioner, y, weights, streaming, rows, statistics)
            if self.fit_intercept:
                intercept = centre
        else:
            preconditioner = Preconditioner.identity(n_features)
            eta = float(self.eta0)
        coef_init, intercept_init = _checked_init(*init, n_features, type(self).__name__)
        if previous is not None:
            previous_coef, previous_intercept, previous_state = previous
            if previous_coef.shape != coef.shape:
                raise ValueError(
                    f"warm_start=True needs the previous solution's shape: coef_ has "
                    f"shape {previous_coef.shape} but this data gives {coef.shape[0]} "
                    "coefficients. Set warm_start=False to start afresh."
                )
            # fit's explicit starting point wins over the previous solution
            coef_init = float64_coef(previous_coef) if coef_init is None else coef_init
            intercept_init = float(previous_intercept) if intercept_init is None else intercept_init
            if previous_state.rule_code == RULE_CODES[self.optimizer]:
                # The rule's state carries on; averaging starts afresh.
                rule_state, rule_count = copied(previous_state.rule_state), previous_state.rule_count
                rule_state[AVERAGE, ...] = 0.0
        if intercept_init is None and coef_init is not None and self.learning_rate == "auto":
            # the centred intercept stays at its default start, the centre of y
            coef, _ = features.to_internal(coef_init, 0.0)
            intercept -= preconditioner.shift @ coef
        elif coef_init is not None or intercept_init is not None:
            coef, intercept = features.to_internal(coef if coef_init is None else coef_init, intercept_init or 0.0)
        return TrainingState(
            coef=coef, intercept=float(intercept), preconditioner=preconditioner, eta=eta,
            base_eta=eta, rng=rng, rule_state=rule_state, rule_count=rule_count,
            rule_code=RULE_CODES[self.optimizer], moments=moments, features=features, dtype=dtype,
        )

    def _auto_preconditioner(self, X, weights, rng, streaming, moments=None, rows=None, rotatable=False):
        """Preconditioner and moments of ``'auto'``, which depend on ``X`` alone.

        ``weights`` are the sample weights normalised to mean 1 over the
        training ``rows`` of ``X`` (None for all). ``streaming`` for
        ``partial_fit``, whose ``moments`` are those of the rows seen so far
        (by ``fit`` or earlier chunks; None on a first call). ``rotatable``:
        whether the design may be rotated (see ``_preconditioning``), which
        the plain rule allows with no L1 penalty.
        """
        n_samples = X.shape[0] if rows is None else rows.shape[0]
        l1_strength, l2_strength = penalty_strengths(self.penalty, self.alpha, self.l1_ratio)
        batch_size = self._batch_size(n_samples, X)
        with one_blas_thread():  # the statistics must not depend on the thread count
            return Preconditioner.from_data(
                X, weights, self.fit_intercept, l2_strength, batch_size, rng,
                streaming=streaming, moments=moments, rows=rows,
                # a device's design is never rotated (that would be a rotated copy of X)
                rotatable=(rotatable and self.optimizer == "plain" and l1_strength == 0
                           and not isinstance(X, HostRows)),
                diagonal=l1_strength > 0,
            )

    def _auto_step(self, X, preconditioner, y, weights, streaming, rows=None, statistics=None):
        """Step and starting intercept of ``'auto'`` for the target ``y`` (1-D) of ``X``, trained on its ``rows``.

        ``statistics`` are ``y``'s ``(centre, spread, size)``
        (``_rows.Rows.target_statistics``) where already measured, or None.
        """
        n_samples = y.shape[0] if rows is None else rows.shape[0]
        batch_size = self._batch_size(n_samples, X)
        if statistics is None:
            statistics = training_rows(X, y, weights, rows).target_statistics(self.loss in ROBUST)
        centre, spread, size = statistics
        if not spread > 0:
            # y constant: the start fits it exactly, and nothing moves whatever
            # the step; the scale of y (1 for a zero y) keeps the step finite
            spread = size or 1.0
        if self.optimizer in ADAPTIVE_STEP_SHARES:
            # without an intercept, the coefficients must reach the size of y itself
            size = spread if self.fit_intercept else max(size, spread)
            return ADAPTIVE_STEP_SHARES[self.optimizer] * size, float(centre)
        curvature = CURVATURE[self.loss]
        if curvature is None:
            curvature = 1.0 / spread
        # With momentum, gradient noise is carried 1 / (1 - momentum) times.
        noise_factor = 1.0 / (1.0 - self.momentum) if self.optimizer in MOMENTUM_RULES else 1.0
        if not streaming:
            # a fit averages its iterates, which needs a finer step (Bach and Moulines, 2013)
            noise_factor *= AVERAGING_NOISE_FACTOR
        # A chunk of a stream is a mini-batch of an unbounded training set.
        eta = preconditioner.step_size(curvature, batch_size, np.inf if streaming else n_samples, noise_factor)
        return eta, float(centre)

    def _new_path(self, state, continuing=False):
        """The path to record (None without ``store_path``; one per target for a 2-D ``y``), see ``_targets.new_paths``."""
        if self.store_path is None:
            return None
        earlier = self._path if continuing else None
        return new_paths(state, self.store_path == "step", earlier, len(self.intercept_path_) if continuing else 0)

    def _model_attributes(self, state):
        """The fitted attributes a model needs to predict, for the model ``state`` holds."""
        coef, intercept = state.features.to_raw(*state.model())
        if is_device_array(coef):  # the namespace, device and dtype of the data
            intercept = namespace(coef).asarray(intercept, dtype=coef.dtype, device=xp_device(coef))
            return {"_state": state, "coef_": copied(coef), "intercept_": intercept}
        coef, intercept = published(coef, intercept, state.dtype)
        return {"_state": state, "coef_": coef, "intercept_": intercept}

    def _model_snapshot(self, state):
        """:meth:`_model_attributes` of a copy of ``state``, which training goes on changing."""
        return self._model_attributes(copy.deepcopy(state))

    def _publish(self, state, path=None):
        """Expose a training state, and the path recorded, as the fitted attributes."""
        vars(self).update(self._model_attributes(state))
        self.coef_path_, self.intercept_path_, self._path = None, None, None
        if path is not None:
            self.coef_path_, self.intercept_path_ = published_paths(path, state)
            if is_device_array(self.coef_):  # a copy, in the namespace and on the device of coef_
                self.coef_path_, self.intercept_path_ = (on_device_of(self.coef_, self.coef_path_),
                                                         on_device_of(self.coef_, self.intercept_path_))
            self._path = path  # its points, on the host, have room to grow for partial_fit
        self.n_iter_ = state.n_iter
        self.t_ = state.t
        self.loss_curve_ = state.loss_curve
        self.best_loss_ = state.best_loss
        self.validation_scores_ = state.validation_scores
        self.best_validation_score_ = (
            state.best_validation_score if state.validation_scores is not None else None
        )


@contextmanager
def _restored_on_failure(estimator):
    """Undo what validating new data set on ``estimator`` if training fails.

    Training publishes its results only on success; this restores (or
    removes) ``n_features_in_`` and ``feature_names_in_``, so that a failed
    call leaves the estimator exactly as it was.
    """
    names = ("n_features_in_", "feature_names_in_")
    saved = {name: estimator.__dict__[name] for name in names if name in estimator.__dict__}
    try:
        yield
    except BaseException:
        for name in names:
            estimator.__dict__.pop(name, None)
        estimator.__dict__.update(saved)
        raise


def _checked_init(coef_init, intercept_init, n_coef, name):
    """``fit``'s ``coef_init`` and ``intercept_init`` as float64 (None kept), or a ``ValueError``.

    As in ``SGDRegressor``, ``coef_init`` may have any shape of ``n_coef``
    values (``(n_coef,)``, ``(1, n_coef)``), and ``intercept_init`` one value.
    """
    if coef_init is not None:
        coef = np.asarray(on_host(coef_init), dtype=np.float64)
        if coef.size != n_coef or coef.ndim > 2:
            raise ValueError(
                f"coef_init has shape {coef.shape}, but {name} fits {n_coef} coefficients on this "
                f"data (the length of coef_): pass an array of shape ({n_coef},)."
            )
        # a copy: the kernels update the coefficients in place
        coef_init = check_array(coef.reshape(-1), ensure_2d=False, copy=True, input_name="coef_init")
    if intercept_init is not None:
        intercept = np.asarray(on_host(intercept_init), dtype=np.float64)
        if intercept.size != 1 or intercept.ndim > 1:
            raise ValueError(
                f"intercept_init has shape {intercept.shape}, but the model has one intercept: "
                "pass a number (or an array of shape (1,))."
            )
        intercept_init = float(check_array(intercept.reshape(1), ensure_2d=False, input_name="intercept_init")[0])
    return coef_init, intercept_init


def _rotate(state, X):
    """Descend on the design rotated by the eigenvectors of the full preconditioner; returns that design."""
    rotation, preconditioner = state.preconditioner.rotated()
    features, moments = RotatedFeatures(state.features, rotation), state.moments.rotated(rotation)
    for target_state in targets_of(state):
        target_state.preconditioner, target_state.features, target_state.moments = preconditioner, features, moments
        target_state.coef = target_state.coef @ rotation
    return features.design(X)


def check_validation_split(n_samples, fraction, n_train, n_test, train_weight, test_weight, test_positive):
    """Raise (or warn) as scikit-learn does for a split of early stopping that cannot be scored.

    ``train_weight`` and ``test_weight`` are the sums of the weights of each
    side, ``test_positive`` the number of held-out rows of positive weight.
    """
    if n_train == 0 or n_test == 0 or not train_weight > 0:
        raise ValueError(
            f"Splitting {n_samples} samples into a train set and a validation set "
            f"with validation_fraction={fraction} led to an empty "
            "set. Change validation_fraction, add samples, or disable early_stopping."
        )
    if not test_weight > 0:
        raise ValueError(
            "The sample weights for validation set are all zero, consider using a "
            "different random state."
        )
    if test_positive < 2:
        warnings.warn(
            "R^2 score is not well-defined with less than two samples: the validation "
            "set has fewer than two samples of positive weight, so early stopping "
            "scores every epoch 0.0. Increase validation_fraction or the number of samples.",
            UndefinedMetricWarning,
        )
