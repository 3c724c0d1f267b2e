"""Small fitted models and the comparison of their whole state, shared by the
bad-input and transactional-call tests.

The models are a one-vs-rest classifier, a regressor and a multinomial
classifier with an elastic-net penalty, averaging and a decaying rate (so that
lazy penalty steps and the running average are pending when a call fails).
"""

import pickle

import numpy as np
import scipy.sparse as sp
from sklearn.base import is_classifier

from sk_adagrad import AdagradClassifier, AdagradRegressor

CLASSES = np.array(["eggs", "ham", "spam"])
N_SAMPLES, N_FEATURES, BATCH_SIZE = 48, 6, 8
STEPS_PER_EPOCH = N_SAMPLES // BATCH_SIZE

_rng = np.random.default_rng(0)
DENSE = _rng.normal(size=(N_SAMPLES, N_FEATURES))
DENSE *= _rng.random((N_SAMPLES, N_FEATURES)) < 0.5
X = sp.csr_array(DENSE)
LABELS = _rng.permutation(np.resize(CLASSES, N_SAMPLES))
TARGETS = DENSE @ _rng.normal(size=N_FEATURES) + 0.1 * _rng.normal(size=N_SAMPLES)

# Few epochs of small batches: enough steps for lazy terms to be pending.
COMMON = dict(
    max_iter=3, tol=None, batch_size=BATCH_SIZE, random_state=0, warm_start=True
)
MODELS = {
    "classifier": lambda: AdagradClassifier(**COMMON),
    "regressor": lambda: AdagradRegressor(**COMMON),
    "elasticnet_averaged": lambda: AdagradClassifier(
        loss="log_loss",
        penalty="elasticnet",
        alpha=1e-2,
        l1_ratio=0.5,
        average=True,
        lr_decay=0.05,
        **COMMON,
    ),
}
METHODS = ["partial_fit", "fit"]

# What training changes, then what the first fit fixes (classes_: classifiers only).
TRAINING_STATE = (
    "coef_",
    "intercept_",
    "coef_accumulator_",
    "intercept_accumulator_",
    "t_",
    "n_iter_",
)
FITTED_STATE = (*TRAINING_STATE, "n_features_in_", "classes_")


def targets_for(model):
    return LABELS if is_classifier(model) else TARGETS


def fitted(name):
    model = MODELS[name]()
    return model.fit(X, targets_for(model))


def train(model, method, X, y, sample_weight=None):
    """``partial_fit`` (with the classes on a first call) or ``fit``."""
    if method == "fit":
        return model.fit(X, y, sample_weight=sample_weight)
    if is_classifier(model):
        return model.partial_fit(X, y, classes=CLASSES, sample_weight=sample_weight)
    return model.partial_fit(X, y, sample_weight=sample_weight)


def snapshot(model):
    """Everything a fitted model is made of, in a form compared with ``==``:
    arrays as (dtype, shape, bytes), plus the pickled optimizer and estimator."""
    state = {}
    for name in FITTED_STATE:
        if hasattr(model, name):
            value = getattr(model, name)
            if isinstance(value, np.ndarray):
                value = (value.dtype.str, value.shape, value.tobytes())
            state[name] = value
    state["pickled optimizer_"] = pickle.dumps(model.optimizer_)
    state["pickled estimator"] = pickle.dumps(model)
    return state


def assert_unchanged(model, before):
    """The model's fitted state is bit-identical to ``before``."""
    after = snapshot(model)
    assert after.keys() == before.keys()
    for name, old in before.items():
        assert after[name] == old, f"{name} changed"


def assert_finite_state(model):
    for name in ("coef_", "intercept_", "coef_accumulator_", "intercept_accumulator_"):
        assert np.isfinite(getattr(model, name)).all(), name


# The same rows in float32, with labels of every class in turn.
X32 = sp.csr_array(DENSE.astype(np.float32))


def fitted32(name):
    model = MODELS[name]()
    targets = (
        CLASSES[np.arange(X32.shape[0]) % 3]
        if isinstance(model, AdagradClassifier)
        else DENSE[:, 0]
    )
    return model.fit(X32, targets), targets
