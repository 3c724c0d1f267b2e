"""scikit-learn linear models trained by sparse, exactly regularised Adagrad."""

from ._classifier import AdagradClassifier
from ._divergence import DivergenceError
from ._regressor import AdagradRegressor
from ._search_estimators import AdagradClassifierCV, AdagradRegressorCV
from ._version import IncompatiblePickleError, InconsistentVersionWarning, __version__

__all__ = [
    "AdagradClassifier",
    "AdagradClassifierCV",
    "AdagradRegressor",
    "AdagradRegressorCV",
    "DivergenceError",
    "IncompatiblePickleError",
    "InconsistentVersionWarning",
    "__version__",
]
