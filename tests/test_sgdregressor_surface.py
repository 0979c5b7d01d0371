"""The parts of SGDRegressor's surface that skgd mirrors: fit's starting point, l1_ratio=None,
power_t's range, the dtype of the model, sparsify() / densify()."""

import pickle
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.exceptions import ConvergenceWarning, NotFittedError
from sklearn.linear_model import SGDRegressor
from sklearn.preprocessing import PolynomialFeatures
from sklearn.utils._param_validation import InvalidParameterError

from skgd import GDPolynomialRegressor, GDRegressor

from _shared import ESTIMATORS, SOLVERS, lstsq_fit, make_regression_data


def _n_coef(Estimator, X):
    """Length of coef_ on X."""
    return _design(Estimator, X).shape[1]


def _design(Estimator, X):
    """What coef_ multiplies: X, or its monomials of degree 2 (GDPolynomialRegressor's default)."""
    return X if Estimator is GDRegressor else PolynomialFeatures(2, include_bias=False).fit_transform(X)


# --- fit(X, y, coef_init, intercept_init) ---------------------------------------------------


@pytest.mark.parametrize("Estimator", ESTIMATORS)
@pytest.mark.parametrize("solver", SOLVERS)
@pytest.mark.parametrize("learning_rate", ["auto", "constant"])
def test_fit_starts_from_coef_init_and_intercept_init(Estimator, solver, learning_rate):
    """The first point of the path is the starting point given, in the units of coef_."""
    X, y = make_regression_data()
    rng = np.random.RandomState(0)
    coef_init, intercept_init = rng.standard_normal(_n_coef(Estimator, X)), 2.5
    model = Estimator(solver=solver, learning_rate=learning_rate, max_iter=2, tol=None, store_path="epoch",
                      random_state=0)
    model.fit(X, y, coef_init=coef_init, intercept_init=intercept_init)
    np.testing.assert_allclose(model.coef_path_[0], coef_init, rtol=1e-12, atol=1e-12)
    assert model.intercept_path_[0] == pytest.approx(intercept_init, rel=1e-12)
    assert model.coef_.shape == coef_init.shape
    # SGDRegressor's shapes: (n,) and (1, n); an intercept as a number or an array of shape (1,)
    again = Estimator(solver=solver, learning_rate=learning_rate, max_iter=2, tol=None, random_state=0)
    again.fit(X, y, coef_init[None, :], np.array([intercept_init]))
    np.testing.assert_array_equal(again.coef_, model.coef_)


@pytest.mark.parametrize("Estimator", ESTIMATORS)
@pytest.mark.parametrize("learning_rate", ["auto", "invscaling"])
def test_intercept_init_none_starts_where_a_fit_would(Estimator, learning_rate):
    """0 for the fixed schedules (as SGDRegressor); under 'auto', centred on y at coef_init."""
    X, y = make_regression_data()
    coef_init = np.linspace(-1.0, 1.0, _n_coef(Estimator, X))
    model = Estimator(solver="batch", learning_rate=learning_rate, max_iter=1, tol=None, store_path="epoch",
                      random_state=0).fit(X, y, coef_init=coef_init)
    if learning_rate == "auto":
        expected = y.mean() - _design(Estimator, X).mean(axis=0) @ coef_init
    else:
        expected = 0.0
    assert model.intercept_path_[0] == pytest.approx(expected, rel=1e-9, abs=1e-12)


@pytest.mark.parametrize("lr", ["constant", "invscaling"])
@pytest.mark.parametrize("penalty", [None, "l2"])
def test_coef_init_reproduces_sgdregressor(lr, penalty):
    """From the same starting point, solver='sgd' without shuffling is SGDRegressor step for step."""
    X, y = make_regression_data(n_samples=40, n_features=3)
    settings = dict(learning_rate=lr, eta0=0.01, power_t=0.3, alpha=0.01, penalty=penalty, shuffle=False,
                    tol=None, max_iter=3)
    coef_init, intercept_init = np.array([0.5, -1.0, 2.0]), 0.7
    ours = GDRegressor(solver="sgd", **settings).fit(X, y, coef_init, intercept_init)
    np.testing.assert_array_equal(coef_init, [0.5, -1.0, 2.0])  # not updated in place
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        # copies: SGDRegressor descends in place on a float64 coef_init
        theirs = SGDRegressor(**settings).fit(X, y, coef_init.copy(), intercept_init)
        theirs_no_intercept = SGDRegressor(**settings).fit(X, y, coef_init.copy())
    np.testing.assert_allclose(ours.coef_, theirs.coef_, rtol=1e-12, atol=1e-13)
    assert ours.intercept_ == pytest.approx(theirs.intercept_[0], rel=1e-12)
    ours_no_intercept = GDRegressor(solver="sgd", **settings).fit(X, y, coef_init)
    np.testing.assert_allclose(ours_no_intercept.coef_, theirs_no_intercept.coef_, rtol=1e-12, atol=1e-13)


@pytest.mark.parametrize("Estimator", ESTIMATORS)
@pytest.mark.parametrize("solver", SOLVERS)
def test_explicit_init_wins_over_warm_start(Estimator, solver):
    """As in SGDRegressor: with warm_start, an explicit coef_init or intercept_init replaces its
    part of the previous solution, and the other part is kept."""
    X, y = make_regression_data()
    model = Estimator(solver=solver, warm_start=True, max_iter=1, tol=None, store_path="epoch", random_state=0)
    model.fit(X, y)
    previous_coef, previous_intercept = model.coef_.copy(), model.intercept_
    coef_init = np.full(previous_coef.shape, 0.25)
    model.fit(X, y, coef_init=coef_init)
    np.testing.assert_allclose(model.coef_path_[0], coef_init, rtol=1e-12)
    assert model.intercept_path_[0] == pytest.approx(previous_intercept, rel=1e-12)
    previous_coef = model.coef_.copy()
    model.fit(X, y, intercept_init=-3.0)
    np.testing.assert_allclose(model.coef_path_[0], previous_coef, rtol=1e-12, atol=1e-14)
    assert model.intercept_path_[0] == pytest.approx(-3.0, rel=1e-12)


def test_intercept_init_without_fit_intercept_is_kept():
    """As in SGDRegressor, an intercept that is not fitted stays where it starts."""
    X, y = make_regression_data()
    model = GDRegressor(fit_intercept=False, random_state=0).fit(X, y, intercept_init=1.0)
    assert model.intercept_ == 1.0
    assert GDRegressor(fit_intercept=False, random_state=0).fit(X, y).intercept_ == 0.0


def test_coef_init_at_the_optimum_stays_there():
    """Started at the least-squares solution, a batch fit under 'auto' has nothing left to do."""
    X, y = make_regression_data()
    coef, intercept = lstsq_fit(X, y)
    model = GDRegressor(solver="batch", penalty=None, random_state=0).fit(X, y, coef, intercept)
    np.testing.assert_allclose(model.coef_, coef, rtol=1e-9)
    assert model.loss_curve_[0] == pytest.approx(model.best_loss_, rel=1e-12)


@pytest.mark.parametrize("Estimator", ESTIMATORS)
@pytest.mark.parametrize(
    "coef_init, intercept_init, message",
    [
        (np.zeros(3), None, r"coef_init has shape \(3,\), but {name} fits {n} coefficients .* shape \({n},\)"),
        (np.zeros((2, 4)), None, r"coef_init has shape \(2, 4\)"),
        ("nan", None, "Input coef_init contains NaN"),
        (None, np.zeros(2), r"intercept_init has shape \(2,\), but the model has one intercept"),
        (None, np.inf, "Input intercept_init contains infinity"),
    ],
    ids=["short", "2d", "nan", "two_intercepts", "inf_intercept"],
)
def test_bad_init_raises_and_leaves_the_model_unfitted(Estimator, coef_init, intercept_init, message):
    X, y = make_regression_data()
    n = _n_coef(Estimator, X)
    if isinstance(coef_init, str):
        coef_init = np.r_[np.nan, np.zeros(n - 1)]
    model = Estimator()
    with pytest.raises(ValueError, match=message.format(name=Estimator.__name__, n=n)):
        model.fit(X, y, coef_init=coef_init, intercept_init=intercept_init)
    assert not hasattr(model, "coef_") and not hasattr(model, "n_features_in_")


def test_sample_weight_is_fits_fifth_argument():
    """SGDRegressor's order: fit(X, y, coef_init, intercept_init, sample_weight)."""
    X, y = make_regression_data()
    weights = np.random.RandomState(0).uniform(0.5, 2.0, len(y))
    by_keyword = GDRegressor(solver="batch").fit(X, y, sample_weight=weights)
    by_position = GDRegressor(solver="batch").fit(X, y, None, None, weights)
    np.testing.assert_array_equal(by_keyword.coef_, by_position.coef_)


# --- l1_ratio=None and power_t ------------------------------------------------------------


@pytest.mark.parametrize("penalty", ["l2", "l1", None])
def test_l1_ratio_none_accepted_unless_elasticnet(penalty):
    X, y = make_regression_data()
    with_none = GDRegressor(solver="batch", penalty=penalty, l1_ratio=None).fit(X, y)
    with_default = GDRegressor(solver="batch", penalty=penalty).fit(X, y)
    np.testing.assert_array_equal(with_none.coef_, with_default.coef_)


@pytest.mark.parametrize("Estimator", ESTIMATORS)
@pytest.mark.parametrize("method", ["fit", "partial_fit"])
def test_l1_ratio_none_with_elasticnet_is_rejected(Estimator, method):
    """scikit-learn >= 1.7's message, in fit and in partial_fit."""
    X, y = make_regression_data()
    model = Estimator(penalty="elasticnet", l1_ratio=None)
    with pytest.raises(ValueError, match="^l1_ratio must be set when penalty is 'elasticnet'$"):
        getattr(model, method)(X, y)
    assert not hasattr(model, "coef_")


def test_l1_ratio_none_set_between_partial_fit_calls_is_rejected():
    X, y = make_regression_data()
    model = GDRegressor(penalty="elasticnet", random_state=0).partial_fit(X, y)
    coef = model.coef_.copy()
    model.set_params(l1_ratio=None)
    with pytest.raises(ValueError, match="l1_ratio must be set"):
        model.partial_fit(X, y)
    np.testing.assert_array_equal(model.coef_, coef)


@pytest.mark.parametrize("method", ["fit", "partial_fit"])
def test_negative_power_t_is_rejected(method):
    """scikit-learn 1.8 deprecated negative power_t ("Use values in the range [0.0, inf)") and says it
    will raise from 1.10; skgd refuses it now, with the message of scikit-learn's parameter validation."""
    X, y = make_regression_data()
    model = GDRegressor(learning_rate="invscaling", power_t=-0.5)
    with pytest.raises(InvalidParameterError, match=r"'power_t' parameter of GDRegressor must be a float in the "
                                                    r"range \[0.0, inf\)\. Got -0.5 instead"):
        getattr(model, method)(X, y)
    GDRegressor(solver="batch", learning_rate="invscaling", power_t=0.0, max_iter=5, tol=None).fit(X, y)


# --- dtype --------------------------------------------------------------------------------


@pytest.mark.parametrize("Estimator", ESTIMATORS)
@pytest.mark.parametrize("solver", SOLVERS)
def test_float32_data_gives_a_float32_model(Estimator, solver):
    """As LinearRegression: float32 data gives float32 coef_, intercept_ and predictions; float64 stays float64."""
    X, y = make_regression_data()
    model32 = Estimator(solver=solver, random_state=0).fit(X.astype(np.float32), y)
    assert model32.coef_.dtype == np.float32
    assert type(model32.intercept_) is np.float32
    assert model32.predict(X.astype(np.float32)).dtype == np.float32
    assert model32.predict(X).dtype == np.float64  # the common dtype of X and coef_
    model64 = Estimator(solver=solver, random_state=0).fit(X, y)
    assert model64.coef_.dtype == np.float64 and type(model64.intercept_) is float
    assert model64.predict(X.astype(np.float32)).dtype == np.float64
    np.testing.assert_allclose(model32.predict(X), model64.predict(X), rtol=1e-4, atol=1e-4)
    # the recorded path and the curve stay float64 (see the docstring of coef_path_)
    recorded = Estimator(solver=solver, store_path="epoch", random_state=0).fit(X.astype(np.float32), y)
    assert recorded.coef_path_.dtype == np.float64 and recorded.intercept_path_.dtype == np.float64


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_partial_fit_keeps_the_dtype_of_its_first_call(Estimator):
    """As SGDRegressor, whose coef_ takes the first call's dtype; the descent itself stays float64."""
    X, y = make_regression_data()
    model = Estimator(random_state=0).partial_fit(X[:30].astype(np.float32), y[:30])
    model.partial_fit(X[30:], y[30:])
    assert model.coef_.dtype == np.float32 and type(model.intercept_) is np.float32
    descended, _ = model._state.features.to_raw(*model._state.model())
    assert descended.dtype == np.float64
    np.testing.assert_array_equal(model.coef_, descended.astype(np.float32))
    # a fit takes its own data's dtype, warm-started from a float32 model or not
    warm = Estimator(warm_start=True, max_iter=1, tol=None, random_state=0).fit(X.astype(np.float32), y)
    assert warm.fit(X, y).coef_.dtype == np.float64


# --- sparsify / densify -------------------------------------------------------------------


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_sparsify_and_densify(Estimator):
    """As SGDRegressor (SparseCoefMixin): coef_ becomes a scipy.sparse row, and predict still works."""
    X, y = make_regression_data()
    model = Estimator(penalty="l1", alpha=0.5, random_state=0).fit(X, y)
    dense, expected = model.coef_.copy(), model.predict(X)
    assert model.sparsify() is model
    assert sp.issparse(model.coef_)
    np.testing.assert_array_equal(model.coef_.toarray().ravel(), dense)
    np.testing.assert_array_equal(model.predict(X), expected)
    assert model.score(X, y) == pytest.approx(Estimator(penalty="l1", alpha=0.5, random_state=0).fit(X, y).score(X, y))
    restored = pickle.loads(pickle.dumps(model))
    np.testing.assert_array_equal(restored.predict(X), expected)
    assert model.densify() is model
    assert isinstance(model.coef_, np.ndarray)
    np.testing.assert_array_equal(model.coef_, dense)
    assert model.densify().coef_ is model.coef_  # a no-op on a dense coef_


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_training_after_sparsify_publishes_a_dense_coef(Estimator):
    """Unlike SGDRegressor, partial_fit and a warm-started fit work on a sparsified model."""
    X, y = make_regression_data()
    model = Estimator(random_state=0).partial_fit(X, y)
    reference = Estimator(random_state=0).partial_fit(X, y).partial_fit(X, y)
    model.sparsify().partial_fit(X, y)
    assert isinstance(model.coef_, np.ndarray)
    np.testing.assert_array_equal(model.coef_, reference.coef_)
    warm = Estimator(solver="batch", warm_start=True, max_iter=1, tol=None).fit(X, y)
    start = warm.coef_.copy()
    warm.sparsify().set_params(store_path="epoch").fit(X, y)
    np.testing.assert_allclose(warm.coef_path_[0], start, rtol=1e-12)


def test_sparsify_needs_a_fitted_model():
    with pytest.raises(NotFittedError, match="must be fitted before sparsifying"):
        GDRegressor().sparsify()


def test_failed_warm_start_fit_leaves_coef_untouched():
    """The previous coef_ is copied, not descended on in place."""
    X, y = make_regression_data()
    model = GDRegressor(solver="sgd", warm_start=True, random_state=0).fit(X * 100, y)
    coef = model.coef_.copy()
    with pytest.raises(ValueError, match="diverged"):
        model.set_params(learning_rate="constant", eta0=1e3).fit(X * 100, y)
    np.testing.assert_array_equal(model.coef_, coef)


def test_a_float32_model_beyond_float32s_range_is_refused():
    """Coefficients that float32 cannot hold raise rather than turn into infinities."""
    from skgd._arrays import published

    coef, intercept = published(np.array([1.0, -2.0]), 3.0, np.dtype(np.float32))
    assert coef.dtype == np.float32 and type(intercept) is np.float32
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no overflow warning on the way
        with pytest.raises(ValueError, match="exceed the range of float32"):
            published(np.array([1.0, 1e39]), 0.0, np.dtype(np.float32))
        with pytest.raises(ValueError, match="exceed the range of float32"):
            published(np.array([1.0]), -1e39, np.dtype(np.float32))
