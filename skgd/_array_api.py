"""Inputs under scikit-learn's ``array_api_dispatch``: NumPy only, until the Array API is supported.

With ``sklearn.set_config(array_api_dispatch=True)``, scikit-learn's input
validation works in the namespace of the arrays it is given. skgd's kernels
are compiled for NumPy arrays, so NumPy arrays and array-likes (lists,
pandas or polars DataFrames) are fitted as usual; arrays of another Array
API namespace (PyTorch, CuPy, ``array_api_strict``) get an error that says
what to do instead of one from deep inside the validation.
"""

from sklearn import get_config
from sklearn.utils._array_api import _is_numpy_namespace, get_namespace


def check_numpy_namespace(estimator, *arrays):
    """Raise a ``TypeError`` if dispatch is on and ``arrays`` (None skipped) are not NumPy's.

    Parameters
    ----------
    estimator : estimator instance
        The estimator the arrays are given to, named in the message.
    *arrays : array-like or None
        The inputs of ``fit``, ``partial_fit`` or ``predict``.
    """
    if not get_config()["array_api_dispatch"]:
        return
    xp, _ = get_namespace(*arrays)
    if _is_numpy_namespace(xp):
        return
    raise TypeError(
        f"{type(estimator).__name__} supports NumPy arrays and array-likes (lists, pandas or "
        f"polars DataFrames), not yet arrays of the Array API namespace {xp.__name__!r}, which "
        "scikit-learn's array_api_dispatch=True passes through. Convert the data to NumPy "
        "arrays, or turn dispatch off with sklearn.set_config(array_api_dispatch=False)."
    )
