"""Seeds, pickling, cloning, and sample weights as exact data transformations."""

import pickle

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.datasets import load_diabetes

from skgd import GDRegressor

from _shared import ESTIMATORS, LOSSES, SOLVERS

# Short runs (small max_iter) are the point here, not convergence.
pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

# measured: at most 7e-15 relative on raw diabetes (auto and constant, three losses)
WEIGHT_RTOL = 1e-13


def _raw():
    return load_diabetes(return_X_y=True, scaled=False)


@pytest.mark.parametrize("Estimator", ESTIMATORS, ids=lambda cls: cls.__name__)
@pytest.mark.parametrize("solver", SOLVERS)
@pytest.mark.parametrize("learning_rate", ["auto", "invscaling"])
def test_same_random_state_is_bit_identical(Estimator, solver, learning_rate):
    X, y = _raw()
    params = dict(solver=solver, learning_rate=learning_rate, eta0=1e-6, random_state=7,
                  batch_size=32, max_iter=30)
    a = Estimator(**params).fit(X, y)
    b = Estimator(**params).fit(X, y)
    np.testing.assert_array_equal(a.coef_, b.coef_)
    assert a.intercept_ == b.intercept_
    assert np.array_equal(a.loss_curve_, b.loss_curve_)
    assert a.n_iter_ == b.n_iter_ and a.t_ == b.t_


@pytest.mark.parametrize("solver", ["minibatch", "sgd"])
def test_different_random_state_changes_shuffled_path(solver):
    X, y = _raw()
    a = GDRegressor(solver=solver, batch_size=32, random_state=0, max_iter=5, tol=None).fit(X, y)
    b = GDRegressor(solver=solver, batch_size=32, random_state=1, max_iter=5, tol=None).fit(X, y)
    assert not np.array_equal(a.loss_curve_, b.loss_curve_)


@pytest.mark.parametrize("solver", SOLVERS)
def test_no_shuffle_ignores_random_state(solver):
    X, y = _raw()
    params = dict(solver=solver, batch_size=32, shuffle=False, max_iter=5, tol=None)
    a = GDRegressor(random_state=0, **params).fit(X, y)
    b = GDRegressor(random_state=1, **params).fit(X, y)
    np.testing.assert_array_equal(a.coef_, b.coef_)
    assert a.loss_curve_ == b.loss_curve_


@pytest.mark.parametrize("Estimator", ESTIMATORS, ids=lambda cls: cls.__name__)
@pytest.mark.parametrize("solver", SOLVERS)
@pytest.mark.parametrize("learning_rate", ["auto", "adaptive"])
def test_pickle_mid_stream_then_continue(Estimator, solver, learning_rate):
    X, y = _raw()
    chunks = np.array_split(np.arange(len(y)), 6)
    model = Estimator(solver=solver, learning_rate=learning_rate, eta0=1e-6, batch_size=20,
                        n_iter_no_change=1, random_state=0)
    for chunk in chunks[:3]:
        model.partial_fit(X[chunk], y[chunk])
    restored = pickle.loads(pickle.dumps(model))
    for chunk in chunks[3:]:
        model.partial_fit(X[chunk], y[chunk])
        restored.partial_fit(X[chunk], y[chunk])
    np.testing.assert_array_equal(restored.coef_, model.coef_)
    assert restored.intercept_ == model.intercept_
    assert restored.loss_curve_ == model.loss_curve_
    assert restored.t_ == model.t_
    assert restored._state.eta == model._state.eta
    np.testing.assert_array_equal(restored.predict(X), model.predict(X))


def test_pickle_round_trip_of_fitted_model():
    X, y = _raw()
    model = GDRegressor(random_state=0).fit(X, y)
    restored = pickle.loads(pickle.dumps(model))
    np.testing.assert_array_equal(restored.predict(X), model.predict(X))
    assert restored.get_params() == model.get_params()


@pytest.mark.parametrize("Estimator", ESTIMATORS, ids=lambda cls: cls.__name__)
@pytest.mark.parametrize("solver", SOLVERS)
def test_clone_refits_identically(Estimator, solver):
    X, y = _raw()
    model = Estimator(solver=solver, alpha=1e-3, random_state=3).fit(X, y)
    copy = clone(model)
    assert not hasattr(copy, "coef_")
    assert copy.get_params() == model.get_params()
    copy.fit(X, y)
    np.testing.assert_array_equal(copy.coef_, model.coef_)
    assert copy.loss_curve_ == model.loss_curve_


def test_fit_restarts_from_scratch():
    X, y = _raw()
    model = GDRegressor(solver="sgd", random_state=0)
    first = model.fit(X, y).coef_.copy()
    model.partial_fit(X, y)
    second = model.fit(X, y)
    np.testing.assert_array_equal(second.coef_, first)
    assert second.n_iter_ == len(second.loss_curve_)


@pytest.mark.parametrize("Estimator", ESTIMATORS, ids=lambda cls: cls.__name__)
def test_warm_start_with_another_number_of_features_raises(Estimator):
    X, y = _raw()
    model = Estimator(warm_start=True, random_state=0).fit(X[:, :3], y)
    coef = model.coef_.copy()
    with pytest.raises(ValueError, match="warm_start=True needs the previous solution's shape"):
        model.fit(X[:, :2], y)
    np.testing.assert_array_equal(model.coef_, coef)
    assert model.n_features_in_ == 3


def test_warm_start_starts_from_previous_solution():
    X, y = _raw()
    cold = GDRegressor(solver="batch", learning_rate="constant", eta0=1e-6, max_iter=3, tol=None).fit(X, y)
    warm = GDRegressor(solver="batch", learning_rate="constant", eta0=1e-6, max_iter=3, tol=None,
                       warm_start=True).fit(X, y)
    warm.fit(X, y)
    assert warm.n_iter_ == 3  # the count restarts
    # the second warm fit's curve starts where the first one left off
    six = GDRegressor(solver="batch", learning_rate="constant", eta0=1e-6, max_iter=6, tol=None).fit(X, y)
    np.testing.assert_allclose(warm.coef_, six.coef_, rtol=1e-12)
    np.testing.assert_allclose(warm.loss_curve_, six.loss_curve_[3:], rtol=1e-12)
    assert not np.allclose(cold.coef_, warm.coef_)


# --- sample weights ----------------------------------------------------------------


def _weights(n, seed=0):
    rng = np.random.RandomState(seed)
    return rng.uniform(0.5, 2.0, n), rng.rand(n) < 0.3


def _assert_same_fit(a, b, rtol=WEIGHT_RTOL):
    np.testing.assert_allclose(a.coef_, b.coef_, rtol=rtol, atol=rtol * np.abs(b.coef_).max())
    assert a.intercept_ == pytest.approx(b.intercept_, rel=rtol, abs=rtol)
    np.testing.assert_allclose(a.loss_curve_, b.loss_curve_, rtol=rtol)
    assert a.n_iter_ == b.n_iter_


@pytest.mark.parametrize("loss", LOSSES)
@pytest.mark.parametrize("learning_rate", ["auto", "constant"])
def test_zero_weights_equal_dropping_rows_batch(loss, learning_rate):
    X, y = _raw()
    w, zero = _weights(len(y))
    w_with_zeros = np.where(zero, 0.0, w)
    params = dict(solver="batch", loss=loss, learning_rate=learning_rate, eta0=1e-5, epsilon=5.0,
                  tol=None, max_iter=40)
    a = GDRegressor(**params).fit(X, y, sample_weight=w_with_zeros)
    b = GDRegressor(**params).fit(X[~zero], y[~zero], sample_weight=w[~zero])
    _assert_same_fit(a, b)


@pytest.mark.parametrize("loss", LOSSES)
@pytest.mark.parametrize("learning_rate", ["auto", "constant"])
def test_integer_weights_equal_repetition_batch(loss, learning_rate):
    X, y = _raw()
    counts = np.random.RandomState(1).randint(0, 4, len(y))
    params = dict(solver="batch", loss=loss, learning_rate=learning_rate, eta0=1e-5, epsilon=5.0,
                  tol=None, max_iter=40)
    a = GDRegressor(**params).fit(X, y, sample_weight=counts)
    b = GDRegressor(**params).fit(np.repeat(X, counts, axis=0), np.repeat(y, counts))
    # 'auto' returns the epoch of lowest objective: at the optimum, rounding picks among near-equal ones
    _assert_same_fit(a, b, rtol=WEIGHT_RTOL if learning_rate == "constant" else 1e-11)


@pytest.mark.parametrize("solver", SOLVERS)
def test_weights_are_scale_free(solver):
    """J is a weighted *mean*: multiplying every weight by 10 changes nothing."""
    X, y = _raw()
    w, _ = _weights(len(y), seed=2)
    params = dict(solver=solver, random_state=0, max_iter=20)
    a = GDRegressor(**params).fit(X, y, sample_weight=w)
    b = GDRegressor(**params).fit(X, y, sample_weight=10 * w)
    _assert_same_fit(a, b)


def test_uniform_weights_equal_no_weights():
    X, y = _raw()
    a = GDRegressor(solver="sgd", random_state=0, max_iter=10).fit(X, y, sample_weight=np.full(len(y), 3.0))
    b = GDRegressor(solver="sgd", random_state=0, max_iter=10).fit(X, y)
    np.testing.assert_array_equal(a.coef_, b.coef_)
    assert a.loss_curve_ == b.loss_curve_


def test_all_zero_weights_raise():
    X, y = _raw()
    with pytest.raises(ValueError, match="non-zero|sum to zero"):
        GDRegressor().fit(X, y, sample_weight=np.zeros(len(y)))
