"""The merge of partial models trained side by side from one model (the step of
a data-parallel epoch), against a per-coordinate transcription of its rule."""

import copy
import math
import pickle

import numpy as np
import pytest
import scipy.sparse as sp
from scipy.special import logsumexp

from sk_adagrad import AdagradClassifier, AdagradRegressor
from sk_adagrad._merge import merge_partial_models
from sk_adagrad._model_rows import ModelRows
from sk_adagrad._penalty import ElasticNet

N_FEATURES = 60
CLASSES = np.array([0, 1, 2])


def _chunk(seed, columns=slice(None), n_rows=120):
    """CSR rows whose nonzeros lie in ``columns``, labels from a planted model."""
    X = sp.random(n_rows, N_FEATURES, density=0.1, random_state=seed, format="lil")
    mask = np.zeros(N_FEATURES, dtype=bool)
    mask[columns] = True
    X[:, ~mask] = 0
    X = X.tocsr()
    X.eliminate_zeros()
    planted = np.random.default_rng(123).normal(size=(N_FEATURES, len(CLASSES)))
    scores = np.asarray(X @ planted)
    return X, CLASSES[scores.argmax(axis=1)]


def _model(**params):
    defaults = dict(
        loss="log_loss",
        penalty="elasticnet",
        alpha=1e-3,
        lr_decay=0.01,
        batch_size=16,
        random_state=0,
    )
    return AdagradClassifier(**(defaults | params))


def _partials(start, chunks_per_partial):
    partials = []
    for chunks in chunks_per_partial:
        partial = copy.deepcopy(start)
        for X, y in chunks:
            partial.partial_fit(X, y, classes=CLASSES)
        partials.append(partial)
    return partials


def _merge_one_by_one(rule, start, partials, eps, weights_of, accumulators_of):
    """The rules, one coordinate at a time. ``rescaled_sum``: the start weight
    plus each model's update times h(its accumulator) / h(the merged one), with
    h(G) = sqrt(G) + eps; ``weighted_average``: weights averaged by the
    accumulator mass each model added (plain mean where none added any). Either
    way the masses are summed."""
    start_accumulator = accumulators_of(start)
    start_weights = weights_of(start)
    weights = [weights_of(partial) for partial in partials]
    accumulators = [accumulators_of(partial) for partial in partials]
    merged_weights = np.empty_like(start_accumulator)
    merged_accumulators = np.empty_like(start_accumulator)
    for index in np.ndindex(start_accumulator.shape):
        added = [float(G[index] - start_accumulator[index]) for G in accumulators]
        values = [float(W[index]) for W in weights]
        mass = sum(added)
        merged = float(start_accumulator[index]) + mass
        if rule == "rescaled_sum":
            w0 = float(start_weights[index])
            merged_weights[index] = w0 + sum(
                (w - w0) * (math.sqrt(G[index]) + eps) / (math.sqrt(merged) + eps)
                for w, G in zip(values, accumulators, strict=True)
            )
        elif mass == 0.0:
            merged_weights[index] = sum(values) / len(values)
        else:
            merged_weights[index] = sum(
                d / mass * w for d, w in zip(added, values, strict=True)
            )
        merged_accumulators[index] = merged
    return merged_weights, merged_accumulators


def _coef(model):
    return model.coef_


def _coef_accumulator(model):
    return model.coef_accumulator_


def _intercept(model):
    return model.intercept_


def _intercept_accumulator(model):
    return model.intercept_accumulator_


@pytest.mark.parametrize("rule", ["weighted_average", "rescaled_sum"])
@pytest.mark.parametrize("n_partials", [2, 3])
def test_merge_follows_the_rule_coordinate_by_coordinate(rule, n_partials):
    start = _model(eps=1e-3)
    start.partial_fit(*_chunk(0), classes=CLASSES)
    partials = _partials(
        start, [[_chunk(10 * i + 1), _chunk(10 * i + 2)] for i in range(n_partials)]
    )
    merged = merge_partial_models(start, partials, rule)

    weights, accumulators = _merge_one_by_one(
        rule, start, partials, 1e-3, _coef, _coef_accumulator
    )
    np.testing.assert_allclose(merged.coef_, weights, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(merged.coef_accumulator_, accumulators, rtol=1e-15)
    intercept, intercept_accumulator = _merge_one_by_one(
        rule, start, partials, 1e-3, _intercept, _intercept_accumulator
    )
    np.testing.assert_allclose(merged.intercept_, intercept, rtol=1e-13)
    np.testing.assert_allclose(
        merged.intercept_accumulator_, intercept_accumulator, rtol=1e-15
    )
    assert merged.t_ == start.t_ + sum(p.t_ - start.t_ for p in partials)
    # Every feature is up to date: nothing is pending in the merged model.
    assert (merged.optimizer_.last_step == merged.t_).all()
    np.testing.assert_array_equal(merged.optimizer_.coef, merged.coef_.T)


def test_features_only_one_model_touched_keep_its_weights():
    start = _model()
    start.partial_fit(*_chunk(0), classes=CLASSES)
    left, right = slice(0, 30), slice(30, None)
    partials = _partials(start, [[_chunk(1, left)], [_chunk(2, right)]])
    merged = merge_partial_models(start, partials, "weighted_average")
    # The penalty shrank each model's untouched features too; the average
    # takes the weights of the model that trained them, exactly.
    np.testing.assert_array_equal(merged.coef_[:, left], partials[0].coef_[:, left])
    np.testing.assert_array_equal(merged.coef_[:, right], partials[1].coef_[:, right])

    # Without a penalty the other model leaves them alone, and the rescaled sum
    # is the one model's update, rescaled by 1 up to rounding.
    start = _model(penalty=None)
    start.partial_fit(*_chunk(0), classes=CLASSES)
    partials = _partials(start, [[_chunk(1, left)], [_chunk(2, right)]])
    merged = merge_partial_models(start, partials, "rescaled_sum")
    np.testing.assert_allclose(
        merged.coef_[:, left], partials[0].coef_[:, left], rtol=1e-14
    )
    np.testing.assert_allclose(
        merged.coef_[:, right], partials[1].coef_[:, right], rtol=1e-14
    )


def test_step_counter_and_rate_history_are_those_of_sequential_training():
    start = _model()
    start.partial_fit(*_chunk(0), classes=CLASSES)
    chunks = [_chunk(1), _chunk(2), _chunk(3)]
    merged = merge_partial_models(start, _partials(start, [chunks[:1], chunks[1:]]))
    sequential = _partials(start, [chunks])[0]
    assert merged.t_ == sequential.t_
    assert merged.optimizer_.samples_seen == sequential.optimizer_.samples_seen
    np.testing.assert_array_equal(
        merged.optimizer_.rate_history.sums, sequential.optimizer_.rate_history.sums
    )


def test_partial_models_must_start_from_a_fitted_model():
    # Fresh models set their intercept and 'auto' parameters from their own
    # first data: they do not share a start.
    start = _model()
    partials = _partials(start, [[_chunk(1)], [_chunk(2)]])
    with pytest.raises(ValueError, match="start model is not fitted"):
        merge_partial_models(start, partials)


def test_the_partial_models_are_left_as_they_were_and_the_merge_trains_on():
    start = _model()
    start.partial_fit(*_chunk(0), classes=CLASSES)
    partials = _partials(start, [[_chunk(1)], [_chunk(2)]])
    before = [pickle.dumps(partial) for partial in partials]
    merged = merge_partial_models(start, partials)
    assert [pickle.dumps(partial) for partial in partials] == before
    assert merge_partial_models(start, partials[:1]) is partials[0]

    X, y = _chunk(3)
    accuracy = merged.score(X, y)
    for _ in range(5):
        merged.partial_fit(X, y)
    assert merged.score(X, y) > max(accuracy, 0.8)


def _regressors_trained_on_halves():
    """A noiseless sparse regression, a regressor started on 20 of its rows,
    and two copies of it trained 60 epochs each on one half of the rows."""
    rng = np.random.default_rng(0)
    X = sp.random(300, N_FEATURES, density=0.1, random_state=0, format="csr")
    y = np.asarray(X @ rng.normal(size=N_FEATURES)) + 3.0
    start = AdagradRegressor(batch_size=10, random_state=0)
    start.partial_fit(X[:20], y[:20])
    partials = []
    for rows in (slice(0, 150), slice(150, None)):
        partial = copy.deepcopy(start)
        for _ in range(60):
            partial.partial_fit(X[rows], y[rows])
        partials.append(partial)
    return X, y, start, partials


def test_regressor_intercept_and_weights_merge():
    X, y, start, partials = _regressors_trained_on_halves()
    merged = merge_partial_models(start, partials)
    intercept, _ = _merge_one_by_one(
        "weighted_average",
        start,
        partials,
        start.eps,
        _intercept,
        _intercept_accumulator,
    )
    np.testing.assert_allclose(merged.intercept_, intercept, rtol=1e-13)
    assert merged.coef_.shape == (N_FEATURES,)
    # Measured: R^2 0.997 on the training rows.
    assert merged.score(X, y) > 0.97


def test_averaged_models_and_unknown_rules_are_refused():
    start = _model(average=True)
    partials = _partials(start, [[_chunk(1)], [_chunk(2)]])
    with pytest.raises(ValueError, match="average"):
        merge_partial_models(start, partials)
    with pytest.raises(ValueError, match="rule must be one of"):
        merge_partial_models(start, partials, "median")


def _objective_by_hand(W, b, X, y, classes, alpha, l1_ratio):
    """Mean multinomial log loss (the log-loss classifier's on several classes)
    plus the elastic-net penalty of the (n_classes, n_features) weights ``W``."""
    Z = np.asarray(X @ W.T) + b
    true_margins = Z[np.arange(len(y)), np.searchsorted(classes, y)]
    loss = np.mean(logsumexp(Z, axis=1) - true_margins)
    l1, l2 = alpha * l1_ratio, alpha * (1.0 - l1_ratio)
    return loss + l1 * np.abs(W).sum() + 0.5 * l2 * np.square(W).sum()


@pytest.mark.parametrize("n_partials", [2, 3])
def test_line_search_takes_the_best_point_between_average_and_rescaled_sum(
    n_partials,
):
    # Small constant steps: one pass leaves each model far from the minimum.
    start = _model(lr=0.1, lr_decay=0.0)
    start.partial_fit(*_chunk(0), classes=CLASSES)
    partials = _partials(start, [[_chunk(10 * i + 1)] for i in range(n_partials)])
    X, y = _chunk(7)
    merged = merge_partial_models(start, partials, "line_search", X, y)
    average = merge_partial_models(start, partials, "weighted_average")
    rescaled = merge_partial_models(start, partials, "rescaled_sum")

    W, b = average.coef_, average.intercept_
    direction = rescaled.coef_ - W
    intercept_direction = rescaled.intercept_ - b
    steps = [0.0, 0.25, 0.5, 0.75, 1.0, 1.25, 1.5]
    objectives = [
        _objective_by_hand(
            W + s * direction, b + s * intercept_direction, X, y, CLASSES, 1e-3, 0.15
        )
        for s in steps
    ]
    best = steps[int(np.argmin(objectives))]
    # The models' steps add up: the search moves off the average.
    assert best > 0.0
    np.testing.assert_allclose(
        merged.coef_, W + best * direction, rtol=1e-12, atol=1e-15
    )
    np.testing.assert_allclose(
        merged.intercept_, b + best * intercept_direction, rtol=1e-12
    )
    # The accumulators and the step counter are every rule's.
    np.testing.assert_array_equal(merged.coef_accumulator_, average.coef_accumulator_)
    assert merged.t_ == average.t_
    assert (merged.optimizer_.last_step == merged.t_).all()


def test_line_search_keeps_the_average_of_models_that_reached_the_minimum():
    """Two regressors, each trained to the minimum on its half of a noiseless
    problem: adding up their updates overshoots, the average does not, and the
    line search keeps the average."""
    X, y, start, partials = _regressors_trained_on_halves()
    average = merge_partial_models(start, partials, "weighted_average")
    searched = merge_partial_models(start, partials, "line_search", X[:64], y[:64])
    rescaled = merge_partial_models(start, partials, "rescaled_sum")
    np.testing.assert_array_equal(searched.coef_, average.coef_)
    np.testing.assert_array_equal(searched.intercept_, average.intercept_)
    assert min(p.score(X, y) for p in partials) > 0.99
    assert searched.score(X, y) > 0.99 > 0.9 > rescaled.score(X, y)


def test_line_search_needs_rows():
    start = _model()
    start.partial_fit(*_chunk(0), classes=CLASSES)
    partials = _partials(start, [[_chunk(1)], [_chunk(2)]])
    with pytest.raises(ValueError, match="needs training rows"):
        merge_partial_models(start, partials, "line_search")


@pytest.mark.parametrize("l1, l2", [(0.0, 0.0), (1e-3, 0.0), (0.0, 2e-3), (1e-3, 2e-3)])
def test_the_penalty_along_a_line_is_the_penalty_at_each_point(l1, l2):
    rng = np.random.default_rng(0)
    W, D = rng.normal(size=(50, 3)), rng.normal(size=(50, 3))
    penalty = ElasticNet(l1, l2)
    steps = [0.0, 0.25, 1.5]
    np.testing.assert_allclose(
        penalty.values_along(W, D, steps),
        [penalty.value(W + step * D) for step in steps],
        rtol=1e-12,
    )


@pytest.mark.parametrize("rule", ["line_search", "weighted_average", "rescaled_sum"])
def test_float32_models_merge_into_a_float32_model(rule):
    def partials_of(dtype):
        start = _model()
        X, y = _chunk(0)
        start.partial_fit(X.astype(dtype), y, classes=CLASSES)
        chunks = [[(X.astype(dtype), y)] for X, y in (_chunk(1), _chunk(2))]
        return start, _partials(start, chunks)

    X, y = _chunk(7)
    merged = merge_partial_models(*partials_of(np.float32), rule, X, y)
    reference = merge_partial_models(*partials_of(np.float64), rule, X, y)
    engine = merged.optimizer_
    for array in (
        engine.coef,
        engine.coef_accumulator,
        engine.intercept,
        engine.intercept_accumulator,
    ):
        assert array.dtype == np.float32
    np.testing.assert_allclose(merged.coef_, reference.coef_, rtol=1e-4, atol=1e-5)
    merged.partial_fit(X.astype(np.float32), y)
    assert merged.optimizer_.coef.dtype == np.float32


WIDE = 5_000


def _wide_chunk(seed, columns):
    """Rows over ``WIDE`` features, few per row, nonzero only in ``columns``:
    steps on them update their active rows alone."""
    X = sp.random(200, WIDE, density=0.002, random_state=seed, format="csc")
    mask = np.zeros(WIDE, dtype=bool)
    mask[columns] = True
    X = sp.csr_matrix(X.multiply(mask[None, :].astype(float)))
    X.eliminate_zeros()
    labels = CLASSES[np.asarray(X.sum(axis=1)).ravel().argsort() % 3]
    return X, labels


def test_rows_exported_and_laid_over_another_copy_make_the_model_exactly():
    start = _model()
    start.partial_fit(*_wide_chunk(0, slice(0, 4000)), classes=CLASSES)
    trained = copy.deepcopy(start)
    X, y = _wide_chunk(1, slice(2000, 5000))
    trained.partial_fit(X, y, classes=CLASSES)
    rows = trained.optimizer_.rows_touched_since(start.t_)
    # The second chunk's columns, and none the first call alone wrote.
    assert set(rows.tolist()) == set(np.unique(X.indices).tolist())
    copied = copy.deepcopy(start)
    ModelRows.of(trained, rows).lay_over(copied)
    assert pickle.dumps(copied.optimizer_.state) == pickle.dumps(
        trained.optimizer_.state
    )
    X, y = _wide_chunk(2, slice(None))
    for model in (copied, trained):
        model.partial_fit(X, y)
    np.testing.assert_array_equal(copied.coef_, trained.coef_)


def test_a_model_trained_where_it_lies_is_restored_by_its_tracking():
    model = _model()
    model.partial_fit(*_chunk(0), classes=CLASSES)
    before = pickle.dumps(model.optimizer_.state)
    engine = model.optimizer_
    engine.begin_tracking()
    for seed in (1, 2):
        model.partial_fit(*_chunk(seed), classes=CLASSES)
    assert pickle.dumps(engine.state) != before
    engine.restore_tracked()
    assert pickle.dumps(engine.state) == before


def test_features_no_partial_model_touched_keep_their_pending_penalty_steps():
    """Their weights are those of sequential training: the penalty steps of
    every partial model's steps, taken at once when next read."""
    start = _model()
    start.partial_fit(*_wide_chunk(0, slice(None)), classes=CLASSES)
    left, right = _wide_chunk(1, slice(0, 2000)), _wide_chunk(2, slice(2000, 4000))
    partials = _partials(start, [[left], [right]])
    sequential = _partials(start, [[left, right]])[0]
    for rule in ("weighted_average", "rescaled_sum"):
        merged = merge_partial_models(start, partials, rule)
        untouched = slice(4000, None)
        np.testing.assert_array_equal(
            merged.optimizer_.last_step[untouched],
            start.optimizer_.last_step[untouched],
        )
        np.testing.assert_allclose(
            merged.coef_[:, untouched], sequential.coef_[:, untouched], rtol=1e-12
        )
        assert (
            np.abs(merged.coef_[:, untouched]).sum()
            < np.abs(start.coef_[:, untouched]).sum()
        )
