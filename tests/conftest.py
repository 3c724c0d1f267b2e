"""Fixtures that choose how the engine steps sparse batches.

A sparse batch is stepped on its active rows (gathered, caught up lazily and
scattered back) or, when it holds about as many stored entries as there are
features, on every feature in place. Tests of exactness run under each path.
"""

import numpy as np
import pytest

from sk_adagrad import _engine

STEP_PATHS = {
    "active-rows": 0.0,
    "by-density": _engine.IN_PLACE_RATIO,
    "in-place": np.inf,
}


@pytest.fixture(params=list(STEP_PATHS))
def step_path(request, monkeypatch):
    """Run the test with sparse batches stepped on their active rows only, by the
    engine's density rule (both paths within one fit), and always in place."""
    monkeypatch.setattr(_engine, "IN_PLACE_RATIO", STEP_PATHS[request.param])
    return request.param


@pytest.fixture
def active_rows_only(monkeypatch):
    """Sparse batches are always stepped on their active rows, lazily."""
    monkeypatch.setattr(_engine, "IN_PLACE_RATIO", STEP_PATHS["active-rows"])
