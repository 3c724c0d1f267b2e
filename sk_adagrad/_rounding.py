"""Sums whose rounding error is as large as themselves count as zero.

The intercept starts at the best constant model, where its exact gradient is
0 and the computed one is the rounding error of a sum of terms of both signs.
Adagrad divides a gradient by its own size (``g / sqrt(g ** 2)`` on a fresh
accumulator), so such noise would move the intercept by a full ``lr`` in a
random direction: a whole step in float32 (rounding ``2**-24``), about
``lr * 1e-7`` in float64 where ``eps`` dominates. A gradient within its own
rounding error carries no information about the direction of descent, and
counting it as zero is the exact step on what the arithmetic can tell.
"""

import numpy as np


def significant_column_sums(terms: np.ndarray) -> np.ndarray:
    """The column sums of ``terms`` (``(n_rows, n_columns)``), with those no
    larger than their rounding error bound set to 0.

    The bound on a column is ``n_rows * eps * sum(|terms|)``, ``eps`` the
    machine epsilon of ``terms``' dtype (twice the unit roundoff ``u``). A sum
    of ``n`` floating-point terms, in any order, is within ``(n - 1) u / (1 -
    (n - 1) u)`` of ``sum(|terms|)`` of the exact sum (Higham, *Accuracy and
    Stability of Numerical Algorithms*, 2nd ed., eq. 4.4); each term is itself
    rounded once from a product (``u``) and carries the rounding of the
    loss's derivative (a few ``u``), which the second ``n u`` covers for the
    batches where noise can arise (``n >= 2``). A single term is never
    counted as noise: its sum is the term itself.
    """
    sums = terms.sum(axis=0)
    n_rows = len(terms)
    eps = np.finfo(terms.dtype).eps
    # sum(|terms|) <= n_rows * max|terms|: only the columns whose sum is below
    # n_rows ** 2 * eps * max|terms| can be noise, and only theirs are summed
    # again (a step's sums seldom are: two reductions instead of a pass over
    # a temporary).
    largest = max(terms.max(initial=0.0), -terms.min(initial=0.0))
    candidates = np.flatnonzero(np.abs(sums) <= n_rows * n_rows * eps * largest)
    if candidates.size:
        bound = np.abs(terms[:, candidates]).sum(axis=0) * (n_rows * eps)
        # An infinite bound is no rounding error: the sum stays, and with it
        # the divergence that the step reports.
        noise = (np.abs(sums[candidates]) <= bound) & np.isfinite(bound)
        sums[candidates[noise]] = 0.0
    return sums
