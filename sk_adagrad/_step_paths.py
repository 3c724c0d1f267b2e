"""The two ways a step runs over a batch's features, one interface each.

When a batch holds about as many stored entries as there are features (dense
input, or sparse data with few features), gathering and scattering the active
rows costs more than stepping every row where it lies: :data:`IN_PLACE` updates
all features in place and eagerly, which gives the same result, an inactive
feature's gradient being zero. Otherwise :data:`ACTIVE_ROWS` steps only the
features present in the batch, and the others' penalty steps wait (see
``_penalty``). The engine's :class:`~sk_adagrad._step_policy.StepPolicy`
chooses between them per batch.

A path is the engine's collaborator: it reads and writes the engine's state
through its public fields and methods (``journal_rows``,
``journal_every_row``, ``workspace``, ``catch_up_rows``, ``active_columns``,
``settle``), and splits a batch into shards over disjoint features by the
engine's policy.
"""

from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
import scipy.sparse as sp

from ._entry_steps import steps_by_entries
from ._rows import flat_positions, put_rows, take_rows


class PlannedStep(NamedTuple):
    """A batch ready for a step: the path that steps it, :data:`IN_PLACE` or
    :data:`ACTIVE_ROWS`, and its shards ``(columns, block)`` over disjoint
    features: the features a shard updates and the batch restricted to them."""

    path: object
    shards: list


@dataclass
class GatheredShard:
    """A shard's rows during a step: workspace copies (views when in place)."""

    columns: object
    block: object
    W: np.ndarray
    G: np.ndarray
    missed_sum: np.ndarray | None
    margins: np.ndarray


class InPlace:
    """Every feature stepped where it lies: a shard's columns are a slice and
    its rows views of the state, so nothing is gathered, caught up or written
    back. The pending penalty steps of earlier batches are settled first."""

    def split(self, engine, X_batch, n_shards):
        n_features, n_outputs = engine.coef.shape
        bounds = engine.policy.shard_bounds(n_features, n_outputs, n_shards)
        if len(bounds) == 1:
            return [(slice(None), X_batch)]
        return [(slice(lo, hi), X_batch[:, lo:hi]) for lo, hi in bounds]

    def begin(self, engine, shards):
        if engine.last_step.min() < engine.t:
            engine.settle()
        engine.journal_every_row()

    def gather(self, engine, columns, index, t):
        """The rows of ``columns`` (views), up to date already, and no missed
        iterates."""
        return engine.coef[columns], engine.coef_accumulator[columns], None

    def steps_by_entries(self, engine, sparse_gradient):
        """Never: in place, every feature takes every step."""
        return False

    def write_back(self, engine, shard, index, t, accumulator_entries=None):
        """Stamp the rows (stepped where they lie) and add them to the running
        sums; ``accumulator_entries`` (the accumulators are views) unused."""
        engine.last_step[shard.columns] = t
        if engine.average_start is not None:
            engine.coef_sum[shard.columns] += shard.W

    def stepped_accumulators(self, shard):
        """The accumulators of the features present in the shard's batch."""
        block = shard.block
        present = (
            np.unique(block.indices)
            if sp.issparse(block)
            else np.flatnonzero(block.any(axis=0))
        )
        return shard.G[present]


class ActiveRows:
    """Only the features present in the batch: their rows are gathered into the
    shard's workspace, caught up on the penalty steps they missed, stepped and
    scattered back; the others wait, their steps pending (see ``_penalty``)."""

    def split(self, engine, X_batch, n_shards):
        columns, block = engine.active_columns(X_batch)
        bounds = engine.policy.shard_bounds(
            columns.size, engine.coef.shape[1], n_shards
        )
        if len(bounds) == 1:
            return [(columns, block)]
        return [(columns[lo:hi], block[:, lo:hi]) for lo, hi in bounds]

    def begin(self, engine, shards):
        for columns, _ in shards:
            engine.journal_rows(columns)

    def gather(self, engine, columns, index, t):
        """Copies of the rows of ``columns`` brought up to step ``t``, and the sum
        of their missed iterates in the average window (or None)."""
        W = self._take(engine, "coef", columns, index)
        G = self._take(engine, "coef_accumulator", columns, index)
        if engine.penalty.is_zero and engine.average_start is None:
            return W, G, None
        total = None
        if engine.average_start is not None:
            total = engine.workspace(("missed_sum", index), len(columns))
        last = engine.last_step[columns]
        return W, G, engine.catch_up_rows(W, G, last, t, total)

    def write_back(self, engine, shard, index, t, accumulator_entries=None):
        """Scatter the stepped rows back, and add them to the running sums;
        ``accumulator_entries``, ``(entries, values)`` at flat positions of
        the shard's rows, are the only accumulators that moved when given."""
        columns = shard.columns
        put_rows(engine.coef, columns, shard.W)
        if accumulator_entries is None:
            put_rows(engine.coef_accumulator, columns, shard.G)
        else:
            entries, values = accumulator_entries
            positions = flat_positions(columns, entries, engine.coef.shape[1])
            np.put(engine.coef_accumulator, positions, values, mode="clip")
        engine.last_step[columns] = t
        if engine.average_start is not None:
            averaged = self._take(engine, "coef_sum", columns, index)
            averaged += shard.W
            if shard.missed_sum is not None:
                averaged += shard.missed_sum
            put_rows(engine.coef_sum, columns, averaged)

    def steps_by_entries(self, engine, sparse_gradient):
        """Whether the step goes by the gradient's nonzero entries alone (see
        ``_entry_steps``)."""
        return steps_by_entries(engine, sparse_gradient)

    def write_entries(self, engine, columns, entries, weights, accumulators):
        """Write back the new ``weights`` and ``accumulators`` of the entries
        ``entries`` (flat positions in the rows of ``columns``) of a step that
        moved no other entry (see ``_entry_steps``)."""
        positions = flat_positions(columns, entries, engine.coef.shape[1])
        np.put(engine.coef, positions, weights, mode="clip")
        np.put(engine.coef_accumulator, positions, accumulators, mode="clip")
        engine.last_step[columns] = engine.t

    def stepped_accumulators(self, shard):
        return shard.G

    @staticmethod
    def _take(engine, name, columns, index):
        """Rows ``columns`` of a row field, in the shard's workspace buffer for
        it: gathering into the same memory every step spares the allocator."""
        workspace = engine.workspace((name, index), len(columns))
        return take_rows(getattr(engine, name), columns, out=workspace)


IN_PLACE = InPlace()
ACTIVE_ROWS = ActiveRows()
