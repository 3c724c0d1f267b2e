"""The step policy picks a step's path and shards by its rules, an estimator's
engine follows the policy the estimator gives it, and the engine declares every
field of its state as an attribute of its own."""

import copy
import pickle

import numpy as np
import pytest
import scipy.sparse as sp

from sk_adagrad import AdagradClassifier
from sk_adagrad._engine import SparseAdagrad
from sk_adagrad._state import EngineState
from sk_adagrad._step_paths import ACTIVE_ROWS, IN_PLACE
from sk_adagrad._step_policy import DEFAULT_STEP_POLICY, StepPolicy

X = sp.random(60, 40, density=0.1, random_state=0, format="csr")
LABELS = np.arange(60) % 3


@pytest.mark.parametrize("n_outputs", [1, 3])
def test_a_batch_is_stepped_in_place_up_to_the_ratio_of_its_entries(n_outputs):
    n_features = 40
    batch = X[:10]
    # In place when n_features * (n_outputs + 2) <= ratio * nnz.
    threshold = n_features * (n_outputs + 2) / batch.nnz
    above = StepPolicy(in_place_ratio=threshold * (1 + 1e-9))
    below = StepPolicy(in_place_ratio=threshold * (1 - 1e-9))
    assert above.path_for(batch, n_features, n_outputs) is IN_PLACE
    assert below.path_for(batch, n_features, n_outputs) is ACTIVE_ROWS
    assert below.path_for(batch.toarray(), n_features, n_outputs) is IN_PLACE


def test_shards_hold_at_least_the_policy_s_entries():
    policy = StepPolicy(shard_entries=100)
    assert policy.shard_count(99, 1, 4) == 1
    assert policy.shard_count(250, 2, 4) == 4
    assert policy.shard_count(250, 1, 4) == 2
    bounds = policy.shard_bounds(250, 1, 4)
    assert bounds == [(0, 125), (125, 250)]


def test_threads_follow_the_estimator_unless_the_policy_sets_them():
    assert StepPolicy(n_threads=3).threads_for(1) == 3
    assert StepPolicy().threads_for(5) == 5


def test_the_engine_steps_by_its_estimator_s_policy_and_pickles_none():
    policy = StepPolicy(in_place_ratio=0.0, shard_entries=1)
    model = AdagradClassifier(max_iter=2, tol=None, random_state=0)
    model._step_policy = policy
    engine = model.fit(X, LABELS).optimizer_
    assert engine.policy is policy
    assert engine.plan_step(X[:5], 2).path is ACTIVE_ROWS
    assert pickle.loads(pickle.dumps(engine)).policy is DEFAULT_STEP_POLICY
    assert copy.copy(engine).policy is policy
    model.set_params(warm_start=True)
    del model._step_policy
    assert model.fit(X, LABELS).optimizer_.policy is DEFAULT_STEP_POLICY


def test_the_engine_declares_every_field_of_its_state():
    fields = EngineState.row_fields() + EngineState.small_fields()
    declared = [
        name
        for name, value in vars(SparseAdagrad).items()
        if isinstance(value, property)
    ]
    assert set(fields) <= set(declared)
    engine = AdagradClassifier(average=True, random_state=0).fit(X, LABELS).optimizer_
    for name in fields:
        assert getattr(engine, name) is getattr(engine.state, name)
