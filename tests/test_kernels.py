"""The compiled epoch kernels agree with their NumPy reference."""

import numpy as np
import pytest

from skgd import _kernels, _parallel
from skgd._kernels import BLOCK_ROWS, minibatch_epoch, minibatch_epoch_reference
from skgd._losses import loss_tuple
from skgd._preconditioning import MAX_FULL_FEATURES, Preconditioner
from skgd._schedules import CONSTANT, INVSCALING, OPTIMAL
from skgd._update_rules import PLAIN, RULE_CODES, new_state

from _shared import LOSSES, batch_epoch

N_SAMPLES = 23
SCHEDULES = {
    "constant": (CONSTANT, 0.01, 0.25, 0.1, 0.0),
    "optimal": (OPTIMAL, 0.01, 0.25, 0.5, 20.0),
    "invscaling": (INVSCALING, 0.02, 0.5, 0.1, 0.0),
}
PENALTIES = {"none": (0.0, 0.0), "l2": (0.0, 0.1), "elasticnet": (0.03, 0.07)}
PLAIN_RULE = (PLAIN, 0.9, 0.9, 0.999, 1e-8)


def _rule_args(n_features, t=0, rule=PLAIN_RULE, average_from=0, rule_count=0):
    """The kernels' arguments from ``t`` on, with a fresh rule state."""
    return t, rule, new_state(n_features + 1), rule_count, average_from


def _data(dtype, n_features=4, seed=0):
    rng = np.random.RandomState(seed)
    X = (rng.standard_normal((N_SAMPLES, n_features)) * rng.uniform(0.5, 3.0, n_features)
         + rng.uniform(-2.0, 2.0, n_features)).astype(dtype)
    y = X.astype(np.float64) @ rng.standard_normal(n_features) + rng.standard_normal(N_SAMPLES)
    weights = rng.uniform(0.1, 2.0, N_SAMPLES)
    weights /= weights.mean()
    order = rng.permutation(N_SAMPLES).astype(np.int64)
    coef = 0.3 * rng.standard_normal(n_features)
    return X, y, weights, order, coef


def _preconditioner(kind, X, weights, fit_intercept=True):
    if kind == "identity":
        return Preconditioner.identity(X.shape[1])
    full, _ = Preconditioner.from_data(
        X, weights, fit_intercept, 0.05, N_SAMPLES, np.random.RandomState(0)
    )
    assert full.scale_full.shape == (X.shape[1], X.shape[1])
    if kind == "full":
        return full
    # the diagonal path: same shift and diagonal, no full matrix
    return Preconditioner(full.shift, full.scale_diag, np.empty((0, 0)), np.sqrt(full.scale_diag), np.empty((0, 0)))


def _run_both(X, y, weights, order, batch_size, coef, intercept, fit_intercept, loss, penalty,
              schedule, precond, t=5, rule=PLAIN_RULE, average_from=0, epochs=1):
    """Run ``epochs`` epochs of the kernel and of the reference; the rule state is in ``[3]``."""
    t, rule, state, count, average_from = _rule_args(X.shape[1], t, rule, average_from)
    results = []
    for epoch in (minibatch_epoch, minibatch_epoch_reference):
        coef_run, state_run, out = coef.copy(), state.copy(), (0.0, intercept, t, count)
        for _ in range(epochs):
            out = epoch(
                X, y, weights, order, batch_size, coef_run, out[1], fit_intercept,
                loss, penalty, schedule, precond.arrays(), out[2], rule, state_run, out[3], average_from,
            )
        results += [(*out, state_run), coef_run]
    return results


def _assert_agree(kernel, coef_kernel, reference, coef_reference, coef_start):
    loss_k, intercept_k, t_k, count_k = kernel[:4]
    loss_r, intercept_r, t_r, count_r = reference[:4]
    assert (t_k, count_k) == (t_r, count_r)
    if len(kernel) > 4:  # the rule's state
        np.testing.assert_allclose(kernel[4], reference[4], rtol=1e-10, atol=1e-12)
    assert loss_k == pytest.approx(loss_r, rel=1e-10, abs=1e-12)
    assert intercept_k == pytest.approx(intercept_r, rel=1e-10, abs=1e-10)
    np.testing.assert_allclose(coef_kernel, coef_reference, rtol=1e-10, atol=1e-10)
    # the kernel really updated the coefficients in place
    assert not np.array_equal(coef_kernel, coef_start)


@pytest.mark.parametrize("loss", LOSSES)
@pytest.mark.parametrize("batch_size", [1, 7, N_SAMPLES])
@pytest.mark.parametrize("penalty", PENALTIES)
@pytest.mark.parametrize("schedule", SCHEDULES)
@pytest.mark.parametrize("precond_kind", ["identity", "full", "diagonal"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["float64", "float32"])
def test_kernel_matches_reference(loss, batch_size, penalty, schedule, precond_kind, dtype):
    X, y, weights, order, coef = _data(dtype)
    precond = _preconditioner(precond_kind, X, weights)
    kernel, coef_k, reference, coef_r = _run_both(
        X, y, weights, order, batch_size, coef, 0.7, True, loss_tuple(loss, 0.2),
        PENALTIES[penalty], SCHEDULES[schedule], precond,
    )
    _assert_agree(kernel, coef_k, reference, coef_r, coef)
    n_batches = -(-N_SAMPLES // batch_size)
    assert kernel[2] == 5 + n_batches


@pytest.mark.parametrize("batch_size, precond_kind, kernel", [(1, "diagonal", "_rows_epoch"),
                                                              (7, "full", "_batches_epoch")])
def test_prefetching_changes_no_value(batch_size, precond_kind, kernel, monkeypatch):
    """Data of ``PREFETCH_MIN_BYTES`` or more takes the kernel compiled with its prefetches: the same values."""
    X, y, weights, order, coef = _data(np.float64)
    precond = _preconditioner(precond_kind, X, weights)
    runs = []
    for min_bytes in (X.nbytes + 1, X.nbytes):  # without, then with prefetches
        monkeypatch.setattr(_kernels, "PREFETCH_MIN_BYTES", min_bytes)
        kernel_run, coef_k, reference, coef_r = _run_both(
            X, y, weights, order, batch_size, coef, 0.7, True, loss_tuple("huber", 0.2),
            PENALTIES["elasticnet"], SCHEDULES["optimal"], precond,
        )
        _assert_agree(kernel_run, coef_k, reference, coef_r, coef)
        runs.append((kernel_run[:4], coef_k))
    assert runs[0][0] == runs[1][0]
    np.testing.assert_array_equal(runs[0][1], runs[1][1])
    # the second run took the kernel compiled with ``ahead``, the prefetch distance
    assert any(str(signature[-1]) == "int64" for signature in getattr(_kernels, kernel).signatures)


@pytest.mark.parametrize("loss", LOSSES)
@pytest.mark.parametrize("precond_kind", ["identity", "full"])
def test_kernel_matches_reference_without_intercept(loss, precond_kind):
    X, y, weights, order, coef = _data(np.float64, seed=1)
    precond = _preconditioner(precond_kind, X, weights, fit_intercept=False)
    assert not precond.shift.any()
    kernel, coef_k, reference, coef_r = _run_both(
        X, y, weights, order, 4, coef, 0.7, False, loss_tuple(loss, 0.2),
        PENALTIES["l2"], SCHEDULES["constant"], precond,
    )
    _assert_agree(kernel, coef_k, reference, coef_r, coef)
    assert kernel[1] == reference[1] == 0.7  # the intercept is not touched


@pytest.mark.parametrize("loss", ["squared_error", "huber"])
def test_kernel_matches_reference_with_wide_diagonal_preconditioner(loss):
    """More than MAX_FULL_FEATURES columns: from_data itself builds a diagonal P."""
    rng = np.random.RandomState(2)
    n_features = MAX_FULL_FEATURES + 8
    X = rng.standard_normal((30, n_features)) * rng.uniform(0.1, 10.0, n_features) + 1.0
    y = rng.standard_normal(30)
    weights = np.ones(30)
    precond, _ = Preconditioner.from_data(X, weights, True, 0.01, 30, rng)
    assert precond.scale_full.shape == (0, 0)
    assert precond.scale_diag.shape == (n_features,)
    order = rng.permutation(30).astype(np.int64)
    coef = np.zeros(n_features)
    kernel, coef_k, reference, coef_r = _run_both(
        X, y, weights, order, 7, coef, 0.0, True, loss_tuple(loss, 0.5),
        PENALTIES["elasticnet"], SCHEDULES["invscaling"], precond,
    )
    _assert_agree(kernel, coef_k, reference, coef_r, coef)


def test_kernel_loss_sum_is_weighted_loss_before_update_for_full_batch():
    X, y, weights, order, coef = _data(np.float64, seed=3)
    precond = Preconditioner.identity(X.shape[1])
    coef_k = coef.copy()
    loss_sum, _, t, _ = minibatch_epoch(
        X, y, weights, order, N_SAMPLES, coef_k, 0.7, True, loss_tuple("squared_error", 0.1),
        (0.0, 0.0), SCHEDULES["constant"], precond.arrays(), *_rule_args(X.shape[1]),
    )
    assert t == 1
    expected = weights @ (0.5 * (X @ coef + 0.7 - y) ** 2)
    assert loss_sum == pytest.approx(expected, rel=1e-12)


def test_kernel_identity_step_is_gradient_step():
    """With P = I, shift = 0 and one full batch, the update is -eta * gradient."""
    X, y, weights, order, coef = _data(np.float64, seed=4)
    precond = Preconditioner.identity(X.shape[1])
    coef_k = coef.copy()
    eta = SCHEDULES["constant"][1]
    _, intercept, _, _ = minibatch_epoch(
        X, y, weights, order, N_SAMPLES, coef_k, 0.7, True, loss_tuple("squared_error", 0.1),
        (0.0, 0.1), SCHEDULES["constant"], precond.arrays(), *_rule_args(X.shape[1]),
    )
    r = weights * (X @ coef + 0.7 - y)
    np.testing.assert_allclose(coef_k, coef - eta * (X.T @ r / N_SAMPLES + 0.1 * coef), rtol=1e-12)
    assert intercept == pytest.approx(0.7 - eta * r.mean(), rel=1e-12)


@pytest.mark.parametrize("loss", ["squared_error", "absolute_error"])
def test_kernel_matches_reference_with_narrow_batch_diagonal_preconditioner(loss):
    """Few rows per update: from_data picks a diagonal P (cost ratio) for sgd-sized batches."""
    X, y, weights, order, coef = _data(np.float64, n_features=40, seed=6)
    precond, _ = Preconditioner.from_data(X, weights, True, 0.01, 1, np.random.RandomState(0))
    assert precond.scale_full.shape == (0, 0)
    for batch_size in (1, 2):
        kernel, coef_k, reference, coef_r = _run_both(
            X, y, weights, order, batch_size, coef, 0.3, True, loss_tuple(loss, 0.2),
            PENALTIES["elasticnet"], SCHEDULES["constant"], precond,
        )
        _assert_agree(kernel, coef_k, reference, coef_r, coef)


def test_preconditioner_identity_fields():
    p = Preconditioner.identity(3)
    np.testing.assert_array_equal(p.shift, np.zeros(3))
    np.testing.assert_array_equal(p.scale_diag, np.ones(3))
    assert p.scale_full.shape == (0, 0)


def test_full_preconditioner_is_inverse_ridge_hessian():
    """P = (S + lam I)^-1 on centred features (up to the tiny jitter)."""
    X, _, weights, _, _ = _data(np.float64, seed=5)
    lam = 0.05
    p, moments = Preconditioner.from_data(X, weights, True, lam, N_SAMPLES, np.random.RandomState(0))
    assert moments.weight == pytest.approx(weights.sum())
    mean = weights @ X / weights.sum()
    np.testing.assert_allclose(p.shift, mean, rtol=1e-12)
    centred = X - mean
    S = (centred * weights[:, None]).T @ centred / weights.sum()
    np.testing.assert_allclose(p.scale_full @ (S + lam * np.eye(X.shape[1])), np.eye(X.shape[1]), atol=1e-6)
    np.testing.assert_allclose(p.scale_diag, np.diag(p.scale_full))


@pytest.mark.parametrize("loss", LOSSES)
@pytest.mark.parametrize("penalty", PENALTIES)
@pytest.mark.parametrize("precond_kind", ["identity", "full", "diagonal"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["float64", "float32"])
def test_batch_kernel_matches_reference(loss, penalty, precond_kind, dtype):
    """The fused full-batch pass is one mini-batch of all rows (rows not a multiple of 4)."""
    X, y, weights, _, coef = _data(dtype)
    precond = _preconditioner(precond_kind, X, weights)
    rows = np.arange(N_SAMPLES)
    args = (0.7, True, loss_tuple(loss, 0.2), PENALTIES[penalty], SCHEDULES["invscaling"],
            precond.arrays(), *_rule_args(X.shape[1], t=5))
    coef_kernel, coef_reference = coef.copy(), coef.copy()
    kernel = batch_epoch(X, y, weights, rows, coef_kernel, *args)
    reference = minibatch_epoch_reference(X, y, weights, rows, N_SAMPLES, coef_reference, *args)
    _assert_agree(kernel, coef_kernel, reference, coef_reference, coef)
    assert kernel[2] == 6


def test_batch_kernel_uses_only_the_given_rows():
    """Early stopping trains on a subset of rows by index, without copying X."""
    X, y, weights, _, coef = _data(np.float64, seed=7)
    rows = np.array([0, 2, 3, 5, 8, 9, 13, 20, 22])
    precond = Preconditioner.identity(X.shape[1])
    args = (0.1, True, loss_tuple("huber", 0.5), PENALTIES["l2"], SCHEDULES["constant"],
            precond.arrays(), *_rule_args(X.shape[1]))
    coef_subset, coef_copy = coef.copy(), coef.copy()
    on_subset = batch_epoch(X, y, weights, rows, coef_subset, *args)
    on_copy = batch_epoch(X[rows], y[rows], weights[rows], np.arange(rows.size), coef_copy, *args)
    assert on_subset == on_copy
    np.testing.assert_array_equal(coef_subset, coef_copy)


def test_batch_kernel_result_does_not_depend_on_the_number_of_threads(monkeypatch):
    rng = np.random.RandomState(8)
    n_samples = 5 * BLOCK_ROWS + 3
    X = rng.standard_normal((n_samples, 6)) + 2.0
    y = X @ rng.standard_normal(6) + rng.standard_normal(n_samples)
    weights = np.ones(n_samples)
    precond = Preconditioner.identity(6)
    monkeypatch.setattr(_kernels, "PARALLEL_MIN_VALUES", 0)
    results = []
    for threads in (1, 2, 3):
        monkeypatch.setattr(_parallel, "n_threads", lambda threads=threads: threads)
        coef = np.zeros(6)
        out = batch_epoch(X, y, weights, np.arange(n_samples), coef, 0.0, True, loss_tuple("squared_error", 0.1),
                          PENALTIES["l2"], SCHEDULES["constant"], precond.arrays(), *_rule_args(6))
        results.append((out, coef))
    for out, coef in results[1:]:
        assert out == results[0][0]
        np.testing.assert_array_equal(coef, results[0][1])


@pytest.mark.parametrize("eta0", [0.5, 30.0], ids=["scale-underflows", "factor-negative"])
def test_sgd_weight_scale_is_folded_before_it_underflows(eta0):
    """One-row L2 updates keep w = scale * coef (as SGDRegressor); a scale that
    falls below MIN_WEIGHT_SCALE, or a shrink factor 1 - eta * l2 <= 0, is
    folded into the coefficients and the textbook update still holds."""
    X, y, weights, order, coef = _data(np.float64, seed=9)
    X = X[:, :2] * 1e-3  # small rows, so that the fit itself stays finite
    coef = coef[:2]
    precond = Preconditioner.identity(2)
    schedule = (SCHEDULES["constant"][0], eta0, 0.25, 0.1, 0.0)
    kernel, coef_k, reference, coef_r = _run_both(
        X, y, weights, order, 1, coef, 0.0, True, loss_tuple("squared_error", 0.1),
        (0.0, 1.9), schedule, precond,
    )
    _assert_agree(kernel, coef_k, reference, coef_r, coef)


@pytest.mark.parametrize("rule", RULE_CODES)
@pytest.mark.parametrize("batch_size", [1, 7, N_SAMPLES])
@pytest.mark.parametrize("precond_kind", ["identity", "full", "diagonal"])
@pytest.mark.parametrize("average_from", [0, 7], ids=["no-average", "average"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["float64", "float32"])
def test_kernel_matches_reference_for_every_update_rule(rule, batch_size, precond_kind, average_from, dtype):
    """Three epochs, so that the rule's state and the average carry from epoch to epoch."""
    X, y, weights, order, coef = _data(dtype, seed=10)
    precond = _preconditioner(precond_kind, X, weights)
    kernel, coef_k, reference, coef_r = _run_both(
        X, y, weights, order, batch_size, coef, 0.7, True, loss_tuple("huber", 0.5),
        PENALTIES["elasticnet"], SCHEDULES["invscaling"], precond,
        rule=(RULE_CODES[rule], 0.8, 0.85, 0.99, 1e-8), average_from=average_from, epochs=3,
    )
    _assert_agree(kernel, coef_k, reference, coef_r, coef)
    if rule != "plain" or average_from:
        assert np.any(kernel[4])


@pytest.mark.parametrize("rule", RULE_CODES)
@pytest.mark.parametrize("precond_kind", ["identity", "full", "diagonal"])
def test_batch_kernel_matches_reference_for_every_update_rule(rule, precond_kind):
    X, y, weights, _, coef = _data(np.float64, seed=11)
    precond = _preconditioner(precond_kind, X, weights)
    rows = np.arange(N_SAMPLES)
    results = []
    for epoch in (batch_epoch, minibatch_epoch_reference):
        t, rule_tuple, state, count, average_from = _rule_args(
            X.shape[1], rule=(RULE_CODES[rule], 0.8, 0.85, 0.99, 1e-8), average_from=2
        )
        coef_run, out = coef.copy(), (0.0, 0.7, t, count)
        for _ in range(4):
            size = () if epoch is batch_epoch else (N_SAMPLES,)
            out = epoch(X, y, weights, rows, *size, coef_run, out[1], True, loss_tuple("squared_error", 0.2),
                        PENALTIES["l2"], SCHEDULES["constant"], precond.arrays(), out[2], rule_tuple,
                        state, out[3], average_from)
        results += [(*out, state), coef_run]
    _assert_agree(*results, coef)
