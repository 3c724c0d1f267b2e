"""Mini-batches: batches prepared in a background thread are the rows asked for,
and the active columns of a batch are its distinct column indices."""

from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
import scipy.sparse as sp
from numpy.testing import assert_array_equal

from sk_adagrad._batches import ActiveColumns, batch_rows
from sk_adagrad._threads import prefetched

RNG = np.random.default_rng(0)
DENSE = RNG.normal(size=(23, 5)) * (RNG.random((23, 5)) < 0.5)
INPUTS = {"csr": sp.csr_array(DENSE), "dense": DENSE}


def as_dense(X):
    return X.toarray() if sp.issparse(X) else X


@pytest.mark.parametrize("kind", INPUTS)
@pytest.mark.parametrize("batch_size", [1, 4, 23, 50])
@pytest.mark.parametrize("shuffled", [False, True])
def test_prefetched_rows_are_the_batches_in_order(kind, batch_size, shuffled):
    X = INPUTS[kind]
    order = RNG.permutation(len(DENSE)) if shuffled else None
    expected = list(batch_rows(len(DENSE), batch_size, order))

    def prepare(rows):
        return X[rows], rows

    with ThreadPoolExecutor(max_workers=1) as pool:
        seen = list(
            prefetched(prepare, batch_rows(len(DENSE), batch_size, order), pool)
        )
    assert len(seen) == len(expected)
    for (X_batch, rows), wanted in zip(seen, expected, strict=True):
        assert_array_equal(np.arange(len(DENSE))[rows], np.arange(len(DENSE))[wanted])
        assert_array_equal(as_dense(X_batch), DENSE[wanted])


def test_no_batches_yield_nothing():
    with ThreadPoolExecutor(max_workers=1) as pool:
        assert list(prefetched(DENSE.__getitem__, batch_rows(0, 4), pool)) == []


def test_a_consumer_that_stops_early_leaves_no_fetch_running():
    calls = []

    class Recording:
        def __getitem__(self, rows):
            calls.append(rows)
            return DENSE[rows]

    with ThreadPoolExecutor(max_workers=1) as pool:
        batches = prefetched(Recording().__getitem__, batch_rows(len(DENSE), 4), pool)
        with pytest.raises(KeyboardInterrupt):
            for _ in batches:
                raise KeyboardInterrupt
        # Closing waits for the fetch ahead: the first batch and that one only.
        batches.close()
        assert len(calls) == 2


def test_an_error_while_fetching_reaches_the_consumer():
    class Failing:
        def __getitem__(self, rows):
            if isinstance(rows, slice) and rows.start == 8:
                raise MemoryError("fetch failed")
            return rows

    seen = []
    with ThreadPoolExecutor(max_workers=1) as pool:
        batches = prefetched(Failing().__getitem__, batch_rows(len(DENSE), 4), pool)
        with pytest.raises(MemoryError, match="fetch failed"):
            for rows in batches:
                seen.append(rows.start)
    assert seen == [0, 4]


@pytest.mark.parametrize("seed", range(5))
def test_active_columns_are_the_distinct_indices_and_the_block_their_columns(seed):
    rng = np.random.default_rng(seed)
    shape = (int(rng.integers(1, 40)), int(rng.integers(1, 300)))
    X_batch = sp.csr_array(rng.random(shape) * (rng.random(shape) < 0.1))
    n_features = shape[1]
    find = ActiveColumns(n_features)
    for _ in range(2):  # the scratch space left by a call does not matter
        columns, block = find(X_batch)
        assert np.unique(columns).size == columns.size
        assert_array_equal(np.sort(columns), np.unique(X_batch.indices))
        assert_array_equal(block.toarray(), X_batch.toarray()[:, columns])


def test_active_columns_refuse_an_index_out_of_range():
    X_batch = sp.csr_array(
        (np.ones(2), np.array([3, 12], dtype=np.int32), np.array([0, 2])), shape=(1, 13)
    )
    with pytest.raises(IndexError):
        ActiveColumns(10)(X_batch)
