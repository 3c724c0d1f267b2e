"""Fixtures the tests share: how the engine steps sparse batches, and a Dask client.

A sparse batch is stepped on its active rows (gathered, caught up lazily and
scattered back) or, when it holds about as many stored entries as there are
features, on every feature in place; either way a large step is split over
threads by features. Tests of exactness run under each path, on one thread and
split three ways even on tiny steps. A fixture forces a path by giving the
estimators another step policy (``BaseAdagrad._step_policy``).
"""

import numpy as np
import pytest

from sk_adagrad._base import BaseAdagrad
from sk_adagrad._step_policy import StepPolicy

# Name: the policy of the path, on threads sharing every step or as the estimator
# says.
STEP_PATHS = {
    "active-rows": StepPolicy(in_place_ratio=0.0),
    "by-density": StepPolicy(),
    "in-place": StepPolicy(in_place_ratio=np.inf),
    "active-rows-3-threads": StepPolicy(
        in_place_ratio=0.0, shard_entries=1, n_threads=3
    ),
    "in-place-3-threads": StepPolicy(
        in_place_ratio=np.inf, shard_entries=1, n_threads=3
    ),
}


@pytest.fixture(params=list(STEP_PATHS))
def step_path(request, monkeypatch):
    """Run the test with sparse batches stepped on their active rows only, by the
    engine's density rule (both paths within one fit), always in place, and on
    either path with every step split between three threads."""
    monkeypatch.setattr(BaseAdagrad, "_step_policy", STEP_PATHS[request.param])
    return request.param


@pytest.fixture
def active_rows_only(monkeypatch):
    """Sparse batches are always stepped on their active rows, lazily."""
    monkeypatch.setattr(BaseAdagrad, "_step_policy", STEP_PATHS["active-rows"])


@pytest.fixture(scope="module")
def client():
    """A Dask client of a two-worker cluster in this process, one per module."""
    # Imported here: the tests that run without Dask installed never ask for it.
    from distributed import Client, LocalCluster

    with (
        LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=False,
            protocol="tcp",
            host="127.0.0.1",
            dashboard_address=None,
        ) as cluster,
        Client(cluster) as dask_client,
    ):
        yield dask_client
