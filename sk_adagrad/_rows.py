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


def flat_positions(rows, entries, n_columns):
    """The flat positions in a C-ordered ``(n, n_columns)`` array of the
    entries at flat positions ``entries`` of its rows ``rows`` taken apart."""
    taken_rows, columns = np.divmod(entries, n_columns)
    positions = np.take(rows, taken_rows, mode="clip").astype(np.intp)
    positions *= n_columns
    positions += columns
    return positions


def _as_rows(array):
    """A C-ordered 2-d array seen as a vector of its rows."""
    return array.view(np.dtype((np.void, array.shape[1] * array.itemsize)))[:, 0]
