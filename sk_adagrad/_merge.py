"""One model from several trained side by side from the same start: the merge
of a data-parallel epoch (:mod:`sk_adagrad.dask`).

What moves is rows: a partial model is sent as the rows its steps wrote
(:class:`ModelRows`), partial models are merged two at a time into summaries
of the rows either touched (:func:`combine`), and the last merge turns the
summary into the rows of the next epoch's model (:func:`finish`). A row no
partial model touched stays as it was, its penalty steps pending, as in
sequential training.
"""

import copy
import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from ._base import BaseAdagrad
from ._blocks import row_blocks
from ._line_search import best_step
from ._model_rows import ModelRows, no_rows, stored_rows
from ._rows import put_rows
from ._step_terms import denominator

MERGE_RULES = ("line_search", "weighted_average", "rescaled_sum")


@dataclass
class Summary:
    """What the merge needs of a set of partial models, at the rows any of them
    touched (ascending ``rows``) and the intercept (the arrays' last row).

    ``average`` is their weights averaged by the accumulator mass each added
    (``mass`` its sum; their plain mean where none added any), ``spread`` is
    ``sum_i (w_i - w0) h(G_i)`` with ``w0`` the start's weights and ``h(G) =
    sqrt(G) + eps``, both in float64. ``steps`` and ``samples`` list each
    model's step counter and samples seen, in order; ``small`` and
    ``attributes`` are those of the model with the most steps (the rate
    history through the last of them), to build the merged model from.
    """

    rows: np.ndarray
    average: np.ndarray
    mass: np.ndarray
    spread: np.ndarray
    steps: list
    samples: list
    small: dict
    attributes: dict

    @property
    def nbytes(self) -> int:
        return self.rows.nbytes + 3 * self.average.nbytes


@dataclass
class Start:
    """The model every partial model of an epoch started from: ``base`` (a
    model) with ``changes`` laid over it, read without changing ``base``."""

    base: BaseAdagrad
    changes: ModelRows
    # The rows last read (ascending), their stored fields, and their weights
    # and accumulators as :meth:`columns` gives them: what later reads of
    # some of those rows take instead of reading and catching up again.
    known: tuple | None = field(default=None, repr=False)

    @property
    def small(self) -> dict:
        return self.changes.small

    def prepare(self, rows) -> None:
        """Read ``rows`` (ascending) once for the :meth:`columns` that follow."""
        stored = stored_rows(self.base, self.changes, rows)
        weights, accumulators = self._columns(stored)
        self.known = (rows, stored, weights, accumulators)

    def columns(self, rows, steps=()):
        """``(weights, accumulators, weight_sum)`` at ``rows`` (ascending) with
        the intercept as a last row, in float64: the weights at the start's
        step, and their sum over the steps in ``steps``, each at that step
        (the penalty steps a model that did not touch the rows took on
        them)."""
        at = self._position(rows)
        if at is None:
            stored = stored_rows(self.base, self.changes, rows)
            weights, accumulators = self._columns(stored)
        else:
            _, known, known_weights, known_accumulators = self.known
            stored = {
                name: None if values is None else values[at]
                for name, values in known.items()
            }
            with_intercept = np.append(at, len(known_weights) - 1)
            weights = known_weights[with_intercept]
            accumulators = known_accumulators[with_intercept]
        weight_sum = np.zeros(accumulators.shape)
        for t in steps:
            weight_sum += self._weights(stored, t, _history_small(self, t))
        return weights, accumulators, weight_sum

    def _position(self, rows):
        """Where ``rows`` are among the rows read last, or None if not all
        are."""
        if self.known is None:
            return None
        known = self.known[0]
        at = np.searchsorted(known, rows)
        if len(known) == 0 or (at >= len(known)).any():
            return None if len(rows) else at
        return at if np.array_equal(known[at], rows) else None

    def _columns(self, stored):
        accumulators = _with_intercept(
            stored["coef_accumulator"], self.small["intercept_accumulator"]
        )
        return self._weights(stored, self.small["t"], self.small), accumulators

    def _weights(self, stored, t, small):
        return _with_intercept(
            self.base.optimizer_.rows_at_step(stored, t, small),
            self.small["intercept"],
        )


def _with_intercept(rows, intercept):
    """``rows`` with ``intercept`` as a last row, in a new float64 array."""
    out = np.empty((len(rows) + 1, len(intercept)))
    out[:-1] = rows
    out[-1] = intercept
    return out


def _history_small(start: Start, t: int) -> dict:
    """The start's small fields with its rate history carried on to step ``t``,
    as a partial model that reached step ``t`` from it has it."""
    small = dict(start.small)
    small["rate_history"] = _history_through(
        small["rate_history"], small["t"], small["schedule"], t
    )
    return small


def summarise(start: Start, partial: ModelRows) -> Summary:
    """The :class:`Summary` of one partial model, given as the rows it touched."""
    stored = partial.values
    t = partial.small["t"]
    weights = _with_intercept(
        start.base.optimizer_.rows_at_step(stored, t, partial.small),
        partial.small["intercept"],
    )
    accumulators = _with_intercept(
        stored["coef_accumulator"], partial.small["intercept_accumulator"]
    )
    start_weights, start_accumulators, _ = start.columns(partial.rows)
    spread = np.subtract(weights, start_weights, out=start_weights)
    spread *= denominator(accumulators, partial.small["eps"])
    mass = np.subtract(accumulators, start_accumulators, out=accumulators)
    return Summary(
        rows=partial.rows,
        average=weights,
        mass=mass,
        spread=spread,
        steps=[t],
        samples=[partial.small["samples_seen"]],
        small=partial.small,
        attributes=partial.attributes,
    )


def _widened(start: Start, part, rows: np.ndarray) -> Summary:
    """``part`` (a :class:`Summary` or :class:`ModelRows`) at ``rows``, a
    superset of its rows: its models did not touch the rows it lacks, which
    took only their penalty steps there."""
    if isinstance(part, ModelRows):
        part = summarise(start, part)
    if len(part.rows) == len(rows):
        return part
    at = np.append(np.searchsorted(rows, part.rows), len(rows))
    missing = np.setdiff1d(rows, part.rows, assume_unique=True)
    start_weights, start_accumulators, weight_sum = start.columns(
        missing, steps=part.steps
    )
    n_models = len(part.steps)
    shape = (len(rows) + 1, part.average.shape[1])
    average, mass, spread = np.empty(shape), np.zeros(shape), np.empty(shape)
    for widened, values in ((average, part.average), (mass, part.mass)):
        put_rows(widened, at, values)
    put_rows(spread, at, part.spread)
    new = np.searchsorted(rows, missing)
    weight_sum = weight_sum[:-1]
    put_rows(average, new, weight_sum / n_models)
    weight_sum -= n_models * start_weights[:-1]
    weight_sum *= denominator(start_accumulators[:-1], part.small["eps"])
    put_rows(spread, new, weight_sum)
    return dataclasses.replace(
        part, rows=rows, average=average, mass=mass, spread=spread
    )


def combine(start: Start, left, right) -> Summary:
    """The :class:`Summary` of the partial models of ``left`` and ``right``
    (each a summary or one partial model's rows), in that order."""
    rows = np.union1d(left.rows, right.rows)
    start.prepare(rows)
    left, right = _widened(start, left, rows), _widened(start, right, rows)
    n_left, n_right = len(left.steps), len(right.steps)
    shape = left.average.shape
    average, mass, spread = np.empty(shape), np.empty(shape), np.empty(shape)
    # A block of rows at a time, so that the temporaries stay in cache.
    for block in row_blocks(shape):
        left_mass, right_mass = left.mass[block], right.mass[block]
        summed = np.add(left_mass, right_mass, out=mass[block])
        untouched = summed == 0.0
        divisor = np.where(untouched, 1.0, summed)
        # Shares before products, so that a coordinate only one side's models
        # touched gets exactly that side's average (shares 1 and 0).
        left_share = np.divide(left_mass, divisor)
        left_share[untouched] = n_left / (n_left + n_right)
        right_share = np.divide(right_mass, divisor)
        right_share[untouched] = n_right / (n_left + n_right)
        out = np.multiply(left_share, left.average[block], out=average[block])
        right_share *= right.average[block]
        out += right_share
        np.add(left.spread[block], right.spread[block], out=spread[block])
    later = left if max(left.steps) >= max(right.steps) else right
    return Summary(
        rows=rows,
        average=average,
        mass=mass,
        spread=spread,
        steps=left.steps + right.steps,
        samples=left.samples + right.samples,
        small=later.small,
        attributes=later.attributes,
    )


def pairwise(parts: list, merge_two: Callable) -> object:
    """``parts`` merged two at a time, neighbours first, in rounds
    (``((p0 p1) (p2 p3)) p4``): the tree every merge of partial models takes,
    in memory or on a cluster."""
    parts = list(parts)
    while len(parts) > 1:
        merged = [
            merge_two(a, b) for a, b in zip(parts[::2], parts[1::2], strict=False)
        ]
        parts = merged + parts[len(merged) * 2 :]
    return parts[0]


def finish(start: Start, summary, rule: str, X=None, y=None, sample_weight=None):
    """The :class:`ModelRows` of the merged model: the rows the partial models
    of ``summary`` touched, merged by ``rule`` (line search on ``X, y``), and
    the merged small state. One partial model's rows are returned as they are,
    so that one worker is sequential training."""
    if isinstance(summary, ModelRows):
        return summary
    t0, samples0 = start.small["t"], start.small["samples_seen"]
    t = t0 + sum(step - t0 for step in summary.steps)
    merged_small = _merged_small(start, summary.small, t, samples0, summary)
    start_weights, start_accumulators, _ = start.columns(summary.rows)
    dtype = start.base.optimizer_.dtype
    accumulators = (start_accumulators + summary.mass).astype(dtype)
    weights = summary.average
    if rule != "weighted_average":
        summed = start_weights + summary.spread / denominator(
            accumulators, merged_small["eps"]
        )
        if rule == "rescaled_sum":
            weights = summed
        else:
            direction = summed - weights
            step = best_step(
                start,
                merged_small,
                summary.rows,
                weights,
                direction,
                X,
                y,
                sample_weight,
            )
            weights = weights + step * direction
    weights = weights.astype(dtype)
    merged_small["intercept"] = weights[-1].copy()
    merged_small["intercept_accumulator"] = accumulators[-1].copy()
    values = {
        "coef": weights[:-1],
        "coef_accumulator": accumulators[:-1],
        "last_step": np.full(len(summary.rows), t, dtype=np.int64),
        "coef_sum": None,
    }
    return ModelRows(summary.rows, values, merged_small, summary.attributes)


def _merged_small(start, small, t, samples0, summary):
    merged = dict(small)
    merged["t"] = t
    merged["samples_seen"] = samples0 + sum(s - samples0 for s in summary.samples)
    merged["rate_history"] = _history_through(
        start.small["rate_history"], start.small["t"], small["schedule"], t
    )
    return merged


def check_partials(start: BaseAdagrad, partials: Sequence[BaseAdagrad]) -> None:
    """Refuse partial models that cannot be merged, with the reason."""
    if not partials:
        raise ValueError("There are no partial models to merge.")
    if any(int(partial.average) for partial in partials):
        raise ValueError(
            "Partial models with average set cannot be merged: the running "
            "average of each model's iterates has no meaningful merge. Set "
            "average=False."
        )
    shapes = {partial.optimizer_.coef.shape for partial in partials}
    if len(shapes) != 1:
        raise ValueError(
            f"The partial models have different shapes {sorted(shapes)}: they "
            "were not trained from the same model on the same features."
        )
    if not start.__sklearn_is_fitted__():
        raise ValueError(
            "The start model is not fitted: partial models must start from the "
            "same fitted model (fit it on some data first), whose intercept and "
            "'auto' parameters they then share."
        )


def merge_partial_models(
    start: BaseAdagrad,
    partials: Sequence[BaseAdagrad],
    rule: str = "weighted_average",
    X=None,
    y=None,
    sample_weight=None,
) -> BaseAdagrad:
    """The merge of ``partials``, each a fitted estimator trained from ``start``.

    Parameters
    ----------
    start : AdagradClassifier or AdagradRegressor
        The fitted model every partial model started from.
    partials : list of AdagradClassifier or AdagradRegressor
        The partial models, fitted. They are not modified.
    rule : {"line_search", "weighted_average", "rescaled_sum"}, \
            default="weighted_average"
        How the weights are merged (see Notes).
    X : {array-like, sparse matrix} of shape (n_samples, n_features), default=None
        Training rows on which ``"line_search"`` measures the objective.
    y : array-like of shape (n_samples,), default=None
        Their labels or targets.
    sample_weight : array-like of shape (n_samples,), default=None
        Their weights.

    Returns
    -------
    estimator : AdagradClassifier or AdagradRegressor
        A new fitted estimator (the partial model itself when there is one).

    Notes
    -----
    Partial model ``i`` started from the model ``start`` (weights ``w0``,
    accumulators ``G0``, step counter ``t0``) and ran ``partial_fit`` over its
    own data, ending with weights ``w_i`` and accumulators ``G_i``, having
    added ``d_i = G_i - G0`` to each coordinate's accumulator. Per coordinate
    (each weight and each intercept) of the features any partial model
    touched, with ``h(G) = sqrt(G) + eps``::

        G = G0 + sum_i d_i
        t = t0 + sum_i (t_i - t0)

        weighted_average: w = sum_i d_i w_i / sum_i d_i  (the mean where all d_i = 0)
        rescaled_sum:     w = w0 + sum_i (w_i - w0) h(G_i) / h(G)
        line_search:      w = w_avg + s (w_sum - w_avg)

    where ``w_avg`` and ``w_sum`` are the weighted average's and the rescaled
    sum's weights (the intercepts alike), and ``s`` is the one among 0, 0.25,
    ..., 1.5 that gives the least training objective (mean loss plus penalty)
    on ``X, y``. A feature no partial model touched keeps its weights and its
    pending penalty steps, which it takes up to the merged step ``t`` when
    next read, as in sequential training; a model that did not touch a
    feature others did contributes its start weights brought up to its own
    step ``t_i``.

    The partial models are merged two at a time, neighbours first
    (``((p0 p1) (p2 p3)) p4``), each merge keeping what the next needs (the
    mass-weighted average, the summed mass and ``sum_i (w_i - w0) h(G_i)``):
    the rules above, up to the rounding of the order of the sums.

    Summing the accumulators gives the next epoch the step sizes of a model
    that has taken all the gradients, and the step counter ``t_`` counts every
    mini-batch of every model, as sequential training over the same data
    would; the step sizes of later epochs under ``lr_decay`` follow from it.

    ``weighted_average`` is Vowpal Wabbit's AllReduce averaging for adaptive
    updates, with the accumulator mass each model added as its weight: a
    coordinate only one model touched gets that model's weight exactly, and
    where the models agree (as near a minimum) the average is where they
    agree. But an average of models each trained on ``1 / n_models`` of the
    data makes less progress per epoch than sequential training far from the
    minimum (docs/data_parallel.rst measures both rules).

    ``rescaled_sum`` adds up the models' updates, each rescaled as if its
    Adagrad steps had been divided by the merged accumulator rather than by
    its own (model ``i``'s steps on a coordinate were about ``h(G) / h(G_i)``
    times those sequential training would take at the end of the epoch). For
    many small steps in agreeing directions, far from the minimum, it moves
    about as far as sequential training, where a plain sum overshoots by up to
    ``sqrt(n_models)``. Near a minimum it overshoots: models that each reach
    the minimum within an epoch add up their identical updates (scaled by
    ``h(G_i) / h(G)``, which tends to 1 as the accumulators grow). A
    coordinate only one model touched gets that model's update (times 1 up to
    rounding) plus the other models' penalty steps on it, as sequential
    training applies the penalty at every step.

    ``line_search`` lets training data choose between the two, and points
    between and a little beyond them: the weighted average trails sequential
    training far from the minimum, the rescaled sum overshoots near it, and
    the objective on training rows tells which is happening. The objective
    is convex along the line, so a few thousand rows place its minimum well
    enough.

    With one partial model the merge is that model itself, so that one worker
    is sequential ``partial_fit``. Models with ``average`` set are refused: a
    running average of iterates has no meaningful merge.
    """
    if rule not in MERGE_RULES:
        raise ValueError(f"rule must be one of {MERGE_RULES}; got {rule!r}.")
    check_partials(start, partials)
    if len(partials) == 1:
        return partials[0]
    if rule == "line_search" and (X is None or y is None):
        raise ValueError("rule 'line_search' needs training rows X and y.")
    origin = Start(start, no_rows(start))
    t0 = start.optimizer_.t
    touched = [
        ModelRows.of(partial, partial.optimizer_.rows_touched_since(t0))
        for partial in partials
    ]
    summary = pairwise(touched, lambda a, b: combine(origin, a, b))
    merged = copy.deepcopy(start)
    finish(origin, summary, rule, X, y, sample_weight).lay_over(merged)
    return merged


def _history_through(history, t0, schedule, t):
    """The sums of the rates of steps 1..t: ``history``'s through step ``t0``,
    then ``schedule``'s rates, as sequential training would have them."""
    history = copy.deepcopy(history)
    for step in range(t0 + 1, t + 1):
        history.append(schedule.rate(step))
    return history
