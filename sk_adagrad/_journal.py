"""Undo records for the engine, so that a failed call leaves a model as it was.

A journal copies the engine's small state when a call begins and, before a step
first writes a row of the per-feature arrays, that row's values; restoring them
undoes the call exactly. Its memory is bounded by the rows the call touches.
"""

import copy

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


class Journal:
    """The rows an engine had before a call first touched them, and its small
    state; memory is bounded by the rows the call touches."""

    def __init__(self, engine, saved_marks):
        self.scalars = {name: copy.copy(getattr(engine, name)) for name in _SCALARS}
        self.saved = saved_marks
        self.rows = []
        self.saved_every_row = False

    def release(self):
        """Clear the marks this journal set."""
        for rows, _ in self.rows:
            self.saved[rows] = False

    def save_rows(self, engine, rows):
        """Save the rows ``rows`` (an index array, or ``slice(None)`` for all)
        that this journal has not saved yet."""
        if self.saved_every_row:
            return
        if isinstance(rows, slice):
            # Whole copies, rows saved before included: restore applies the
            # older records last, so they still win.
            self.saved_every_row = True
            self.saved[:] = True
            self.rows.append(
                (rows, [_copy(getattr(engine, name)) for name in _ROW_ARRAYS])
            )
            return
        rows = rows[~self.saved[rows]]
        if rows.size:
            self.saved[rows] = True
            self.rows.append(
                (rows, [_take(getattr(engine, name), rows) for name in _ROW_ARRAYS])
            )

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
