"""Data for the benchmarks of issue 13, in one place so that tests can reuse it.

Synthetic generators (each returns ``(X, y)``, float64, C-contiguous):

- :func:`well_conditioned`: standard normal features, ``y = X w + 3 + 0.5 e``.
- :func:`ill_conditioned`: neighbouring columns correlated (about 0.5),
  column spreads log-spaced from 1e-2 to 1e2, every column offset by +10,
  every feature informative (coefficient ``N(0, 1) / spread``).
- :func:`scaled_informative`: issue 13's finding-1 construction (spreads
  log-spaced 1e-2 to 1e2, no correlation or offset, every feature
  informative); at ``d = 4`` with spreads ``1e-2, 1e-1, 1, 10`` see
  :func:`finding1_data`.
- :func:`factor_data`: columns driven by three shared factors plus noise,
  offset by +10 (column correlations about 0.9).
- :func:`finding1_data`, :func:`finding3_data`, :func:`finding4_data`: the
  snippets of issue 13, verbatim.

Real data sets, raw features, no scaling: :data:`REAL_LOADERS` maps a name to
a loader without arguments that returns ``(X, y)``; :func:`real_datasets`
loads several into a dict ``name -> (X, y)``. statsmodels and scikit-learn are
imported only when a loader that needs them runs.

From a test (``benchmarks/`` is not a package)::

    sys.path.insert(0, str(Path(__file__).parents[1] / "benchmarks"))
    from _data import real_datasets, ill_conditioned

Exact reference solutions, also reusable: :func:`ridge_optimum` (skgd's
default objective ``1/2 mean(r^2) + alpha/2 ||w||^2`` solved in closed form),
:func:`objective`, :func:`suboptimality`, :func:`lstsq_r2`.
"""

import numpy as np

# --------------------------------------------------------------------------
# Synthetic data
# --------------------------------------------------------------------------


def well_conditioned(n_samples, n_features, seed=0, intercept=3.0, noise=0.5):
    """Standard normal ``X``; ``y = X @ w + intercept + noise * N(0, 1)``, ``w ~ N(0, 1)``."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n_samples, n_features))
    coef = rng.standard_normal(n_features)
    y = X @ coef + intercept + noise * rng.standard_normal(n_samples)
    return X, y


def ill_conditioned(n_samples, n_features, seed=0, offset=10.0, low=1e-2, high=1e2, corr=0.9, intercept=3.0, noise=0.5):
    """Correlated, badly scaled, offset columns; every feature informative.

    ``Z ~ N(0, 1)``; ``Z[:, j] += corr * Z[:, j - 1]`` (neighbours correlated
    ``corr / (1 + corr**2)``, 0.5 at the default), each column divided by its standard
    deviation, multiplied by its spread (log-spaced from ``low`` to ``high``)
    and shifted by ``offset``. ``y = X @ (N(0, 1) / spread) + intercept +
    noise * N(0, 1)``, so each column carries a comparable share of ``y``.
    Built in place: peak memory is about one copy of ``X``.
    """
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n_samples, n_features))
    if n_features > 1 and corr:
        X[:, 1:] += corr * X[:, :-1]  # numpy buffers the overlap: uses the original columns
    X /= X.std(axis=0)
    spreads = np.logspace(np.log10(low), np.log10(high), n_features)
    X *= spreads
    coef = rng.standard_normal(n_features) / spreads
    y = X @ coef + intercept + noise * rng.standard_normal(n_samples)
    X += offset
    y += offset * coef.sum()  # keep the same intercept for the shifted columns
    return X, y


def scaled_informative(n_samples=200_000, n_features=20, seed=0):
    """Issue 13's finding-1 construction extended to ``n_features`` columns.

    ``scales = logspace(-2, 2, d)``; ``X = N(0, 1) * scales``;
    ``y = X @ (N(0, 1) / scales) + 3 + 0.5 N(0, 1)``. With the default
    ``alpha = 1e-4`` the L2 penalty is a large share of the optimal objective.
    """
    rng = np.random.default_rng(seed)
    scales = np.logspace(-2, 2, n_features)
    X = rng.standard_normal((n_samples, n_features)) * scales
    y = X @ (rng.standard_normal(n_features) / scales) + 3.0 + 0.5 * rng.standard_normal(n_samples)
    return X, y


def factor_data(n_samples=100_000, n_features=40, seed=0, n_factors=3, noise=0.5, offset=10.0, intercept=3.0):
    """Columns driven by ``n_factors`` shared factors plus noise, offset by ``offset``.

    ``X = F @ L + noise * N(0, 1) + offset`` with ``F ~ N(0, 1)`` (n x 3) and
    ``L ~ N(0, 1)`` (3 x d): column correlations about 0.9 in absolute value.
    ``y = X @ w + intercept + 0.5 N(0, 1)``, ``w ~ N(0, 1)`` (the offset's
    contribution is folded into the intercept).
    """
    rng = np.random.default_rng(seed)
    F = rng.standard_normal((n_samples, n_factors))
    L = rng.standard_normal((n_factors, n_features))
    X = F @ L
    X += noise * rng.standard_normal((n_samples, n_features))
    coef = rng.standard_normal(n_features)
    y = X @ coef + intercept + 0.5 * rng.standard_normal(n_samples)
    X += offset
    y += offset * coef.sum()
    return X, y


def finding1_data():
    """Issue 13, finding 1: 20,000 x 4, spreads 1e-2 to 10, penalty a large share of J*."""
    rng = np.random.default_rng(0)
    n, d = 20_000, 4
    scales = np.array([1e-2, 1e-1, 1.0, 10.0])
    X = rng.standard_normal((n, d)) * scales
    y = X @ (rng.standard_normal(d) / scales) + 3.0 + 0.5 * rng.standard_normal(n)
    return X, y


def finding3_data():
    """Issue 13, finding 3: 201 x 40 standard normal (n mod batch_size small)."""
    rng = np.random.default_rng(5)
    X = rng.standard_normal((201, 40))
    y = X @ rng.standard_normal(40) + rng.standard_normal(201)
    return X, y


def finding4_data():
    """Issue 13, finding 4: fifteen points, one feature."""
    x = [-1.0, -0.0, 0.6, -1.7, -1.4, -1.0, 1.0, 1.1, 0.3, 0.4, -0.6, -1.2, 0.5, 0.8, -0.1]
    y = [-3.0, 0.3, 0.7, -2.5, -0.6, 0.4, 1.8, 1.2, -0.3, 0.9, -1.9, -0.4, 1.3, 0.9, 0.9]
    return np.array(x)[:, None], np.array(y)


# Data sets of issue 13's "Must show 2 and 3", at full size: name -> (generator, kwargs).
MUST_SHOW = {
    "(a) standard normal": (well_conditioned, dict(n_samples=200_000, n_features=20)),
    "(b) spreads 1e-2..1e2, all informative": (scaled_informative, dict(n_samples=200_000, n_features=20)),
    "(c) 3 factors + noise, offset 10": (factor_data, dict(n_samples=100_000, n_features=40)),
}

# --------------------------------------------------------------------------
# Real data sets (raw features, no scaling)
# --------------------------------------------------------------------------


def _sm_dataset(name):
    import statsmodels.api as sm

    return getattr(sm.datasets, name).load_pandas()


def _columns(frame, target, features):
    return frame[list(features)].to_numpy(dtype=float), frame[target].to_numpy(dtype=float)


def _exog_endog(name):
    d = _sm_dataset(name)
    X = d.exog.select_dtypes("number").to_numpy(dtype=float)
    y = np.asarray(d.endog, dtype=float).reshape(len(X), -1)[:, 0]
    return X, y


def load_star98():
    """statsmodels ``star98``: ``d.exog`` (303 x 20), first column of ``d.endog`` (NABOVE)."""
    d = _sm_dataset("star98")
    return d.exog.to_numpy(dtype=float), d.endog.iloc[:, 0].to_numpy(dtype=float)


def load_engel():
    """statsmodels ``engel``: foodexp ~ income (235 x 1)."""
    return _columns(_sm_dataset("engel").data, "foodexp", ["income"])


def load_grunfeld():
    """statsmodels ``grunfeld``: invest ~ value + capital (220 x 2)."""
    return _columns(_sm_dataset("grunfeld").data, "invest", ["value", "capital"])


def load_macrodata():
    """statsmodels ``macrodata``: realinv ~ realgdp + realint (203 x 2)."""
    return _columns(_sm_dataset("macrodata").data, "realinv", ["realgdp", "realint"])


def load_nile():
    """statsmodels ``nile``: volume ~ year (100 x 1)."""
    return _columns(_sm_dataset("nile").data, "volume", ["year"])


def load_longley():
    """statsmodels ``longley``: exog (16 x 6) / endog TOTEMP."""
    return _exog_endog("longley")


def load_scotland():
    """statsmodels ``scotland``: exog (32 x 7) / endog YES."""
    return _exog_endog("scotland")


def load_committee():
    """statsmodels ``committee``: exog (20 x 5) / endog BILLS104."""
    return _exog_endog("committee")


def load_copper():
    """statsmodels ``copper``: exog (25 x 5) / endog WORLDCONSUMPTION."""
    return _exog_endog("copper")


def load_diabetes_raw():
    """scikit-learn ``load_diabetes(scaled=False)``: the raw, unscaled columns (442 x 10)."""
    from sklearn.datasets import load_diabetes

    X, y = load_diabetes(return_X_y=True, scaled=False)
    return np.ascontiguousarray(X, dtype=float), np.asarray(y, dtype=float)


# name -> loader returning (X, y). Issue 13's must-show 4 data sets.
REAL_LOADERS = {
    "star98": load_star98,
    "engel": load_engel,
    "grunfeld": load_grunfeld,
    "macrodata": load_macrodata,
    "nile": load_nile,
    "longley": load_longley,
    "scotland": load_scotland,
    "committee": load_committee,
    "copper": load_copper,
    "diabetes (raw)": load_diabetes_raw,
    "finding3 201x40": finding3_data,
    "finding4 15 points": finding4_data,
}


def real_datasets(names=None):
    """Dict ``name -> (X, y)`` of the named data sets (all of :data:`REAL_LOADERS` by default)."""
    names = list(REAL_LOADERS) if names is None else list(names)
    out = {}
    for name in names:
        X, y = REAL_LOADERS[name]()
        out[name] = (np.ascontiguousarray(X, dtype=float), np.ascontiguousarray(y, dtype=float))
    return out


# --------------------------------------------------------------------------
# Exact references
# --------------------------------------------------------------------------


def _centred_gram(X, y, mean_X, mean_y, chunk=65_536):
    """``Xc.T @ Xc`` and ``Xc.T @ yc`` of the centred data, a chunk of rows at a time."""
    d = X.shape[1]
    G = np.zeros((d, d))
    c = np.zeros(d)
    for start in range(0, X.shape[0], chunk):
        Xc = X[start : start + chunk] - mean_X
        yc = y[start : start + chunk] - mean_y
        G += Xc.T @ Xc
        c += Xc.T @ yc
    return G, c


def ridge_optimum(X, y, alpha=1e-4):
    """Exact minimiser ``(w*, b*)`` of ``1/2 mean((X w + b - y)^2) + alpha/2 ||w||^2``.

    Centred normal equations ``(Xc.T Xc / n + alpha I) w = Xc.T yc / n``
    in float64, accumulated in chunks (no centred copy of ``X``), solved by
    Cholesky (``lstsq`` if ``alpha == 0`` or the factorisation fails), with one
    step of iterative refinement on the exact gradient.
    """
    X = np.asarray(X, dtype=float)
    y = np.asarray(y, dtype=float)
    n, d = X.shape
    mean_X = X.mean(axis=0)
    mean_y = y.mean()
    G, c = _centred_gram(X, y, mean_X, mean_y)
    A = G / n + alpha * np.eye(d)

    def solve(rhs):
        try:
            L = np.linalg.cholesky(A)
            return np.linalg.solve(L.T, np.linalg.solve(L, rhs))
        except np.linalg.LinAlgError:
            return np.linalg.lstsq(A, rhs, rcond=None)[0]

    w = solve(c / n)
    # refinement: the gradient of the centred objective at w, from the data
    grad = np.zeros(d)
    for start in range(0, n, 65_536):
        Xc = X[start : start + 65_536] - mean_X
        grad += Xc.T @ (Xc @ w - (y[start : start + 65_536] - mean_y))
    grad = grad / n + alpha * w
    w = w - solve(grad)
    return w, mean_y - mean_X @ w


def objective(X, y, coef, intercept, alpha=1e-4, chunk=65_536):
    """skgd's default objective ``1/2 mean((X w + b - y)^2) + alpha/2 ||w||^2``."""
    total = 0.0
    for start in range(0, X.shape[0], chunk):
        r = X[start : start + chunk] @ coef + intercept - y[start : start + chunk]
        total += r @ r
    return 0.5 * total / X.shape[0] + 0.5 * alpha * coef @ coef


def suboptimality(X, y, coef, intercept, opt, J_star, alpha=1e-4, chunk=65_536):
    """``(J(w, b) - J*) / J*`` computed without cancellation.

    ``J`` is quadratic and its gradient vanishes at ``(w*, b*)``, so
    ``J(w, b) - J* = 1/2 mean((X dw + db)^2) + alpha/2 ||dw||^2`` exactly,
    with ``dw = w - w*``, ``db = b - b*``.
    """
    w_star, b_star = opt
    dw = np.asarray(coef, dtype=float).ravel() - w_star
    db = float(np.ravel(intercept)[0]) - b_star
    total = 0.0
    for start in range(0, X.shape[0], chunk):
        r = X[start : start + chunk] @ dw + db
        total += r @ r
    gap = 0.5 * total / X.shape[0] + 0.5 * alpha * dw @ dw
    return gap / J_star


def lstsq_r2(X, y, return_rank=False):
    """R² of exact least squares with an intercept, computed robustly.

    Columns are centred and divided by their standard deviation (constant
    columns dropped) before ``np.linalg.lstsq``, so that ``rcond`` does not cut
    directions that are small only because of a column's units. With
    ``return_rank``, also the numerical rank of the centred design (least
    squares interpolates when it reaches ``n - 1``).
    """
    X = np.asarray(X, dtype=float)
    y = np.asarray(y, dtype=float)
    Xc = X - X.mean(axis=0)
    sd = Xc.std(axis=0)
    keep = sd > 0
    Xs = Xc[:, keep] / sd[keep]
    yc = y - y.mean()
    coef, _, rank, _ = np.linalg.lstsq(Xs, yc, rcond=None)
    r = yc - Xs @ coef
    score = 1.0 - (r @ r) / (yc @ yc)
    return (score, int(rank)) if return_rank else score


def r2(y, pred):
    y = np.asarray(y, dtype=float)
    r = y - pred
    yc = y - y.mean()
    return 1.0 - (r @ r) / (yc @ yc)
