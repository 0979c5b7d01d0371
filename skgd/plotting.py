"""Pictures of the descent, as scikit-learn Displays (needs matplotlib: ``pip install skgd[plot]``).

A Display stores the data in ``__init__``, draws it with ``plot(ax=None,
...)``, which sets ``ax_``, ``figure_`` and the drawn artists, and is built
from fitted estimators by its class methods, as scikit-learn's
``PredictionErrorDisplay`` or ``LearningCurveDisplay``.
"""

import copy

import numpy as np
import scipy.sparse as sp
from sklearn.utils._optional_dependencies import check_matplotlib_support
from sklearn.utils.validation import _check_sample_weight, check_is_fitted, validate_data

from ._arrays import kernel_array
from ._kernels import loss_sums
from ._losses import loss_tuple
from ._penalties import penalty_strengths, penalty_value

__all__ = ["DescentPathDisplay", "LossCurveDisplay"]


class LossCurveDisplay:
    """The objective epoch by epoch of one or more fitted estimators, on one axes.

    Build it with :meth:`from_estimator` or :meth:`from_estimators`; each
    curve is an estimator's ``loss_curve_`` (for a model fitted to several
    targets, the whole objective: the sum over targets), and with early
    stopping its
    ``validation_scores_`` are drawn too, dashed, in a colour of their own,
    on a second y axis, with a legend that tells the curves apart. A
    fitted :class:`~sklearn.pipeline.Pipeline` stands for its final step.

    Parameters
    ----------
    loss_curves : list of array-like
        One objective value per epoch, for each curve.
    labels : list of str or None, default=None
        Legend entry of each curve; None draws no legend, unless validation
        scores are drawn (the curves are then named "objective" and
        "validation R²").
    validation_scores : list of (array-like or None) or None, default=None
        Validation R² per epoch of each curve, where there is one.

    Attributes
    ----------
    ax_ : matplotlib Axes
        Axes of the objective curves.
    figure_ : matplotlib Figure
        Figure containing ``ax_``.
    lines_ : list of matplotlib Line2D
        The objective curves, in the order of ``loss_curves``.
    validation_ax_ : matplotlib Axes or None
        Second y axis (sharing ``ax_``'s x axis) of the validation scores,
        if any were drawn.
    validation_lines_ : list of matplotlib Line2D
        The validation curves drawn (dashed, each in a colour no objective
        curve has).

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from sklearn.datasets import load_diabetes
    >>> from skgd import GDRegressor
    >>> from skgd.plotting import LossCurveDisplay
    >>> X, y = load_diabetes(return_X_y=True)
    >>> models = [GDRegressor(solver=s, random_state=0).fit(X, y) for s in ("batch", "minibatch", "sgd")]
    >>> display = LossCurveDisplay.from_estimators(models, log_scale=True)
    >>> [line.get_label() for line in display.lines_]
    ["solver='batch'", "solver='minibatch'", "solver='sgd'"]
    """

    def __init__(self, *, loss_curves, labels=None, validation_scores=None):
        self.loss_curves = loss_curves
        self.labels = labels
        self.validation_scores = validation_scores

    def plot(self, ax=None, *, log_scale=False, show_validation=True):
        """Draw the curves.

        Parameters
        ----------
        ax : matplotlib Axes or None, default=None
            Axes to draw on; None makes a new figure.
        log_scale : bool, default=False
            Whether the objective axis is logarithmic.
        show_validation : bool, default=True
            Whether to draw the validation scores, where there are any.

        Returns
        -------
        display : LossCurveDisplay
            This display, with ``ax_``, ``figure_`` and the artists set.
        """
        check_matplotlib_support(f"{type(self).__name__}.plot")
        import matplotlib.pyplot as plt

        if ax is None:
            _, ax = plt.subplots()
        labels = self.labels if self.labels is not None else [None] * len(self.loss_curves)
        scores = self.validation_scores or [None] * len(self.loss_curves)
        if not len(labels) == len(scores) == len(self.loss_curves):
            raise ValueError(
                f"Got {len(self.loss_curves)} loss curves, {len(labels)} labels and "
                f"{len(scores)} validation score lists; they must be as many."
            )
        self.lines_, self.validation_lines_, self.validation_ax_ = [], [], None
        n_curves = len(self.loss_curves)
        for k, (curve, label, score) in enumerate(zip(self.loss_curves, labels, scores)):
            epochs = np.arange(1, len(curve) + 1)
            (line,) = ax.plot(epochs, curve, label="objective" if label is None else label)
            self.lines_.append(line)
            if show_validation and score is not None:
                if self.validation_ax_ is None:
                    self.validation_ax_ = ax.twinx()
                    self.validation_ax_.set_ylabel("validation R²")
                name = "validation R²" if label is None else f"{label} (validation R²)"
                # the colour cycle's entries after those of the objective curves
                (validation_line,) = self.validation_ax_.plot(
                    epochs, score, linestyle="--", color=f"C{(n_curves + k) % 10}", label=name
                )
                self.validation_lines_.append(validation_line)
        if log_scale:
            _log_y_axis(ax)
        ax.set_xlabel("epoch")
        ax.set_ylabel("objective (loss_curve_)")
        if self.labels is not None or self.validation_lines_:
            handles = self.lines_ + self.validation_lines_
            ax.legend(handles, [h.get_label() for h in handles])
        self.ax_, self.figure_ = ax, ax.figure
        return self

    @classmethod
    def from_estimator(cls, estimator, *, label=None, ax=None, log_scale=False, show_validation=True):
        """Draw the loss curve of one fitted estimator.

        Parameters
        ----------
        estimator : GDRegressor or GDPolynomialRegressor, or a Pipeline
            A fitted estimator (anything with ``loss_curve_``), or a fitted
            pipeline that ends with one.
        label : str or None, default=None
            Legend entry; None draws no legend (unless validation scores
            are drawn).
        ax, log_scale, show_validation
            As for :meth:`from_estimators`.

        Returns
        -------
        display : LossCurveDisplay
        """
        check_matplotlib_support(f"{cls.__name__}.from_estimator")
        return cls.from_estimators(
            [estimator], labels=None if label is None else [label], ax=ax,
            log_scale=log_scale, show_validation=show_validation,
        )

    @classmethod
    def from_estimators(cls, estimators, *, labels=None, ax=None, log_scale=False, show_validation=True):
        """Draw the loss curves of several fitted estimators side by side.

        Parameters
        ----------
        estimators : list of fitted estimators
            For example the three solvers, or three learning rates; a
            fitted pipeline stands for its final step.
        labels : list of str or None, default=None
            Legend entries; None names each estimator by the parameters in
            which it differs from the others (its class name if none does).
        ax : matplotlib Axes or None, default=None
            Axes to draw on; None makes a new figure.
        log_scale : bool, default=False
            Whether the objective axis is logarithmic.
        show_validation : bool, default=True
            Whether to draw ``validation_scores_`` (with early stopping).

        Returns
        -------
        display : LossCurveDisplay
        """
        check_matplotlib_support(f"{cls.__name__}.from_estimators")
        estimators = [_final_step(estimator) for estimator in estimators]
        for estimator in estimators:
            check_is_fitted(estimator, "loss_curve_")
        if labels is None and len(estimators) > 1:
            labels = _distinguishing_labels(estimators)
        display = cls(
            loss_curves=[list(e.loss_curve_) for e in estimators],
            labels=labels,
            validation_scores=[getattr(e, "validation_scores_", None) for e in estimators],
        )
        return display.plot(ax=ax, log_scale=log_scale, show_validation=show_validation)


class DescentPathDisplay:
    """The path of gradient descent over the contours of its objective.

    The objective ``J`` that the fit minimises (the weighted mean loss plus
    the penalty, as in ``loss_curve_``) is computed exactly, from the
    training data, on a grid of two of the model's coordinates: the
    coefficient and the intercept ``(w, b)`` of a model with one feature,
    or any two coefficients (or a coefficient and the intercept), the
    others held at their fitted values. Over its contours go the points
    that the estimator recorded (fit it with ``store_path='epoch'`` or
    ``'step'``), joined in order, from a hollow circle at the start. A
    colour bar gives the objective of the contours. A fitted
    :class:`~sklearn.pipeline.Pipeline` stands for its final step, drawn
    on the data its earlier steps make of ``X``.

    Build it with :meth:`from_estimator` or :meth:`from_estimators`.

    Parameters
    ----------
    grid_x : ndarray of shape (n_x,)
        Values of the first coordinate on the grid.
    grid_y : ndarray of shape (n_y,)
        Values of the second coordinate on the grid.
    objective : ndarray of shape (n_y, n_x)
        ``objective[i, j]`` is ``J`` at ``(grid_x[j], grid_y[i])``.
    paths : list of ndarray of shape (n_points, 2)
        The points of each path in the two coordinates.
    labels : list of str or None, default=None
        Legend entry of each path; None draws no legend.
    coordinate_names : tuple of str, default=('w', 'b')
        Axis labels of the two coordinates.

    Attributes
    ----------
    ax_ : matplotlib Axes
        Axes of the plot.
    figure_ : matplotlib Figure
        Figure containing ``ax_``.
    contour_ : matplotlib QuadContourSet
        The contour lines of ``objective``.
    colorbar_ : matplotlib Colorbar
        The colour bar of the contours' objective values.
    lines_ : list of matplotlib Line2D
        The paths, in the order of ``paths``.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import numpy as np
    >>> from skgd import GDRegressor
    >>> from skgd.plotting import DescentPathDisplay
    >>> rng = np.random.RandomState(0)
    >>> X = rng.uniform(0, 2, size=(50, 1))
    >>> y = 3 * X[:, 0] + 1 + 0.3 * rng.randn(50)
    >>> model = GDRegressor(solver="batch", learning_rate="constant", eta0=0.3, max_iter=30,
    ...                     tol=None, penalty=None, store_path="epoch").fit(X, y)
    >>> display = DescentPathDisplay.from_estimator(model, X, y)
    >>> display.lines_[0].get_xydata().shape      # the start and 30 epochs, in (w, b)
    (31, 2)
    """

    def __init__(self, *, grid_x, grid_y, objective, paths, labels=None, coordinate_names=("w", "b")):
        self.grid_x = grid_x
        self.grid_y = grid_y
        self.objective = objective
        self.paths = paths
        self.labels = labels
        self.coordinate_names = coordinate_names

    def plot(self, ax=None, *, levels=20):
        """Draw the contours and the paths.

        Parameters
        ----------
        ax : matplotlib Axes or None, default=None
            Axes to draw on; None makes a new figure.
        levels : int or array-like, default=20
            Objective values of the contour lines, or their number: then
            their excess over the grid's lowest objective is spaced
            geometrically from a thousandth of the grid's range to all of
            it, so that the rings tighten around the minimum.

        Returns
        -------
        display : DescentPathDisplay
            This display, with ``ax_``, ``figure_`` and the artists set.
        """
        check_matplotlib_support(f"{type(self).__name__}.plot")
        import matplotlib.pyplot as plt

        if ax is None:
            _, ax = plt.subplots()
        labels = self.labels if self.labels is not None else [None] * len(self.paths)
        if len(labels) != len(self.paths):
            raise ValueError(f"Got {len(self.paths)} paths and {len(labels)} labels; they must be as many.")
        if np.ndim(levels) == 0:
            low, high = np.min(self.objective), np.max(self.objective)
            levels = low + np.geomspace(1e-3 * (high - low), high - low, int(levels)) if high > low else None
        self.contour_ = ax.contour(self.grid_x, self.grid_y, self.objective, levels=levels, cmap="viridis")
        self.colorbar_ = ax.figure.colorbar(self.contour_, ax=ax, label="objective")
        self.lines_ = []
        for path, label in zip(self.paths, labels):
            (line,) = ax.plot(path[:, 0], path[:, 1], marker=".", markersize=4, linewidth=1, label=label)
            ax.plot(path[0, 0], path[0, 1], marker="o", markersize=8, fillstyle="none", color=line.get_color())
            self.lines_.append(line)
        ax.set_xlabel(self.coordinate_names[0])
        ax.set_ylabel(self.coordinate_names[1])
        if self.labels is not None:
            ax.legend(handles=self.lines_)
        self.ax_, self.figure_ = ax, ax.figure
        return self

    @classmethod
    def from_estimator(cls, estimator, X, y, *, sample_weight=None, coefs=None, target=None, label=None,
                       grid_resolution=60, extent=None, ax=None, levels=20):
        """Draw the recorded path of one fitted estimator over its objective.

        Parameters
        ----------
        estimator : GDRegressor or GDPolynomialRegressor, or a Pipeline
            Fitted with ``store_path='epoch'`` or ``'step'``, or a fitted
            pipeline that ends with one.
        X : array-like of shape (n_samples, n_features)
            The training data the objective is computed on (with early
            stopping, the rows the fit trained on, to see its objective);
            for a pipeline, its input, which the earlier steps transform.
        y : array-like of shape (n_samples,) or (n_samples, n_targets)
            Its targets.
        sample_weight : array-like of shape (n_samples,), default=None
            Its sample weights, if the fit had any.
        coefs : pair of (int or 'intercept') or None, default=None
            The two coordinates: indices into ``coef_``, or ``'intercept'``.
            None means ``(0, 'intercept')`` for one coefficient and an
            intercept, ``(0, 1)`` for two coefficients and no intercept.
        target : int or None, default=None
            For a model fitted to several targets (a 2-D ``y``), the one
            whose descent is drawn (an index into its columns; the targets
            are independent problems, each with its own objective and
            path); None for a model fitted to a 1-D ``y``.
        label : str or None, default=None
            Legend entry; None draws no legend.
        grid_resolution : int, default=60
            Grid points along each coordinate.
        extent : tuple (x_min, x_max, y_min, y_max) or None, default=None
            The grid's bounds; None centres the grid on the fitted model,
            wide enough for the path and a margin of a tenth.
        ax : matplotlib Axes or None, default=None
            Axes to draw on; None makes a new figure.
        levels : int or array-like, default=20
            As for :meth:`plot`.

        Returns
        -------
        display : DescentPathDisplay
        """
        check_matplotlib_support(f"{cls.__name__}.from_estimator")
        return cls.from_estimators(
            [estimator], X, y, sample_weight=sample_weight, coefs=coefs, target=target,
            labels=None if label is None else [label], grid_resolution=grid_resolution,
            extent=extent, ax=ax, levels=levels,
        )

    @classmethod
    def from_estimators(cls, estimators, X, y, *, sample_weight=None, coefs=None, target=None, labels=None,
                        grid_resolution=60, extent=None, ax=None, levels=20):
        """Draw the recorded paths of several estimators over one objective.

        The objective, and the fitted values at which the coordinates not
        drawn are held, are the first estimator's; the others should
        minimise the same objective (same loss and penalty), for example
        with different learning rates or update rules.

        Parameters
        ----------
        estimators : list of fitted estimators
            Each fitted with ``store_path='epoch'`` or ``'step'``; a fitted
            pipeline stands for its final step (all must then share the
            first one's earlier steps, which transform ``X``).
        X, y, sample_weight, coefs, target, grid_resolution, extent, ax, levels
            As for :meth:`from_estimator`.
        labels : list of str or None, default=None
            Legend entries; None names each estimator by the parameters in
            which it differs from the others.

        Returns
        -------
        display : DescentPathDisplay
        """
        check_matplotlib_support(f"{cls.__name__}.from_estimators")
        if hasattr(estimators[0], "steps"):
            X = estimators[0][:-1].transform(X)
        estimators = [_one_target(_dense(_final_step(estimator)), target) for estimator in estimators]
        if target is not None:
            y = np.asarray(y)
            y = y[:, target] if y.ndim == 2 else y
        reference = estimators[0]
        for estimator in estimators:
            check_is_fitted(estimator)
            if getattr(estimator, "coef_path_", None) is None:
                raise ValueError(
                    f"{type(estimator).__name__} has no recorded path: fit it with "
                    "store_path='epoch' (or 'step') to draw its descent."
                )
            if estimator.coef_.shape != reference.coef_.shape:
                raise ValueError("The estimators must have as many coefficients as each other.")
        X, y = validate_data(reference, X, y, reset=False, y_numeric=True, dtype=np.float64, order="C")
        X, y = kernel_array(X), kernel_array(y)  # the types the fit compiled the kernels for
        sample_weight = _check_sample_weight(sample_weight, X, dtype=np.float64)
        indices = _coordinate_indices(reference, coefs)
        paths = [
            np.column_stack([estimator.coef_path_, estimator.intercept_path_])[:, indices]
            for estimator in estimators
        ]
        if extent is None:
            centre = np.append(reference.coef_, reference.intercept_)[indices]
            reach = 1.1 * np.abs(np.vstack(paths) - centre).max(axis=0)
            # a coordinate that hardly moved (by rounding) gets a unit-scale span
            scale = np.maximum(np.abs(centre), 1.0)
            reach = np.where(reach > 1e-6 * scale, reach, scale)
            extent = (centre[0] - reach[0], centre[0] + reach[0], centre[1] - reach[1], centre[1] + reach[1])
        grid_x = np.linspace(extent[0], extent[1], grid_resolution)
        grid_y = np.linspace(extent[2], extent[3], grid_resolution)
        xx, yy = np.meshgrid(grid_x, grid_y)
        objective = objective_at(reference, X, y, sample_weight, indices, np.column_stack([xx.ravel(), yy.ravel()]))
        if labels is None and len(estimators) > 1:
            labels = _distinguishing_labels(estimators)
        display = cls(
            grid_x=grid_x, grid_y=grid_y, objective=objective.reshape(xx.shape), paths=paths,
            labels=labels, coordinate_names=tuple(_coordinate_name(reference, i) for i in indices),
        )
        return display.plot(ax=ax, levels=levels)


def objective_at(estimator, X, y, sample_weight, indices, points):
    """The objective of a fitted estimator with coordinates ``indices`` set to each row of ``points``.

    Coordinates index ``np.append(coef_, intercept_)``; the others keep
    their fitted values. The objective is the fit's: the weighted mean loss
    on ``(X, y)`` plus the penalty on the coefficients gradient descent acts
    on, computed by the functions the solvers use.
    """
    features = estimator._state.features
    design = features.unstandardised().design(X)
    loss = loss_tuple(estimator.loss, estimator.epsilon)
    strengths = penalty_strengths(estimator.penalty, float(estimator.alpha), estimator.l1_ratio)
    # float64 whatever the dtype of coef_, as the fit's kernels were compiled for
    thetas = np.tile(np.append(estimator.coef_, estimator.intercept_).astype(np.float64), (points.shape[0], 1))
    thetas[:, indices] = points
    coefs, intercepts = np.ascontiguousarray(thetas[:, :-1]), thetas[:, -1].copy()
    # every point's loss in one pass over the rows
    totals = loss_sums(design, y, sample_weight, np.arange(design.shape[0]), coefs, intercepts, loss)
    penalties = [penalty_value(features.to_internal(coef, intercept)[0], *strengths)
                 for coef, intercept in zip(coefs, intercepts)]
    return totals / sample_weight.sum() + np.array(penalties)


def _log_y_axis(ax):
    """Make the y axis of ``ax`` logarithmic, with several ticks labelled in plain numbers.

    Matplotlib labels the powers of ten only, so that a curve spanning a
    decade or less gets one or two labels. Within a decade the ticks are
    evenly spaced round numbers; over more, 1, 2 and 5 times the powers of
    ten.
    """
    from matplotlib.ticker import FuncFormatter, LogLocator, MaxNLocator, NullFormatter

    ax.set_yscale("log")
    low, high = ax.get_ylim()
    ax.yaxis.set_major_locator(MaxNLocator(nbins=6) if high < 10 * low else LogLocator(subs=(1.0, 2.0, 5.0)))
    ax.yaxis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:g}"))
    ax.yaxis.set_minor_formatter(NullFormatter())


def _final_step(estimator):
    """The estimator a display draws: a pipeline's final step, or the estimator itself."""
    if hasattr(estimator, "steps"):
        check_is_fitted(estimator)
        return estimator[-1]
    return estimator


def _dense(estimator):
    """``estimator``, or where :meth:`sparsify` made its ``coef_`` sparse, a shallow copy that holds it dense."""
    coef = getattr(estimator, "coef_", None)
    if not sp.issparse(coef):
        return estimator
    dense = copy.copy(estimator)
    dense.coef_ = coef.toarray().reshape(np.shape(estimator.intercept_) + (-1,))
    return dense


def _one_target(estimator, target):
    """``estimator``, or for one fitted to several targets a shallow copy that holds target ``target``'s model and path alone."""
    check_is_fitted(estimator)
    n_targets = np.shape(estimator.intercept_)[0] if np.ndim(estimator.intercept_) else None
    if n_targets is None:
        if target is not None:
            raise ValueError(f"target={target!r} is for a model fitted to several targets; this one has one.")
        return estimator
    if not (isinstance(target, (int, np.integer)) and not isinstance(target, bool) and 0 <= target < n_targets):
        raise ValueError(
            f"The model was fitted to {n_targets} targets: choose the one whose descent to draw with "
            f"target=t, 0 <= t < {n_targets}; got {target!r}."
        )
    one = copy.copy(estimator)
    one.coef_, one.intercept_ = estimator.coef_[target], estimator.intercept_[target]
    one._state = estimator._state.states[target]
    if getattr(estimator, "coef_path_", None) is not None:
        one.coef_path_, one.intercept_path_ = estimator.coef_path_[:, target], estimator.intercept_path_[:, target]
    return one


def _coordinate_indices(estimator, coefs):
    """Indices into ``np.append(coef_, intercept_)`` of the two coordinates named by ``coefs``."""
    n_coef = estimator.coef_.shape[0]
    if coefs is None:
        if n_coef == 1 and estimator.fit_intercept:
            coefs = (0, "intercept")
        elif n_coef == 2 and not estimator.fit_intercept:
            coefs = (0, 1)
        else:
            raise ValueError(
                f"The model has {n_coef} coefficients"
                f"{' and an intercept' if estimator.fit_intercept else ''}: choose the two "
                "coordinates to draw with coefs=(i, j), each an index into coef_ or 'intercept'."
            )
    indices = []
    for coef in coefs:
        if isinstance(coef, str) and coef == "intercept":
            if not estimator.fit_intercept:
                raise ValueError("coefs names 'intercept', but the model was fitted with fit_intercept=False.")
            indices.append(n_coef)
        elif isinstance(coef, (int, np.integer)) and not isinstance(coef, bool) and -n_coef <= coef < n_coef:
            indices.append(int(coef) % n_coef)
        else:
            raise ValueError(f"coefs must name coefficients 0 to {n_coef - 1} or 'intercept'; got {coef!r}.")
    if len(indices) != 2 or indices[0] == indices[1]:
        raise ValueError(f"coefs must name two different coordinates; got {coefs!r}.")
    return indices


def _coordinate_name(estimator, index):
    """Axis label of coordinate ``index``: ``intercept_``, or ``coef_[j]`` with the feature's name."""
    if index == estimator.coef_.shape[0]:
        return "intercept_"
    if hasattr(estimator, "get_feature_names_out"):
        return f"coef_[{index}] ({estimator.get_feature_names_out()[index]})"
    if hasattr(estimator, "feature_names_in_"):
        return f"coef_[{index}] ({estimator.feature_names_in_[index]})"
    return f"coef_[{index}]"


def _distinguishing_labels(estimators):
    """Name each estimator by the parameters whose values differ among them."""
    params = [e.get_params(deep=False) for e in estimators]
    names = sorted(set().union(*params))
    differing = [
        name for name in names
        if len({repr(p.get(name)) for p in params}) > 1
    ]
    if not differing:
        return [type(e).__name__ for e in estimators]
    return [", ".join(f"{name}={p.get(name)!r}" for name in differing) for p in params]
