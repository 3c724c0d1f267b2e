"""The merge of partial models trained side by side from one model (the step of
a data-parallel epoch), against a per-coordinate transcription of its rule."""

import copy
import math
import pickle

import numpy as np
import pytest
import scipy.sparse as sp

from sk_adagrad import AdagradClassifier, AdagradRegressor
from sk_adagrad._merge import MERGE_RULES, merge_partial_models

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


@pytest.mark.parametrize("rule", MERGE_RULES)
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


def test_regressor_intercept_and_weights_merge():
    rng = np.random.default_rng(0)
    X = sp.random(300, N_FEATURES, density=0.1, random_state=0, format="csr")
    y = np.asarray(X @ rng.normal(size=N_FEATURES)) + 3.0
    start = AdagradRegressor(batch_size=10, random_state=0)
    start.partial_fit(X[:20], y[:20])
    partials = []
    for rows in (slice(0, 150), slice(150, None)):
        partial = copy.deepcopy(start)
        for _ in range(20):
            partial.partial_fit(X[rows], y[rows])
        partials.append(partial)
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
    assert merged.score(X, y) > 0.5


def test_averaged_models_and_unknown_rules_are_refused():
    start = _model(average=True)
    partials = _partials(start, [[_chunk(1)], [_chunk(2)]])
    with pytest.raises(ValueError, match="average"):
        merge_partial_models(start, partials)
    with pytest.raises(ValueError, match="rule must be one of"):
        merge_partial_models(start, partials, "median")
