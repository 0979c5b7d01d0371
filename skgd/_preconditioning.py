"""Preconditioning for ``learning_rate='auto'``.

Gradient descent on raw features is as slow as the problem is badly
conditioned: features around 100 with unit spread, or columns whose scales span
1e-3 to 1e3, leave the cost surface a long narrow valley. ``'auto'`` descends
instead in centred, rescaled coordinates ``v``, ``c`` with

    w = P^(1/2) v,        b = c - shift @ w,

so that the model, the objective (the penalty included) and the reported
coefficients stay those of the raw features; only the path changes. A step in
``(v, c)`` is, in raw coordinates, the step of ``_kernels`` with ``P``.

``P`` is built from the weighted second-moment matrix ``S`` of the centred
features and the L2 strength ``lam`` of the penalty:

- ``'full'`` (at most :data:`MAX_FULL_FEATURES` features, and at most
  :data:`FULL_COST_RATIO` times the batch size, so that applying ``P`` costs
  little more than the gradient): ``P = (S + lam I)^-1``,
  the inverse Hessian of the ridge objective (with a jitter of 1e-9 of each
  column's variance): squared error is then perfectly conditioned.
- ``'diagonal'`` (otherwise: no O(d^3) work, O(d) per update):
  ``P = diag(1 / (S_jj + lam))``.
- ``'rotated'`` (one-row steps on up to :data:`MAX_FULL_FEATURES` columns
  whose correlations leave the diagonal ``P`` with a condition number above
  :data:`ROTATION_CONDITION`, when the caller allows it: an L2 penalty or
  none, the plain rule, a fit): the full ``P = Q diag(lam_P) Q.T`` applied
  as a diagonal one to the design rotated by ``Q`` (see
  ``_features.RotatedFeatures``), so that each update still costs O(d),
  for one float64 copy of the design.

``S`` is computed on at most :data:`MAX_SAMPLES` rows drawn at random (fewer
for wide data, at most :data:`MAX_SAMPLE_VALUES` values); in
``partial_fit`` from the rows of every call until that many have been seen. The step
size follows from the curvature of the preconditioned problem (see
:meth:`Preconditioner.step_size`).
"""

from dataclasses import dataclass

import numpy as np
from scipy.sparse.linalg import LinearOperator, eigsh

from ._sparse import SparseRows

MAX_FULL_FEATURES = 256
# Above this condition number of the diagonally preconditioned problem, a
# full preconditioner too costly per update is applied by rotating the design.
ROTATION_CONDITION = 100.0
# The full ``P`` costs O(d^2) per update: used only while that stays within
# this many times the O(batch_size * d) of the gradient itself.
FULL_COST_RATIO = 16
# Rows the moments are estimated on: at most MAX_SAMPLES, and for wide data
# at most MAX_SAMPLE_VALUES values (32 MiB), but never fewer than MIN_SAMPLES.
MAX_SAMPLES = 20_000
MAX_SAMPLE_VALUES = 2**22
MIN_SAMPLES = 1_000
_JITTER = 1e-9
# A column whose spread is below this share of its root mean square is
# constant: its centred values would carry fewer than 6 significant digits.
_CONSTANT = 1e-10


@dataclass(frozen=True)
class Preconditioner:
    """An affine change of coordinates for gradient descent.

    Attributes
    ----------
    shift : ndarray of shape (n_features,)
        Point the features are centred on (zero without an intercept).
    scale_diag : ndarray of shape (n_features,)
        Diagonal of ``P`` (used when ``scale_full`` is empty).
    scale_full : ndarray of shape (n_features, n_features) or (0, 0)
        Full ``P``, or empty for a diagonal one.
    root_diag : ndarray of shape (n_features,)
        Diagonal of a factor ``W`` of ``P = W @ W.T`` (used when ``root_full``
        is empty): ``w = W v`` maps the preconditioned coordinates ``v``, in
        which the update rules keep their state, to the raw coefficients.
    root_full : ndarray of shape (n_features, n_features) or (0, 0)
        Full ``W``, or empty for a diagonal one.
    coef_curvature : float
        Largest eigenvalue of ``P^(1/2) S P^(1/2)``.
    row_curvature : float
        Largest ``s_i * (||z_i||^2 + 1)`` over the rows ``z_i`` of the
        (weighted, sub-sampled) data in preconditioned coordinates, with
        their weights ``s_i`` (without the ``+ 1`` if there is no intercept):
        the curvature of the most curved row's loss.
    penalty_curvature : float
        Largest eigenvalue of ``lam * P``.
    total_curvature : float
        Largest eigenvalue of ``P^(1/2) (S + lam I) P^(1/2)`` (1 for the
        full ``P``, up to its jitter): with squared error, the curvature of
        the full objective, which the sum of the two above overestimates.
    has_intercept : bool
        Whether the intercept coordinate ``c`` is descended too.
    rotate : bool
        Whether ``P`` is full but meant to be applied to the rotated design
        (see :meth:`rotated`).
    """

    shift: np.ndarray
    scale_diag: np.ndarray
    scale_full: np.ndarray
    root_diag: np.ndarray
    root_full: np.ndarray
    coef_curvature: float = 1.0
    row_curvature: float = 0.0
    penalty_curvature: float = 0.0
    total_curvature: float = np.inf
    has_intercept: bool = False
    rotate: bool = False

    @classmethod
    def identity(cls, n_features):
        """No change of coordinates: plain gradient descent on raw features."""
        return cls(np.zeros(n_features), np.ones(n_features), np.empty((0, 0)),
                   np.ones(n_features), np.empty((0, 0)))

    @classmethod
    def from_data(
        cls, X, sample_weight, fit_intercept, l2_strength, batch_size, rng,
        streaming=False, moments=None, rows=None, rotatable=False, diagonal=False,
    ):
        """Build the preconditioner of ``'auto'`` for updates of ``batch_size`` rows.

        ``sample_weight`` is normalised to mean 1; at most :data:`MAX_SAMPLES`
        of the training ``rows`` (None for all) drawn at random are used,
        fewer for wide data (see :data:`MAX_SAMPLE_VALUES`). ``X`` may be any design that gives its
        rows as an array when indexed (see ``_features``). The work happens
        in correlation coordinates (each column divided by its spread), so
        that columns of any scale are treated alike. Columns that are constant to rounding get
        ``P = 0`` and keep their coefficient.

        With ``streaming``, ``X`` is a chunk of a stream whose earlier rows
        have ``moments`` (see :class:`Moments`; None for the first chunk); the
        chunk is added to them until ``MAX_SAMPLES`` rows have been seen, and
        the correlation matrix is shrunk towards the identity by
        ``d / (n + d)`` after ``n`` rows, as a stream's first chunks need not
        show every direction it will.

        With ``diagonal`` (an L1 penalty, whose proximal step needs a
        diagonal metric), ``P`` is diagonal whatever the data.

        Returns
        -------
        preconditioner : Preconditioner
        moments : Moments
            The moments it was built from.
        """
        n_features = X.shape[1]
        n_samples = X.shape[0] if rows is None else rows.shape[0]
        sparse = isinstance(X, SparseRows)
        if sparse:
            # a sparse design: its column moments from every training row, in
            # one pass over the non-zeros (a sample would miss rare columns,
            # and freeze them); only the curvatures come from the sample
            chunk = Moments.of(X if rows is None else X[rows],
                               sample_weight if rows is None else sample_weight[rows], False)
        # a sparse sample is never densified: only its rows count
        max_samples = MAX_SAMPLES if sparse else min(MAX_SAMPLES, max(MIN_SAMPLES, MAX_SAMPLE_VALUES // n_features))
        if n_samples > max_samples:
            drawn = _sample(rng, n_samples, max_samples)
            rows = drawn if rows is None else rows[drawn]
        elif rows is None:
            rows = slice(None)
        X, sample_weight = X[rows], sample_weight[rows]
        # a sparse design gets the diagonal preconditioner only (O(nnz) per update), as does
        # an L1 penalty, whose proximal step needs a diagonal metric
        cheap = (not (sparse or diagonal)
                 and n_features <= min(MAX_FULL_FEATURES, FULL_COST_RATIO * batch_size))
        rotate = (moments is None and rotatable and not sparse and not cheap
                  and n_features <= MAX_FULL_FEATURES)
        if moments is None:
            full = cheap or rotate
        else:
            full = moments.correlation is not None  # a stream keeps its first choice
        if not sparse:
            chunk = Moments.of(X, sample_weight, full)
        if moments is None:
            moments = chunk
        elif moments.weight < MAX_SAMPLES:
            moments = moments.merge(chunk)
        shift = moments.mean if fit_intercept else np.zeros(n_features)
        # The root mean square and the root of the diagonal of the second
        # moments the preconditioner whitens (about the mean, or about 0
        # without an intercept), computed without squaring anything.
        magnitude = np.hypot(moments.spread, moments.mean)
        size = moments.spread if fit_intercept else magnitude
        live = ~is_constant(size, magnitude)
        scale = _unit_scales(size, live, l2_strength)
        shrinkage = n_features / (moments.weight + n_features) if streaming else 0.0
        ridge = l2_strength * scale**2
        if full:
            centred = _centred(X, shift, sample_weight, scale)
            correlation = moments.second_correlation(fit_intercept) * np.outer(live, live)
            shrunk = (1.0 - shrinkage) * correlation + np.diag(ridge + shrinkage * live + _JITTER)
            eigenvalues, eigenvectors = _positive_eigen(shrunk)
        if rotate:
            # worth a rotated copy of the design only if the diagonal P leaves it ill-conditioned
            # (shrunk, without a stream's shrinkage, is the penalised correlation matrix)
            n_live = int(live.sum())
            spectrum = np.sort(eigenvalues)
            full = rotate = n_live > 1 and spectrum[-1] > ROTATION_CONDITION * spectrum[n_features - n_live]
            if not rotate:
                moments = Moments(moments.weight, moments.mean, moments.spread, None)
        if full:
            inverse = (eigenvectors / eigenvalues) @ eigenvectors.T
            root = (eigenvectors / np.sqrt(eigenvalues)) @ eigenvectors.T
            rows = centred @ root
            coef_curvature = np.linalg.eigvalsh(root @ correlation @ root).max(initial=0.0)
            penalty_curvature = np.linalg.eigvalsh((root * ridge) @ root).max(initial=0.0)
            total_curvature = np.linalg.eigvalsh(root @ (correlation + np.diag(ridge)) @ root).max(initial=0.0)
            scale_full = scale[:, None] * inverse * scale[None, :]
            scale_diag = np.diag(scale_full).copy()
            root_full = scale[:, None] * root
            row_norms = np.einsum("ij,ij->i", rows, rows)
        else:
            inverse = 1.0 / (live + ridge + _JITTER)
            coef_curvature, row_norms = _diagonal_curvatures(X, shift, sample_weight, scale, np.sqrt(inverse))
            penalty_curvature = (ridge * inverse).max(initial=0.0)
            total_curvature = np.inf
            scale_full = np.empty((0, 0))
            scale_diag = scale**2 * inverse
            root_full = np.empty((0, 0))
        row_norms = row_norms + (sample_weight if fit_intercept else 0.0)
        preconditioner = cls(
            shift,
            scale_diag,
            scale_full,
            np.sqrt(scale_diag),
            root_full,
            coef_curvature=float(coef_curvature),
            row_curvature=float(row_norms.max(initial=0.0)),
            penalty_curvature=float(penalty_curvature),
            total_curvature=float(total_curvature),
            has_intercept=fit_intercept,
            rotate=rotate,
        )
        return preconditioner, moments

    def rotated(self):
        """The rotation ``Q`` and this full ``P`` as the diagonal one of the design rotated by ``Q``."""
        try:
            eigenvalues, rotation = np.linalg.eigh(self.scale_full)
        except np.linalg.LinAlgError:  # P is symmetric positive semi-definite: its SVD is its eigensystem
            rotation, eigenvalues, _ = np.linalg.svd(self.scale_full)
        eigenvalues = np.maximum(eigenvalues, 0.0)
        empty = np.empty((0, 0))
        return rotation, Preconditioner(
            self.shift @ rotation, eigenvalues, empty, np.sqrt(eigenvalues), empty, self.coef_curvature,
            self.row_curvature, self.penalty_curvature, self.total_curvature, self.has_intercept,
        )

    def arrays(self):
        """The tuple of arrays the kernels take (see ``_kernels``)."""
        return self.shift, self.scale_diag, self.scale_full, self.root_diag, self.root_full

    def step_size(self, loss_curvature, batch_size, n_samples, noise_factor=1.0):
        """Step ``1 / L`` for batches of ``batch_size`` rows out of ``n_samples`` (1 where ``L`` is 0).

        ``L`` interpolates between the curvature of the full objective
        (``batch_size == n_samples``) and the largest curvature of one row
        (``batch_size == 1``): the expected smoothness of mini-batch SGD
        (Gower et al., 2019, Proposition 3.8), all in preconditioned
        coordinates. A step above ``2 / L`` lets one row's update overshoot.
        The one-row part, which comes of the gradient's noise, is multiplied
        by ``noise_factor``.
        """
        intercept = 1.0 if self.has_intercept else 0.0
        # The penalty curves the coefficients only, never the intercept.
        # c A + B for a loss of curvature c, with A + B of largest eigenvalue
        # total_curvature: at most c (A + B) for c >= 1, c (A + B) + (1 - c) B below
        coefficients = min(
            loss_curvature * self.coef_curvature + self.penalty_curvature,
            loss_curvature * self.total_curvature + max(1.0 - loss_curvature, 0.0) * self.penalty_curvature,
        )
        full_batch = max(coefficients, loss_curvature * intercept)
        one_row = loss_curvature * self.row_curvature + self.penalty_curvature
        if np.isinf(n_samples):
            weight = 1.0 / batch_size
        elif n_samples > 1:
            weight = (n_samples - batch_size) / (batch_size * (n_samples - 1))
        else:
            weight = 0.0
        curvature = (1.0 - weight) * full_batch + weight * noise_factor * one_row
        # Zero when nothing the descent moves is curved (no intercept, and
        # every column constant): nothing moves, and any step is exact.
        return 1.0 / curvature if curvature > 0 else 1.0


@dataclass(frozen=True)
class Moments:
    """Weighted moments of the rows seen so far, mergeable chunk by chunk.

    Kept as spreads and correlations, never as sums of squares, so that
    no finite column overflows or underflows: a column of values near
    1e155, or near 1e-170, has its spread to full precision.

    Attributes
    ----------
    weight : float
        Sum of the weights (the number of rows, weights having mean 1).
    mean : ndarray of shape (n_features,)
        Weighted mean of the rows.
    spread : ndarray of shape (n_features,)
        Weighted standard deviation of each column.
    correlation : ndarray of shape (n_features, n_features) or None
        Weighted correlation matrix of the columns, with zero rows and
        columns for those of zero spread (None for a diagonal
        preconditioner, which needs only the spreads).
    """

    weight: float
    mean: np.ndarray
    spread: np.ndarray
    correlation: np.ndarray | None

    @classmethod
    def of(cls, X, sample_weight, full):
        """Moments of the rows of ``X`` (an array, or sparse rows: diagonal only)."""
        if isinstance(X, SparseRows):
            return cls(*X.moments(sample_weight), None)
        weight = float(sample_weight.sum())
        if not weight > 0:  # no rows that count: merging ignores these
            zeros = np.zeros(X.shape[1])
            return cls(weight, zeros, zeros, np.zeros((X.shape[1],) * 2) if full else None)
        share = sample_weight / weight
        mean = share @ X
        centred = _centred(X, mean, share)
        # columns divided, in place, by their largest magnitude (a zero
        # column stays zero), so that squares neither overflow nor underflow
        size = np.max(np.abs(centred), axis=0, initial=0.0)
        unit = np.divide(centred, size, out=centred, where=size != 0)
        if not full:
            return cls(weight, mean, size * np.sqrt(np.einsum("ij,ij->j", unit, unit)), None)
        gram = unit.T @ unit
        norms = np.sqrt(np.diag(gram))
        return cls(weight, mean, size * norms, _correlation(gram, norms))

    def merge(self, other):
        """Moments of both sets of rows (Chan et al.'s pairwise update).

        The pooled covariance is ``a C_1 + b C_2 + a b delta delta^T`` with
        ``a``, ``b`` the shares of the weight and ``delta`` the difference
        of the means: a sum of three Gram matrices, of the columns below,
        whose spreads add in quadrature.
        """
        if other.weight == 0:
            return self
        if self.weight == 0:
            return other
        weight = self.weight + other.weight
        a, b = self.weight / weight, other.weight / weight
        delta = other.mean - self.mean
        mean = self.mean + delta * b
        parts = (np.sqrt(a) * self.spread, np.sqrt(b) * other.spread, np.sqrt(a * b) * delta)
        spread = np.hypot(np.hypot(parts[0], parts[1]), parts[2])
        if self.correlation is None:
            return Moments(weight, mean, spread, None)
        first, second, shift = (_ratio(part, spread) for part in parts)
        gram = (first[:, None] * self.correlation * first[None, :]
                + second[:, None] * other.correlation * second[None, :]
                + np.outer(shift, shift))
        return Moments(weight, mean, spread, _correlation(gram, np.sqrt(np.diag(gram))))

    def rotated(self, rotation):
        """The moments of the rows times ``rotation`` (needs the correlations)."""
        largest = self.spread.max(initial=0.0)
        unit = _ratio(self.spread, largest)
        gram = rotation.T @ (unit[:, None] * self.correlation * unit[None, :]) @ rotation
        norms = np.sqrt(np.maximum(np.diag(gram), 0.0))
        return Moments(self.weight, self.mean @ rotation, largest * norms, _correlation(gram, norms))

    def second_correlation(self, about_mean):
        """Correlation matrix of the second moments about the mean, or about zero.

        About zero, column ``j`` is measured by its root mean square ``m_j``:
        ``(s_i R_ij s_j + mu_i mu_j) / (m_i m_j)``, formed from ratios only.
        """
        if about_mean:
            return self.correlation
        magnitude = np.hypot(self.spread, self.mean)
        spread, mean = _ratio(self.spread, magnitude), _ratio(self.mean, magnitude)
        gram = spread[:, None] * self.correlation * spread[None, :] + np.outer(mean, mean)
        return _correlation(gram, np.sqrt(np.diag(gram)))


def _correlation(gram, norms):
    """``gram`` divided by the outer product of ``norms``, zero where a norm is, with an exact unit diagonal."""
    correlation = _ratio(_ratio(gram, norms), norms[:, None])
    np.fill_diagonal(correlation, norms > 0)
    return correlation


def _ratio(numerator, denominator):
    """``numerator / denominator`` (broadcast), zero where the denominator is zero."""
    numerator, denominator = np.broadcast_arrays(numerator, denominator)
    return np.divide(numerator, denominator, out=np.zeros(numerator.shape), where=denominator != 0)


def _unit_scales(size, live, l2_strength):
    """``1 / size`` for the ``live`` columns, 0 for the others, as factors of ``P`` representable in float64.

    ``size`` is each column's root second moment. Refuses columns whose
    factor ``1 / size**2``, or their penalty in those units, is not a
    finite positive float64.
    """
    with np.errstate(over="ignore", divide="ignore"):
        scale = np.where(live, 1.0 / np.where(live, size, 1.0), 0.0)
        representable = np.isfinite(scale**2 * max(l2_strength, 1.0)) & (scale**2 > 0)
    bad = np.flatnonzero(live & ~representable)
    if bad.size:
        j = bad[0]
        if size[j] < 1:
            problem, fix = "small", (f"Multiply the features by a constant, e.g. column {j} by "
                                     f"{1.0 / size[j]:.0e} (scikit-learn's scalers leave such columns as they are)")
        else:
            problem, fix = "large", "Divide the features by a constant, e.g. with sklearn.preprocessing.MaxAbsScaler"
        raise ValueError(
            f"Column {j} of the features is too {problem} for learning_rate='auto' to rescale in "
            f"float64 (root second moment {size[j]:.3g}). {fix}, or choose another learning_rate."
        )
    return scale


def _positive_eigen(matrix):
    """Eigenvalues and eigenvectors of a symmetric positive definite ``matrix``.

    Eigenvalues below what the decomposition resolves (``d`` times the
    machine epsilon of the largest) are raised to it, so that rounding never
    makes them negative; if LAPACK's ``eigh`` fails to converge, the
    singular value decomposition, a different algorithm, gives them.
    """
    try:
        eigenvalues, eigenvectors = np.linalg.eigh(matrix)
    except np.linalg.LinAlgError:
        eigenvectors, eigenvalues, _ = np.linalg.svd(matrix)
    floor = max(_JITTER, matrix.shape[0] * np.finfo(float).eps * eigenvalues.max(initial=0.0))
    return np.maximum(eigenvalues, floor), eigenvectors


def _sample(rng, n, m):
    """``m`` distinct indices below ``n``, drawn uniformly by ``rng``, in increasing order.

    Without permuting all ``n`` (as ``rng.choice(n, m, replace=False)``
    does): the distinct values of about ``m`` uniform draws are a uniform
    subset of their size, topped up, then thinned to ``m`` at random.
    """
    if 4 * m >= n:
        return np.sort(rng.permutation(n)[:m])
    drawn = np.unique(rng.randint(0, n, size=m + m // 8))
    while drawn.size < m:
        drawn = np.union1d(drawn, rng.randint(0, n, size=m - drawn.size + m // 64 + 1))
    return np.sort(rng.choice(drawn, m, replace=False))


def _centred(X, centre, sample_weight, column_scale=1.0):
    """``(X - centre) * sqrt(sample_weight)[:, None] * column_scale`` as one new float64 array."""
    centred = np.subtract(X, centre, dtype=np.float64)
    centred *= np.sqrt(sample_weight)[:, None]
    centred *= column_scale
    return centred


def is_constant(spread, magnitude):
    """Whether columns with these standard deviations and root mean squares are constant to rounding."""
    return spread <= _CONSTANT * magnitude


def _diagonal_curvatures(X, shift, sample_weight, scale, root_inverse):
    """The largest eigenvalue of ``Z.T @ Z / sum(s)`` and the squared norms of the rows of ``Z``.

    ``Z`` has the rows ``sqrt(s_i) * (x_i - shift) * scale * root_inverse``;
    sparse rows compute both without forming it.
    """
    if isinstance(X, SparseRows):
        return X.centred_curvatures(shift, sample_weight, scale * root_inverse)
    rows = _centred(X, shift, sample_weight, scale)
    rows *= root_inverse
    return _largest_eigenvalue(rows) / sample_weight.sum(), np.einsum("ij,ij->i", rows, rows)


def _largest_eigenvalue(A):
    """Largest eigenvalue of ``A.T @ A`` without forming it when ``A`` is wide."""
    n_rows, n_cols = A.shape
    if min(n_rows, n_cols) <= MAX_FULL_FEATURES:
        small = A @ A.T if n_rows < n_cols else A.T @ A
        return float(np.linalg.eigvalsh(small)[-1])
    operator = LinearOperator((n_cols, n_cols), matvec=lambda v: A.T @ (A @ v), dtype=float)
    return float(eigsh(operator, k=1, which="LA", tol=1e-3, return_eigenvectors=False)[0]) * 1.01
