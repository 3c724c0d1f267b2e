"""scikit-learn's own tests of ``SGDClassifier`` and ``SGDRegressor``, run
against ours as a user porting SGD code would run them.

The installed scikit-learn ships ``sklearn/linear_model/tests/test_sgd.py``.
It is loaded here as a module of its own and only its estimator factories are
pointed at ours: ``eta0`` becomes ``lr``, the schedule selectors
``learning_rate`` and ``power_t`` are dropped, ``n_jobs`` becomes
``n_threads``, and the ``Sparse*`` variants convert X to CSR in the methods
where the file's own wrappers do. No assertion is touched. Its tests are
collected here. Those that do not apply to Adagrad are listed in
``NOT_APPLICABLE`` with their reason and expected to fail at the statement
``FAILS_AT`` names, strictly: one that starts passing must leave the list, and
one that fails earlier fails the run, so that every assertion before the
expected failure is checked. Those that would only run scikit-learn's
own code (the one-class SVM, SGD's Cython losses) or repeat one that runs are
skipped. docs/sgd.rst
shows the counts.
"""

import functools
import importlib.util
import traceback
import types
import warnings
from pathlib import Path

import pytest
import scipy.sparse as sp
import sklearn
from sklearn import linear_model

from sk_adagrad import AdagradClassifier, AdagradRegressor

SOURCE = Path(sklearn.__file__).parent / "linear_model" / "tests" / "test_sgd.py"
if not SOURCE.is_file():
    pytest.skip(
        f"scikit-learn {sklearn.__version__} does not ship its SGD tests",
        allow_module_level=True,
    )


def _load_sklearn_tests():
    spec = importlib.util.spec_from_file_location("sklearn_test_sgd", SOURCE)
    module = importlib.util.module_from_spec(spec)
    with warnings.catch_warnings():
        # Its marks are registered by scikit-learn's conftest, not ours.
        warnings.simplefilter("ignore", pytest.PytestUnknownMarkWarning)
        spec.loader.exec_module(module)
    return module


sgd_tests = _load_sklearn_tests()


def ported_params(sgd_params: dict) -> dict:
    """SGD's keyword arguments as a user porting to Adagrad would write them."""
    params = dict(sgd_params)
    if "eta0" in params:
        params["lr"] = params.pop("eta0")
    params.pop("learning_rate", None)
    params.pop("power_t", None)
    if "n_jobs" in params:
        params["n_threads"] = params.pop("n_jobs")
    return params


def _csr(X):
    return sgd_tests._align_api_if_sparse(sp.csr_array(X))


class SparseInputClassifier(AdagradClassifier):
    """X converted to CSR where the file's ``_SparseSGDClassifier`` does."""

    def fit(self, X, y, *args, **kwargs):
        return super().fit(_csr(X), y, *args, **kwargs)

    def partial_fit(self, X, y, *args, **kwargs):
        return super().partial_fit(_csr(X), y, *args, **kwargs)

    def decision_function(self, X):
        return super().decision_function(_csr(X))

    def predict_proba(self, X):
        return super().predict_proba(_csr(X))


class SparseInputRegressor(AdagradRegressor):
    """X converted to CSR where the file's ``_SparseSGDRegressor`` does."""

    def fit(self, X, y, *args, **kwargs):
        return super().fit(_csr(X), y, *args, **kwargs)

    def partial_fit(self, X, y, *args, **kwargs):
        return super().partial_fit(_csr(X), y, *args, **kwargs)


def _factory(Estimator, name):
    def make(**sgd_params):
        return Estimator(**ported_params(sgd_params))

    make.__name__ = make.__qualname__ = name
    return make


def _linear_models_with_ours():
    """``sklearn.linear_model`` as the tests see it: ours in place of SGD's."""
    namespace = types.ModuleType("linear_model")
    namespace.__getattr__ = lambda name: getattr(linear_model, name)
    namespace.SGDClassifier = _factory(AdagradClassifier, "SGDClassifier")
    namespace.SGDRegressor = _factory(AdagradRegressor, "SGDRegressor")
    # Code written for SGD reads the loss names it accepts from the class; ours
    # accept the same names.
    for name in ("SGDClassifier", "SGDRegressor"):
        getattr(namespace, name).loss_functions = getattr(
            linear_model, name
        ).loss_functions
    return namespace


def _swap_estimators(module):
    ours = _linear_models_with_ours()
    # The module's factories (SGDClassifier, SparseSGDRegressor, ...) look
    # these names up when called.
    module.linear_model = ours
    module._SparseSGDClassifier = _factory(SparseInputClassifier, "SparseSGD")
    module._SparseSGDRegressor = _factory(SparseInputRegressor, "SparseSGD")
    # A few tests are parametrized with scikit-learn's classes themselves.
    swapped = {
        linear_model.SGDClassifier: ours.SGDClassifier,
        linear_model.SGDRegressor: ours.SGDRegressor,
    }
    for test in vars(module).values():
        marks = getattr(test, "pytestmark", None)
        if callable(test) and marks:
            test.pytestmark = [_swap_in_mark(mark, swapped) for mark in marks]


def _swap_in_mark(mark, swapped):
    if mark.name != "parametrize":
        return mark
    argnames, argvalues = mark.args[:2]
    argvalues = [
        swapped.get(value, value) if isinstance(value, type) else value
        for value in argvalues
    ]
    return pytest.mark.parametrize(argnames, argvalues, **mark.kwargs).mark


_swap_estimators(sgd_tests)


# Why a test does not apply to Adagrad.
SCHEDULE = "tests an SGD-only learning-rate schedule or its parameters"
ASGD = "expects the exact coefficients of per-sample averaged SGD"
ONE_CLASS = "one-class SVM: no counterpart here"
PRIVATE = "reads a private attribute of SGD's implementation"
WORDING = "matches SGD's wording of an error or warning we raise differently"
TINY_DATA = "expects what per-sample SGD reaches on tiny data in few epochs"
IRIS_F1 = "expects per-sample SGD's F1 scores on imbalanced iris, either side of 0.96"
JOBLIB_BACKEND = (
    "repeats the [threading] case: joblib's backend does not reach our threads"
)
WARM_START = (
    "warm_start carries t_ and the accumulators on, where SGD restarts (docs/sgd.rst)"
)
KNIFE_EDGE = (
    "checks the sign of a margin that is exactly 0 at the objective's minimiser"
)
SGD_LOSSES = (
    "tests SGD's Cython loss objects, no estimator (ours match them: test_losses.py)"
)
ZERO_WEIGHTS = (
    "expects zero weights where the objective's minimiser has weights of order 1e-5"
)

# Test name, or name[parameters] for some parametrizations only: the reason.
NOT_APPLICABLE = {
    "test_warm_start": WARM_START,
    "test_warm_start_multiclass": WARM_START,
    "test_learning_rate_PA_raises": SCHEDULE,
    "test_adaptive_longer_than_constant": SCHEDULE,
    "test_power_t_limits": SCHEDULE,
    "test_late_onset_averaging_reached": ASGD,
    "test_average_binary_computed_correctly": ASGD,
    "test_sgd_multiclass_average": ASGD,
    "test_sgd_averaged_computed_correctly": ASGD,
    "test_sgd_averaged_partial_fit": ASGD,
    "test_average_sparse": ASGD,
    "test_plain_has_no_average_attr": PRIVATE,
    # Every SGD loss name gives predict_proba or not as SGD's does; the error
    # for a loss without one says why in words of its own.
    "test_sgd_predict_proba_method_access": WORDING,
    "test_loss_function_epsilon": PRIVATE,
    "test_validation_mask_correctly_subsets": PRIVATE,
    "test_partial_fit_weight_class_balanced": WORDING,
    "test_underflow_or_overflow": WORDING,
    "test_tol_parameter": WORDING,
    # All weights are zero: scikit-learn's own check says so before SGD's
    # message about the held-out rows, which a new random state cannot fix.
    "test_sgd_error_on_zero_validation_weight": WORDING,
    "test_class_weights": KNIFE_EDGE,
    "test_sample_weights": KNIFE_EDGE,
    "test_large_regularization[l2]": ZERO_WEIGHTS,
    "test_balanced_weight": IRIS_F1,
    "test_sgd_proba[SparseSGDClassifier]": TINY_DATA,
    "test_sgd_random_state[SGDClassifier]": TINY_DATA,
    "test_loss_hinge": SGD_LOSSES,
    "test_gradient_squared_hinge": SGD_LOSSES,
    "test_loss_modified_huber": SGD_LOSSES,
    "test_loss_epsilon_insensitive": SGD_LOSSES,
    "test_loss_squared_epsilon_insensitive": SGD_LOSSES,
    "test_SGDClassifier_fit_for_all_backends[loky]": JOBLIB_BACKEND,
    "test_SGDClassifier_fit_for_all_backends[multiprocessing]": JOBLIB_BACKEND,
}


# Test name: the statement of scikit-learn's file at which it fails here, in the
# function that holds it. Every statement it runs before that one must pass.
FAILS_AT = {
    "test_warm_start": ("_test_warm_start", "assert clf3.t_ == clf2.t_"),
    "test_warm_start_multiclass": ("_test_warm_start", "assert clf3.t_ == clf2.t_"),
    "test_learning_rate_PA_raises": (
        "test_learning_rate_PA_raises",
        "with pytest.raises(ValueError):",
    ),
    "test_adaptive_longer_than_constant": (
        "test_adaptive_longer_than_constant",
        "assert clf1.n_iter_ > clf2.n_iter_",
    ),
    "test_power_t_limits": ("test_power_t_limits", "with pytest.warns("),
    "test_late_onset_averaging_reached": (
        "test_late_onset_averaging_reached",
        "assert_array_almost_equal(clf1.coef_.ravel(), average_weights.ravel(), "
        "decimal=16)",
    ),
    "test_average_binary_computed_correctly": (
        "test_average_binary_computed_correctly",
        "assert_array_almost_equal(clf.coef_, average_weights, decimal=14)",
    ),
    "test_sgd_multiclass_average": (
        "test_sgd_multiclass_average",
        "assert_array_almost_equal(average_coef, clf.coef_[i], decimal=16)",
    ),
    "test_sgd_averaged_computed_correctly": (
        "test_sgd_averaged_computed_correctly",
        "assert_array_almost_equal(clf.coef_, average_weights, decimal=16)",
    ),
    "test_sgd_averaged_partial_fit": (
        "test_sgd_averaged_partial_fit",
        "assert_array_almost_equal(clf.coef_, average_weights, decimal=16)",
    ),
    "test_average_sparse": (
        "test_average_sparse",
        "assert_array_almost_equal(clf.coef_, average_weights, decimal=16)",
    ),
    "test_plain_has_no_average_attr": (
        "test_plain_has_no_average_attr",
        'assert hasattr(clf, "_average_coef")',
    ),
    "test_sgd_predict_proba_method_access": (
        "test_sgd_predict_proba_method_access",
        "with pytest.raises(",
    ),
    "test_loss_function_epsilon": (
        "test_loss_function_epsilon",
        'assert clf.loss_functions["huber"][1] == 0.1',
    ),
    "test_validation_mask_correctly_subsets": (
        "test_validation_mask_correctly_subsets",
        "X_val, y_val = mock.call_args[0][1:3]",
    ),
    "test_partial_fit_weight_class_balanced": (
        "test_partial_fit_weight_class_balanced",
        "with pytest.raises(ValueError, match=regex):",
    ),
    "test_underflow_or_overflow": (
        "test_underflow_or_overflow",
        "with pytest.raises(ValueError, match=msg_regxp):",
    ),
    "test_tol_parameter": (
        "test_tol_parameter",
        "with pytest.warns(ConvergenceWarning, match=warning_message):",
    ),
    "test_sgd_error_on_zero_validation_weight": (
        "test_sgd_error_on_zero_validation_weight",
        "with pytest.raises(ValueError, match=error_message):",
    ),
    "test_class_weights": (
        "test_class_weights",
        "assert_array_equal(clf.predict([[0.2, -1.0]]), np.array([1]))",
    ),
    "test_sample_weights": (
        "test_sample_weights",
        "assert_array_equal(clf.predict([[0.2, -1.0]]), np.array([1]))",
    ),
    "test_large_regularization": (
        "test_large_regularization",
        "assert_array_almost_equal(model.coef_, np.zeros_like(model.coef_))",
    ),
    "test_balanced_weight": (
        "test_balanced_weight",
        'assert metrics.f1_score(y, y_pred, average="weighted") < 0.96',
    ),
    "test_sgd_proba": (
        "test_sgd_proba",
        "assert np.argmin(d, axis=1) == np.argmin(p, axis=1)",
    ),
    "test_sgd_random_state": (
        "test_sgd_random_state",
        "assert np.abs(coef_same_seed_a - coef_other_seed).max() > 1.0",
    ),
}


def not_applicable_reason(node) -> str | None:
    """Why the collected test ``node`` does not apply, or None if it does."""
    if any(word in node.name for word in ("OneClassSVM", "oneclass", "ocsvm")):
        return ONE_CLASS
    if node.originalname.startswith("test_sgd_one_class_svm"):
        return ONE_CLASS
    return NOT_APPLICABLE.get(node.name, NOT_APPLICABLE.get(node.originalname))


@pytest.fixture(autouse=True)
def _not_applicable(request):
    reason = not_applicable_reason(request.node)
    if reason in (ONE_CLASS, SGD_LOSSES, JOBLIB_BACKEND):
        # Run, it would test scikit-learn's own code, not ours, or repeat a
        # test that runs.
        pytest.skip(reason)
    if reason is not None:
        request.node.obj = _failing_at(
            request.node.obj, FAILS_AT[request.node.originalname], reason
        )


def _failing_at(test, statement, reason):
    """``test``, expected to fail at ``statement`` = (function, source line) of
    scikit-learn's file: it fails the run if it passes, or if it fails anywhere
    else, so that the statements before the expected failure are checked."""

    @functools.wraps(test)
    def run(*args, **kwargs):
        try:
            test(*args, **kwargs)
        except (Exception, pytest.fail.Exception) as error:
            frames = traceback.extract_tb(error.__traceback__)
            ours = [frame for frame in frames if frame.filename == str(SOURCE)]
            if not ours or (ours[-1].name, ours[-1].line) != statement:
                raise
            pytest.xfail(reason)
        pytest.fail(f"passes, expected to fail at {statement}: {reason}")

    return run


@pytest.fixture
def global_random_seed():
    """scikit-learn's default for the seed its conftest would provide."""
    return 42


globals().update(
    {
        name: test
        for name, test in vars(sgd_tests).items()
        if name.startswith("test_") and callable(test)
    }
)
