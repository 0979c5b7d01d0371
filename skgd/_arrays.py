"""Arrays as the compiled kernels take them (each dtype compiled for once), and as the estimators publish them.

numba compiles a kernel for each type of its arguments, and an array's type
includes its memory layout and whether it is writeable: a read-only array
(as pandas hands out, ``Series.to_numpy()``), a Fortran-ordered one or a
strided view would each compile every kernel again, seconds each time. The
estimators therefore hand the kernels their data C-ordered (which
``validate_data(..., order="C")`` ensures, copying only data that is not)
and through a read-only view (which copies nothing): one type per dtype,
whatever the caller's array.
"""

import numpy as np
import scipy.sparse as sp

from ._array_api import is_device_array, to_numpy


def kernel_array(array):
    """``array`` C-ordered (copied only if it is not) and seen through a read-only view.

    A sparse ``X`` is returned as CSR (converted only if it is not), whose
    arrays the sparse kernels read (see ``_sparse``).

    Parameters
    ----------
    array : ndarray or scipy.sparse matrix or array
        Validated data, ``X`` or ``y``.

    Returns
    -------
    view : ndarray or scipy.sparse CSR matrix or array
        A C-contiguous, read-only array with the values of ``array``.
    """
    if sp.issparse(array):
        return array.tocsr()
    view = np.ascontiguousarray(array).view()
    view.flags.writeable = False
    return view


def index_array(array):
    """The index array of a CSR matrix (``indices`` or ``indptr``) as unsigned integers of its width, read-only.

    A view: nothing is copied. CSR indices are never negative, and numba
    indexes with an unsigned integer as it is, where a signed one is first
    checked for a negative value to count from the end (``x[-1]``): that
    check, on each non-zero, kept the sparse kernels' loops from loading a
    row's values as vectors, and took about a third of a mini-batch epoch's
    kernel time on text-like data (``benchmarks/README.md``). The values,
    and so the results, are the same, bit for bit.

    Parameters
    ----------
    array : ndarray of int32 or int64
        ``indices`` or ``indptr`` of a validated CSR matrix.

    Returns
    -------
    view : ndarray of uint32 or uint64
    """
    view = np.ascontiguousarray(array).view(np.dtype(f"u{array.dtype.itemsize}"))
    view.flags.writeable = False
    return view


def float64_coef(coef):
    """A published ``coef_`` (float32, a sparse row after ``sparsify``, or on a device) as a new float64 vector."""
    if is_device_array(coef):
        coef = to_numpy(coef)
    return np.array(coef.toarray() if sp.issparse(coef) else coef, dtype=np.float64).reshape(-1)


def published(coef, intercept, dtype):
    """``coef_`` and ``intercept_`` for training data of ``dtype``, from the float64 ones of the kernels.

    float32 data gives a float32 ``coef_`` and intercept (``np.float32``),
    as in ``LinearRegression``; float64 data a float64 ``coef_`` and a
    Python ``float`` intercept. The intercepts of several targets stay an
    array, of ``dtype``.
    """
    if np.ndim(intercept):
        intercept = np.asarray(intercept, dtype=np.float64)
    if dtype == np.float64:
        return coef, intercept if np.ndim(intercept) else float(intercept)
    with np.errstate(over="ignore"):
        coef, intercept = coef.astype(dtype), np.asarray(intercept).astype(dtype)[()]
    if not (np.all(np.isfinite(coef)) and np.all(np.isfinite(intercept))):
        raise ValueError(
            f"The fitted coefficients exceed the range of {dtype} (up to {np.finfo(dtype).max:.3g}): "
            "fit on float64 data (X.astype(np.float64)), or scale the features (e.g. StandardScaler)."
        )
    return coef, intercept


def predictions(values, X, coef):
    """Float64 ``values`` predicted from ``X`` and ``coef_`` in their common dtype (float32 only if both are).

    A float32 prediction beyond float32's range becomes infinite, with
    NumPy's overflow warning, as in ``LinearRegression``.
    """
    return values.astype(np.result_type(X.dtype, coef.dtype), copy=False)
