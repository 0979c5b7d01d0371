"""What gradient descent runs on: the raw features, or their polynomial expansion.

An estimator descends on a *design* built from ``X`` by a feature map, and
reports coefficients of the map's raw features:

- :data:`RAW_FEATURES` (``GDRegressor``): the design is ``X`` itself.
- :class:`PolynomialFeatureMap` (``GDPolynomialRegressor``): the columns of
  ``PolynomialFeatures(degree, interaction_only, include_bias=False)``, in its
  order, standardised with statistics of the training data:
  ``z = (monomial(x) - mean) / scale``. Descending on ``z`` keeps the powers
  of a feature on one scale; the model is mapped back exactly, as
  ``coef_raw = coef_z / scale`` and ``intercept_raw = intercept_z -
  coef_raw @ mean``.

- :class:`RotatedFeatures` (``'auto'`` for one-row steps on correlated
  columns, see ``_preconditioning``): another map's design times an
  orthogonal ``Q``, the eigenvectors of the full preconditioner, in which
  that preconditioner is diagonal. An L2 penalty is unchanged by it, as
  ``||Q a|| = ||a||``.

The expansion is computed by a compiled recurrence, one row at a time: each
monomial is an earlier monomial times one raw feature, so a row of ``d_out``
columns costs ``d_out`` multiplications. :class:`ExpandedRows` computes it
lazily, a chunk of rows at a time, so that memory stays near the size of ``X``.
"""

from dataclasses import dataclass, replace

import numpy as np
import scipy.sparse as sp
from numba import njit

from ._arrays import kernel_array
from ._parallel import one_blas_thread
from ._preconditioning import Moments, is_constant
from ._sparse import SparseRows

# Values (float64) in one chunk of expanded rows: 2 MiB, about a CPU's L2
# cache, so a chunk is mostly still cached when the epoch kernel reads it.
CHUNK_VALUES = 2**18


class RawFeatures:
    """The identity map: gradient descent on ``X`` itself."""

    def design(self, X, lazy=False):
        """``X`` itself; a sparse ``X`` (CSR) as :class:`~skgd._sparse.SparseRows`."""
        return SparseRows(X) if sp.issparse(X) else X

    def unstandardised(self):
        return self

    def to_raw(self, coef, intercept):
        return coef, intercept

    def to_internal(self, coef, intercept):
        return coef, intercept


RAW_FEATURES = RawFeatures()


@dataclass(frozen=True)
class PolynomialFeatureMap:
    """Standardised monomials of the raw features.

    Attributes
    ----------
    expansion : PolynomialFeatures
        The fitted expansion whose columns these are (their order and names).
    parent : ndarray of int64, shape (n_output_features,)
        Column that monomial ``j`` extends (-1 for a raw feature).
    factor : ndarray of int64, shape (n_output_features,)
        Raw feature that monomial ``j`` multiplies its parent by.
    mean : ndarray of shape (n_output_features,)
        Subtracted from each monomial (zero without an intercept).
    scale : ndarray of shape (n_output_features,)
        Divides each centred monomial (1 for a constant one).
    """

    expansion: object
    parent: np.ndarray
    factor: np.ndarray
    mean: np.ndarray
    scale: np.ndarray

    @classmethod
    def of(cls, expansion):
        """Unstandardised map of a fitted ``PolynomialFeatures(include_bias=False)``.

        Every monomial of degree 2 or more in ``expansion.powers_`` extends an
        earlier one by one power, which gives the recurrence.
        """
        powers = expansion.powers_
        column = {tuple(row): j for j, row in enumerate(powers)}
        factor = np.array([np.flatnonzero(row)[-1] for row in powers], dtype=np.int64)
        parent = np.empty(len(powers), dtype=np.int64)
        for j, row in enumerate(powers):
            lower = row.copy()
            lower[factor[j]] -= 1
            parent[j] = column[tuple(lower)] if lower.any() else -1
        n_columns = len(powers)
        return cls(expansion, parent, factor, np.zeros(n_columns), np.ones(n_columns))

    def standardised(self, X, sample_weight, centre):
        """The map with the weighted statistics of the monomials of ``X``.

        ``scale`` is the weighted standard deviation, as ``StandardScaler``
        has it, 1 for a constant column; ``mean`` is the weighted mean with
        ``centre``, else zero (no intercept to absorb it).
        """
        if sp.issparse(X):
            # not centred, which would densify the monomials; the implicit
            # shift of 'auto' centres them (see _sparse)
            weight, mean, spread = SparseRows(self.expansion.transform(X)).moments(sample_weight)
            constant = is_constant(spread, np.hypot(spread, mean))
            return replace(self, mean=np.zeros_like(mean), scale=np.where(constant, 1.0, spread))
        moments = self.design(X, lazy=True).moments(sample_weight)
        constant = is_constant(moments.spread, np.hypot(moments.spread, moments.mean))
        scale = np.where(constant, 1.0, moments.spread)
        mean = moments.mean if centre else np.zeros_like(moments.mean)
        return replace(self, mean=mean, scale=scale)

    def unstandardised(self):
        """The map of the raw monomials (zero mean, unit scale)."""
        n_columns = self.n_output_features
        return replace(self, mean=np.zeros(n_columns), scale=np.ones(n_columns))

    @property
    def n_output_features(self):
        return self.parent.shape[0]

    def design(self, X, lazy=False):
        """The expanded, standardised rows of ``X``: lazily or all at once, CSR for sparse ``X``, mapped on blocks."""
        if hasattr(X, "mapped"):
            return X.mapped(self)
        if sp.issparse(X):
            if np.any(self.mean != 0):
                raise ValueError(
                    "This polynomial model centres its monomials (its first data was dense): sparse X "
                    "would have to be densified. Pass dense X, or fit on sparse X from the start."
                )
            return SparseRows((self.expansion.transform(X) @ sp.diags(1.0 / self.scale)).tocsr())
        rows = ExpandedRows(self, X)
        return rows if lazy else rows[:]

    def expand(self, X, rows):
        """Expanded, standardised rows ``rows`` of ``X`` as a new array."""
        out = np.empty((rows.shape[0], self.n_output_features))
        expand_rows(X, rows, self.parent, self.factor, self.mean, self.scale, out)
        return out

    def to_raw(self, coef, intercept):
        """Coefficients of the unstandardised monomials for those of the design."""
        raw = coef / self.scale
        return raw, intercept - raw @ self.mean

    def to_internal(self, coef, intercept):
        """Inverse of :meth:`to_raw`."""
        return coef * self.scale, intercept + coef @ self.mean


@dataclass(frozen=True)
class RotatedFeatures:
    """The design of ``inner`` times the orthogonal ``rotation``: coefficients ``a = rotation.T @ w``.

    The rotated design is computed once, as one float64 array, a chunk of
    rows at a time.
    """

    inner: object
    rotation: np.ndarray

    def __getattr__(self, name):  # the inner map's own attributes (expansion, ...)
        if name.startswith("__") or name == "inner":
            raise AttributeError(name)
        return getattr(self.inner, name)

    def design(self, X, lazy=False):
        if hasattr(X, "mapped"):  # rows on blocks (see _dask): rotated there
            return X.mapped(self)
        rows = self.inner.design(X, lazy=True)
        rotated = np.empty((rows.shape[0], self.rotation.shape[1]))
        step = max(1, CHUNK_VALUES // max(1, rows.shape[1]))
        with one_blas_thread():
            for start in range(0, rows.shape[0], step):
                np.matmul(rows[start:start + step], self.rotation, out=rotated[start:start + step])
        return kernel_array(rotated)  # the type X's kernels are compiled for

    def unstandardised(self):
        return self.inner.unstandardised()

    def to_raw(self, coef, intercept):
        return self.inner.to_raw(coef @ self.rotation.T, intercept)

    def to_internal(self, coef, intercept):
        coef, intercept = self.inner.to_internal(coef, intercept)
        return coef @ self.rotation, intercept


class ExpandedRows:
    """The design of a :class:`PolynomialFeatureMap` on ``X``, computed on demand.

    Indexing with row indices or a slice gives those rows as an array;
    ``@`` multiplies by a coefficient vector a chunk at a time.
    """

    def __init__(self, feature_map, X):
        self.feature_map = feature_map
        self.X = X
        self.shape = (X.shape[0], feature_map.n_output_features)

    def __getitem__(self, rows):
        if isinstance(rows, slice):
            rows = np.arange(self.shape[0])[rows]
        return self.feature_map.expand(self.X, np.asarray(rows, dtype=np.int64))

    def __matmul__(self, coef):
        product = np.empty(self.shape[0])
        for rows in self.chunks(np.arange(self.shape[0]), 1):
            product[rows] = self[rows] @ coef
        return product

    def moments(self, sample_weight):
        """Weighted :class:`~skgd._preconditioning.Moments` (diagonal) of the rows, a chunk at a time."""
        moments = None
        for rows in self.chunks(np.arange(self.shape[0]), 1):
            chunk = Moments.of(self[rows], sample_weight[rows], full=False)
            moments = chunk if moments is None else moments.merge(chunk)
        return moments

    def chunks(self, order, batch_size):
        """Split ``order`` into chunks of whole batches of about :data:`CHUNK_VALUES` values."""
        batches = max(1, CHUNK_VALUES // (self.shape[1] * batch_size))
        size = batches * batch_size
        return [order[start:start + size] for start in range(0, order.shape[0], size)]


@njit(cache=True)
def expand_rows(X, rows, parent, factor, mean, scale, out):
    """Write the standardised monomials of ``X[rows]`` into ``out``."""
    raw = np.empty(parent.shape[0])
    for k in range(rows.shape[0]):
        i = rows[k]
        for j in range(parent.shape[0]):
            value = np.float64(X[i, factor[j]])
            if parent[j] >= 0:
                value *= raw[parent[j]]
            raw[j] = value
            out[k, j] = (value - mean[j]) / scale[j]
