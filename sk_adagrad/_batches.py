"""Mini-batches and their active columns.

A feature is *active* in a batch when at least one row of the batch holds a
nonzero value for it; only active features are gathered, stepped and scattered.
Dense and sparse batches follow the same rule, so a dense column that is zero
throughout a batch is inactive exactly as an absent CSR column is.
"""

import numpy as np
import scipy.sparse as sp


def batch_rows(n_samples: int, batch_size: int, order=None):
    """Yield the row indices of successive mini-batches (slices when in order)."""
    for start in range(0, n_samples, batch_size):
        stop = min(start + batch_size, n_samples)
        yield slice(start, stop) if order is None else order[start:stop]


def canonical_csr(X):
    """CSR with summed duplicates and no stored zeros; copies only when needed."""
    X = sp.csr_array(X)
    if not X.has_canonical_format:
        X = X.copy()
        X.sum_duplicates()
    if X.nnz and not X.data.all():
        X = X.copy()
        X.eliminate_zeros()
    return X


def active_block(X_batch):
    """Return ``(columns, block)``: the active columns of a batch and the batch
    restricted to them, column ``j`` of ``block`` being feature ``columns[j]``."""
    if sp.issparse(X_batch):
        columns, local = np.unique(X_batch.indices, return_inverse=True)
        block = sp.csr_array(
            (X_batch.data, local.astype(np.int32, copy=False), X_batch.indptr),
            shape=(X_batch.shape[0], columns.size),
        )
        return columns, block
    nonzero = X_batch.any(axis=0)
    if nonzero.all():
        return np.arange(X_batch.shape[1]), X_batch
    columns = np.flatnonzero(nonzero)
    return columns, X_batch[:, columns]
