"""A step on the nonzero entries of the gradient only.

Without a penalty and before averaging begins, a (feature, output) entry whose
gradient is zero keeps its weight and its accumulator to the bit (``G += 0``,
``w -= 0``, no proximal step): stepping the others alone gives the same model.
The margin losses (hinge and its kin) have a zero gradient for every row beyond
the margin, so on text a few percent of the active entries move per step, and
the step then costs what its gradient is. With a penalty every active entry
moves (its proximal step), so the engine steps whole rows.
"""

import numpy as np

from ._step_terms import all_finite, denominator

# The share of nonzero loss derivatives below which a step goes by entries:
# finding and scattering the entries costs more than whole rows once many are
# nonzero (the logistic loss's derivatives never are zero).
SPARSE_DERIVATIVES = 0.125


def steps_by_entries(engine, dZ) -> bool:
    """Whether a step of ``engine`` whose loss derivatives are ``dZ`` goes by
    entries: without a penalty, before averaging, on sparse derivatives."""
    return (
        engine.penalty.is_zero
        and engine.average_start is None
        and np.count_nonzero(dZ) <= SPARSE_DERIVATIVES * dZ.size
    )


def step_entries(engine, path, shard, grad, rate):
    """Step a gathered shard's entries where ``grad`` is nonzero and, if they
    are all finite, write them back through ``path``; return whether they
    were."""
    entries, weights, accumulators = update_entries(
        shard.W, shard.G, grad, rate, engine.eps
    )
    finite = all_finite(weights, accumulators)
    if finite:
        path.write_entries(engine, shard.columns, entries, weights, accumulators)
    return finite


def update_entries(W, G, grad, rate, eps):
    """Torch's Adagrad step on the entries of ``W`` and ``G`` (C-ordered
    ``(n_rows, n_outputs)`` arrays, in place) where ``grad`` is nonzero, with
    the arithmetic of a whole-row step; ``rate`` and ``eps`` are numbers or one
    per output. Returns the flat positions of those entries and their new
    weights and accumulators."""
    entries = np.flatnonzero(grad)
    outputs = entries % W.shape[1]

    def per_entry(value):
        return value[outputs] if isinstance(value, np.ndarray) else value

    gradient = grad.reshape(-1)[entries]
    accumulators = G.reshape(-1)[entries]
    step_size = np.square(gradient)
    accumulators += step_size
    denominator(accumulators, per_entry(eps), out=step_size)
    np.divide(per_entry(rate), step_size, out=step_size)
    gradient *= step_size
    weights = W.reshape(-1)[entries]
    weights -= gradient
    W.reshape(-1)[entries] = weights
    G.reshape(-1)[entries] = accumulators
    return entries, weights, accumulators
