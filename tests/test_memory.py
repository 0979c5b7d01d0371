"""Fitting and predicting make no copy of X (float32 stays float32)."""

import gc
import tracemalloc

import numpy as np
import pytest

from skgd import GDRegressor

from _shared import SOLVERS

N_SAMPLES, N_FEATURES = 200_000, 20
# A float64 copy of X would take this many bytes; a fit must stay below.
X64_BYTES = N_SAMPLES * N_FEATURES * 8


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((N_SAMPLES, N_FEATURES))
    y = X @ rng.standard_normal(N_FEATURES) + rng.standard_normal(N_SAMPLES)
    return X, y


def _peak_bytes(function):
    """Peak memory NumPy allocates while ``function`` runs."""
    tracemalloc.start()
    try:
        function()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


@pytest.mark.parametrize("solver", SOLVERS)
@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["float64", "float32"])
@pytest.mark.parametrize("early_stopping", [False, True], ids=["all-rows", "early-stopping"])
def test_fit_makes_no_copy_of_X(data, solver, dtype, early_stopping):
    X, y = data
    X = X.astype(dtype)
    model = GDRegressor(solver=solver, max_iter=2, tol=None, early_stopping=early_stopping, random_state=0)
    model.fit(X[:1000], y[:1000])  # compile outside the measurement
    peak = _peak_bytes(lambda: model.fit(X, y))
    # the 'auto' sample (20,000 rows, two float64 copies), a few vectors of
    # n_samples, and with early stopping the held-out tenth of X; not a copy
    assert peak < 0.75 * X64_BYTES
    assert model.coef_.dtype == dtype  # the model takes the data's dtype


def test_predict_on_float32_makes_no_float64_copy(data):
    X, y = data
    X32 = X.astype(np.float32)
    model = GDRegressor(solver="batch", max_iter=2, tol=None).fit(X32, y)
    model.predict(X32[:10])  # compile (or load) the predictor outside the measurement
    peak = _peak_bytes(lambda: model.predict(X32))
    assert peak < 0.1 * X64_BYTES  # the predictions only
    np.testing.assert_allclose(model.predict(X32), X32.astype(np.float64) @ model.coef_ + model.intercept_,
                               rtol=1e-6)


@pytest.mark.parametrize("store_path", ["epoch", "step"])
def test_recording_holds_one_vector_per_recorded_point(store_path):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((300, 200))
    y = X @ rng.standard_normal(200)

    def measured(store_path):
        model = GDRegressor(solver="minibatch", batch_size=100, max_iter=300, tol=None, store_path=store_path,
                            random_state=0)
        model.fit(X, y)  # compile (or load) the kernels outside the measurement
        gc.collect()  # cycles left by earlier tests are not freed (or not) inside the measurement
        tracemalloc.start()
        try:
            model.fit(X, y)
            gc.collect()
            retained, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        return model, retained, peak

    plain, plain_retained, plain_peak = measured(None)
    model, retained, peak = measured(store_path)
    n_points = model.n_iter_ + 1 if store_path == "epoch" else model.t_ + 1
    path_bytes = n_points * (X.shape[1] + 1) * 8
    assert model.coef_path_.base.nbytes == path_bytes
    # numba's dispatch caches vary by a few KiB between fits; a second copy of
    # the path would add path_bytes (at least 484 KB here)
    slack = 32 * 1024
    assert retained - plain_retained <= path_bytes + slack
    assert peak - plain_peak <= path_bytes + slack
