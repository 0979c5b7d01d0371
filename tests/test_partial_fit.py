"""partial_fit: one epoch per call, state carried over, failed calls change nothing."""

import copy
import math

import numpy as np
import pytest
from sklearn.datasets import load_diabetes

from skgd import GDRegressor

from _shared import ESTIMATORS, SOLVERS, lstsq_fit, make_regression_data, r2


def _updates_per_epoch(solver, n_samples, batch_size):
    return {"batch": 1, "sgd": n_samples, "minibatch": math.ceil(n_samples / batch_size)}[solver]


@pytest.mark.parametrize("solver", SOLVERS)
@pytest.mark.parametrize("learning_rate", ["auto", "constant"])
def test_one_epoch_per_call(solver, learning_rate):
    X, y = make_regression_data(n_samples=90, n_features=3)
    model = GDRegressor(solver=solver, batch_size=7, learning_rate=learning_rate, random_state=0)
    chunks = np.array_split(np.arange(90), 3)  # 30 rows each
    for k, chunk in enumerate(chunks * 2, start=1):
        before_t = getattr(model, "t_", 0)
        model.partial_fit(X[chunk], y[chunk])
        assert model.n_iter_ == k
        assert len(model.loss_curve_) == k
        assert model.t_ - before_t == _updates_per_epoch(solver, 30, 7)
        assert model.best_loss_ == min(model.loss_curve_)


def test_partial_fit_after_fit_continues_counts():
    X, y = make_regression_data(n_samples=50, n_features=3)
    model = GDRegressor(solver="sgd", random_state=0).fit(X, y)
    n_iter, t, curve = model.n_iter_, model.t_, list(model.loss_curve_)
    model.partial_fit(X, y)
    assert model.n_iter_ == n_iter + 1
    assert model.t_ == t + 50
    assert model.loss_curve_[:-1] == curve


@pytest.mark.parametrize("solver", SOLVERS)
@pytest.mark.parametrize("scaled", [True, False], ids=["scaled", "raw_units"])
def test_stream_of_chunks_reaches_good_r2(solver, scaled):
    X, y = load_diabetes(return_X_y=True, scaled=scaled)
    coef, intercept = lstsq_fit(X, y)
    best = r2(y, X @ coef + intercept)
    model = GDRegressor(solver=solver, penalty=None, random_state=0)
    for _ in range(5):
        for chunk in np.array_split(np.arange(len(y)), 4):
            model.partial_fit(X[chunk], y[chunk])
    assert model.n_iter_ == 20
    assert model.score(X, y) > best - 5e-3


@pytest.mark.parametrize("solver", SOLVERS)
def test_partial_fit_k_times_equals_fit_k_epochs(solver):
    """With a non-adaptive schedule, k partial_fit calls on the whole set == fit with
    max_iter=k, bit for bit: same coefficients, schedule, update count and shuffles."""
    X, y = make_regression_data(n_samples=40, n_features=3)
    params = dict(solver=solver, batch_size=6, learning_rate="invscaling", eta0=0.05, tol=None, random_state=3)
    fitted = GDRegressor(max_iter=6, **params).fit(X, y)
    streamed = GDRegressor(**params)
    for _ in range(6):
        streamed.partial_fit(X, y)
    np.testing.assert_array_equal(streamed.coef_, fitted.coef_)
    assert streamed.intercept_ == fitted.intercept_
    assert streamed.loss_curve_ == fitted.loss_curve_
    assert streamed.t_ == fitted.t_
    assert streamed.n_iter_ == fitted.n_iter_ == 6


def test_early_stopping_rejected():
    X, y = make_regression_data()
    model = GDRegressor(early_stopping=True)
    with pytest.raises(ValueError, match="early_stopping should be False with partial_fit"):
        model.partial_fit(X, y)
    assert not hasattr(model, "coef_")


# --- failed calls leave everything as it was ---------------------------------------


def _snapshot(model):
    return {
        "coef_": model.coef_.copy(),
        "intercept_": model.intercept_,
        "t_": model.t_,
        "n_iter_": model.n_iter_,
        "loss_curve_": list(model.loss_curve_),
        "best_loss_": model.best_loss_,
        "rng": model._state.rng.get_state(),
        "eta": model._state.eta,
        "n_features_in_": model.n_features_in_,
    }


def _assert_unchanged(model, snapshot):
    now = _snapshot(model)
    np.testing.assert_array_equal(now.pop("coef_"), snapshot.pop("coef_"))
    rng_now, rng_before = now.pop("rng"), snapshot.pop("rng")
    assert rng_now[0] == rng_before[0]
    np.testing.assert_array_equal(rng_now[1], rng_before[1])
    assert rng_now[2:] == rng_before[2:]
    assert now == snapshot


def _tiny_stream(seed=0):
    """Features around 1e-3 and no intercept: eta0=1e3 is stable on them."""
    X, y = make_regression_data(n_samples=40, n_features=3, seed=seed, intercept=0.0)
    return X * 1e-3, y * 1e-3


def _raw_diabetes():
    return load_diabetes(return_X_y=True, scaled=False)


def _bad_calls():
    X_raw, y_raw = _raw_diabetes()
    X, y = _tiny_stream(seed=5)
    X_nan = X.copy()
    X_nan[3, 1] = np.nan
    y_nan = y.copy()
    y_nan[0] = np.nan
    return {
        "wrong_n_features": (np.c_[X, X[:, :1]], y, "features"),
        "nan_in_X": (X_nan, y, "NaN"),
        "nan_in_y": (X, y_nan, "NaN"),
        "inconsistent_lengths": (X, y[:-1], "inconsistent numbers of samples"),
        "negative_weight": (X, y, "Negative values"),
        "diverges_on_raw_units": (X_raw[:100, :3], y_raw[:100], "eta0"),
    }


@pytest.mark.parametrize("case", list(_bad_calls()))
@pytest.mark.parametrize("solver", ["sgd", "minibatch"])
def test_failed_partial_fit_leaves_state_untouched(case, solver):
    X_bad, y_bad, message = _bad_calls()[case]
    weights = -np.ones(len(y_bad)) if case == "negative_weight" else None
    params = dict(
        solver=solver, batch_size=2, learning_rate="constant", eta0=1e3,
        fit_intercept=False, penalty=None, random_state=0,
    )
    X, y = _tiny_stream()
    model = GDRegressor(**params).partial_fit(X, y).partial_fit(X, y)
    before = copy.deepcopy(model)
    snapshot = _snapshot(model)
    with pytest.raises(ValueError, match=message):
        model.partial_fit(X_bad, y_bad, sample_weight=weights)
    _assert_unchanged(model, snapshot)

    # ... and training goes on exactly as if the failed call never happened
    X2, y2 = _tiny_stream(seed=1)
    model.partial_fit(X2, y2)
    before.partial_fit(X2, y2)
    np.testing.assert_array_equal(model.coef_, before.coef_)
    assert model.intercept_ == before.intercept_
    assert model.loss_curve_ == before.loss_curve_
    assert model.t_ == before.t_


@pytest.mark.parametrize("Estimator", ESTIMATORS, ids=lambda cls: cls.__name__)
@pytest.mark.parametrize("solver", SOLVERS)
def test_failed_partial_fit_leaves_auto_state_untouched(Estimator, solver):
    """Also with 'auto', whose preconditioner and moments are refreshed each call."""
    X, y = make_regression_data(n_samples=60, n_features=3)
    model = Estimator(solver=solver, random_state=0).partial_fit(X[:30], y[:30])
    before = copy.deepcopy(model)
    snapshot = _snapshot(model)
    moments = model._state.moments
    X_nan = X[30:].copy()
    X_nan[0, 0] = np.inf
    with pytest.raises(ValueError, match="infinity"):
        model.partial_fit(X_nan, y[30:])
    _assert_unchanged(model, snapshot)
    assert model._state.moments is moments
    model.partial_fit(X[30:], y[30:])
    before.partial_fit(X[30:], y[30:])
    np.testing.assert_array_equal(model.coef_, before.coef_)
    assert model.intercept_ == before.intercept_
    assert model.loss_curve_ == before.loss_curve_


def test_first_partial_fit_that_diverges_leaves_estimator_unfitted():
    X_raw, y_raw = _raw_diabetes()
    model = GDRegressor(solver="sgd", learning_rate="constant", eta0=1e3, random_state=0)
    with pytest.raises(ValueError, match="eta0"):
        model.partial_fit(X_raw, y_raw)
    assert not hasattr(model, "coef_")
    assert not hasattr(model, "_state")
    # a later call starts from scratch
    model.set_params(learning_rate="auto")
    model.partial_fit(X_raw, y_raw)
    assert model.n_iter_ == 1
    assert np.all(np.isfinite(model.coef_))


@pytest.mark.parametrize("learning_rate", ["constant", "invscaling"])
def test_set_params_eta0_between_partial_fit_calls_takes_effect(learning_rate):
    X, y = make_regression_data(n_samples=40, n_features=3)
    params = dict(solver="sgd", learning_rate=learning_rate, random_state=0, shuffle=False)
    changed = GDRegressor(eta0=0.01, **params).partial_fit(X, y)
    changed.set_params(eta0=0.001)
    changed.partial_fit(X, y)
    first_epoch = GDRegressor(eta0=0.01, **params).partial_fit(X, y).coef_
    unchanged = GDRegressor(eta0=0.01, **params).partial_fit(X, y).partial_fit(X, y)
    assert not np.array_equal(changed.coef_, unchanged.coef_)
    # a 10 times smaller step moves the coefficients less in the second epoch
    assert np.abs(changed.coef_ - first_epoch).max() < np.abs(unchanged.coef_ - first_epoch).max()
