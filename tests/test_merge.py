"""The merge of partial models trained side by side from one model (the step of
a data-parallel epoch), against a per-coordinate transcription of its rule."""

import copy
import pickle

import numpy as np
import pytest
import scipy.sparse as sp

from sk_adagrad import AdagradClassifier, AdagradRegressor
from sk_adagrad._merge import merge_partial_models

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


def _merge_one_by_one(start_accumulator, weights, accumulators):
    """The rule, one coordinate at a time: weights averaged by the accumulator
    mass each model added (plain mean where none added any), masses summed."""
    merged_weights = np.empty_like(start_accumulator)
    merged_accumulators = np.empty_like(start_accumulator)
    for index in np.ndindex(start_accumulator.shape):
        added = [float(G[index] - start_accumulator[index]) for G in accumulators]
        values = [float(W[index]) for W in weights]
        mass = sum(added)
        if mass == 0.0:
            merged_weights[index] = sum(values) / len(values)
        else:
            merged_weights[index] = sum(
                d / mass * w for d, w in zip(added, values, strict=True)
            )
        merged_accumulators[index] = start_accumulator[index] + mass
    return merged_weights, merged_accumulators


@pytest.mark.parametrize("n_partials", [2, 3])
def test_merge_follows_the_rule_coordinate_by_coordinate(n_partials):
    start = _model()
    start.partial_fit(*_chunk(0), classes=CLASSES)
    partials = _partials(
        start, [[_chunk(10 * i + 1), _chunk(10 * i + 2)] for i in range(n_partials)]
    )
    merged = merge_partial_models(start, partials)

    weights, accumulators = _merge_one_by_one(
        start.coef_accumulator_,
        [partial.coef_ for partial in partials],
        [partial.coef_accumulator_ for partial in partials],
    )
    np.testing.assert_allclose(merged.coef_, weights, rtol=1e-13, atol=1e-15)
    np.testing.assert_allclose(merged.coef_accumulator_, accumulators, rtol=1e-15)
    intercept, intercept_accumulator = _merge_one_by_one(
        start.intercept_accumulator_,
        [partial.intercept_ for partial in partials],
        [partial.intercept_accumulator_ for partial in partials],
    )
    np.testing.assert_allclose(merged.intercept_, intercept, rtol=1e-13)
    np.testing.assert_allclose(
        merged.intercept_accumulator_, intercept_accumulator, rtol=1e-15
    )
    assert merged.t_ == start.t_ + sum(p.t_ - start.t_ for p in partials)
    # Every feature is up to date: nothing is pending in the merged model.
    assert (merged.optimizer_.last_step == merged.t_).all()
    np.testing.assert_array_equal(merged.optimizer_.coef, merged.coef_.T)


def test_features_only_one_model_touched_keep_its_weights_exactly():
    start = _model()
    start.partial_fit(*_chunk(0), classes=CLASSES)
    left, right = slice(0, 30), slice(30, None)
    partials = _partials(start, [[_chunk(1, left)], [_chunk(2, right)]])
    merged = merge_partial_models(start, partials)
    # The penalty shrank each model's untouched features too; the merge takes
    # the weights of the model that trained them.
    np.testing.assert_array_equal(merged.coef_[:, left], partials[0].coef_[:, left])
    np.testing.assert_array_equal(merged.coef_[:, right], partials[1].coef_[:, right])


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


def test_a_first_epoch_merges_from_a_fresh_model():
    start = _model(initial_accumulator_value=0.1)
    partials = _partials(start, [[_chunk(1)], [_chunk(2)]])
    merged = merge_partial_models(start, partials)
    weights, accumulators = _merge_one_by_one(
        np.full((len(CLASSES), N_FEATURES), 0.1),
        [partial.coef_ for partial in partials],
        [partial.coef_accumulator_ for partial in partials],
    )
    np.testing.assert_allclose(merged.coef_, weights, rtol=1e-13, atol=1e-15)
    np.testing.assert_allclose(merged.coef_accumulator_, accumulators, rtol=1e-15)
    assert merged.t_ == partials[0].t_ + partials[1].t_
    assert not start.__sklearn_is_fitted__()


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
    partials = []
    for rows in (slice(0, 150), slice(150, None)):
        partial = copy.deepcopy(start)
        for _ in range(20):
            partial.partial_fit(X[rows], y[rows])
        partials.append(partial)
    merged = merge_partial_models(start, partials)
    intercept, _ = _merge_one_by_one(
        np.zeros(1),
        [p.intercept_ for p in partials],
        [p.intercept_accumulator_ for p in partials],
    )
    np.testing.assert_allclose(merged.intercept_, intercept, rtol=1e-13)
    assert merged.coef_.shape == (N_FEATURES,)
    assert merged.score(X, y) > 0.5


def test_averaged_models_are_refused():
    start = _model(average=True)
    partials = _partials(start, [[_chunk(1)], [_chunk(2)]])
    with pytest.raises(ValueError, match="average"):
        merge_partial_models(start, partials)
