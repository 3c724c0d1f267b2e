"""Without a ``distributed`` client, ``DataParallel`` runs the same tasks one
after another in this process, with the same result; a model trained so
continues on a cluster."""

import pytest
from distributed import Client, LocalCluster
from test_dask_data_parallel import (
    CLASSES,
    _as_dask,
    _block,
    _epochs_by_hand,
    _model,
    _same_model,
)

from sk_adagrad.dask import DataParallel


def test_without_a_client_the_epochs_run_in_this_process():
    blocks = [_block(seed) for seed in range(110, 116)]
    X, y = _as_dask(blocks)
    model = DataParallel(_model(), n_workers=2, max_iter=2).fit(X, y, classes=CLASSES)
    assert _same_model(model.estimator_, _epochs_by_hand(_model(), blocks, 2, 2))
    # Without a client, one partial model: sequential partial_fit.
    alone = DataParallel(_model(), max_iter=2).fit(X, y, classes=CLASSES)
    assert alone.n_workers_ == 1
    assert _same_model(alone.estimator_, _epochs_by_hand(_model(), blocks, 1, 2))


@pytest.mark.filterwarnings("ignore:Port 8787 is already in use")
def test_a_model_trained_in_this_process_continues_on_a_cluster():
    blocks = [_block(seed) for seed in range(120, 124)]
    X, y = _as_dask(blocks)
    model = DataParallel(_model(), n_workers=2)
    model.partial_fit(X, y, classes=CLASSES)
    with (
        LocalCluster(
            n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None
        ) as cluster,
        Client(cluster),
    ):
        model.partial_fit(X, y)
        fitted = model.estimator_
    assert _same_model(fitted, _epochs_by_hand(_model(), blocks, 2, 2))
