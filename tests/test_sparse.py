"""Sparse X: the same rows in the same order give the same model as dense X (issue 14, must show 2).

Every solver x loss x penalty x update rule, under a fixed schedule (no
preconditioner) and under ``'auto'``, with averaging, early stopping, a
recorded path and ``partial_fit`` streams of sparse chunks; to 1e-10.

Under ``'auto'`` the dense fit must take the diagonal preconditioner that is
the only one sparse data gets (more than 256 columns), and its curvature
must be the exact eigenvalue (at most 256 rows), as it is for dense data of
that size. Full-batch adaptive rules are left out there: on such
rank-deficient data they amplify rounding differences (see
``test_common``).
"""

import tracemalloc
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.exceptions import ConvergenceWarning

from skgd import GDPolynomialRegressor, GDRegressor
from skgd._update_rules import RULE_CODES

from _shared import LOSSES, SOLVERS

PENALTIES = (None, "l2", "l1", "elasticnet")
TOLERANCE = 1e-10


def _data(n_samples=40, n_features=6, density=0.4, seed=0):
    rng = np.random.RandomState(seed)
    X = rng.standard_normal((n_samples, n_features)) * (rng.rand(n_samples, n_features) < density)
    y = X @ rng.standard_normal(n_features) + 0.5 + 0.1 * rng.standard_normal(n_samples)
    return X, y


def _assert_same_model(dense, sparse):
    assert sparse.n_iter_ == dense.n_iter_ and sparse.t_ == dense.t_
    # to 1e-10 of the model's scale (coefficients of 1e4 round at 1e-12)
    scale = max(1.0, np.abs(dense.coef_).max(), abs(dense.intercept_))
    np.testing.assert_allclose(sparse.coef_, dense.coef_, rtol=0, atol=TOLERANCE * scale)
    assert abs(sparse.intercept_ - dense.intercept_) <= TOLERANCE * scale
    np.testing.assert_allclose(sparse.loss_curve_, dense.loss_curve_, rtol=TOLERANCE)


def _fit_both(X, y, **params):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        dense = GDRegressor(random_state=0, **params).fit(X, y)
        sparse = GDRegressor(random_state=0, **params).fit(sp.csr_matrix(X), y)
    return dense, sparse


FIXED_CASES = [
    (solver, loss, penalty, rule)
    for solver in SOLVERS for loss in LOSSES for penalty in PENALTIES for rule in RULE_CODES
]


@pytest.mark.parametrize("solver, loss, penalty, rule", FIXED_CASES)
def test_sparse_equals_dense_fixed_schedule(solver, loss, penalty, rule):
    X, y = _data()
    dense, sparse = _fit_both(X, y, solver=solver, loss=loss, penalty=penalty, optimizer=rule, alpha=0.01,
                              learning_rate="invscaling", eta0=0.01, batch_size=7, max_iter=6)
    _assert_same_model(dense, sparse)


AUTO_CASES = [
    (solver, penalty, rule)
    for solver in SOLVERS for penalty in PENALTIES for rule in RULE_CODES
    if not (solver == "batch" and rule in ("adagrad", "rmsprop", "adam"))
]


@pytest.mark.parametrize("solver, penalty, rule", AUTO_CASES)
def test_sparse_equals_dense_auto(solver, penalty, rule):
    X, y = _data(n_samples=50, n_features=260, density=0.05)
    dense, sparse = _fit_both(X, y, solver=solver, penalty=penalty, optimizer=rule, alpha=0.01, batch_size=7,
                              max_iter=8)
    _assert_same_model(dense, sparse)


@pytest.mark.parametrize("loss", ["huber", "absolute_error"])
def test_sparse_equals_dense_auto_robust_losses(loss):
    X, y = _data(n_samples=50, n_features=260, density=0.05)
    _assert_same_model(*_fit_both(X, y, loss=loss, batch_size=7, max_iter=8))


@pytest.mark.parametrize("solver", SOLVERS)
@pytest.mark.parametrize("learning_rate", ["constant", "auto"])
@pytest.mark.parametrize("extra", [
    {"average": True}, {"average": 20}, {"early_stopping": True, "validation_fraction": 0.2},
    {"store_path": "step"}, {"store_path": "epoch"}, {"shuffle": False},
])
def test_sparse_equals_dense_options(solver, learning_rate, extra):
    X, y = _data(n_samples=50, n_features=260, density=0.05) if learning_rate == "auto" else _data()
    dense, sparse = _fit_both(X, y, solver=solver, learning_rate=learning_rate, eta0=0.01, batch_size=7,
                              max_iter=6, **extra)
    _assert_same_model(dense, sparse)
    if "store_path" in extra:
        np.testing.assert_allclose(sparse.coef_path_, dense.coef_path_, rtol=0, atol=TOLERANCE)
        np.testing.assert_allclose(sparse.intercept_path_, dense.intercept_path_, rtol=0, atol=TOLERANCE)
    if "early_stopping" in extra:
        np.testing.assert_allclose(sparse.validation_scores_, dense.validation_scores_, rtol=TOLERANCE)


@pytest.mark.parametrize("solver", SOLVERS)
@pytest.mark.parametrize("learning_rate", ["constant", "auto"])
def test_partial_fit_stream_of_sparse_chunks(solver, learning_rate):
    X, y = _data(n_samples=90, n_features=260, density=0.05) if learning_rate == "auto" else _data(90)
    params = dict(solver=solver, learning_rate=learning_rate, eta0=0.01, batch_size=7, random_state=0)
    dense, sparse = GDRegressor(**params), GDRegressor(**params)
    X_sparse = sp.csr_matrix(X)
    for chunk in np.array_split(np.arange(X.shape[0]), 3):
        dense.partial_fit(X[chunk], y[chunk])
        sparse.partial_fit(X_sparse[chunk], y[chunk])
    _assert_same_model(dense, sparse)


@pytest.mark.parametrize("format", ["csr_matrix", "csc_matrix", "csr_array", "csc_array", "coo_matrix", "lil_array"])
def test_every_sparse_format_fits_predicts_and_scores(format):
    X, y = _data()
    X_sparse = getattr(sp, format)(X)
    model = GDRegressor(random_state=0).fit(X_sparse, y)
    reference = GDRegressor(random_state=0).fit(sp.csr_matrix(X), y)
    np.testing.assert_array_equal(model.coef_, reference.coef_)
    np.testing.assert_allclose(model.predict(X_sparse), model.predict(X), rtol=0, atol=1e-12)
    assert model.score(X_sparse, y) == pytest.approx(model.score(X, y), abs=1e-12)
    assert model.score(X_sparse, y) > 0.9


def test_float32_sparse_input():
    X, y = _data()
    params = dict(learning_rate="invscaling", random_state=0, max_iter=5)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model = GDRegressor(**params).fit(sp.csr_matrix(X.astype(np.float32)), y)
        reference = GDRegressor(**params).fit(X.astype(np.float32), y)
    np.testing.assert_allclose(model.coef_, reference.coef_, rtol=0, atol=1e-10)


def test_x_is_not_densified_or_copied():
    """The kernels read the caller's CSR arrays themselves."""
    X, y = _data(200, 50, density=0.1)
    X_sparse = sp.csr_matrix(X)
    model = GDRegressor(solver="sgd", learning_rate="constant", eta0=0.01, max_iter=3, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(X_sparse, y)
    data, indices, indptr = model._state.features.design(X_sparse).arrays
    assert np.shares_memory(data, X_sparse.data)
    # the indices as unsigned views (see _arrays.index_array), not copies
    for view, array in ((indices, X_sparse.indices), (indptr, X_sparse.indptr)):
        assert np.shares_memory(view, array) and view.dtype.kind == "u" and not view.flags.writeable
        np.testing.assert_array_equal(view, array)


@pytest.mark.parametrize("solver", SOLVERS)
@pytest.mark.parametrize("learning_rate, penalty", [("invscaling", "l2"), ("invscaling", "elasticnet"),
                                                    ("auto", "l2")])
@pytest.mark.parametrize("n_targets", [1, 2])
def test_int64_indices_give_the_model_of_int32_indices(solver, learning_rate, penalty, n_targets):
    """CSR with int64 indices (as SciPy makes for more than 2**31 non-zeros) read as uint64: the same model, bit for bit."""
    X, y = _data(60, 8, density=0.3)
    y = y if n_targets == 1 else np.column_stack([y, -2.0 * y])
    X32 = sp.csr_matrix(X)
    X64 = X32.copy()  # (the constructor would take int32 indices again)
    X64.indices, X64.indptr = X32.indices.astype(np.int64), X32.indptr.astype(np.int64)
    assert X32.indices.dtype == np.int32 and X64.indices.dtype == np.int64
    params = dict(solver=solver, learning_rate=learning_rate, penalty=penalty, alpha=0.01, batch_size=7,
                  max_iter=4, tol=None, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        narrow, wide = GDRegressor(**params).fit(X32, y), GDRegressor(**params).fit(X64, y)
    np.testing.assert_array_equal(wide.coef_, narrow.coef_)
    np.testing.assert_array_equal(wide.intercept_, narrow.intercept_)
    np.testing.assert_array_equal(wide.predict(X64), narrow.predict(X32))


@pytest.mark.parametrize("penalty", ["l1", "elasticnet"])
@pytest.mark.parametrize("batch_size", [1, 4])
@pytest.mark.parametrize("learning_rate", ["constant", "invscaling"])
def test_lazy_prox_matches_eager_prox(penalty, batch_size, learning_rate):
    """O(nnz) plain steps with the L2 scale and a lazy L1 prox equal the eager prox at every update."""
    X, y = _data(30, 8, density=0.3)
    alpha, eta0, l1_ratio = 0.5, 0.02, 0.15 if penalty == "elasticnet" else 1.0
    l1, l2 = alpha * l1_ratio, alpha * (1 - l1_ratio)
    solver = "sgd" if batch_size == 1 else "minibatch"
    model = GDRegressor(solver=solver, batch_size=batch_size, penalty=penalty, alpha=alpha,
                        learning_rate=learning_rate, eta0=eta0, shuffle=False, max_iter=3, tol=None)
    model.fit(sp.csr_matrix(X), y)
    w, b, t = np.zeros(X.shape[1]), 0.0, 0
    for _ in range(3):
        for start in range(0, X.shape[0], batch_size):
            rows = slice(start, start + batch_size)
            t += 1
            eta = eta0 if learning_rate == "constant" else eta0 / t**0.25
            r = X[rows] @ w + b - y[rows]
            w = w - eta * (X[rows].T @ r / len(r) + l2 * w)
            w = np.sign(w) * np.maximum(np.abs(w) - eta * l1, 0.0)
            b -= eta * r.mean()
    np.testing.assert_allclose(model.coef_, w, rtol=0, atol=1e-12)
    assert model.intercept_ == pytest.approx(b, abs=1e-12)
    assert np.any(model.coef_ == 0.0)


def test_polynomial_on_sparse_input_expands_to_csr():
    X, y = _data(60, 3, density=0.5)
    dense = GDPolynomialRegressor(degree=2, random_state=0).fit(X, y)
    sparse = GDPolynomialRegressor(degree=2, random_state=0).fit(sp.csr_matrix(X), y)
    # centring a sparse expansion would densify it: its path differs from the dense one's, not its optimum
    np.testing.assert_allclose(sparse.predict(sp.csr_matrix(X)), sparse.predict(X), rtol=0, atol=1e-10)
    assert sparse.score(X, y) == pytest.approx(dense.score(X, y), abs=1e-3)


@pytest.fixture(scope="module")
def wide_sparse():
    rng = np.random.RandomState(0)
    n_rows, n_columns, per_row = 20_000, 2_000, 40
    indices = rng.randint(0, n_columns, n_rows * per_row)
    X = sp.csr_matrix((rng.rand(n_rows * per_row), indices, np.arange(0, n_rows * per_row + 1, per_row)),
                      shape=(n_rows, n_columns))
    X.sum_duplicates()
    return X, X @ rng.standard_normal(n_columns)


@pytest.mark.parametrize("solver", SOLVERS)
@pytest.mark.parametrize("learning_rate", ["auto", "invscaling"])
def test_fit_on_sparse_x_allocates_less_than_x(wide_sparse, solver, learning_rate):
    """A fit allocates neither a dense nor a second sparse copy of X (issue 14: at most 1.5 times X's bytes)."""
    X, y = wide_sparse
    x_bytes = X.data.nbytes + X.indices.nbytes + X.indptr.nbytes
    model = GDRegressor(solver=solver, learning_rate=learning_rate, max_iter=2, tol=None, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(X[:500], y[:500])  # compile outside the measurement
        tracemalloc.start()
        try:
            model.fit(X, y)
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
    assert peak < 1.5 * x_bytes


def test_polynomial_stream_mixing_dense_and_sparse_chunks():
    X, y = _data(60, 3, density=0.5)
    sparse_first = GDPolynomialRegressor(random_state=0).partial_fit(sp.csr_matrix(X[:30]), y[:30])
    sparse_first.partial_fit(X[30:], y[30:])  # monomials not centred: dense chunks take them as they are
    assert np.all(np.isfinite(sparse_first.coef_))
    dense_first = GDPolynomialRegressor(random_state=0).partial_fit(X[:30], y[:30])
    with pytest.raises(ValueError, match="centres its monomials"):
        dense_first.partial_fit(sp.csr_matrix(X[30:]), y[30:])


def _rows_of(n_rows, n_columns, per_row, seed=0):
    """A CSR matrix with ``per_row`` distinct non-zeros in each row."""
    rng = np.random.RandomState(seed)
    columns = (rng.randint(0, n_columns // per_row, n_rows)[:, None] * per_row + np.arange(per_row)).ravel()
    X = sp.csr_matrix((rng.rand(n_rows * per_row), columns, np.arange(0, n_rows * per_row + 1, per_row)),
                      shape=(n_rows, n_columns))
    return X, X @ rng.standard_normal(n_columns)


@pytest.mark.parametrize(
    "n_rows, n_columns, per_row, expected",
    [
        (32_000, 2_000, 4, 500),  # n_features / non-zeros per row
        (12_800, 2_000, 4, 400),  # at most 1/32 of the rows
        (3_200, 2_000, 4, 200),  # at least 200
        (32_000, 400, 4, 200),
    ],
)
def test_auto_batch_size_of_sparse_x_makes_a_step_cost_no_more_than_its_rows(n_rows, n_columns, per_row, expected):
    """Under 'auto' (a diagonal P: O(n_features) steps), the batch's non-zeros reach n_features (bounded)."""
    X, y = _rows_of(n_rows, n_columns, per_row)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        default = GDRegressor(max_iter=1, tol=None, random_state=0).fit(X, y)
        fixed = GDRegressor(learning_rate="constant", eta0=0.01, max_iter=1, tol=None, random_state=0).fit(X, y)
        dense = GDRegressor(max_iter=1, tol=None, random_state=0).fit(X[:3_000].toarray(), y[:3_000])
    assert default.t_ == -(-n_rows // expected)
    assert fixed.t_ == -(-n_rows // 200)  # eta0 is a step per update: the usual 200 rows
    assert dense.t_ == -(-3_000 // 200)
