"""The shortcuts that keep a small ``partial_fit`` call cheap, each against the
slow path it stands for: a chunk already valid skips scikit-learn's generic
validation, parameters are checked once while they stay the same objects, and a
call of one small batch runs without a thread pool."""

import pickle
import warnings
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
import scipy.sparse as sp
import sklearn
from sklearn.utils._param_validation import InvalidParameterError
from sklearn.utils.validation import _check_sample_weight

from sk_adagrad import AdagradClassifier, AdagradRegressor
from sk_adagrad._engine import SparseAdagrad
from sk_adagrad._sklearn_private import check_sample_weight
from sk_adagrad._step_policy import StepPolicy

from helpers.fitted_models import CLASSES, DENSE, LABELS, MODELS, TARGETS, X, fitted
from helpers.problems import engine_for, sparse_text_like

N_SAMPLES = X.shape[0]


def _with_value(matrix, value):
    changed = matrix.copy()
    changed.data[3] = value
    return changed


def _with_feature_names(model_name):
    pd = pytest.importorskip("pandas")
    model = MODELS[model_name]()
    frame = pd.DataFrame(DENSE, columns=[f"f{j}" for j in range(DENSE.shape[1])])
    return model.fit(frame, LABELS if model_name != "regressor" else TARGETS)


# Chunks for a fitted float64 model: (X, y, or None for a prediction). Those the
# shortcut takes and those it leaves to validate_data, which converts, warns or
# raises.
X_CASES = {
    "csr_array": X,
    "csr_matrix": sp.csr_matrix(X),
    "csr_float32": X.astype(np.float32),
    "csr_int": X.astype(np.int64),
    "csr_unsorted": sp.csr_array(
        (X.data[::-1], X.indices[::-1], X.indptr), shape=X.shape
    ),
    "csr_nan": _with_value(X, np.nan),
    "csr_inf": _with_value(X, np.inf),
    "csr_other_n_features": sp.csr_array(DENSE[:, :-1]),
    "csr_no_rows": X[:0],
    "csc": X.tocsc(),
    "coo": X.tocoo(),
    "dense": DENSE,
    "list": DENSE.tolist(),
}
Y_CASES = {
    "labels": lambda y: y,
    "not_given": lambda y: "no_validation",
    "int_labels": lambda y: np.searchsorted(CLASSES, y) if y.dtype.kind == "U" else y,
    "float32": lambda y: y.astype(np.float32) if y.dtype.kind == "f" else y,
    "nan": lambda y: (
        np.where(np.arange(len(y)) == 2, np.nan, y)
        if y.dtype.kind == "f"
        else y.astype(object)
    ),
    "object": lambda y: y.astype(object),
    "list": lambda y: y.tolist(),
    "column": lambda y: y[:, None],
    "too_short": lambda y: y[:-1],
    "none": lambda y: None,
}


def _validated(model, X, y, shortcut):
    """What ``model._validate_X`` gives for a later call (or the error and
    warnings it raises), with the shortcut taken when it applies or never."""
    original = type(model)._valid_as_given
    if not shortcut:
        type(model)._valid_as_given = lambda *args: False
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                kwargs = model._y_check_params() if not _is_missing(y) else {}
                result = model._validate_X(
                    X, y, reset=False, dtype=model.optimizer_.dtype, **kwargs
                )
            except Exception as error:  # noqa: BLE001 - compared below
                result = (type(error), str(error))
    finally:
        type(model)._valid_as_given = original
    return result, [(w.category, str(w.message)) for w in caught]


def _is_missing(y):
    return isinstance(y, str) and y == "no_validation"


def _comparable(result):
    parts = result if isinstance(result, tuple) else (result,)
    comparable = []
    for part in parts:
        if sp.issparse(part):
            arrays = pickle.dumps((part.indptr, part.indices, part.data))
            comparable.append((type(part), part.shape, arrays))
        elif isinstance(part, np.ndarray):
            comparable.append((part.dtype, part.shape, part.tobytes()))
        else:
            comparable.append(part)
    return comparable


@pytest.mark.parametrize("assume_finite", [False, True])
@pytest.mark.parametrize("y_case", Y_CASES)
@pytest.mark.parametrize("x_case", X_CASES)
@pytest.mark.parametrize("model_name", ["classifier", "regressor"])
def test_validation_shortcut_gives_what_validate_data_gives(
    model_name, x_case, y_case, assume_finite
):
    model = fitted(model_name)
    y = Y_CASES[y_case](LABELS if model_name == "classifier" else TARGETS)
    with sklearn.config_context(assume_finite=assume_finite):
        fast = _validated(model, X_CASES[x_case], y, shortcut=True)
        slow = _validated(model, X_CASES[x_case], y, shortcut=False)
    assert _comparable(fast[0]) == _comparable(slow[0])
    assert fast[1] == slow[1]


def test_validation_shortcut_is_taken_for_a_valid_chunk_only():
    model = fitted("classifier")
    dtype = model.optimizer_.dtype
    assert model._valid_as_given(X, LABELS, dtype)
    assert model._valid_as_given(sp.csr_matrix(X), LABELS, dtype)
    assert model._valid_as_given(X, "no_validation", (np.float64, np.float32))
    assert not model._valid_as_given(X.astype(np.float32), LABELS, dtype)
    assert not model._valid_as_given(_with_value(X, np.nan), LABELS, dtype)
    assert not model._valid_as_given(X, LABELS.tolist(), dtype)
    with sklearn.config_context(assume_finite=True):
        assert model._valid_as_given(_with_value(X, np.nan), LABELS, dtype)


@pytest.mark.filterwarnings("ignore:X does not have valid feature names")
def test_a_model_with_feature_names_is_validated_in_full():
    model = _with_feature_names("classifier")
    assert not model._valid_as_given(X, LABELS, model.optimizer_.dtype)
    with pytest.warns(UserWarning, match="feature names"):
        model.partial_fit(X, LABELS)


def test_sample_weight_none_is_the_helpers_ones():
    for dtype in (np.float64, np.float32):
        expected = _check_sample_weight(None, X, dtype=dtype)
        given = check_sample_weight(None, X, dtype=dtype)
        assert given.dtype == expected.dtype
        assert given.tobytes() == expected.tobytes()


# -- parameters ----------------------------------------------------------------


def _count_parameter_checks(monkeypatch):
    calls = []
    original = AdagradClassifier._validate_params

    def counted(self):
        calls.append(self)
        return original(self)

    monkeypatch.setattr(AdagradClassifier, "_validate_params", counted)
    return calls


def test_unchanged_parameters_are_checked_once(monkeypatch):
    calls = _count_parameter_checks(monkeypatch)
    model = AdagradClassifier(random_state=0, class_weight={"ham": 2.0})
    for _ in range(3):
        model.partial_fit(X, LABELS, classes=CLASSES)
    assert len(calls) == 1
    model.set_params(alpha=1e-3)  # a new value: checked again
    model.partial_fit(X, LABELS)
    other = AdagradClassifier(random_state=0).partial_fit(X, LABELS, classes=CLASSES)
    assert calls == [model, model, other]


@pytest.mark.parametrize("how", ["set_params", "attribute"])
def test_a_parameter_made_invalid_after_a_call_is_refused(how):
    model = AdagradClassifier(random_state=0).partial_fit(X, LABELS, classes=CLASSES)
    if how == "set_params":
        model.set_params(lr=-1.0)
    else:
        model.lr = -1.0
    with pytest.raises(InvalidParameterError, match="lr"):
        model.partial_fit(X, LABELS)


def test_a_failed_check_is_not_remembered():
    model = AdagradClassifier(alpha=-1.0)
    for _ in range(2):
        with pytest.raises(InvalidParameterError, match="alpha"):
            model.partial_fit(X, LABELS, classes=CLASSES)


# -- one batch, no threads -------------------------------------------------------


@pytest.mark.parametrize("in_place", [False, True])
@pytest.mark.parametrize("shard_entries", [1, 50, 2**18])
def test_can_share_is_whether_a_step_may_have_shards(in_place, shard_entries):
    policy = StepPolicy(
        in_place_ratio=np.inf if in_place else 0.0, shard_entries=shard_entries
    )
    engine = engine_for(300, 4, policy)
    for n_samples, nnz_per_row in [(1, 1), (3, 2), (20, 5), (200, 20)]:
        X_batch = sparse_text_like(n_samples, 300, nnz_per_row)
        for rows in (slice(None), slice(0, 1)):
            shards = engine.plan_step(X_batch[rows], n_shards=2).shards
            if len(shards) > 1:
                assert engine.can_share(X_batch)
        if not in_place:
            expected = min(300, X_batch.nnz) * 4 >= 2 * shard_entries
            assert engine.can_share(X_batch) == expected


@pytest.mark.parametrize("model_name", MODELS)
def test_a_call_of_one_batch_trains_alike_with_a_thread_pool(monkeypatch, model_name):
    def train():
        model = fitted(model_name)
        y = LABELS if model_name != "regressor" else TARGETS
        model.set_params(batch_size=N_SAMPLES)
        return model.partial_fit(X, y)

    alone = train()
    monkeypatch.setattr(SparseAdagrad, "can_share", lambda self, X: True)
    pooled = train()
    assert pickle.dumps(alone.optimizer_) == pickle.dumps(pooled.optimizer_)


def test_steps_too_small_to_share_use_no_thread_pool(monkeypatch):
    """Neither to share a step nor to prepare the next batch: handing a small
    batch to another thread costs more than preparing it on this one."""

    def refused(*args, **kwargs):
        raise AssertionError("a thread pool was set up")

    model = AdagradClassifier(random_state=0).partial_fit(X, LABELS, classes=CLASSES)
    monkeypatch.setattr(ThreadPoolExecutor, "__init__", refused)
    model.partial_fit(X, LABELS)
    model.set_params(batch_size=8).partial_fit(X, LABELS)
    model.fit(X, LABELS)
    # Steps that can be shared get the pool, which also prepares the batches.
    monkeypatch.setattr(SparseAdagrad, "can_share", lambda self, X: True)
    with pytest.raises(AssertionError, match="thread pool"):
        model.set_params(n_threads=2).partial_fit(X, LABELS)


@pytest.mark.parametrize("estimator", [AdagradClassifier(), AdagradRegressor()])
def test_targets_encoded_in_float32_are_the_float64_ones_rounded(estimator):
    y = LABELS if isinstance(estimator, AdagradClassifier) else TARGETS
    for multi_class in ("ovr", "multinomial"):
        if isinstance(estimator, AdagradClassifier):
            estimator.set_params(loss="log_loss", multi_class=multi_class)
            estimator.partial_fit(X, y, classes=CLASSES)
            targets, _ = estimator._prepare_y(y, np.ones(N_SAMPLES), reset=False)
        else:
            estimator.partial_fit(X, y)
            targets = y
        wide = estimator._encode_targets(targets)
        narrow = estimator._encode_targets(targets, np.float32)
        assert wide.dtype == np.float64 and narrow.dtype == np.float32
        assert np.array_equal(narrow, wide.astype(np.float32))
