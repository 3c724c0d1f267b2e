"""Undo records for the engine, so that a failed call leaves a model as it was.

A journal copies the engine's small state when a call begins and, before a step
first writes a row of the per-feature arrays, that row's values; restoring them
undoes the call exactly. Its memory is bounded by the rows the call touches.

Which rows a journal has saved is read from stamps kept across calls, one per
feature: a row is saved when its stamp is the journal's own number. A journal
stamps rows only once their copies are recorded, and ending a journal (commit)
clears nothing: the next journal has a new number. So a call that fails anywhere,
even inside the journal, can never leave a row counted as saved by a later call.
"""

import copy

import numpy as np

from ._rows import take_rows

_ROW_ARRAYS = ("coef", "coef_accumulator", "last_step", "coef_sum")
_SCALARS = (
    "intercept",
    "intercept_accumulator",
    "intercept_sum",
    "t",
    "samples_seen",
    "rate_history",
    "average_start",
    "loss",
    "schedule",
    "penalty",
    "eps",
    "fit_intercept",
)


class RowStamps:
    """Per feature, the number of the last journal that saved its row."""

    def __init__(self, n_rows):
        self.stamps = np.zeros(n_rows, dtype=np.uint32)
        self.last_number = 0

    def new_number(self):
        """A number no row carries yet."""
        if self.last_number == np.iinfo(self.stamps.dtype).max:
            self.stamps[:] = 0
            self.last_number = 0
        self.last_number += 1
        return self.last_number


class Journal:
    """The rows an engine had before a call first touched them, and its small
    state; memory is bounded by the rows the call touches."""

    def __init__(self, engine, stamps):
        self.scalars = {name: copy.copy(getattr(engine, name)) for name in _SCALARS}
        self.stamps = stamps
        self.number = stamps.new_number()
        self.rows = []
        self.saved_every_row = False

    def save_rows(self, engine, rows):
        """Save the rows ``rows`` (an index array, or ``slice(None)`` for all)
        that this journal has not saved yet."""
        if self.saved_every_row:
            return
        if isinstance(rows, slice):
            # Whole copies, rows saved before included: restore applies the
            # older records last, so they still win.
            self.rows.append(
                (rows, [_copy(getattr(engine, name)) for name in _ROW_ARRAYS])
            )
            self.saved_every_row = True
            return
        rows = rows[self.stamps.stamps[rows] != self.number]
        if rows.size:
            self.rows.append(
                (rows, [_take(getattr(engine, name), rows) for name in _ROW_ARRAYS])
            )
            self.stamps.stamps[rows] = self.number

    def restore(self, engine):
        for rows, values in reversed(self.rows):
            for name, value in zip(_ROW_ARRAYS, values, strict=True):
                if value is not None:
                    getattr(engine, name)[rows] = value
        for name, value in self.scalars.items():
            setattr(engine, name, value)


def _take(array, rows):
    return None if array is None else take_rows(array, rows)


def _copy(array):
    return None if array is None else array.copy()
