"""store_path: the coefficients after every epoch or update, without changing the fit."""

import pickle

import numpy as np
import pytest
from sklearn.base import clone

from skgd import GDRegressor
from skgd.plotting import objective_at

from _shared import ESTIMATORS, SOLVERS, make_regression_data


@pytest.mark.parametrize("Estimator", ESTIMATORS)
@pytest.mark.parametrize("solver", SOLVERS)
@pytest.mark.parametrize("optimizer", ["plain", "adam"])
def test_recording_changes_nothing_and_ends_at_the_model(Estimator, solver, optimizer):
    X, y = make_regression_data(n_samples=50, n_features=3)
    params = dict(solver=solver, batch_size=8, optimizer=optimizer, random_state=0)
    plain = Estimator(**params).fit(X, y)
    assert plain.coef_path_ is None and plain.intercept_path_ is None
    by_epoch = Estimator(store_path="epoch", **params).fit(X, y)
    by_step = Estimator(store_path="step", **params).fit(X, y)
    for model in (by_epoch, by_step):
        np.testing.assert_array_equal(model.coef_, plain.coef_)
        assert model.intercept_ == plain.intercept_
        assert model.loss_curve_ == plain.loss_curve_
        if solver == "batch":  # the last iterate is the model
            np.testing.assert_allclose(model.coef_path_[-1], model.coef_, rtol=1e-12, atol=1e-12)
            np.testing.assert_allclose(model.intercept_path_[-1], model.intercept_, rtol=1e-12)
        else:  # the model (the best epoch's, or a mean of iterates) is no worse than the last iterate
            points = np.array([np.append(model.coef_, model.intercept_),
                               np.append(model.coef_path_[-1], model.intercept_path_[-1])])
            returned, last = objective_at(model, X, y, np.ones(len(y)), list(range(points.shape[1])), points)
            assert returned <= last
    assert by_epoch.coef_path_.shape == (plain.n_iter_ + 1, plain.coef_.shape[0])
    assert by_step.coef_path_.shape == (plain.t_ + 1, plain.coef_.shape[0])
    assert by_epoch.intercept_path_.shape == (plain.n_iter_ + 1,)
    # the points of the epochs' ends are among the steps' (mapped to the raw
    # monomials a block of rows at a time, hence the tolerance)
    updates_per_epoch = plain.t_ // plain.n_iter_
    np.testing.assert_allclose(by_step.coef_path_[::updates_per_epoch], by_epoch.coef_path_, rtol=1e-13)
    np.testing.assert_allclose(by_step.intercept_path_[::updates_per_epoch], by_epoch.intercept_path_,
                               rtol=1e-13)


def test_step_path_is_the_textbook_sgd_update():
    X, y = make_regression_data(n_samples=20, n_features=2)
    eta = 0.05
    model = GDRegressor(solver="sgd", learning_rate="constant", eta0=eta, penalty=None, shuffle=False,
                        max_iter=3, tol=None, store_path="step").fit(X, y)
    coef, intercept = np.zeros(2), 0.0
    expected = [np.append(coef, intercept)]
    for _ in range(model.n_iter_):
        for x_i, y_i in zip(X, y):
            residual = x_i @ coef + intercept - y_i
            coef, intercept = coef - eta * residual * x_i, intercept - eta * residual
            expected.append(np.append(coef, intercept))
    recorded = np.column_stack([model.coef_path_, model.intercept_path_])
    np.testing.assert_allclose(recorded, expected, rtol=1e-12, atol=1e-12)


def test_path_starts_at_the_warm_start_and_begins_anew_each_fit():
    X, y = make_regression_data(n_samples=40)
    model = GDRegressor(solver="batch", max_iter=5, tol=None, store_path="epoch", warm_start=True)
    model.fit(X, y)
    first_end = np.append(model.coef_, model.intercept_)
    model.fit(X, y)
    assert model.coef_path_.shape[0] == 6
    np.testing.assert_array_equal(np.append(model.coef_path_[0], model.intercept_path_[0]), first_end)


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_partial_fit_extends_the_path_and_a_failed_call_leaves_it(Estimator):
    X, y = make_regression_data(n_samples=60)
    model = Estimator(solver="minibatch", batch_size=10, store_path="step", random_state=0)
    model.partial_fit(X[:30], y[:30])
    assert model.coef_path_.shape[0] == 1 + 3
    before = model.coef_path_.copy(), model.intercept_path_.copy()
    with pytest.raises(ValueError):
        model.partial_fit(X[30:, :2], y[30:])
    np.testing.assert_array_equal(model.coef_path_, before[0])
    np.testing.assert_array_equal(model.intercept_path_, before[1])
    model.partial_fit(X[30:], y[30:])
    assert model.coef_path_.shape[0] == 1 + 3 + 3
    np.testing.assert_array_equal(model.coef_path_[:4], before[0])
    np.testing.assert_allclose(model.coef_path_[-1], model.coef_, rtol=1e-12, atol=1e-12)


def test_path_survives_pickling_and_clone_forgets_it():
    X, y = make_regression_data(n_samples=40)
    model = GDRegressor(store_path="epoch", random_state=0).fit(X, y)
    restored = pickle.loads(pickle.dumps(model))
    np.testing.assert_array_equal(restored.coef_path_, model.coef_path_)
    np.testing.assert_array_equal(restored.intercept_path_, model.intercept_path_)
    assert not hasattr(clone(model), "coef_path_")
    assert clone(model).store_path == "epoch"


def test_path_follows_the_iterates_not_their_average():
    X, y = make_regression_data(n_samples=40)
    model = GDRegressor(solver="sgd", average=True, learning_rate="constant", store_path="step",
                        random_state=0).fit(X, y)
    np.testing.assert_allclose(model.coef_path_[1:].mean(axis=0), model.coef_, rtol=1e-9)


def test_a_stream_grows_its_path_without_copying_it_each_call_or_touching_arrays_handed_out():
    X, y = make_regression_data(n_samples=40)
    model = GDRegressor(solver="minibatch", batch_size=10, store_path="step", random_state=0)
    model.partial_fit(X, y)
    held = model.coef_path_
    held_copy = held.copy()
    buffers = set()
    for _ in range(20):
        model.partial_fit(X, y)
        buffers.add(id(model.coef_path_.base))
    assert model.coef_path_.shape[0] == 1 + 21 * 4
    assert len(buffers) < 10  # the array is replaced now and then, not at every call
    np.testing.assert_array_equal(held, held_copy)  # what was handed out is left as it was
