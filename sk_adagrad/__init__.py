"""scikit-learn linear models trained by sparse, exactly regularised Adagrad."""

from ._classifier import AdagradClassifier
from ._engine import DivergenceError
from ._regressor import AdagradRegressor
from ._version import IncompatiblePickleError, InconsistentVersionWarning, __version__

__all__ = [
    "AdagradClassifier",
    "AdagradRegressor",
    "DivergenceError",
    "IncompatiblePickleError",
    "InconsistentVersionWarning",
    "__version__",
]
