"""Multi-output regression: a 2-D ``y`` is ``k`` independent problems sharing ``X``, trained on one read of the rows.

The specification: a fit to ``k`` columns equals ``k`` fits to one column
each (same parameters, random_state and row order), whatever the solver,
schedule, rule and option; the published shapes are those of ``Ridge``; the
whole objective is the sum over targets.
"""

import re

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.datasets import load_linnerud
from sklearn.linear_model import LinearRegression
from sklearn.metrics import r2_score

from skgd import GDPolynomialRegressor, GDRegressor
from skgd._kernels import minibatch_epoch_reference
from skgd._losses import LOSS_CODES, loss_tuple
from skgd._rows import training_rows
from skgd._sparse import SparseRows
from skgd._target_kernels import sparse_targets_minibatch_epoch, targets_minibatch_epoch
from skgd._update_rules import RULE_CODES, new_state, rule_tuple

from _shared import SOLVERS

N_TARGETS = 3
# fits with a few epochs, on purpose
pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


def _data(n_samples=120, n_features=4, seed=0):
    rng = np.random.RandomState(seed)
    X = rng.normal(size=(n_samples, n_features)) * np.resize([1.0, 3.0, 0.5, 10.0], n_features) + 2.0
    Y = X @ rng.normal(size=(n_features, N_TARGETS)) + rng.normal(size=(n_samples, N_TARGETS))
    Y[:, 1] *= 50.0  # a badly scaled target: its own step
    Y[:, 2] = 3.0 * X[:, 0] - 7.0 + 0.01 * rng.normal(size=n_samples)  # an almost exact one
    return X, Y


def _separate(estimator, X, Y, **fit_params):
    return [estimator.__class__(**estimator.get_params()).fit(X, Y[:, target], **fit_params)
            for target in range(Y.shape[1])]


def _assert_equals_separate(model, separate, tol=1e-10):
    coef = np.array([fit.coef_ for fit in separate])
    intercept = np.array([fit.intercept_ for fit in separate])
    scale = max(np.abs(coef).max(), np.abs(intercept).max(), 1.0)
    np.testing.assert_allclose(model.coef_, coef, rtol=0, atol=tol * scale)
    np.testing.assert_allclose(model.intercept_, intercept, rtol=0, atol=tol * scale)
    assert model.n_iter_ == max(fit.n_iter_ for fit in separate)


# Under 'auto', full-batch momentum restarts when an epoch's objective rose,
# and the adaptive rules divide each coordinate's gradient by its own running
# size: at convergence both act on rounding-level differences, which the one
# pass over the rows for all targets (four rows and two to four models at a
# time) and a pass for one target (block_sums' own order) round differently.
# The fits then agree to about 1e-6 (relative), and reach the same objective.
DECIDING_RULES = ("momentum", "nesterov", "adagrad", "rmsprop", "adam")
FIXED = dict(learning_rate="invscaling", eta0=1e-4, max_iter=30, tol=1e-4)


@pytest.mark.parametrize("solver", SOLVERS)
@pytest.mark.parametrize("params", [
    FIXED,
    dict(learning_rate="constant", eta0=1e-4, max_iter=20, tol=None, penalty="elasticnet", alpha=0.01),
    dict(learning_rate="adaptive", eta0=1e-3, max_iter=40),
    dict(learning_rate="auto"),
    dict(learning_rate="auto", penalty="l1", alpha=0.1),
    dict(learning_rate="auto", loss="huber", epsilon=1.0),
    dict(learning_rate="auto", optimizer="nesterov"),
    dict(learning_rate="auto", optimizer="adam"),
    dict(learning_rate="constant", eta0=1e-3, optimizer="adam", max_iter=10, tol=None),
    dict(learning_rate="auto", average=True),
    dict(learning_rate="auto", early_stopping=True),
    dict(learning_rate="auto", store_path="epoch"),
], ids=lambda params: "-".join(f"{k}={v}" for k, v in params.items()))
def test_a_fit_to_k_targets_equals_k_separate_fits(solver, params):
    X, Y = _data()
    model = GDRegressor(solver=solver, batch_size=16, random_state=0, **params)
    model.fit(X, Y)
    separate = _separate(model, X, Y)
    if solver == "batch" and params.get("optimizer") in DECIDING_RULES and params["learning_rate"] == "auto":
        # the same accuracy: the objective each target reaches, to rounding
        np.testing.assert_allclose(model.best_loss_, sum(fit.best_loss_ for fit in separate), rtol=1e-9)
        _assert_equals_separate(model, separate, tol=1e-5)
    else:
        _assert_equals_separate(model, separate)


@pytest.mark.parametrize("solver", SOLVERS)
def test_sample_weights_warm_start_and_polynomial_equal_separate_fits(solver):
    X, Y = _data()
    weights = np.random.RandomState(1).uniform(0.1, 2.0, size=X.shape[0])
    model = GDRegressor(solver=solver, batch_size=16, random_state=0).fit(X, Y, sample_weight=weights)
    _assert_equals_separate(model, _separate(model, X, Y, sample_weight=weights))
    # a warm start continues each target from its own solution and rule state
    model = GDRegressor(solver=solver, batch_size=16, random_state=0, optimizer="momentum",
                        learning_rate="constant", eta0=1e-4, max_iter=3, tol=None).fit(X, Y)
    separate = _separate(model, X, Y)
    model.set_params(warm_start=True).fit(X, Y)
    _assert_equals_separate(model, [fit.set_params(warm_start=True).fit(X, Y[:, t]) for t, fit in enumerate(separate)])
    polynomial = GDPolynomialRegressor(degree=2, solver=solver, batch_size=16, random_state=0).fit(X[:, :2], Y)
    _assert_equals_separate(polynomial, _separate(polynomial, X[:, :2], Y))
    assert polynomial.predict(X[:, :2]).shape == (X.shape[0], N_TARGETS)


@pytest.mark.parametrize("solver", SOLVERS)
def test_partial_fit_on_k_targets_equals_separate_streams(solver):
    X, Y = _data()
    model = GDRegressor(solver=solver, batch_size=16, random_state=0)
    streams = [GDRegressor(**model.get_params()) for _ in range(N_TARGETS)]
    for chunk in np.array_split(np.arange(X.shape[0]), 3):
        model.partial_fit(X[chunk], Y[chunk])
        for target, stream in enumerate(streams):
            stream.partial_fit(X[chunk], Y[chunk, target])
    _assert_equals_separate(model, streams)
    with pytest.raises(ValueError, match="same number of targets"):
        model.partial_fit(X, Y[:, 0])
    with pytest.raises(ValueError, match="same number of targets"):
        model.partial_fit(X, Y[:, :2])


def test_shapes_are_those_of_ridge():
    X, Y = _data()
    model = GDRegressor(random_state=0, store_path="epoch").fit(X, Y)
    assert model.coef_.shape == (N_TARGETS, X.shape[1])
    assert model.intercept_.shape == (N_TARGETS,)
    assert model.predict(X).shape == (X.shape[0], N_TARGETS)
    assert model.coef_path_.shape == (len(model.intercept_path_), N_TARGETS, X.shape[1])
    assert model.intercept_path_.shape == (len(model.intercept_path_), N_TARGETS)
    np.testing.assert_allclose(model.predict(X), X @ model.coef_.T + model.intercept_)
    column = GDRegressor(random_state=0).fit(X, Y[:, :1])
    assert column.coef_.shape == (1, X.shape[1]) and column.intercept_.shape == (1,)
    assert column.predict(X).shape == (X.shape[0], 1)
    flat = GDRegressor(random_state=0).fit(X, Y[:, 0])
    assert flat.coef_.shape == (X.shape[1],) and isinstance(flat.intercept_, float)
    np.testing.assert_array_equal(column.coef_[0], flat.coef_)
    float32 = GDRegressor(random_state=0).fit(X.astype(np.float32), Y)
    assert float32.coef_.dtype == float32.intercept_.dtype == np.float32


def test_the_whole_objective_is_the_sum_over_targets():
    X, Y = _data()
    model = GDRegressor(solver="minibatch", batch_size=16, random_state=0, early_stopping=True).fit(X, Y)
    separate = _separate(model, X, Y)
    curves = [fit.loss_curve_ + fit.loss_curve_[-1:] * (model.n_iter_ - fit.n_iter_) for fit in separate]
    np.testing.assert_allclose(model.loss_curve_, np.sum(curves, axis=0), rtol=1e-10)
    assert model.best_loss_ == pytest.approx(sum(fit.best_loss_ for fit in separate), rel=1e-10)
    scores = [fit.validation_scores_ + fit.validation_scores_[-1:] * (model.n_iter_ - fit.n_iter_)
              for fit in separate]
    np.testing.assert_allclose(model.validation_scores_, np.mean(scores, axis=0), rtol=1e-10)


def test_coef_init_and_intercept_init_per_target():
    X, Y = _data()
    coef_init = np.arange(N_TARGETS * X.shape[1], dtype=float).reshape(N_TARGETS, -1) / 10
    intercept_init = np.array([1.0, -2.0, 3.0])
    model = GDRegressor(learning_rate="constant", eta0=1e-4, max_iter=2, tol=None, random_state=0)
    model.fit(X, Y, coef_init=coef_init, intercept_init=intercept_init)
    separate = [GDRegressor(**model.get_params()).fit(X, Y[:, t], coef_init=coef_init[t],
                                                      intercept_init=intercept_init[t]) for t in range(N_TARGETS)]
    _assert_equals_separate(model, separate)
    with pytest.raises(ValueError, match="coef_init has shape"):
        model.fit(X, Y, coef_init=coef_init[:, :2])
    with pytest.raises(ValueError, match="intercept_init has shape"):
        model.fit(X, Y, intercept_init=intercept_init[:2])


# On linnerud's 20 rows the default sgd fit stopped with target 1 (situps)
# 1.05e-3 of R² short of least squares (so did the fit to that column alone),
# until the judge followed the trend of the running mean (issue 14's follow-up).
@pytest.mark.parametrize("solver", ["batch", "minibatch", "sgd"])
def test_linnerud_every_solver_reaches_least_squares_per_target(solver):
    X, Y = load_linnerud(return_X_y=True)
    exact = LinearRegression().fit(X, Y).predict(X)
    model = GDRegressor(solver=solver, penalty=None, random_state=0).fit(X, Y)
    predicted = model.predict(X)
    for target in range(Y.shape[1]):
        assert r2_score(Y[:, target], predicted[:, target]) == pytest.approx(
            r2_score(Y[:, target], exact[:, target]), abs=1e-3)


@pytest.mark.parametrize("batch_size", [1, 5, 40])
@pytest.mark.parametrize("rule", ["plain", "adam"])
@pytest.mark.parametrize("sparse", [False, True], ids=["dense", "sparse"])
def test_kernel_equals_the_single_target_reference_per_target(batch_size, rule, sparse):
    X, Y = _sparse_data() if sparse else _data()
    X, Y = X[:40], Y[:40]
    rng = np.random.RandomState(3)
    order = rng.permutation(X.shape[0])
    weights = rng.uniform(0.5, 1.5, size=X.shape[0])
    n_features = X.shape[1]
    preconditioner = (X.mean(axis=0), 1.0 / X.var(axis=0), np.zeros((0, 0)), 1.0 / X.std(axis=0), np.zeros((0, 0)))
    rule_tuple_ = rule_tuple(RULE_CODES[rule], 0.9, 0.9, 0.999, 1e-8)
    # the loss of its own type, as the fits pass it (see TargetPasses): the kernel compiled for huber alone
    loss, penalty = loss_tuple("huber", 1.0), (0.001, 0.01)
    schedule, etas = (0, 0.0, 0.25, 0.01, 0.0), np.array([1e-3, 2e-3, 5e-4])
    targets = np.array([2, 0, 1])
    coefs, intercepts = rng.normal(size=(3, n_features)), rng.normal(size=3)
    rule_states = np.array([new_state(n_features + 1) for _ in targets])
    expected = []
    for a, target in enumerate(targets):
        coef, state = coefs[a].copy(), rule_states[a].copy()
        result = minibatch_epoch_reference(
            X, Y[:, target].copy(), weights, order, batch_size, coef, intercepts[a], True, loss, penalty,
            (schedule[0], etas[a], *schedule[2:]), preconditioner, 4, rule_tuple_, state, 4, 6,
        )
        expected.append((coef, state, result))
    paths = np.empty((-(-X.shape[0] // batch_size), 3, n_features + 1))
    epoch = targets_minibatch_epoch
    if sparse:
        epoch, X = sparse_targets_minibatch_epoch, SparseRows(sp.csr_matrix(X)).arrays
    sums, t, count = epoch(
        X, Y, weights, order, batch_size, coefs, intercepts, targets, True, loss, penalty, schedule, etas,
        preconditioner, 4, rule_tuple_, rule_states, 4, np.full(3, 6), paths,
    )
    for a, (coef, state, (loss_sum, intercept, t_expected, count_expected)) in enumerate(expected):
        np.testing.assert_allclose(coefs[a], coef, rtol=1e-10)
        np.testing.assert_allclose(rule_states[a], state, rtol=1e-10, atol=1e-12)  # the average too
        assert intercepts[a] == pytest.approx(intercept, rel=1e-10)
        assert sums[a] == pytest.approx(loss_sum, rel=1e-10)
        np.testing.assert_allclose(paths[-1, a], np.append(coef, intercept), rtol=1e-10)
    assert (t, count) == (t_expected, count_expected)


@pytest.mark.parametrize("rows", [None, np.array([0, 3, 4, 9, 30, 77])], ids=["all", "some"])
def test_each_target_rows_know_the_scale_of_their_column_alone(rows):
    X, Y = _data()
    weights = np.random.RandomState(1).uniform(0.5, 1.5, size=X.shape[0])
    for target, column in enumerate(training_rows(X, Y, weights, rows).targets()):
        alone = training_rows(X, Y[:, target].copy(), weights, rows)
        assert column.target_scale() == pytest.approx(alone.target_scale(), rel=1e-12)
        assert column.head(5).y.flags.c_contiguous
        np.testing.assert_array_equal(column.head(5).y, alone.head(5).y)


@pytest.mark.parametrize("robust", [False, True], ids=["mean", "median"])
@pytest.mark.parametrize("rows", [None, np.array([0, 3, 4, 9, 30, 77])], ids=["all", "some"])
def test_the_statistics_of_every_target_are_those_of_each_column_alone(robust, rows):
    X, Y = _data()
    weights = np.random.RandomState(1).uniform(0.5, 1.5, size=X.shape[0])
    together = training_rows(X, Y, weights, rows).target_statistics(robust)
    for target, statistics in enumerate(together):
        alone = training_rows(X, Y[:, target].copy(), weights, rows).target_statistics(robust)
        np.testing.assert_allclose(statistics, alone, rtol=1e-12)


@pytest.mark.parametrize("columns", [slice(0, 2), 1], ids=["2-D", "1-D"])
def test_strided_targets_fit_as_their_copy_and_bad_values_are_named(columns):
    X, Y = _data()
    wide = np.repeat(Y, 2, axis=1)[:, ::2]  # the columns of a wider array: strided
    model = GDRegressor(solver="batch", max_iter=5, tol=None).fit(X, wide[:, columns])
    copied = GDRegressor(solver="batch", max_iter=5, tol=None).fit(X, wide[:, columns].copy())
    np.testing.assert_array_equal(model.coef_, copied.coef_)
    for value, name in ((np.nan, "NaN"), (np.inf, "infinity")):
        bad = np.repeat(Y, 2, axis=1)[:, ::2]
        bad[4, 1] = value
        with pytest.raises(ValueError, match=f"Input y contains {name}"):
            GDRegressor().fit(X, bad[:, columns])


@pytest.mark.parametrize("solver", SOLVERS)
def test_verbose_prints_one_line_per_epoch_for_the_whole_model(solver, capsys):
    X, Y = _data()
    model = GDRegressor(solver=solver, verbose=1, random_state=0).fit(X, Y)
    lines = capsys.readouterr().out.splitlines()
    epoch_line = re.compile(r"^-- Epoch (\d+): objective (\S+), step (\S+)( to \S+)?, updates (\d+), "
                            r"time \d+\.\d{3} s, targets running (\d+) of 3$")
    epochs = [epoch_line.match(line) for line in lines[:-1]]
    assert all(epochs) and len(epochs) == model.n_iter_
    assert [int(m.group(1)) for m in epochs] == list(range(1, model.n_iter_ + 1))
    assert [float(m.group(2)) for m in epochs] == pytest.approx(model.loss_curve_, rel=1e-5)  # the whole objective
    assert int(epochs[-1].group(5)) == model.t_
    assert int(epochs[0].group(6)) == 3
    assert lines[-1].startswith(f"Convergence after {model.n_iter_} epochs took ")


def test_verbose_two_gives_each_targets_events(capsys):
    X, Y = _data(n_samples=300)
    model = GDRegressor(solver="minibatch", optimizer="nesterov", momentum=0.99, verbose=2,
                        random_state=0).fit(X + 100.0, Y)
    out = capsys.readouterr().out
    assert out.count("-- Epoch") == model.n_iter_
    assert out.count("   norm ") == model.n_iter_
    assert re.search(r"   target \d: objective rose: velocity restarted", out)
    assert re.search(r"   target \d: stalled for 5 epochs: step divided by 5", out)


@pytest.mark.parametrize("solver", SOLVERS)
def test_the_fit_does_not_depend_on_the_thread_count(solver, monkeypatch):
    """The passes over rows sum fixed blocks in order, each block's rows in a fixed order."""
    from threadpoolctl import threadpool_limits

    from skgd import _parallel

    X, Y = _data(n_samples=6000, n_features=50)  # enough values for the parallel pass
    fits = []
    for threads in (1, 2):
        monkeypatch.setattr(_parallel, "n_threads", lambda threads=threads: threads)
        with threadpool_limits(threads):
            fits.append(GDRegressor(solver=solver, batch_size=1000, max_iter=5, random_state=0).fit(X, Y))
    np.testing.assert_array_equal(fits[0].coef_, fits[1].coef_)
    assert fits[0].loss_curve_ == fits[1].loss_curve_


def test_a_sparsified_multi_output_model_predicts_and_warm_starts():
    X, Y = _data()
    model = GDRegressor(learning_rate="constant", eta0=1e-4, max_iter=3, tol=None, random_state=0).fit(X, Y)
    dense = model.predict(X)
    model.sparsify()
    np.testing.assert_allclose(model.predict(X), dense, rtol=1e-12)
    model.set_params(warm_start=True).fit(X, Y)
    assert model.coef_.shape == (N_TARGETS, X.shape[1])


def _sparse_data():
    X, Y = _data()
    X[np.random.RandomState(2).uniform(size=X.shape) < 0.5] = 0.0
    return X, Y


SPARSE_CASES = [
    dict(learning_rate="invscaling", eta0=1e-4, max_iter=10, tol=None),
    dict(learning_rate="constant", eta0=1e-4, max_iter=8, tol=None, penalty="elasticnet", alpha=0.01),
    dict(learning_rate="constant", eta0=1e-3, max_iter=5, tol=None, penalty="l1", alpha=0.1, average=True),
    dict(learning_rate="adaptive", eta0=1e-3, max_iter=20),
    dict(learning_rate="auto"),
    dict(learning_rate="auto", penalty="l1", alpha=0.1),
    dict(learning_rate="auto", average=True),
    dict(learning_rate="auto", early_stopping=True),
]


@pytest.mark.parametrize("solver", SOLVERS)
@pytest.mark.parametrize("params", SPARSE_CASES, ids=lambda params: "-".join(f"{k}={v}" for k, v in params.items()))
def test_sparse_X_with_k_targets_equals_separate_sparse_fits_and_the_dense_fit(solver, params):
    X, Y = _sparse_data()
    model = GDRegressor(solver=solver, batch_size=16, random_state=0, **params).fit(sp.csr_matrix(X), Y)
    _assert_equals_separate(model, _separate(model, sp.csr_matrix(X), Y))
    if params["learning_rate"] != "auto":  # (under 'auto', sparse X gets a preconditioner of its own)
        dense = GDRegressor(**model.get_params()).fit(X, Y)
        _assert_equals_separate(model, [_Fit(coef, intercept, dense.n_iter_)
                                        for coef, intercept in zip(dense.coef_, dense.intercept_)])


class _Fit:
    def __init__(self, coef, intercept, n_iter):
        self.coef_, self.intercept_, self.n_iter_ = coef, intercept, n_iter


@pytest.mark.parametrize("option", [dict(loss=loss) for loss in LOSS_CODES if loss != "squared_error"]
                         + [dict(optimizer=rule) for rule in RULE_CODES if rule != "plain"],
                         ids=lambda option: next(iter(option.values())))
def test_sparse_X_with_k_targets_takes_every_loss_and_rule(option):
    X, Y = _sparse_data()
    weights = np.random.RandomState(1).uniform(0.1, 2.0, size=X.shape[0])
    model = GDRegressor(solver="minibatch", batch_size=16, learning_rate="constant", eta0=1e-3, max_iter=5,
                        tol=None, random_state=0, **option)
    model.fit(sp.csr_matrix(X), Y, sample_weight=weights)
    _assert_equals_separate(model, _separate(model, sp.csr_matrix(X), Y, sample_weight=weights))
    dense = GDRegressor(**model.get_params()).fit(X, Y, sample_weight=weights)
    np.testing.assert_allclose(model.coef_, dense.coef_, rtol=0, atol=1e-10 * max(np.abs(dense.coef_).max(), 1.0))


def test_a_pickled_multi_output_model_predicts_and_continues_alike():
    import pickle

    X, Y = _data()
    model = GDRegressor(random_state=0).fit(X, Y)
    copy = pickle.loads(pickle.dumps(model))
    np.testing.assert_array_equal(copy.predict(X), model.predict(X))
    np.testing.assert_array_equal(copy.partial_fit(X, Y).coef_, model.partial_fit(X, Y).coef_)


@pytest.mark.parametrize("sparse", [False, True])
def test_each_targets_rows_share_the_row_indices(sparse):
    """The indices of all rows are built once, when first asked for, and shared by every target's rows."""
    X, Y = np.arange(20.0).reshape(10, 2), np.ones((10, 3))
    rows = training_rows(SparseRows(sp.csr_matrix(X)) if sparse else X, Y, np.ones(10))
    assert "indices" not in vars(rows)  # not built for a shuffled epoch, which does not read it
    targets = [rows.target(column) for column in range(3)]
    assert all(target.indices is rows.indices for target in targets)
    np.testing.assert_array_equal(rows.indices, np.arange(10))
    subset = training_rows(X, Y, np.ones(10), rows=np.array([1, 4, 7]))
    assert subset.target(2).indices is subset.rows
