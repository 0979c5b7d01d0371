"""GDPolynomialRegressor: the expansion, its units, conditioning and memory."""

import tracemalloc

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import load_diabetes
from sklearn.linear_model import Ridge
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import PolynomialFeatures, StandardScaler

from skgd import GDPolynomialRegressor, GDRegressor
from skgd._features import PolynomialFeatureMap

from _shared import SOLVERS, lstsq_fit, r2

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


def _expand(X, degree, interaction_only=False):
    return PolynomialFeatures(degree, interaction_only=interaction_only, include_bias=False).fit_transform(X)


def _cubic(noise, n_samples=300, seed=0):
    """y = 0.5 x^3 - 2 x^2 + x + 4 (+ noise), x uniform in [-3, 3]."""
    rng = np.random.RandomState(seed)
    x = rng.uniform(-3, 3, size=(n_samples, 1))
    y = 0.5 * x[:, 0] ** 3 - 2 * x[:, 0] ** 2 + x[:, 0] + 4 + noise * rng.standard_normal(n_samples)
    return x, y


def _unscaled_quartic():
    """Degree 4 in two features in [0, 50]: monomials from 1 to 6e6."""
    rng = np.random.RandomState(1)
    X = rng.uniform(0, 50, size=(500, 2))
    y = 1e-4 * X[:, 0] ** 4 - 0.01 * X[:, 0] ** 2 * X[:, 1] + 0.5 * X[:, 1] ** 2 + 3 * X[:, 0] + 10
    return X, y + 50 * rng.standard_normal(500)


# --- the expansion -------------------------------------------------------------


@pytest.mark.parametrize("degree", [1, 2, 3, 4])
@pytest.mark.parametrize("interaction_only", [False, True])
def test_expansion_matches_polynomial_features(degree, interaction_only):
    X = np.random.RandomState(0).uniform(-2, 2, size=(7, 3))
    reference = PolynomialFeatures(degree, interaction_only=interaction_only, include_bias=False).fit(X)
    expansion = PolynomialFeatureMap.of(reference)
    np.testing.assert_allclose(expansion.design(X), reference.transform(X), rtol=1e-14)
    np.testing.assert_allclose(expansion.design(X, lazy=True)[[4, 0]], reference.transform(X)[[4, 0]], rtol=1e-14)

    model = GDPolynomialRegressor(degree=degree, interaction_only=interaction_only, max_iter=3).fit(X, X[:, 0])
    np.testing.assert_array_equal(model.powers_, reference.powers_)
    assert model.n_output_features_ == reference.n_output_features_ == model.coef_.shape[0]
    np.testing.assert_array_equal(model.get_feature_names_out(), reference.get_feature_names_out())


def test_feature_names_from_dataframe():
    X = pd.DataFrame({"a": [0.0, 1.0, 2.0, 3.0], "b": [1.0, 0.0, 1.0, 2.0]})
    model = GDPolynomialRegressor(max_iter=3).fit(X, [1.0, 2.0, 3.0, 5.0])
    assert list(model.get_feature_names_out()) == ["a", "b", "a^2", "a b", "b^2"]
    with pytest.raises(ValueError, match="input_features is not equal to feature_names_in_"):
        model.get_feature_names_out(["u", "b"])


@pytest.mark.parametrize("batch_size", [1, 7])
def test_lazy_chunks_are_whole_batches_covering_the_order(batch_size):
    X = np.random.RandomState(0).standard_normal((1000, 30))
    design = PolynomialFeatureMap.of(PolynomialFeatures(3, include_bias=False).fit(X)).design(X, lazy=True)
    order = np.random.RandomState(1).permutation(1000)
    chunks = design.chunks(order, batch_size)
    assert len(chunks) > 1  # 5,455 columns: several chunks of about 2 MiB
    assert all(len(chunk) % batch_size == 0 for chunk in chunks[:-1])
    np.testing.assert_array_equal(np.concatenate(chunks), order)


@pytest.mark.parametrize("solver", SOLVERS)
@pytest.mark.parametrize("fit_intercept", [True, False])
def test_predict_is_raw_monomials_times_coef(solver, fit_intercept):
    X, y = _unscaled_quartic()
    model = GDPolynomialRegressor(degree=4, solver=solver, fit_intercept=fit_intercept, random_state=0).fit(X, y)
    np.testing.assert_allclose(_expand(X, 4) @ model.coef_ + model.intercept_, model.predict(X), rtol=1e-12)
    if not fit_intercept:
        assert model.intercept_ == 0.0


@pytest.mark.parametrize("solver", ["minibatch", "sgd"])
def test_lazy_expansion_gives_the_same_fit_as_the_materialised_one(solver):
    """Chunks of whole batches in the epoch's order: the same updates, bit for bit."""
    X, y = _cubic(noise=1.0, n_samples=2000)
    X = np.c_[X, X[::-1] * 0.5]
    # elastic net: no rotated design (see _preconditioning), which is one array either way
    params = dict(degree=5, solver=solver, batch_size=32, penalty="elasticnet", random_state=0, max_iter=5,
                  tol=None)
    lazy = GDPolynomialRegressor(**params).fit(X, y)
    features = lazy._state.features
    design = features.design(X)
    on_design = GDRegressor(**{k: v for k, v in params.items() if k != "degree"})
    on_design._fit_features = lambda X, weights: features
    on_design._lazy_design = lambda: False
    on_design.fit(X, y)
    assert len(design.shape) == 2 and design.shape[1] * 8 * 32 < 2**21  # several chunks per epoch
    np.testing.assert_array_equal(features.to_raw(on_design._state.coef, 0.0)[0], lazy.coef_)
    np.testing.assert_allclose(on_design.loss_curve_, lazy.loss_curve_, rtol=1e-13)


# --- accuracy on badly conditioned problems ------------------------------------


@pytest.mark.parametrize("solver", SOLVERS)
def test_cubic_with_noise_reaches_least_squares(solver):
    X, y = _cubic(noise=1.0)
    coef, intercept = lstsq_fit(_expand(X, 3), y)
    best = r2(y, _expand(X, 3) @ coef + intercept)
    model = GDPolynomialRegressor(degree=3, solver=solver, penalty=None, random_state=0).fit(X, y)
    assert best - 1e-3 < model.score(X, y) <= best + 1e-12
    assert model.n_iter_ < model.max_iter


@pytest.mark.parametrize("solver", SOLVERS)
def test_noiseless_cubic_recovers_coefficients(solver):
    X, y = _cubic(noise=0.0)
    model = GDPolynomialRegressor(degree=3, solver=solver, penalty=None, random_state=0).fit(X, y)
    np.testing.assert_allclose(model.coef_, [1.0, -2.0, 0.5], atol=1e-2)
    assert abs(model.intercept_ - 4.0) < 1e-2


@pytest.mark.parametrize("solver", SOLVERS)
def test_unscaled_quartic_fits_with_defaults(solver):
    X, y = _unscaled_quartic()
    coef, intercept = lstsq_fit(_expand(X, 4), y)
    best = r2(y, _expand(X, 4) @ coef + intercept)
    model = GDPolynomialRegressor(degree=4, solver=solver, random_state=0).fit(X, y)
    assert np.all(np.isfinite(model.loss_curve_))
    assert model.score(X, y) > best - 1e-2


@pytest.mark.parametrize("solver", SOLVERS)
def test_wide_heavy_tailed_expansion_does_not_overshoot(solver):
    """Cubes of Gaussian features have heavy-tailed rows; the auto step must allow for the largest."""
    X = np.random.RandomState(0).standard_normal((200, 10))
    y = X[:, 0] + 0.5 * X[:, 1] * X[:, 2] + 0.1 * np.random.RandomState(1).standard_normal(200)
    model = GDPolynomialRegressor(degree=3, solver=solver, random_state=0, max_iter=100).fit(X, y)
    assert max(model.loss_curve_) == model.loss_curve_[0]
    assert model.score(X, y) > 0.9


# --- the penalty acts on the standardised monomials ----------------------------


@pytest.mark.parametrize("fit_intercept", [True, False])
def test_l2_penalty_is_ridge_on_standardised_monomials(fit_intercept):
    X, y = _cubic(noise=1.0)
    X = np.c_[X, X**2 / 3 + 1]
    alpha = 0.05
    monomials = _expand(X, 3)
    scale = monomials.std(axis=0)
    centred = monomials - monomials.mean(axis=0) if fit_intercept else monomials
    # J = mean(r^2) / 2 + alpha / 2 ||w||^2 is Ridge's ||r||^2 + n alpha ||w||^2, up to a factor
    ridge = Ridge(alpha=alpha * len(y), fit_intercept=fit_intercept).fit(centred / scale, y)
    model = GDPolynomialRegressor(
        degree=3, solver="batch", alpha=alpha, fit_intercept=fit_intercept, tol=1e-12, random_state=0
    ).fit(X, y)
    np.testing.assert_allclose(model.coef_ * scale, ridge.coef_, rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(model.predict(X), ridge.predict(centred / scale), rtol=1e-6)


# --- streaming, warm start, early stopping, weights ----------------------------


def test_partial_fit_keeps_the_first_calls_statistics():
    X, y = _cubic(noise=1.0, n_samples=400)
    model = GDPolynomialRegressor(degree=3, solver="sgd", penalty=None, random_state=0)
    model.partial_fit(X[:100], y[:100])
    mean, scale = model._state.features.mean, model._state.features.scale
    np.testing.assert_allclose(mean, _expand(X[:100], 3).mean(axis=0), rtol=1e-12)
    for _ in range(10):
        for chunk in np.array_split(np.arange(100, 400), 3):
            model.partial_fit(X[chunk], y[chunk])
    np.testing.assert_array_equal(model._state.features.mean, mean)
    np.testing.assert_array_equal(model._state.features.scale, scale)
    coef, intercept = lstsq_fit(_expand(X, 3), y)
    assert model.score(X, y) > r2(y, _expand(X, 3) @ coef + intercept) - 1e-3


@pytest.mark.parametrize("solver", SOLVERS)
def test_warm_start_continues_from_the_raw_solution(solver):
    X, y = _cubic(noise=1.0)
    model = GDPolynomialRegressor(degree=3, solver=solver, warm_start=True, random_state=0).fit(X, y)
    coef = model.coef_.copy()
    # new data with other statistics: the same model, re-expressed, is the starting point
    model.set_params(max_iter=1, learning_rate="constant", eta0=1e-12, shuffle=False).fit(X[:150] * 0.9, y[:150])
    np.testing.assert_allclose(model.coef_, coef, rtol=1e-9)


def test_early_stopping_scores_the_expanded_validation_set():
    X, y = _cubic(noise=1.0, n_samples=1000)
    model = GDPolynomialRegressor(degree=3, early_stopping=True, random_state=0).fit(X, y)
    assert len(model.validation_scores_) == model.n_iter_
    assert model.best_validation_score_ > 0.9


def test_sample_weights_equal_repetition_batch():
    X, y = _cubic(noise=1.0, n_samples=60)
    weights = np.random.RandomState(0).randint(0, 3, size=60)
    params = dict(degree=3, solver="batch", random_state=0)
    weighted = GDPolynomialRegressor(**params).fit(X, y, sample_weight=weights)
    repeated = GDPolynomialRegressor(**params).fit(np.repeat(X, weights, axis=0), np.repeat(y, weights))
    np.testing.assert_allclose(weighted.coef_, repeated.coef_, rtol=1e-10)


def test_a_chunk_of_zero_weights_is_ignored_by_the_statistics():
    X = np.random.RandomState(0).standard_normal((200, 30))  # 5,455 monomials: chunks of 48 rows
    y = X[:, 0] + X[:, 1] * X[:, 2]
    weights = np.r_[np.zeros(100), np.ones(100)]
    model = GDPolynomialRegressor(degree=3, solver="batch", max_iter=5, random_state=0)
    model.fit(X, y, sample_weight=weights)
    kept = GDPolynomialRegressor(degree=3, solver="batch", max_iter=5, random_state=0).fit(X[100:], y[100:])
    np.testing.assert_allclose(model._state.features.mean, kept._state.features.mean, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(model._state.features.scale, kept._state.features.scale, rtol=1e-12)


# --- memory ----------------------------------------------------------------------


def _peak_fit_memory(model, X, y):
    tracemalloc.start()
    model.fit(X, y)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak


@pytest.mark.parametrize("solver", ["minibatch", "sgd"])
def test_stochastic_solvers_never_hold_the_whole_expansion(solver):
    """Beyond the fixed-size sample of 'auto', memory grows with X, not with the expansion."""
    X = np.random.RandomState(0).uniform(-1, 1, size=(100_000, 10))
    y = X[:, 0] ** 3 - X[:, 1] * X[:, 2]
    model = GDPolynomialRegressor(degree=3, solver=solver, max_iter=1, random_state=0)
    model.fit(X[:100], y[:100])  # compile outside the measurement
    half = _peak_fit_memory(model, X[:50_000], y[:50_000])
    full = _peak_fit_memory(model, X, y)
    expanded_growth = 50_000 * 285 * 8  # 114 MB more monomials
    assert full - half < 0.1 * expanded_growth
    assert full < 100 * 2**20


# --- in scikit-learn -------------------------------------------------------------


def test_grid_search_in_pipeline_picks_a_sensible_model():
    X, y = load_diabetes(return_X_y=True, scaled=False)
    search = GridSearchCV(
        make_pipeline(StandardScaler(), GDPolynomialRegressor(random_state=0)),
        {
            "gdpolynomialregressor__solver": ["batch", "sgd"],
            "gdpolynomialregressor__degree": [1, 2, 3],
            "gdpolynomialregressor__alpha": [1e-4, 1.0],
        },
        cv=3,
        n_jobs=2,
    ).fit(X, y)
    linear_cv = GridSearchCV(Ridge(), {"alpha": [1e-4]}, cv=3).fit(X, y).best_score_
    # overfitting degree 3 with a weak penalty loses; the search must not pick it
    best = search.best_params_
    assert not (best["gdpolynomialregressor__degree"] == 3 and best["gdpolynomialregressor__alpha"] == 1e-4)
    assert search.best_score_ > linear_cv - 0.01
