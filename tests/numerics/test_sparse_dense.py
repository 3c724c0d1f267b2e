"""A fit on sparse X equals the fit on the same X dense.

Both paths step only the features active in each mini-batch (a dense column that
is zero throughout a batch is inactive exactly like an absent sparse column), so
they must agree to rounding, whatever the loss, penalty, schedule, averaging,
shuffling or input format; float32 models to float32's rounding (the last test).
"""

import itertools

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose

from sk_adagrad import AdagradClassifier, AdagradRegressor
from sk_adagrad._losses import CLASSIFICATION_LOSSES, REGRESSION_LOSSES

from helpers.float32 import assert_close_in_float32, float32_state
from helpers.problems import dense_of, sparse_problems

RTOL = 1e-12
ATOL = 1e-15

PENALTIES = [None, "l2", "l1", "elasticnet"]


def make_data(seed, n_samples=60, n_features=15, density=0.2, n_classes=3):
    """Sparse-ish data with an empty column and an empty row."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n_samples, n_features))
    X[rng.random(X.shape) > density] = 0.0
    X[:, 4] = 0.0
    X[7] = 0.0
    labels = rng.permutation(np.arange(n_samples) % n_classes)
    values = X @ rng.normal(size=n_features) + rng.normal(size=n_samples)
    sample_weight = rng.uniform(0.1, 2.0, size=n_samples)
    return X, labels, values, sample_weight


def fitted_state(model):
    return {
        "coef_": model.coef_,
        "intercept_": model.intercept_,
        "coef_accumulator_": model.coef_accumulator_,
        "intercept_accumulator_": model.intercept_accumulator_,
        "t_": model.t_,
    }


def assert_same_fit(a, b, rtol=RTOL, atol=ATOL):
    state_a, state_b = fitted_state(a), fitted_state(b)
    assert state_a["t_"] == state_b["t_"]
    for name in ("coef_", "intercept_", "coef_accumulator_", "intercept_accumulator_"):
        assert_allclose(
            state_a[name], state_b[name], rtol=rtol, atol=atol, err_msg=name
        )


def settings_for(index):
    """Cycle through schedules and averaging so that every loss and penalty meets
    several of them."""
    lr_decay, average = list(itertools.product([0.0, 0.1], [False, True, 9]))[index % 6]
    return dict(lr_decay=lr_decay, average=average)


CASES = [
    *(
        ("classifier", loss, penalty, n_classes)
        for loss in CLASSIFICATION_LOSSES
        for penalty in PENALTIES
        for n_classes in (2, 3)
    ),
    *(
        ("regressor", loss, penalty, None)
        for loss in REGRESSION_LOSSES
        for penalty in PENALTIES
    ),
]
# Estimator: its class, the seed of its first case's data and its settings.
ESTIMATORS = {
    "classifier": (
        AdagradClassifier,
        0,
        dict(l1_ratio=0.3, lr=0.2, batch_size=7, random_state=3),
    ),
    "regressor": (
        AdagradRegressor,
        100,
        dict(epsilon=0.3, l1_ratio=0.6, lr=0.3, batch_size=6, random_state=4),
    ),
}


@pytest.mark.usefixtures("step_path")
@pytest.mark.parametrize("estimator, loss, penalty, n_classes", CASES)
def test_sparse_equals_dense(estimator, loss, penalty, n_classes):
    Estimator, first_seed, settings = ESTIMATORS[estimator]
    cases = [case for case in CASES if case[0] == estimator]
    index = cases.index((estimator, loss, penalty, n_classes))
    X, labels, values, sample_weight = make_data(
        first_seed + index, n_classes=n_classes or 3
    )
    y = labels if estimator == "classifier" else values
    params = dict(
        loss=loss,
        penalty=penalty,
        alpha=0.01,
        max_iter=3,
        tol=None,
        shuffle=True,
        **settings,
        **settings_for(index),
    )
    dense = Estimator(**params).fit(X, y, sample_weight=sample_weight)
    sparse = Estimator(**params).fit(sp.csr_array(X), y, sample_weight=sample_weight)
    assert_same_fit(dense, sparse)
    margins = "decision_function" if estimator == "classifier" else "predict"
    assert_allclose(
        getattr(dense, margins)(X),
        getattr(sparse, margins)(sp.csr_array(X)),
        rtol=1e-11,
    )


@pytest.mark.parametrize("fmt", ["csr_matrix", "csc", "coo"])
def test_every_sparse_format_gives_the_same_fit(fmt):
    X, labels, _, sample_weight = make_data(7)
    params = dict(penalty="elasticnet", alpha=0.01, max_iter=2, tol=None, batch_size=8)
    reference_fit = AdagradClassifier(random_state=0, **params).fit(
        X, labels, sample_weight=sample_weight
    )
    converted = {
        "csr_matrix": sp.csr_matrix,
        "csc": sp.csc_array,
        "coo": sp.coo_array,
    }[fmt](X)
    other = AdagradClassifier(random_state=0, **params).fit(
        converted, labels, sample_weight=sample_weight
    )
    assert_same_fit(reference_fit, other)


@pytest.mark.parametrize("penalty", PENALTIES)
def test_shuffled_partial_fit_sparse_equals_dense(penalty):
    X, labels, _, sample_weight = make_data(8)
    classes = np.unique(labels)
    params = dict(
        loss="modified_huber",
        penalty=penalty,
        alpha=0.02,
        lr_decay=0.05,
        average=20,
        batch_size=5,
        shuffle=True,
        random_state=11,
    )
    dense, sparse = AdagradClassifier(**params), AdagradClassifier(**params)
    for chunk in np.array_split(np.arange(len(labels)), 4):
        dense.partial_fit(
            X[chunk], labels[chunk], classes=classes, sample_weight=sample_weight[chunk]
        )
        sparse.partial_fit(
            sp.csr_array(X[chunk]),
            labels[chunk],
            classes=classes,
            sample_weight=sample_weight[chunk],
        )
        assert_same_fit(dense, sparse)


@pytest.mark.usefixtures("step_path")
@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(
    sparse_problems(min_rows=2, max_rows=20, max_columns=8),
    st.sampled_from(PENALTIES),
    st.sampled_from([False, True, 4]),
    st.integers(1, 5),
)
def test_awkward_sparse_matrices_fit_like_their_dense_twin(
    problem, penalty, average, batch_size
):
    X, seed = problem
    rng = np.random.default_rng(seed)
    y = rng.normal(size=X.shape[0])
    params = dict(
        loss="huber",
        epsilon=0.5,
        penalty=penalty,
        alpha=0.05,
        l1_ratio=0.5,
        lr=0.3,
        lr_decay=0.1,
        average=average,
        batch_size=batch_size,
        max_iter=2,
        tol=None,
        random_state=seed % 1000,
    )
    dense = AdagradRegressor(**params).fit(dense_of(X), y)
    sparse = AdagradRegressor(**params).fit(X, y)  # COO, duplicates, stored zeros
    assert_same_fit(dense, sparse)


@pytest.mark.usefixtures("step_path")
@pytest.mark.parametrize("penalty", PENALTIES)
@pytest.mark.parametrize("estimator", ["classifier", "regressor"])
def test_float32_sparse_equals_dense(penalty, estimator):
    rng = np.random.default_rng(9)
    X = rng.normal(size=(60, 15)).astype(np.float32)
    X[rng.random(X.shape) > 0.2] = 0.0
    X[:, 4] = 0.0
    X[7] = 0.0
    sample_weight = rng.uniform(0.1, 2.0, size=60)
    if estimator == "classifier":
        model, target = AdagradClassifier, rng.permutation(np.arange(60) % 3)
    else:
        model, target = AdagradRegressor, X @ rng.normal(size=15) + 0.5
    params = dict(
        penalty=penalty,
        alpha=0.01,
        max_iter=3,
        tol=None,
        batch_size=9,
        random_state=1,
        lr_decay=0.01,
        average=20,
    )
    dense = model(**params).fit(X, target, sample_weight=sample_weight)
    sparse = model(**params).fit(sp.csr_array(X), target, sample_weight=sample_weight)
    n_steps = dense.t_
    dense_state, sparse_state = float32_state(dense), float32_state(sparse)
    for name, value in dense_state.items():
        assert_close_in_float32(sparse_state[name], value, n_steps, name)


def _separable_text(n_samples=400, n_features=300, n_classes=5, seed=0):
    """Sparse rows whose classes each have words of their own: after an epoch
    most rows are beyond the hinge's margin, so steps go by entries."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, n_classes, size=n_samples)
    own = n_features // (2 * n_classes)
    rows = []
    for label in labels:
        words = np.concatenate(
            [
                label * own + rng.choice(own, size=4, replace=False),
                n_features // 2 + rng.choice(n_features // 2, size=6, replace=False),
            ]
        )
        row = np.zeros(n_features)
        row[words] = rng.uniform(0.5, 1.5, size=words.size)
        rows.append(row)
    return sp.csr_matrix(np.array(rows)), labels


@pytest.mark.parametrize("loss", ["hinge", "squared_hinge", "modified_huber"])
@pytest.mark.parametrize("n_threads", [1, 3])
@pytest.mark.parametrize("average", [False, 1500])
def test_penalty_free_steps_by_entries_equal_whole_rows(
    monkeypatch, loss, n_threads, average
):
    """Without a penalty, a step on the gradient's nonzero entries alone is the
    step on whole rows, to the bit on one thread before averaging begins (the
    shards of the two paths sum margins in other orders, and after averaging
    begins steps go by rows, their lazy sums of iterates agreeing to
    rounding)."""
    from sk_adagrad._step_paths import ActiveRows
    from sk_adagrad._step_policy import StepPolicy

    X, y = _separable_text()
    written = []
    write_entries = ActiveRows.write_entries

    def counted(self, *args):
        written.append(1)
        return write_entries(self, *args)

    monkeypatch.setattr(ActiveRows, "write_entries", counted)
    params = dict(loss=loss, penalty=None, batch_size=40, max_iter=6, tol=None)
    params.update(average=average, random_state=0)
    fits = {}
    for name, ratio in [("by entries", 0.0), ("whole rows", np.inf)]:
        model = AdagradClassifier(**params)
        model._step_policy = StepPolicy(
            in_place_ratio=ratio, shard_entries=1, n_threads=n_threads
        )
        fits[name] = model.fit(X, y)
    assert written
    a, b = fitted_state(fits["by entries"]), fitted_state(fits["whole rows"])
    for name in ("coef_", "intercept_", "coef_accumulator_", "intercept_accumulator_"):
        if average or n_threads > 1:
            assert_allclose(a[name], b[name], rtol=RTOL, atol=ATOL, err_msg=name)
        else:
            assert np.array_equal(a[name], b[name]), name


@pytest.mark.parametrize("penalty", ["l2", "elasticnet", None])
@pytest.mark.parametrize("in_place_ratio", [0.0, np.inf])
@pytest.mark.parametrize("n_threads", [1, 3])
@pytest.mark.parametrize("average", [False, 1500])
def test_steps_on_gradient_entries_equal_whole_rows(
    monkeypatch, penalty, in_place_ratio, n_threads, average
):
    """A step whose loss derivatives are mostly zero takes the Adagrad step on
    the gradient's nonzero entries alone and writes back only their
    accumulators (with a penalty, every entry still takes its proximal step):
    to the bit the step on whole rows, on either path, shared between threads
    or not, with and without averaging."""
    from sk_adagrad._step_paths import ActiveRows, InPlace
    from sk_adagrad._step_policy import StepPolicy

    X, y = _separable_text()
    by_entries = []
    for path in (ActiveRows, InPlace):
        write_back = path.write_back

        def counted(self, *args, write_back=write_back, **kwargs):
            by_entries.append(kwargs.get("accumulator_entries") is not None)
            return write_back(self, *args, **kwargs)

        monkeypatch.setattr(path, "write_back", counted)
    write_entries = ActiveRows.write_entries

    def counted_entries(self, *args):
        by_entries.append(True)
        return write_entries(self, *args)

    monkeypatch.setattr(ActiveRows, "write_entries", counted_entries)
    params = dict(loss="hinge", penalty=penalty, alpha=1e-3, batch_size=40)
    params.update(max_iter=6, tol=None, average=average, random_state=0)
    fits = []
    for share in (0.125, 0.0):
        model = AdagradClassifier(**params)
        model._step_policy = StepPolicy(
            in_place_ratio=in_place_ratio,
            shard_entries=1,
            n_threads=n_threads,
            sparse_derivatives=share,
        )
        fits.append(fitted_state(model.fit(X, y)))
        if share:
            assert any(by_entries), "no step went by the gradient's entries"
    for name in ("coef_", "intercept_", "coef_accumulator_", "intercept_accumulator_"):
        assert np.array_equal(fits[0][name], fits[1][name]), name
