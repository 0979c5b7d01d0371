"""The examples in the README, in docs/ and in the docstrings run and print what they say;
the docstrings document every parameter and fitted attribute."""

import doctest
import inspect
from pathlib import Path

import numpy as np
import pytest

import skgd
from skgd import _linear, _polynomial, plotting
from skgd._docstrings import entries

ROOT = Path(__file__).resolve().parent.parent
# sg_execution_times.rst is written into docs/ by the Sphinx build (not under version control)
DOCUMENTS = [
    ROOT / "README.md",
    *sorted(path for path in (ROOT / "docs").glob("*.rst") if path.name != "sg_execution_times.rst"),
]


@pytest.mark.parametrize("path", DOCUMENTS, ids=lambda path: path.name)
def test_document_examples(path):
    result = doctest.testfile(str(path), module_relative=False, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0


@pytest.mark.parametrize("module", [skgd, _linear, _polynomial, plotting], ids=lambda module: module.__name__)
def test_docstring_examples(module):
    result = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0


def _public_classes(module):
    return [getattr(module, name) for name in module.__all__ if inspect.isclass(getattr(module, name))]


ESTIMATORS = _public_classes(skgd)
DISPLAYS = _public_classes(plotting)


def _small_data(n_features=3, named_columns=False):
    rng = np.random.RandomState(0)
    X = rng.standard_normal((40, n_features))
    y = X @ np.linspace(1.0, -2.0, n_features) + 3.0 + 0.1 * rng.standard_normal(40)
    if named_columns:  # so that feature_names_in_ is set
        pd = pytest.importorskip("pandas")
        X = pd.DataFrame(X, columns=[f"feature {j}" for j in range(n_features)])
    return X, y


def _public_attributes(obj):
    return {name for name in vars(obj) if name.endswith("_") and not name.startswith("_")}


def _documented(cls, section):
    return set(entries(cls.__doc__, section))


@pytest.mark.parametrize("cls", ESTIMATORS + DISPLAYS, ids=lambda cls: cls.__name__)
def test_docstring_documents_every_parameter(cls):
    parameters = set(inspect.signature(cls).parameters)
    assert parameters, f"{cls.__name__}.__init__ takes no parameters"
    assert parameters - _documented(cls, "Parameters") == set()


def _estimator(Estimator, **params):
    """``Estimator(random_state=0, **params)``, recording its path where it can."""
    if "store_path" in Estimator().get_params():
        params.setdefault("store_path", "epoch")
    return Estimator(random_state=0, **params)


@pytest.mark.parametrize("Estimator", ESTIMATORS, ids=lambda cls: cls.__name__)
def test_docstring_documents_every_fitted_attribute(Estimator):
    X, y = _small_data(named_columns=True)
    fitted = _estimator(Estimator).fit(X, y)
    streamed = _estimator(Estimator).partial_fit(X, y)
    stopped_early = _estimator(Estimator, early_stopping=True).fit(X, y)
    attributes = set().union(*map(_public_attributes, [fitted, streamed, stopped_early]))
    assert {"coef_", "intercept_", "feature_names_in_"} <= attributes
    assert attributes - _documented(Estimator, "Attributes") == set()


@pytest.mark.parametrize("Display", DISPLAYS, ids=lambda cls: cls.__name__)
def test_docstring_documents_every_display_attribute(Display):
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    X, y = _small_data(n_features=1)  # a model any display can draw: (w, b) for a descent path
    estimator = _estimator(skgd.GDRegressor, early_stopping=True).fit(X, y)
    # from_estimator(estimator), with the data where the display asks for it
    wanted = inspect.signature(Display.from_estimator).parameters
    data = {name: value for name, value in {"X": X, "y": y}.items() if name in wanted}
    try:
        display = Display.from_estimator(estimator, **data).plot()
        attributes = _public_attributes(display)
    finally:
        plt.close("all")
    assert {"ax_", "figure_"} <= attributes
    assert attributes - _documented(Display, "Attributes") == set()
