"""Stopping rules: relative tol, ConvergenceWarning, early stopping, adaptive steps."""

import warnings

import numpy as np
import pytest
from sklearn.datasets import load_diabetes
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import r2_score
from sklearn.model_selection import ShuffleSplit

from skgd import GDRegressor

from _shared import LOSSES, SOLVERS

SQUARED_TYPE = ("squared_error", "huber", "squared_epsilon_insensitive")


def _diabetes():
    return load_diabetes(return_X_y=True)


def _assert_scale_equivariant(params, scale=1000.0):
    X, y = _diabetes()
    small = GDRegressor(epsilon=10.0, **params).fit(X, y)
    large = GDRegressor(epsilon=10.0 * scale, **params).fit(X, y * scale)
    assert large.n_iter_ == small.n_iter_
    np.testing.assert_allclose(large.coef_, scale * small.coef_, rtol=1e-8, atol=1e-8 * scale * np.abs(small.coef_).max())
    assert large.intercept_ == pytest.approx(scale * small.intercept_, rel=1e-8)
    np.testing.assert_allclose(large.loss_curve_, np.asarray(small.loss_curve_) * (large.loss_curve_[0] / small.loss_curve_[0]), rtol=1e-8)


@pytest.mark.parametrize("loss", LOSSES)
@pytest.mark.parametrize("solver", SOLVERS)
def test_tol_is_relative_auto_unpenalised(solver, loss):
    """y * 1000 (epsilon * 1000 too) scales the whole path, so the relative tol
    stops at the same epoch."""
    _assert_scale_equivariant(dict(solver=solver, loss=loss, penalty=None, random_state=0))


@pytest.mark.parametrize("loss", SQUARED_TYPE)
@pytest.mark.parametrize("solver", SOLVERS)
def test_tol_is_relative_auto_l2(solver, loss):
    # loss and L2 penalty are both quadratic: the penalised problem scales too
    _assert_scale_equivariant(dict(solver=solver, loss=loss, penalty="l2", alpha=1e-3, random_state=0))


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize("learning_rate", ["constant", "adaptive"])
@pytest.mark.parametrize("solver", SOLVERS)
def test_tol_is_relative_eta0_schedules(solver, learning_rate):
    _assert_scale_equivariant(
        dict(solver=solver, learning_rate=learning_rate, eta0=0.05 if solver != "sgd" else 0.01,
             max_iter=300, random_state=0)
    )


@pytest.mark.parametrize("solver", SOLVERS)
def test_convergence_warning_when_max_iter_reached(solver):
    X, y = _diabetes()
    # one epoch: too few to tell that the descent has settled, whatever the solver
    with pytest.warns(ConvergenceWarning, match=r"Maximum number of epochs \(1\)"):
        model = GDRegressor(solver=solver, max_iter=1, random_state=0).fit(X, y)
    assert model.n_iter_ == 1


@pytest.mark.parametrize("solver", SOLVERS)
@pytest.mark.parametrize(
    "params, expected_epochs",
    [(dict(max_iter=3, tol=None), lambda n_iter: n_iter == 3), (dict(), lambda n_iter: n_iter < 1000)],
    ids=["tol_none", "converged"],
)
def test_no_convergence_warning_without_tol_or_when_converged(solver, params, expected_epochs):
    X, y = _diabetes()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model = GDRegressor(solver=solver, random_state=0, **params).fit(X, y)
    assert expected_epochs(model.n_iter_)


def test_tol_none_runs_all_epochs():
    X, y = _diabetes()
    model = GDRegressor(solver="batch", tol=None, max_iter=40).fit(X, y)
    assert model.n_iter_ == len(model.loss_curve_) == 40


def test_constant_schedule_stops_after_n_iter_no_change_stalls():
    """Non-adaptive schedules stop on the n_iter_no_change-th epoch in a row that
    misses the relative tol (replayed from loss_curve_)."""
    X, y = _diabetes()
    for n_iter_no_change in (2, 5):
        model = GDRegressor(solver="sgd", learning_rate="constant", eta0=0.05, random_state=0,
                            n_iter_no_change=n_iter_no_change).fit(X, y)
        curve = model.loss_curve_
        assert len(curve) == model.n_iter_ < model.max_iter
        best, misses = np.inf, []
        for value in curve:
            misses.append(np.isfinite(best) and not value < best - 1e-4 * abs(best))
            best = min(best, value)
        assert all(misses[-n_iter_no_change:])
        # and no earlier run of that many misses
        runs = [all(misses[k:k + n_iter_no_change]) for k in range(len(misses) - n_iter_no_change)]
        assert not any(runs)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize("solver", SOLVERS)
@pytest.mark.parametrize("learning_rate", ["auto", "constant"])
def test_best_loss_is_min_of_curve(solver, learning_rate):
    X, y = _diabetes()
    model = GDRegressor(solver=solver, learning_rate=learning_rate, eta0=0.01, max_iter=60,
                        random_state=0).fit(X, y)
    assert model.best_loss_ == min(model.loss_curve_)
    assert len(model.loss_curve_) == model.n_iter_


@pytest.mark.parametrize("solver", SOLVERS)
def test_validation_attributes_none_without_early_stopping(solver):
    X, y = _diabetes()
    model = GDRegressor(solver=solver, random_state=0).fit(X, y)
    assert model.validation_scores_ is None
    assert model.best_validation_score_ is None
    model.partial_fit(X, y)
    assert model.validation_scores_ is None
    assert model.best_validation_score_ is None


def _held_out(X, y, random_state, fraction=0.1):
    """The split early stopping makes: ShuffleSplit driven by the estimator's RNG."""
    rng = np.random.RandomState(random_state)
    return next(ShuffleSplit(test_size=fraction, random_state=rng).split(X))


@pytest.mark.parametrize("solver", ["minibatch", "sgd"])
def test_early_stopping_keeps_best_validation_epoch(solver):
    X, y = _diabetes()
    model = GDRegressor(solver=solver, early_stopping=True, random_state=0).fit(X, y)
    scores = model.validation_scores_
    assert isinstance(scores, list) and len(scores) == model.n_iter_
    best_epoch = int(np.argmax(scores))
    assert model.best_validation_score_ == max(scores)
    # the last epoch was worse, yet the kept coefficients score the best value
    assert best_epoch < model.n_iter_ - 1
    assert scores[-1] < model.best_validation_score_
    _, test = _held_out(X, y, 0)
    assert r2_score(y[test], model.predict(X[test])) == pytest.approx(model.best_validation_score_, rel=1e-12)

    # the same run cut after the best epoch ends with exactly these coefficients
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        cut = GDRegressor(solver=solver, early_stopping=True, random_state=0,
                          max_iter=best_epoch + 1).fit(X, y)
    assert cut.validation_scores_ == scores[: best_epoch + 1]
    np.testing.assert_array_equal(cut.coef_, model.coef_)
    assert cut.intercept_ == model.intercept_


@pytest.mark.parametrize("solver", SOLVERS)
def test_early_stopping_stops_on_validation_score(solver):
    """Stops after n_iter_no_change epochs whose R² did not beat the best by tol (absolute)."""
    X, y = _diabetes()
    model = GDRegressor(solver=solver, early_stopping=True, learning_rate="constant",
                        eta0=0.02 if solver == "sgd" else 0.5, n_iter_no_change=3,
                        random_state=0).fit(X, y)
    scores = model.validation_scores_
    assert model.n_iter_ < model.max_iter
    best, misses = -np.inf, []
    for s in scores:
        misses.append(np.isfinite(best) and not s > best + 1e-4)
        best = max(best, s)
    assert all(misses[-3:])


def test_early_stopping_uses_validation_fraction():
    X, y = _diabetes()
    model = GDRegressor(solver="batch", early_stopping=True, validation_fraction=0.25,
                        learning_rate="constant", eta0=0.5, max_iter=1, random_state=0, tol=None).fit(X, y)
    train, test = _held_out(X, y, 0, fraction=0.25)
    assert len(test) == int(np.ceil(0.25 * len(y)))
    # one batch step from zero on the training rows only
    expected_coef = 0.5 * X[train].T @ y[train] / len(train) * (1 - 0.0)
    np.testing.assert_allclose(model.coef_, expected_coef, rtol=1e-10)


def test_early_stopping_empty_split_raises():
    X, y = _diabetes()
    X, y = X[:20], y[:20]
    with pytest.raises(ValueError, match="train set will be empty"):
        GDRegressor(early_stopping=True, validation_fraction=0.99).fit(X, y)
    # a training part whose weights are all zero counts as empty
    train, _ = _held_out(X, y, 0, fraction=0.5)
    weights = np.ones(20)
    weights[train] = 0.0
    model = GDRegressor(early_stopping=True, validation_fraction=0.5, random_state=0)
    with pytest.raises(ValueError, match="led to an empty set"):
        model.fit(X, y, sample_weight=weights)
    assert not hasattr(model, "coef_")


# --- the adaptive schedule -------------------------------------------------------


def _replay_adaptive(curve, eta0, tol=1e-4, n_iter_no_change=5):
    """The documented rule: divide by 5 after n_iter_no_change stalls; stop below 1e-6."""
    best, count, divisions = np.inf, 0, 0
    eta = eta0
    for epoch, value in enumerate(curve, start=1):
        if np.isfinite(best) and not value < best - tol * abs(best):
            count += 1
            if count >= n_iter_no_change:
                count = 0
                if eta > 1e-6:
                    eta /= 5
                    divisions += 1
                if eta <= 1e-6:
                    return divisions, epoch
        else:
            count = 0
        best = min(best, value)
    return divisions, None


@pytest.mark.parametrize(
    "solver, loss, eta0",
    [
        ("sgd", "squared_error", 0.1),
        ("minibatch", "squared_error", 1.0),
        ("minibatch", "absolute_error", 50.0),
        ("batch", "squared_error", 1.5),
    ],
)
def test_adaptive_divides_eta_by_five_on_stalls(solver, loss, eta0):
    X, y = _diabetes()
    model = GDRegressor(solver=solver, loss=loss, learning_rate="adaptive", eta0=eta0,
                        penalty=None, random_state=0, max_iter=1000).fit(X, y)
    divisions, stop = _replay_adaptive(model.loss_curve_, eta0)
    assert divisions >= 3
    assert model._state.eta == pytest.approx(eta0 / 5**divisions, rel=1e-12)
    # it stopped because the step fell below 1e-6, at the epoch the rule says
    assert model._state.eta <= 1e-6 < model._state.eta * 5
    assert stop == model.n_iter_ < 1000


def test_adaptive_without_tol_never_divides():
    X, y = _diabetes()
    model = GDRegressor(solver="sgd", learning_rate="adaptive", eta0=0.1, tol=None, max_iter=30,
                        random_state=0).fit(X, y)
    assert model._state.eta == 0.1
    assert model.n_iter_ == 30


def test_adaptive_partial_fit_divides_but_never_stops():
    X, y = _diabetes()
    model = GDRegressor(solver="sgd", learning_rate="adaptive", eta0=0.1, n_iter_no_change=2,
                        random_state=0)
    for _ in range(40):
        model.partial_fit(X, y)
    divisions, _ = _replay_adaptive(model.loss_curve_, 0.1, n_iter_no_change=2)
    assert divisions >= 2
    assert model._state.eta == pytest.approx(0.1 / 5**divisions, rel=1e-12)
    assert model.n_iter_ == 40


def _objective(model, X, y, alpha, l1_ratio):
    r = X @ model.coef_ + model.intercept_ - y
    w = model.coef_
    return np.mean(0.5 * r**2) + alpha * ((1 - l1_ratio) / 2 * (w @ w) + l1_ratio * np.abs(w).sum())


def test_auto_returns_best_epoch_when_steps_overshoot():
    """Steps on the absolute error's kinks overshoot; 'auto' then returns the coefficients
    at the start of the epoch with the lowest objective (for 'batch', loss_curve_ is
    exactly J at each epoch's start). (Strong L1 no longer overshoots: its proximal
    step lands on the zeros.)"""
    X, y = _diabetes()
    model = GDRegressor(solver="batch", loss="absolute_error", penalty=None, random_state=0).fit(X, y)
    assert model.loss_curve_[-1] > model.best_loss_ * (1 + 1e-6)  # it ended above its best
    objective = np.mean(np.abs(X @ model.coef_ + model.intercept_ - y))
    assert objective == pytest.approx(model.best_loss_, rel=1e-12)


def test_auto_keeps_last_coefficients_when_not_overshooting():
    X, y = _diabetes()
    model = GDRegressor(solver="batch", penalty="l2", alpha=0.1, random_state=0).fit(X, y)
    # converged from above: the last coefficients are at least as good as any epoch start
    assert _objective(model, X, y, 0.1, 0.0) <= model.best_loss_ * (1 + 1e-12)
