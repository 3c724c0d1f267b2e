"""Problems several test modules train on, among them :func:`sparse_problems`, a
hypothesis strategy for awkward sparse matrices."""

import numpy as np
import scipy.sparse as sp
from hypothesis import strategies as st

from sk_adagrad import AdagradClassifier


def sparse_text_like(n_samples, n_features, nnz_per_row, seed=0):
    """Rows of ``nnz_per_row`` entries, column frequencies falling like Zipf's."""
    rng = np.random.default_rng(seed)
    popularity = 1.0 / np.arange(1, n_features + 1)
    columns = rng.choice(
        n_features, size=(n_samples, nnz_per_row), p=popularity / popularity.sum()
    )
    rows = np.repeat(np.arange(n_samples), nnz_per_row)
    X = sp.csr_array(
        (rng.random(rows.size), (rows, columns.ravel())), shape=(n_samples, n_features)
    )
    X.sum_duplicates()
    return X


def engine_for(n_features, n_outputs, policy=None):
    """A new engine of an estimator's, with the step policy ``policy`` if
    given."""
    model = AdagradClassifier(lr=0.3, alpha=1e-5)
    if policy is not None:
        model._step_policy = policy
    return model._new_optimizer(n_features, n_outputs)


@st.composite
def sparse_problems(draw, min_rows=1, max_rows=24, max_columns=10):
    """A COO matrix with duplicate entries, explicit zeros, entries that cancel,
    empty rows and empty columns, plus a seed for the values of everything else.

    Returns ``(X_coo, seed)``. The structure comes from hypothesis; the values
    are continuous random numbers, so no margin lands exactly on a loss's kink
    (where two correct implementations may legitimately round differently).
    """
    n_rows = draw(st.integers(min_rows, max_rows))
    n_columns = draw(st.integers(1, max_columns))
    seed = draw(st.integers(0, 2**32 - 1))
    cells = st.tuples(
        st.integers(0, n_rows - 1),
        st.integers(0, n_columns - 1),
        st.sampled_from(["value", "value", "value", "zero", "cancel"]),
    )
    entries = draw(st.lists(cells, max_size=3 * n_rows * n_columns // 2))
    rng = np.random.default_rng(seed)
    rows, columns, values = [], [], []
    for row, column, kind in entries:
        value = rng.normal() * rng.choice([0.1, 1.0, 3.0])
        if kind == "value":
            cell_values = [value]
        elif kind == "zero":
            cell_values = [0.0]
        else:  # a duplicate pair that sums to an exact zero
            cell_values = [value, -value]
        for v in cell_values:
            rows.append(row)
            columns.append(column)
            values.append(v)
    X = sp.coo_matrix(
        (
            np.array(values, dtype=np.float64),
            (np.array(rows, dtype=np.int64), np.array(columns, dtype=np.int64)),
        ),
        shape=(n_rows, n_columns),
    )
    return X, seed


def dense_of(X_coo):
    """The dense twin of a COO matrix (duplicates summed)."""
    return np.asarray(X_coo.toarray(), dtype=np.float64)
