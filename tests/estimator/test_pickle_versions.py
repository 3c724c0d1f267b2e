"""A pickled estimator carries the version of sk_adagrad that wrote it: loading
it with another version warns, as scikit-learn does for its own estimators,
and a layout this version cannot read raises an error naming both versions."""

import pickle
import warnings

import numpy as np
import pytest
import scipy.sparse as sp

import sk_adagrad
from sk_adagrad import (
    AdagradClassifier,
    AdagradClassifierCV,
    AdagradRegressor,
    IncompatiblePickleError,
    InconsistentVersionWarning,
    _version,
)
from sk_adagrad._engine import SparseAdagrad

X = sp.random(30, 8, density=0.4, random_state=0, format="csr")
LABELS = np.arange(30) % 3


def fitted(Estimator=AdagradClassifier):
    target = LABELS if Estimator is AdagradClassifier else LABELS.astype(float)
    return Estimator(random_state=0).fit(X, target)


def pickled_by(version, model, monkeypatch):
    """``model`` pickled as sk_adagrad ``version`` would write it: the state
    this version writes, recording ``version`` instead."""
    this_versions_state = _version.VersionedPickle.__getstate__

    def state_of_version(self):
        return this_versions_state(self) | {"_sk_adagrad_version": version}

    with monkeypatch.context() as patch:
        patch.setattr(_version.VersionedPickle, "__getstate__", state_of_version)
        return pickle.dumps(model)


@pytest.mark.parametrize("Estimator", [AdagradClassifier, AdagradRegressor])
def test_a_pickle_of_this_version_loads_silently_and_records_it(Estimator):
    model = fitted(Estimator)
    assert model.__getstate__()["_sk_adagrad_version"] == sk_adagrad.__version__
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        loaded = pickle.loads(pickle.dumps(model))
        unfitted = pickle.loads(pickle.dumps(Estimator(lr=0.5)))
    np.testing.assert_array_equal(loaded.coef_, model.coef_)
    assert "_sk_adagrad_version" not in vars(loaded)
    assert unfitted.lr == 0.5


def test_a_pickle_of_another_version_warns_naming_both(monkeypatch):
    model = fitted()
    data = pickled_by("0.0.7", model, monkeypatch)
    with pytest.warns(InconsistentVersionWarning) as record:
        loaded = pickle.loads(data)
    (warning,) = [w.message for w in record]
    assert isinstance(warning, UserWarning)
    assert (warning.original_version, warning.current_version) == (
        "0.0.7",
        sk_adagrad.__version__,
    )
    message = str(warning)
    assert "AdagradClassifier" in message
    assert "sk_adagrad 0.0.7" in message
    assert f"sk_adagrad {sk_adagrad.__version__}" in message
    # Its layout is this version's: it loads whole and trains on.
    np.testing.assert_array_equal(loaded.coef_, model.coef_)
    loaded.partial_fit(X, LABELS)


def test_a_pickle_without_a_version_warns_that_it_is_unknown(monkeypatch):
    model = fitted()
    with monkeypatch.context() as patch:
        patch.setattr(_version.VersionedPickle, "__getstate__", lambda self: vars(self))
        data = pickle.dumps(model)
    with pytest.warns(InconsistentVersionWarning, match="unknown version"):
        pickle.loads(data)


_ENGINE_STATE = SparseAdagrad.__getstate__


def old_engine_layout(engine):
    """An engine's pickled state before EngineState: the state's fields were
    attributes of the engine itself."""
    flat = _ENGINE_STATE(engine)
    flat.update(vars(flat.pop("state")))
    return flat


@pytest.mark.parametrize(
    "written_by, layout, missing",
    [
        ("0.0.3", old_engine_layout, "keeps no EngineState"),
        ("0.0.9", None, "has no coef_sum, average_start"),
    ],
)
def test_an_unreadable_layout_raises_naming_both_versions(
    monkeypatch, written_by, layout, missing
):
    model = fitted()
    with monkeypatch.context() as patch:
        if layout is not None:
            patch.setattr(SparseAdagrad, "__getstate__", layout)
        else:
            state = model.optimizer_.state
            del state.coef_sum, state.average_start
        data = pickled_by(written_by, model, monkeypatch)
    with pytest.raises(IncompatiblePickleError) as raised:
        pickle.loads(data)
    message = str(raised.value)
    assert f"pickled by sk_adagrad {written_by}" in message
    assert f"sk_adagrad {sk_adagrad.__version__} cannot read" in message
    assert missing in message
    assert isinstance(raised.value, ValueError)


def test_a_search_pickle_records_its_own_version(monkeypatch):
    search = AdagradClassifierCV(lr=[0.3, 1.0], cv=2, random_state=0).fit(X, LABELS)
    with pytest.warns(InconsistentVersionWarning) as caught:
        loaded = pickle.loads(pickled_by("0.0.1", search, monkeypatch))
    names = {warning.message.estimator_name for warning in caught}
    assert "AdagradClassifierCV" in names
    np.testing.assert_array_equal(loaded.predict(X), search.predict(X))
