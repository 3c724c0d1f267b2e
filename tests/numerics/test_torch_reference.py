"""The estimators follow ``torch.optim.Adagrad`` step for step.

The oracle is a NumPy transcription of torch's update (``oracles/torch_adagrad.py``) on
the weighted half mean squared error, which is what ``loss='squared_error'`` minimises.
With ``penalty=None`` nothing else enters the update, so the weights, the accumulators
and the step count must agree to rounding.
"""

import numpy as np
import pytest
import scipy.sparse as sp
from numpy.testing import assert_allclose

from sk_adagrad import AdagradRegressor

from helpers.float32 import float32_state
from oracles.torch_adagrad import torch_adagrad_trajectory

RTOL = 1e-12

SETTINGS = [
    dict(lr=0.1),
    dict(lr=0.5, lr_decay=0.05),
    dict(lr=0.05, initial_accumulator_value=0.3),
    dict(lr=0.2, lr_decay=0.3, initial_accumulator_value=1.5, eps=1e-6),
]

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


def make_problem(seed, n_samples=40, n_features=7, density=0.4):
    """A regression problem whose X has an all-zero column and an all-zero row."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n_samples, n_features))
    X[rng.random(X.shape) > density] = 0.0
    X[:, 2] = 0.0
    X[5] = 0.0
    y = X @ rng.normal(size=n_features) + 0.5 + 0.1 * rng.normal(size=n_samples)
    sample_weight = rng.uniform(0.2, 2.0, size=n_samples)
    return X, y, sample_weight


def regressor(**params):
    defaults = dict(
        loss="squared_error",
        penalty=None,
        shuffle=False,
        tol=None,
        eps=1e-10,
        lr_decay=0.0,
        initial_accumulator_value=0.0,
    )
    return AdagradRegressor(**{**defaults, **params})


def assert_matches(model, state):
    """The model's state is torch's after the same steps, in torch's dtype: to
    RTOL in float64, within TORCH_RTOL of each value or of the largest weight
    in float32."""
    assert model.t_ == state["t"]
    if state["coef"].dtype == np.float32:
        fitted = float32_state(model)
        scale = largest_weight(state)
        assert_torch_close(fitted["coef_"], state["coef"], scale)
        assert_torch_close(fitted["intercept_"], state["intercept"], scale)
        accumulators = ("coef_accumulator", "intercept_accumulator")
        scale = max(np.abs(state[name]).max() for name in accumulators)
        for name in accumulators:
            assert_torch_close(fitted[name + "_"], state[name], scale, name)
        return
    assert_allclose(model.coef_, state["coef"], rtol=RTOL, atol=0)
    assert_allclose(model.intercept_, state["intercept"], rtol=RTOL, atol=0)
    assert_allclose(
        model.coef_accumulator_, state["coef_accumulator"], rtol=RTOL, atol=0
    )
    assert_allclose(
        model.intercept_accumulator_,
        state["intercept_accumulator"],
        rtol=RTOL,
        atol=0,
    )


def reference_settings(settings, y, sample_weight):
    """torch's settings for ``settings``, starting from the intercept the model
    starts from: the weighted mean of the targets of its first call (summed in
    the same order, since the trajectory amplifies a difference in the last
    bit)."""
    return {
        "lr_decay": 0.0,
        "eps": 1e-10,
        "initial_accumulator_value": 0.0,
        "intercept_start": sample_weight @ y / sample_weight.sum(),
    } | settings


FULL_BATCH_CASES = [
    *(pytest.param(np.float64, s, id=f"float64-{i}") for i, s in enumerate(SETTINGS)),
    *(
        pytest.param(np.float32, s, id=f"float32-{i}")
        for i, s in enumerate(FLOAT32_SETTINGS)
    ),
]


@pytest.mark.parametrize("dtype, settings", FULL_BATCH_CASES)
@pytest.mark.parametrize("sparse", [False, True], ids=["dense", "csr"])
@pytest.mark.usefixtures("step_path")
def test_full_batch_fit_is_torch_adagrad_on_mse(dtype, settings, sparse):
    X, y, sample_weight = make_problem(0)
    X = X.astype(dtype)
    n_steps = 25
    expected = torch_adagrad_trajectory(
        [(X, y, sample_weight)] * n_steps,
        X.shape[1],
        dtype=dtype,
        **reference_settings(settings, y, sample_weight),
    )
    data = sp.csr_array(X) if sparse else X
    model = regressor(batch_size=len(y), max_iter=n_steps, **settings)
    model.fit(data, y, sample_weight=sample_weight)
    assert model.n_iter_ == n_steps
    assert_matches(model, expected[-1])
    # The all-zero column never had a gradient: untouched weight and accumulator.
    assert model.coef_[2] == 0.0
    assert model.coef_accumulator_[2] == dtype(
        settings.get("initial_accumulator_value", 0)
    )


@pytest.mark.parametrize("settings", SETTINGS)
@pytest.mark.parametrize("sparse", [False, True], ids=["dense", "csr"])
@pytest.mark.usefixtures("step_path")
def test_full_batch_steps_follow_torch_one_by_one(settings, sparse):
    X, y, sample_weight = make_problem(1)
    n_steps = 12
    expected = torch_adagrad_trajectory(
        [(X, y, sample_weight)] * n_steps,
        X.shape[1],
        **reference_settings(settings, y, sample_weight),
    )
    data = sp.csr_array(X) if sparse else X
    # A batch larger than the data is still one step per pass.
    model = regressor(batch_size=10 * len(y), **settings)
    for state in expected:
        model.partial_fit(data, y, sample_weight=sample_weight)
        assert_matches(model, state)


@pytest.mark.parametrize("settings", SETTINGS)
@pytest.mark.parametrize("sparse", [False, True], ids=["dense", "csr"])
@pytest.mark.usefixtures("step_path")
def test_mini_batch_partial_fit_continues_the_schedule(settings, sparse):
    X, y, sample_weight = make_problem(2, n_samples=30)
    batch_size = 4
    chunks = [slice(0, 10), slice(10, 13), slice(13, 30), slice(0, 30)]
    batches = []
    for chunk in chunks:
        Xc, yc, wc = X[chunk], y[chunk], sample_weight[chunk]
        for start in range(0, len(yc), batch_size):
            rows = slice(start, start + batch_size)
            batches.append((Xc[rows], yc[rows], wc[rows]))
    first = chunks[0]
    expected = torch_adagrad_trajectory(
        batches,
        X.shape[1],
        **reference_settings(settings, y[first], sample_weight[first]),
    )

    model = regressor(batch_size=batch_size, **settings)
    steps = 0
    for chunk in chunks:
        data = sp.csr_array(X[chunk]) if sparse else X[chunk]
        model.partial_fit(data, y[chunk], sample_weight=sample_weight[chunk])
        steps += -(-len(y[chunk]) // batch_size)
        assert model.t_ == steps
        assert_matches(model, expected[steps - 1])
    assert steps == len(batches)


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


@pytest.mark.parametrize("sparse", [False, True], ids=["dense", "csr"])
@pytest.mark.usefixtures("step_path")
def test_epochs_of_mini_batches_are_consecutive_torch_steps(sparse):
    X, y, sample_weight = make_problem(3, n_samples=25)
    batch_size, n_epochs = 6, 4
    batches = [
        (
            X[s : s + batch_size],
            y[s : s + batch_size],
            sample_weight[s : s + batch_size],
        )
        for s in range(0, len(y), batch_size)
    ] * n_epochs
    settings = dict(lr=0.3, lr_decay=0.1, initial_accumulator_value=0.01)
    expected = torch_adagrad_trajectory(
        batches, X.shape[1], **reference_settings(settings, y, sample_weight)
    )
    model = regressor(batch_size=batch_size, max_iter=n_epochs, **settings)
    model.fit(sp.csr_array(X) if sparse else X, y, sample_weight=sample_weight)
    assert model.t_ == len(batches) == 5 * n_epochs
    assert_matches(model, expected[-1])


def test_transcription_is_scale_invariant_like_torch():
    # Sanity check of the oracle itself: with eps = 0 and G_0 = 0, scaling the
    # objective leaves torch's steps unchanged (the all-zero column, whose
    # 0 / 0 step torch would turn into NaN, is left out).
    X, y, sample_weight = make_problem(4)
    X = np.delete(X, 2, axis=1)
    a = torch_adagrad_trajectory([(X, y, sample_weight)] * 5, X.shape[1], lr=0.1, eps=0)
    b = torch_adagrad_trajectory(
        [(X, y, 7.0 * sample_weight)] * 5, X.shape[1], lr=0.1, eps=0
    )
    assert_allclose(a[-1]["coef"], b[-1]["coef"], rtol=1e-13)
    # ...and its first step moves every coordinate by exactly lr.
    assert_allclose(np.abs(a[0]["coef"]), 0.1, rtol=1e-15)
