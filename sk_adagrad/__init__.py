"""scikit-learn linear models trained by sparse, exactly regularised Adagrad."""

from ._classifier import AdagradClassifier
from ._engine import DivergenceError
from ._regressor import AdagradRegressor
from ._search_estimators import AdagradClassifierCV, AdagradRegressorCV

__all__ = [
    "AdagradClassifier",
    "AdagradClassifierCV",
    "AdagradRegressor",
    "AdagradRegressorCV",
    "DivergenceError",
]
__version__ = "0.1.0"
