"""Pictures of the descent, as scikit-learn Displays (needs matplotlib: ``pip install skgd[plot]``).

A Display stores the data in ``__init__``, draws it with ``plot(ax=None,
...)``, which sets ``ax_``, ``figure_`` and the drawn artists, and is built
from fitted estimators by its class methods, as scikit-learn's
``PredictionErrorDisplay`` or ``LearningCurveDisplay``.
"""

import numpy as np
from sklearn.utils._optional_dependencies import check_matplotlib_support
from sklearn.utils.validation import check_is_fitted

__all__ = ["LossCurveDisplay"]


class LossCurveDisplay:
    """The objective epoch by epoch of one or more fitted estimators, on one axes.

    Build it with :meth:`from_estimator` or :meth:`from_estimators`; each
    curve is an estimator's ``loss_curve_``, and with early stopping its
    ``validation_scores_`` are drawn too, on a second y axis.

    Parameters
    ----------
    loss_curves : list of array-like
        One objective value per epoch, for each curve.
    labels : list of str or None, default=None
        Legend entry of each curve; None draws no legend.
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
        The validation curves drawn (dashed, in their curve's colour).

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
        for curve, label, score in zip(self.loss_curves, labels, scores):
            epochs = np.arange(1, len(curve) + 1)
            (line,) = ax.plot(epochs, curve, label=label)
            self.lines_.append(line)
            if show_validation and score is not None:
                if self.validation_ax_ is None:
                    self.validation_ax_ = ax.twinx()
                    self.validation_ax_.set_ylabel("validation R²")
                name = None if label is None else f"{label} (validation R²)"
                (validation_line,) = self.validation_ax_.plot(
                    epochs, score, linestyle="--", color=line.get_color(), label=name
                )
                self.validation_lines_.append(validation_line)
        if log_scale:
            ax.set_yscale("log")
        ax.set_xlabel("epoch")
        ax.set_ylabel("objective (loss_curve_)")
        if self.labels is not None:
            handles = self.lines_ + self.validation_lines_
            ax.legend(handles, [h.get_label() for h in handles])
        self.ax_, self.figure_ = ax, ax.figure
        return self

    @classmethod
    def from_estimator(cls, estimator, *, label=None, ax=None, log_scale=False, show_validation=True):
        """Draw the loss curve of one fitted estimator.

        Parameters
        ----------
        estimator : GDRegressor or GDPolynomialRegressor
            A fitted estimator (anything with ``loss_curve_``).
        label : str or None, default=None
            Legend entry; None draws no legend.
        ax, log_scale, show_validation
            As for :meth:`from_estimators`.

        Returns
        -------
        display : LossCurveDisplay
        """
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
            For example the three solvers, or three learning rates.
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
