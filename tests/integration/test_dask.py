"""Training on a real dask.distributed cluster gives the single-machine results.

- ``dask_ml.wrappers.Incremental`` drives ``partial_fit`` over the blocks of a
  dask array whose chunks are SciPy CSR matrices built on the workers;
- ``GridSearchCV`` runs its fits through joblib's dask backend;
- dask-ml's ``HyperbandSearchCV`` trains candidates over CSR blocks given
  ``len`` by ``blocks_with_len``.

The cluster runs its two workers as threads of this process but talks to them
over TCP on 127.0.0.1, so models and data blocks are serialised as on a real
cluster, without the seconds it takes to start worker processes.
"""

import dask
import dask.array as da
import joblib
import numpy as np
import pytest
import scipy.sparse as sp
from dask_ml.model_selection import HyperbandSearchCV
from dask_ml.wrappers import Incremental
from distributed import get_task_stream
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV

from sk_adagrad import AdagradClassifier, AdagradRegressor
from sk_adagrad.dask import CSRWithLen, blocks_with_len

N_FEATURES = 2_000
BLOCK_ROWS = 250
N_BLOCKS = 5
CLASSES = np.array([0, 1, 2])


def _hidden_weights():
    return np.random.default_rng(123).normal(size=(N_FEATURES, len(CLASSES)))


def _make_block(seed):
    """One chunk of a sparse corpus: CSR rows and labels from a planted model."""
    X = sp.random(BLOCK_ROWS, N_FEATURES, density=0.01, random_state=seed, format="csr")
    noise = np.random.default_rng(seed).normal(size=(BLOCK_ROWS, len(CLASSES)))
    y = CLASSES[(np.asarray(X @ _hidden_weights()) + 0.1 * noise).argmax(axis=1)]
    return X, y


def _dask_dataset(seeds):
    """A dask array of CSR chunks and its labels, each block built lazily on a
    worker, as a loader of out-of-core data would."""
    blocks = [dask.delayed(_make_block, nout=2)(seed) for seed in seeds]
    X = da.concatenate(
        [
            da.from_delayed(
                X_block,
                shape=(BLOCK_ROWS, N_FEATURES),
                dtype=np.float64,
                meta=sp.csr_matrix((0, N_FEATURES)),
            )
            for X_block, _ in blocks
        ]
    )
    y = da.concatenate(
        [
            da.from_delayed(y_block, shape=(BLOCK_ROWS,), dtype=CLASSES.dtype)
            for _, y_block in blocks
        ]
    )
    return X, y


def _model():
    return AdagradClassifier(
        loss="log_loss",
        penalty="elasticnet",
        alpha=1e-4,
        batch_size=32,
        shuffle=True,
        random_state=0,
    )


def _assert_same_state(fitted, reference):
    for attribute in ("coef_", "intercept_", "coef_accumulator_", "t_"):
        assert np.array_equal(getattr(fitted, attribute), getattr(reference, attribute))


def test_incremental_equals_partial_fit_over_the_blocks(client):
    seeds = range(N_BLOCKS)
    X, y = _dask_dataset(seeds)
    assert X.numblocks == (N_BLOCKS, 1)
    assert isinstance(X.blocks[0].compute(), sp.csr_matrix)

    incremental = Incremental(_model(), shuffle_blocks=False)
    with get_task_stream(client) as stream:
        incremental.fit(X, y, classes=CLASSES)
    # The partial_fit chain (a task holding the model, then one per block) ran
    # on the cluster's workers.
    fit_tasks = [task for task in stream.data if str(task["key"]).startswith("('fit-")]
    assert len(fit_tasks) == N_BLOCKS + 1

    reference = _model()
    for seed in seeds:
        reference.partial_fit(*_make_block(seed), classes=CLASSES)
    _assert_same_state(incremental.estimator_, reference)
    assert reference.t_ == N_BLOCKS * int(np.ceil(BLOCK_ROWS / 32))

    # Prediction maps over the sparse blocks and gives the reference's labels.
    X_all = sp.vstack([_make_block(seed)[0] for seed in seeds])
    np.testing.assert_array_equal(
        incremental.predict(X).compute(), reference.predict(X_all)
    )
    # Measured: 0.962 on the training blocks.
    assert incremental.score(X, y) > 0.94


def test_incremental_partial_fit_continues_training(client):
    first, second = _dask_dataset([10, 11]), _dask_dataset([12, 13])
    incremental = Incremental(_model(), shuffle_blocks=False)
    incremental.partial_fit(*first, classes=CLASSES)
    incremental.partial_fit(*second)

    reference = _model()
    for seed in (10, 11, 12, 13):
        reference.partial_fit(*_make_block(seed), classes=CLASSES)
    _assert_same_state(incremental.estimator_, reference)


def test_incremental_regressor(client):
    X, labels = _dask_dataset(range(4))
    y = labels.astype(np.float64) * 2.0 - 1.0
    incremental = Incremental(
        AdagradRegressor(batch_size=64, random_state=1), shuffle_blocks=False
    )
    incremental.fit(X, y)

    reference = AdagradRegressor(batch_size=64, random_state=1)
    for seed in range(4):
        X_block, y_block = _make_block(seed)
        reference.partial_fit(X_block, y_block * 2.0 - 1.0)
    assert np.array_equal(incremental.estimator_.coef_, reference.coef_)
    assert np.array_equal(incremental.estimator_.intercept_, reference.intercept_)


def test_grid_search_on_the_dask_backend_matches_the_default_backend(client):
    X = sp.vstack([_make_block(seed)[0] for seed in (20, 21)]).tocsr()
    y = np.concatenate([_make_block(seed)[1] for seed in (20, 21)])
    search = GridSearchCV(
        AdagradClassifier(random_state=0, max_iter=5, tol=None),
        {"lr": [0.03, 0.3], "eps": [1e-10, 1e-1]},
        cv=3,
    )
    local = clone(search).fit(X, y)

    distributed_search = clone(search).set_params(n_jobs=-1)
    with get_task_stream(client) as stream, joblib.parallel_backend("dask"):
        distributed_search.fit(X, y)
    assert any("fit_and_score" in str(task["key"]) for task in stream.data)

    for key in ("mean_test_score", "std_test_score", "rank_test_score"):
        np.testing.assert_array_equal(
            distributed_search.cv_results_[key], local.cv_results_[key]
        )
    assert distributed_search.best_params_ == local.best_params_
    np.testing.assert_array_equal(
        distributed_search.best_estimator_.coef_, local.best_estimator_.coef_
    )


def test_csr_blocks_with_len_train_as_plain_csr_and_join_into_plain_csr(client):
    X_block, y_block = _make_block(30)
    sized = CSRWithLen(X_block)
    assert len(sized) == BLOCK_ROWS
    with pytest.raises(TypeError, match="ambiguous"):
        len(X_block)
    _assert_same_state(
        _model().partial_fit(sized, y_block, classes=CLASSES),
        _model().partial_fit(X_block, y_block, classes=CLASSES),
    )

    X, _ = _dask_dataset([31, 32, 33])
    joined = blocks_with_len(X).compute()
    assert type(joined) is sp.csr_matrix
    assert (joined != X.compute()).nnz == 0
    assert all(
        isinstance(block.compute(), CSRWithLen) for block in blocks_with_len(X).blocks
    )


def test_hyperband_search_over_csr_blocks(client):
    """dask-ml's search runs its own coroutines on the client; ``dask.persist``
    inside them needs the client's ``get`` as the scheduler, and its
    ``partial_fit`` tasks need blocks with a ``len``."""
    X, y = _dask_dataset(range(40, 40 + N_BLOCKS))
    search = HyperbandSearchCV(
        _model(),
        {"lr": [0.01, 0.1, 1.0], "alpha": [1e-5, 1e-3]},
        max_iter=9,
        random_state=0,
    )
    with dask.config.set(scheduler=client.get):
        search.fit(blocks_with_len(X), y, classes=CLASSES)

    assert len(search.model_history_) == search.metadata_["n_models"]
    best = search.best_estimator_
    assert isinstance(best, AdagradClassifier)
    # Each partial_fit call stepped over one training block: 4/5 of a block
    # (the search holds out 1/5 of each for scoring), in 32-row steps.
    calls = search.cv_results_["partial_fit_calls"][search.best_index_]
    assert calls == 9
    assert best.t_ == calls * int(np.ceil(BLOCK_ROWS * 4 / 5 / 32))
    assert search.best_score_ == max(search.cv_results_["test_score"])
    # Three classes; 1,000 rows of 2,000 features leave this problem hard: the
    # best model scores 0.464 on a held-out block.
    X_test, y_test = _make_block(99)
    assert best.score(X_test, y_test) > 0.44
