"""One model from several trained side by side from the same start: the merge
of a data-parallel epoch (:mod:`sk_adagrad.dask`)."""

import copy
from collections.abc import Sequence

import numpy as np

from ._base import BaseAdagrad
from ._engine import RateHistory


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
    reference = engines[0]
    origin = (
        start.optimizer_
        if start.__sklearn_is_fitted__()
        else partials[0]._new_optimizer(*reference.coef.shape)
    )

    merged = copy.deepcopy(partials[0])
    engine = merged.optimizer_
    engine.coef, engine.coef_accumulator = _weighted_merge(
        [e._weights_at_now(slice(None)) for e in engines],
        [e.coef_accumulator for e in engines],
        origin.coef_accumulator,
    )
    engine.intercept, engine.intercept_accumulator = _weighted_merge(
        [e.intercept for e in engines],
        [e.intercept_accumulator for e in engines],
        origin.intercept_accumulator,
    )
    engine.t = origin.t + sum(e.t - origin.t for e in engines)
    engine.samples_seen = origin.samples_seen + sum(
        e.samples_seen - origin.samples_seen for e in engines
    )
    engine.last_step[:] = engine.t
    engine.rate_history = _history_through(origin, reference.schedule, engine.t)
    engine._materialized = None
    return merged


def _weighted_merge(weights, accumulators, start_accumulator):
    """``(weights averaged by added accumulator mass, summed accumulator)``."""
    added = [accumulator - start_accumulator for accumulator in accumulators]
    mass = np.zeros_like(start_accumulator)
    for delta in added:
        mass += delta
    untouched = mass == 0.0
    divisor = np.where(untouched, 1.0, mass)
    merged = np.zeros_like(start_accumulator)
    for weight, delta in zip(weights, added, strict=True):
        # The share is formed before multiplying, so that a coordinate only one
        # model touched gets exactly that model's weight (share 1, others 0).
        share = np.where(untouched, 1.0 / len(weights), delta / divisor)
        merged += weight * share
    return merged, start_accumulator + mass


def _history_through(origin, schedule, t):
    """The sums of the rates of steps 1..t: ``origin``'s, then ``schedule``'s
    rates for the steps after it, as sequential training would have them."""
    history = RateHistory.__new__(RateHistory)
    history.__setstate__(origin.rate_history.__getstate__())
    for step in range(origin.t + 1, t + 1):
        history.append(schedule.rate(step))
    return history
