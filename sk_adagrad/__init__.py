"""scikit-learn linear models trained by sparse, exactly regularised Adagrad."""

from ._classifier import AdagradClassifier
from ._engine import DivergenceError
from ._regressor import AdagradRegressor

__all__ = ["AdagradClassifier", "AdagradRegressor", "DivergenceError"]
__version__ = "0.1.0"
