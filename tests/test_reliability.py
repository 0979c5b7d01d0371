"""Inputs at the edges: every one is fitted, or refused by a ValueError that names the problem.

One section per cause found by the property suite (``test_properties``):
divisions by zero, numerical failures of the ``'auto'`` preconditioner,
steps that came out nan or inf, and bad input that went unnamed.
"""

import warnings

import numpy as np
import pytest
from sklearn.compose import TransformedTargetRegressor
from sklearn.datasets import load_diabetes
from sklearn.exceptions import UndefinedMetricWarning
from sklearn.linear_model import LinearRegression
from sklearn.metrics import r2_score
from sklearn.preprocessing import MaxAbsScaler
from sklearn.utils._param_validation import InvalidParameterError

from skgd import GDPolynomialRegressor, GDRegressor
from skgd import _preconditioning

from _shared import SOLVERS


def _diabetes():
    return load_diabetes(return_X_y=True)


def _assert_finite_fit(model):
    assert np.all(np.isfinite(model.coef_)) and np.isfinite(model.intercept_)


# --- 1. no ZeroDivisionError ---------------------------------------------------------


def test_validation_rows_of_zero_weight_are_refused_as_scikit_learn_does():
    model = GDRegressor(early_stopping=True, random_state=0)
    with pytest.raises(ValueError, match="sample weights for validation set are all zero"):
        model.fit([[0.35], [0.82]], [-0.08, 0.08], sample_weight=[9.5, 0.0])


@pytest.mark.parametrize("loss", ["squared_error", "absolute_error", "huber", "epsilon_insensitive"])
def test_all_zero_features_without_intercept_fit_to_zero(loss):
    """Nothing the descent can move is curved: the step is arbitrary, the answer 0 (as LinearRegression's)."""
    model = GDRegressor(fit_intercept=False, loss=loss, random_state=0).fit(np.zeros((3, 2)), [1.0, 2.0, 3.0])
    np.testing.assert_array_equal(model.coef_, 0.0)
    assert model.intercept_ == 0.0


@pytest.mark.parametrize("solver", SOLVERS)
def test_optimal_schedule_with_a_huge_alpha_fits(solver):
    """t0 = 3e-17 used to vanish in t0 + t - 1, making the first step 1 / 0."""
    model = GDRegressor(learning_rate="optimal", alpha=1e22, solver=solver, random_state=0)
    model.fit([[0.0], [1.0]], [0.0, 1.0])
    _assert_finite_fit(model)
    assert abs(model.coef_[0]) < 1e-20  # an overwhelming penalty


def test_weights_whose_sum_overflows_are_those_of_equal_weights():
    X, y = [[0.0], [1.0], [2.0]], [0.0, 1.0, 2.0]
    huge = GDRegressor(random_state=0).fit(X, y, sample_weight=[1e308] * 3)
    equal = GDRegressor(random_state=0).fit(X, y)
    np.testing.assert_array_equal(huge.coef_, equal.coef_)
    assert huge.intercept_ == equal.intercept_


# --- 2. the 'auto' preconditioner at any scale -------------------------------------


def test_wide_mixed_scale_data_fits():
    X = np.array([[0.0, 7e-07, -7e4], [-1.8e6, 1.6999999999999998e-06, 5e4]])
    _assert_finite_fit(GDRegressor(random_state=0).fit(X, [-2.1, -1.1]))


@pytest.mark.parametrize("factor", [1e155, 1e-150])
def test_features_at_extreme_scales_fit_as_least_squares(factor):
    """Their second moments overflow (or underflow) float64; their spreads and correlations do not."""
    X, y = _diabetes()
    model = GDRegressor(penalty=None, random_state=0).fit(X * factor, y)
    reference = LinearRegression().fit(X * factor, y).score(X * factor, y)
    assert model.score(X * factor, y) == pytest.approx(reference, abs=1e-3)


def test_partial_fit_on_chunks_near_1e8_fits():
    X, y = _diabetes()
    model = GDRegressor(random_state=0)
    for start in range(0, 400, 50):
        model.partial_fit(X[start:start + 50] + 1e8, y[start:start + 50])
    _assert_finite_fit(model)


def test_features_too_small_to_rescale_are_refused_with_a_fix_that_works():
    """A spread of 1e-172 makes the preconditioner 1e344: not silently an R² of 0."""
    X, y = _diabetes()
    with pytest.raises(ValueError, match="Column 0 of the features is too small.*column 0 by 2e\\+171"):
        GDRegressor(penalty=None, random_state=0).fit(X * 1e-170, y)
    scaled = X * 1e-170 * 2e171
    assert GDRegressor(penalty=None, random_state=0).fit(scaled, y).score(scaled, y) > 0.5


def test_features_too_large_to_rescale_are_refused_with_a_fix_that_works():
    X, y = _diabetes()
    with pytest.raises(ValueError, match="Column 0 of the features is too large.*MaxAbsScaler"):
        GDRegressor(random_state=0).fit(X * 1e300, y)
    scaled = MaxAbsScaler().fit_transform(X * 1e300)
    assert GDRegressor(random_state=0).fit(scaled, y).score(scaled, y) > 0.5


def test_a_failing_eigendecomposition_falls_back_to_the_svd(monkeypatch):
    X, y = _diabetes()
    expected = GDRegressor(random_state=0).fit(X, y)

    def failing(matrix):
        raise np.linalg.LinAlgError("Eigenvalues did not converge")

    monkeypatch.setattr(_preconditioning.np.linalg, "eigh", failing)
    model = GDRegressor(random_state=0).fit(X, y)
    assert model.score(X, y) == pytest.approx(expected.score(X, y), abs=1e-6)


# --- 3. no nan or inf step ---------------------------------------------------------


@pytest.mark.parametrize("loss", ["absolute_error", "epsilon_insensitive", "huber"])
@pytest.mark.parametrize("value", [5.0, 0.0])
def test_constant_target_under_robust_losses_is_fitted_exactly(loss, value):
    """A spread of 0 used to make the step nan, reported as divergence."""
    X = [[1.19], [0.48], [0.59], [-1.44], [2.8], [2.14]]
    model = GDRegressor(loss=loss, random_state=0).fit(X, np.full(6, value))
    np.testing.assert_allclose(model.predict(X), value, atol=1e-12)


def test_targets_whose_objective_overflows_are_refused_with_a_fix_that_works():
    X, y = _diabetes()
    with pytest.raises(ValueError, match="Input y is too large.*TransformedTargetRegressor"):
        GDRegressor(random_state=0).fit(X, y * 1e152)
    model = TransformedTargetRegressor(GDRegressor(random_state=0), transformer=MaxAbsScaler())
    predictions = model.fit(X, y * 1e152).predict(X)
    assert r2_score(y, predictions / 1e152) > 0.5  # (r2_score itself overflows at 1e152)


def test_large_targets_whose_objective_is_finite_fit():
    X, y = _diabetes()
    model = GDRegressor(random_state=0).fit(X, y * 1e150)
    assert model.score(X, y * 1e150) > 0.5


# --- 5. bad input named --------------------------------------------------------------


@pytest.mark.parametrize("params", [{}, {"loss": "epsilon_insensitive", "learning_rate": "constant"}])
@pytest.mark.parametrize("method", ["fit", "partial_fit"])
def test_nan_in_targets_given_as_strings_is_named(params, method):
    with pytest.raises(ValueError, match="Input y contains NaN"):
        getattr(GDRegressor(**params), method)([[0.0], [1.0], [2.0]], np.array(["1.0", "nan", "2.0"]))


def test_targets_given_as_numeric_strings_are_read_as_numbers():
    X = [[0.0], [1.0], [2.0]]
    as_text = GDRegressor(random_state=0).fit(X, np.array(["1.0", "3", "2.0"]))
    as_numbers = GDRegressor(random_state=0).fit(X, [1.0, 3.0, 2.0])
    np.testing.assert_array_equal(as_text.coef_, as_numbers.coef_)


def test_early_stopping_with_one_validation_row_warns():
    X, y = _diabetes()
    with pytest.warns(UndefinedMetricWarning, match="R\\^2 score is not well-defined with less than two"):
        GDRegressor(early_stopping=True, random_state=0).fit(X[:10], y[:10])


def test_early_stopping_with_two_validation_rows_does_not_warn():
    X, y = _diabetes()
    with warnings.catch_warnings():
        warnings.simplefilter("error", UndefinedMetricWarning)
        GDRegressor(early_stopping=True, random_state=0, max_iter=5, tol=None).fit(X[:20], y[:20])


@pytest.mark.parametrize("estimator", [GDRegressor, GDPolynomialRegressor])
@pytest.mark.parametrize(
    "name, value",
    [("batch_size", 0), ("loss", "foo"), ("alpha", -1.0), ("optimizer", "sgd"), ("momentum", 1.0)],
)
def test_partial_fit_after_set_params_validates_the_parameters(estimator, name, value):
    X, y = _diabetes()
    model = estimator(random_state=0).partial_fit(X[:50], y[:50])
    state = model.__getstate__()
    model.set_params(**{name: value})
    with pytest.raises(InvalidParameterError, match=f"The '{name}' parameter of {estimator.__name__} must be"):
        model.partial_fit(X[50:100], y[50:100])
    assert model.__getstate__().keys() == state.keys()
    np.testing.assert_array_equal(model.coef_, state["coef_"])


# --- 4. small spreads and scales -----------------------------------------------------


def test_a_column_of_small_spread_about_a_large_offset_is_not_constant():
    """Its spread is 1e-8 of its offset: it carries 8 significant digits, not none."""
    X = 1e8 + np.random.RandomState(0).standard_normal((200, 1))
    y = 3 * (X[:, 0] - 1e8)
    assert GDRegressor(random_state=0).fit(X, y).score(X, y) > 0.999


def test_polynomial_terms_of_tiny_features_are_kept():
    """Degree-2 monomials of features near 1e-100 are near 1e-200: small, not constant."""
    X, y = _diabetes()
    X = X[:, :4]
    tiny = GDPolynomialRegressor(random_state=0).fit(X * 1e-100, y).score(X * 1e-100, y)
    assert tiny == pytest.approx(GDPolynomialRegressor(random_state=0).fit(X, y).score(X, y), abs=1e-6)
