"""The lazy sparse path is exactly the eager algorithm.

The oracle is :class:`oracles.eager_adagrad.EagerAdagrad`: every step takes the gradient
on all coordinates and applies the proximal elastic-net step to every coordinate, and
the running average adds every iterate. The estimators instead touch only the features
of each mini-batch and catch up the rest in closed form; both must agree to rounding
(relative 1e-12).
"""

import dataclasses

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose, assert_array_equal

from sk_adagrad import AdagradClassifier, AdagradRegressor
from sk_adagrad._losses import CLASSIFICATION_LOSSES, REGRESSION_LOSSES, make_loss
from sk_adagrad._penalty import ElasticNet

from helpers.float32 import assert_close_in_float32, float32_state
from helpers.problems import dense_of, sparse_problems
from oracles.eager_adagrad import EagerAdagrad, encode_targets

RTOL = 1e-12
ATOL = 1e-15  # for coordinates that are exactly zero in one of the two
EPSILON = 0.5  # threshold of the regression losses

PENALTIES = [None, "l2", "l1", "elasticnet"]
AVERAGES = [False, True, 7]
KINDS = ["regressor", "binary", "ovr", "multinomial"]
N_CLASSES = {"regressor": None, "binary": 2, "ovr": 3, "multinomial": 3}


def make_model(kind, loss, **params):
    common = dict(shuffle=False, tol=None, random_state=0)
    if kind == "regressor":
        return AdagradRegressor(loss=loss, epsilon=EPSILON, **common, **params)
    multi_class = "multinomial" if kind == "multinomial" else "ovr"
    return AdagradClassifier(loss=loss, multi_class=multi_class, **common, **params)


def default_loss(kind):
    return {
        "regressor": "huber",
        "binary": "log_loss",
        "ovr": "hinge",
        "multinomial": "log_loss",
    }[kind]


def targets_for(kind, n_samples, rng):
    """Labels (every class present when there is room) or regression values."""
    if kind == "regressor":
        return rng.normal(size=n_samples) * 2.0
    n_classes = N_CLASSES[kind]
    return rng.permutation(np.arange(max(n_samples, n_classes)) % n_classes)[:n_samples]


def is_multinomial(model):
    """Whether a fitted model has a softmax over its classes."""
    return (
        isinstance(model, AdagradClassifier)
        and model.loss == "log_loss"
        and len(model.classes_) > 2
        and model.multi_class != "ovr"
    )


def eager_targets(model, y):
    if isinstance(model, AdagradRegressor):
        return encode_targets(y)
    return encode_targets(y, list(model.classes_), multinomial=is_multinomial(model))


def make_eager(model, X, y, sample_weight):
    """The eager reference with the model's hyperparameters, for data like X, y,
    starting from the intercept the model started from: the best constant of
    the rows its first call was given (``y`` and ``sample_weight``)."""
    Y = eager_targets(model, y)
    multinomial = is_multinomial(model)
    penalty = ElasticNet.from_params(model.penalty, model.alpha, model.l1_ratio)
    loss = make_loss(model.loss, epsilon=EPSILON, multinomial=multinomial)
    return EagerAdagrad(
        n_features=X.shape[1],
        n_outputs=Y.shape[1],
        intercept_start=(
            loss.best_constant(Y, sample_weight) if model.fit_intercept else 0.0
        ),
        loss=loss,
        lr=model.lr,
        lr_decay=model.lr_decay,
        eps=model.eps,
        initial_accumulator_value=model.initial_accumulator_value,
        l1=penalty.l1,
        l2=penalty.l2,
        fit_intercept=model.fit_intercept,
        average=int(model.average),
    )


def eager_twin(model, X_dense, y, sample_weight, n_epochs):
    """Run the eager reference with the model's hyperparameters."""
    eager = make_eager(model, X_dense, y, sample_weight)
    return eager.run(
        X_dense,
        eager_targets(model, y),
        sample_weight,
        batch_size=model.batch_size,
        n_epochs=n_epochs,
    )


def as_outputs(model, coef):
    """The model's coef_-shaped array as (n_features, n_outputs)."""
    return coef[:, None] if coef.ndim == 1 else coef.T


def assert_same_state(model, eager, rtol=RTOL, atol=ATOL):
    assert model.t_ == eager.t
    assert_allclose(as_outputs(model, model.coef_), eager.coef, rtol=rtol, atol=atol)
    assert_allclose(model.intercept_, eager.intercept, rtol=rtol, atol=atol)
    assert_allclose(
        as_outputs(model, model.coef_accumulator_), eager.G, rtol=RTOL, atol=ATOL
    )
    assert_allclose(model.intercept_accumulator_, eager.G_b, rtol=RTOL, atol=ATOL)


def block_problem(kind, seed, n_samples=36, n_features=9):
    """Features confined to row ranges, so each is absent from several
    consecutive mini-batches (and some never appear at all)."""
    rng = np.random.default_rng(seed)
    X = np.zeros((n_samples, n_features))
    for j in range(n_features - 1):
        rows = rng.choice(n_samples, size=rng.integers(1, 6), replace=False)
        X[rows, j] = rng.normal(size=rows.size)
    X[::5, 0] = rng.normal(size=X[::5, 0].size)  # one regular feature
    # The last feature never appears; row 3 is empty.
    X[3] = 0.0
    y = targets_for(kind, n_samples, rng)
    sample_weight = rng.uniform(0.2, 3.0, size=n_samples)
    sample_weight[rng.integers(n_samples)] = 0.0
    return X, y, sample_weight


# -- the full grid on one structured problem ----------------------------------------


GRID = [
    (penalty, lr_decay, average, kind)
    for penalty in PENALTIES
    for lr_decay in (0.0, 0.2)
    for average in AVERAGES
    for kind in KINDS
]


def block_model(kind, penalty, lr_decay, average):
    """The model the block-sparse lazy == eager tests fit: three epochs of
    4-row steps, large enough steps and penalty for the catch-up to matter."""
    return make_model(
        kind,
        default_loss(kind),
        penalty=penalty,
        alpha=0.05,
        l1_ratio=0.4,
        lr=0.4,
        lr_decay=lr_decay,
        batch_size=4,
        max_iter=3,
        average=average,
        initial_accumulator_value=0.05,
    )


def assert_same_state_in_float32(model, eager):
    """Within :func:`float32_tolerance` of the eager twin run in float32."""
    state = float32_state(model)
    assert model.t_ == eager.t
    n_steps = eager.t
    assert_close_in_float32(as_outputs(model, state["coef_"]), eager.coef, n_steps, "w")
    assert_close_in_float32(state["intercept_"], eager.intercept, n_steps, "b")
    assert_close_in_float32(
        as_outputs(model, state["coef_accumulator_"]), eager.G, n_steps, "G"
    )
    assert_close_in_float32(state["intercept_accumulator_"], eager.G_b, n_steps, "G_b")


@pytest.mark.usefixtures("step_path")
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("penalty, lr_decay, average, kind", GRID)
def test_lazy_equals_eager_on_block_sparse_data(
    penalty, lr_decay, average, kind, dtype
):
    seed = 10 * KINDS.index(kind) + PENALTIES.index(penalty)
    X, y, sample_weight = block_problem(kind, seed)
    X = X.astype(dtype)
    model = block_model(kind, penalty, lr_decay, average)
    model.fit(sp.csr_array(X), y, sample_weight=sample_weight)
    # The eager twin runs in the model's dtype (float32: the data's).
    eager = dataclasses.replace(make_eager(model, X, y, sample_weight), dtype=dtype)
    eager.run(X, eager_targets(model, y), sample_weight, batch_size=4, n_epochs=3)
    if dtype == np.float32:
        assert_same_state_in_float32(model, eager)
    else:
        assert_same_state(model, eager)
    # The never-seen feature kept its zero weight and initial accumulator.
    assert np.all(as_outputs(model, model.coef_)[-1] == 0.0)
    assert np.all(as_outputs(model, model.coef_accumulator_)[-1] == dtype(0.05))


# -- hypothesis: awkward sparse matrices, all settings --------------------------------

LOSSES = {
    "regressor": list(REGRESSION_LOSSES),
    "binary": list(CLASSIFICATION_LOSSES),
    "ovr": list(CLASSIFICATION_LOSSES),
    "multinomial": ["log_loss"],
}


@st.composite
def lazy_cases(draw):
    X, seed = draw(sparse_problems(min_rows=3, max_rows=20, max_columns=8))
    kind = draw(st.sampled_from(KINDS))
    params = dict(
        loss=draw(st.sampled_from(LOSSES[kind])),
        penalty=draw(st.sampled_from(PENALTIES)),
        alpha=draw(st.sampled_from([1e-3, 0.05, 0.3])),
        l1_ratio=draw(st.sampled_from([0.15, 0.5, 0.9])),
        lr=draw(st.sampled_from([0.05, 0.5])),
        lr_decay=draw(st.sampled_from([0.0, 0.05, 1.0])),
        initial_accumulator_value=draw(st.sampled_from([0.0, 0.1])),
        eps=draw(st.sampled_from([1e-10, 1e-3])),
        fit_intercept=draw(st.booleans()),
        average=draw(st.sampled_from([False, True, 1, 5, 12])),
        batch_size=draw(st.integers(1, 6)),
        max_iter=draw(st.integers(1, 3)),
    )
    return X, seed, kind, params


# Examples enough to meet every awkward structure; the fixture only patches a
# module constant, which every example may share.
AWKWARD_CASES = settings(
    max_examples=50,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)


@pytest.mark.usefixtures("step_path")
@AWKWARD_CASES
@given(lazy_cases())
def test_lazy_equals_eager_on_awkward_sparse_matrices(case):
    X, seed, kind, params = case
    rng = np.random.default_rng(seed)
    y = targets_for(kind, X.shape[0], rng)
    sample_weight = rng.choice([0.0, 0.5, 1.0, 2.5], size=len(y))
    sample_weight[rng.integers(len(y))] = 1.0
    model = make_model(kind, **params)
    # COO with duplicates and explicit zeros goes in as is.
    model.fit(X, y, sample_weight=sample_weight)
    eager = eager_twin(model, dense_of(X), y, sample_weight, params["max_iter"])
    assert_same_state(model, eager)


@pytest.mark.usefixtures("step_path")
@AWKWARD_CASES
@given(lazy_cases())
def test_the_stored_weights_penalty_bounds_the_caught_up_one(case):
    """The penalty of the weights as stored, their proximal steps pending, is
    at least that of the weights caught up (the bound that spares the check
    against a constant model from reading the whole model), and equals it
    once every row is up to date."""
    X, seed, kind, params = case
    rng = np.random.default_rng(seed)
    model = make_model(kind, **params)
    model.fit(X, targets_for(kind, X.shape[0], rng))
    engine = model.optimizer_
    bound, exact = engine.penalty_bound(), engine.penalty_value()
    if bound is None:  # the averaged weights are not the stored ones
        assert engine.average_start is not None and not engine.penalty.is_zero
        return
    assert bound >= exact
    engine.settle()
    assert engine.penalty_bound() == engine.penalty_value() == pytest.approx(exact)


# -- partial_fit on a batch that lacks some features ---------------------------------


def two_chunks(seed=0, n_features=10):
    """A first chunk with every feature and a second one without features 0-3."""
    rng = np.random.default_rng(seed)
    first = rng.normal(size=(12, n_features))
    first[rng.random(first.shape) < 0.3] = 0.0
    first[0] = rng.normal(size=n_features)
    second = rng.normal(size=(9, n_features))
    second[:, :4] = 0.0
    second[rng.random(second.shape) < 0.3] = 0.0
    return first, second, rng


@pytest.mark.usefixtures("step_path")
@pytest.mark.parametrize("kind", KINDS)
def test_absent_features_are_bit_identical_without_penalty(kind):
    first, second, rng = two_chunks()
    y_first = targets_for(kind, len(first), rng)
    y_second = targets_for(kind, len(second), rng)
    model = make_model(kind, default_loss(kind), penalty=None, batch_size=3)
    classes = None if kind == "regressor" else np.arange(N_CLASSES[kind])
    fit_args = {} if classes is None else {"classes": classes}
    model.partial_fit(sp.csr_array(first), y_first, **fit_args)
    engine = model.optimizer_
    coef_before = engine.coef[:4].copy()
    accumulator_before = engine.coef_accumulator[:4].copy()
    public_before = as_outputs(model, model.coef_).copy()

    model.partial_fit(sp.csr_array(second), y_second)
    assert model.t_ == 4 + 3
    assert_array_equal(engine.coef[:4], coef_before)
    assert_array_equal(engine.coef_accumulator[:4], accumulator_before)
    public_after = as_outputs(model, model.coef_)
    assert_array_equal(public_after[:4], public_before[:4])
    # The features that were present did move.
    assert np.all(public_after[4:] != public_before[4:])


@pytest.mark.usefixtures("active_rows_only")
@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("penalty", ["l2", "l1", "elasticnet"])
@pytest.mark.parametrize("lr_decay", [0.0, 0.3], ids=["constant", "decay"])
def test_absent_features_stay_lazy_under_a_penalty(kind, penalty, lr_decay):
    first, second, rng = two_chunks(seed=1)
    y_first = targets_for(kind, len(first), rng)
    y_second = targets_for(kind, len(second), rng)
    params = dict(penalty=penalty, alpha=0.02, l1_ratio=0.3, lr=0.3, lr_decay=lr_decay)
    model = make_model(kind, default_loss(kind), batch_size=3, **params)
    classes = None if kind == "regressor" else np.arange(N_CLASSES[kind])
    fit_args = {} if classes is None else {"classes": classes}
    model.partial_fit(sp.csr_array(first), y_first, **fit_args)
    engine = model.optimizer_
    raw_before = engine.coef[:4].copy()
    accumulator_before = engine.coef_accumulator[:4].copy()
    public_before = as_outputs(model, model.coef_)[:4].copy()

    model.partial_fit(sp.csr_array(second), y_second)
    # Stored rows untouched: the three missed penalty steps are pending...
    assert_array_equal(engine.coef[:4], raw_before)
    assert_array_equal(engine.coef_accumulator[:4], accumulator_before)
    # ...and coef_ applies them: strictly smaller where nonzero, never larger.
    public_after = as_outputs(model, model.coef_)[:4]
    nonzero = public_before != 0
    assert nonzero.any()
    assert np.all(np.abs(public_after[nonzero]) < np.abs(public_before[nonzero]))
    assert np.all(public_after[~nonzero] == 0.0)
    # ...exactly as the eager algorithm does on the same two chunks.
    X = np.vstack([first, second])
    eager = make_eager(model, X, y_first, np.ones(len(first)))
    eager.run(first, eager_targets(model, y_first), np.ones(len(first)), batch_size=3)
    eager.run(
        second, eager_targets(model, y_second), np.ones(len(second)), batch_size=3
    )
    assert_same_state(model, eager)


@pytest.mark.parametrize("kind", KINDS)
def test_l1_gives_exact_zeros(kind):
    X, y, sample_weight = block_problem(kind, seed=5, n_samples=40, n_features=12)
    model = make_model(
        kind,
        default_loss(kind),
        penalty="l1",
        alpha=0.02,
        lr=0.3,
        batch_size=5,
        max_iter=5,
    )
    model.fit(sp.csr_array(X), y, sample_weight=sample_weight)
    coef = as_outputs(model, model.coef_)
    eager = eager_twin(model, X, y, sample_weight, n_epochs=5)
    # Exact zeros, where the eager algorithm has them, and some nonzeros too.
    zeros = coef == 0.0
    assert 0 < zeros.sum() < zeros.size - 1
    assert_array_equal(zeros, eager.coef == 0.0)
    assert_allclose(coef, eager.coef, rtol=RTOL, atol=0)


# -- the closed forms against step-by-step loops ---------------------------------------

DECAYS = [0.0, 1e-4, 1e-3, 0.1, 1.0]
STARTS = [0, 7, 100, 10_000, 1_000_000]
MISSED = [0, 1, 2, 7, 50, 300]
LR = 0.1


def loop_products(schedule, start, n, c):
    """``log A_j`` and ``A_j`` for j = 1..n by the definition, in extended precision
    (float64 rates, as the eager algorithm uses them)."""
    rates = np.array([schedule.rate(j) for j in range(start + 1, start + n + 1)])
    log_terms = np.log1p(np.longdouble(c) * rates.astype(np.longdouble))
    log_products = -np.cumsum(log_terms)
    return log_products, np.exp(log_products)


def closed_form_grid(lr_decay):
    """Every (start, n, c) of the grid, c including the value where the sum's
    telescoping identity has a removable singularity (c lr = lr_decay)."""
    cs = [1e-8, 1e-4, 0.01, 1.0, 100.0] + ([lr_decay / LR] if lr_decay else [])
    return [(s, n, c) for s in STARTS for n in MISSED for c in cs]


@pytest.mark.parametrize("lr_decay", DECAYS)
def test_missed_step_products_and_sums_match_a_loop(lr_decay):
    from sk_adagrad._schedule import Schedule

    schedule = Schedule(LR, lr_decay)
    grid = closed_form_grid(lr_decay)
    start, n, c = np.array(grid, dtype=np.float64).T
    steps = schedule.missed_steps(start[:, None], c[:, None])
    minus_one = steps.product_minus_one(n[:, None])
    product_sum = steps.product_sum(n[:, None], minus_one)[:, 0]
    minus_one = minus_one[:, 0]
    # Under decay the closed forms go through log A_k; at a constant rate
    # A_k - 1 is formed from log1p(c lr) directly.
    log_product = steps.log_product(n[:, None])[:, 0] if lr_decay else None

    for row, (s, k, c_row) in enumerate(grid):
        if k == 0:
            assert minus_one[row] == 0.0 and product_sum[row] == 0.0
            continue
        log_products, products = loop_products(schedule, s, k, c_row)
        expected_log = float(log_products[-1])
        # Observed: within 2e-15 relative everywhere on this grid, including a
        # million steps in; asserted with some room.
        if log_product is not None:
            assert abs(log_product[row] - expected_log) <= 1e-14 * abs(expected_log)
        expected_minus_one = float(np.expm1(log_products[-1]))
        assert abs(minus_one[row] - expected_minus_one) <= 1e-14 * abs(
            expected_minus_one
        )
        expected_sum = float(products.sum())
        assert abs(product_sum[row] - expected_sum) <= 1e-14 * expected_sum


@pytest.mark.parametrize("lr_decay", DECAYS)
def test_steps_above_a_threshold_match_a_loop(lr_decay):
    from sk_adagrad._schedule import Schedule

    schedule = Schedule(LR, lr_decay)
    rng = np.random.default_rng(8)
    grid = [g for g in closed_form_grid(lr_decay) if g[1] > 0]
    start, n, c = np.array(grid, dtype=np.float64).T
    # Thresholds spread over the range of log A_n, so some are crossed early,
    # some late and some never.
    steps = schedule.missed_steps(start[:, None], c[:, None])
    log_end = np.array(
        [float(loop_products(schedule, s, k, c_row)[0][-1]) for s, k, c_row in grid]
    )
    threshold = log_end * rng.uniform(0.05, 1.3, size=len(grid)) - 1e-300
    where = np.nonzero(np.ones((len(grid), 1), dtype=bool))
    found = steps.steps_above(n[:, None], threshold[:, None], where)
    for row, (s, k, c_row) in enumerate(grid):
        log_products, _ = loop_products(schedule, s, k, c_row)
        expected = int(np.sum(log_products > threshold[row]))
        assert found[row] == expected


def prox_loop(w, h, start, n, schedule, l1, l2, sum_after):
    """Missed proximal steps one by one; the sum of iterates after step
    ``sum_after``."""
    total = 0.0
    for j in range(1, n + 1):
        step = schedule.rate(start + j) / h
        w = np.sign(w) * max(abs(w) - l1 * step, 0.0) / (1.0 + l2 * step)
        if j > sum_after:
            total += w
    return w, total


PENALTY_STRENGTHS = [(0.0, 0.02), (0.01, 0.0), (0.004, 0.02), (0.05, 0.01)]


def rate_history(schedule, horizon):
    """The engine's running sums of the rates of steps 1..horizon."""
    from sk_adagrad._state import RateHistory

    history = RateHistory()
    for t in range(1, horizon + 1):
        history.append(schedule.rate(t))
    return history


@pytest.mark.parametrize("l1, l2", PENALTY_STRENGTHS)
@pytest.mark.parametrize("lr_decay", [0.0, 0.05, 1.0])
@pytest.mark.parametrize("offset", [0, 1_000_000], ids=["early", "late"])
def test_catch_up_and_iterate_sums_match_proximal_loops(l1, l2, lr_decay, offset):
    # Late: the rows were last updated a million steps in, where running sums of
    # the rates are ~1e5 and differences of them would keep ~11 digits.
    from sk_adagrad._schedule import Schedule

    schedule = Schedule(0.3, lr_decay)
    penalty = ElasticNet(l1, l2)
    rng = np.random.default_rng(9)
    n_rows, n_outputs, horizon = 60, 3, 80
    history = rate_history(schedule, offset + horizon)
    last = offset + rng.integers(0, horizon // 2, size=n_rows)
    n_missed = rng.integers(0, horizon // 2, size=n_rows)
    n_missed[:5] = 0
    sum_after = np.minimum(rng.integers(0, horizon // 2, size=n_rows), n_missed)
    W = (
        rng.normal(size=(n_rows, n_outputs))
        * rng.choice([1e-4, 0.01, 1.0], n_rows)[:, None]
    )
    W[0, 0] = 0.0
    H = rng.uniform(0.05, 3.0, size=(n_rows, n_outputs))

    caught_up = W.copy()
    total = penalty.catch_up(
        caught_up, H, last, n_missed, schedule, history, sum_after=sum_after
    )
    r = l1 / l2 if l2 else 0.0
    for i in range(n_rows):
        for k in range(n_outputs):
            w, s = prox_loop(
                W[i, k], H[i, k], last[i], n_missed[i], schedule, l1, l2, sum_after[i]
            )
            assert_allclose(caught_up[i, k], w, rtol=1e-13, atol=1e-16)
            # The sum of iterates under the elastic net is (|w| + r) sum A_j - m r,
            # and a window that starts after sum_after steps is the difference
            # of two such sums: the rounding is absolute, a few ulps of r per
            # missed step (observed: up to 7e-14 on a one-step window of 0.0057
            # after 22 steps with r = 5), so the tolerance carries that term.
            atol = 1e-15 + 4e-15 * n_missed[i] * (r + abs(W[i, k]))
            assert_allclose(total[i, k], s, rtol=1e-12, atol=atol)
    assert np.all(caught_up[:5] == W[:5])
