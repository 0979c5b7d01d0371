"""A step too large for the data raises a helpful error and leaves no garbage."""

import warnings

import numpy as np
import pytest
from sklearn.datasets import load_diabetes
from sklearn.exceptions import ConvergenceWarning, NotFittedError

from skgd import GDRegressor

from _shared import SOLVERS


def _raw():
    X, y = load_diabetes(return_X_y=True, scaled=False)
    return X[:150], y[:150]


def _scaled():
    X, y = load_diabetes(return_X_y=True)
    return X[:150], y[:150]


def _diverging(solver, **params):
    return GDRegressor(solver=solver, batch_size=16, learning_rate="constant", eta0=1e3,
                       random_state=0, **params)


@pytest.mark.parametrize("solver", SOLVERS)
def test_large_eta0_raises_with_advice(solver):
    X, y = _raw()
    model = _diverging(solver)
    with pytest.raises(ValueError, match="diverged") as info:
        model.fit(X, y)
    message = str(info.value)
    assert "eta0" in message
    assert "1e+03" in message  # the offending value is named
    assert "lower eta0" in message
    assert "learning_rate='auto'" in message
    assert "StandardScaler" in message


@pytest.mark.parametrize("solver", SOLVERS)
def test_fresh_estimator_is_not_fitted_after_divergence(solver):
    X, y = _raw()
    model = _diverging(solver)
    with pytest.raises(ValueError, match="eta0"):
        model.fit(X, y)
    for attribute in ("coef_", "intercept_", "loss_curve_", "n_iter_", "t_", "_state"):
        assert not hasattr(model, attribute)


@pytest.mark.parametrize("method", ["fit", "partial_fit"])
def test_predict_after_failed_first_fit_raises_not_fitted(method):
    """Regression: a failed first call used to leave n_features_in_ behind, so
    check_is_fitted passed and predict died with AttributeError on coef_."""
    X, y = _raw()
    model = _diverging("sgd")
    with pytest.raises(ValueError, match="eta0"):
        getattr(model, method)(X, y)
    with pytest.raises(NotFittedError):
        model.predict(X)
    assert not hasattr(model, "n_features_in_")


def test_failed_refit_with_other_n_features_keeps_a_usable_model():
    """Regression: the failed refit used to set n_features_in_ = 10 while coef_ kept
    5 entries, so predict failed for both shapes."""
    X, y = _raw()
    model = GDRegressor(solver="sgd", random_state=0).fit(X[:, :5], y)
    expected = model.predict(X[:, :5])
    model.set_params(learning_rate="constant", eta0=1e3)
    with pytest.raises(ValueError, match="eta0"):
        model.fit(X, y)
    assert model.n_features_in_ == model.coef_.shape[0] == 5
    np.testing.assert_array_equal(model.predict(X[:, :5]), expected)


@pytest.mark.parametrize("solver", SOLVERS)
def test_fitted_estimator_keeps_previous_solution(solver):
    X_raw, y_raw = _raw()
    model = GDRegressor(solver=solver, random_state=0).fit(X_raw, y_raw)
    coef, intercept, curve = model.coef_.copy(), model.intercept_, list(model.loss_curve_)
    prediction = model.predict(X_raw)
    model.set_params(learning_rate="constant", eta0=1e3)
    with pytest.raises(ValueError, match="eta0"):
        model.fit(X_raw, y_raw)
    np.testing.assert_array_equal(model.coef_, coef)
    assert model.intercept_ == intercept
    assert model.loss_curve_ == curve
    np.testing.assert_array_equal(model.predict(X_raw), prediction)
    assert np.all(np.isfinite(model.coef_))


@pytest.mark.parametrize("solver", SOLVERS)
@pytest.mark.parametrize("learning_rate", ["invscaling", "adaptive"])
def test_other_eta0_schedules_also_raise(solver, learning_rate):
    X, y = _raw()
    model = GDRegressor(solver=solver, batch_size=16, learning_rate=learning_rate, eta0=1e3, random_state=0)
    with pytest.raises(ValueError, match="eta0"):
        model.fit(X, y)
    assert not hasattr(model, "coef_")


@pytest.mark.parametrize("solver", SOLVERS)
def test_auto_does_not_diverge_where_constant_does(solver):
    X, y = _raw()
    model = GDRegressor(solver=solver, batch_size=16, random_state=0).fit(X, y)
    assert np.all(np.isfinite(model.coef_))
    assert model.score(X, y) > 0.5


def test_small_eta0_does_not_raise_on_scaled_data():
    X, y = _scaled()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no divergence, no overflow warnings
        model = GDRegressor(solver="batch", learning_rate="constant", eta0=0.5, max_iter=50, tol=None).fit(X, y)
    assert np.all(np.isfinite(model.coef_))
    assert model.loss_curve_[-1] < model.loss_curve_[0]


def test_optimal_divergence_message_does_not_blame_eta0():
    """Regression: 'optimal' ignores eta0, yet the message used to advise lowering it."""
    X, y = _raw()
    model = GDRegressor(solver="sgd", learning_rate="optimal", alpha=1e-4, random_state=0)
    with pytest.raises(ValueError, match="diverged") as info:
        model.fit(X, y)
    message = str(info.value)
    assert "lower eta0" not in message
    assert "alpha" in message


@pytest.mark.parametrize("how", ["fit_max_iter_1", "partial_fit"])
def test_batch_divergence_in_last_epoch_is_not_published(how):
    """Regression: the epoch objective is taken before the update, so for 'batch' the
    epoch that blew up used to be accepted (coefficients ~1e7, no error)."""
    X, y = _raw()
    model = GDRegressor(solver="batch", learning_rate="constant", eta0=1e3, max_iter=1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        with pytest.raises(ValueError, match="eta0"):
            if how == "partial_fit":
                model.partial_fit(X, y)
            else:
                model.fit(X, y)
    assert not hasattr(model, "coef_")


@pytest.mark.parametrize("solver", SOLVERS)
def test_a_blow_up_within_the_first_epoch_is_caught(solver):
    # The first epoch's objective already includes the blow-up: divergence is
    # judged against the starting model's objective and the targets' scale.
    X = np.random.RandomState(0).uniform(1, 2, (20, 2)) * 1e15
    y = np.ones(20)
    model = GDRegressor(solver=solver, loss="absolute_error", learning_rate="constant", eta0=0.1,
                        max_iter=1, tol=None, random_state=0)
    with pytest.raises(ValueError, match="diverged"):
        model.fit(X, y)
    assert not hasattr(model, "coef_")
