"""No compilation for data of a dtype already compiled for, whatever its flags and layout.

numba compiles a kernel once per type of its arguments, and an array's
type includes whether it is writeable and how it lies in memory: these
tests count the kernels' compiled specialisations around fits on read-only,
Fortran-ordered and strided copies of data already fitted.
"""

import sys

import numpy as np
import pytest
from numba.core.dispatcher import Dispatcher

from skgd import GDPolynomialRegressor, GDRegressor
from skgd._arrays import kernel_array

from _shared import SOLVERS, make_regression_data


def _n_specialisations():
    """How many specialisations skgd's compiled functions have, all together."""
    modules = [module for name, module in sys.modules.items() if name.startswith("skgd.")]
    dispatchers = {id(value): value for module in modules for value in vars(module).values()
                   if isinstance(value, Dispatcher)}
    return sum(len(dispatcher.signatures) for dispatcher in dispatchers.values())


def _read_only(array):
    copy = array.copy()
    copy.flags.writeable = False
    return copy


def _strided(array):
    """The same values as a view with gaps between rows (2-D: between columns)."""
    axis = array.ndim - 1
    return np.repeat(array, 2, axis=axis)[(slice(None),) * axis + (slice(None, None, 2),)]


def _layouts(X, y):
    yield _read_only(X), _read_only(y)
    yield np.asfortranarray(X), y
    yield _strided(X), _strided(y)
    yield np.repeat(X, 2, axis=0)[::2], y


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("Estimator", [GDRegressor, GDPolynomialRegressor])
@pytest.mark.parametrize("solver", SOLVERS)
def test_no_compilation_for_read_only_fortran_or_strided_data(solver, Estimator, dtype):
    X, y = make_regression_data(n_samples=80, n_features=3)
    X = X.astype(dtype)

    def use(X, y):
        model = Estimator(solver=solver, max_iter=3, tol=None, random_state=0).fit(X, y)
        model.partial_fit(X, y)
        return model.predict(X)

    expected = use(X, y)  # compiles for C-ordered, writeable data of this dtype
    before = _n_specialisations()
    for X_view, y_view in _layouts(X, y):
        assert not (X_view.flags.writeable and X_view.flags.c_contiguous)
        np.testing.assert_array_equal(use(X_view, y_view), expected)
    assert _n_specialisations() == before


def test_kernel_array_copies_only_what_is_not_c_ordered():
    X, _ = make_regression_data(n_samples=10)
    for array in (X, _read_only(X)):
        view = kernel_array(array)
        assert np.shares_memory(view, array) and not view.flags.writeable and view.flags.c_contiguous
    fortran = kernel_array(np.asfortranarray(X))
    assert fortran.flags.c_contiguous and not fortran.flags.writeable
    np.testing.assert_array_equal(fortran, X)
    assert X.flags.writeable  # the caller's array is left as it was


DEMO = """
import sys
from skgd import __main__ as demo
from test_compilation import _n_specialisations

def counted(model, X, y):
    before = _n_specialisations()
    result = original(model, X, y)
    print("new specialisations", _n_specialisations() - before)
    return result

original, demo._timed_fit = demo._timed_fit, counted
demo.main(sys.argv[1])
"""


def test_demo_compiles_and_loads_no_kernel_in_its_timed_fits(tmp_path):
    """Its warm-up compiles, or loads from the cache, every kernel the timed fits run.

    In a fresh process, where loading a cached kernel adds its
    specialisation too, so that a kernel the warm-up missed is counted.
    """
    import os
    import subprocess

    env = dict(os.environ, PYTHONPATH=os.pathsep.join([os.path.dirname(__file__), *sys.path]))
    result = subprocess.run([sys.executable, "-c", DEMO, str(tmp_path / "curves.png")], env=env,
                            capture_output=True, text=True, check=True)
    counts = [line for line in result.stdout.splitlines() if line.startswith("new specialisations")]
    assert counts == ["new specialisations 0"] * 4
