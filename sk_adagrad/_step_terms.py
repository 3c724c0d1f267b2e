"""The arithmetic a step shares between its parts: Adagrad's denominator and
step sizes, and
the batch's loss and gradients weighted by the samples' weights."""

import numpy as np


def all_finite(W, G):
    """Whether the stepped weights ``W`` and accumulators ``G`` are all finite.
    A sum is finite exactly when its terms are, short of overflowing, which only
    values near the float range, diverged already, can do: one pass per array
    instead of a mask and a test."""
    return bool(np.isfinite(G.sum()) and np.isfinite(W.sum()))


def denominator(G, eps, out=None):
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


def step_sizes(G, eps, rate, out=None):
    """Adagrad's step size of each coordinate, ``rate / (sqrt(G) + eps)`` (in
    ``out`` if given); ``rate`` and ``eps`` are numbers or one per output."""
    H = denominator(G, eps, out=out)
    return np.divide(rate, H, out=H)


def per_entry(value, outputs):
    """``value`` as it is when a number; when one per output (a stacked
    search's ``rate`` or ``eps``), its values at the outputs ``outputs`` of
    some entries."""
    return value[outputs] if isinstance(value, np.ndarray) else value


def weighted_loss_sum(sample_weight, values):
    """The batch's loss sum: a number for per-row weights; one per group for
    per-(row, group) weights and values."""
    if sample_weight.ndim == 1:
        return float(sample_weight @ values)
    return np.einsum("ij,ij->j", sample_weight, values)


def scale_by_weights(dZ, sample_weight):
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
