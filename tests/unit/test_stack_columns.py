"""A stack that drops models keeps the other columns of its arrays in their own
memory, equal to NumPy's column selection."""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from sk_adagrad._stack import _keep_columns
from sk_adagrad._step_policy import StepPolicy


@settings(max_examples=60, deadline=None)
@given(
    n_rows=st.integers(1, 60),
    n_columns=st.integers(1, 40),
    block_entries=st.sampled_from([1, 7, 64, 32768]),
    data=st.data(),
)
def test_kept_columns_equal_numpys_selection_in_the_same_memory(
    n_rows, n_columns, block_entries, data
):
    kept = data.draw(
        st.lists(st.integers(0, n_columns - 1), min_size=1, unique=True).map(sorted)
    )
    array = np.random.default_rng(n_rows).random((n_rows, n_columns))
    expected = array[:, kept].copy()
    result = _keep_columns(
        array, np.array(kept), StepPolicy(block_entries=block_entries)
    )
    np.testing.assert_array_equal(result, expected)
    assert np.shares_memory(result, array) and result.flags.c_contiguous
