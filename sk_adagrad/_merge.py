"""One model from several trained side by side from the same start: the merge
of a data-parallel epoch (:mod:`sk_adagrad.dask`)."""

import copy
from collections.abc import Sequence

import numpy as np

from ._base import BaseAdagrad
from ._engine import RateHistory, _row_blocks


def merge_partial_models(
    start: BaseAdagrad, partials: Sequence[BaseAdagrad]
) -> BaseAdagrad:
    """The merge of ``partials``, each a fitted estimator trained from ``start``.

    Parameters
    ----------
    start : AdagradClassifier or AdagradRegressor
        The model every partial model started from; unfitted for a first
        epoch, whose models start from zero weights.
    partials : list of AdagradClassifier or AdagradRegressor
        The partial models, fitted. They are not modified.

    Returns
    -------
    estimator : AdagradClassifier or AdagradRegressor
        A new fitted estimator (the partial model itself when there is one).

    Notes
    -----
    Partial model ``i`` started from the model ``start`` (accumulators ``G0``,
    step counter ``t0``) and ran ``partial_fit`` over its own data, adding
    ``d_i = G_i - G0`` to each coordinate's accumulator. The merge, per
    coordinate (each weight and each intercept)::

        w = sum_i d_i w_i / sum_i d_i        (the plain mean where no d_i > 0)
        G = G0 + sum_i d_i
        t = t0 + sum_i (t_i - t0)

    Each weight is averaged with the accumulator mass each model added to it:
    a model that took larger (squared) gradients on a coordinate saw more
    evidence about it. This is the weighting Vowpal Wabbit's AllReduce uses for
    adaptive updates. Summing the accumulators gives the next epoch the step
    sizes of a model that has taken all the gradients, and the step counter
    ``t_`` counts every mini-batch of every model, as sequential training over
    the same data would; the step sizes of later epochs under ``lr_decay``
    follow from it.

    Each partial model's pending (lazy) penalty steps are applied before its
    weights are read, and the merged model has none pending. A coordinate only
    one model touched gets that model's weight exactly; with one partial model
    the merge is that model itself, so that one worker is sequential
    ``partial_fit``. Models with ``average`` set are refused: a running average
    of iterates has no meaningful merge.
    """
    if not partials:
        raise ValueError("There are no partial models to merge.")
    if len(partials) == 1:
        return partials[0]
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
    if start.__sklearn_is_fitted__():
        origin = start.optimizer_
        t0, samples0, history = origin.t, origin.samples_seen, origin.rate_history
        start_G, start_intercept_G = (
            origin.coef_accumulator,
            origin.intercept_accumulator,
        )
    else:
        # A first epoch: every partial model started from a fresh engine.
        t0, samples0, history = 0, 0, RateHistory()
        initial = float(partials[0].initial_accumulator_value)
        start_G = np.broadcast_to(initial, (n_features, n_outputs))
        start_intercept_G = np.full(n_outputs, initial)

    # The arrays the merge replaces are not copied.
    reference = engines[0]
    replaced = (reference.coef, reference.coef_accumulator, reference.last_step)
    merged = copy.deepcopy(partials[0], memo={id(array): None for array in replaced})
    engine = merged.optimizer_
    engine.coef = np.empty((n_features, n_outputs))
    engine.coef_accumulator = np.empty((n_features, n_outputs))
    # A block of rows at a time, so that the temporaries stay in cache.
    for rows in _row_blocks((n_features, n_outputs)):
        _weighted_merge(
            [e._weights_at_now(rows) for e in engines],
            [e.coef_accumulator[rows] for e in engines],
            start_G[rows],
            out=(engine.coef[rows], engine.coef_accumulator[rows]),
        )
    engine.intercept = np.empty(n_outputs)
    engine.intercept_accumulator = np.empty(n_outputs)
    _weighted_merge(
        [e.intercept for e in engines],
        [e.intercept_accumulator for e in engines],
        start_intercept_G,
        out=(engine.intercept, engine.intercept_accumulator),
    )
    engine.t = t0 + sum(e.t - t0 for e in engines)
    engine.samples_seen = samples0 + sum(e.samples_seen - samples0 for e in engines)
    engine.last_step = np.full(n_features, engine.t, dtype=np.int64)
    engine.rate_history = _history_through(history, t0, reference.schedule, engine.t)
    engine._materialized = None
    return merged


def _weighted_merge(weights, accumulators, start_accumulator, out):
    """Write into ``out`` the weights averaged by the accumulator mass each
    model added, and the start accumulator plus the added masses."""
    merged_weights, merged_accumulator = out
    added = [accumulator - start_accumulator for accumulator in accumulators]
    mass = added[0].copy()
    for delta in added[1:]:
        mass += delta
    untouched = mass == 0.0
    divisor = np.where(untouched, 1.0, mass)
    merged_weights[...] = 0.0
    for weight, delta in zip(weights, added, strict=True):
        # The share is formed before multiplying, so that a coordinate only one
        # model touched gets exactly that model's weight (share 1, others 0).
        share = np.where(untouched, 1.0 / len(weights), delta / divisor)
        share *= weight
        merged_weights += share
    np.add(start_accumulator, mass, out=merged_accumulator)


def _history_through(history, t0, schedule, t):
    """The sums of the rates of steps 1..t: ``history``'s through step ``t0``,
    then ``schedule``'s rates, as sequential training would have them."""
    history = copy.deepcopy(history)
    for step in range(t0 + 1, t + 1):
        history.append(schedule.rate(step))
    return history
