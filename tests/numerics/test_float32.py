"""float32 models: float32 data trains a model whose whole state is float32.

The oracles are the ones of the float64 path, run in float32: the NumPy
transcription of torch's Adagrad (torch's default dtype is float32) and the
eager proximal Adagrad. Neither can agree bit for bit with the lazy sparse
engine, which rounds in another order; the tolerances below are stated in
units of float32's unit roundoff ``U = 2**-24``.

A model keeps the dtype it was created with: a float64 batch given to a
float32 model is rounded to float32 first, and trains exactly as its float32
copy would.
"""

import dataclasses
import pickle

import numpy as np
import pytest
import scipy.sparse as sp
from numpy.testing import assert_allclose, assert_array_equal
from test_lazy_penalty import (
    GRID,
    KINDS,
    PENALTIES,
    as_outputs,
    block_model,
    block_problem,
    eager_targets,
    make_eager,
    make_model,
)
from test_torch_reference import SETTINGS, make_problem, reference_settings, regressor

from sk_adagrad import AdagradClassifier, AdagradRegressor
from sk_adagrad._engine import SparseAdagrad

from helpers.fitted_models import CLASSES, DENSE, MODELS, assert_unchanged, snapshot
from oracles.torch_adagrad import torch_adagrad_trajectory

U = 2.0**-24


def float32_state(model):
    """The fitted arrays of a model, which must all be float32."""
    state = {
        "coef_": model.coef_,
        "intercept_": model.intercept_,
        "coef_accumulator_": model.coef_accumulator_,
        "intercept_accumulator_": model.intercept_accumulator_,
    }
    for name, value in state.items():
        assert value.dtype == np.float32, name
    return state


# -- torch's update in float32 -------------------------------------------------------

# Observed: the engine and the float32 transcription agree to 3.2e-7 relative
# (about 5 U) after 25 full-batch steps, and to 1.1e-6 on a weight ten times
# smaller than the largest after 8 mini-batch steps; the two round the update
# in another order (torch divides the gradient by sqrt(G) + eps, the engine
# multiplies it by the step size) and the margins mix every weight, so the
# rounding is relative to the largest weight: rtol 1e-6 of each value or of the
# largest weight (intercept included; of the largest accumulator for the
# accumulators).
TORCH_RTOL = 1e-6


# The intercept starts at the best constant of the first batch, where its
# gradient is rounding noise, which the engine and the transcription count as
# zero (sk_adagrad/_rounding.py): with a zero initial accumulator too, the
# float32 trajectories follow torch's.
FLOAT32_SETTINGS = [
    dict(lr=0.5, lr_decay=0.05, initial_accumulator_value=0.01),
    *SETTINGS,
]


def assert_torch_close(actual, desired, scale, name=""):
    """Within TORCH_RTOL of each value or of ``scale``, the largest weight."""
    atol = TORCH_RTOL * scale
    assert_allclose(actual, desired, rtol=TORCH_RTOL, atol=atol, err_msg=name)


def largest_weight(state):
    return max(np.abs(state["coef"]).max(), np.abs(state["intercept"]).max())


@pytest.mark.parametrize("settings", FLOAT32_SETTINGS)
@pytest.mark.parametrize("sparse", [False, True], ids=["dense", "csr"])
@pytest.mark.usefixtures("step_path")
def test_float32_fit_is_torch_adagrad_in_float32(settings, sparse):
    X, y, sample_weight = make_problem(0)
    X = X.astype(np.float32)
    n_steps = 25
    expected = torch_adagrad_trajectory(
        [(X, y, sample_weight)] * n_steps,
        X.shape[1],
        dtype=np.float32,
        **reference_settings(settings, y, sample_weight),
    )[-1]
    data = sp.csr_array(X) if sparse else X
    model = regressor(batch_size=len(y), max_iter=n_steps, **settings)
    model.fit(data, y, sample_weight=sample_weight)
    state = float32_state(model)
    assert_torch_close(state["coef_"], expected["coef"], largest_weight(expected))
    assert_torch_close(
        state["intercept_"], expected["intercept"], largest_weight(expected)
    )
    accumulators = ("coef_accumulator", "intercept_accumulator")
    scale = max(np.abs(expected[name]).max() for name in accumulators)
    for name in accumulators:
        assert_torch_close(state[name + "_"], expected[name], scale, name)


@pytest.mark.parametrize("sparse", [False, True], ids=["dense", "csr"])
def test_float32_partial_fit_follows_torch_step_by_step(sparse):
    X, y, sample_weight = make_problem(2, n_samples=30)
    X = X.astype(np.float32)
    settings = dict(lr=0.3, lr_decay=0.1, initial_accumulator_value=0.01)
    batch_size = 4
    batches = [
        (X[rows], y[rows], sample_weight[rows])
        for rows in (slice(s, s + batch_size) for s in range(0, len(y), batch_size))
    ]
    expected = torch_adagrad_trajectory(
        batches,
        X.shape[1],
        dtype=np.float32,
        # The intercept starts at the best constant of the first call's batch.
        **reference_settings(settings, *batches[0][1:]),
    )
    model = regressor(batch_size=batch_size, **settings)
    for (X_batch, y_batch, w_batch), state in zip(batches, expected, strict=True):
        model.partial_fit(
            sp.csr_array(X_batch) if sparse else X_batch, y_batch, sample_weight=w_batch
        )
        assert model.t_ == state["t"]
        scale = largest_weight(state)
        assert_torch_close(model.coef_, state["coef"], scale)
        assert_torch_close(model.intercept_, state["intercept"], scale)


# -- lazy == eager, sparse == dense, in float32 ---------------------------------------


def float32_tolerance(n_steps):
    """Relative to the largest weight (or accumulator): each step rounds a
    coordinate about 8 times (the gradient's sum, its square, the accumulator,
    the square root, the step size, the product, the difference, the proximal
    step), each by at most U, and the lazy path rounds in another order (its
    closed-form catch-up takes float64 powers where the eager path rounds every
    step); bounded by 8 U per step. Observed on these problems: at most
    5 U after 27 steps, where the bound is 216 U."""
    return 8 * n_steps * U


def assert_close_in_float32(actual, desired, n_steps, name):
    scale = max(np.abs(desired).max(), np.finfo(np.float32).tiny)
    tolerance = float32_tolerance(n_steps)
    assert_allclose(
        actual, desired, rtol=tolerance, atol=tolerance * scale, err_msg=name
    )


@pytest.mark.usefixtures("step_path")
@pytest.mark.parametrize("penalty, lr_decay, average, kind", GRID)
def test_float32_lazy_equals_eager_on_block_sparse_data(
    penalty, lr_decay, average, kind
):
    seed = 10 * KINDS.index(kind) + PENALTIES.index(penalty)
    X, y, sample_weight = block_problem(kind, seed)
    X = X.astype(np.float32)
    model = block_model(kind, penalty, lr_decay, average)
    model.fit(sp.csr_array(X), y, sample_weight=sample_weight)
    eager = dataclasses.replace(
        make_eager(model, X, y, sample_weight), dtype=np.float32
    )
    eager.run(X, eager_targets(model, y), sample_weight, batch_size=4, n_epochs=3)
    state = float32_state(model)
    assert model.t_ == eager.t
    n_steps = eager.t
    assert_close_in_float32(as_outputs(model, state["coef_"]), eager.coef, n_steps, "w")
    assert_close_in_float32(state["intercept_"], eager.intercept, n_steps, "b")
    assert_close_in_float32(
        as_outputs(model, state["coef_accumulator_"]), eager.G, n_steps, "G"
    )
    assert_close_in_float32(state["intercept_accumulator_"], eager.G_b, n_steps, "G_b")
    # The never-seen feature kept its zero weight and initial accumulator.
    assert np.all(as_outputs(model, state["coef_"])[-1] == 0.0)
    assert np.all(as_outputs(model, state["coef_accumulator_"])[-1] == np.float32(0.05))


@pytest.mark.usefixtures("step_path")
@pytest.mark.parametrize("penalty", PENALTIES)
@pytest.mark.parametrize("estimator", ["classifier", "regressor"])
def test_float32_sparse_equals_dense(penalty, estimator):
    rng = np.random.default_rng(9)
    X = rng.normal(size=(60, 15)).astype(np.float32)
    X[rng.random(X.shape) > 0.2] = 0.0
    X[:, 4] = 0.0
    X[7] = 0.0
    sample_weight = rng.uniform(0.1, 2.0, size=60)
    if estimator == "classifier":
        model, target = AdagradClassifier, rng.permutation(np.arange(60) % 3)
    else:
        model, target = AdagradRegressor, X @ rng.normal(size=15) + 0.5
    params = dict(
        penalty=penalty,
        alpha=0.01,
        max_iter=3,
        tol=None,
        batch_size=9,
        random_state=1,
        lr_decay=0.01,
        average=20,
    )
    dense = model(**params).fit(X, target, sample_weight=sample_weight)
    sparse = model(**params).fit(sp.csr_array(X), target, sample_weight=sample_weight)
    n_steps = dense.t_
    dense_state, sparse_state = float32_state(dense), float32_state(sparse)
    for name, value in dense_state.items():
        assert_close_in_float32(sparse_state[name], value, n_steps, name)


def test_float32_and_float64_models_of_the_same_numbers_agree_to_float32():
    X, y, sample_weight = block_problem("multinomial", 3)
    X32 = X.astype(np.float32)
    params = dict(penalty="elasticnet", alpha=0.05, batch_size=4, max_iter=3)
    fit32 = make_model("multinomial", "log_loss", **params)
    fit64 = make_model("multinomial", "log_loss", **params)
    fit32.fit(sp.csr_array(X32), y, sample_weight=sample_weight)
    fit64.fit(sp.csr_array(X32.astype(np.float64)), y, sample_weight=sample_weight)
    assert fit64.coef_.dtype == np.float64
    assert_close_in_float32(fit32.coef_, fit64.coef_, fit32.t_, "coef_")
    assert_array_equal(fit32.predict(X32), fit64.predict(X32))


# -- a model keeps its dtype -----------------------------------------------------------


@pytest.mark.parametrize("method", ["partial_fit", "warm_start"])
def test_float64_batches_train_a_float32_model_as_their_float32_copy(method):
    rng = np.random.default_rng(4)
    X = sp.random_array((40, 12), density=0.3, rng=rng, format="csr")
    y = rng.integers(0, 3, size=40)
    X32 = X.astype(np.float32)

    def train(model, data):
        if method == "partial_fit":
            return model.partial_fit(data, y, classes=[0, 1, 2])
        return model.fit(data, y)

    params = dict(batch_size=8, random_state=0, warm_start=True, max_iter=2, tol=None)
    given_float64 = train(AdagradClassifier(**params), X32)
    given_float32 = train(AdagradClassifier(**params), X32)
    train(given_float64, X)
    train(given_float32, X32)
    assert pickle.dumps(given_float64.optimizer_) == pickle.dumps(
        given_float32.optimizer_
    )
    float32_state(given_float64)
    # Predictions take X as it comes, like SGDClassifier's: float64 margins
    # from float64 X.
    assert given_float64.decision_function(X).dtype == np.float64
    assert given_float64.decision_function(X32).dtype == np.float32


def test_a_float64_model_stays_float64_on_float32_batches():
    rng = np.random.default_rng(5)
    X = rng.normal(size=(30, 5))
    y = X @ rng.normal(size=5)
    model = AdagradRegressor(batch_size=8, random_state=0).partial_fit(X, y)
    model.partial_fit(X.astype(np.float32), y)
    assert model.coef_.dtype == model.optimizer_.coef.dtype == np.float64


def test_float32_model_memory_is_half():
    def state_bytes(dtype):
        engine = SparseAdagrad(
            1000,
            20,
            loss=None,
            schedule=None,
            penalty=None,
            eps=1e-10,
            initial_accumulator_value=0.0,
            fit_intercept=True,
            average_from_sample=1,
            dtype=dtype,
        )
        arrays = (engine.coef, engine.coef_accumulator, engine.coef_sum)
        return sum(array.nbytes for array in arrays)

    assert 2 * state_bytes(np.float32) == state_bytes(np.float64)


# -- failed calls and persistence in float32 ------------------------------------------

X32 = sp.csr_array(DENSE.astype(np.float32))


def fitted32(name):
    model = MODELS[name]()
    targets = (
        CLASSES[np.arange(X32.shape[0]) % 3]
        if isinstance(model, AdagradClassifier)
        else DENSE[:, 0]
    )
    return model.fit(X32, targets), targets


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
