"""learning_rate='auto' with defaults: every solver reaches the optimum in a few epochs, on real and awkward data.

Each test below reproduces one way the defaults used to fail (issue 13): a
fit that returned its starting point, one-row steps on correlated columns, an
epoch's short last batch, a "best epoch" judged on a noisy measure, and
epochs run after the model had arrived.
"""

import pickle
import warnings

import numpy as np
import pytest
from sklearn.linear_model import LinearRegression, Ridge
from sklearn.preprocessing import PolynomialFeatures

from skgd import GDPolynomialRegressor, GDRegressor
from skgd._preconditioning import _sample
from skgd.plotting import objective_at

from _shared import ESTIMATORS, SOLVERS

sm = pytest.importorskip("statsmodels.api")


def _objective(model, X, y, alpha):
    """skgd's default objective: mean squared error / 2 plus alpha / 2 ||w||^2."""
    residual = model.predict(X) - y
    return 0.5 * residual @ residual / len(y) + 0.5 * alpha * model.coef_ @ model.coef_


def _suboptimality(model, X, y, alpha=1e-4):
    """(J - J*) / J*, with J* from the closed form (Ridge(alpha = n * alpha))."""
    best = Ridge(alpha=alpha * len(y), solver="cholesky").fit(X, y)
    return _objective(model, X, y, alpha) / _objective(best, X, y, alpha) - 1.0


def _least_squares_r2(X, y):
    return LinearRegression().fit(X, y).score(X, y)


def _penalty_heavy(n_samples=20_000, n_features=4):
    """Columns scaled 1e-2 to 10, every one informative: the L2 penalty is most of J*."""
    rng = np.random.default_rng(0)
    scales = np.logspace(-2, 1, n_features)
    X = rng.standard_normal((n_samples, n_features)) * scales
    y = X @ (rng.standard_normal(n_features) / scales) + 3.0 + 0.5 * rng.standard_normal(n_samples)
    return X, y


def _standard_normal(n_samples=200_000, n_features=20):
    rng = np.random.default_rng(1)
    X = rng.standard_normal((n_samples, n_features))
    return X, X @ rng.standard_normal(n_features) + 1.0 + rng.standard_normal(n_samples)


def _three_factors(n_samples=100_000, n_features=40):
    """Columns driven by three shared factors plus noise, offset by 10: strongly correlated."""
    rng = np.random.default_rng(2)
    factors = rng.standard_normal((n_samples, 3))
    X = factors @ rng.standard_normal((3, n_features)) + 0.3 * rng.standard_normal((n_samples, n_features)) + 10.0
    return X, X @ rng.standard_normal(n_features) + rng.standard_normal(n_samples)


def _star98():
    data = sm.datasets.star98.load()
    return np.asarray(data.exog, dtype=float), np.asarray(data.endog, dtype=float)[:, 0]


def _numeric(name):
    data = getattr(sm.datasets, name).load_pandas()
    return data.exog.select_dtypes("number").to_numpy(float), data.endog.to_numpy(float)


@pytest.mark.parametrize("solver", ["minibatch", "sgd"])
def test_a_fit_never_returns_its_starting_point(solver):
    """Finding 1: the penalty is most of J*, and the start's along-pass objective looked best."""
    X, y = _penalty_heavy()
    model = GDRegressor(solver=solver, random_state=0).fit(X, y)
    assert np.all(model.coef_ != 0.0)
    assert _suboptimality(model, X, y) < 1e-4


@pytest.mark.parametrize("seed", range(3))
def test_sgd_reaches_least_squares_on_correlated_columns(seed):
    """Finding 2: star98's 20 correlated columns (one-row steps once had only a diagonal preconditioner)."""
    X, y = _star98()
    model = GDRegressor(solver="sgd", penalty=None, random_state=seed).fit(X, y)
    assert model.score(X, y) > _least_squares_r2(X, y) - 1e-3


@pytest.mark.parametrize("name", ["longley", "committee", "copper"])
@pytest.mark.parametrize("solver", SOLVERS)
def test_polynomial_reaches_least_squares_on_real_data(name, solver):
    """Finding 2: five or six raw columns give 20 or 27 correlated monomials."""
    X, y = _numeric(name)
    monomials = PolynomialFeatures(2, include_bias=False).fit_transform(X)
    centred = monomials - monomials.mean(axis=0)
    coef = np.linalg.lstsq(centred / centred.std(axis=0), y - y.mean(), rcond=None)[0]
    residual = centred / centred.std(axis=0) @ coef - (y - y.mean())
    best = 1.0 - residual @ residual / np.sum((y - y.mean()) ** 2)
    model = GDPolynomialRegressor(degree=2, solver=solver, penalty=None, random_state=0).fit(X, y)
    assert model.score(X, y) > best - 1e-3


def test_a_short_last_batch_takes_a_step_sized_for_its_rows():
    """Finding 3: 201 rows in batches of 200 leave one row, which used to take a 200-row step."""
    rng = np.random.default_rng(5)
    X = rng.standard_normal((201, 40))
    y = X @ rng.standard_normal(40) + rng.standard_normal(201)
    model = GDRegressor(penalty=None, random_state=0).fit(X, y)
    assert model.score(X, y) > _least_squares_r2(X, y) - 1e-6


def test_engel_with_defaults():
    """Finding 3 on real data: engel's 235 rows leave a batch of 35."""
    data = sm.datasets.engel.load_pandas().data
    X, y = data[["income"]].to_numpy(), data["foodexp"].to_numpy()
    model = GDRegressor(penalty=None, random_state=0).fit(X, y)
    assert model.score(X, y) > _least_squares_r2(X, y) - 1e-5


@pytest.mark.parametrize(
    "X, y",
    [
        (np.array([-1.0, -0.0, 0.6, -1.7, -1.4, -1.0, 1.0, 1.1, 0.3, 0.4, -0.6, -1.2, 0.5, 0.8, -0.1])[:, None],
         np.array([-3.0, 0.3, 0.7, -2.5, -0.6, 0.4, 1.8, 1.2, -0.3, 0.9, -1.9, -0.4, 1.3, 0.9, 0.9])),
        tuple(sm.datasets.nile.load_pandas().data[c].to_numpy(float).reshape(-1, 1) if c == "year"
              else sm.datasets.nile.load_pandas().data[c].to_numpy(float) for c in ("year", "volume")),
    ],
    ids=["fifteen_points", "nile"],
)
def test_the_returned_model_is_judged_on_its_exact_objective(X, y):
    """Finding 4: a lucky along-pass average read below J* and sent back an epoch's start."""
    model = GDRegressor(solver="sgd", penalty=None, random_state=0).fit(X, y)
    assert model.score(X, y) > _least_squares_r2(X, y) - 1e-4
    assert model.best_loss_ == pytest.approx(_objective(model, X, y, 0.0), rel=1e-9)


@pytest.mark.parametrize("solver", SOLVERS)
@pytest.mark.parametrize("data", [_standard_normal, _penalty_heavy, _three_factors],
                         ids=["standard_normal", "penalty_heavy", "three_factors"])
def test_defaults_reach_the_optimum_in_a_few_epochs(data, solver):
    """Finding 5 and the defaults' promise: (J - J*) / J* <= 1e-4 within a handful of epochs."""
    X, y = data() if data is not _penalty_heavy else data(200_000, 20)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model = GDRegressor(solver=solver, random_state=0).fit(X, y)
    assert _suboptimality(model, X, y) <= 1e-4
    assert model.n_iter_ <= 8


@pytest.mark.parametrize("solver", ["minibatch", "sgd"])
def test_the_first_epoch_at_a_step_offers_its_mean_though_the_mean_starts_afresh(solver):
    """The mean of the first epoch at a step restarts after it (a burn-in), yet may be that epoch's model."""
    rng = np.random.RandomState(0)
    X = rng.standard_normal((2000, 5))
    y = X @ rng.standard_normal(5) + rng.standard_normal(2000)  # noisy: the last iterate jitters
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = GDRegressor(solver=solver, max_iter=1, store_path="epoch", random_state=0).fit(X, y)
    points = np.array([np.append(model.coef_, model.intercept_),
                       np.append(model.coef_path_[-1], model.intercept_path_[-1])])
    returned, iterate = objective_at(model, X, y, np.ones(len(y)), list(range(points.shape[1])), points)
    assert returned < iterate  # the mean
    assert model.best_loss_ == pytest.approx(returned, rel=1e-9)


@pytest.mark.parametrize("Estimator", ESTIMATORS)
@pytest.mark.parametrize("solver", ["minibatch", "sgd"])
def test_the_model_is_never_worse_than_the_last_iterate(Estimator, solver):
    X, y = _star98()
    X = X[:, :5]
    model = Estimator(solver=solver, store_path="epoch", penalty=None, random_state=0).fit(X, y)
    points = np.array([np.append(model.coef_, model.intercept_),
                       np.append(model.coef_path_[-1], model.intercept_path_[-1])])
    returned, last = objective_at(model, X, y, np.ones(len(y)), list(range(points.shape[1])), points)
    assert returned <= last * (1 + 1e-12)  # equal to rounding: the later model
    assert model.best_loss_ == min(model.loss_curve_) == pytest.approx(returned, rel=1e-9)


def test_a_rotated_design_serves_partial_fit_warm_start_and_pickling():
    """One-row steps on star98's correlated columns descend a rotated design; the model is the raw one."""
    X, y = _star98()
    model = GDRegressor(solver="sgd", penalty=None, random_state=0).fit(X, y)
    assert type(model._state.features).__name__ == "RotatedFeatures"
    np.testing.assert_allclose(model.predict(X), X @ model.coef_ + model.intercept_, rtol=1e-9)
    restored = pickle.loads(pickle.dumps(model))
    np.testing.assert_array_equal(restored.predict(X), model.predict(X))
    before = model.score(X, y)
    for chunk in np.array_split(np.arange(len(y)), 3):
        model.partial_fit(X[chunk], y[chunk])
    assert model.score(X, y) > before - 1e-2
    warm = GDRegressor(solver="sgd", penalty=None, warm_start=True, random_state=0).fit(X, y)
    assert warm.fit(X, y).score(X, y) > _least_squares_r2(X, y) - 1e-3


def test_uncorrelated_columns_need_no_rotated_copy():
    X, y = _standard_normal(2_000, 20)
    model = GDRegressor(solver="sgd", random_state=0).fit(X, y)
    assert type(model._state.features).__name__ == "RawFeatures"


@pytest.mark.parametrize("n, m", [(100, 10), (1_000, 20), (1_000_000, 20_000)])
def test_the_auto_sample_is_uniform_distinct_and_sorted(n, m):
    """The rows 'auto' estimates its statistics on: a uniform m-subset, drawn without permuting all n."""
    rng = np.random.RandomState(0)
    drawn = _sample(rng, n, m)
    assert drawn.shape == (m,) and np.all(np.diff(drawn) > 0) and 0 <= drawn[0] and drawn[-1] < n
    if n <= 1_000:  # each index is drawn with probability m / n
        counts = np.zeros(n)
        for _ in range(2_000):
            counts[_sample(rng, n, m)] += 1
        expected = 2_000 * m / n
        assert np.abs(counts - expected).max() < 6 * np.sqrt(expected)


def test_the_full_batch_step_is_sized_by_the_penalised_curvature():
    """With the full preconditioner, data and penalty curvatures add to 1: one step lands on the ridge optimum."""
    X, y = _penalty_heavy(20_000, 10)
    model = GDRegressor(solver="batch", random_state=0).fit(X, y)
    assert model._state.base_eta == pytest.approx(1.0, rel=1e-6)
    assert model.n_iter_ <= 3 and _suboptimality(model, X, y) < 1e-6


@pytest.mark.parametrize("solver", SOLVERS)
def test_the_starting_model_is_returned_when_it_is_the_best(solver):
    """Diabetes with alpha=50 under L1: the lasso optimum is w = 0, where 'auto' starts, and no step beats it."""
    from sklearn.datasets import load_diabetes

    X, y = load_diabetes(return_X_y=True)
    model = GDRegressor(solver=solver, penalty="l1", alpha=50.0, random_state=0).fit(X, y)
    np.testing.assert_array_equal(model.coef_, 0.0)
    assert model.best_loss_ == pytest.approx(0.5 * np.var(y), rel=1e-12)
    assert model.best_loss_ <= min(model.loss_curve_)


@pytest.mark.parametrize("solver", SOLVERS)
def test_the_fit_does_not_depend_on_the_thread_count(solver, monkeypatch):
    """The measuring passes sum fixed blocks in order; the rotated design is one BLAS product per chunk."""
    from threadpoolctl import threadpool_limits

    from skgd import _parallel

    X, y = _three_factors(20_000, 40)
    fits = []
    for threads in (1, 2):
        monkeypatch.setattr(_parallel, "n_threads", lambda threads=threads: threads)
        with threadpool_limits(threads):
            fits.append(GDRegressor(solver=solver, random_state=0).fit(X, y))
    np.testing.assert_array_equal(fits[0].coef_, fits[1].coef_)
    assert fits[0].loss_curve_ == fits[1].loss_curve_
