"""How the engine carries out a step: on which path, in how many shards, over
blocks of how many entries. A value the engine receives from its estimator, so
that tests and benchmarks force a path by passing another one."""

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from ._blocks import BLOCK_ENTRIES, row_blocks, rows_per_block
from ._pages import HUGE_PAGE_ADVICE_BYTES
from ._step_paths import ACTIVE_ROWS, IN_PLACE
from ._threads import effective_n_threads


@dataclass(frozen=True)
class StepPolicy:
    """The rules that choose how a step runs; none changes what it computes.

    Parameters
    ----------
    in_place_ratio : float, default=24.0
        A sparse batch is stepped in place, with no gathers, scatters nor
        catch-up, when ``n_features * (n_outputs + 2)`` is at most this many
        times its stored entries (0: always on the active rows; ``np.inf``:
        always in place); a dense batch is always stepped in place. The in-place
        update costs about ``n_features * n_outputs``; the active-row step costs
        about 2 per stored entry (finding the active columns) plus its work per
        active feature and output. The
        default puts the switch where benchmarks/step_paths.py measures the two
        paths to cross (docs/step_paths.md); either way a step costs
        O(nnz(batch) x n_outputs).
    shard_entries : int, default=2**18
        A step is shared between threads only when each gets at least this many
        (feature, output) entries (1: every step that has two features). Below
        about half a million entries per step, handing work to a thread and
        waiting for it costs about what it saves (docs/step_paths.md).
    n_threads : int or None, default=None
        Threads that share every step, whatever the estimator's ``n_threads``;
        None follows the estimator.
    block_entries : int, default=32768
        Elementwise work runs over blocks of this many entries.
    small_pages_from : float, default=4 MiB
        Model-sized arrays (the state, the step buffers, ``coef_``) of at least
        this many bytes are mapped in small pages as they are written (see
        ``_pages``); ``np.inf`` leaves them to NumPy, which asks for huge pages
        from 4 MiB on Linux.
    sparse_derivatives : float, default=0.125
        A step whose loss derivatives are at most this share nonzero (the
        margin losses' beyond a few epochs) takes its Adagrad step on the
        gradient's nonzero entries alone (see ``_entry_steps``; with a
        penalty, at half this share and only a model of several outputs:
        docs/performance.md measures both). Above it, finding and scattering
        the entries costs more than whole rows (the logistic loss's
        derivatives never are zero). 0: never.
    map_state_at_once : bool, default=False
        Map every page of the state's row fields when it is made, rather than
        each as its rows are first read or written: for a state whose steps
        reach every row (a search's stack), one mapping instead of a fault per
        page, or two where a step reads a row before writing it.
    """

    in_place_ratio: float = 24.0
    shard_entries: int = 2**18
    n_threads: int | None = None
    block_entries: int = BLOCK_ENTRIES
    small_pages_from: float = HUGE_PAGE_ADVICE_BYTES
    sparse_derivatives: float = 0.125
    map_state_at_once: bool = False

    def path_for(self, X_batch, n_features, n_outputs):
        """:data:`IN_PLACE` when the batch holds about as many entries as there
        are features (or is dense), :data:`ACTIVE_ROWS` otherwise."""
        if not sp.issparse(X_batch) or (
            n_features * (n_outputs + 2) <= self.in_place_ratio * X_batch.nnz
        ):
            return IN_PLACE
        return ACTIVE_ROWS

    def steps_on_entries(self, dZ):
        """``(alone, adagrad_part)`` for a step whose loss derivatives are
        ``dZ``: whether it may go by the gradient's nonzero entries alone (when
        nothing else moves an entry), and whether its Adagrad part goes by them
        when every entry then takes a proximal step: at half the share, the
        entries then sparing only part of the step's passes, and with several
        outputs (with one, too little to pay for finding them)."""
        if self.sparse_derivatives <= 0:
            return False, False
        share = np.count_nonzero(dZ) / dZ.size
        adagrad_part = dZ.shape[1] > 1 and share <= self.sparse_derivatives / 2
        return share <= self.sparse_derivatives, adagrad_part

    def shard_count(self, n_rows, n_outputs, n_shards):
        """How many shards of at least ``shard_entries`` entries, at most
        ``n_shards``, ``n_rows`` rows make (one at least)."""
        return max(1, min(n_shards, n_rows * n_outputs // self.shard_entries))

    def shard_bounds(self, n_rows, n_outputs, n_shards):
        """``(start, stop)`` of :meth:`shard_count` near-equal runs of ``n_rows``
        rows."""
        n_shards = self.shard_count(n_rows, n_outputs, n_shards)
        if n_shards == 1:
            return [(0, n_rows)]
        edges = np.linspace(0, n_rows, n_shards + 1).astype(int)
        return list(zip(edges[:-1].tolist(), edges[1:].tolist(), strict=True))

    def threads_for(self, n_threads):
        """The threads that share a step of an estimator whose ``n_threads`` is
        ``n_threads`` (see :func:`~sk_adagrad._threads.effective_n_threads`)."""
        if self.n_threads is not None:
            return self.n_threads
        return effective_n_threads(n_threads)

    def row_blocks(self, shape):
        """Slices of rows covering an array of ``shape`` in blocks of about
        ``block_entries`` entries."""
        return row_blocks(shape, self.block_entries)

    def rows_per_block(self, n_outputs):
        return rows_per_block(n_outputs, self.block_entries)


DEFAULT_STEP_POLICY = StepPolicy()
