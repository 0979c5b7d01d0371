"""Dask arrays: fits on blocks equal the in-memory fits of the same rows, on a 2-worker LocalCluster."""

import gc
import time

import numpy as np
import pytest

da = pytest.importorskip("dask.array")
distributed = pytest.importorskip("distributed")

import dask  # noqa: E402

from skgd import GDPolynomialRegressor, GDRegressor  # noqa: E402
from skgd import _dask  # noqa: E402
from skgd._dask import epoch_order, validation_rows  # noqa: E402
from skgd._rows import weighted_median  # noqa: E402

ESTIMATORS = [GDRegressor, GDPolynomialRegressor]


@pytest.fixture(scope="module", autouse=True)
def client():
    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False,
                                       dashboard_address=None)
    with distributed.Client(cluster) as client:
        yield client
    cluster.close()


@pytest.fixture(scope="module")
def data():
    rng = np.random.RandomState(0)
    X = rng.normal(size=(600, 3)) * [1.0, 10.0, 0.1] + [0.0, 5.0, 1.0]
    y = X @ [1.0, -0.2, 3.0] + 2.0 + 0.3 * rng.normal(size=600)
    weights = rng.uniform(0.2, 2.0, size=600)
    return X, y, weights


class BlockOrder(np.random.RandomState):
    """A random state whose epoch permutations are a dask fit's order over blocks of ``lengths`` rows.

    Every draw comes from one plain stream, as in the dask fit.
    """

    def __init__(self, seed, lengths):
        super().__init__(seed)
        self.plain, self.lengths = np.random.RandomState(seed), lengths

    def permutation(self, x):
        if isinstance(x, (int, np.integer)) and x == sum(self.lengths):
            return epoch_order(self.plain, self.lengths)
        return self.plain.permutation(x)

    def randint(self, *args, **kwargs):
        return self.plain.randint(*args, **kwargs)


def _fitted(estimator, X, y, weights):
    estimator.fit(X, y, sample_weight=weights)
    return estimator.coef_.copy(), estimator.intercept_, list(estimator.loss_curve_)


def _split_as_on_blocks(monkeypatch, lengths):
    """Make in-memory fits hold out the rows a dask fit over blocks of ``lengths`` rows holds out."""
    monkeypatch.setattr(GDRegressor, "_split_validation",
                        lambda self, X, weights, rng: validation_rows(rng, lengths, self.validation_fraction))


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize("Estimator", ESTIMATORS)
@pytest.mark.parametrize("chunks", [600, 100, (37, 2)])
@pytest.mark.parametrize("loss", ["squared_error", "huber"])
def test_batch_equals_in_memory(data, Estimator, chunks, loss):
    X, y, weights = data
    estimator = Estimator(solver="batch", loss=loss, random_state=0, max_iter=30)
    expected = _fitted(estimator, X, y, weights)
    row_chunks = chunks[0] if isinstance(chunks, tuple) else chunks
    got = _fitted(estimator, da.from_array(X, chunks=chunks), da.from_array(y, chunks=row_chunks + 1),
                  da.from_array(weights, chunks=row_chunks))
    np.testing.assert_allclose(got[0], expected[0], rtol=1e-10, atol=1e-10)
    assert got[1] == pytest.approx(expected[1], rel=1e-10, abs=1e-10)
    np.testing.assert_allclose(got[2], expected[2], rtol=1e-10)


@pytest.mark.parametrize("Estimator", ESTIMATORS)
@pytest.mark.parametrize("solver, batch_size, chunks", [("sgd", 1, 130), ("minibatch", 20, 100)])
@pytest.mark.parametrize("learning_rate", ["auto", "invscaling"])
def test_stochastic_equals_in_memory_in_the_block_order(data, Estimator, solver, batch_size, chunks, learning_rate):
    X, y, weights = data
    Xd = da.from_array(X, chunks=chunks)
    params = dict(solver=solver, batch_size=batch_size, learning_rate=learning_rate, eta0=1e-3, max_iter=8,
                  tol=None)
    dask_fit = _fitted(Estimator(random_state=np.random.RandomState(3), **params), Xd,
                       da.from_array(y, chunks=chunks), da.from_array(weights, chunks=chunks))
    in_memory = _fitted(Estimator(random_state=BlockOrder(3, Xd.chunks[0]), **params), X, y, weights)
    np.testing.assert_allclose(dask_fit[0], in_memory[0], rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(dask_fit[2], in_memory[2], rtol=1e-10)
    # and a plain shuffle is another order
    shuffled = _fitted(Estimator(random_state=3, **params), X, y, weights)
    assert not np.allclose(shuffled[0], dask_fit[0], rtol=1e-10, atol=0)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize("Estimator", ESTIMATORS)
@pytest.mark.parametrize("loss", ["squared_error", "huber"])
def test_batch_early_stopping_equals_in_memory_of_the_same_split(data, monkeypatch, Estimator, loss):
    X, y, weights = data
    params = dict(solver="batch", loss=loss, early_stopping=True, validation_fraction=0.2, n_iter_no_change=3,
                  max_iter=40, random_state=0)
    on_blocks = Estimator(**params).fit(da.from_array(X, chunks=90), da.from_array(y, chunks=90),
                                        sample_weight=da.from_array(weights, chunks=90))
    _split_as_on_blocks(monkeypatch, da.from_array(X, chunks=90).chunks[0])
    in_memory = Estimator(**params).fit(X, y, sample_weight=weights)
    np.testing.assert_allclose(on_blocks.coef_, in_memory.coef_, rtol=1e-10, atol=1e-10)
    assert on_blocks.intercept_ == pytest.approx(in_memory.intercept_, rel=1e-10, abs=1e-10)
    np.testing.assert_allclose(on_blocks.validation_scores_, in_memory.validation_scores_, rtol=1e-10)
    assert on_blocks.best_validation_score_ == pytest.approx(in_memory.best_validation_score_, rel=1e-10)
    assert on_blocks.n_iter_ == in_memory.n_iter_
    np.testing.assert_allclose(on_blocks.loss_curve_, in_memory.loss_curve_, rtol=1e-10)


@pytest.mark.parametrize("solver, batch_size", [("sgd", 1), ("minibatch", 20)])
@pytest.mark.parametrize("learning_rate", ["auto", "invscaling"])
def test_stochastic_early_stopping_equals_in_memory_in_the_block_order(data, monkeypatch, solver, batch_size,
                                                                       learning_rate):
    X, y, weights = data
    Xd = da.from_array(X, chunks=100)  # 80 training rows a block: whole batches
    params = dict(solver=solver, batch_size=batch_size, learning_rate=learning_rate, eta0=1e-3, max_iter=12,
                  early_stopping=True, validation_fraction=0.2, n_iter_no_change=2)
    on_blocks = GDRegressor(random_state=np.random.RandomState(3), **params).fit(
        Xd, da.from_array(y, chunks=100), sample_weight=da.from_array(weights, chunks=100))
    _split_as_on_blocks(monkeypatch, Xd.chunks[0])
    in_memory = GDRegressor(random_state=BlockOrder(3, [80] * 6), **params).fit(X, y, sample_weight=weights)
    np.testing.assert_allclose(on_blocks.coef_, in_memory.coef_, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(on_blocks.validation_scores_, in_memory.validation_scores_, rtol=1e-10)
    assert on_blocks.n_iter_ == in_memory.n_iter_


def test_validation_split_holds_out_a_share_of_each_block():
    train, test = validation_rows(np.random.RandomState(0), (50, 30, 20), 0.1)
    assert test.size == 10 and np.array_equal(np.sort(np.concatenate([train, test])), np.arange(100))
    assert np.array_equal(np.bincount(np.searchsorted([50, 80], test, side="right")), [5, 3, 2])


@pytest.mark.parametrize("pivots", [4, 1024])
@pytest.mark.parametrize("chunks", [7, 100, 333])
def test_weighted_median_on_blocks_equals_in_memory(monkeypatch, pivots, chunks):
    monkeypatch.setattr(_dask, "MEDIAN_PIVOTS", pivots)  # few: several rounds of narrowing
    rng = np.random.RandomState(chunks)
    for y, weights in [
        (np.round(rng.standard_cauchy(1000), 1), rng.uniform(0.0, 2.0, 1000)),  # ties, heavy tails
        (np.repeat([3.0, 1.0, 2.0, 5.0], 250), np.ones(1000)),  # the median on a boundary of the weights
        (rng.normal(size=1000), np.where(rng.uniform(size=1000) < 0.9, 0.0, 1.0)),  # most weights zero
        (np.full(1000, 7.0), np.ones(1000)),
    ]:
        blocks = _dask.Blocks(da.zeros((1000, 1), chunks=chunks), da.from_array(y, chunks=chunks),
                              da.from_array(weights, chunks=chunks))
        assert blocks.weighted_median() == weighted_median(y, weights)


def test_one_task_per_worker_gives_the_threaded_fit_bit_for_bit(data):
    X, y, weights = data
    params = dict(solver="batch", loss="huber", random_state=0, max_iter=10, tol=None)
    arrays = da.from_array(X, chunks=70), da.from_array(y, chunks=70), da.from_array(weights, chunks=70)
    on_workers = GDRegressor(**params).fit(*arrays[:2], sample_weight=arrays[2])
    with dask.config.set(scheduler="threads"):
        threaded = GDRegressor(**params).fit(*arrays[:2], sample_weight=arrays[2])
    assert np.array_equal(on_workers.coef_, threaded.coef_)
    assert on_workers.loss_curve_ == threaded.loss_curve_


def _rows_of(block):
    return block.X, block.y, block.sample_weight


def test_blocks_held_by_one_worker_are_balanced_over_the_workers(client, data):
    X, y, weights = data
    first, second = sorted(client.nthreads())
    # new keys (name=False), held nowhere yet: X on one worker, y and the weights on the other
    arrays = [client.persist(da.from_array(X, chunks=70, name=False), workers=[first]),
              *client.persist([da.from_array(y, chunks=70, name=False), da.from_array(weights, chunks=70, name=False)],
                              workers=[second])]
    distributed.wait(arrays)
    assert {tuple(held) for held in client.who_has(arrays[0]).values()} == {(first,)}
    blocks = _dask.Blocks(*arrays)
    runs_on = {b: worker for worker, shares, *_ in blocks.placement for share in shares for b in share}
    assert sorted(runs_on) == list(range(9)) and set(runs_on.values()) == {first, second}
    assert [runs_on[b] for b in range(9)].count(first) == 5  # its share (4.5 blocks), then the rest moved
    for worker, shares, actor, _ in blocks.placement:  # each worker's actor holds the parts of its blocks
        assert actor._address == worker
        held = actor.run(_rows_of, blocks.features, None, dict.fromkeys(runs_on), (), True).result()
        assert len(held) == len(shares)
        for share, parts in zip(shares, held):
            for b, (X_block, y_block, w_block) in zip(share, parts):
                rows = slice(70 * b, 70 * (b + 1))
                assert np.array_equal(X_block, X[rows]) and np.array_equal(w_block, weights[rows])
    params = dict(solver="batch", random_state=0, max_iter=5, tol=None)
    moved = GDRegressor(**params).fit(*arrays[:2], sample_weight=arrays[2])
    # placed where the scheduler puts them: the same sums, added in block order
    placed = GDRegressor(**params).fit(da.from_array(X, chunks=70), da.from_array(y, chunks=70),
                                       sample_weight=da.from_array(weights, chunks=70))
    assert np.array_equal(moved.coef_, placed.coef_) and moved.loss_curve_ == placed.loss_curve_


def test_threads_of_one_worker_run_their_shares_in_parallel(data):
    X, y, weights = data
    params = dict(solver="batch", loss="huber", random_state=0, max_iter=10, tol=None)
    arrays = da.from_array(X, chunks=70), da.from_array(y, chunks=70), da.from_array(weights, chunks=70)
    with dask.config.set(scheduler="threads"):
        threaded = GDRegressor(**params).fit(*arrays[:2], sample_weight=arrays[2])
    with distributed.LocalCluster(n_workers=1, threads_per_worker=2, processes=False, dashboard_address=None) as cluster:
        with distributed.Client(cluster, set_as_default=False) as client, client.as_current():  # (not the default)
            persisted = client.persist(list(arrays))
            (_, shares, *_), = _dask.Blocks(*persisted).placement
            assert shares == [[0, 1, 2, 3, 4], [5, 6, 7, 8]]  # one share per thread
            on_threads = GDRegressor(**params).fit(*persisted[:2], sample_weight=persisted[2])
    assert np.array_equal(on_threads.coef_, threaded.coef_)
    assert on_threads.loss_curve_ == threaded.loss_curve_


def _n_actors(dask_worker):
    return len(dask_worker.state.actors)


def _actors_left(client):
    """The actors on the workers, once those of the rows objects no longer held are gone (a few ms)."""
    gc.collect()
    for _ in range(200):  # released by the client, then by the scheduler and the workers
        if not sum(client.run(_n_actors).values()):
            break
        time.sleep(0.05)
    return sum(client.run(_n_actors).values())


def test_the_actors_of_a_fit_go_with_it(client, data):
    X, y, _ = data
    assert _actors_left(client) == 0  # those of the earlier tests' fits went too
    arrays = client.persist([da.from_array(X, chunks=70), da.from_array(y, chunks=70)])
    blocks = _dask.Blocks(*arrays, da.ones(600, chunks=70).persist())
    assert sum(client.run(_n_actors).values()) == 2  # one per worker
    fitted = GDRegressor(solver="batch", max_iter=3, tol=None).fit(*arrays)
    del blocks
    assert _actors_left(client) == 0
    assert fitted.n_iter_ == 3


def test_balanced_placement():
    lengths = [10] * 8
    assert _dask.balanced(["a"] * 7 + ["b"], lengths, {"a": 1, "b": 1}) == ["a"] * 4 + ["b"] * 4
    assert _dask.balanced(["a", "b"] * 4, lengths, {"a": 1, "b": 1}) == ["a", "b"] * 4  # nothing moves
    assert _dask.balanced(["b"] * 8, lengths, {"a": 3, "b": 1}) == ["b"] * 2 + ["a"] * 6  # by threads
    assert _dask.balanced([None, "a", "a", "a"], [10, 10, 10, 30], {"a": 1, "b": 1}) == [None, "a", "a", "b"]
    assert _dask.balanced(["a", "a", "b"], [10, 12, 20], {"a": 1, "b": 1}) == ["a", "a", "b"]  # within half a block


def test_epoch_order_visits_blocks_whole():
    order = epoch_order(np.random.RandomState(0), (3, 4, 2))
    assert sorted(order) == list(range(9))
    blocks = np.searchsorted([3, 7], order, side="right")
    assert (np.diff(blocks) != 0).sum() == 2  # each block's rows together


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_predict_and_score(data, Estimator):
    X, y, weights = data
    estimator = Estimator(solver="batch", random_state=0).fit(X, y)
    Xd = da.from_array(X, chunks=(70, 1))
    predictions = estimator.predict(Xd)
    assert isinstance(predictions, da.Array)
    np.testing.assert_allclose(predictions.compute(), estimator.predict(X), rtol=1e-13, atol=1e-12)
    assert estimator.score(Xd, da.from_array(y, chunks=50), da.from_array(weights, chunks=90)) == pytest.approx(
        estimator.score(X, y, weights), rel=1e-12)


def test_partial_fit_and_store_path(data):
    X, y, _ = data
    params = dict(solver="sgd", shuffle=False, random_state=0, store_path="step")
    in_memory, on_blocks = GDRegressor(**params), GDRegressor(**params)
    Xd, yd = da.from_array(X, chunks=150), da.from_array(y, chunks=150)
    for _ in range(2):
        in_memory.partial_fit(X, y)
        on_blocks.partial_fit(Xd, yd)
    np.testing.assert_allclose(on_blocks.coef_path_, in_memory.coef_path_, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(on_blocks.loss_curve_, in_memory.loss_curve_, rtol=1e-10)


def test_store_path_step_with_batches_cut_by_the_blocks(data):
    X, y, _ = data
    params = dict(solver="minibatch", batch_size=20, store_path="step", max_iter=2, tol=None,
                  learning_rate="invscaling", eta0=1e-3)
    on_blocks = GDRegressor(random_state=np.random.RandomState(0), **params).fit(da.from_array(X, chunks=130),
                                                                               da.from_array(y, chunks=130))
    in_memory = GDRegressor(random_state=0, **params).fit(X, y)
    assert on_blocks.t_ == 2 * (4 * 7 + 4)  # a short last batch in each block
    assert in_memory.t_ == 2 * 30  # the batches run across the blocks: the same rows, other batches
    # the starting point, then one point per update
    assert on_blocks.coef_path_.shape == (1 + on_blocks.t_, 3) and in_memory.coef_path_.shape == (1 + 2 * 30, 3)
    np.testing.assert_allclose(on_blocks.coef_path_[-1], on_blocks.coef_, rtol=1e-12)


def test_threaded_scheduler(data):
    X, y, _ = data
    expected = GDRegressor(solver="batch", random_state=0).fit(X, y).coef_
    with dask.config.set(scheduler="threads"):
        got = GDRegressor(solver="batch", random_state=0).fit(da.from_array(X, chunks=100), da.from_array(y, 100))
    np.testing.assert_allclose(got.coef_, expected, rtol=1e-10)


def test_bad_input():
    X = da.from_array(np.array([[1.0, np.nan], [2.0, 3.0]]), chunks=1)
    with pytest.raises(ValueError, match="NaN"):
        GDRegressor().fit(X, da.ones(2, chunks=1))
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        GDRegressor().fit(da.ones((3, 2), chunks=1), da.ones(2, chunks=1))
    with pytest.raises(ValueError, match="led to an empty set"):
        GDRegressor(early_stopping=True).fit(da.ones((1, 2), chunks=1), da.ones(1, chunks=1))
    with pytest.raises(ValueError, match="validation set are all zero"):  # the first block holds out its row
        GDRegressor(early_stopping=True, validation_fraction=0.5).fit(
            da.ones((2, 2), chunks=1), da.ones(2, chunks=1), sample_weight=da.from_array([0.0, 1.0], chunks=1))
    fitted = GDRegressor(max_iter=2, tol=None).fit(np.ones((4, 2)), np.arange(4.0))
    with pytest.raises(ValueError, match="features"):
        fitted.predict(da.ones((3, 3), chunks=1))


def test_incremental(data):
    wrappers = pytest.importorskip("dask_ml.wrappers")
    X, y, _ = data
    model = wrappers.Incremental(GDRegressor(solver="minibatch", random_state=0), shuffle_blocks=False)
    model.fit(da.from_array(X, chunks=200), da.from_array(y, chunks=200))
    assert model.score(da.from_array(X, chunks=200), da.from_array(y, chunks=200)) > 0.9


def test_grid_search_on_the_dask_backend(data):
    import joblib
    from sklearn.model_selection import GridSearchCV

    X, y, _ = data
    search = GridSearchCV(GDRegressor(random_state=0), {"solver": ["batch", "sgd"]}, cv=2)
    with joblib.parallel_backend("dask"):
        search.fit(X, y)
    assert search.best_score_ > 0.9


def test_auto_statistics_on_a_sample_of_rows():
    # more rows than 'auto' estimates its preconditioner on: the same rows are drawn and gathered
    rng = np.random.RandomState(1)
    X = rng.normal(size=(30_000, 2)) * [1.0, 50.0]
    y = X @ [2.0, 0.1] + rng.normal(size=30_000)
    params = dict(solver="batch", max_iter=5, tol=None, random_state=0)
    expected = GDRegressor(**params).fit(X, y)
    got = GDRegressor(**params).fit(da.from_array(X, chunks=7_000), da.from_array(y, chunks=7_000))
    np.testing.assert_allclose(got.coef_, expected.coef_, rtol=1e-10)
    np.testing.assert_allclose(got.loss_curve_, expected.loss_curve_, rtol=1e-10)


# --------------------------------------------------------------------------- a 2-D y: several targets


@pytest.fixture(scope="module")
def targets(data):
    X, y, weights = data
    rng = np.random.RandomState(1)
    return np.column_stack([y, 100.0 * (X @ [0.5, 0.1, -1.0]) - 7.0 + rng.normal(size=600), np.abs(y)])


def _fitted_targets(estimator, X, Y, **fit_params):
    estimator.fit(X, Y, **fit_params)
    return estimator


def _assert_same_targets(got, expected):
    assert got.coef_.shape == expected.coef_.shape and got.intercept_.shape == expected.intercept_.shape
    np.testing.assert_allclose(got.coef_, expected.coef_, rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(got.intercept_, expected.intercept_, rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(got.loss_curve_, expected.loss_curve_, rtol=1e-10)
    assert (got.n_iter_, got.t_) == (expected.n_iter_, expected.t_)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize("Estimator, loss, penalty, learning_rate, chunks", [
    (GDRegressor, "squared_error", "l2", "auto", (37, 2)),
    (GDRegressor, "huber", "elasticnet", "auto", 600),
    (GDRegressor, "absolute_error", "l1", "auto", 100),
    (GDRegressor, "squared_epsilon_insensitive", "l2", "adaptive", 90),
    (GDPolynomialRegressor, "epsilon_insensitive", None, "auto", 100),
])
def test_targets_batch_equals_in_memory(data, targets, Estimator, loss, penalty, learning_rate, chunks):
    X, _, weights = data
    params = dict(solver="batch", loss=loss, penalty=penalty, l1_ratio=0.5, learning_rate=learning_rate,
                  eta0=1e-3, random_state=0, max_iter=25)
    expected = _fitted_targets(Estimator(**params), X, targets, sample_weight=weights)
    row_chunks = chunks[0] if isinstance(chunks, tuple) else chunks
    got = _fitted_targets(Estimator(**params), da.from_array(X, chunks=chunks),
                          da.from_array(targets, chunks=(row_chunks + 1, 2)),
                          sample_weight=da.from_array(weights, chunks=row_chunks))
    _assert_same_targets(got, expected)
    Xd = da.from_array(X, chunks=70)
    predictions = got.predict(Xd)
    assert isinstance(predictions, da.Array) and predictions.shape == (600, 3)
    np.testing.assert_allclose(predictions.compute(), got.predict(X), rtol=1e-13, atol=1e-12)
    assert got.score(Xd, da.from_array(targets, chunks=50), da.from_array(weights, chunks=90)) == pytest.approx(
        got.score(X, targets, weights), rel=1e-12)


@pytest.mark.parametrize("Estimator, solver, batch_size, learning_rate, store_path", [
    (GDRegressor, "sgd", 1, "auto", None),
    (GDRegressor, "sgd", 1, "invscaling", "step"),
    (GDRegressor, "minibatch", 20, "auto", "epoch"),
    (GDPolynomialRegressor, "minibatch", 20, "invscaling", None),
])
def test_targets_stochastic_equal_in_memory_in_the_block_order(data, targets, Estimator, solver, batch_size,
                                                               learning_rate, store_path):
    X, _, weights = data
    params = dict(solver=solver, batch_size=batch_size, learning_rate=learning_rate, eta0=1e-4, max_iter=6, tol=None,
                  optimizer="adam" if solver == "minibatch" else "plain", store_path=store_path)
    Xd = da.from_array(X, chunks=100)
    got = _fitted_targets(Estimator(random_state=np.random.RandomState(3), **params), Xd,
                          da.from_array(targets, chunks=100), sample_weight=da.from_array(weights, chunks=100))
    expected = _fitted_targets(Estimator(random_state=BlockOrder(3, Xd.chunks[0]), **params), X, targets,
                               sample_weight=weights)
    _assert_same_targets(got, expected)
    if store_path is not None:
        assert got.coef_path_.shape == expected.coef_path_.shape
        np.testing.assert_allclose(got.coef_path_, expected.coef_path_, rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("solver", ["batch", "minibatch"])
def test_targets_early_stopping_equals_in_memory_of_the_same_split(data, targets, monkeypatch, solver):
    X, _, weights = data
    params = dict(solver=solver, batch_size=20, early_stopping=True, validation_fraction=0.2, n_iter_no_change=2,
                  max_iter=40)
    Xd = da.from_array(X, chunks=100)  # 80 training rows a block: whole batches
    got = _fitted_targets(GDRegressor(random_state=np.random.RandomState(0), **params), Xd,
                          da.from_array(targets, chunks=100), sample_weight=da.from_array(weights, chunks=100))
    _split_as_on_blocks(monkeypatch, Xd.chunks[0])
    expected = _fitted_targets(GDRegressor(random_state=BlockOrder(0, [80] * 6), **params), X, targets,
                               sample_weight=weights)
    _assert_same_targets(got, expected)
    np.testing.assert_allclose(got.validation_scores_, expected.validation_scores_, rtol=1e-10)
    assert got.n_iter_ < 40 and got.best_validation_score_ > 0.5


def test_targets_partial_fit_and_one_column(data, targets):
    X, y, _ = data
    params = dict(solver="minibatch", batch_size=25, shuffle=False, random_state=0)
    in_memory, on_blocks = GDRegressor(**params), GDRegressor(**params)
    Xd, Yd = da.from_array(X, chunks=150), da.from_array(targets, chunks=150)
    for _ in range(2):
        in_memory.partial_fit(X, targets)
        on_blocks.partial_fit(Xd, Yd)
    _assert_same_targets(on_blocks, in_memory)
    with pytest.raises(ValueError, match="same number of targets"):
        on_blocks.partial_fit(Xd, da.from_array(y, chunks=150))
    # a y of one column: Ridge's shapes, and the fit of its 1-D y
    one = GDRegressor(solver="batch", random_state=0).fit(Xd, Yd[:, :1])
    assert one.coef_.shape == (1, 3) and one.intercept_.shape == (1,) and one.predict(Xd).shape == (600, 1)
    np.testing.assert_allclose(one.coef_[0], GDRegressor(solver="batch", random_state=0).fit(X, y).coef_,
                               rtol=1e-10)
