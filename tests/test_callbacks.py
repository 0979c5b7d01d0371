"""scikit-learn's callbacks (sklearn.callback, 1.9+) see every epoch of a fit."""

import warnings

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import r2_score
from sklearn.model_selection import cross_val_score

from skgd import GDPolynomialRegressor, GDRegressor

from _shared import ESTIMATORS, SOLVERS, make_regression_data

callback = pytest.importorskip("sklearn.callback")


class Recorder:
    """A FitCallback that keeps what each hook received, and can stop the fit after some epochs."""

    def __init__(self, stop_after=None):
        self.stop_after = stop_after
        self.events = []

    def setup(self, estimator, context):
        self.events.append(("setup", None, None))

    def teardown(self, estimator, context):
        self.events.append(("teardown", None, None))

    def on_fit_task_begin(self, estimator, context, *, fitted_estimator=None):
        self.events.append(("begin", context.task_name, fitted_estimator))

    def on_fit_task_end(self, estimator, context, *, X=None, fitted_estimator=None):
        self.events.append(("end", context.task_name, fitted_estimator))
        epochs = sum(1 for kind, task, _ in self.events if kind == "end" and task == "epoch")
        return self.stop_after is not None and epochs >= self.stop_after

    def models(self, kind, task="epoch"):
        return [fitted for k, t, fitted in self.events if k == kind and t == task]


@pytest.mark.parametrize("Estimator", ESTIMATORS)
@pytest.mark.parametrize("solver", SOLVERS)
def test_each_epoch_is_a_task_with_the_model_of_its_start_and_end(Estimator, solver):
    X, y = make_regression_data(n_samples=40)
    recorder = Recorder()
    # a fixed schedule: under 'auto' the model of an epoch may be the mean of its iterates
    model = Estimator(solver=solver, learning_rate="constant", store_path="epoch", random_state=0)
    model.set_callbacks(recorder).fit(X, y)
    kinds = [(kind, task) for kind, task, _ in recorder.events]
    assert kinds == ([("setup", None), ("begin", "fit")] + [("begin", "epoch"), ("end", "epoch")] * model.n_iter_
                     + [("end", "fit"), ("teardown", None)])
    path = np.column_stack([model.coef_path_, model.intercept_path_])
    for k, (start, end) in enumerate(zip(recorder.models("begin"), recorder.models("end"))):
        np.testing.assert_allclose(np.append(start.coef_, start.intercept_), path[k], rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(np.append(end.coef_, end.intercept_), path[k + 1], rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(end.predict(X), _predictions_at(model, X, path[k + 1]), rtol=1e-10)
    (final,) = recorder.models("end", "fit")
    np.testing.assert_array_equal(final.predict(X), model.predict(X))


def _predictions_at(model, X, point):
    """Predictions of the model at a recorded point (through the raw monomials for polynomials)."""
    if hasattr(model, "powers_"):
        X = np.prod(X[:, None, :] ** model.powers_[None], axis=2)
    return X @ point[:-1] + point[-1]


def test_a_callback_can_stop_the_fit():
    X, y = make_regression_data(n_samples=40)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        model = GDRegressor(max_iter=50, tol=None).set_callbacks(Recorder(stop_after=3)).fit(X, y)
    assert model.n_iter_ == 3 and len(model.loss_curve_) == 3


def test_partial_fit_is_one_epoch_task():
    X, y = make_regression_data(n_samples=40)
    recorder = Recorder()
    GDRegressor(random_state=0).set_callbacks(recorder).partial_fit(X, y)
    assert [(kind, task) for kind, task, _ in recorder.events][1:-1] == [
        ("begin", "fit"), ("begin", "epoch"), ("end", "epoch"), ("end", "fit")
    ]


def test_scoring_monitor_scores_every_epoch():
    pytest.importorskip("pandas")
    X, y = make_regression_data(n_samples=60)
    monitor = callback.ScoringMonitor(scoring="r2")
    model = GDRegressor(solver="batch", store_path="epoch", random_state=0).set_callbacks(monitor).fit(X, y)
    log = monitor.get_logs().data_as_pandas
    epochs = log[log.task_name == "epoch"]
    assert len(epochs) == model.n_iter_
    expected = [r2_score(y, X @ coef + b) for coef, b in zip(model.coef_path_[1:], model.intercept_path_[1:])]
    np.testing.assert_allclose(epochs.r2, expected, rtol=1e-10)


def test_progress_bar_follows_the_epochs(capsys):
    pytest.importorskip("rich")
    X, y = make_regression_data(n_samples=40)
    GDPolynomialRegressor(random_state=0).set_callbacks(callback.ProgressBar()).fit(X, y)
    assert "GDPolynomialRegressor - fit" in capsys.readouterr().out


def test_callbacks_follow_the_estimator_through_cross_validation():
    X, y = make_regression_data(n_samples=60)
    recorder = Recorder()
    scores = cross_val_score(GDRegressor(random_state=0).set_callbacks(recorder), X, y, cv=3)
    assert len(scores) == 3
    assert sum(1 for kind, task, _ in recorder.events if kind == "end" and task == "fit") == 3


def test_the_models_handed_to_callbacks_are_snapshots():
    X, y = make_regression_data(n_samples=40)
    recorder = Recorder()
    model = GDRegressor(solver="batch", max_iter=6, tol=None).set_callbacks(recorder).fit(X, y)
    ends = recorder.models("end")
    assert [end._state.t for end in ends] == list(range(1, 7))
    assert ends[1]._state is not model._state


class RaisingAtTheEnd(Recorder):
    def on_fit_task_end(self, estimator, context, *, X=None, fitted_estimator=None):
        if context.task_name == "fit":
            raise RuntimeError("the callback failed")


def test_a_callback_failing_at_the_end_leaves_partial_fit_state_as_it_was():
    X, y = make_regression_data(n_samples=40)
    model = GDRegressor(store_path="epoch", random_state=0).partial_fit(X, y)
    before = model.coef_.copy(), model.n_iter_, model.coef_path_.copy()
    model.set_callbacks(RaisingAtTheEnd())
    with pytest.raises(RuntimeError, match="the callback failed"):
        model.partial_fit(X, y)
    np.testing.assert_array_equal(model.coef_, before[0])
    assert model.n_iter_ == before[1]
    np.testing.assert_array_equal(model.coef_path_, before[2])
