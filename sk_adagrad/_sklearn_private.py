"""The private parts of scikit-learn this package uses, and nowhere else.

Each gives the package a behaviour that scikit-learn's own estimators have and
that its public API does not expose; the comment above each says which. Private
names can change between releases, so they are imported here only, and the
core tests run against both the declared minimum versions and the newest ones
(``.ci/run``).
"""

import operator
import weakref

import numpy as np
from sklearn import get_config

# Parameter constraints checked by BaseEstimator._validate_params (ranges, string
# options, an estimator parameter with the methods it needs): an invalid
# parameter raises InvalidParameterError at fit time, naming the parameter and
# what it accepts, with the message of scikit-learn's own estimators (as
# SGDClassifier(alpha=-1).fit does).
from sklearn.utils._param_validation import HasMethods, Interval, StrOptions

# The classes a first partial_fit must be given, and their consistency with
# later calls: the checks and messages of SGDClassifier.partial_fit.
from sklearn.utils.multiclass import _check_partial_fit_first_call

# sample_weight as SGDClassifier.fit takes it: None for ones, a scalar, or an
# array of the samples' length, refused when negative, with its messages.
from sklearn.utils.validation import _check_sample_weight

__all__ = [
    "HasMethods",
    "Interval",
    "StrOptions",
    "check_partial_fit_first_call",
    "check_sample_weight",
    "scorer_methods",
    "validate_params",
]


def scorer_methods(scorer) -> tuple[str, ...]:
    """The estimator methods a scorer reads, any one of which it can use
    (``_Scorer._response_method``), or () when it does not say (a callable,
    the estimator's own ``score``): a grid search checks them before training,
    as ``GridSearchCV`` would fail only on its first fit."""
    methods = getattr(scorer, "_response_method", ())
    return (methods,) if isinstance(methods, str) else tuple(methods)


check_partial_fit_first_call = _check_partial_fit_first_call


# Per estimator, the parameter values its last check passed. The constraints
# check types and ranges, and every value they accept is either immutable (a
# number, a string, None) or valid whatever it holds (a class_weight dict, a
# RandomState): values that are the very same objects pass again. A stream of
# partial_fit calls is checked once (the check costs a tenth of a millisecond,
# as much as a small chunk's step), and a parameter set anew is checked at the
# next call.
_PASSED_VALUES = weakref.WeakKeyDictionary()


def validate_params(estimator):
    """Check the estimator's parameters against its ``_parameter_constraints``
    (see Interval and StrOptions above), unless
    ``sklearn.set_config(skip_parameter_validation=True)`` says not to, as
    scikit-learn's own estimators do through their fit decorator, or the values
    are the objects that passed the estimator's last check."""
    if get_config()["skip_parameter_validation"]:
        return
    values = [getattr(estimator, name) for name in estimator._parameter_constraints]
    passed = _PASSED_VALUES.get(estimator)
    if passed is not None and all(map(operator.is_, passed, values)):
        return
    estimator._validate_params()
    _PASSED_VALUES[estimator] = values


def check_sample_weight(sample_weight, X, dtype):
    """Validated non-negative sample weights of ``dtype``, not all zero."""
    if sample_weight is None:
        # What the helper returns for None, without its generic count of X's rows.
        return np.ones(X.shape[0], dtype=dtype)
    sample_weight = _check_sample_weight(
        sample_weight, X, dtype=dtype, ensure_non_negative=True
    )
    # Recent scikit-learn refuses all-zero weights inside the helper, older
    # releases do not: refused here, with its message, whatever the release.
    if not sample_weight.any():
        raise ValueError("Sample weights must contain at least one non-zero number.")
    return sample_weight
