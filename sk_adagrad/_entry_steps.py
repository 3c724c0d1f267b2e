"""Steps on the nonzero entries of the gradient.

A (feature, output) entry whose gradient is zero keeps its accumulator to the
bit (``G += 0``), and its Adagrad step leaves its weight as it is (``w -= 0``).
The margin losses (hinge and its kin) have a zero gradient for every row beyond
the margin, so on text a few percent of the active entries have a gradient.

- Without a penalty and before averaging begins, nothing else moves an entry:
  stepping those entries alone gives the same model, and the step costs what
  its gradient is (:func:`step_entries`).
- With a penalty every active entry takes its proximal step, so whole rows are
  stepped and their weights written back; but only the entries with a
  gradient take the Adagrad step, and only their accumulators are written
  back (:func:`step_rows_on_entries`), to the bit what a whole-row step gives.

Either way the gradient's nonzero entries of a sparse batch and several
outputs come from a product of sparse matrices (:func:`gradient_entries`),
which finds them in proportion to the work, where a dense product would be
scanned for them. The engine's step policy says when a step goes by entries
(``StepPolicy.steps_on_entries``).
"""

import numpy as np
import scipy.sparse as sp

from ._step_terms import all_finite, per_entry, step_sizes


def steps_by_entries(engine, sparse_gradient) -> bool:
    """Whether a step of ``engine`` whose gradient is sparse or not
    (``sparse_gradient``) goes by entries alone: without a penalty, before
    averaging, on a sparse gradient."""
    return sparse_gradient and engine.penalty.is_zero and engine.average_start is None


def gradient_entries(block, dZ):
    """The gradient ``block.T @ dZ`` of a shard, as ``(entries, values)``: the
    flat positions of its nonzero entries in the shard's ``(n_rows,
    n_outputs)`` rows, grouped by row in increasing order, and their values,
    each summed over the batch's rows in the order the dense product sums it
    (a dense ``block``'s product is BLAS's, whose sums a sparse product would
    not repeat to the bit: it is scanned instead, as is a gradient of one
    output, a vector as long as the active features that costs less to scan
    than SciPy's sparse product costs to call)."""
    if not sp.issparse(block) or dZ.shape[1] == 1:
        grad = block.T @ dZ
        entries = np.flatnonzero(grad)
        return entries, grad.reshape(-1)[entries]
    product = sp.csr_array(block.T) @ sp.csr_array(dZ)
    rows = np.repeat(np.arange(product.shape[0]), np.diff(product.indptr))
    entries = rows * dZ.shape[1]
    entries += product.indices
    return entries, product.data


def step_entries(engine, path, shard, index, entries, gradient, rate):
    """Step a gathered shard's entries ``entries`` (flat positions in its
    rows), whose gradient is ``gradient``, and if they are all finite write
    them back through ``path``; return whether they were."""
    weights, accumulators = update_entries(
        shard.W, shard.G, entries, gradient, rate, engine.eps
    )
    finite = all_finite(weights, accumulators)
    if finite:
        path.write_entries(engine, shard.columns, entries, weights, accumulators)
    return finite


def update_entries(W, G, entries, gradient, rate, eps):
    """Torch's Adagrad step on the entries ``entries`` (flat positions) of ``W``
    and ``G`` (C-ordered ``(n_rows, n_outputs)`` arrays, in place), whose
    gradient is ``gradient`` (overwritten), with the arithmetic of a whole-row
    step; ``rate`` and ``eps`` are numbers or one per output. Returns their
    new weights and accumulators."""
    if isinstance(rate, np.ndarray) or isinstance(eps, np.ndarray):
        # One per output (a stacked search): each entry's own.
        outputs = entries % W.shape[1]
        rate, eps = per_entry(rate, outputs), per_entry(eps, outputs)
    accumulators = G.reshape(-1)[entries]
    step_size = np.square(gradient)
    accumulators += step_size
    step_sizes(accumulators, eps, rate, out=step_size)
    gradient *= step_size
    weights = W.reshape(-1)[entries]
    weights -= gradient
    W.reshape(-1)[entries] = weights
    G.reshape(-1)[entries] = accumulators
    return weights, accumulators


def step_rows_on_entries(engine, path, shard, index, entries, gradient, rate):
    """Step a gathered shard's rows on a gradient that is zero but at
    ``entries`` (flat positions in its rows), where it is ``gradient``: the
    Adagrad step on those entries (:func:`update_entries`), then the proximal
    step on every entry, a block of rows at a time. If they are all finite,
    write back the rows' weights and the moved entries' accumulators through
    ``path``. Returns whether they were."""
    _, accumulators = update_entries(
        shard.W, shard.G, entries, gradient, rate, engine.eps
    )
    finite = bool(np.isfinite(accumulators.sum()))
    for rows in engine.policy.row_blocks(shard.W.shape):
        W = shard.W[rows]
        engine.penalty.prox(W, step_sizes(shard.G[rows], engine.eps, rate))
        finite &= bool(np.isfinite(W.sum()))
    if finite:
        path.write_back(
            engine, shard, index, engine.t, accumulator_entries=(entries, accumulators)
        )
    return finite
