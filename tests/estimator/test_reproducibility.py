"""Reproducibility: the same seed trains the same model to the bit, a pickled
model resumes exactly where it stopped, and unshuffled training ignores the seed."""

import hashlib
import os
import pickle
import subprocess
import sys

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.base import is_classifier

from sk_adagrad import AdagradClassifier, AdagradRegressor

N_CHUNKS, CHUNK_ROWS, N_FEATURES = 4, 60, 40


def _chunks(seed=0):
    rng = np.random.default_rng(seed)
    chunks = []
    for _ in range(N_CHUNKS):
        X = sp.random_array(
            (CHUNK_ROWS, N_FEATURES), density=0.15, random_state=rng, format="csr"
        )
        labels = rng.choice(["eggs", "ham", "spam"], size=CHUNK_ROWS)
        targets = X @ rng.normal(size=N_FEATURES) + 0.1 * rng.normal(size=CHUNK_ROWS)
        chunks.append((X, labels, targets))
    return chunks


CHUNKS = _chunks()
X_ALL = sp.vstack([X for X, _, _ in CHUNKS], format="csr")
LABELS_ALL = np.concatenate([labels for _, labels, _ in CHUNKS])
TARGETS_ALL = np.concatenate([targets for _, _, targets in CHUNKS])
CLASSES = np.array(["eggs", "ham", "spam"])

COMMON = dict(batch_size=16, max_iter=4, tol=None)
MODELS = {
    "classifier": lambda **kw: AdagradClassifier(**COMMON, **kw),
    "regressor": lambda **kw: AdagradRegressor(**COMMON, **kw),
    "multinomial_elasticnet_averaged": lambda **kw: AdagradClassifier(
        loss="log_loss",
        penalty="elasticnet",
        alpha=1e-3,
        l1_ratio=0.5,
        average=True,
        lr_decay=0.01,
        **COMMON,
        **kw,
    ),
    "regressor_l1_averaged_later": lambda **kw: AdagradRegressor(
        penalty="l1", alpha=1e-3, average=100, **COMMON, **kw
    ),
}


def _y(model, labels, targets):
    return labels if is_classifier(model) else targets


def _partial_fit_chunks(model, chunks):
    for X, labels, targets in chunks:
        if is_classifier(model):
            model.partial_fit(X, labels, classes=CLASSES)
        else:
            model.partial_fit(X, targets)
    return model


def _fit(model):
    return model.fit(X_ALL, _y(model, LABELS_ALL, TARGETS_ALL))


def _state(model):
    return pickle.dumps(model.optimizer_)


def _leaves(value, path="model"):
    """Every array and scalar of the state that pickling keeps, by path.

    Pickled bytes cannot compare a model with its own unpickled copy: pickle shares
    repeated strings by object identity, and unpickling changes which strings are
    the same object. This walk compares values only.
    """
    if isinstance(value, np.ndarray):
        yield path, (value.dtype.str, value.shape, value.tobytes())
    elif isinstance(value, dict):
        for key in sorted(value, key=str):
            yield from _leaves(value[key], f"{path}[{key!r}]")
    elif isinstance(value, list | tuple):
        yield path, (type(value).__name__, len(value))
        for index, item in enumerate(value):
            yield from _leaves(item, f"{path}[{index}]")
    elif isinstance(value, str | bytes | int | float | complex | np.generic | None):
        yield path, (type(value).__name__, repr(value))
    else:
        yield path, type(value).__qualname__
        yield from _leaves(value.__getstate__(), path)


def assert_same_state(model, expected):
    leaves, expected_leaves = dict(_leaves(model)), dict(_leaves(expected))
    differences = [
        path
        for path in leaves.keys() | expected_leaves.keys()
        if leaves.get(path) != expected_leaves.get(path)
    ]
    assert not differences, f"states differ at {sorted(differences)}"


@pytest.mark.parametrize("model_name", MODELS)
def test_fit_with_the_same_seed_is_bit_identical(model_name):
    first = _fit(MODELS[model_name](shuffle=True, random_state=7))
    second = _fit(MODELS[model_name](shuffle=True, random_state=7))
    assert pickle.dumps(first) == pickle.dumps(second)
    # The seed matters at all: another one shuffles differently.
    other = _fit(MODELS[model_name](shuffle=True, random_state=8))
    assert _state(other) != _state(first)


@pytest.mark.parametrize("model_name", MODELS)
def test_partial_fit_with_the_same_seed_is_bit_identical(model_name):
    first = _partial_fit_chunks(
        MODELS[model_name](shuffle=True, random_state=7), CHUNKS
    )
    second = _partial_fit_chunks(
        MODELS[model_name](shuffle=True, random_state=7), CHUNKS
    )
    assert pickle.dumps(first) == pickle.dumps(second)


@pytest.mark.parametrize("model_name", MODELS)
def test_random_state_instances_are_reproducible_too(model_name):
    def run():
        rng = np.random.RandomState(3)
        model = _partial_fit_chunks(
            MODELS[model_name](shuffle=True, random_state=rng), CHUNKS
        )
        return _state(_fit(model.set_params(warm_start=True)))

    assert run() == run()


@pytest.mark.parametrize("model_name", MODELS)
@pytest.mark.parametrize("random_state", [7, "instance"])
def test_pickling_mid_stream_then_continuing_is_bit_identical(model_name, random_state):
    def make():
        seed = np.random.RandomState(7) if random_state == "instance" else 7
        return MODELS[model_name](shuffle=True, random_state=seed)

    uninterrupted = _partial_fit_chunks(make(), CHUNKS)

    resumed = _partial_fit_chunks(make(), CHUNKS[:2])
    _ = resumed.coef_  # bringing the weights up to date for reading changes nothing
    resumed = pickle.loads(pickle.dumps(resumed))
    resumed = _partial_fit_chunks(resumed, CHUNKS[2:])

    assert_same_state(resumed, uninterrupted)
    np.testing.assert_array_equal(resumed.coef_, uninterrupted.coef_)
    np.testing.assert_array_equal(resumed.intercept_, uninterrupted.intercept_)


@pytest.mark.parametrize("model_name", MODELS)
def test_pickling_between_warm_fits_is_bit_identical(model_name):
    def warm():
        return MODELS[model_name](shuffle=True, random_state=7, warm_start=True)

    uninterrupted = _fit(_fit(warm()))
    resumed = _fit(pickle.loads(pickle.dumps(_fit(warm()))))
    assert_same_state(resumed, uninterrupted)


@pytest.mark.parametrize("model_name", MODELS)
def test_unshuffled_training_ignores_the_seed(model_name):
    fits = [
        _state(_fit(MODELS[model_name](shuffle=False, random_state=seed)))
        for seed in (0, 1, None)
    ]
    assert fits[0] == fits[1] == fits[2]
    streams = [
        _state(
            _partial_fit_chunks(
                MODELS[model_name](shuffle=False, random_state=seed), CHUNKS
            )
        )
        for seed in (0, 1, None)
    ]
    assert streams[0] == streams[1] == streams[2]


_TRAIN_IN_A_FRESH_INTERPRETER = """
import hashlib, pickle, sys
sys.path.insert(0, {tests_dir!r})
import test_reproducibility as t
digests = []
for name, make in t.MODELS.items():
    model = t._fit(make(shuffle=True, random_state=7))
    model = t._partial_fit_chunks(model, t.CHUNKS)
    digests.append(hashlib.sha256(pickle.dumps(model.optimizer_)).hexdigest())
print(" ".join(digests))
"""


def test_same_model_in_a_separate_interpreter(tmp_path):
    # Nothing depends on the process: its hash seed, dict order, memory layout.
    script = _TRAIN_IN_A_FRESH_INTERPRETER.format(
        tests_dir=os.path.dirname(os.path.abspath(__file__))
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONHASHSEED": "12345"},
        cwd=tmp_path,  # import the installed package, as this process does
        timeout=120,
        check=True,
    )
    here = []
    for make in MODELS.values():
        model = _fit(make(shuffle=True, random_state=7))
        model = _partial_fit_chunks(model, CHUNKS)
        here.append(hashlib.sha256(pickle.dumps(model.optimizer_)).hexdigest())
    assert result.stdout.split() == here
