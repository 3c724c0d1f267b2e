"""The engine's undo records, and its rows as units of exchange between models.

A call's journal saves each row before the call's first write to it, so that a
failed call is undone (see ``_journal``); a tracking record does the same across
any number of calls, so that data-parallel training can train a model where it
lies and put it back. Rows are exported from one model and imported into
another of the same shape with their small fields.
"""

import numpy as np

from ._journal import Journal, RowStamps


class Transactions:
    """The engine's methods that save, restore and exchange rows of its
    ``state``; the engine holds the records (``_journal``, ``_tracking`` and
    their ``RowStamps``) and drops ``_materialized`` when rows change."""

    def begin(self):
        """Start recording changes so that :meth:`rollback` can undo them."""
        if self._row_stamps is None:
            # A stamp per feature, kept across calls: a call costs none per feature.
            self._row_stamps = RowStamps(self.state.n_rows)
        self._journal = Journal(self.state, self._row_stamps)

    def commit(self):
        """Keep the changes since :meth:`begin`. The commit point is this one
        assignment: up to it, :meth:`rollback` undoes the call, and the caller
        makes it the last thing a call does."""
        self._journal = None

    def rollback(self):
        self._journal.restore()
        self._journal = None
        self._materialized = None

    def journal_rows(self, rows):
        """Save rows ``rows`` (an index array), before a step first writes them,
        in the call's journal and the tracking record, whichever are open."""
        if self._journal is not None:
            self._journal.save_rows(rows)
        if self._tracking is not None:
            self._tracking.save_rows(rows)

    def journal_every_row(self):
        """Save every row, as :meth:`journal_rows` does some."""
        if self._journal is not None:
            self._journal.save_every_row()
        if self._tracking is not None:
            self._tracking.save_every_row()

    def begin_tracking(self):
        """Record, across any number of calls, the rows and small fields as they
        were, so that :meth:`restore_tracked` puts them back: a model can be
        trained where it lies and returned to its state, at a cost in proportion
        to the rows written, not to the model. Calls keep their own journals."""
        if self._tracking_stamps is None:
            self._tracking_stamps = RowStamps(self.state.n_rows)
        self._tracking = Journal(self.state, self._tracking_stamps)

    def restore_tracked(self):
        """Put back what :meth:`begin_tracking` recorded, and stop recording."""
        self._tracking.restore()
        self._tracking = None
        self._materialized = None

    def rows_touched_since(self, t):
        """The rows (ascending) that steps after step ``t`` wrote: those brought
        up to a later step (a step writes every row it updates, and an in-place
        step or a settle every row)."""
        return np.flatnonzero(self.last_step > t)

    def export_rows(self, rows):
        """The rows ``rows`` of the state and its small fields, as
        :meth:`~sk_adagrad._state.EngineState.export_rows` gives them."""
        return self.state.export_rows(rows)

    def import_rows(self, rows, row_values, small_values):
        """Write what :meth:`export_rows` gave for ``rows`` (of a model of the
        same shape, whose other rows are this one's) into this state: rows and
        small fields then are exactly the exported model's. Journaled."""
        self.journal_rows(rows)
        self.state.import_rows(rows, row_values, small_values)
        self._materialized = None
