"""scikit-learn's array_api_dispatch: NumPy input fits as usual, other namespaces get a clear error."""

import numpy as np
import pytest
import sklearn
import sklearn.utils._array_api

from skgd import GDPolynomialRegressor, GDRegressor

from _shared import make_regression_data


@pytest.fixture
def array_api_dispatch(monkeypatch):
    """Dispatch on. scikit-learn refuses it unless SciPy's own support was switched on before SciPy
    was imported (``SCIPY_ARRAY_API=1``); the inputs here never reach SciPy as non-NumPy arrays."""
    monkeypatch.setattr(sklearn.utils._array_api, "_check_array_api_dispatch", lambda dispatch: None)
    with sklearn.config_context(array_api_dispatch=True):
        yield


@pytest.mark.parametrize("Estimator", [GDRegressor, GDPolynomialRegressor])
def test_numpy_and_array_likes_fit_as_usual_with_dispatch_on(Estimator, array_api_dispatch):
    X, y = make_regression_data(n_samples=50, n_features=2)
    with sklearn.config_context(array_api_dispatch=False):
        expected = Estimator(random_state=0).fit(X, y)
    for data in [(X, y), (X.tolist(), y.tolist())]:
        model = Estimator(random_state=0).fit(*data)
        np.testing.assert_array_equal(model.coef_, expected.coef_)
        np.testing.assert_array_equal(model.predict(X), expected.predict(X))
        model.partial_fit(*data)


@pytest.mark.parametrize("Estimator", [GDRegressor, GDPolynomialRegressor])
def test_other_array_api_namespaces_get_a_clear_error(Estimator, array_api_dispatch):
    xp = pytest.importorskip("array_api_strict")
    X, y = make_regression_data(n_samples=50, n_features=2)
    model = Estimator(max_iter=3, tol=None).fit(X, y)
    message = (rf"^{Estimator.__name__} supports NumPy arrays and array-likes .* not yet arrays of the "
               r"Array API namespace 'array_api_strict'.*sklearn.set_config\(array_api_dispatch=False\)")
    with pytest.raises(TypeError, match=message):
        Estimator().fit(xp.asarray(X), xp.asarray(y))
    with pytest.raises(TypeError, match=message):
        model.partial_fit(xp.asarray(X), xp.asarray(y))
    with pytest.raises(TypeError, match=message):
        model.predict(xp.asarray(X))
