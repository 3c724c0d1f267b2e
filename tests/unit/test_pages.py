"""Model-sized arrays are mapped page by page as they are written, privately, and
behave as any NumPy array does."""

import copy
import mmap
import os
import pickle
import sys

import numpy as np
import pytest
import scipy.sparse as sp

from sk_adagrad import AdagradClassifier
from sk_adagrad._pages import HUGE_PAGE_ADVICE_BYTES, zeros
from sk_adagrad._step_policy import StepPolicy

linux_only = pytest.mark.skipif(
    sys.platform != "linux", reason="NumPy advises huge pages on Linux only"
)
LARGE = (HUGE_PAGE_ADVICE_BYTES // 8 // 55 + 1, 55)


def test_small_arrays_are_numpy_zeros():
    array = zeros((10, 3), np.float32)
    assert array.base is None
    assert array.dtype == np.float32 and array.shape == (10, 3)
    assert not array.any()


@pytest.mark.parametrize("dtype", [np.float64, np.float32, np.int64])
def test_large_arrays_are_zeros_that_numpy_uses_as_its_own(dtype):
    array = zeros(LARGE, dtype)
    assert array.shape == LARGE and array.dtype == dtype
    assert array.flags.c_contiguous and array.flags.writeable
    assert not array.any()
    array[::7] = 3
    restored = pickle.loads(pickle.dumps(array))
    np.testing.assert_array_equal(restored, array)
    clone = copy.deepcopy(array)
    clone[:] = 1
    assert array[1].sum() == 0
    np.testing.assert_array_equal(zeros(LARGE[0], dtype), np.zeros(LARGE[0], dtype))


@linux_only
def test_a_forked_process_writes_its_own_copy():
    array = zeros(LARGE, np.float64)
    pid = os.fork()
    if pid == 0:  # the child writes its copy and leaves at once
        array[:] = 1.0
        os._exit(0)
    os.waitpid(pid, 0)
    assert not array.any()


def _resident_bytes():
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


@linux_only
def test_a_wide_model_holds_the_memory_of_the_rows_it_wrote():
    # 2^20 features x 20 classes: 168 MB for the weights, as much for their
    # accumulators. A batch of 64 rows of 3 features writes 192 rows of each.
    n_features, n_classes = 2**20, 20
    rng = np.random.default_rng(0)
    columns = rng.choice(n_features, size=64 * 3)
    X = sp.csr_matrix(
        (np.ones(columns.size), columns, np.arange(0, columns.size + 1, 3)),
        shape=(64, n_features),
    )
    y = np.arange(64) % n_classes
    before = _resident_bytes()
    model = AdagradClassifier().partial_fit(X, y, classes=np.arange(n_classes))
    grown = _resident_bytes() - before
    state = model.optimizer_.state
    model_bytes = state.coef.nbytes + state.coef_accumulator.nbytes
    # Huge pages would hold nearly all of it (192 scattered rows reach most
    # 2 MiB pages of each array); small pages hold a few pages a row.
    assert grown < model_bytes / 20


@linux_only
def test_the_model_is_the_same_in_either_kind_of_memory():
    X = sp.random(300, 40_000, density=0.002, random_state=0, format="csr")
    y = np.arange(300) % 30
    small = AdagradClassifier(random_state=0, average=True).fit(X, y)
    numpy_made = AdagradClassifier(random_state=0, average=True)
    numpy_made._step_policy = StepPolicy(small_pages_from=np.inf)
    numpy_made.fit(X, y)
    assert isinstance(small.optimizer_.state.coef.base, mmap.mmap)
    assert numpy_made.optimizer_.state.coef.base is None
    for name in ("coef_", "intercept_", "coef_accumulator_"):
        np.testing.assert_array_equal(getattr(small, name), getattr(numpy_made, name))


@linux_only
def test_an_array_mapped_at_once_holds_its_memory_before_any_write():
    before = _resident_bytes()
    array = zeros((1024, 4096), np.float64, at_once=True)
    assert _resident_bytes() - before >= 0.9 * array.nbytes
    assert not array.any()


@linux_only
def test_memory_the_system_refuses_is_a_memory_error():
    # 2^47 bytes: more than a process's address space, whatever the overcommit.
    with pytest.raises(
        MemoryError, match="Unable to map .* shape \\(17592186044416,\\)"
    ):
        zeros(2**44, np.float64)
