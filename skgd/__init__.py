"""skgd: scikit-learn-compatible regression by gradient descent."""

from ._linear import GDRegressor
from ._polynomial import GDPolynomialRegressor

__all__ = ["GDPolynomialRegressor", "GDRegressor"]
__version__ = "0.1.0"
