"""Fixtures the tests share: how the engine steps sparse batches, and a Dask client.

A sparse batch is stepped on its active rows (gathered, caught up lazily and
scattered back) or, when it holds about as many stored entries as there are
features, on every feature in place; either way a large step is split over
threads by features. Tests of exactness run under each path, on one thread and
split three ways even on tiny steps.
"""

import numpy as np
import pytest

from sk_adagrad import _base, _engine

# Name: (in-place ratio, threads sharing every step or None for the default).
STEP_PATHS = {
    "active-rows": (0.0, None),
    "by-density": (_engine.IN_PLACE_RATIO, None),
    "in-place": (np.inf, None),
    "active-rows-3-threads": (0.0, 3),
    "in-place-3-threads": (np.inf, 3),
}


@pytest.fixture(params=list(STEP_PATHS))
def step_path(request, monkeypatch):
    """Run the test with sparse batches stepped on their active rows only, by the
    engine's density rule (both paths within one fit), always in place, and on
    either path with every step split between three threads."""
    ratio, threads = STEP_PATHS[request.param]
    monkeypatch.setattr(_engine, "IN_PLACE_RATIO", ratio)
    if threads is not None:
        monkeypatch.setattr(_engine, "SHARD_ENTRIES", 1)
        monkeypatch.setattr(_base, "effective_n_threads", lambda n_threads: threads)
    return request.param


@pytest.fixture
def active_rows_only(monkeypatch):
    """Sparse batches are always stepped on their active rows, lazily."""
    monkeypatch.setattr(_engine, "IN_PLACE_RATIO", STEP_PATHS["active-rows"][0])


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
