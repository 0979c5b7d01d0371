"""Update rules: each follows its published update, step by step, and its state lives in the fitted model.

The textbook loops below are written from the papers, on the parameter
vector ``theta = (w, b)``, independently of ``skgd._update_rules``; the
kernels and their NumPy reference are run one update at a time beside them.
"""

import pickle
import warnings

import numpy as np
import pytest
from numba import njit, typeof
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import SGDRegressor

from skgd import GDRegressor
from skgd._codes import static_code
from skgd._engine import Settings, run_epochs
from skgd._kernels import minibatch_epoch, minibatch_epoch_reference
from skgd._losses import loss_tuple
from skgd._preconditioning import Preconditioner
from skgd._schedules import CONSTANT
from skgd._update_rules import FIRST, RULE_CODES, adam_corrections, new_state, rule_tuple, rule_update

from _shared import ESTIMATORS, SOLVERS, batch_epoch, lstsq_fit, make_regression_data, r2

RULES = tuple(RULE_CODES)
ETA, MOMENTUM, BETA_1, BETA_2, EPS = 0.05, 0.8, 0.85, 0.99, 1e-8
N_STEPS = 40


def _gradient(X, y, theta, rows):
    """Gradient of the mean squared error / 2 over ``rows`` at ``theta = (w, b)``."""
    residual = X[rows] @ theta[:-1] + theta[-1] - y[rows]
    return np.append(X[rows].T @ residual, residual.sum()) / len(rows)


def _textbook_iterates(rule, gradient, n_params):
    """The iterates of the published update, the step count ``k`` from 1."""
    theta = np.zeros(n_params)
    previous = theta.copy()                 # heavy ball
    velocity = np.zeros(n_params)           # Sutskever's v
    m, s = np.zeros(n_params), np.zeros(n_params)
    for k in range(1, N_STEPS + 1):
        if rule == "plain":
            theta = theta - ETA * gradient(theta, k)
        elif rule == "momentum":  # Polyak (1964)
            theta, previous = theta - ETA * gradient(theta, k) + MOMENTUM * (theta - previous), theta
        elif rule == "nesterov":  # Sutskever et al. (2013), eq. 3-4; the model holds theta + mu v
            velocity = MOMENTUM * velocity - ETA * gradient(theta + MOMENTUM * velocity, k)
            theta = theta + velocity
        elif rule == "adagrad":  # Duchi et al. (2011), diagonal
            g = gradient(theta, k)
            s = s + g**2
            theta = theta - ETA * g / (np.sqrt(s) + EPS)
        elif rule == "rmsprop":  # Tieleman and Hinton (2012)
            g = gradient(theta, k)
            s = BETA_2 * s + (1 - BETA_2) * g**2
            theta = theta - ETA * g / (np.sqrt(s) + EPS)
        elif rule == "adam":  # Kingma and Ba (2015), Algorithm 1
            g = gradient(theta, k)
            m = BETA_1 * m + (1 - BETA_1) * g
            s = BETA_2 * s + (1 - BETA_2) * g**2
            m_hat, s_hat = m / (1 - BETA_1**k), s / (1 - BETA_2**k)
            theta = theta - ETA * m_hat / (np.sqrt(s_hat) + EPS)
        yield theta + MOMENTUM * velocity if rule == "nesterov" else theta


def _one_update(epoch, X, y, rows, coef, carried, rule_state, rule):
    """One update of ``epoch`` (a kernel or the reference) on ``rows``."""
    n_features = X.shape[1]
    intercept, t, count = carried
    schedule = (CONSTANT, ETA, 0.25, 0.0, 0.0)
    head = (X, y, np.ones(len(y)), rows)
    if epoch is not batch_epoch:
        head += (len(rows),)
    _, intercept, t, count = epoch(
        *head, coef, intercept, True, loss_tuple("squared_error", 0.0), (0.0, 0.0), schedule,
        Preconditioner.identity(n_features).arrays(), t, rule, rule_state, count, 0,
    )
    return intercept, t, count


# (rows per update, implementation): the compiled kernel and the NumPy reference
# one row, four rows or all of them at a time, and the full-batch pass.
IMPLEMENTATIONS = {
    f"{batch}-{name}": (batch, epoch)
    for name, epoch in (("kernel", minibatch_epoch), ("reference", minibatch_epoch_reference))
    for batch in ("one", "four", "all")
} | {"all-batch-kernel": ("all", batch_epoch)}


@pytest.mark.parametrize("rule", RULES)
@pytest.mark.parametrize("implementation", IMPLEMENTATIONS)
def test_rule_follows_its_published_update_step_by_step(rule, implementation):
    batch, epoch = IMPLEMENTATIONS[implementation]
    X, y = make_regression_data(n_samples=12, n_features=3)
    size = {"all": 12, "one": 1, "four": 4}[batch]
    order = np.random.RandomState(0).permutation(12)

    def rows_of_step(k):
        first = (k - 1) * size % 12
        return np.sort(order[first:first + size]) if size < 12 else np.arange(12)

    def gradient(theta, k):
        return _gradient(X, y, theta, rows_of_step(k))

    coef, rule_state = np.zeros(3), new_state(4)
    carried = (0.0, 0, 0)
    rule_tuple = (RULE_CODES[rule], MOMENTUM, BETA_1, BETA_2, EPS)
    for k, expected in enumerate(_textbook_iterates(rule, gradient, 4), start=1):
        carried = _one_update(epoch, X, y, rows_of_step(k), coef, carried, rule_state, rule_tuple)
        np.testing.assert_allclose(np.append(coef, carried[0]), expected, rtol=1e-12, atol=1e-12)
    assert np.abs(expected - np.append(coef, carried[0])).max() < 1e-12
    assert not np.allclose(expected, 0.0)


@njit
def _compiled_rule_update(rule, m, s, g, corrections):
    return rule_update(rule, m, s, g, corrections)


@pytest.mark.parametrize("typed", [False, True], ids=["any-rule", "rule-tuple"])
@pytest.mark.parametrize("rule", RULES)
def test_rule_update_is_one_function_for_floats_and_arrays(rule, typed):
    """The compiled kernels call it on each coordinate, the reference on whole arrays: same state, same steps.

    Compiled, the rule is read at run time from a plain tuple, or fixed by
    the type of :func:`rule_tuple`'s (the estimators'), which compiles only
    that rule.
    """
    rng = np.random.default_rng(1)
    gradients = rng.standard_normal((30, 5)) * np.logspace(-6, 3, 5)
    code = (RULE_CODES[rule], MOMENTUM, BETA_1, BETA_2, EPS)
    compiled_code = rule_tuple(*code) if typed else code
    m_arrays, s_arrays = np.zeros(5), np.zeros(5)
    m_floats, s_floats = np.zeros(5), np.zeros(5)
    for k, g in enumerate(gradients, start=1):
        corrections = adam_corrections(BETA_1**k, BETA_2**k)
        u_arrays, m_arrays, s_arrays = rule_update(code, m_arrays, s_arrays, g, corrections)
        for j in range(5):
            u, m_floats[j], s_floats[j] = _compiled_rule_update(
                compiled_code, m_floats[j], s_floats[j], g[j], corrections
            )
            assert u == pytest.approx(u_arrays[j], rel=1e-14, abs=0)
    np.testing.assert_allclose(m_floats, m_arrays, rtol=1e-14)
    np.testing.assert_allclose(s_floats, s_arrays, rtol=1e-14)


def test_rule_tuple_fixes_the_rule_in_its_type():
    """Each rule's tuple has a type of its own, equal to the plain tuple, whose code the compiler can read."""
    tuples = [rule_tuple(code, MOMENTUM, BETA_1, BETA_2, EPS) for code in RULE_CODES.values()]
    assert len({typeof(t) for t in tuples}) == len(RULE_CODES)
    for name, t in zip(RULE_CODES, tuples):
        assert t == (RULE_CODES[name], MOMENTUM, BETA_1, BETA_2, EPS)
        assert static_code(typeof(t)) == RULE_CODES[name]
        assert static_code(typeof(tuple(t))) is None


def test_averaged_sgd_matches_sgdregressor():
    """``average`` as in SGDRegressor: True from the first update, an int once that many rows are seen."""
    X, y = make_regression_data(n_samples=40, n_features=3, noise=1.0)
    common = dict(penalty=None, learning_rate="constant", eta0=0.05, shuffle=False, max_iter=3, tol=None)
    for average in (True, 7):
        ours = GDRegressor(solver="sgd", average=average, **common).fit(X, y)
        theirs = SGDRegressor(average=average, **common).fit(X, y)
        np.testing.assert_allclose(ours.coef_, theirs.coef_, rtol=1e-12)
        assert ours.intercept_ == pytest.approx(theirs.intercept_[0], rel=1e-12)
        # the model reports the average, the descent goes on from the iterate
        assert not np.allclose(ours.coef_, ours._state.coef)


@pytest.mark.parametrize("rule", RULES)
def test_partial_fit_continues_the_rule_state(rule):
    """Two partial_fit calls of the batch solver are the first two epochs of a fit."""
    X, y = make_regression_data()
    params = dict(solver="batch", optimizer=rule, learning_rate="constant", eta0=0.05, tol=None)
    fitted = GDRegressor(max_iter=2, **params).fit(X, y)
    streamed = GDRegressor(**params).partial_fit(X, y).partial_fit(X, y)
    np.testing.assert_array_equal(streamed.coef_, fitted.coef_)
    assert streamed.intercept_ == fitted.intercept_
    np.testing.assert_array_equal(streamed._state.rule_state, fitted._state.rule_state)
    assert streamed._state.rule_count == fitted._state.rule_count == 2


@pytest.mark.parametrize("rule", RULES)
def test_warm_start_keeps_the_rule_state(rule):
    X, y = make_regression_data()
    params = dict(solver="batch", optimizer=rule, learning_rate="constant", eta0=0.05, tol=None)
    whole = GDRegressor(max_iter=5, **params).fit(X, y)
    warm = GDRegressor(max_iter=3, warm_start=True, **params).fit(X, y)
    warm.set_params(max_iter=2).fit(X, y)
    np.testing.assert_array_equal(warm.coef_, whole.coef_)
    assert warm._state.rule_count == 5
    if rule != "plain":  # a cold second fit would differ
        cold = GDRegressor(max_iter=3, **params).fit(X, y)
        cold.set_params(max_iter=2, warm_start=True)
        cold._state.rule_state[:] = 0.0
        cold._state.rule_count = 0
        assert not np.array_equal(cold.fit(X, y).coef_, whole.coef_)


def test_switching_rule_starts_its_state_afresh():
    """A warm start or a partial_fit under another rule does not inherit the previous rule's state."""
    X, y = make_regression_data()
    params = dict(solver="batch", learning_rate="constant", eta0=0.1, tol=None, penalty=None)
    for switch in ("warm_start", "partial_fit"):
        model = GDRegressor(optimizer="momentum", max_iter=3, **params).fit(X, y)
        before = np.append(model.coef_, model.intercept_)
        model.set_params(optimizer="adam", warm_start=True, max_iter=1)
        model.fit(X, y) if switch == "warm_start" else model.partial_fit(X, y)
        # Adam's first step moves every coordinate by eta0 (to rounding)
        step = np.append(model.coef_, model.intercept_) - before
        np.testing.assert_allclose(np.abs(step), 0.1, rtol=1e-6)
        assert model._state.rule_count == 1


def test_averaging_starts_with_one_update_when_a_stream_passes_its_start():
    """average=100 with chunks of 10 rows, then one of 200: the average begins at that update, not earlier."""
    X, y = make_regression_data(n_samples=250, n_features=3)
    model = GDRegressor(solver="minibatch", average=100, learning_rate="constant", eta0=0.1, random_state=0)
    for k in range(5):
        model.partial_fit(X[10 * k:10 * k + 10], y[10 * k:10 * k + 10])
    assert model._state.average_from == 0  # 50 rows seen
    model.partial_fit(X[50:], y[50:])  # one update of 200 rows
    np.testing.assert_array_equal(model.coef_, model._state.coef)
    assert model.intercept_ == model._state.intercept


@pytest.mark.parametrize("rule", ["adagrad", "rmsprop", "adam"])
def test_adaptive_auto_step_without_intercept_is_sized_by_y(rule):
    """Without an intercept the coefficients must reach the size of y, not of its spread (here 0)."""
    rng = np.random.default_rng(0)
    X = rng.standard_normal((200, 3)) + 3.0
    y = np.full(200, 5.0)
    model = GDRegressor(optimizer=rule, fit_intercept=False, penalty=None, random_state=0).fit(X, y)
    coef, _ = lstsq_fit(X, y, fit_intercept=False)
    assert np.mean((model.predict(X) - y) ** 2) < np.mean((X @ coef - y) ** 2) + 1e-3


@pytest.mark.parametrize("Estimator", ESTIMATORS)
@pytest.mark.parametrize("rule", RULES)
def test_pickling_keeps_the_rule_state(Estimator, rule):
    X, y = make_regression_data(n_samples=80)
    model = Estimator(solver="sgd", optimizer=rule, average=True, random_state=0)
    model.partial_fit(X[:40], y[:40])
    copy = pickle.loads(pickle.dumps(model))
    model.partial_fit(X[40:], y[40:])
    copy.partial_fit(X[40:], y[40:])
    np.testing.assert_array_equal(copy.coef_, model.coef_)
    assert copy.intercept_ == model.intercept_


@pytest.mark.parametrize("rule", ["momentum", "nesterov"])
def test_momentum_restarts_when_the_objective_rises(rule):
    """Under 'auto', an epoch whose objective rose zeroes the velocity."""
    X, y = make_regression_data(n_samples=50, n_features=3)
    model = GDRegressor(solver="batch", optimizer=rule, momentum=0.95, random_state=0)
    model.partial_fit(X, y)  # builds the 'auto' state
    state = model._state
    settings = model._settings(len(y))
    assert settings.restart
    rises = 0
    for _ in range(60):
        run_epochs(X, y, np.ones(len(y)), state, settings, 1, stop_early=False)
        if state.loss_curve[-1] > state.loss_curve[-2]:
            rises += 1
            assert not state.rule_state[FIRST].any()
    assert rises > 0
    assert state.loss_curve[-1] < 1e-3 * state.loss_curve[0]


@pytest.mark.parametrize("rule", ["momentum", "nesterov"])
@pytest.mark.parametrize("solver", SOLVERS)
def test_auto_step_with_momentum_never_lets_the_objective_rise_above_its_start(rule, solver):
    X, y = make_regression_data(n_samples=300, n_features=5, intercept=200.0)
    X = X + 100.0  # features around 100, intercept near 200
    model = GDRegressor(solver=solver, optimizer=rule, momentum=0.99, random_state=0).fit(X, y)
    # loss_curve_ holds J after each epoch; J at the start (w = 0, b = mean(y)) is var(y) / 2
    assert max(model.loss_curve_) <= 0.5 * np.var(y)
    assert model.best_loss_ == pytest.approx(0.5 * np.mean((model.predict(X) - y) ** 2)
                                             + 0.5 * model.alpha * model.coef_ @ model.coef_, rel=1e-9)
    coef, intercept = lstsq_fit(X, y)
    assert model.score(X, y) > r2(y, X @ coef + intercept) - 1e-3


def test_settings_for_each_rule():
    model = GDRegressor(optimizer="adam", beta_1=0.8, beta_2=0.9, stability_epsilon=1e-6, average=50, batch_size=8)
    settings = model._settings(100)
    assert settings.rule == (RULE_CODES["adam"], 0.9, 0.8, 0.9, 1e-6)
    assert settings.average_from == 7  # 50 rows seen after 7 updates of 8
    assert not settings.restart
    assert GDRegressor(optimizer="nesterov")._settings(100).restart
    assert not GDRegressor(optimizer="nesterov", learning_rate="constant")._settings(100).restart
    assert isinstance(settings, Settings)


@pytest.mark.parametrize("params, message", [
    (dict(optimizer="sgd"), "optimizer"),
    (dict(momentum=1.0), "momentum"),
    (dict(beta_1=-0.1), "beta_1"),
    (dict(beta_2=1.0), "beta_2"),
    (dict(stability_epsilon=0.0), "stability_epsilon"),
    (dict(average=-1), "average"),
])
def test_invalid_rule_parameters_are_rejected(params, message):
    X, y = make_regression_data()
    with pytest.raises(ValueError, match=message):
        GDRegressor(**params).fit(X, y)


def test_averaging_gets_sgd_past_its_noise_floor():
    """A constant step leaves SGD bouncing around the optimum; its average settles (Polyak-Ruppert)."""
    X, y = make_regression_data(n_samples=500, n_features=5, noise=3.0)
    params = dict(solver="sgd", penalty=None, learning_rate="constant", eta0=0.05, max_iter=20,
                  random_state=0, tol=None)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        plain = GDRegressor(**params).fit(X, y)
        averaged = GDRegressor(average=len(y), **params).fit(X, y)
    best = np.linalg.lstsq(np.c_[X, np.ones(len(y))], y, rcond=None)[0]
    error = lambda m: np.linalg.norm(np.append(m.coef_, m.intercept_) - best)
    assert error(averaged) < 0.3 * error(plain)


def test_momentum_and_nesterov_accelerate_an_ill_conditioned_problem():
    """Condition number 1e3, the same step 1/L: Nesterov and momentum need a fraction of plain's epochs.

    (benchmarks/bench_update_rules.py measures kappa = 1e4 with momentum 0.98.)
    """
    kappa, momentum = 1e3, 0.94  # about (sqrt(kappa) - 1) / (sqrt(kappa) + 1)
    rng = np.random.default_rng(0)
    U, _ = np.linalg.qr(rng.standard_normal((200, 20)))
    V, _ = np.linalg.qr(rng.standard_normal((20, 20)))
    X = np.sqrt(200) * (U * np.sqrt(np.logspace(-np.log10(kappa), 0, 20))) @ V.T
    y = X @ rng.standard_normal(20) + 0.1 * rng.standard_normal(200)
    optimum = 0.5 * np.mean((X @ np.linalg.lstsq(X, y, rcond=None)[0] - y) ** 2)
    epochs = {}
    for rule in ("plain", "momentum", "nesterov"):
        model = GDRegressor(solver="batch", optimizer=rule, momentum=momentum, learning_rate="constant",
                            eta0=1.0, penalty=None, fit_intercept=False, tol=None, max_iter=5000)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            curve = np.array(model.fit(X, y).loss_curve_)
        gap = (curve - optimum) / (curve[0] - optimum)
        epochs[rule] = np.flatnonzero(gap <= 1e-6)[0]
    assert epochs["momentum"] * 5 < epochs["plain"]
    assert epochs["nesterov"] * 8 < epochs["plain"]
