"""One model from several trained side by side from the same start: the merge
of a data-parallel epoch (:mod:`sk_adagrad.dask`)."""

import copy
from collections.abc import Sequence

import numpy as np

from ._base import BaseAdagrad, training_objective
from ._engine import _denominator, _row_blocks
from ._sklearn_private import check_sample_weight

MERGE_RULES = ("line_search", "weighted_average", "rescaled_sum")
# The points of the line from the weighted average (0) through the rescaled sum
# (1) that "line_search" compares.
LINE_STEPS = np.arange(7) / 4


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
    (each weight and each intercept), with ``h(G) = sqrt(G) + eps``::

        G = G0 + sum_i d_i
        t = t0 + sum_i (t_i - t0)

        weighted_average: w = sum_i d_i w_i / sum_i d_i  (the mean where all d_i = 0)
        rescaled_sum:     w = w0 + sum_i (w_i - w0) h(G_i) / h(G)
        line_search:      w = w_avg + s (w_sum - w_avg)

    where ``w_avg`` and ``w_sum`` are the weighted average's and the rescaled
    sum's weights (the intercepts alike), and ``s`` is the one among 0, 0.25,
    ..., 1.5 that gives the least training objective (mean loss plus penalty)
    on ``X, y``.

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
    minimum (docs/scaling.rst measures both rules).

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

    Each partial model's pending (lazy) penalty steps are applied before its
    weights are read, and the merged model has none pending. With one partial
    model the merge is that model itself, so that one worker is sequential
    ``partial_fit``. Models with ``average`` set are refused: a running
    average of iterates has no meaningful merge.
    """
    if rule not in MERGE_RULES:
        raise ValueError(f"rule must be one of {MERGE_RULES}; got {rule!r}.")
    if not partials:
        raise ValueError("There are no partial models to merge.")
    if len(partials) == 1:
        return partials[0]
    if rule == "line_search" and (X is None or y is None):
        raise ValueError("rule 'line_search' needs training rows X and y.")
    if any(int(partial.average) for partial in partials):
        raise ValueError(
            "Partial models with average set cannot be merged: the running "
            "average of each model's iterates has no meaningful merge. Set "
            "average=False."
        )
    engines = [partial.optimizer_ for partial in partials]
    shapes = {engine.coef.shape for engine in engines}
    if len(shapes) != 1:
        raise ValueError(
            f"The partial models have different shapes {sorted(shapes)}: they "
            "were not trained from the same model on the same features."
        )
    n_features, n_outputs = shapes.pop()
    if not start.__sklearn_is_fitted__():
        raise ValueError(
            "The start model is not fitted: partial models must start from the "
            "same fitted model (fit it on some data first), whose intercept and "
            "'auto' parameters they then share."
        )
    origin = start.optimizer_
    t0, samples0, history = origin.t, origin.samples_seen, origin.rate_history
    start_G, start_intercept_G = origin.coef_accumulator, origin.intercept_accumulator
    start_weights, start_intercept = origin._weights_at_now, origin.intercept
    merge = _rescaled_sum if rule == "rescaled_sum" else _weighted_average
    eps = engines[0].eps
    searching = rule == "line_search"

    # The arrays the merge replaces are not copied.
    reference = engines[0]
    replaced = (reference.coef, reference.coef_accumulator, reference.last_step)
    merged = copy.deepcopy(partials[0], memo={id(array): None for array in replaced})
    engine = merged.optimizer_
    # The merged state keeps the models' floating type.
    dtype = reference.dtype
    engine.coef = np.empty((n_features, n_outputs), dtype)
    engine.coef_accumulator = np.empty((n_features, n_outputs), dtype)
    # The line search goes from the weighted average towards the rescaled sum.
    direction = np.empty((n_features, n_outputs)) if searching else None
    # A block of rows at a time, so that the temporaries stay in cache.
    for rows in _row_blocks((n_features, n_outputs)):
        inputs = (
            [e._weights_at_now(rows) for e in engines],
            [e.coef_accumulator[rows] for e in engines],
            start_weights(rows),
            start_G[rows],
            eps,
        )
        merge(*inputs, out=(engine.coef[rows], engine.coef_accumulator[rows]))
        if searching:
            summed_G = np.empty_like(engine.coef_accumulator[rows])
            _rescaled_sum(*inputs, out=(direction[rows], summed_G))
            direction[rows] -= engine.coef[rows]
    engine.intercept = np.empty(n_outputs, dtype)
    engine.intercept_accumulator = np.empty(n_outputs, dtype)
    intercept_inputs = (
        [e.intercept for e in engines],
        [e.intercept_accumulator for e in engines],
        start_intercept,
        start_intercept_G,
        eps,
    )
    merge(*intercept_inputs, out=(engine.intercept, engine.intercept_accumulator))
    engine.t = t0 + sum(e.t - t0 for e in engines)
    engine.samples_seen = samples0 + sum(e.samples_seen - samples0 for e in engines)
    engine.last_step = np.full(n_features, engine.t, dtype=np.int64)
    engine.rate_history = _history_through(history, t0, reference.schedule, engine.t)
    engine._materialized = None
    if searching:
        intercept_direction = np.empty(n_outputs)
        _rescaled_sum(*intercept_inputs, out=(intercept_direction, np.empty(n_outputs)))
        intercept_direction -= engine.intercept
        _search_line(merged, direction, intercept_direction, X, y, sample_weight)
    return merged


def _search_line(merged, direction, intercept_direction, X, y, sample_weight):
    """Move ``merged`` (a merge without pending penalty steps) to the point
    ``merged + s direction`` (intercepts alike), ``s`` in ``LINE_STEPS``, of least
    training objective on ``X, y``."""
    X = merged._validate_X(X, reset=False)
    sample_weight = check_sample_weight(sample_weight, X, dtype=np.float64)
    targets, sample_weight = merged._prepare_y(
        y, sample_weight, reset=False, partial=True
    )
    Y = merged._encode_targets(targets)
    engine = merged.optimizer_
    # The margins are affine in s; the penalty is summed a block of rows at a
    # time, each block read once.
    margins = engine.margins(X)
    margins_direction = np.asarray(X @ direction) + intercept_direction
    penalties = np.zeros(len(LINE_STEPS))
    if not engine.penalty.is_zero:
        for rows in _row_blocks(direction.shape):
            penalties += engine.penalty.values_along(
                engine.coef[rows], direction[rows], LINE_STEPS
            )
    with np.errstate(over="ignore", invalid="ignore"):
        objectives = np.array(
            [
                training_objective(
                    engine.loss,
                    Y,
                    margins + step * margins_direction,
                    sample_weight,
                    penalty,
                )
                for step, penalty in zip(LINE_STEPS, penalties, strict=True)
            ]
        )
    # An overflow far along the line is never the least; the average is kept
    # if every point overflows.
    step = LINE_STEPS[np.argmin(np.where(np.isfinite(objectives), objectives, np.inf))]
    if step == 0.0:
        return
    for rows in _row_blocks(direction.shape):
        block = engine.coef[rows]
        block += step * direction[rows]
    engine.intercept += step * intercept_direction


def _rescaled_sum(weights, accumulators, start_weights, start_G, eps, out):
    """Write into ``out`` the start weights plus the models' updates, each
    rescaled to the merged accumulator, and the merged accumulator."""
    merged_weights, merged_G = out
    np.add(start_G, _added_mass(accumulators, start_G), out=merged_G)
    merged_h = _denominator(merged_G, eps)
    merged_weights[...] = start_weights
    for weight, G in zip(weights, accumulators, strict=True):
        update = weight - start_weights
        update *= _denominator(G, eps)
        update /= merged_h
        merged_weights += update


def _weighted_average(weights, accumulators, start_weights, start_G, eps, out):
    """Write into ``out`` the weights averaged by the accumulator mass each
    model added, and the merged accumulator."""
    merged_weights, merged_G = out
    mass = _added_mass(accumulators, start_G)
    np.add(start_G, mass, out=merged_G)
    untouched = mass == 0.0
    divisor = np.where(untouched, 1.0, mass)
    merged_weights[...] = 0.0
    for weight, G in zip(weights, accumulators, strict=True):
        # The share is formed before multiplying, so that a coordinate only one
        # model touched gets exactly that model's weight (share 1, others 0).
        share = np.where(untouched, 1.0 / len(weights), (G - start_G) / divisor)
        share *= weight
        merged_weights += share


def _added_mass(accumulators, start_G):
    """``sum_i (G_i - start_G)``: exactly ``G_i - start_G`` where only model
    ``i`` added any."""
    mass = np.zeros(np.shape(start_G))
    for G in accumulators:
        mass += G - start_G
    return mass


def _history_through(history, t0, schedule, t):
    """The sums of the rates of steps 1..t: ``history``'s through step ``t0``,
    then ``schedule``'s rates, as sequential training would have them."""
    history = copy.deepcopy(history)
    for step in range(t0 + 1, t + 1):
        history.append(schedule.rate(step))
    return history
