"""Mini-batches and their active columns.

A feature is *active* in a batch when at least one row of the batch holds a
nonzero value for it. When a sparse batch has few stored entries for the number
of features, a step gathers, updates and scatters the active features only;
otherwise it updates every feature in place (see ``_step_paths``), which gives the
same result since an inactive feature's gradient is zero and the penalty steps
it misses are caught up exactly.
"""

import threading

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


class ActiveColumns:
    """Finds the active columns of batches of ``n_features``-column data.

    Calling it on a batch returns ``(columns, block)``: the active columns and the
    batch restricted to them, column ``j`` of ``block`` being feature
    ``columns[j]``. For CSR batches the columns are found in O(nnz) without
    sorting, through a scratch array indexed by feature: each stored entry writes
    its position there, and the entries that read their own position back are one
    per distinct column, whichever duplicate the write kept. Calls from several
    threads (predictions on one model) take turns with the scratch array.
    """

    def __init__(self, n_features: int):
        # np.empty maps pages lazily: only the slots of features seen cost memory.
        # 32-bit slots halve the traffic of the scatters and gathers below; a
        # batch would need 2**31 stored entries to overflow them.
        self._slot = np.empty(n_features, dtype=np.int32)
        self._lock = threading.Lock()

    def __call__(self, X_batch):
        indices = X_batch.indices
        positions = np.arange(indices.size, dtype=np.int32)
        with self._lock:
            # The first scatter checks that every index is in range; the reads
            # after it skip NumPy's bounds checks (take with mode="clip"), and
            # the kept entries are picked by their positions, which NumPy takes
            # faster than it applies a boolean mask.
            self._slot[indices] = positions
            kept = np.take(self._slot, indices, mode="clip") == positions
            columns = np.take(indices, np.flatnonzero(kept), mode="clip")
            self._slot[columns] = np.arange(columns.size, dtype=np.int32)
            block_indices = np.take(self._slot, indices, mode="clip")
        block = sp.csr_array(
            (X_batch.data, block_indices, X_batch.indptr),
            shape=(X_batch.shape[0], columns.size),
        )
        return columns, block
