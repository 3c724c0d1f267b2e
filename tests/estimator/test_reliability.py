"""Transactional training calls: a call that fails for any reason (an error in
the loop, an interrupt, divergence, bad data in a stream) leaves the estimator
exactly as it was before the call; and random streams never break a model."""

import pickle
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from sklearn.base import clone, is_classifier
from sklearn.exceptions import ConvergenceWarning

from sk_adagrad import AdagradClassifier, AdagradRegressor, DivergenceError
from sk_adagrad._engine import SparseAdagrad

from helpers.fitted_models import (
    CLASSES,
    LABELS,
    METHODS,
    MODELS,
    STEPS_PER_EPOCH,
    TARGETS,
    X32,
    X,
    assert_finite_state,
    assert_unchanged,
    fitted,
    fitted32,
    snapshot,
    targets_for,
    train,
)
from helpers.float32 import float32_state


@pytest.fixture
def fail_at_step(monkeypatch):
    """Make the engine's ``step`` raise ``exception`` on its ``n``-th call, before
    or after doing its work."""

    def install(n, exception, after_the_step):
        original = SparseAdagrad.step
        calls = 0

        def step(self, *args, **kwargs):
            nonlocal calls
            calls += 1
            if calls == n and not after_the_step:
                raise exception
            result = original(self, *args, **kwargs)
            if calls == n:
                raise exception
            return result

        monkeypatch.setattr(SparseAdagrad, "step", step)
        return monkeypatch.undo

    return install


EXCEPTIONS = {
    "error": lambda: RuntimeError("injected failure"),
    "keyboard_interrupt": KeyboardInterrupt,
}


@pytest.mark.usefixtures("step_path")
@pytest.mark.parametrize("after_the_step", [False, True], ids=["before", "after"])
@pytest.mark.parametrize("exception", EXCEPTIONS)
@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("model_name", MODELS)
def test_failure_inside_the_loop_leaves_model_unchanged(
    fail_at_step, model_name, method, exception, after_the_step
):
    model = fitted(model_name)
    untouched = fitted(model_name)  # training is deterministic: the same model
    before = snapshot(model)
    assert snapshot(untouched) == before
    error = EXCEPTIONS[exception]()
    undo = fail_at_step(3, error, after_the_step)
    with pytest.raises(type(error)):
        train(model, method, X, targets_for(model))
    undo()
    assert_unchanged(model, before)

    # Nothing hidden was left behind either: training goes on exactly as it
    # would have without the failed call.
    train(model, method, X, targets_for(model))
    train(untouched, method, X, targets_for(model))
    assert pickle.dumps(model) == pickle.dumps(untouched)


@pytest.mark.parametrize("step", [1, 2 * STEPS_PER_EPOCH + 1])
@pytest.mark.parametrize("exception", EXCEPTIONS)
@pytest.mark.parametrize("model_name", MODELS)
def test_failure_in_a_later_epoch_of_fit(fail_at_step, model_name, exception, step):
    model = fitted(model_name)
    before = snapshot(model)
    error = EXCEPTIONS[exception]()
    undo = fail_at_step(step, error, after_the_step=True)
    with pytest.raises(type(error)):
        model.fit(X, targets_for(model))
    undo()
    assert_unchanged(model, before)


@pytest.mark.parametrize("exception", EXCEPTIONS)
@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("model_name", MODELS)
def test_failure_in_a_first_call_leaves_model_unfitted(
    fail_at_step, model_name, method, exception
):
    model = MODELS[model_name]()
    unfitted = pickle.dumps(model)
    error = EXCEPTIONS[exception]()
    fail_at_step(3, error, after_the_step=True)
    with pytest.raises(type(error)):
        train(model, method, X, targets_for(model))
    assert pickle.dumps(model) == unfitted
    assert not hasattr(model, "n_features_in_")


@pytest.mark.parametrize("model_name", MODELS)
def test_failed_cold_fit_keeps_the_previous_model(fail_at_step, model_name):
    # warm_start=False starts a new model; when that fit fails, the old one stays.
    model = fitted(model_name).set_params(warm_start=False)
    before = snapshot(model)
    fail_at_step(3, RuntimeError("injected failure"), after_the_step=True)
    with pytest.raises(RuntimeError):
        model.fit(X, targets_for(model))
    assert_unchanged(model, before)


# -- divergence --------------------------------------------------------------------


@pytest.mark.usefixtures("step_path")
def test_divergence_is_reported_and_rolled_back():
    # A step size of 1e300 overflows the margins of the second step.
    model = fitted("regressor")
    model.set_params(lr=1e300)
    before = snapshot(model)
    for method in METHODS:
        with np.errstate(all="ignore"):
            with pytest.raises(
                DivergenceError, match=r"step \d+.*`lr` \(now 1e\+300\)"
            ):
                train(model, method, X, TARGETS)
        assert_unchanged(model, before)
        assert_finite_state(model)

    # A fresh model that diverges is left unfitted.
    fresh = MODELS["regressor"]().set_params(lr=1e300)
    with np.errstate(all="ignore"):
        with pytest.raises(DivergenceError, match=r"step \d+.*`lr`"):
            fresh.fit(X, TARGETS)
    assert not hasattr(fresh, "optimizer_")

    # With a sane rate again, the model trains on from where it was.
    model.set_params(lr=AdagradRegressor().lr)
    model.partial_fit(X, TARGETS)
    assert_finite_state(model)


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("model_name", MODELS)
def test_overflowing_gradients_never_leave_non_finite_state(model_name, method):
    # Unscaled features of 1e150 with a large rate and a tiny eps: the squared
    # gradients overflow. Either the call diverges, naming lr and the step, and
    # the model is unchanged, or every stored number is finite.
    model = fitted(model_name).set_params(lr=1e6, eps=1e-300)
    before = snapshot(model)
    try:
        with np.errstate(all="ignore"):
            train(model, method, X * 1e150, targets_for(model))
    except DivergenceError as error:
        assert "`lr`" in str(error) and "step" in str(error)
        assert_unchanged(model, before)
    assert_finite_state(model)


@pytest.mark.parametrize("penalty", [None, "l2", "l1", "elasticnet"])
@pytest.mark.parametrize("model_name", MODELS)
def test_eps_zero_trains(model_name, penalty):
    # eps=0 is allowed: a coordinate whose accumulator is still 0 has had no
    # gradient and must take no step (0 / 0 would be NaN).
    model = MODELS[model_name]().set_params(eps=0.0, penalty=penalty)
    y = targets_for(model)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        # Three epochs on this small problem may end no better than a constant,
        # which a fit says (ConvergenceWarning); no numerical warning may appear.
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(X, y)
        model.partial_fit(X[:8], y[:8])
    assert_finite_state(model)


# -- random streams ----------------------------------------------------------------

VALUES = st.one_of(
    st.just(0.0), st.floats(-10.0, 10.0, allow_nan=False, allow_subnormal=False)
)
FORMATS = {
    "csr": sp.csr_array,
    "csc": sp.csc_array,
    "coo": sp.coo_array,
    "dense": np.asarray,
}
# A chunk is good, or bad in one of these ways (a wrong width only counts once
# the model is fitted; before that it just sets the width).
DEFECTS = ["nan", "wrong_width", "unknown_label"]


@st.composite
def chunk(draw, n_features, classification):
    n_rows = draw(st.integers(1, 12))
    defect = draw(st.sampled_from([None] * 6 + DEFECTS))
    width = n_features + 1 if defect == "wrong_width" else n_features
    dense = draw(
        arrays(
            np.float64,
            (n_rows, width),
            elements=st.one_of(st.just(0.0), VALUES),
        )
    )
    if defect == "nan":
        dense[draw(st.integers(0, n_rows - 1)), 0] = np.nan
    if classification:
        y = np.array(
            draw(st.lists(st.sampled_from(CLASSES), min_size=n_rows, max_size=n_rows)),
            dtype=object,
        )
        if defect == "unknown_label":
            y[0] = "toast"
    else:
        y = draw(arrays(np.float64, n_rows, elements=VALUES))
        if defect == "unknown_label":
            defect = None
    weights = draw(
        st.none()
        | arrays(np.float64, n_rows, elements=st.sampled_from([0.0, 0.5, 1.0, 3.0]))
    )
    data = FORMATS[draw(st.sampled_from(sorted(FORMATS)))](dense)
    return data, y, weights, defect


@st.composite
def streams(draw, classification):
    n_features = draw(st.integers(1, 8))
    n_chunks = draw(st.integers(1, 4))
    return [draw(chunk(n_features, classification)) for _ in range(n_chunks)]


SHARED_PARAMETERS = dict(
    penalty=st.sampled_from([None, "l2", "l1", "elasticnet"]),
    alpha=st.sampled_from([0.0, 1e-4, 0.1]),
    l1_ratio=st.sampled_from([0.0, 0.5, 1.0]),
    fit_intercept=st.booleans(),
    lr=st.sampled_from([0.01, 0.1, 1.0]),
    lr_decay=st.sampled_from([0.0, 0.1]),
    eps=st.sampled_from([1e-10, 1e-6]),
    initial_accumulator_value=st.sampled_from([0.0, 0.1]),
    batch_size=st.sampled_from([1, 4, 256]),
    shuffle=st.booleans(),
    average=st.sampled_from([False, True, 5]),
)
CLASSIFIER_PARAMETERS = st.fixed_dictionaries(
    {
        **SHARED_PARAMETERS,
        "loss": st.sampled_from(
            ["hinge", "log_loss", "modified_huber", "squared_hinge", "perceptron"]
        ),
        "multi_class": st.sampled_from(["auto", "ovr"]),
    }
)
REGRESSOR_PARAMETERS = st.fixed_dictionaries(
    {
        **SHARED_PARAMETERS,
        "loss": st.sampled_from(
            [
                "squared_error",
                "huber",
                "epsilon_insensitive",
                "squared_epsilon_insensitive",
            ]
        ),
    }
)
HYPOTHESIS = settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def _reasons_to_refuse(model, y, weights, defect):
    """What the error of a chunk may say; empty when it must be accepted."""
    reasons = []
    if defect == "nan":
        reasons.append("NaN")
    if defect == "unknown_label":
        reasons.append("labels not in classes")
    if defect == "wrong_width" and hasattr(model, "n_features_in_"):
        reasons.append("features")
    if weights is not None and not weights.any():
        reasons.append("non-zero")
    return reasons


def _check_stream(model, stream):
    good = []
    for X_chunk, y, weights, defect in stream:
        if defect == "wrong_width" and not hasattr(model, "n_features_in_"):
            continue
        reasons = _reasons_to_refuse(model, y, weights, defect)
        before = pickle.dumps(model)
        try:
            train(model, "partial_fit", X_chunk, y, weights)
        except (ValueError, DivergenceError) as error:
            # Bounded data and rates never diverge: DivergenceError is a bug here.
            assert reasons, f"good chunk refused: {error!r}"
            assert any(reason in str(error) for reason in reasons), repr(error)
            assert pickle.dumps(model) == before, "a failed call changed the model"
            continue
        assert not reasons, f"bad chunk accepted (expected {reasons})"
        good.append((X_chunk, y, weights))
        _assert_finite_predictions(model, X_chunk)

    if good:
        # A warm fit over everything accepted: more epochs over the same rows.
        # (A missing class would be refused by the warm fit, so the classifier
        # only does it when every class has been seen.)
        X_all = sp.vstack([sp.csr_array(X_chunk) for X_chunk, _, _ in good])
        y_all = np.concatenate([y for _, y, _ in good])
        weights_all = np.concatenate(
            [np.ones(len(y)) if w is None else w for _, y, w in good]
        )
        if not weights_all.any():
            return
        if is_classifier(model) and len(set(y_all)) < len(CLASSES):
            return
        model.set_params(max_iter=2, tol=None, warm_start=True)
        model.fit(X_all, y_all, sample_weight=weights_all)
        _assert_finite_predictions(model, X_all)


def _assert_finite_predictions(model, X_chunk):
    if is_classifier(model):
        assert np.isfinite(model.decision_function(X_chunk)).all()
        if hasattr(model, "predict_proba"):
            proba = model.predict_proba(X_chunk)
            assert np.isfinite(proba).all()
            np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    else:
        assert np.isfinite(model.predict(X_chunk)).all()
    assert_finite_state(model)


@HYPOTHESIS
@given(params=CLASSIFIER_PARAMETERS, stream=streams(classification=True))
def test_random_streams_classifier(params, stream):
    with np.errstate(over="raise", divide="raise", invalid="raise"):
        _check_stream(AdagradClassifier(random_state=0, **params), stream)


@HYPOTHESIS
@given(params=REGRESSOR_PARAMETERS, stream=streams(classification=False))
def test_random_streams_regressor(params, stream):
    with np.errstate(over="raise", divide="raise", invalid="raise"):
        _check_stream(AdagradRegressor(random_state=0, **params), stream)


def test_clone_of_a_model_with_a_failed_call_is_clean(fail_at_step):
    # The parameters survive a failed call untouched, so cloning gives the same
    # estimator as before.
    model = fitted("elasticnet_averaged")
    params = model.get_params()
    fail_at_step(2, KeyboardInterrupt(), after_the_step=True)
    with pytest.raises(KeyboardInterrupt):
        model.partial_fit(X, LABELS)
    assert clone(model).get_params() == params


# -- the journal itself failing ----------------------------------------------------


@pytest.mark.usefixtures("active_rows_only")
@pytest.mark.parametrize("model_name", MODELS)
def test_a_failed_journal_copy_leaves_rollback_working(
    monkeypatch, fail_at_step, model_name
):
    # The journal's copy of the rows a step is about to write runs out of memory
    # once: that call fails and is rolled back, and the rows it meant to save
    # must not count as saved in later calls, whose failures are rolled back too.
    from sk_adagrad._journal import Journal

    model = fitted(model_name)
    before = snapshot(model)
    row_values = Journal._row_values
    calls = 0

    def row_values_failing_once(self, extract, rows):
        nonlocal calls
        calls += 1
        if calls == 1:
            raise MemoryError("injected failure")
        return row_values(self, extract, rows)

    monkeypatch.setattr(Journal, "_row_values", row_values_failing_once)
    with pytest.raises(MemoryError):
        model.partial_fit(X, targets_for(model))
    assert calls == 1
    assert_unchanged(model, before)

    fail_at_step(3, RuntimeError("injected failure"), after_the_step=True)
    with pytest.raises(RuntimeError):
        model.partial_fit(X, targets_for(model))
    assert_unchanged(model, before)


@pytest.mark.parametrize("method", METHODS)
def test_a_call_failing_as_it_commits_is_rolled_back(monkeypatch, method):
    # Up to the commit point the call is undone; the caller who sees the error
    # finds the model as it was.
    model = fitted("elasticnet_averaged")
    before = snapshot(model)

    def commit(self):
        raise KeyboardInterrupt

    monkeypatch.setattr(SparseAdagrad, "commit", commit)
    with pytest.raises(KeyboardInterrupt):
        train(model, method, X, LABELS)
    assert_unchanged(model, before)


@pytest.mark.parametrize("method", METHODS)
def test_a_failed_call_leaves_a_random_state_instance_where_it_was(method):
    # Shuffling draws from the generator passed as random_state: a diverging call
    # must not move it, so the estimator pickles as before and trains on as one
    # that never failed.
    def make():
        model = MODELS["regressor"]().set_params(
            random_state=np.random.RandomState(3), shuffle=True
        )
        return model.fit(X, TARGETS)

    model, untouched = make(), make()
    before = snapshot(model)
    position = model.random_state.get_state()
    model.set_params(lr=1e300)
    with np.errstate(all="ignore"), pytest.raises(DivergenceError):
        train(model, method, X, TARGETS)
    model.set_params(lr=untouched.lr)
    assert_unchanged(model, before)
    after = model.random_state.get_state()
    assert all(np.array_equal(a, b) for a, b in zip(after, position, strict=True))

    train(model, method, X, TARGETS)
    train(untouched, method, X, TARGETS)
    assert pickle.dumps(model) == pickle.dumps(untouched)


def test_the_journal_restores_every_field_of_the_state():
    # Every field, whatever it holds, is saved and restored from the state's own
    # list of its fields: change them all, in place where they are arrays, and
    # the journal must undo each change.
    from dataclasses import fields

    from sk_adagrad._journal import Journal, RowStamps

    engine = fitted("elasticnet_averaged").optimizer_
    state = engine.state
    before = pickle.dumps(state)
    journal = Journal(state, RowStamps(state.n_rows))
    rows = np.array([0, 2])
    journal.save_rows(rows)
    assert set(state.row_fields()) | set(state.small_fields()) == {
        f.name for f in fields(state)
    }
    for name in state.row_fields():
        getattr(state, name)[rows] += 1
    for name in state.small_fields():
        value = getattr(state, name)
        if isinstance(value, np.ndarray):
            value += 1.0
        setattr(state, name, object())
    assert pickle.dumps(state) != before
    journal.restore()
    assert pickle.dumps(state) == before


@pytest.mark.parametrize("method", ["partial_fit", "fit"])
@pytest.mark.parametrize("model_name", MODELS)
def test_failed_call_leaves_a_float32_model_bit_identical(
    monkeypatch, model_name, method
):
    model, targets = fitted32(model_name)
    before = snapshot(model)
    original, calls = SparseAdagrad.step, []

    def failing_step(self, *args, **kwargs):
        calls.append(None)
        result = original(self, *args, **kwargs)
        if len(calls) == 3:
            raise RuntimeError("injected failure")
        return result

    monkeypatch.setattr(SparseAdagrad, "step", failing_step)
    with pytest.raises(RuntimeError, match="injected"):
        # A float64 batch: the rounded copy is dropped with the failed call.
        getattr(model, method)(X32.astype(np.float64), targets)
    monkeypatch.undo()
    assert_unchanged(model, before)
    float32_state(model)
