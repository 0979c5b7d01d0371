"""skgd: scikit-learn-compatible regression by gradient descent."""

from ._linear import GDRegressor

__all__ = ["GDRegressor"]
__version__ = "0.1.0"
