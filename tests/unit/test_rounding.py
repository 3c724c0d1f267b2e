"""The intercept's gradient counts as zero exactly when it is within the bound
on its rounding error, ``n * eps * sum |terms|`` (sk_adagrad/_rounding.py)."""

import numpy as np
import pytest
from numpy.testing import assert_array_equal

from sk_adagrad._rounding import significant_column_sums


def obvious_rule(terms):
    """The rule, column by column."""
    eps = np.finfo(terms.dtype).eps
    sums = terms.sum(axis=0)
    for column in range(terms.shape[1]):
        bound = len(terms) * eps * np.abs(terms[:, column]).sum()
        if abs(sums[column]) <= bound and np.isfinite(bound):
            sums[column] = 0.0
    return sums


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("seed", range(20))
def test_the_prefiltered_rule_is_the_obvious_one(dtype, seed):
    rng = np.random.default_rng(seed)
    n_rows, n_columns = rng.integers(1, 60), rng.integers(1, 8)
    terms = rng.normal(size=(n_rows, n_columns)) * rng.choice([1e-3, 1.0, 1e3])
    # Columns that cancel to rounding, and one that is nearly but truly zero.
    terms[:, 0] -= terms[:, 0].mean()
    terms = terms.astype(dtype)
    if n_columns > 1:
        terms[:, 1] = 0.0
        terms[0, 1] = 1e-3
    expected = obvious_rule(terms.copy())
    assert_array_equal(significant_column_sums(terms.copy()), expected)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_balanced_terms_that_round_are_noise(dtype):
    terms = np.array([[1 / 6], [1 / 6], [1 / 6], [-1 / 6], [-1 / 6], [-1 / 6]], dtype)
    assert significant_column_sums(terms)[0] == 0.0


def test_one_term_and_true_gradients_are_kept():
    assert significant_column_sums(np.array([[1e-30]]))[0] == 1e-30
    terms = np.array([[1.0], [-1.0], [1e-12]])
    assert significant_column_sums(terms)[0] == terms.sum()


def test_non_finite_sums_stay():
    terms = np.array([[np.inf, np.nan, 1.0], [1.0, 1.0, -1.0]])
    sums = significant_column_sums(terms)
    assert np.isposinf(sums[0]) and np.isnan(sums[1]) and sums[2] == 0.0
