"""A model too large for the memory available is refused before anything is
allocated, with a message that names its size, its shape and what to change,
and the estimator is left as it was."""

import os
import pickle
import resource
import subprocess
import sys
import tracemalloc

import numpy as np
import pytest
import scipy.sparse as sp

from sk_adagrad import AdagradClassifier, AdagradRegressor, _memory
from sk_adagrad._base import BaseAdagrad
from sk_adagrad._engine import SparseAdagrad
from sk_adagrad._losses import make_loss
from sk_adagrad._penalty import ElasticNet
from sk_adagrad._schedule import Schedule


def engine(n_features, n_outputs, dtype, averaging):
    return SparseAdagrad(
        n_features,
        n_outputs,
        loss=make_loss("hinge"),
        schedule=Schedule(0.1, 0.0),
        penalty=ElasticNet.from_params("l2", 1e-4, None),
        eps=1e-10,
        initial_accumulator_value=0.0,
        fit_intercept=True,
        average_from_sample=1 if averaging else 0,
        dtype=dtype,
    )


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("averaging", [False, True])
def test_the_estimate_counts_the_state_and_the_journals_worst_case(dtype, averaging):
    n_features, n_outputs = 37, 5
    model = engine(n_features, n_outputs, dtype, averaging)
    model.begin()
    model._journal.save_every_row()
    state = model.state
    row_arrays = [getattr(state, name) for name in state.row_fields()]
    state_bytes = sum(array.nbytes for array in row_arrays if array is not None)
    ((rows, saved),) = model._journal.records
    journal_bytes = sum(value.nbytes for value in saved.values() if value is not None)
    stamps = model._row_stamps.stamps.nbytes
    expected = state_bytes + journal_bytes + stamps
    assert _memory.model_bytes(n_features, n_outputs, dtype, averaging) == expected


def hashed_width_problem(n_features, n_classes, n_rows=200, dtype=np.float64):
    """A CSR matrix of ``n_features`` columns, as a HashingVectorizer of that
    many features gives, with ``n_classes`` classes."""
    rng = np.random.default_rng(0)
    per_row = 5
    columns = rng.integers(0, n_features, size=n_rows * per_row)
    X = sp.csr_array(
        (
            np.ones(n_rows * per_row, dtype),
            columns,
            np.arange(0, n_rows * per_row + 1, per_row),
        ),
        shape=(n_rows, n_features),
    )
    return X, np.arange(n_rows) % n_classes


def test_a_model_larger_than_any_memory_fails_at_once_with_the_fixes():
    X, y = hashed_width_problem(2**34, 50)
    model = AdagradClassifier()
    tracemalloc.start()
    try:
        with pytest.raises(MemoryError) as raised:
            model.fit(X, y)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    # The data is 200 rows of 5 entries: nothing of the model's size was made,
    # so the refusal costs what validating the data costs (no timed assertion:
    # the allocations are what would make it slow).
    assert peak < 10 * 2**20
    message = str(raised.value)
    for words in (
        "25.3 TiB",
        "17,179,869,184 features x 50 outputs in float64",
        "fewer features",
        "float32",
        "fewer classes",
        "partial_fit on a smaller model",
    ):
        assert words in message
    assert not hasattr(model, "optimizer_")
    assert not hasattr(model, "classes_")


def give_the_estimators(monkeypatch, n_bytes):
    """The estimators find ``n_bytes`` of memory available, whatever the
    machine has."""
    monkeypatch.setattr(BaseAdagrad, "_memory_available", staticmethod(lambda: n_bytes))


@pytest.fixture
def little_memory(monkeypatch):
    """1 MiB available, whatever the machine has."""
    give_the_estimators(monkeypatch, 2**20)


def test_a_refused_call_leaves_a_fitted_model_as_it_was(little_memory):
    X, y = hashed_width_problem(1_000, 3)
    model = AdagradClassifier(random_state=0).fit(X, y)
    before = pickle.dumps(model)
    X_wide, y_wide = hashed_width_problem(100_000, 3)
    with pytest.raises(MemoryError, match="100,000 features x 3 outputs"):
        model.fit(X_wide, y_wide)
    assert pickle.dumps(model) == before
    # The fitted model (1,000 features) trains on: it was counted when made.
    model.partial_fit(X, y)


def test_partial_fit_and_the_regressor_are_checked_too(little_memory):
    X, y = hashed_width_problem(100_000, 4)
    classifier = AdagradClassifier(average=True)
    with pytest.raises(MemoryError, match="running averages") as raised:
        classifier.partial_fit(X, y, classes=np.arange(4))
    assert "average=False" in str(raised.value)
    assert not hasattr(classifier, "optimizer_")
    regressor = AdagradRegressor()
    with pytest.raises(MemoryError, match="100,000 features x 1 outputs in float32"):
        regressor.fit(X.astype(np.float32), y.astype(float))
    assert not hasattr(regressor, "optimizer_")


def test_float32_is_not_offered_to_a_float32_model(little_memory):
    X, y = hashed_width_problem(100_000, 3, dtype=np.float32)
    with pytest.raises(MemoryError) as raised:
        AdagradClassifier().fit(X, y)
    assert "float32 input" not in str(raised.value)


def test_a_model_that_fits_is_not_refused(monkeypatch):
    X, y = hashed_width_problem(1_000, 3)
    needed = _memory.model_bytes(1_000, 3)
    give_the_estimators(monkeypatch, needed)
    AdagradClassifier().fit(X, y)
    give_the_estimators(monkeypatch, needed - 1)
    with pytest.raises(MemoryError):
        AdagradClassifier().fit(X, y)


def test_unknown_memory_checks_nothing(tmp_path):
    def unknown():
        return _memory.available_bytes(tmp_path / "meminfo", tmp_path / "cgroup")

    assert unknown() is None
    _memory.check_model_fits(2**40, 1000, memory_available=unknown)


def write(path, text):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def test_the_memory_available_is_the_least_of_the_system_and_the_cgroup(tmp_path):
    def available_bytes():
        return _memory.available_bytes(tmp_path / "meminfo", tmp_path / "cgroup")

    write(tmp_path / "meminfo", "MemTotal: 8000 kB\nMemAvailable:    4000 kB\n")
    assert available_bytes() == 4000 * 1024
    # cgroup v1 without a limit reports a number near 2**63.
    write(tmp_path / "cgroup/memory/memory.limit_in_bytes", f"{2**63 - 4096}\n")
    write(tmp_path / "cgroup/memory/memory.usage_in_bytes", "1000\n")
    assert available_bytes() == 4000 * 1024
    write(tmp_path / "cgroup/memory/memory.limit_in_bytes", "3000000\n")
    assert available_bytes() == 3000000 - 1000
    # cgroup v2 is read first.
    write(tmp_path / "cgroup/memory.max", "max\n")
    write(tmp_path / "cgroup/memory.current", "5\n")
    assert available_bytes() == 4000 * 1024
    write(tmp_path / "cgroup/memory.max", "1000000\n")
    assert available_bytes() == 1000000 - 5


def test_an_address_space_limit_leaves_what_the_process_has_not_mapped(tmp_path):
    page = os.sysconf("SC_PAGE_SIZE")
    write(tmp_path / "statm", "1000 200 50 1 0 300 0\n")
    headroom = _memory.address_space_headroom(tmp_path / "statm", limit=5000 * page)
    assert headroom == 4000 * page
    no_limit = resource.RLIM_INFINITY
    assert _memory.address_space_headroom(tmp_path / "statm", no_limit) is None
    assert _memory.address_space_headroom(tmp_path / "absent", 5000 * page) is None
    write(tmp_path / "meminfo", "MemAvailable:    4000 kB\n")
    assert (
        _memory.available_bytes(
            tmp_path / "meminfo", tmp_path / "cgroup", address_space=lambda: 10
        )
        == 10
    )


def test_a_search_under_ulimit_v_is_refused_before_it_maps_anything():
    # A child process whose address space is limited to what it has mapped
    # and 1 GiB more, asked for a stack of about 11 GiB.
    child = """
import resource
import numpy as np
import scipy.sparse as sp
from sk_adagrad import AdagradClassifierCV
from sk_adagrad._memory import address_space_headroom
_, hard = resource.getrlimit(resource.RLIMIT_AS)
limit = (1 << 40) - address_space_headroom(limit=1 << 40) + (1 << 30)
resource.setrlimit(resource.RLIMIT_AS, (limit, hard))
X = sp.csr_matrix((np.ones(90), (np.arange(90), np.arange(90) * 99)), (90, 2**20))
try:
    AdagradClassifierCV(lr=[0.1, 0.3, 1.0], cv=3).fit(X, np.arange(90) % 10)
except MemoryError as error:
    print(error)
"""
    result = subprocess.run(
        [sys.executable, "-c", child], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert "The stacked search needs about" in result.stdout
    assert "fewer candidates" in result.stdout


def test_float32_model_memory_is_half():
    def state_bytes(dtype):
        engine = SparseAdagrad(
            1000,
            20,
            loss=None,
            schedule=None,
            penalty=None,
            eps=1e-10,
            initial_accumulator_value=0.0,
            fit_intercept=True,
            average_from_sample=1,
            dtype=dtype,
        )
        arrays = (engine.coef, engine.coef_accumulator, engine.coef_sum)
        return sum(array.nbytes for array in arrays)

    assert 2 * state_bytes(np.float32) == state_bytes(np.float64)
