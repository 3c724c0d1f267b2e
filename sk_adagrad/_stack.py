"""Many models trained as the columns of one: the (candidate, fold) pairs of a
grid search.

Each model, a *group*, owns ``K`` adjacent outputs of one engine (``K`` the
outputs of the plain model: 1, or one per class). Its learning rate, ``eps``
and penalty are per-output arrays of the engine, so one vectorised step moves
every group; its sample weights are a column of a ``(n_samples, n_groups)``
matrix, zero on the rows it must not learn from (its fold's held-out rows).
Every step reads its batch once, finds the batch's active features once and
computes the margins of every group with one sparse product.

A group's model is then the model the plain estimator fits with those weights
on the same batches: the columns never mix (the multinomial softmax runs
within each group), and the lazy penalty's closed forms run per output.

Each group stops by the plain estimator's own rule, on its own mean loss; a
stopped group is handed to the caller and its columns are dropped from the
engine (:func:`keep_groups`), so that it no longer costs the steps. A
caller may drop groups the same way after some epochs (successive halving,
``_halving``).
"""

import time
import warnings
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
from sklearn.exceptions import ConvergenceWarning

from ._divergence import DivergenceError
from ._engine import SparseAdagrad
from ._halving import is_checkpoint
from ._penalty import ElasticNet
from ._schedule import Schedule
from ._stopping import NoImprovement


@dataclass(frozen=True)
class StackedLoss:
    """The loss ``base`` of each group of ``n_group_outputs`` outputs: margins
    ``Z`` of shape ``(n, n_groups * K)`` against the one target ``Y`` of shape
    ``(n, K)`` that every group shares; ``value`` is one per row and group."""

    base: Any
    n_group_outputs: int

    def _groups(self, Z):
        return Z.reshape(len(Z), -1, self.n_group_outputs)

    def value(self, Y, Z):
        return self.base.value(Y[:, None, :], self._groups(Z))

    def derivative(self, Y, Z):
        return self.base.derivative(Y[:, None, :], self._groups(Z)).reshape(len(Z), -1)


@dataclass
class Group:
    """One model of the stack.

    Attributes
    ----------
    settings : dict
        The plain estimator's engine settings for it (``loss``, ``schedule``,
        ``penalty``, ``eps``, ``fit_intercept``), numbers resolved.
    weights : int
        Its column of the weight matrix.
    intercept : ndarray of shape (K,)
        Its starting intercept.
    """

    settings: dict
    weights: int
    intercept: np.ndarray


def new_stack(groups, n_features, dtype, initial_accumulator_value, average):
    """An engine whose outputs are the ``groups``' outputs side by side."""
    n_outputs = len(groups[0].intercept)
    first = groups[0].settings

    def per_output(values):
        return np.repeat(np.asarray(values, dtype=np.float64), n_outputs).astype(dtype)

    engine = SparseAdagrad(
        n_features,
        len(groups) * n_outputs,
        loss=StackedLoss(first["loss"], n_outputs),
        schedule=Schedule(
            per_output([g.settings["schedule"].lr for g in groups]),
            first["schedule"].lr_decay,
        ),
        penalty=ElasticNet(
            per_output([g.settings["penalty"].l1 for g in groups]),
            per_output([g.settings["penalty"].l2 for g in groups]),
        ),
        eps=per_output([g.settings["eps"] for g in groups]),
        fit_intercept=first["fit_intercept"],
        # Its first epoch writes the row of every feature the data holds (and
        # the memory check counted every row).
        policy=replace(first["policy"], map_state_at_once=True),
        initial_accumulator_value=initial_accumulator_value,
        average_from_sample=average,
        dtype=dtype,
    )
    engine.start_from(intercept=np.concatenate([g.intercept for g in groups]))
    return engine


def keep_groups(engine, keep):
    """The engine of the groups at positions ``keep`` (sorted) only, the others'
    columns dropped: a new engine on the same state, whose arrays keep their
    columns in their own memory."""
    state = engine.state
    n_outputs = state.loss.n_group_outputs
    columns = (np.asarray(keep)[:, None] * n_outputs + np.arange(n_outputs)).ravel()
    for name in ("coef", "coef_accumulator", "coef_sum"):
        array = getattr(state, name)
        if array is not None:
            setattr(state, name, _keep_columns(array, columns, engine.policy))
    for name in ("intercept", "intercept_accumulator", "intercept_sum"):
        setattr(state, name, getattr(state, name)[columns])
    state.schedule = Schedule(state.schedule.lr[columns], state.schedule.lr_decay)
    state.penalty = ElasticNet(state.penalty.l1[columns], state.penalty.l2[columns])
    state.eps = state.eps[columns]
    return engine.narrowed()


def _keep_columns(array, columns, policy):
    """``array[:, columns]`` for a C-ordered 2-d ``array``, written over the
    array's own memory and returned as a view of it: a stack-sized array the
    system would map afresh costs more than the copy. Blocks of rows go in
    order, each gathered before it is written, and a block's new place ends
    before the next block's old rows begin."""
    n_rows = array.shape[0]
    flat = array.reshape(-1)
    for rows in policy.row_blocks(array.shape):
        kept = np.take(array[rows], columns, axis=1)
        start = rows.start * len(columns)
        flat[start : start + kept.size] = kept.reshape(-1)
    return flat[: n_rows * len(columns)].reshape(n_rows, len(columns))


class StackDiverged(Exception):
    """Some of the stack's models diverged: ``groups`` (indices into the
    groups trained) hold non-finite values. The stack's other models are left
    mid-step and must be trained again without them."""

    def __init__(self, groups):
        super().__init__(f"models {groups} diverged")
        self.groups = groups


def _non_finite_groups(engine, X, Y):
    """Positions of the groups with a non-finite weight, accumulator or
    intercept, or a non-finite loss on a row of ``X`` (targets ``Y``): full
    scans, for a failed step only (a step checks its loss before it writes)."""
    n_outputs = engine.state.loss.n_group_outputs
    finite = np.isfinite(engine.intercept) & np.isfinite(engine.intercept_accumulator)
    for name in ("coef", "coef_accumulator"):
        finite &= np.isfinite(getattr(engine, name)).all(axis=0)
    finite = finite.reshape(-1, n_outputs).all(axis=1)
    if finite.all():
        with np.errstate(over="ignore", invalid="ignore"):
            for start in range(0, X.shape[0], _SCAN_ROWS):
                rows = slice(start, start + _SCAN_ROWS)
                values = engine.loss.value(Y[rows], engine.margins(X[rows]))
                finite &= np.isfinite(values).all(axis=0)
    return np.flatnonzero(~finite).tolist()


# Rows whose margins a divergence scan computes at once.
_SCAN_ROWS = 1024


@dataclass
class Finished:
    """A group's trained model, as the stack hands it over."""

    group: int
    coef: np.ndarray
    intercept: np.ndarray
    n_iter: int
    fit_time: float


def _finished(materialized, n_outputs, position, group, epoch, fit_time, copy):
    """The :class:`Finished` of the group at ``position`` of the stack whose
    ``(coef, intercept)`` are ``materialized``: its weights copies, or views
    with ``copy`` false."""
    coef, intercept = materialized
    columns = slice(position * n_outputs, (position + 1) * n_outputs)
    take = np.copy if copy else np.asarray
    return Finished(
        group, take(coef[:, columns]), take(intercept[columns]), epoch, fit_time
    )


def train(
    engine,
    groups,
    data,
    weights,
    run_pass,
    stopping,
    on_finished,
    verbose=0,
    checkpoint=None,
):
    """Train the stack ``engine`` of ``groups`` on ``data``, ``(X, Y)`` with
    ``Y`` the encoded targets, and ``weights`` of shape ``(n_samples,
    n_weight_columns)``, each group's :attr:`Group.weights` naming its column,
    epoch by epoch; ``run_pass(engine, weights, with_loss)`` makes one pass
    and returns the mean loss of each group. ``stopping`` is ``(tol, n_iter_no_change,
    max_iter)``, the plain estimator's. Each group that stops is given to
    ``on_finished`` as a :class:`Finished` (its weights brought up to date,
    averaged if the engine averages) and leaves the stack. Raises
    :class:`StackDiverged` naming the groups that diverge.

    ``checkpoint(epoch, models)``, when given, is called after the epochs
    :func:`~sk_adagrad._halving.is_checkpoint` names with a :class:`Finished`
    for every group still in the stack (its weights views of the stack's,
    valid during the call) and returns the groups to drop: they leave the
    stack as stopped groups do, without ``on_finished`` (the caller keeps
    what it needs of them)."""
    tol, n_iter_no_change, max_iter = stopping
    active = list(range(len(groups)))
    rules = [
        None if tol is None else NoImprovement(tol, n_iter_no_change, True)
        for _ in groups
    ]
    fit_time = np.zeros(len(groups))
    unconverged = 0
    n_outputs = engine.state.loss.n_group_outputs
    epoch_weights = weights[:, [groups[g].weights for g in active]]
    for epoch in range(1, max_iter + 1):
        start = time.perf_counter()
        try:
            losses = run_pass(engine, epoch_weights, tol is not None)
        except DivergenceError:
            diverged = _non_finite_groups(engine, *data)
            if not diverged:
                raise
            raise StackDiverged([active[position] for position in diverged]) from None
        # The models shared the pass: each is charged an equal part of it.
        fit_time[active] += (time.perf_counter() - start) / len(active)
        converged = [
            rules[group] is not None and rules[group].should_stop(losses[position])
            for position, group in enumerate(active)
        ]
        if epoch == max_iter and tol is not None:
            unconverged = converged.count(False)
        done = [
            position
            for position in range(len(active))
            if converged[position] or epoch == max_iter
        ]
        if verbose:
            print(
                f"-- Epoch {epoch}: {len(active)} models stepped, {len(done)} "
                f"stopped, time {time.perf_counter() - start:.3f} s"
            )
        judged = checkpoint is not None and is_checkpoint(epoch)
        if not done and not judged:
            continue
        if len(done) == len(active):
            # The engine steps no more: its final weights in its own memory.
            materialized = engine.final_weights()
        else:
            materialized = engine.materialize()
        for position in done:
            group = active[position]
            on_finished(
                _finished(
                    materialized,
                    n_outputs,
                    position,
                    group,
                    epoch,
                    fit_time[group],
                    True,
                )
            )
        leaving = set(done)
        running = [p for p in range(len(active)) if p not in leaving]
        if judged and running:
            models = [
                _finished(
                    materialized,
                    n_outputs,
                    p,
                    active[p],
                    epoch,
                    fit_time[active[p]],
                    False,
                )
                for p in running
            ]
            dropped = set(checkpoint(epoch, models))
            leaving |= {p for p in running if active[p] in dropped}
        if not leaving:
            continue
        keep = [position for position in range(len(active)) if position not in leaving]
        active = [active[position] for position in keep]
        if not active:
            break
        engine = keep_groups(engine, keep)
        epoch_weights = epoch_weights[:, keep]
    if unconverged:
        warnings.warn(
            f"Maximum number of epochs ({max_iter}) reached before convergence by "
            f"{unconverged} of the {len(groups)} models; consider raising max_iter.",
            ConvergenceWarning,
            # The user's call of the search's fit: fit, _train_stack, train.
            stacklevel=4,
        )
