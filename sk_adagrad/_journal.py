"""Undo records for a model's state, so that a failed call leaves it as it was.

A journal copies the state's small fields when a call begins and, before a step
first writes a row of the row fields, that row's values; restoring them undoes
the call exactly. Its memory is bounded by the rows the call touches. It reads
the fields from the state's own list of them (see ``_state``).

Which rows a journal has saved is read from stamps kept across calls, one per
feature: a row is saved when its stamp is the journal's own number. A journal
stamps rows only once their copies are recorded, and ending a journal (commit)
clears nothing: the next journal has a new number. So a call that fails anywhere,
even inside the journal, can never leave a row counted as saved by a later call.
"""

import copy

import numpy as np

from ._rows import take_rows


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
    """The rows a state had before a call first touched them, and its small
    fields; memory is bounded by the rows the call touches."""

    def __init__(self, state, stamps):
        self.state = state
        self.small = {
            name: copy.copy(getattr(state, name)) for name in state.small_fields()
        }
        self.stamps = stamps
        self.number = stamps.new_number()
        self.records = []
        self.saved_every_row = False

    def save_every_row(self):
        """Save every row (once per journal)."""
        if self.saved_every_row:
            return
        # Whole copies, rows saved before included: restore applies the older
        # records last, so they still win.
        self.records.append((slice(None), self._row_values(_copy, slice(None))))
        self.saved_every_row = True

    def save_rows(self, rows):
        """Save the rows ``rows`` (an index array) that this journal has not
        saved yet."""
        if self.saved_every_row:
            return
        rows = rows[self.stamps.stamps[rows] != self.number]
        if rows.size:
            self.records.append((rows, self._row_values(_take, rows)))
            self.stamps.stamps[rows] = self.number

    def _row_values(self, extract, rows):
        return {
            name: extract(getattr(self.state, name), rows)
            for name in self.state.row_fields()
        }

    def restore(self):
        """Write the saved rows and small fields back into the state."""
        for rows, values in reversed(self.records):
            for name, value in values.items():
                if value is not None:
                    getattr(self.state, name)[rows] = value
        for name, value in self.small.items():
            setattr(self.state, name, value)


def _take(array, rows):
    return None if array is None else take_rows(array, rows)


def _copy(array, rows):
    return None if array is None else array.copy()
