"""Data-parallel epochs (``sk_adagrad.dask.DataParallel``) on real
``distributed.LocalCluster`` clusters: the result is the merge rule applied to
partial models trained as the blocks are split, one worker is sequential
``partial_fit``, and a worker killed mid-epoch changes nothing."""

import copy
import os
import signal
import time
import warnings
from concurrent.futures import ThreadPoolExecutor

import dask
import dask.array as da
import numpy as np
import pytest
import scipy.sparse as sp
from distributed import Client, LocalCluster, get_task_stream

from sk_adagrad import AdagradClassifier, AdagradRegressor
from sk_adagrad._merge import MERGE_RULES, merge_partial_models
from sk_adagrad.dask import DataParallel

N_FEATURES = 1_000
CLASSES = np.array([0, 1, 2])


def _block(seed, n_rows=200):
    X = sp.random(n_rows, N_FEATURES, density=0.01, random_state=seed, format="csr")
    planted = np.random.default_rng(123).normal(size=(N_FEATURES, len(CLASSES)))
    noise = np.random.default_rng(seed).normal(size=(n_rows, len(CLASSES)))
    return X, CLASSES[(np.asarray(X @ planted) + 0.1 * noise).argmax(axis=1)]


def _as_dask(blocks):
    """A dask array of CSR blocks and its labels, block by block."""
    X = da.concatenate(
        [
            da.from_delayed(
                dask.delayed(X_block),
                shape=X_block.shape,
                dtype=np.float64,
                meta=sp.csr_matrix((0, N_FEATURES)),
            )
            for X_block, _ in blocks
        ]
    )
    y = da.concatenate(
        [
            da.from_delayed(dask.delayed(y_block), shape=y_block.shape, dtype=int)
            for _, y_block in blocks
        ]
    )
    return X, y


def _model(**params):
    defaults = dict(
        loss="log_loss",
        penalty="elasticnet",
        alpha=1e-4,
        batch_size=16,
        shuffle=True,
        random_state=0,
    )
    return AdagradClassifier(**(defaults | params))


def _same_model(fitted, reference):
    return all(
        np.array_equal(getattr(fitted, name), getattr(reference, name))
        for name in (
            "coef_",
            "intercept_",
            "coef_accumulator_",
            "intercept_accumulator_",
            "t_",
        )
    )


def _epochs_by_hand(
    model, blocks, n_groups, n_epochs, rule="line_search", classes=CLASSES
):
    """The data-parallel epochs written out: an unfitted model trains alone on
    the first 1 / n_groups of the blocks, then in each epoch partial models
    train from the same start over contiguous groups of the (remaining) blocks,
    and are merged (the line search on the first 2048 rows of each group's
    last block)."""
    fit_params = {} if classes is None else {"classes": classes}
    remaining = blocks
    if not model.__sklearn_is_fitted__():
        alone = max(1, len(blocks) // n_groups)
        for block in blocks[:alone]:
            model.partial_fit(*block, **fit_params)
        remaining = blocks[alone:]
    for _ in range(n_epochs):
        # With one group, the first epoch's blocks all trained alone.
        if remaining:
            model = _epoch_by_hand(model, remaining, n_groups, rule, fit_params)
        remaining = blocks
    return model


def _epoch_by_hand(model, blocks, n_groups, rule, fit_params):
    partials = []
    groups = np.array_split(np.arange(len(blocks)), n_groups)
    for group in groups:
        partial = copy.deepcopy(model)
        for index in group:
            partial.partial_fit(*blocks[index], **fit_params)
        partials.append(partial)
    last_blocks = [blocks[group[-1]] for group in groups]
    rows = [
        np.concatenate([block[part][:2048] for block in last_blocks])
        for part in range(1, len(last_blocks[0]))
    ]
    X = sp.vstack([block[0][:2048] for block in last_blocks]).tocsr()
    return merge_partial_models(model, partials, rule, X, *rows)


def test_one_worker_is_sequential_partial_fit_bit_for_bit(client):
    blocks = [_block(seed) for seed in range(6)]
    fitted = DataParallel(_model(), n_workers=1, max_iter=3).fit(
        *_as_dask(blocks), classes=CLASSES
    )
    reference = _model()
    for _ in range(3):
        for block in blocks:
            reference.partial_fit(*block, classes=CLASSES)
    assert _same_model(fitted.estimator_, reference)
    assert fitted.n_workers_ == 1 and fitted.n_iter_ == 3


@pytest.mark.parametrize("rule", MERGE_RULES)
def test_two_workers_merge_the_partial_models_of_each_epoch(client, rule):
    blocks = [_block(seed) for seed in range(10, 18)]
    X, y = _as_dask(blocks)
    with get_task_stream(client) as stream:
        fitted = DataParallel(_model(), max_iter=3, merge=rule).fit(
            X, y, classes=CLASSES
        )
    assert fitted.n_workers_ == 2  # the cluster's workers, by default
    assert _same_model(fitted.estimator_, _epochs_by_hand(_model(), blocks, 2, 3, rule))

    # The first half of the blocks trained one model, then each epoch trained
    # two partial models in tasks of the cluster, and merged them in another.
    # The line search reads rows of the groups' last blocks, each block once:
    # blocks 5 and 7 (of 4 to 7) in the first epoch, then 3 and 7.
    names = [str(task["key"]) for task in stream.data]
    assert sum("_train_alone" in name for name in names) == 1
    assert sum("_train_on_blocks" in name for name in names) == 2 * 3
    assert sum("_finish_epoch" in name for name in names) == 3
    reads = sum("_head_rows" in name for name in names)
    assert reads == (3 if rule == "line_search" else 0)

    # Data-parallel training reaches about what sequential training does.
    sequential = _epochs_by_hand(_model(), blocks, 1, 3)
    X_test, y_test = _block(99, n_rows=2_000)
    assert fitted.score(X_test, y_test) > sequential.score(X_test, y_test) - 0.03


def test_partial_fit_runs_one_epoch_from_the_current_model(client):
    blocks = [_block(seed) for seed in range(20, 24)]
    X, y = _as_dask(blocks)
    model = DataParallel(_model(), n_workers=2)
    model.partial_fit(X, y, classes=CLASSES)
    model.partial_fit(X, y)
    assert model.n_iter_ == 1
    assert _same_model(model.estimator_, _epochs_by_hand(_model(), blocks, 2, 2))


def test_a_regressor_with_sample_weights(client):
    blocks = [_block(seed) for seed in range(30, 34)]
    X, labels = _as_dask(blocks)
    y = labels.astype(np.float64)
    weights = da.concatenate([da.ones(200, chunks=200) * (i + 1) for i in range(4)])
    model = DataParallel(
        AdagradRegressor(batch_size=32, random_state=0), n_workers=2, max_iter=2
    )
    model.fit(X, y, sample_weight=weights)

    weighted_blocks = [
        (X_block, y_block.astype(np.float64), np.full(200, i + 1.0))
        for i, (X_block, y_block) in enumerate(blocks)
    ]
    reference = _epochs_by_hand(
        AdagradRegressor(batch_size=32, random_state=0),
        weighted_blocks,
        2,
        2,
        classes=None,
    )
    assert _same_model(model.estimator_, reference)


def test_misaligned_or_in_memory_inputs_are_refused_with_a_clear_error():
    X, y = _as_dask([_block(0), _block(1)])
    model = DataParallel(_model(), n_workers=2)
    with pytest.raises(TypeError, match="X must be a dask array"):
        model.fit(X.compute(), y, classes=CLASSES)
    with pytest.raises(ValueError, match="row blocks"):
        model.fit(X, y.rechunk(100), classes=CLASSES)
    with pytest.raises(ValueError, match="split along rows only"):
        model.fit(da.ones((400, 10), chunks=(200, 5)), y, classes=CLASSES)
    with pytest.raises(ValueError, match="average"):
        DataParallel(_model(average=True), n_workers=2).fit(X, y, classes=CLASSES)


@pytest.mark.filterwarnings("ignore:Port 8787 is already in use")
def test_a_worker_killed_mid_epoch_costs_a_retry_not_the_model():
    """Two worker processes; one is killed (SIGKILL) while it holds a partial
    model's training task. Its nanny starts a new worker, the scheduler reruns
    the lost tasks, and the fit ends with the undisturbed fit's model."""
    blocks = [_block(seed, n_rows=1_000) for seed in range(40, 46)]
    # One row per step makes each partial model's task last long enough to be
    # caught running.
    model = DataParallel(_model(batch_size=1), n_workers=2, max_iter=2)
    with (
        LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            dashboard_address=None,
            worker_dashboard_address=":0",
        ) as cluster,
        Client(cluster) as client,
    ):
        X, y = _as_dask(blocks)
        undisturbed = copy.deepcopy(model).fit(X, y, classes=CLASSES).estimator_

        pids = client.run(os.getpid)
        disturbed = _fit_and_kill_a_training_worker(client, model, X, y, pids)
        assert set(client.run(os.getpid).values()) != set(pids.values())
        assert _same_model(disturbed.estimator_, undisturbed)


def _fit_and_kill_a_training_worker(client, model, X, y, pids):
    """Fit in a thread while this one watches the workers' task lists and
    kills the first worker seen holding a partial model's training task."""
    with ThreadPoolExecutor(1) as pool:
        fitting = pool.submit(model.fit, X, y, classes=CLASSES)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not fitting.done():
            busy = [
                address
                for address, keys in client.processing().items()
                if any("_train_on_blocks" in str(key) for key in keys)
            ]
            if busy:
                os.kill(pids[busy[0]], signal.SIGKILL)
                break
            time.sleep(0.005)
        else:
            pytest.fail("no training task was seen running on a worker")
        return fitting.result(timeout=120)


class _TaskInputs:
    """A scheduler plugin that records, for each task sent to a worker, the
    keys of the results it receives."""

    name = "task-inputs"

    def __init__(self, scheduler):
        self.scheduler = scheduler
        self.inputs = {}

    def transition(self, key, start, finish, *args, **kwargs):
        if finish == "processing":
            task = self.scheduler.tasks[key]
            self.inputs[str(key)] = [str(d.key) for d in task.dependencies]


def _made_on_a_worker(seed, n_rows=200):
    return _block(seed, n_rows)


def _blocks_made_on_the_workers(seeds):
    """A dask array whose blocks tasks make where they run: the graph holds
    seeds, not data."""
    parts = [dask.delayed(_made_on_a_worker, nout=2)(seed) for seed in seeds]
    X = da.concatenate(
        [
            da.from_delayed(
                X_block,
                shape=(200, N_FEATURES),
                dtype=np.float64,
                meta=sp.csr_matrix((0, N_FEATURES)),
            )
            for X_block, _ in parts
        ]
    )
    y = da.concatenate(
        [da.from_delayed(y_block, shape=(200,), dtype=int) for _, y_block in parts]
    )
    return X, y


def test_eight_partial_models_merge_two_at_a_time_on_the_workers(client):
    """Each merge task receives at most two partial updates (partial models'
    rows or merges of them), and the epoch's model is that of the same
    pairwise merge done in memory."""
    plugin = _TaskInputs(client.cluster.scheduler)
    client.cluster.scheduler.add_plugin(plugin)
    try:
        blocks = [_block(seed) for seed in range(50, 66)]
        model = DataParallel(_model(), n_workers=8, max_iter=2)
        model.fit(*_as_dask(blocks), classes=CLASSES)
    finally:
        client.cluster.scheduler.remove_plugin(name=plugin.name)
    assert _same_model(model.estimator_, _epochs_by_hand(_model(), blocks, 8, 2))
    updates = ("_train_on_blocks", "_combine")
    merges = {
        key: [name for name in inputs if name.startswith(updates)]
        for key, inputs in plugin.inputs.items()
        if key.startswith(("_combine", "_finish_epoch"))
    }
    # Each worker trains its four partial models in one task and merges them
    # there, pairwise; one task merges the two workers' merges and lays the
    # result over the epoch's start.
    trainings = [key for key in plugin.inputs if key.startswith("_train_on_blocks")]
    assert len(trainings) == 2 * 2
    assert sorted(len(received) for received in merges.values()) == [2, 2]


def test_the_model_stays_on_the_cluster_and_no_graph_is_large(client):
    """A model of 2**17 x 20 float64 weights and accumulators (42 MB) goes to
    the workers once; the task graphs carry references to it, so Dask never
    warns of a large graph, and nothing comes back before estimator_ is
    read."""
    n_features = 2**17
    X, y = _blocks_made_on_the_workers(range(70, 74))
    X = X.map_blocks(
        lambda block: sp.hstack(
            [block, sp.csr_matrix((block.shape[0], n_features - N_FEATURES))],
            format="csr",
        ),
        dtype=np.float64,
        chunks=((200,) * 4, (n_features,)),
        meta=sp.csr_matrix((0, n_features)),
    )
    classes = np.arange(20)
    model = DataParallel(_model(), n_workers=2, max_iter=2)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model.fit(X, y % 20, classes=classes)
        assert "_fetched" in vars(model) and model._fetched is None
        model.partial_fit(X, y % 20)
        fitted = model.estimator_
    assert not [w for w in caught if "large graph" in str(w.message)]
    assert fitted.coef_.shape == (20, n_features)


def test_pickling_brings_the_model_from_the_cluster(client):
    import pickle

    blocks = [_block(seed) for seed in range(80, 84)]
    model = DataParallel(_model(), n_workers=2, max_iter=1).fit(
        *_as_dask(blocks), classes=CLASSES
    )
    restored = pickle.loads(pickle.dumps(model))
    assert _same_model(restored.estimator_, model.estimator_)
    assert _same_model(model.estimator_, _epochs_by_hand(_model(), blocks, 2, 1))


@pytest.mark.parametrize("n_models", [3, 5])
def test_partial_models_split_unevenly_over_the_workers_merge_as_in_memory(
    client, n_models
):
    """Three or five partial models on two workers: the merges follow the same
    pairwise tree as in memory, whichever worker holds each part."""
    blocks = [_block(seed) for seed in range(90, 100)]
    model = DataParallel(_model(), n_workers=n_models, max_iter=2)
    model.fit(*_as_dask(blocks), classes=CLASSES)
    reference = _epochs_by_hand(_model(), blocks, n_models, 2)
    assert _same_model(model.estimator_, reference)
