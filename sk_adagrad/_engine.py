"""The Adagrad engine: optimizer state and one step over the active features.

One step on a mini-batch, with ``t`` the step counter (from 1)::

    rate = lr / (1 + (t - 1) lr_decay)
    G   += g ** 2                      # active coordinates only
    w   -= rate * g / (sqrt(G) + eps)
    w    = prox(w, rate / (sqrt(G) + eps))

exactly ``torch.optim.Adagrad`` on a sparse gradient, plus the proximal penalty
step. Inactive coordinates keep ``G`` and miss only penalty steps, which are
applied in closed form when the feature is next active (``last_step`` records
when each feature was last brought up to date) or when the full weights are
read. The running (Polyak-Ruppert) average is kept lazily the same way.

When a batch holds about as many stored entries as there are features (dense
input, or sparse data with few features), gathering and scattering the active
rows costs more than stepping every row where it lies: such a step updates all
features in place and eagerly, which gives the same result, an inactive
feature's gradient being zero. Either way a step costs O(nnz(batch) x K). The
two paths are two small objects with one interface (``IN_PLACE`` and
``ACTIVE_ROWS``), chosen once per batch by ``SparseAdagrad.plan_step``.

A large step is shared between threads by features: each shard gathers its
rows, catches them up and computes its part of the margins; after the loss,
each steps its rows and writes them back. NumPy and SciPy release the GIL in
their loops, so the shards run on separate cores, and the features a step
updates do not depend on how it was split.
"""

import copy
import threading
from concurrent.futures import wait
from dataclasses import dataclass
from operator import attrgetter
from typing import NamedTuple

import numpy as np
import scipy.sparse as sp

from ._batches import ActiveColumns
from ._journal import Journal, RowStamps
from ._rounding import significant_column_sums
from ._rows import put_rows, take_rows
from ._state import EngineState


class DivergenceError(FloatingPointError, ValueError):
    """Raised when a step produces non-finite margins, loss or weights.

    Also a ``ValueError``, as scikit-learn's SGD estimators raise for the same
    situation, so that ``except ValueError`` around a fit catches it.
    """


@dataclass
class StepStats:
    """Sizes of the steps of an epoch, for ``verbose=2``."""

    steps: int = 0
    active_features: int = 0
    nonzeros: int = 0
    step_size_sum: float = 0.0
    coordinates: int = 0

    def record(self, planned, shards, rate, eps):
        """Count a step of ``planned`` whose ``shards`` (gathered, then stepped)
        hold their new accumulators."""
        self.steps += 1
        for shard in shards:
            G, block = planned.path.stepped_accumulators(shard), shard.block
            step_sizes = rate / _denominator(G, eps)
            self.active_features += G.shape[0]
            self.nonzeros += (
                block.nnz if sp.issparse(block) else np.count_nonzero(block)
            )
            self.step_size_sum += float(step_sizes.sum())
            self.coordinates += step_sizes.size

    def summary(self):
        steps = max(self.steps, 1)
        mean_step = self.step_size_sum / max(self.coordinates, 1)
        return (
            f"{self.steps} steps, {self.nonzeros / steps:.0f} nonzeros and "
            f"{self.active_features / steps:.0f} active features per step, "
            f"mean step size {mean_step:.3g}"
        )


class SparseAdagrad:
    """Adagrad on an ``(n_features, n_outputs)`` weight matrix and an intercept
    vector. Everything it stores about the model is in ``state``, an
    :class:`~sk_adagrad._state.EngineState` whose fields it reads as its own
    attributes (``self.coef``); the rest is scratch, rebuilt when needed.

    Parameters
    ----------
    n_features, n_outputs : int
        Shape of the weights (features in rows, so a feature's outputs are
        contiguous).
    loss : object
        A loss from ``_losses``.
    schedule : Schedule
        Step sizes.
    penalty : ElasticNet
        The proximal penalty.
    eps, initial_accumulator_value : float
        As in ``torch.optim.Adagrad``.
    fit_intercept : bool
        Whether the intercept is a trained coordinate.
    average_from_sample : int
        Average the iterates of the steps after which at least this many samples
        have been seen; 0 disables averaging.
    dtype : {np.float64, np.float32}, default=np.float64
        Floating type of the whole state (weights, accumulators, averages) and
        of the step's margins and gradients; the training data is expected in
        it. Only the step counter, the rate history and the closed-form
        catch-up factors stay in float64.
    """

    def __init__(
        self,
        n_features,
        n_outputs,
        *,
        loss,
        schedule,
        penalty,
        eps,
        initial_accumulator_value,
        fit_intercept,
        average_from_sample,
        dtype=np.float64,
    ):
        self.state = EngineState.new(
            n_features,
            n_outputs,
            initial_accumulator_value=initial_accumulator_value,
            average_from_sample=average_from_sample,
            loss=loss,
            schedule=schedule,
            penalty=penalty,
            eps=eps,
            fit_intercept=fit_intercept,
            dtype=dtype,
        )
        self._journal = None
        self._materialized = None
        self._column_finder = None
        self._buffers = {}
        self._row_stamps = None
        self._tracking = None
        self._tracking_stamps = None
        self._materializing = threading.Lock()

    @property
    def dtype(self):
        """The floating type of the state, which the weights' array holds."""
        return self.coef.dtype

    # -- hyperparameters ---------------------------------------------------------

    def configure(self, *, loss, schedule, penalty, eps, fit_intercept):
        """Adopt new hyperparameters; pending penalty steps are settled first,
        under the old ones, since the closed forms assume them."""
        lazy_terms = (self.schedule, self.penalty, self.eps)
        if lazy_terms != (schedule, penalty, eps):
            self.settle()
        self.loss = loss
        self.schedule = schedule
        self.penalty = penalty
        self.eps = eps
        self.fit_intercept = fit_intercept

    def start_from(self, coef=None, intercept=None):
        """Make ``coef`` (``(n_features, n_outputs)``) and ``intercept``
        (``(n_outputs,)``) the iterate of an optimizer that has taken no step;
        None keeps the zeros. The accumulators stay as they are. Journaled
        like a step, so a failed call undoes it."""
        if self.t:
            raise RuntimeError("start_from is for an optimizer that has taken no step")
        if coef is not None:
            self._journal_every_row()
            self.coef[...] = coef
        if intercept is not None:
            self.intercept[...] = intercept
        self._materialized = None

    # -- the step ----------------------------------------------------------------

    def plan_step(self, X_batch, n_shards=1):
        """Choose how a step on ``X_batch`` runs (see :class:`PlannedStep`): in
        place when the batch holds about as many entries as there are features
        (or is dense), on its active rows otherwise; split into at most
        ``n_shards`` shards over disjoint features, one when too small to share.
        It reads no training state, so the next batch can be planned while a
        step runs (not two batches at once: they share scratch space)."""
        path = self._path_for(X_batch)
        return PlannedStep(path, path.split(self, X_batch, n_shards))

    def can_share(self, X_batch):
        """Whether :meth:`plan_step` may split a step on ``X_batch``, or on some
        of its rows, between threads: whether the features such a step
        updates (every one in place, at most one per stored entry on the
        active rows) can fill two shards."""
        n_features, n_outputs = self.coef.shape
        most_rows = n_features
        if self._path_for(X_batch) is ACTIVE_ROWS:
            most_rows = min(n_features, X_batch.nnz)
        return _shard_count(most_rows, n_outputs, 2) > 1

    def _path_for(self, X_batch):
        """:data:`IN_PLACE` when the batch holds about as many entries as there
        are features (or is dense), :data:`ACTIVE_ROWS` otherwise."""
        n_features, n_outputs = self.coef.shape
        if not sp.issparse(X_batch) or (
            n_features * (n_outputs + 2) <= IN_PLACE_RATIO * X_batch.nnz
        ):
            return IN_PLACE
        return ACTIVE_ROWS

    def step(self, planned, Y, sample_weight, with_loss=True, stats=None, pool=None):
        """One Adagrad step on a batch, as :meth:`plan_step` planned it; returns
        the batch's weighted loss sum, computed at the weights before the step (0
        unless ``with_loss``).
        ``sample_weight`` is a weight per row, or of shape ``(n_rows,
        n_groups)`` a weight per row and group of outputs (the columns of a
        stacked search, whose loss gives a value per row and group): the loss
        sum is then one per group.
        ``stats``, a :class:`StepStats`, collects the step's size if given.
        ``pool``, a thread pool, steps the shards after the first in its threads
        (the calling thread steps the first); without it they run in turn.

        Overflow is not warned about but checked: a step that leaves a non-finite
        loss, accumulator, weight or intercept raises :class:`DivergenceError`.
        """
        with np.errstate(over="ignore", invalid="ignore"):
            return self._step(planned, Y, sample_weight, with_loss, stats, pool)

    def _step(self, planned, Y, sample_weight, with_loss, stats, pool):
        Y = Y.astype(self.dtype, copy=False)
        t = self.t + 1
        rate = self.schedule.rate(t)
        path = planned.path
        path.begin(self, planned.shards)
        gathered = _each_shard(pool, self._gather_shard, planned.shards, path, t)

        Z = gathered[0].margins
        for shard in gathered[1:]:
            Z += shard.margins
        Z += self.intercept
        loss_sum = 0.0
        if with_loss:
            loss_sum = _weighted_loss_sum(sample_weight, self.loss.value(Y, Z))
            if not np.isfinite(loss_sum).all():
                raise DivergenceError(self._divergence_message(t, "loss"))
        dZ = self.loss.derivative(Y, Z)
        _scale_by_weights(dZ, sample_weight)

        if self.fit_intercept:
            self._step_intercept(dZ, rate, t)
        # Advancing first lets the shards add step t to a running average that
        # opens at step t.
        self._advance(t, rate, len(Y))
        finite = _each_shard(pool, self._update_shard, gathered, path, dZ, rate, t)
        if not all(finite):
            finite_G = all(np.isfinite(shard.G).all() for shard in gathered)
            what = "weights" if finite_G else "accumulator"
            raise DivergenceError(self._divergence_message(t, what))
        if stats is not None:
            stats.record(planned, gathered, rate, self.eps)
        if self.average_start is not None:
            self.intercept_sum += self.intercept
        return loss_sum

    def _gather_shard(self, shard, index, path, t):
        """A shard's rows brought up to step ``t - 1``, with their part of the
        margins."""
        columns, block = shard
        W, G, missed_sum = path.gather(self, columns, index, t - 1)
        return _GatheredShard(columns, block, W, G, missed_sum, block @ W)

    def _update_shard(self, shard, index, path, dZ, rate, t):
        """Step a gathered shard's rows and, if they are all finite, write them
        back (and add them to the running average); return whether they were.
        A failed step may leave other shards written: the call's journal undoes
        them."""
        grad = shard.block.T @ dZ
        finite = True
        for rows in _row_blocks(shard.W.shape):
            finite &= self._update_rows(shard.W[rows], shard.G[rows], grad[rows], rate)
        if finite:
            path.write_back(self, shard, index, t)
        return finite

    def _step_intercept(self, dZ, rate, t):
        # Rounding noise is no gradient (see _rounding): it would take a full
        # step from the best constant the intercept starts at.
        grad = significant_column_sums(dZ)
        self.intercept_accumulator += grad**2
        self.intercept -= (
            rate * grad / _denominator(self.intercept_accumulator, self.eps)
        )
        if not (
            np.isfinite(self.intercept).all()
            and np.isfinite(self.intercept_accumulator).all()
        ):
            raise DivergenceError(self._divergence_message(t, "intercept"))

    def _update_rows(self, W, G, grad, rate):
        """Adagrad step and proximal penalty step on rows of state, in place;
        returns whether the rows are all finite (checked while in cache)."""
        step_size = np.square(grad)
        G += step_size
        _denominator(G, self.eps, out=step_size)
        np.divide(rate, step_size, out=step_size)
        grad *= step_size
        W -= grad
        self.penalty.prox(W, step_size)
        # A sum is finite exactly when its terms are, short of overflowing,
        # which only weights or accumulators near the float range, diverged
        # already, can do: one pass per array instead of a mask and a test.
        return bool(np.isfinite(G.sum()) and np.isfinite(W.sum()))

    def _catch_up_in_blocks(self, W, G, last, t, total, skip_zero_rows=False):
        """:meth:`_catch_up` over blocks of rows, so that its temporaries stay in
        cache; fills ``total`` (if not None) with the sums of missed iterates.
        ``skip_zero_rows`` passes over rows whose weights are all zero: a
        proximal step keeps a zero weight at zero, so their iterates are zero
        throughout. Reading a whole model then costs in proportion to the
        features it has learnt, not to its width (a hashed model is mostly
        rows never seen); a step's rows, nearly all learnt, skip the test."""
        for rows in _row_blocks(W.shape):
            block_total = self._catch_up(
                W[rows], G[rows], last[rows], t, skip_zero_rows
            )
            if total is not None:
                total[rows] = block_total
        return total

    def _catch_up(self, W, G, last, t, skip_zero_rows=False):
        """Apply to ``W`` (in place) the penalty steps missed since ``last`` up to
        step ``t``; return the sum of the iterates in the average window, if any."""
        missed = last < t
        if skip_zero_rows:
            missed &= W.any(axis=1)
        if 2 * np.count_nonzero(missed) < missed.size or W.size == 0:
            # Rows updated at step t (features present in the previous batch)
            # missed nothing. The closed forms leave such rows exactly as they
            # are, but when they are the majority, gathering the others is the
            # cheaper way through.
            total = None if self.average_start is None else np.zeros_like(W)
            if missed.any():
                index = np.flatnonzero(missed)
                caught_up = W[index]
                part = self._catch_up(caught_up, G[index], last[index], t)
                W[index] = caught_up
                if total is not None:
                    total[index] = part
            return total
        return self.penalty.catch_up(
            W,
            _denominator(G, self.eps),
            last,
            t - last,
            self.schedule,
            self.rate_history,
            self._sum_after(last),
        )

    def _sum_after(self, last):
        """Per row, how many of its missed steps precede the averaging window (None
        when not averaging)."""
        if self.average_start is None:
            return None
        return np.maximum(self.average_start - 1 - last, 0)

    def _workspace(self, key, n_rows):
        """A reusable ``(n_rows, n_outputs)`` buffer: gathering into the same
        memory every step spares the allocator from mapping fresh pages. Each
        shard has its own buffers (``key`` names the array and the shard)."""
        buffer = self._buffers.get(key)
        if buffer is None or buffer.shape[0] < n_rows:
            buffer = np.empty((max(n_rows, 1024), self.coef.shape[1]), self.dtype)
            self._buffers[key] = buffer
        return buffer[:n_rows]

    @property
    def _active_columns(self):
        # Scratch space, rebuilt after unpickling rather than stored.
        if self._column_finder is None:
            self._column_finder = ActiveColumns(self.coef.shape[0])
        return self._column_finder

    def _advance(self, t, rate, n_samples):
        self.t = t
        self.samples_seen += n_samples
        self.rate_history.append(self.schedule.history_rate(t))
        if (
            self.coef_sum is not None
            and self.average_start is None
            and self.samples_seen >= self.average_from_sample
        ):
            self.average_start = t
        self._materialized = None

    def _divergence_message(self, t, what):
        return (
            f"Adagrad diverged at step {t}: non-finite {what}. Lower `lr` "
            f"(now {_shown(self.schedule.lr)}), or raise `eps` (now "
            f"{_shown(self.eps)}) or "
            "`initial_accumulator_value`, or scale the features."
        )

    # -- lazy terms --------------------------------------------------------------

    def materialize(self):
        """Return ``(coef, intercept)`` brought up to the current step, averaged
        once averaging has begun; the state itself is not changed. Threads that
        read the weights at once take turns to fill them in."""
        with self._materializing:
            if self._materialized is None:
                # Into the same memory each time: a fresh model-sized array would
                # cost a page fault per page every time the weights are read.
                out = self._workspace("materialized", self.coef.shape[0])
                self._materialized = (
                    self._weights_at_now(slice(None), out),
                    self.intercept_at_now(),
                )
            return self._materialized

    def weights_by_output(self):
        """The weights of :meth:`materialize` in a new ``(n_outputs, n_features)``
        array, the layout of ``coef_``. Unless they are materialized already, a
        block of rows at a time is brought up to date in a small buffer and
        written out transposed: no model-sized intermediate is streamed through
        memory, which halved the cost of reading ``coef_`` after every pass."""
        materialized = self._materialized
        if materialized is not None:
            return _by_output(
                materialized[0].shape, self.dtype, materialized[0].__getitem__
            )
        return _by_output(self.coef.shape, self.dtype, self._block_reader())

    def penalty_value(self):
        """The penalty of the weights at the current step, computed a block of
        rows at a time: no model-sized copy, and nothing cached."""
        if self.penalty.is_zero:
            return 0.0
        rows_at_now = self._block_reader()
        return sum(
            self.penalty.value(rows_at_now(rows))
            for rows in _row_blocks(self.coef.shape)
        )

    def _block_reader(self):
        """``rows_at_now(rows)``: the weights of a block of rows (a slice of
        :func:`_row_blocks`) at the current step, in a buffer of the caller's
        own, which concurrent reads must not share, reused block after block."""
        n_features, n_outputs = self.coef.shape
        buffer = np.empty((_rows_per_block(n_outputs), n_outputs), self.dtype)

        def rows_at_now(rows):
            n_rows = len(range(n_features)[rows])
            return self._weights_at_now(rows, buffer[:n_rows])

        return rows_at_now

    def accumulators_by_output(self):
        """The accumulators in a new ``(n_outputs, n_features)`` array."""
        return _by_output(
            self.coef.shape, self.dtype, self.coef_accumulator.__getitem__
        )

    def intercept_at_now(self):
        """The intercept at the current step (averaged once averaging has
        begun), as a new array."""
        if self.average_start is None:
            return self.intercept.copy()
        return self.intercept_sum / self._n_averaged

    @property
    def _n_averaged(self):
        """How many iterates the running average holds (steps average_start..t)."""
        return self.t - self.average_start + 1

    def margins(self, X):
        """``X @ coef + intercept`` at the current step. For sparse ``X`` only the
        features present in ``X`` are brought up to date, so that predicting on a
        small chunk between ``partial_fit`` calls stays O(nnz)."""
        if self._materialized is not None or not sp.issparse(X):
            W, b = self.materialize()
            return np.asarray(X @ W) + b
        columns, block = self._active_columns(X)
        return (
            np.asarray(block @ self._weights_at_now(columns)) + self.intercept_at_now()
        )

    def _weights_at_now(self, rows, out=None):
        """Weights of ``rows`` (an index array or a slice) at the current step, as
        a new array (``out`` if given)."""
        if out is None:
            W = self.coef[rows]
            if np.may_share_memory(W, self.coef):
                W = W.copy()  # a view: the catch-up below must not write the state
        else:
            np.copyto(out, self.coef[rows])
            W = out
        total = None if self.average_start is None else np.empty_like(W)
        self._catch_up_in_blocks(
            W,
            self.coef_accumulator[rows],
            self.last_step[rows],
            self.t,
            total,
            skip_zero_rows=True,
        )
        if total is None:
            return W
        averaged = np.add(self.coef_sum[rows], total, out=W)
        averaged /= self._n_averaged
        return averaged

    def settle(self):
        """Bring every feature up to the current step, in place (O(n_features))."""
        self._journal_every_row()
        total = None if self.average_start is None else np.empty_like(self.coef)
        self._catch_up_in_blocks(
            self.coef,
            self.coef_accumulator,
            self.last_step,
            self.t,
            total,
            skip_zero_rows=True,
        )
        if total is not None:
            self.coef_sum += total
        self.last_step[:] = self.t
        self._materialized = None

    # -- transactions ------------------------------------------------------------

    def begin(self):
        """Start recording changes so that :meth:`rollback` can undo them."""
        if self._row_stamps is None:
            # One stamp per feature, kept across calls, so that a call costs
            # nothing in proportion to n_features.
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

    def _journal_rows(self, rows):
        if self._journal is not None:
            self._journal.save_rows(rows)
        if self._tracking is not None:
            self._tracking.save_rows(rows)

    def _journal_every_row(self):
        if self._journal is not None:
            self._journal.save_every_row()
        if self._tracking is not None:
            self._tracking.save_every_row()

    # -- rows as units of exchange -------------------------------------------------

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
        """``(row_values, small_values)``: copies of the row fields at ``rows``
        (an ascending index array; None for a field the state lacks) as they
        are stored, pending penalty steps and all, and of the small fields."""
        row_values = {
            name: None if value is None else take_rows(value, rows)
            for name in EngineState.row_fields()
            for value in [getattr(self.state, name)]
        }
        small_values = {
            name: copy.deepcopy(getattr(self.state, name))
            for name in EngineState.small_fields()
        }
        return row_values, small_values

    def import_rows(self, rows, row_values, small_values):
        """Write what :meth:`export_rows` gave for ``rows`` (of a model of the
        same shape, whose other rows are this one's) into this state: rows and
        small fields then are exactly the exported model's. Journaled."""
        self._journal_rows(rows)
        for name, values in row_values.items():
            field_ = getattr(self.state, name)
            if values is None or field_ is None:
                if (values is None) != (field_ is None):
                    raise ValueError(f"Rows of {name!r} do not fit this model.")
                continue
            if field_.ndim == 2:
                put_rows(field_, rows, values)
            else:
                field_[rows] = values
        for name, value in small_values.items():
            setattr(self.state, name, copy.deepcopy(value))
        self._materialized = None

    def rows_at_step(self, coef, accumulator, last_step, t):
        """Weights at step ``t`` of stored rows (``coef``, ``accumulator`` and
        ``last_step`` as :meth:`export_rows` gives them, for a model with this
        one's hyperparameters and rate history through ``t``, without
        averaging): their pending penalty steps applied, as a new array."""
        W = np.array(coef, dtype=self.dtype)
        if self.average_start is not None:
            raise ValueError("rows_at_step reads models without averaging")
        self._catch_up_in_blocks(W, accumulator, last_step, t, None)
        return W

    def __getstate__(self):
        state = self.__dict__.copy()
        state["_journal"] = None
        state["_materialized"] = None
        state["_column_finder"] = None
        state["_buffers"] = {}
        state["_row_stamps"] = None
        state["_tracking"] = None
        state["_tracking_stamps"] = None
        del state["_materializing"]
        return state

    def __setstate__(self, state):
        self.__dict__.update(state)
        # Models pickled before tracking existed lack its (empty) fields.
        self.__dict__.setdefault("_tracking", None)
        self.__dict__.setdefault("_tracking_stamps", None)
        self._materializing = threading.Lock()


def _state_field(name):
    """An engine attribute that is a field of its state: the engine's code reads
    ``self.coef`` while everything it stores stays in one object. Reads go
    through a C-level getter, as fast as a plain attribute lookup."""

    def set_field(engine, value):
        setattr(engine.state, name, value)

    return property(attrgetter(f"state.{name}"), set_field)


for _name in EngineState.row_fields() + EngineState.small_fields():
    setattr(SparseAdagrad, _name, _state_field(_name))


# A sparse batch is stepped in place, with no gathers, scatters nor catch-up,
# when n_features * (n_outputs + 2) is at most this many times its stored
# entries. The in-place update costs about n_features * n_outputs; the active-row
# step costs about 2 per stored entry (finding the active columns) plus its work
# per active feature and output. The constant puts the switch where
# benchmarks/step_paths.py measures the two paths to cross (docs/step_paths.md);
# either way a step costs O(nnz(batch) x n_outputs).
IN_PLACE_RATIO = 24.0

# Elementwise work runs over blocks of this many entries: small temporaries stay
# in cache and are recycled by the allocator instead of being mapped afresh.
_BLOCK_ENTRIES = 32768


def _rows_per_block(n_outputs):
    return max(1, _BLOCK_ENTRIES // n_outputs)


def _row_blocks(shape):
    """Slices of rows covering an array of ``shape`` in blocks of about
    ``_BLOCK_ENTRIES`` entries."""
    n_rows, n_outputs = shape
    size = _rows_per_block(n_outputs)
    return [slice(start, start + size) for start in range(0, n_rows, size)]


# A step is shared between threads only when each gets at least this many
# (feature, output) entries: below about half a million entries per step,
# handing work to a thread and waiting for it costs about what it saves
# (docs/step_paths.md).
SHARD_ENTRIES = 2**18


def _by_output(shape, dtype, rows_of):
    """A new ``(n_outputs, n_rows)`` array of ``dtype``, the transpose of the
    ``shape`` array whose rows ``rows`` are ``rows_of(rows)``, filled a block of
    rows at a time: transposing block by block stays in cache where a whole
    transposition does not."""
    n_rows, n_outputs = shape
    out = np.empty((n_outputs, n_rows), dtype)
    for rows in _row_blocks(shape):
        out[:, rows] = rows_of(rows).T
    return out


def _shard_count(n_rows, n_outputs, n_shards):
    """How many shards of at least ``SHARD_ENTRIES`` entries, at most
    ``n_shards``, ``n_rows`` rows make (one at least)."""
    return max(1, min(n_shards, n_rows * n_outputs // SHARD_ENTRIES))


def _shard_bounds(n_rows, n_outputs, n_shards):
    """``(start, stop)`` of :func:`_shard_count` near-equal runs of ``n_rows``
    rows."""
    n_shards = _shard_count(n_rows, n_outputs, n_shards)
    if n_shards == 1:
        return [(0, n_rows)]
    edges = np.linspace(0, n_rows, n_shards + 1).astype(int)
    return list(zip(edges[:-1].tolist(), edges[1:].tolist(), strict=True))


class PlannedStep(NamedTuple):
    """A batch ready for a step: the path that steps it, :data:`IN_PLACE` or
    :data:`ACTIVE_ROWS`, and its shards ``(columns, block)`` over disjoint
    features: the features a shard updates and the batch restricted to them."""

    path: object
    shards: list


class _InPlace:
    """Every feature stepped where it lies: a shard's columns are a slice and
    its rows views of the state, so nothing is gathered, caught up or written
    back. The pending penalty steps of earlier batches are settled first."""

    def split(self, engine, X_batch, n_shards):
        n_features, n_outputs = engine.coef.shape
        bounds = _shard_bounds(n_features, n_outputs, n_shards)
        if len(bounds) == 1:
            return [(slice(None), X_batch)]
        return [(slice(lo, hi), X_batch[:, lo:hi]) for lo, hi in bounds]

    def begin(self, engine, shards):
        if engine.last_step.min() < engine.t:
            engine.settle()
        engine._journal_every_row()

    def gather(self, engine, columns, index, t):
        """The rows of ``columns`` (views), up to date already, and no missed
        iterates."""
        return engine.coef[columns], engine.coef_accumulator[columns], None

    def write_back(self, engine, shard, index, t):
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


class _ActiveRows:
    """Only the features present in the batch: their rows are gathered into the
    shard's workspace, caught up on the penalty steps they missed, stepped and
    scattered back; the others wait, their steps pending (see ``_penalty``)."""

    def split(self, engine, X_batch, n_shards):
        columns, block = engine._active_columns(X_batch)
        bounds = _shard_bounds(columns.size, engine.coef.shape[1], n_shards)
        if len(bounds) == 1:
            return [(columns, block)]
        return [(columns[lo:hi], block[:, lo:hi]) for lo, hi in bounds]

    def begin(self, engine, shards):
        for columns, _ in shards:
            engine._journal_rows(columns)

    def gather(self, engine, columns, index, t):
        """Copies of the rows of ``columns`` brought up to step ``t``, and the sum
        of their missed iterates in the average window (or None)."""
        W = self._take(engine, "coef", columns, index)
        G = self._take(engine, "coef_accumulator", columns, index)
        if engine.penalty.is_zero and engine.average_start is None:
            return W, G, None
        total = None
        if engine.average_start is not None:
            total = engine._workspace(("missed_sum", index), len(columns))
        last = engine.last_step[columns]
        return W, G, engine._catch_up_in_blocks(W, G, last, t, total)

    def write_back(self, engine, shard, index, t):
        columns = shard.columns
        put_rows(engine.coef, columns, shard.W)
        put_rows(engine.coef_accumulator, columns, shard.G)
        engine.last_step[columns] = t
        if engine.average_start is not None:
            averaged = self._take(engine, "coef_sum", columns, index)
            averaged += shard.W
            if shard.missed_sum is not None:
                averaged += shard.missed_sum
            put_rows(engine.coef_sum, columns, averaged)

    def stepped_accumulators(self, shard):
        return shard.G

    @staticmethod
    def _take(engine, name, columns, index):
        """Rows ``columns`` of a row field, in the shard's workspace buffer for
        it: gathering into the same memory every step spares the allocator."""
        workspace = engine._workspace((name, index), len(columns))
        return take_rows(getattr(engine, name), columns, out=workspace)


IN_PLACE = _InPlace()
ACTIVE_ROWS = _ActiveRows()


@dataclass
class _GatheredShard:
    """A shard's rows during a step: workspace copies (views when in place)."""

    columns: object
    block: object
    W: np.ndarray
    G: np.ndarray
    missed_sum: np.ndarray | None
    margins: np.ndarray


def _each_shard(pool, function, shards, *args):
    """``[function(shard, index, *args) for each shard]``, the shards after the
    first in ``pool``'s threads when given. Every call has ended when this
    returns or raises, so that a failure never leaves a thread writing state."""
    if pool is None or len(shards) == 1:
        return [function(shard, index, *args) for index, shard in enumerate(shards)]
    futures = [
        pool.submit(function, shard, index, *args)
        for index, shard in enumerate(shards[1:], start=1)
    ]
    try:
        first = function(shards[0], 0, *args)
    finally:
        _wait_through_interrupts(futures)
    return [first] + [future.result() for future in futures]


def _wait_through_interrupts(futures):
    """Wait for ``futures`` even if interrupted meanwhile, then re-raise the
    interrupt: the caller rolls back state, which the threads must not still be
    writing. Shards take milliseconds, so the interrupt is barely delayed."""
    interrupt = None
    while True:
        try:
            wait(futures)
            break
        except KeyboardInterrupt as caught:
            interrupt = caught
    if interrupt is not None:
        raise interrupt


def _denominator(G, eps, out=None):
    """``sqrt(G) + eps``, with 1 where that is 0 (in ``out`` if given).

    It is 0 only with ``eps = 0`` on a coordinate that has had no nonzero
    gradient, whose weight is still 0: its steps ``rate * g / h`` are 0, not
    0 / 0, and so are its penalty steps, whatever the value put here.
    """
    H = np.sqrt(G, out=out)
    H += eps
    # eps is a number, or an array of one per output (a stacked search).
    if (not eps.all()) if isinstance(eps, np.ndarray) else eps == 0.0:
        H[H == 0.0] = 1.0
    return H


def _weighted_loss_sum(sample_weight, values):
    """The batch's loss sum: a number for per-row weights; one per group for
    per-(row, group) weights and values."""
    if sample_weight.ndim == 1:
        return float(sample_weight @ values)
    return np.einsum("ij,ij->j", sample_weight, values)


def _scale_by_weights(dZ, sample_weight):
    """Multiply the loss derivatives ``dZ`` in place by each row's weight over
    the batch's total weight (0 when that is 0): per row, or per row and group
    of outputs, the outputs of group ``j`` being its ``j``-th run of
    ``dZ.shape[1] / n_groups`` columns."""
    if sample_weight.ndim == 1:
        weight_sum = sample_weight.sum()
        dZ *= (sample_weight / weight_sum)[:, None] if weight_sum > 0 else 0.0
        return
    weight_sum = sample_weight.sum(axis=0)
    share = np.divide(
        sample_weight,
        weight_sum,
        out=np.zeros_like(sample_weight),
        where=weight_sum > 0,
    )
    dZ.reshape(len(dZ), share.shape[1], -1)[...] *= share[:, :, None]


def _shown(value):
    """A hyperparameter in a message: a number, or the range of per-output
    values."""
    if isinstance(value, np.ndarray):
        return f"{value.min():g} to {value.max():g} across the outputs"
    return f"{value:g}"
