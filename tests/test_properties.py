"""Property-based tests: contracts that hold for every generated problem and parameter set.

The domain, exactly: ``n`` rows (1 to 12) and ``d`` columns (1 to 4) of
float64 (float32 for some) built from a random seed: each column standard
normal times a scale ``10**e`` (``e`` an integer in [-30, 30]) plus an offset
(0, or ``10**f`` times the scale, ``f`` in [0, 8]), or constant, or a copy
of the previous column; ``y`` a linear function of ``X`` plus noise, or
constant, times ``10**g`` (``g`` in [-30, 30]); sample weights none, or
uniform in [0, 2) with some zeros (at least one positive). Parameters: every
solver, loss, penalty, update rule and schedule, ``alpha`` in
``10**[-6, 2]``, ``eta0`` in ``10**[-4, -1]``, averaging, early stopping,
``fit_intercept``, ``batch_size``, at most 20 epochs.

The contracts:

1. ``fit`` succeeds, or raises a ``ValueError`` that names the problem
   (one of :data:`NAMED_PROBLEMS`), never another exception.
2. A fitted model's attributes are finite and of consistent shapes, and it
   predicts finite values (a float32 model on float32 data: wherever the
   float64 prediction is within float32's range).
3. A ``fit`` or ``partial_fit`` that raises leaves the model bit-identical.
4. Two fits with the same ``random_state`` are bit-identical.
5. Pickling between ``partial_fit`` calls changes nothing that follows.
6. With its defaults and ``penalty=None``, every solver of both estimators
   reaches the least-squares R² within 1e-3 on well-posed data. The domain
   of this contract, exactly: ``n`` rows (30 to 300) and ``d`` columns (1
   to 5), each column standard normal, or the previous column plus normal
   noise of spread 0.1 to 1 (correlated), times a scale ``10**e`` (``e`` in
   [-6, 6]) plus an offset (0, or ``10**f`` times the scale, ``f`` in
   [0, 3]); ``y`` linear in the standardised columns plus noise of spread
   0.05 to 1, times ``10**g`` (``g`` in [-6, 6]), plus an offset; and, for
   ``GDPolynomialRegressor(degree=2)``, at most 3 columns and 60 rows or
   more. Problems whose standardised design has a condition number above
   1e3 are left out.

The normal run draws a few hundred examples; set ``SKGD_HYPOTHESIS_PROFILE=long``
for the long run (2,500 examples per test)::

    SKGD_HYPOTHESIS_PROFILE=long python -m pytest tests/test_properties.py -p no:cacheprovider
"""

import os
import pickle
import re
import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from skgd import GDPolynomialRegressor, GDRegressor

from _shared import LOSSES, SOLVERS

settings.register_profile(
    "default", max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile(
    "long", max_examples=2500, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile(os.environ.get("SKGD_HYPOTHESIS_PROFILE", "default"))

# The problems a ValueError may name on valid, finite input.
NAMED_PROBLEMS = re.compile(
    "Gradient descent diverged"
    "|The fitted coefficients exceed the range of float32"
    "|Column \\d+ of the features is too (small|large)"
    "|Input y is too large"
    "|Splitting \\d+ samples into a train set and a validation set"
    "|sample weights for validation set are all zero"
    "|the resulting (train|test) set will be empty"  # ShuffleSplit, as in SGDRegressor
)


@st.composite
def problems(draw, max_rows=12, max_columns=4):
    """``(X, y, sample_weight)`` of the domain in the module's docstring."""
    rng = np.random.RandomState(draw(st.integers(0, 2**32 - 1)))
    n = draw(st.integers(1, max_rows))
    d = draw(st.integers(1, max_columns))
    columns = []
    for j in range(d):
        kind = draw(st.sampled_from(["normal", "normal", "offset", "constant", "copy"]))
        scale = 10.0 ** draw(st.integers(-30, 30))
        if kind == "copy" and j > 0:
            columns.append(columns[-1].copy())
        elif kind == "constant":
            columns.append(np.full(n, scale * draw(st.sampled_from([0.0, 1.0, -3.5]))))
        else:
            offset = scale * 10.0 ** draw(st.integers(0, 8)) if kind == "offset" else 0.0
            columns.append(scale * rng.standard_normal(n) + offset)
    X = np.column_stack(columns)
    if draw(st.booleans()):
        y = np.full(n, draw(st.sampled_from([0.0, 1.0, -2.0])))
    else:
        scaled = X / np.maximum(np.abs(X).max(axis=0), np.finfo(float).tiny)
        y = scaled @ rng.standard_normal(d) + 0.1 * rng.standard_normal(n)
    y = y * 10.0 ** draw(st.integers(-30, 30))
    weights = None
    if draw(st.booleans()):
        weights = rng.uniform(0, 2, n) * (rng.uniform(size=n) > 0.2)
        weights[rng.randint(n)] = 1.0
    if draw(st.booleans()):
        X = X.astype(np.float32)
        assume(np.all(np.isfinite(X)))
    return X, y, weights


@st.composite
def parameters(draw, streaming=False):
    """Keyword arguments of an estimator, over every option (few epochs)."""
    schedule = draw(st.sampled_from(["auto", "auto", "constant", "optimal", "invscaling", "adaptive"]))
    params = {
        "solver": draw(st.sampled_from(SOLVERS)),
        "batch_size": draw(st.sampled_from(["auto", 1, 3, 50])),
        "loss": draw(st.sampled_from(LOSSES)),
        "penalty": draw(st.sampled_from(["l2", "l1", "elasticnet", None])),
        "alpha": 10.0 ** draw(st.integers(-6, 2)),
        "fit_intercept": draw(st.booleans()),
        "learning_rate": schedule,
        "eta0": 10.0 ** draw(st.integers(-4, -1)),
        "optimizer": draw(st.sampled_from(["plain", "momentum", "nesterov", "adagrad", "rmsprop", "adam"])),
        "average": draw(st.sampled_from([False, True, 5])),
        "max_iter": draw(st.integers(1, 20)),
        "tol": draw(st.sampled_from([1e-4, None])),
        "random_state": draw(st.integers(0, 1000)),
    }
    if not streaming:
        params["early_stopping"] = draw(st.booleans())
    return params


def _estimator(params, polynomial):
    if polynomial:
        return GDPolynomialRegressor(degree=2, **params)
    return GDRegressor(**params)


def _fit(model, X, y, weights):
    """Fit, quietly; a ValueError must name its problem (contract 1)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            return model.fit(X, y, sample_weight=weights)
        except ValueError as error:
            assert NAMED_PROBLEMS.search(str(error)), f"unnamed problem: {error}"
            return None


def _assert_consistent(model, X):
    d = X.shape[1]
    coef_size = model.coef_.shape[0]
    assert model.coef_.shape == (coef_size,) and (coef_size == d or isinstance(model, GDPolynomialRegressor))
    assert np.all(np.isfinite(model.coef_)) and np.isfinite(model.intercept_)
    assert model.n_features_in_ == d
    assert len(model.loss_curve_) == model.n_iter_ >= 1
    assert np.all(np.isfinite(model.loss_curve_)) and model.best_loss_ <= min(model.loss_curve_)
    if model.learning_rate != "auto":  # 'auto' may return its starting model, measured before the curve
        assert model.best_loss_ == min(model.loss_curve_)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # a float32 prediction's overflow
        prediction = model.predict(X)
    finite = np.isfinite(prediction)
    if prediction.dtype == np.float32:  # beyond float32's range, an infinity is the float32 answer
        finite |= np.abs(model.predict(X.astype(np.float64))) > np.finfo(np.float32).max
    assert prediction.shape == (X.shape[0],) and np.all(finite)


def _state(model):
    """Every attribute, pickled in the order of their names (bit-identical models give equal bytes)."""
    return pickle.dumps(sorted(vars(model).items()))


# --- contracts 1 and 2: a fit, or a ValueError naming the problem; finite, consistent attributes


@given(problem=problems(), params=parameters(), polynomial=st.booleans())
def test_fit_succeeds_or_names_the_problem(problem, params, polynomial):
    X, y, weights = problem
    model = _fit(_estimator(params, polynomial), X, y, weights)
    if model is not None:
        _assert_consistent(model, X)


@given(problem=problems(), params=parameters(streaming=True), chunks=st.integers(1, 3))
def test_partial_fit_stream_succeeds_or_names_the_problem(problem, params, chunks):
    X, y, weights = problem
    model = GDRegressor(**params)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            for rows in np.array_split(np.arange(X.shape[0]), chunks):
                if rows.size:
                    model.partial_fit(X[rows], y[rows], None if weights is None else weights[rows] + 1.0)
        except ValueError as error:
            assert NAMED_PROBLEMS.search(str(error)), f"unnamed problem: {error}"
            return
    _assert_consistent(model, X)


# --- contract 3: a call that raises leaves the model as it was ------------------------------

BAD_CALLS = {
    "nan in X": lambda X, y: (np.where(np.arange(X.size).reshape(X.shape) == 0, np.nan, X), y, {}),
    "nan in y given as text": lambda X, y: (X, np.array(["nan"] + [str(v) for v in y[1:]]), {}),
    "infinite y": lambda X, y: (X, np.r_[np.inf, y[1:]], {}),
    "other width": lambda X, y: (np.c_[X, X[:, :1]], y, {}),
    "negative weight": lambda X, y: (X, y, {"sample_weight": -np.ones(y.shape[0])}),
    "zero weights": lambda X, y: (X, y, {"sample_weight": np.zeros(y.shape[0])}),
    "y of another length": lambda X, y: (X, np.r_[y, 1.0], {}),
}


@given(
    problem=problems(), params=parameters(streaming=True), bad=st.sampled_from(sorted(BAD_CALLS)),
    method=st.sampled_from(["fit", "partial_fit"]),
)
def test_a_call_that_raises_leaves_the_model_bit_identical(problem, params, bad, method):
    X, y, weights = problem
    assume(X.dtype == np.float64)
    assume(not (bad == "other width" and method == "fit"))  # fit starts afresh: valid
    model = _fit(GDRegressor(**params), X, y, weights)
    assume(model is not None)
    before = _state(model)
    bad_X, bad_y, kwargs = BAD_CALLS[bad](X, y)
    with pytest.raises(ValueError):
        getattr(model, method)(bad_X, bad_y, **kwargs)
    assert _state(model) == before


@given(problem=problems(), params=parameters(streaming=True))
def test_partial_fit_with_an_invalid_parameter_leaves_the_model_bit_identical(problem, params):
    X, y, weights = problem
    model = GDRegressor(**params)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            model.partial_fit(X, y, sample_weight=weights)
        except ValueError:
            assume(False)
    before = _state(model)
    model.set_params(batch_size=0)
    with pytest.raises(ValueError, match="'batch_size' parameter"):
        model.partial_fit(X, y)
    model.set_params(batch_size=params["batch_size"])
    assert _state(model) == before


# --- contract 4: determinism ----------------------------------------------------------------


@given(problem=problems(), params=parameters(), polynomial=st.booleans())
def test_the_same_random_state_gives_bit_identical_fits(problem, params, polynomial):
    X, y, weights = problem
    first = _fit(_estimator(params, polynomial), X, y, weights)
    assume(first is not None)
    second = _fit(_estimator(params, polynomial), X, y, weights)
    _assert_same_fit(first, second)


# --- contract 5: pickling mid-stream --------------------------------------------------------


@given(problem=problems(max_rows=12), params=parameters(streaming=True), polynomial=st.booleans())
def test_pickling_between_partial_fit_calls_changes_nothing(problem, params, polynomial):
    X, y, weights = problem
    weights = np.ones(y.shape[0]) if weights is None else weights + 1.0
    halves = np.array_split(np.arange(X.shape[0]), 2)
    assume(all(rows.size for rows in halves))
    model = _estimator(params, polynomial)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            model.partial_fit(X[halves[0]], y[halves[0]], weights[halves[0]])
            copy = pickle.loads(pickle.dumps(model))
            for estimator in (model, copy):
                estimator.partial_fit(X[halves[1]], y[halves[1]], weights[halves[1]])
        except ValueError as error:
            assert NAMED_PROBLEMS.search(str(error)), f"unnamed problem: {error}"
            return
    _assert_same_fit(model, copy)


def _assert_same_fit(first, second):
    """Bit-identical results: model, curve, counts, and the training state they continue from."""
    np.testing.assert_array_equal(first.coef_, second.coef_)
    assert first.intercept_ == second.intercept_
    assert (first.loss_curve_, first.n_iter_, first.t_) == (second.loss_curve_, second.n_iter_, second.t_)
    np.testing.assert_array_equal(first._state.rule_state, second._state.rule_state)
    assert first._state.eta == second._state.eta
    np.testing.assert_array_equal(first._state.rng.get_state()[1], second._state.rng.get_state()[1])


# --- contract 6: the defaults reach least squares on well-posed data


@st.composite
def well_posed_problems(draw):
    """``(X, y)`` of contract 6's domain (see the module's docstring)."""
    rng = np.random.RandomState(draw(st.integers(0, 2**32 - 1)))
    n, d = draw(st.integers(30, 300)), draw(st.integers(1, 5))
    columns = []
    for j in range(d):
        column = rng.standard_normal(n)
        if j > 0 and draw(st.booleans()):
            column = columns[-1] + 10.0 ** draw(st.floats(-1, 0)) * rng.standard_normal(n)
        columns.append(column)
    Z = np.column_stack(columns)
    Z = (Z - Z.mean(axis=0)) / Z.std(axis=0)
    singular = np.linalg.svd(Z, compute_uv=False)
    assume(singular[-1] > 1e-3 * singular[0])
    y = Z @ rng.standard_normal(d) + 10.0 ** draw(st.floats(-1.3, 0)) * rng.standard_normal(n)
    y = y * 10.0 ** draw(st.integers(-6, 6)) + draw(st.sampled_from([0.0, 5.0, -300.0]))
    scales = 10.0 ** np.array([draw(st.integers(-6, 6)) for _ in range(d)])
    offsets = np.array([draw(st.sampled_from([0.0, 1.0, 10.0, 1e3])) for _ in range(d)])
    return (Z + offsets) * scales, y


def _least_squares_r2(X, y):
    centred = X - X.mean(axis=0)
    scale = centred.std(axis=0)
    coef = np.linalg.lstsq(centred / scale, y - y.mean(), rcond=None)[0]
    residual = centred / scale @ coef - (y - y.mean())
    return 1.0 - residual @ residual / np.sum((y - y.mean()) ** 2)


@given(problem=well_posed_problems(), solver=st.sampled_from(SOLVERS), polynomial=st.booleans(),
       random_state=st.integers(0, 1000))
def test_the_defaults_reach_least_squares_on_well_posed_data(problem, solver, polynomial, random_state):
    X, y = problem
    if polynomial:
        assume(X.shape[1] <= 3 and X.shape[0] >= 60)
        from sklearn.preprocessing import PolynomialFeatures

        design = PolynomialFeatures(2, include_bias=False).fit_transform(X)
        spread = design.std(axis=0)
        assume(np.all(spread > 0))
        standardised = (design - design.mean(axis=0)) / spread
        singular = np.linalg.svd(standardised, compute_uv=False)
        assume(singular[-1] > 1e-3 * singular[0])
    else:
        design = X
    model = _estimator(dict(solver=solver, penalty=None, random_state=random_state), polynomial)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.fit(X, y)
    assert model.score(X, y) > _least_squares_r2(design, y) - 1e-3
