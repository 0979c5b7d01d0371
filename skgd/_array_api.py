"""Arrays of other Array API namespaces (PyTorch, CuPy, ``array_api_strict``) under ``array_api_dispatch``.

With ``sklearn.set_config(array_api_dispatch=True)`` and data of a namespace
other than NumPy's, the estimators keep the data where it is, on its device,
in its dtype (float32 stays float32), and train with the vectorised path of
``_vectorised``: ``X``, ``y``, the weights, the coefficients, the update
rule's state and the preconditioner live on the device. The fitted
``coef_`` and ``intercept_`` are arrays of that namespace, on that device.
What is small stays on the host: the epoch objectives (``loss_curve_``),
the random draws (the shuffled order is moved to the device once an epoch),
and the ``'auto'`` statistics, computed as for NumPy data from the rows
``'auto'`` samples (at most ``_preconditioning.MAX_SAMPLES``), which are
gathered on the device and copied (never all of a large ``X``), and from
``y`` and the weights.

``solver='sgd'`` (one row per update) is refused: a GPU is fast on many rows
at a time, and one-row updates would each wait for the device.

Without dispatch, such arrays are converted to NumPy by the validation, as
any array-like.
"""

from dataclasses import replace

import numpy as np
from sklearn import get_config
from sklearn.externals.array_api_compat import array_namespace, is_array_api_obj
from sklearn.utils._array_api import (
    _convert_to_numpy, _is_numpy_namespace, _max_precision_float_dtype, device, get_namespace, move_to,
)
from sklearn.utils.validation import _check_sample_weight, check_array, validate_data


def is_device_array(X):
    """Whether ``X`` is an array of another Array API namespace than NumPy's (not a lazy design)."""
    return not isinstance(X, np.ndarray) and is_array_api_obj(X)


def namespace(array):
    """The Array API namespace of ``array``."""
    return get_namespace(array)[0]


def xp_device(array):
    """The device ``array`` lives on."""
    return device(array)


def dispatched_namespace(*arrays):
    """The namespace of ``arrays`` if dispatch is on and it is not NumPy's, else None."""
    if not get_config()["array_api_dispatch"]:
        return None
    xp, _ = get_namespace(*arrays)
    return None if _is_numpy_namespace(xp) else xp


def copied(array):
    """A copy of ``array``, of any namespace."""
    return array.copy() if isinstance(array, np.ndarray) else namespace(array).asarray(array, copy=True)


def to_numpy(array):
    """``array`` as a NumPy array, from any namespace and device."""
    return _convert_to_numpy(array, namespace(array))


def on_host(array):
    """``array`` as NumPy on the host if it is an array of an Array API namespace, else as it is.

    Any namespace and device, whatever the dispatch: for ``fit``'s
    ``coef_init`` and ``intercept_init``, a few values that the fit reads on
    the host whatever the namespace of ``X``.
    """
    return _convert_to_numpy(array, array_namespace(array)) if is_device_array(array) else array


def numpy_dtype(X):
    """The NumPy dtype of ``X``'s dtype (float32 or float64); ``X.dtype`` for NumPy arrays and sparse matrices."""
    return to_numpy(X[:0, ...]).dtype if is_device_array(X) else X.dtype


def all_finite(array):
    """Whether every value of ``array`` (of any namespace) is finite."""
    xp = namespace(array)
    return bool(xp.all(xp.isfinite(array)))


def device_rows(rows, like):
    """The NumPy row indices ``rows`` as an index array of ``like``'s namespace, on its device."""
    xp = namespace(like)
    return xp.asarray(np.ascontiguousarray(rows, dtype=np.int64), device=device(like))


def check_numpy_namespace(estimator, *arrays):
    """Raise a ``TypeError`` if dispatch is on and ``arrays`` (None skipped) are not NumPy's.

    For an estimator whose design is computed by compiled code (the lazily
    expanded monomials of ``GDPolynomialRegressor``).
    """
    xp = dispatched_namespace(*arrays)
    if xp is None:
        return
    raise TypeError(
        f"{type(estimator).__name__} supports NumPy arrays and array-likes (lists, pandas or "
        f"polars DataFrames), not arrays of the Array API namespace {xp.__name__!r}, which "
        "scikit-learn's array_api_dispatch=True passes through (GDRegressor does, e.g. on "
        "sklearn.preprocessing.PolynomialFeatures' output). Convert the data to NumPy arrays, "
        "or turn dispatch off with sklearn.set_config(array_api_dispatch=False)."
    )


def check_solver(estimator):
    """Refuse ``solver='sgd'`` for arrays on a device."""
    if estimator.solver == "sgd":
        raise ValueError(
            "solver='sgd' makes one update per row, a poor fit for arrays of another Array API namespace "
            "than NumPy's (as on a GPU, where each update would wait for the device). Use "
            "solver='minibatch' (e.g. batch_size=4096) or solver='batch', or turn dispatch off with "
            "sklearn.set_config(array_api_dispatch=False) to fit NumPy copies on the CPU."
        )


def validated_training_data(estimator, X, y, sample_weight, reset):
    """``X``, ``y`` and the sample weights (normalised to mean 1), validated, in ``X``'s namespace and dtype.

    The weights and ``y`` take the dtype of ``X`` (float32 or float64).
    """
    xp, _ = get_namespace(X)
    # everything follows X (scikit-learn's convention): y and the weights move to its namespace and device
    if is_array_api_obj(X):
        y, sample_weight = move_to(y, sample_weight, xp=xp, device=device(X))
    X, y = validate_data(estimator, X, y, dtype=[xp.float64, xp.float32], y_numeric=True, reset=reset)
    y = check_array(y, ensure_2d=False, dtype=X.dtype, input_name="y")
    estimator._check_target_magnitude(float(xp.max(xp.abs(y))), y.shape[0])
    sample_weight = _check_sample_weight(sample_weight, X, dtype=X.dtype, ensure_non_negative=True)
    largest = float(xp.max(sample_weight))
    if not largest > 0:
        raise ValueError("The sample weights sum to zero: at least one must be positive.")
    sample_weight = sample_weight / largest
    return X, y, sample_weight / xp.mean(sample_weight)


class HostRows:
    """A device array seen as a design whose indexed rows come to the host as float64 NumPy arrays.

    The ``'auto'`` statistics (see ``_preconditioning``) read their sample of
    rows through it: only those rows are copied.
    """

    def __init__(self, X):
        self.X = X
        self.shape = X.shape

    def __getitem__(self, rows):
        if isinstance(rows, slice):
            return to_numpy(self.X[rows, ...]).astype(np.float64)
        return to_numpy(namespace(self.X).take(self.X, device_rows(rows, self.X), axis=0)).astype(np.float64)


def moved_to(state, X):
    """``state`` (built on the host from NumPy arrays) with its arrays in ``X``'s namespace, dtype and device."""
    if not is_device_array(X):
        return state
    state.coef, state.rule_state, state.intercept = (
        _move(state.coef, X), _move(state.rule_state, X), _move(state.intercept, X)
    )
    state.preconditioner = moved_preconditioner(state.preconditioner, X)
    return state


def moved_preconditioner(preconditioner, X):
    """``preconditioner`` with its arrays in ``X``'s namespace, dtype and device (as it is for NumPy's ``X``)."""
    if not is_device_array(X):
        return preconditioner
    names = ("shift", "scale_diag", "scale_full", "root_diag", "root_full")
    return replace(preconditioner, **{name: _move(getattr(preconditioner, name), X) for name in names})


def _move(array, X):
    return namespace(X).asarray(array, dtype=X.dtype, device=device(X))


def host_view(*arrays):
    """The arrays as the host computes the starting state from them: a device's ``X`` as :class:`HostRows`,
    its ``y`` and weights as float64 NumPy arrays; NumPy arrays and lazy designs as they are."""
    hosted = tuple(
        (HostRows(a) if a.ndim == 2 else to_numpy(a).astype(np.float64)) if is_device_array(a) else a for a in arrays
    )
    return hosted if len(arrays) > 1 else hosted[0]


def take_rows(array, rows):
    """``array[rows]`` for NumPy row indices ``rows``, whatever the namespace of ``array``."""
    if not is_device_array(array):
        return array[rows]
    return namespace(array).take(array, device_rows(rows, array), axis=0)


def on_device_of(reference, array):
    """The NumPy ``array`` in the namespace and on the device of ``reference``, in its widest float dtype."""
    xp, where = namespace(reference), xp_device(reference)
    return xp.asarray(array, dtype=_max_precision_float_dtype(xp, where), device=where)
