"""``GDPolynomialRegressor``: polynomial regression fitted by gradient descent."""

from numbers import Integral

import numpy as np
from sklearn.preprocessing import PolynomialFeatures
from sklearn.utils._param_validation import Interval
from sklearn.utils.validation import _check_feature_names_in, check_is_fitted, validate_data

from ._array_api import check_numpy_namespace
from ._arrays import kernel_array, predictions
from ._dask import is_dask
from ._dask import predict as dask_predict
from ._docstrings import entries, fill
from ._features import PolynomialFeatureMap
from ._linear import GDRegressor
from ._sparse import SPARSE_FORMATS
from ._targets import target_predictions


class GDPolynomialRegressor(GDRegressor):
    """Polynomial regression fitted by batch, mini-batch or stochastic gradient descent.

    Fits a linear model on the monomials of the features up to ``degree``,
    the columns of ``PolynomialFeatures(degree, interaction_only=...,
    include_bias=False)`` in the same order, with ``fit_intercept``'s
    intercept (never a column of ones). Everything else is
    :class:`GDRegressor`'s: solvers, losses, penalties, schedules,
    ``partial_fit``, early stopping.

    The powers of a feature span wildly different scales, which leaves plain
    gradient descent on raw monomials badly conditioned. So the monomials are
    standardised internally (centred on their weighted mean when
    ``fit_intercept``, divided by their weighted standard deviation, as
    ``StandardScaler`` does), with the statistics of ``fit``'s data, or of
    the first ``partial_fit`` call's data for a stream (a first chunk that
    shows a column constant leaves it unscaled). Gradient descent, the
    ``eta0`` of the fixed schedules and the penalty act on the coefficients
    of the standardised monomials, as in ``make_pipeline(PolynomialFeatures(),
    StandardScaler(), SGDRegressor())``, so ``alpha`` means the same whatever
    the degree. ``coef_`` and ``intercept_`` are reported in the units of the
    raw monomials::

        PolynomialFeatures(degree, include_bias=False).fit_transform(X) @ coef_
        + intercept_ == predict(X)

    With ``solver='minibatch'`` or ``'sgd'`` the monomials are computed a
    chunk of rows at a time (about 2 MiB), in each epoch's order, so memory
    stays near the size of ``X`` however many monomials there are (plus the
    sample of at most 20,000 rows and 32 MiB of monomials that
    ``learning_rate='auto'`` is estimated on); the ``'batch'`` solver
    computes them once, holding all of them. Sparse ``X`` is expanded by
    ``PolynomialFeatures`` into CSR monomials, divided by their standard
    deviation but not centred (which would densify them; under ``'auto'``
    the centring is implicit), all at once.

    The parameters after ``interaction_only`` are :class:`GDRegressor`'s;
    here the coefficients that gradient descent, the penalty and the step
    sizes act on are those of the standardised monomials, ``coef_ * scale``.

    Parameters
    ----------
    degree : int, default=2
        Highest degree of the monomials (1 is linear regression).
    interaction_only : bool, default=False
        Whether to use only products of distinct features (no ``x0**2``).
    {parameters}

    Attributes
    ----------
    coef_ : ndarray of shape (`n_output_features_`,) or (n_targets, `n_output_features_`)
        Coefficients of the raw monomials, in the order of ``powers_``, in
        the dtype of the training data, one row per target for a 2-D ``y``
        (see :class:`GDRegressor`).
    coef_path_ : ndarray of shape (n_points, `n_output_features_`) or (n_points, n_targets, `n_output_features_`) or None
        With ``store_path``, the coefficients of the raw monomials at the
        start and after each epoch or update (float64); else None (see
        :class:`GDRegressor`).
    {attributes}
    powers_ : ndarray of shape (`n_output_features_`, `n_features_in_`)
        ``powers_[j, k]`` is the power of feature ``k`` in monomial ``j``,
        as in ``PolynomialFeatures``.
    n_output_features_ : int
        Number of monomials.

    See Also
    --------
    GDRegressor : The same on the raw features.
    sklearn.preprocessing.PolynomialFeatures : The expansion, on its own.

    Examples
    --------
    >>> import numpy as np
    >>> from skgd import GDPolynomialRegressor
    >>> x = np.linspace(-3, 3, 200).reshape(-1, 1)
    >>> y = 0.5 * x[:, 0] ** 3 - 2 * x[:, 0] ** 2 + x[:, 0] + 4
    >>> model = GDPolynomialRegressor(degree=3, penalty=None, random_state=0).fit(x, y)
    >>> model.get_feature_names_out()
    array(['x0', 'x0^2', 'x0^3'], dtype=object)
    >>> np.round(model.coef_, 2), round(model.intercept_, 2)
    (array([ 1. , -2. ,  0.5]), 4.0)
    """

    _parameter_constraints = {
        "degree": [Interval(Integral, 1, None, closed="left")],
        "interaction_only": ["boolean"],
        **GDRegressor._parameter_constraints,
    }

    def __init__(
        self,
        *,
        degree=2,
        interaction_only=False,
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
        super().__init__(
            solver=solver, batch_size=batch_size, loss=loss, epsilon=epsilon,
            penalty=penalty, alpha=alpha, l1_ratio=l1_ratio, fit_intercept=fit_intercept,
            learning_rate=learning_rate, eta0=eta0, power_t=power_t, optimizer=optimizer,
            momentum=momentum, beta_1=beta_1, beta_2=beta_2,
            stability_epsilon=stability_epsilon, average=average, max_iter=max_iter,
            tol=tol, n_iter_no_change=n_iter_no_change, early_stopping=early_stopping,
            validation_fraction=validation_fraction, shuffle=shuffle,
            random_state=random_state, warm_start=warm_start, verbose=verbose,
            store_path=store_path,
        )
        self.degree = degree
        self.interaction_only = interaction_only

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.array_api_support = False  # the monomials are expanded by compiled NumPy code
        return tags

    def predict(self, X):
        """Predict with the polynomial model.

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
        check_numpy_namespace(self, X)
        X = kernel_array(validate_data(self, X, accept_sparse=SPARSE_FORMATS, dtype=[np.float64, np.float32],
                                       order="C", reset=False))
        monomials = self._state.features.unstandardised().design(X, lazy=True)
        values = target_predictions(lambda coef, intercept: monomials @ coef + intercept, self.coef_, self.intercept_)
        return predictions(values, X, self.coef_)

    def get_feature_names_out(self, input_features=None):
        """Names of the monomials, as ``PolynomialFeatures`` gives them.

        Parameters
        ----------
        input_features : array-like of str or None, default=None
            Names of the input features; by default ``feature_names_in_``
            when fitted on named columns, else ``x0, x1, ...``.

        Returns
        -------
        feature_names_out : ndarray of str objects
            One name per column of ``coef_``.
        """
        check_is_fitted(self)
        names = _check_feature_names_in(self, input_features)
        return self._state.features.expansion.get_feature_names_out(names)

    def _validate_training_data(self, X, y, sample_weight, reset):
        check_numpy_namespace(self, X, y, sample_weight)
        return super()._validate_training_data(X, y, sample_weight, reset)

    def _fit_features(self, X, sample_weight):
        """The standardised monomials of ``X``, with the statistics of these rows."""
        expansion = PolynomialFeatures(
            self.degree, interaction_only=self.interaction_only, include_bias=False
        ).fit(X[:1])
        return PolynomialFeatureMap.of(expansion).standardised(X, sample_weight, self.fit_intercept)

    def _model_attributes(self, state):
        return {
            **super()._model_attributes(state),
            "powers_": state.features.expansion.powers_,
            "n_output_features_": state.features.n_output_features,
        }


_SHARED_ATTRIBUTES = [
    "intercept_", "n_iter_", "t_", "loss_curve_", "best_loss_", "validation_scores_",
    "best_validation_score_", "intercept_path_", "n_features_in_", "feature_names_in_",
]
if GDRegressor.__doc__:  # not under python -OO
    GDPolynomialRegressor.__doc__ = fill(
        GDPolynomialRegressor.__doc__,
        parameters="\n".join(entries(GDRegressor.__doc__, "Parameters").values()),
        attributes="\n".join(entries(GDRegressor.__doc__, "Attributes")[name] for name in _SHARED_ATTRIBUTES),
    )
