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

A step runs on one of two paths (``_step_paths``): every feature in place, or
only the batch's active rows; either way it costs O(nnz(batch) x K). The
engine's :class:`~sk_adagrad._step_policy.StepPolicy` chooses the path once per
batch, in :meth:`SparseAdagrad.plan_step`.

A large step is shared between threads by features: each shard gathers its
rows, catches them up and computes its part of the margins; after the loss,
each steps its rows and writes them back. NumPy and SciPy release the GIL in
their loops, so the shards run on separate cores, and the features a step
updates do not depend on how it was split.
"""

import copy
import dataclasses
import threading

import numpy as np
import scipy.sparse as sp

from ._batches import ActiveColumns
from ._blocks import by_output
from ._catch_up import catch_up
from ._divergence import DivergenceError, divergence_message
from ._entry_steps import gradient_entries, step_entries, step_rows_on_entries
from ._pages import zeros
from ._rounding import significant_column_sums
from ._state import EngineState, state_field
from ._step_paths import ACTIVE_ROWS, GatheredShard, PlannedStep
from ._step_policy import DEFAULT_STEP_POLICY
from ._step_terms import (
    all_finite,
    denominator,
    scale_by_weights,
    step_sizes,
    weighted_loss_sum,
)
from ._threads import each_shard
from ._transactions import Transactions


class SparseAdagrad(Transactions):
    """Adagrad on an ``(n_features, n_outputs)`` weight matrix and an intercept
    vector. Everything it stores about the model is in ``state``, an
    :class:`~sk_adagrad._state.EngineState` whose fields it reads as its own
    attributes (``self.coef``, declared below); the rest is scratch, rebuilt
    when needed, and the step policy, which its estimator gives it.

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
    policy : StepPolicy, default=DEFAULT_STEP_POLICY
        How a step runs (its path, shards and blocks); not pickled, the
        estimator gives it again before the next step.
    """

    # The fields of ``state`` (see ``_state``), as the engine's own attributes.
    coef = state_field("coef")
    coef_accumulator = state_field("coef_accumulator")
    last_step = state_field("last_step")
    coef_sum = state_field("coef_sum")
    intercept = state_field("intercept")
    intercept_accumulator = state_field("intercept_accumulator")
    intercept_sum = state_field("intercept_sum")
    t = state_field("t")
    samples_seen = state_field("samples_seen")
    rate_history = state_field("rate_history")
    average_start = state_field("average_start")
    average_from_sample = state_field("average_from_sample")
    loss = state_field("loss")
    schedule = state_field("schedule")
    penalty = state_field("penalty")
    eps = state_field("eps")
    fit_intercept = state_field("fit_intercept")

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
        policy=DEFAULT_STEP_POLICY,
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
            small_pages_from=policy.small_pages_from,
            map_at_once=policy.map_state_at_once,
        )
        # Scratch, rebuilt when needed and not pickled (see __getstate__).
        self._journal = None  # the undo record of the call under way
        self._materialized = None  # (coef, intercept) read at the current step
        self._column_finder = None  # the ActiveColumns of this many features
        self._buffers = {}  # workspace buffers, by array and shard
        self._row_stamps = None  # the RowStamps the calls' journals share
        self._tracking = None  # the record begin_tracking opened
        self._tracking_stamps = None  # its RowStamps
        self._materializing = threading.Lock()  # turns to fill _materialized
        self.policy = policy

    @property
    def dtype(self):
        """The floating type of the state, which the weights' array holds."""
        return self.coef.dtype

    # -- hyperparameters ---------------------------------------------------------

    def configure(self, *, loss, schedule, penalty, eps, fit_intercept, policy):
        """Adopt new hyperparameters and step policy; pending penalty steps are
        settled first, under the old hyperparameters, since the closed forms
        assume them."""
        lazy_terms = (self.schedule, self.penalty, self.eps)
        if lazy_terms != (schedule, penalty, eps):
            self.settle()
        self.loss = loss
        self.schedule = schedule
        self.penalty = penalty
        self.eps = eps
        self.fit_intercept = fit_intercept
        self.policy = policy

    def start_from(self, coef=None, intercept=None):
        """Make ``coef`` (``(n_features, n_outputs)``) and ``intercept``
        (``(n_outputs,)``) the iterate of an optimizer that has taken no step;
        None keeps the zeros. The accumulators stay as they are. Journaled
        like a step, so a failed call undoes it."""
        if self.t:
            raise RuntimeError("start_from is for an optimizer that has taken no step")
        if coef is not None:
            self.journal_every_row()
            self.coef[...] = coef
        if intercept is not None:
            self.intercept[...] = intercept
        self._materialized = None

    # -- the step ----------------------------------------------------------------

    def plan_step(self, X_batch, n_shards=1):
        """Choose how a step on ``X_batch`` runs (see
        :class:`~sk_adagrad._step_paths.PlannedStep`): on the path the policy
        picks, split into at most ``n_shards`` shards over disjoint features,
        one when too small to share. It reads no training state, so the next
        batch can be planned while a step runs (not two batches at once: they
        share scratch space)."""
        path = self.policy.path_for(X_batch, *self.coef.shape)
        return PlannedStep(path, path.split(self, X_batch, n_shards))

    def can_share(self, X_batch):
        """Whether :meth:`plan_step` may split a step on ``X_batch``, or on some
        of its rows, between threads: whether the features such a step
        updates (every one in place, at most one per stored entry on the
        active rows) can fill two shards."""
        n_features, n_outputs = self.coef.shape
        most_rows = n_features
        if self.policy.path_for(X_batch, n_features, n_outputs) is ACTIVE_ROWS:
            most_rows = min(n_features, X_batch.nnz)
        return self.policy.shard_count(most_rows, n_outputs, 2) > 1

    def step(self, planned, Y, sample_weight, with_loss=True, stats=None, pool=None):
        """One Adagrad step on a batch, as :meth:`plan_step` planned it; returns
        the batch's weighted loss sum, computed at the weights before the step (0
        unless ``with_loss``).
        ``sample_weight`` is a weight per row, or of shape ``(n_rows,
        n_groups)`` a weight per row and group of outputs (the columns of a
        stacked search, whose loss gives a value per row and group): the loss
        sum is then one per group.
        ``stats``, a :class:`~sk_adagrad._step_stats.StepStats`, collects the
        step's size if given.
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
        gathered = each_shard(pool, self._gather_shard, planned.shards, path, t)

        Z = gathered[0].margins
        for shard in gathered[1:]:
            Z += shard.margins
        Z += self.intercept
        loss_sum = 0.0
        if with_loss:
            loss_sum = weighted_loss_sum(sample_weight, self.loss.value(Y, Z))
            if not np.isfinite(loss_sum).all():
                raise DivergenceError(self._divergence_message(t, "loss"))
        dZ = self.loss.derivative(Y, Z)
        scale_by_weights(dZ, sample_weight)

        if self.fit_intercept:
            self._step_intercept(dZ, rate, t)
        # Advanced first, the shards add step t to an average opening at step t.
        self._advance(t, rate, len(Y))
        alone, adagrad_part = self.policy.steps_on_entries(dZ)
        by_entry = path.steps_by_entries(self, alone)
        on_entries = by_entry or adagrad_part
        finite = each_shard(
            pool, self._update_shard, gathered, path, dZ, rate, by_entry, on_entries
        )
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
        return GatheredShard(columns, block, W, G, missed_sum, block @ W)

    def _update_shard(self, shard, index, path, dZ, rate, by_entry, on_entries):
        """Step a shard's rows to step ``self.t``, write them back if all finite
        (and into the running average); return whether they were. With
        ``on_entries`` the Adagrad step goes by the gradient's nonzero entries
        (see ``_entry_steps``), and with ``by_entry`` nothing else does."""
        if on_entries:
            entries, gradient = gradient_entries(shard.block, dZ)
            step = step_entries if by_entry else step_rows_on_entries
            return step(self, path, shard, index, entries, gradient, rate)
        grad = shard.block.T @ dZ
        finite = True
        for rows in self.policy.row_blocks(shard.W.shape):
            finite &= self._update_rows(shard.W[rows], shard.G[rows], grad[rows], rate)
        if finite:
            path.write_back(self, shard, index, self.t)
        return finite

    def _step_intercept(self, dZ, rate, t):
        # Rounding noise is no gradient (_rounding): not a full step off the constant.
        grad = significant_column_sums(dZ)
        self.intercept_accumulator += grad**2
        self.intercept -= (
            rate * grad / denominator(self.intercept_accumulator, self.eps)
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
        step_sizes(G, self.eps, rate, out=step_size)
        grad *= step_size
        W -= grad
        self.penalty.prox(W, step_size)
        return all_finite(W, G)

    # -- what the step paths use (see _step_paths) --------------------------------

    def catch_up_rows(self, W, G, last, t, total=None, skip_zero_rows=False):
        """Apply to weight rows ``W`` (in place), whose accumulators are ``G``
        and which are up to date at steps ``last``, the penalty steps they
        missed up to step ``t`` (see ``_catch_up``), a block of rows at a time
        so that the temporaries stay in cache; fill ``total`` (if not None) with
        the sums of missed iterates, and return it. ``skip_zero_rows`` passes
        over rows whose weights are all zero: a proximal step keeps a zero
        weight at zero, so their iterates are zero throughout. Reading a whole
        model then costs in proportion to the features it has learnt, not to
        its width (a hashed model is mostly rows never seen); a step's rows,
        nearly all learnt, skip the test."""
        for rows in self.policy.row_blocks(W.shape):
            block_total = catch_up(
                self.state, W[rows], G[rows], last[rows], t, skip_zero_rows
            )
            if total is not None:
                total[rows] = block_total
        return total

    def workspace(self, key, n_rows):
        """A reusable ``(n_rows, n_outputs)`` buffer: gathering into the same
        memory every step spares the allocator from mapping fresh pages. Each
        shard has its own buffers (``key`` names the array and the shard). Their
        memory is kept flat, so that an engine of fewer outputs made from this
        one (a stack that drops models) can take it over."""
        n_outputs = self.coef.shape[1]
        memory = self._buffers.get(key)
        if memory is None or memory.size < n_rows * n_outputs:
            # Written in full by the gathers: mapped at once.
            memory = zeros(
                max(n_rows, 1024) * n_outputs,
                self.dtype,
                self.policy.small_pages_from,
                at_once=True,
            )
            self._buffers[key] = memory
        return memory[: n_rows * n_outputs].reshape(n_rows, n_outputs)

    def active_columns(self, X_batch):
        """``(columns, block)``: the features present in the CSR ``X_batch`` and
        the batch restricted to them (see :class:`~sk_adagrad._batches.
        ActiveColumns`)."""
        # Scratch space, rebuilt after unpickling rather than stored.
        if self._column_finder is None:
            self._column_finder = ActiveColumns(self.coef.shape[0])
        return self._column_finder(X_batch)

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
        return divergence_message(t, what, self.schedule.lr, self.eps)

    # -- lazy terms --------------------------------------------------------------

    def materialize(self):
        """Return ``(coef, intercept)`` brought up to the current step, averaged
        once averaging has begun; the state itself is not changed. Threads that
        read the weights at once take turns to fill them in."""
        with self._materializing:
            if self._materialized is None:
                # Into the same memory each time: a fresh model-sized array would
                # cost a page fault per page every time the weights are read.
                out = self.workspace("materialized", self.coef.shape[0])
                self._materialized = (
                    self._weights_at_now(slice(None), out),
                    self.intercept_at_now(),
                )
            return self._materialized

    def final_weights(self):
        """What :meth:`materialize` returns, computed in the state's own memory
        for an engine that is not stepped nor read again: every row brought up
        to date in place (and the running sums divided into the average), so
        that a stack's final weights map no second model-sized array."""
        self.settle()
        if self.average_start is None:
            return self.coef, self.intercept_at_now()
        intercept = self.intercept_at_now()
        self.coef_sum /= self._n_averaged
        return self.coef_sum, intercept

    def weights_by_output(self):
        """The weights of :meth:`materialize` in a new ``(n_outputs, n_features)``
        array, the layout of ``coef_``. Unless they are materialized already, a
        block of rows at a time is brought up to date in a small buffer and
        written out transposed: no model-sized intermediate is streamed through
        memory."""
        materialized = self._materialized
        if materialized is not None:
            return self._by_output(materialized[0].shape, materialized[0].__getitem__)
        return self._by_output(self.coef.shape, self._block_reader())

    def penalty_value(self):
        """The penalty of the weights at the current step, computed a block of
        rows at a time: no model-sized copy, and nothing cached."""
        if self.penalty.is_zero:
            return 0.0
        return self._penalty_of(self._block_reader())

    def penalty_bound(self):
        """An upper bound of :meth:`penalty_value` that reads no row twice: the
        penalty of the weights as stored, which their pending proximal steps
        could only shrink. None once averaging has begun (the averaged
        weights are not the stored ones)."""
        if self.penalty.is_zero:
            return 0.0
        if self.average_start is not None:
            return None
        return self._penalty_of(self.coef.__getitem__)

    def _penalty_of(self, rows_of):
        """The penalty of the weights whose blocks of rows ``rows`` are
        ``rows_of(rows)``, summed block by block."""
        return sum(
            self.penalty.value(rows_of(rows))
            for rows in self.policy.row_blocks(self.coef.shape)
        )

    def _block_reader(self):
        """``rows_at_now(rows)``: the weights of a block of rows (a slice of
        :meth:`StepPolicy.row_blocks`) at the current step, in a buffer of the
        caller's own, which concurrent reads must not share, reused block after
        block."""
        n_features, n_outputs = self.coef.shape
        size = self.policy.rows_per_block(n_outputs)
        buffer = np.empty((size, n_outputs), self.dtype)

        def rows_at_now(rows):
            n_rows = len(range(n_features)[rows])
            return self._weights_at_now(rows, buffer[:n_rows])

        return rows_at_now

    def accumulators_by_output(self):
        """The accumulators in a new ``(n_outputs, n_features)`` array."""
        return self._by_output(self.coef.shape, self.coef_accumulator.__getitem__)

    def _by_output(self, shape, rows_of):
        policy = self.policy
        return by_output(
            shape, self.dtype, rows_of, policy.block_entries, policy.small_pages_from
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
        columns, block = self.active_columns(X)
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
        self.catch_up_rows(
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
        self.journal_every_row()
        total = None if self.average_start is None else np.empty_like(self.coef)
        self.catch_up_rows(
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

    # -- rows as units of exchange -------------------------------------------------

    def rows_at_step(self, stored, t, small):
        """Weights at step ``t`` of stored rows (``stored``, the row fields as
        :meth:`export_rows` gives them) of a model of this one's rows whose
        small fields are ``small`` (its hyperparameters, without averaging, and
        its rate history through ``t``): their pending penalty steps applied,
        as a new array."""
        W = np.array(stored["coef"], dtype=self.dtype)
        other = copy.copy(self)
        other.state = dataclasses.replace(self.state, **small)
        if other.average_start is not None:
            raise ValueError("rows_at_step reads models without averaging")
        other.catch_up_rows(W, stored["coef_accumulator"], stored["last_step"], t)
        return W

    def narrowed(self):
        """An engine on this one's state, narrowed to fewer outputs by the
        caller, that takes over this engine's step buffers: their memory is
        flat and sized for more outputs, so the system maps none anew."""
        engine = copy.copy(self)
        engine._buffers = self._buffers
        return engine

    def __copy__(self):
        """An engine on the same state, with scratch space of its own and the
        same step policy."""
        engine = SparseAdagrad.__new__(SparseAdagrad)
        engine.__setstate__(self.__getstate__())
        engine.policy = self.policy
        return engine

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
        del state["policy"]
        return state

    def __setstate__(self, state):
        self.__dict__.update(state)
        # Models pickled before tracking existed lack its (empty) fields.
        self.__dict__.setdefault("_tracking", None)
        self.__dict__.setdefault("_tracking_stamps", None)
        self._materializing = threading.Lock()
        self.policy = DEFAULT_STEP_POLICY
