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
# A column whose variance is below this share of its mean square is constant.
_CONSTANT = 1e-14


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
        streaming=False, moments=None, rows=None, rotatable=False,
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

        Returns
        -------
        preconditioner : Preconditioner
        moments : Moments
            The moments it was built from.
        """
        n_features = X.shape[1]
        n_samples = X.shape[0] if rows is None else rows.shape[0]
        max_samples = min(MAX_SAMPLES, max(MIN_SAMPLES, MAX_SAMPLE_VALUES // n_features))
        if n_samples > max_samples:
            drawn = np.sort(rng.choice(n_samples, max_samples, replace=False))
            rows = drawn if rows is None else rows[drawn]
        elif rows is None:
            rows = slice(None)
        X, sample_weight = X[rows], sample_weight[rows]
        cheap = n_features <= min(MAX_FULL_FEATURES, FULL_COST_RATIO * batch_size)
        rotate = moments is None and rotatable and not cheap and n_features <= MAX_FULL_FEATURES
        if moments is None:
            full = cheap or rotate
        else:
            full = moments.scatter.ndim == 2  # a stream keeps its first choice
        chunk = Moments.of(X, sample_weight, full)
        if moments is None:
            moments = chunk
        elif moments.weight < MAX_SAMPLES:
            moments = moments.merge(chunk)
        shift = moments.mean if fit_intercept else np.zeros(n_features)
        second = moments.scatter / moments.weight
        if not fit_intercept:
            second = second + (np.outer(moments.mean, moments.mean) if full else moments.mean**2)
        variances = np.diag(second) if full else second
        magnitudes = moments.scatter_diagonal() / moments.weight + moments.mean**2
        live = ~is_constant(variances, magnitudes)
        scale = np.where(live, 1.0 / np.sqrt(np.where(live, variances, 1.0)), 0.0)
        shrinkage = n_features / (moments.weight + n_features) if streaming else 0.0
        ridge = l2_strength * scale**2
        centred = _centred(X, shift, sample_weight, scale)
        if rotate:
            # worth a rotated copy of the design only if the diagonal P leaves it ill-conditioned
            n_live = int(live.sum())
            spectrum = np.linalg.eigvalsh(scale[:, None] * second * scale[None, :] + np.diag(ridge + _JITTER))
            full = rotate = n_live > 1 and spectrum[-1] > ROTATION_CONDITION * spectrum[n_features - n_live]
            if not rotate:
                moments = Moments(moments.weight, moments.mean, moments.scatter_diagonal().copy())
        if full:
            correlation = scale[:, None] * second * scale[None, :]
            shrunk = (1.0 - shrinkage) * correlation + np.diag(ridge + shrinkage * live + _JITTER)
            eigenvalues, eigenvectors = np.linalg.eigh(shrunk)
            inverse = (eigenvectors / eigenvalues) @ eigenvectors.T
            root = (eigenvectors / np.sqrt(eigenvalues)) @ eigenvectors.T
            rows = centred @ root
            coef_curvature = np.linalg.eigvalsh(root @ correlation @ root).max(initial=0.0)
            penalty_curvature = np.linalg.eigvalsh((root * ridge) @ root).max(initial=0.0)
            scale_full = scale[:, None] * inverse * scale[None, :]
            scale_diag = np.diag(scale_full).copy()
            root_full = scale[:, None] * root
        else:
            inverse = 1.0 / (live + ridge + _JITTER)
            rows = centred
            rows *= np.sqrt(inverse)
            coef_curvature = _largest_eigenvalue(rows) / sample_weight.sum()
            penalty_curvature = (ridge * inverse).max(initial=0.0)
            scale_full = np.empty((0, 0))
            scale_diag = scale**2 * inverse
            root_full = np.empty((0, 0))
        row_norms = np.einsum("ij,ij->i", rows, rows) + (sample_weight if fit_intercept else 0.0)
        preconditioner = cls(
            shift,
            scale_diag,
            scale_full,
            np.sqrt(scale_diag),
            root_full,
            coef_curvature=float(coef_curvature),
            row_curvature=float(row_norms.max(initial=0.0)),
            penalty_curvature=float(penalty_curvature),
            has_intercept=fit_intercept,
            rotate=rotate,
        )
        return preconditioner, moments

    def rotated(self):
        """The rotation ``Q`` and this full ``P`` as the diagonal one of the design rotated by ``Q``."""
        eigenvalues, rotation = np.linalg.eigh(self.scale_full)
        eigenvalues = np.maximum(eigenvalues, 0.0)
        empty = np.empty((0, 0))
        return rotation, Preconditioner(
            self.shift @ rotation, eigenvalues, empty, np.sqrt(eigenvalues), empty, self.coef_curvature,
            self.row_curvature, self.penalty_curvature, self.has_intercept,
        )

    def arrays(self):
        """The tuple of arrays the kernels take (see ``_kernels``)."""
        return self.shift, self.scale_diag, self.scale_full, self.root_diag, self.root_full

    def step_size(self, loss_curvature, batch_size, n_samples, noise_factor=1.0):
        """Step ``1 / L`` for batches of ``batch_size`` rows out of ``n_samples`` (may be inf).

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
        full_batch = max(loss_curvature * self.coef_curvature + self.penalty_curvature,
                         loss_curvature * intercept)
        one_row = loss_curvature * self.row_curvature + self.penalty_curvature
        if np.isinf(n_samples):
            weight = 1.0 / batch_size
        elif n_samples > 1:
            weight = (n_samples - batch_size) / (batch_size * (n_samples - 1))
        else:
            weight = 0.0
        return 1.0 / ((1.0 - weight) * full_batch + weight * noise_factor * one_row)


@dataclass(frozen=True)
class Moments:
    """Weighted moments of the rows seen so far, mergeable chunk by chunk.

    Attributes
    ----------
    weight : float
        Sum of the weights (the number of rows, weights having mean 1).
    mean : ndarray of shape (n_features,)
        Weighted mean of the rows.
    scatter : ndarray of shape (n_features, n_features) or (n_features,)
        Weighted sum of outer products of the centred rows (only its
        diagonal, for a diagonal preconditioner).
    """

    weight: float
    mean: np.ndarray
    scatter: np.ndarray

    @classmethod
    def of(cls, X, sample_weight, full):
        """Moments of the rows of ``X``."""
        weight = float(sample_weight.sum())
        mean = sample_weight @ X / weight
        centred = _centred(X, mean, sample_weight)
        scatter = centred.T @ centred if full else np.einsum("ij,ij->j", centred, centred)
        return cls(weight, mean, scatter)

    def merge(self, other):
        """Moments of both sets of rows (Chan et al.'s pairwise update)."""
        if other.weight == 0:
            return self
        if self.weight == 0:
            return other
        weight = self.weight + other.weight
        delta = other.mean - self.mean
        mean = self.mean + delta * (other.weight / weight)
        cross = np.outer(delta, delta) if self.scatter.ndim == 2 else delta**2
        scatter = self.scatter + other.scatter + cross * (self.weight * other.weight / weight)
        return Moments(weight, mean, scatter)

    def rotated(self, rotation):
        """The moments of the rows times ``rotation`` (needs the full scatter)."""
        return Moments(self.weight, self.mean @ rotation, rotation.T @ self.scatter @ rotation)

    def scatter_diagonal(self):
        return np.diag(self.scatter) if self.scatter.ndim == 2 else self.scatter


def _centred(X, centre, sample_weight, column_scale=1.0):
    """``(X - centre) * sqrt(sample_weight)[:, None] * column_scale`` as one new float64 array."""
    centred = np.subtract(X, centre, dtype=np.float64)
    centred *= np.sqrt(sample_weight)[:, None]
    centred *= column_scale
    return centred


def is_constant(variance, mean_square):
    """Whether columns with these variances and mean squares are constant to rounding."""
    return variance <= _CONSTANT * mean_square


def _largest_eigenvalue(A):
    """Largest eigenvalue of ``A.T @ A`` without forming it when ``A`` is wide."""
    n_rows, n_cols = A.shape
    if min(n_rows, n_cols) <= MAX_FULL_FEATURES:
        small = A @ A.T if n_rows < n_cols else A.T @ A
        return float(np.linalg.eigvalsh(small)[-1])
    operator = LinearOperator((n_cols, n_cols), matvec=lambda v: A.T @ (A @ v), dtype=float)
    return float(eigsh(operator, k=1, which="LA", tol=1e-3, return_eigenvectors=False)[0]) * 1.01
