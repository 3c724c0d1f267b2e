"""Steps shared between threads: the shards cover the batch exactly, and a fit is
the same on one thread as on several, up to the rounding of the margins' sums."""

import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
from joblib import Parallel, cpu_count, delayed, parallel_config
from numpy.testing import assert_array_equal
from sklearn.base import clone
from test_sparse_dense import assert_same_fit

from sk_adagrad import AdagradClassifier
from sk_adagrad._engine import SparseAdagrad
from sk_adagrad._step_paths import ACTIVE_ROWS, IN_PLACE
from sk_adagrad._step_policy import StepPolicy
from sk_adagrad._threads import each_shard, effective_n_threads

from helpers.problems import engine_for, sparse_text_like

RNG = np.random.default_rng(0)


@pytest.mark.parametrize("in_place", [False, True])
@pytest.mark.parametrize("n_shards", [1, 2, 3, 7])
def test_shards_split_the_batch_by_disjoint_features(in_place, n_shards):
    policy = StepPolicy(in_place_ratio=np.inf if in_place else 0.0, shard_entries=1)
    X_batch = sparse_text_like(40, 300, 5)
    planned = engine_for(300, 4, policy).plan_step(X_batch, n_shards)
    assert planned.path is (IN_PLACE if in_place else ACTIVE_ROWS)
    shards = planned.shards
    assert len(shards) == n_shards
    features = [np.arange(300)[columns] for columns, _ in shards]
    covered = np.concatenate(features)
    assert np.unique(covered).size == covered.size  # disjoint
    expected = np.arange(300) if in_place else np.unique(X_batch.indices)
    assert_array_equal(np.sort(covered), expected)
    dense = X_batch.toarray()
    for columns_of_shard, (_, block) in zip(features, shards, strict=True):
        assert_array_equal(block.toarray(), dense[:, columns_of_shard])


def test_a_small_step_is_not_shared():
    X_batch = sparse_text_like(40, 300, 5)
    assert len(engine_for(300, 4).plan_step(X_batch, 2).shards) == 1


@pytest.fixture
def shard_counts(monkeypatch):
    """The number of shards of every step planned."""
    counts = []
    plan_step = SparseAdagrad.plan_step

    def counting(self, X_batch, n_shards=1):
        planned = plan_step(self, X_batch, n_shards)
        counts.append(len(planned.shards))
        return planned

    monkeypatch.setattr(SparseAdagrad, "plan_step", counting)
    return counts


# (n_features, classes, entries per row): the default rules step the first
# in place, the second on active rows, both on two shards.
SHARED_PROBLEMS = {"in-place": (18_000, 40, 40), "active-rows": (60_000, 80, 30)}


@pytest.mark.parametrize("problem", SHARED_PROBLEMS)
@pytest.mark.parametrize(
    "model",
    [
        AdagradClassifier(loss="hinge", batch_size=1024),
        AdagradClassifier(
            loss="log_loss", penalty="elasticnet", average=1000, batch_size=1024
        ),
        AdagradClassifier(
            loss="squared_hinge", penalty="l1", lr_decay=0.01, batch_size=1024
        ),
    ],
    ids=["ovr", "multinomial-elasticnet-averaged", "l1-decay"],
)
def test_a_fit_on_two_threads_equals_the_fit_on_one(problem, model, shard_counts):
    n_features, n_classes, per_row = SHARED_PROBLEMS[problem]
    X = sparse_text_like(3072, n_features, per_row, seed=1)
    y = RNG.integers(0, n_classes, size=X.shape[0])
    settings = dict(max_iter=2, tol=None, random_state=0)
    fits = []
    for n_threads in (1, 2):
        shard_counts.clear()
        model = clone(model).set_params(n_threads=n_threads, **settings)
        fits.append(model.fit(X, y).partial_fit(X[:2048], y[:2048]))
        assert set(shard_counts) == {n_threads}
    one, two = fits
    assert_same_fit(one, two, rtol=1e-10, atol=1e-14)


def test_effective_threads(monkeypatch):
    assert effective_n_threads(5) == 5
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    assert effective_n_threads(None) == min(cpu_count(), 2)
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    assert effective_n_threads(None) == 1
    monkeypatch.setenv("OMP_NUM_THREADS", "many")
    assert effective_n_threads(None) == min(cpu_count(), 2)


def test_workers_of_a_parallel_search_use_their_share_of_the_cpus(monkeypatch):
    # Unless the parent sets it, joblib's process workers get OMP_NUM_THREADS =
    # CPUs // n_jobs.
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    seen = Parallel(n_jobs=2)(delayed(effective_n_threads)(None) for _ in range(2))
    assert max(seen) <= max(cpu_count() // 2, 1)


@pytest.mark.parametrize("backend", ["threading", "loky"])
def test_workers_of_a_parallel_call_never_oversubscribe(monkeypatch, backend):
    # Threads of the threading backend get no OMP_NUM_THREADS: one thread each.
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    with parallel_config(backend=backend):
        seen = Parallel(n_jobs=2)(delayed(effective_n_threads)(None) for _ in range(2))
    assert max(seen) <= max(cpu_count() // 2, 1)
    # A sequential call leaves the default alone.
    with parallel_config(backend="threading"):
        seen = Parallel(n_jobs=1)(delayed(effective_n_threads)(None) for _ in range(2))
    assert seen == [min(cpu_count(), 2)] * 2


def test_n_threads_must_be_positive():
    X = sparse_text_like(20, 50, 3)
    with pytest.raises(ValueError, match="n_threads"):
        AdagradClassifier(n_threads=0).fit(X, np.arange(20) % 2)


def test_a_failing_shard_returns_only_when_the_others_have_ended():
    ended = []

    def step(shard, index):
        if index == 0:
            raise KeyboardInterrupt
        time.sleep(0.2)
        ended.append(index)

    with ThreadPoolExecutor(max_workers=2) as pool:
        with pytest.raises(KeyboardInterrupt):
            each_shard(pool, step, ["first", "second", "third"])
        assert sorted(ended) == [1, 2]


def test_an_error_in_a_shard_thread_reaches_the_caller():
    def step(shard, index):
        if index == 1:
            raise FloatingPointError("shard failed")
        return index

    with ThreadPoolExecutor(max_workers=1) as pool:
        assert each_shard(pool, lambda shard, index: index, [0, 1]) == [0, 1]
        with pytest.raises(FloatingPointError, match="shard failed"):
            each_shard(pool, step, [0, 1])


@pytest.mark.parametrize("read", ["sparse", "dense", "coef"])
def test_a_fitted_model_read_from_many_threads_at_once_gives_what_one_thread_does(
    read,
):
    # Predicting on sparse chunks uses scratch space and the dense path fills a
    # cached copy of the weights: neither may leak between concurrent readers.
    X = sparse_text_like(2000, 5000, 30)
    y = np.arange(2000) % 4
    model = AdagradClassifier(batch_size=100, max_iter=2, tol=None, random_state=0)
    model.fit(X, y)
    chunks = [X[start : start + 100] for start in range(0, 2000, 100)]
    if read == "sparse":
        task = model.decision_function
    elif read == "dense":
        chunks = [chunk.toarray() for chunk in chunks]
        task = model.decision_function
    else:

        def task(chunk):
            return model.coef_ @ chunk.T.toarray()

    for _ in range(10):
        # A new step clears the cached weights, so the readers race to rebuild them.
        model.partial_fit(X[:32], y[:32])
        with ThreadPoolExecutor(max_workers=4) as pool:
            seen = list(pool.map(task, chunks))
        expected = [task(chunk) for chunk in chunks]
        for got, wanted in zip(seen, expected, strict=True):
            assert_array_equal(got, wanted)
