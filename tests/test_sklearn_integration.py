"""GDRegressor inside scikit-learn: pipelines, search, CV, pickling, validation."""

import pickle
import warnings

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from sklearn.base import clone, is_regressor
from sklearn.datasets import load_diabetes
from sklearn.exceptions import NotFittedError
from sklearn.model_selection import GridSearchCV, KFold, cross_val_score
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils._param_validation import InvalidParameterError

import skgd
from skgd import GDPolynomialRegressor, GDRegressor

from _shared import SOLVERS


def _diabetes(scaled=True):
    return load_diabetes(return_X_y=True, scaled=scaled)


def test_public_api():
    assert skgd.__all__ == ["GDPolynomialRegressor", "GDRegressor"]
    assert isinstance(skgd.__version__, str)
    assert is_regressor(GDRegressor()) and is_regressor(GDPolynomialRegressor())


@pytest.mark.parametrize("solver", SOLVERS)
def test_pipeline_with_standard_scaler(solver):
    X, y = _diabetes(scaled=False)
    pipe = make_pipeline(StandardScaler(), GDRegressor(solver=solver, penalty=None, random_state=0))
    pipe.fit(X, y)
    assert pipe.score(X, y) > 0.51
    # the scaled problem is the same least-squares problem: same predictions as on raw data
    raw = GDRegressor(solver="batch", penalty=None, tol=None, max_iter=50).fit(X, y)
    np.testing.assert_allclose(pipe.predict(X), raw.predict(X), rtol=5e-2 if solver != "batch" else 1e-6)


def test_pipeline_set_params_and_clone():
    pipe = Pipeline([("scale", StandardScaler()), ("gd", GDRegressor())])
    pipe.set_params(gd__solver="sgd", gd__alpha=0.01)
    assert pipe.named_steps["gd"].solver == "sgd"
    cloned = clone(pipe)
    assert cloned.named_steps["gd"].get_params() == pipe.named_steps["gd"].get_params()
    assert cloned.named_steps["gd"] is not pipe.named_steps["gd"]


def test_grid_search_over_solver_and_alpha():
    X, y = _diabetes()
    search = GridSearchCV(
        GDRegressor(random_state=0),
        {"solver": ["batch", "minibatch", "sgd"], "alpha": [1e-4, 1.0]},
        cv=KFold(3, shuffle=True, random_state=0),
        n_jobs=2,
    )
    search.fit(X, y)
    assert len(search.cv_results_["params"]) == 6
    assert np.all(np.isfinite(search.cv_results_["mean_test_score"]))
    # alpha=1 shrinks the (norm-1 column) diabetes coefficients to almost nothing
    assert search.best_params_["alpha"] == 1e-4
    assert search.best_score_ > 0.4
    assert isinstance(search.best_estimator_, GDRegressor)
    assert search.best_estimator_.score(X, y) > 0.5


def test_cross_val_score():
    X, y = _diabetes()
    scores = cross_val_score(GDRegressor(random_state=0), X, y, cv=5)
    assert scores.shape == (5,)
    assert 0.3 < scores.mean() < 0.6


@pytest.mark.parametrize("solver", SOLVERS)
def test_pickle_round_trip_predicts_identically(solver):
    X, y = _diabetes()
    model = GDRegressor(solver=solver, random_state=0).fit(X, y)
    restored = pickle.loads(pickle.dumps(model))
    np.testing.assert_array_equal(restored.predict(X), model.predict(X))
    assert restored.loss_curve_ == model.loss_curve_


def test_clone_is_unfitted_with_same_params():
    X, y = _diabetes()
    model = GDRegressor(solver="sgd", alpha=0.3, random_state=1).fit(X, y)
    cloned = clone(model)
    assert cloned.get_params() == model.get_params()
    with pytest.raises(NotFittedError):
        cloned.predict(X)


def test_predict_is_linear_model():
    X, y = _diabetes()
    model = GDRegressor(random_state=0).fit(X, y)
    np.testing.assert_allclose(model.predict(X), X @ model.coef_ + model.intercept_, rtol=1e-14)
    assert model.predict(X.astype(np.float32)).shape == (len(y),)
    assert model.score(X, y) == pytest.approx(
        1 - np.sum((y - model.predict(X)) ** 2) / np.sum((y - y.mean()) ** 2), rel=1e-12
    )


# --- pandas -------------------------------------------------------------------------


def test_dataframe_sets_feature_names():
    data = load_diabetes(as_frame=True)
    X, y = data.data, data.target
    assert isinstance(X, pd.DataFrame) and isinstance(y, pd.Series)
    model = GDRegressor(random_state=0).fit(X, y)
    np.testing.assert_array_equal(model.feature_names_in_, np.array(X.columns, dtype=object))
    assert model.n_features_in_ == X.shape[1]
    with pytest.warns(UserWarning, match="does not have valid feature names"):
        from_array = model.predict(X.to_numpy())
    np.testing.assert_array_equal(model.predict(X), from_array)
    # a frame with other column names is rejected
    with pytest.raises(ValueError, match="feature names"):
        model.predict(X.rename(columns={"age": "AGE"}))


def test_ndarray_fit_has_no_feature_names():
    X, y = _diabetes()
    model = GDRegressor(random_state=0).fit(X, y)
    assert not hasattr(model, "feature_names_in_")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model.predict(X)


def test_partial_fit_checks_feature_names():
    data = load_diabetes(as_frame=True)
    X, y = data.data, data.target
    model = GDRegressor(random_state=0).partial_fit(X.iloc[:200], y.iloc[:200])
    with pytest.raises(ValueError, match="feature names"):
        model.partial_fit(X.iloc[200:][X.columns[::-1]], y.iloc[200:])


# --- parameter validation ----------------------------------------------------------------

BAD_PARAMS = [
    {"solver": "newton"},
    {"batch_size": 0},
    {"batch_size": 2.5},
    {"batch_size": "big"},
    {"loss": "hinge"},
    {"epsilon": -0.1},
    {"penalty": "l3"},
    {"penalty": "none"},
    {"alpha": -1.0},
    {"l1_ratio": 1.5},
    {"fit_intercept": "yes"},
    {"learning_rate": "pa1"},
    {"eta0": 0.0},
    {"power_t": np.inf},
    {"max_iter": 0},
    {"max_iter": 1.5},
    {"tol": -1e-3},
    {"n_iter_no_change": 0},
    {"early_stopping": "no"},
    {"validation_fraction": 1.0},
    {"validation_fraction": 0.0},
    {"shuffle": None},
    {"random_state": "seed"},
    {"warm_start": 2},
]


@pytest.mark.parametrize("params", BAD_PARAMS, ids=lambda p: "-".join(f"{k}={v}" for k, v in p.items()))
@pytest.mark.parametrize("method", ["fit", "partial_fit"])
def test_bad_parameters_raise_invalid_parameter_error(params, method):
    X, y = _diabetes()
    model = GDRegressor(**params)
    name = next(iter(params))
    with pytest.raises(InvalidParameterError, match=f"'{name}' parameter of GDRegressor"):
        getattr(model, method)(X, y)
    assert not hasattr(model, "coef_")


def test_optimal_with_zero_alpha_is_rejected():
    X, y = _diabetes()
    with pytest.raises(ValueError, match="alpha must be > 0"):
        GDRegressor(learning_rate="optimal", alpha=0.0).fit(X, y)


# --- input validation ------------------------------------------------------------------


def _bad_inputs():
    X, y = _diabetes()
    X, y = X[:20], y[:20]
    X_nan = X.copy()
    X_nan[2, 3] = np.nan
    X_inf = X.copy()
    X_inf[0, 0] = np.inf
    y_inf = y.copy()
    y_inf[1] = -np.inf
    strings = np.array([["a", "b"]] * 20)
    return {
        "nan_X": (X_nan, y, ValueError, "Input X contains NaN"),
        "inf_X": (X_inf, y, ValueError, "Input X contains infinity"),
        "nan_y": (X, np.where(np.arange(20) == 4, np.nan, y), ValueError, "Input y contains NaN"),
        "inf_y": (X, y_inf, ValueError, "Input y contains infinity"),
        "string_X": (strings, y, ValueError, "could not convert string to float"),
        "string_y": (X, np.array(["a"] * 20), ValueError, "could not convert string to float"),
        "complex_X": (X + 1j, y, ValueError, "Complex data not supported"),
        "empty": (np.empty((0, 10)), np.empty(0), ValueError, "0 sample"),
        "no_features": (np.empty((20, 0)), y, ValueError, "0 feature"),
        "1d_X": (X[:, 0], y, ValueError, "Expected 2D array"),
        "3d_X": (X[:, :, None], y, ValueError, "dim 3"),
        "3d_y": (X, np.c_[y, y][:, :, None], ValueError, "dim 3"),
        "length_mismatch": (X, y[:-1], ValueError, "inconsistent numbers of samples"),
        "y_none": (X, None, ValueError, "requires y to be passed"),
        "sparse_y": (X, sp.csr_matrix(y[:, None]), TypeError, "Sparse data was passed for y"),
        "nan_sparse_X": (sp.csr_matrix(X_nan), y, ValueError, "Input X contains NaN"),
    }


@pytest.mark.parametrize("case", list(_bad_inputs()))
@pytest.mark.parametrize("method", ["fit", "partial_fit"])
def test_bad_input_raises_sklearn_errors(case, method):
    X, y, error, message = _bad_inputs()[case]
    model = GDRegressor()
    with pytest.raises(error, match=message):
        getattr(model, method)(X, y)
    assert not hasattr(model, "coef_")


@pytest.mark.parametrize(
    "weights, message",
    [
        (np.ones(19), r"sample_weight.shape == \(19,\), expected \(20,\)"),
        (-np.ones(20), "Negative values in data passed to `sample_weight`"),
        (np.r_[np.ones(19), np.nan], "Input sample_weight contains NaN"),
    ],
    ids=["wrong_length", "negative", "nan"],
)
def test_bad_sample_weight(weights, message):
    X, y = _diabetes()
    with pytest.raises(ValueError, match=message):
        GDRegressor().fit(X[:20], y[:20], sample_weight=weights)


def test_column_vector_y_is_one_target_as_in_ridge():
    X, y = _diabetes()
    a = GDRegressor(solver="batch", random_state=0).fit(X, y[:, None])
    b = GDRegressor(solver="batch", random_state=0).fit(X, y)
    assert a.coef_.shape == (1, X.shape[1]) and a.intercept_.shape == (1,)
    np.testing.assert_array_equal(a.coef_[0], b.coef_)  # the one-target kernels, bit for bit
    np.testing.assert_array_equal(a.predict(X)[:, 0], b.predict(X))


def test_list_input_accepted():
    X, y = _diabetes()
    a = GDRegressor(solver="batch", random_state=0).fit(X.tolist(), y.tolist())
    b = GDRegressor(solver="batch", random_state=0).fit(X, y)
    np.testing.assert_array_equal(a.coef_, b.coef_)


def test_predict_validation():
    X, y = _diabetes()
    with pytest.raises(NotFittedError):
        GDRegressor().predict(X)
    model = GDRegressor(random_state=0).fit(X, y)
    with pytest.raises(ValueError, match="X has 9 features, but GDRegressor is expecting 10"):
        model.predict(X[:, :9])
    bad = X[:5].copy()
    bad[0, 0] = np.nan
    with pytest.raises(ValueError, match="Input X contains NaN"):
        model.predict(bad)
    with pytest.raises(ValueError, match="Input X contains NaN"):
        model.predict(sp.csr_matrix(bad))
    np.testing.assert_allclose(model.predict(sp.csr_matrix(X)), model.predict(X), rtol=0, atol=1e-9)
