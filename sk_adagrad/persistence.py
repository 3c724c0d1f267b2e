"""Saving and loading fitted models, including with skops.

A fitted estimator keeps its whole training state (weights, Adagrad
accumulators, step counter, pending lazy penalty steps) in ``optimizer_``, so
any faithful round trip resumes ``partial_fit`` bit for bit, given
reproducible shuffles (``random_state`` set, or ``shuffle=False``). :mod:`pickle`
and :mod:`joblib` need nothing special.

:mod:`skops.io` loads only types it trusts. Beyond numpy, scipy and
scikit-learn, a fitted model holds a few small classes of this package;
:data:`SKOPS_TRUSTED_TYPES` names them all, so that a model is loaded without
trusting everything in the file::

    import skops.io
    from sk_adagrad.persistence import SKOPS_TRUSTED_TYPES

    skops.io.dump(model, "model.skops")
    untrusted = skops.io.get_untrusted_types(file="model.skops")
    assert set(untrusted) <= set(SKOPS_TRUSTED_TYPES)  # nothing unexpected
    model = skops.io.load("model.skops", trusted=SKOPS_TRUSTED_TYPES)

Any other type found in a file (a custom transformer in a pipeline, or the
metric function of a search fitted with a named ``scoring``) must be reviewed
and added to ``trusted`` by the user.

A pickled estimator records the version of sk_adagrad that wrote it, as
scikit-learn's estimators record theirs. Loading it with another version
warns with :class:`~sk_adagrad.InconsistentVersionWarning`, which names both:
the model loads, but refit it or load it with the version that wrote it to be
sure of its meaning. A pickle whose layout this version cannot read (one
written before the engine kept its state in one object, say) raises
:class:`~sk_adagrad.IncompatiblePickleError`, naming the version that wrote it
and the one reading it.
"""

from sklearn.metrics import check_scoring

from ._classifier import AdagradClassifier
from ._engine import SparseAdagrad
from ._losses import Loss
from ._penalty import ElasticNet
from ._regressor import AdagradRegressor
from ._schedule import Schedule
from ._search_estimators import AdagradClassifierCV, AdagradRegressorCV
from ._state import EngineState, RateHistory

__all__ = ["SKOPS_TRUSTED_TYPES"]

# Every class an estimator of this package stores, whatever its parameters.
_STORED_CLASSES = (
    AdagradClassifier,
    AdagradRegressor,
    AdagradClassifierCV,
    AdagradRegressorCV,
    SparseAdagrad,
    EngineState,
    RateHistory,
    Schedule,
    ElasticNet,
    *Loss.__subclasses__(),
    # A fitted search keeps its scorer (scikit-learn's, as GridSearchCV does):
    # the estimator's own score, or a named metric.
    *{type(check_scoring(AdagradClassifier(), scoring)) for scoring in (None, "f1")},
)

#: Fully qualified names of the classes a fitted model of this package holds,
#: in the form :func:`skops.io.get_untrusted_types` reports them; pass as
#: ``skops.io.load(file, trusted=SKOPS_TRUSTED_TYPES)``.
SKOPS_TRUSTED_TYPES: list[str] = sorted(
    f"{cls.__module__}.{cls.__qualname__}" for cls in _STORED_CLASSES
)
