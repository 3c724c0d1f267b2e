"""Whole rows of the engine's per-feature arrays, gathered and scattered.

The row indices always come from the engine and are valid, so the gathers skip
NumPy's bounds checks (``mode="clip"``): with ``mode="raise"`` they copy through
a buffer, which costs about as much as the gather itself.
"""

import numpy as np


def take_rows(array, rows, out=None):
    """``array[rows]`` for a 1-d or 2-d ``array``, written into ``out`` if given."""
    return np.take(array, rows, axis=0, out=out, mode="clip")


def put_rows(array, rows, values):
    """``array[rows] = values`` for a C-ordered 2-d ``array``: each row moves as
    one block of bytes."""
    np.put(_as_rows(array), rows, _as_rows(np.ascontiguousarray(values)), mode="clip")


def put_entries(array, rows, entries, values):
    """``array[rows] = values`` at the flat positions ``entries`` of the
    ``(len(rows), n_columns)`` array ``values`` only, for a C-ordered 2-d
    ``array``: scattered entries cost what they are."""
    n_columns = array.shape[1]
    value_rows, value_columns = np.divmod(entries, n_columns)
    targets = np.take(rows, value_rows, mode="clip").astype(np.intp)
    targets *= n_columns
    targets += value_columns
    np.put(array, targets, np.take(values, entries, mode="clip"), mode="clip")


def _as_rows(array):
    """A C-ordered 2-d array seen as a vector of its rows."""
    return array.view(np.dtype((np.void, array.shape[1] * array.itemsize)))[:, 0]
