"""Saved and reloaded models predict identically and resume training bit for bit.

Model A is trained by partial_fit on chunks c1, c2, c3; model B on c1, c2, then
saved and reloaded, then c3. Every piece of training state must agree exactly.
"""

import io
import pickle

import joblib
import numpy as np
import pytest
import scipy.sparse as sp
import skops.io

from sk_adagrad import AdagradClassifier, AdagradRegressor
from sk_adagrad.persistence import SKOPS_TRUSTED_TYPES

from helpers.fitted_models import MODELS, X32, fitted32, snapshot
from helpers.fitted_models import TRAINING_STATE as STATE_ATTRIBUTES
from helpers.float32 import float32_state

N_FEATURES = 300
CHUNK_ROWS = 150


def _pickle_round_trip(model):
    return pickle.loads(pickle.dumps(model))


def _joblib_round_trip(model):
    buffer = io.BytesIO()
    joblib.dump(model, buffer)
    buffer.seek(0)
    return joblib.load(buffer)


def _skops_round_trip(model):
    # Only this package's own classes are trusted, not everything in the file.
    return skops.io.loads(skops.io.dumps(model), trusted=SKOPS_TRUSTED_TYPES)


ROUND_TRIPS = {
    "pickle": _pickle_round_trip,
    "joblib": _joblib_round_trip,
    "skops": _skops_round_trip,
}


def _chunks(kind, n_classes=3, seed=0):
    """Three sparse CSR chunks with a planted linear model; rare features make
    the lazy penalty catch-up run across chunk boundaries."""
    rng = np.random.default_rng(seed)
    X = sp.random(
        3 * CHUNK_ROWS, N_FEATURES, density=0.03, random_state=seed, format="csr"
    )
    hidden = rng.normal(size=(N_FEATURES, n_classes))
    margins = np.asarray(X @ hidden) + 0.3 * rng.normal(size=(X.shape[0], n_classes))
    if kind == "regression":
        y = margins[:, 0]
    elif n_classes == 2:
        y = np.array(["no", "yes"])[(margins[:, 0] > 0).astype(int)]
    else:
        y = margins.argmax(axis=1)
    return [
        (X[start : start + CHUNK_ROWS], y[start : start + CHUNK_ROWS])
        for start in range(0, X.shape[0], CHUNK_ROWS)
    ]


CONFIGURATIONS = {
    "multinomial-elasticnet-average": (
        AdagradClassifier,
        dict(
            loss="log_loss",
            penalty="elasticnet",
            alpha=1e-3,
            l1_ratio=0.5,
            average=True,
            shuffle=True,
            random_state=0,
        ),
        3,
    ),
    "ovr-l1-decay-late-average": (
        AdagradClassifier,
        dict(
            loss="hinge",
            penalty="l1",
            alpha=1e-3,
            lr_decay=0.05,
            average=200,
            shuffle=True,
            random_state=7,
        ),
        4,
    ),
    "binary-strings-class-weight": (
        AdagradClassifier,
        dict(
            loss="modified_huber",
            penalty="l2",
            alpha=1e-2,
            class_weight={"no": 2.0, "yes": 0.5},
            initial_accumulator_value=0.1,
            shuffle=True,
            random_state=3,
        ),
        2,
    ),
    "random-state-instance": (
        AdagradClassifier,
        dict(
            loss="squared_hinge",
            penalty="elasticnet",
            alpha=1e-3,
            shuffle=True,
            random_state=np.random.RandomState(11),
        ),
        3,
    ),
    "regressor-huber-elasticnet-average": (
        AdagradRegressor,
        dict(
            loss="huber",
            penalty="elasticnet",
            alpha=1e-3,
            average=True,
            shuffle=True,
            random_state=5,
        ),
        1,
    ),
}


def _new_model(name):
    estimator, params, _ = CONFIGURATIONS[name]
    # Each model gets its own copy of a RandomState parameter, seeded alike.
    params = pickle.loads(pickle.dumps(params))
    return estimator(batch_size=16, lr=0.2, **params)


def _partial_fit(model, chunk, classes):
    X, y = chunk
    if isinstance(model, AdagradClassifier):
        return model.partial_fit(X, y, classes=classes)
    return model.partial_fit(X, y)


def _chunks_and_classes(name):
    estimator, _, n_classes = CONFIGURATIONS[name]
    if estimator is AdagradRegressor:
        return _chunks("regression"), None
    chunks = _chunks("classification", n_classes)
    return chunks, np.unique(np.concatenate([y for _, y in chunks]))


@pytest.mark.parametrize("round_trip", ROUND_TRIPS)
@pytest.mark.parametrize("name", CONFIGURATIONS)
def test_reloaded_model_resumes_partial_fit_exactly(name, round_trip):
    chunks, classes = _chunks_and_classes(name)
    X_all = sp.vstack([X for X, _ in chunks]).tocsr()

    uninterrupted = _new_model(name)
    for chunk in chunks:
        _partial_fit(uninterrupted, chunk, classes)

    interrupted = _new_model(name)
    for chunk in chunks[:2]:
        _partial_fit(interrupted, chunk, classes)
    before = interrupted.predict(X_all)
    reloaded = ROUND_TRIPS[round_trip](interrupted)

    assert type(reloaded) is type(interrupted)
    assert reloaded.get_params().keys() == interrupted.get_params().keys()
    np.testing.assert_array_equal(reloaded.predict(X_all), before)
    for attribute in STATE_ATTRIBUTES:
        assert np.array_equal(
            getattr(reloaded, attribute), getattr(interrupted, attribute)
        ), attribute

    _partial_fit(reloaded, chunks[2], classes)
    for attribute in STATE_ATTRIBUTES:
        assert np.array_equal(
            getattr(reloaded, attribute), getattr(uninterrupted, attribute)
        ), attribute
    np.testing.assert_array_equal(reloaded.predict(X_all), uninterrupted.predict(X_all))
    if isinstance(reloaded, AdagradClassifier):
        np.testing.assert_array_equal(reloaded.classes_, uninterrupted.classes_)
        np.testing.assert_array_equal(
            reloaded.decision_function(X_all), uninterrupted.decision_function(X_all)
        )


@pytest.mark.parametrize("round_trip", ROUND_TRIPS)
def test_reloaded_model_resumes_fit_with_warm_start(round_trip):
    chunks, _ = _chunks_and_classes("multinomial-elasticnet-average")
    X = sp.vstack([X for X, _ in chunks]).tocsr()
    y = np.concatenate([y for _, y in chunks])
    params = dict(
        loss="log_loss", penalty="elasticnet", alpha=1e-3, average=True, tol=None
    )
    params |= dict(warm_start=True, random_state=0, max_iter=2)

    uninterrupted = AdagradClassifier(**params).fit(X, y).fit(X, y)
    reloaded = ROUND_TRIPS[round_trip](AdagradClassifier(**params).fit(X, y))
    reloaded.fit(X, y)
    for attribute in STATE_ATTRIBUTES:
        # An integer seed restarts its stream in each fit call, so both runs
        # see the same epoch orders.
        assert np.array_equal(
            getattr(reloaded, attribute), getattr(uninterrupted, attribute)
        ), attribute


def test_skops_file_round_trip_needs_only_the_package_types(tmp_path):
    chunks, classes = _chunks_and_classes("multinomial-elasticnet-average")
    model = _new_model("multinomial-elasticnet-average")
    for chunk in chunks:
        _partial_fit(model, chunk, classes)
    path = tmp_path / "model.skops"
    skops.io.dump(model, path)

    untrusted = skops.io.get_untrusted_types(file=path)
    assert untrusted, "skops should not trust this package's classes by default"
    assert set(untrusted) <= set(SKOPS_TRUSTED_TYPES)
    with pytest.raises(skops.io.exceptions.UntrustedTypesFoundException):
        skops.io.load(path)
    loaded = skops.io.load(path, trusted=SKOPS_TRUSTED_TYPES)
    np.testing.assert_array_equal(loaded.coef_, model.coef_)


def _fitted_variants():
    """Models covering every loss, penalty, averaging and coef format."""
    rng = np.random.default_rng(0)
    X = sp.random(120, 20, density=0.2, random_state=0, format="csr")
    y_class = rng.integers(0, 3, 120)
    y_value = rng.normal(size=120)
    for loss in ("hinge", "log_loss", "modified_huber", "squared_hinge", "perceptron"):
        for penalty in ("l2", "l1", "elasticnet", None):
            yield AdagradClassifier(
                loss=loss, penalty=penalty, max_iter=2, tol=None
            ).fit(X, y_class)
        yield AdagradClassifier(loss=loss, multi_class="ovr", max_iter=2, tol=None).fit(
            X, y_class % 2
        )
    for loss in (
        "squared_error",
        "huber",
        "epsilon_insensitive",
        "squared_epsilon_insensitive",
    ):
        yield AdagradRegressor(loss=loss, average=True, max_iter=2, tol=None).fit(
            X, y_value
        )
    yield AdagradClassifier(average=10, max_iter=2, tol=None).fit(X, y_class).sparsify()
    # Searches, which keep their scorer: the estimator's score, or a named one
    # (whose metric function is the user's to trust, see below).
    from sk_adagrad import AdagradClassifierCV, AdagradRegressorCV

    yield AdagradClassifierCV(lr=[0.3, 1.0], cv=2, max_iter=2).fit(X, y_class)
    yield AdagradRegressorCV(cv=2, scoring="r2", max_iter=2).fit(X, y_value)


def test_trusted_types_cover_every_fitted_model():
    seen = set()
    for model in _fitted_variants():
        untrusted = set(skops.io.get_untrusted_types(data=skops.io.dumps(model)))
        untrusted.discard("sklearn.metrics._regression.r2_score")
        assert untrusted <= set(SKOPS_TRUSTED_TYPES), untrusted - set(
            SKOPS_TRUSTED_TYPES
        )
        seen |= untrusted
    # The list holds nothing that a model never stores.
    assert seen == set(SKOPS_TRUSTED_TYPES)


def test_sparsified_model_stays_sparse_after_round_trip():
    chunks, classes = _chunks_and_classes("ovr-l1-decay-late-average")
    model = _new_model("ovr-l1-decay-late-average")
    _partial_fit(model, chunks[0], classes)
    model.sparsify()
    for round_trip in ROUND_TRIPS.values():
        reloaded = round_trip(model)
        assert sp.issparse(reloaded.coef_)
        np.testing.assert_array_equal(reloaded.coef_.toarray(), model.coef_.toarray())


@pytest.mark.parametrize("scoring", [None, "f1_macro"])
@pytest.mark.parametrize("search", ["classifier", "regressor"])
def test_a_fitted_search_loads_with_the_package_types(search, scoring):
    from sk_adagrad import AdagradClassifierCV, AdagradRegressorCV

    rng = np.random.default_rng(0)
    X = sp.random(90, 15, density=0.3, random_state=0, format="csr")
    if search == "classifier":
        model = AdagradClassifierCV(lr=[0.3, 1.0], cv=3, scoring=scoring)
        y = rng.integers(0, 3, 90)
    else:
        model = AdagradRegressorCV(
            lr=[0.3, 1.0], cv=3, scoring=None if scoring is None else "r2"
        )
        y = rng.normal(size=90)
    model.fit(X, y)
    dumped = skops.io.dumps(model)
    extra = set(skops.io.get_untrusted_types(data=dumped)) - set(SKOPS_TRUSTED_TYPES)
    # A named metric's scorer holds that metric's function, for the user to
    # trust; with the estimator's own score nothing else is needed.
    if scoring is None:
        assert not extra
    else:
        assert len(extra) == 1 and next(iter(extra)).startswith("sklearn.metrics.")
    loaded = skops.io.loads(dumped, trusted=SKOPS_TRUSTED_TYPES + sorted(extra))
    np.testing.assert_array_equal(loaded.predict(X), model.predict(X))
    assert loaded.best_params_ == model.best_params_


@pytest.mark.parametrize("model_name", MODELS)
def test_pickled_float32_model_resumes_exactly(model_name):
    uninterrupted, targets = fitted32(model_name)
    interrupted, _ = fitted32(model_name)
    chunks = np.array_split(np.arange(X32.shape[0]), 3)
    for rows in chunks[:2]:
        uninterrupted.partial_fit(X32[rows], targets[rows])
        interrupted.partial_fit(X32[rows], targets[rows])
    reloaded = pickle.loads(pickle.dumps(interrupted))
    reloaded.partial_fit(X32[chunks[2]], targets[chunks[2]])
    uninterrupted.partial_fit(X32[chunks[2]], targets[chunks[2]])
    # Everything but the pickle of the estimator itself, whose memo of shared
    # objects differs after a round trip.
    resumed, expected = snapshot(reloaded), snapshot(uninterrupted)
    del resumed["pickled estimator"], expected["pickled estimator"]
    assert resumed == expected
    float32_state(reloaded)
