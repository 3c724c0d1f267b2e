"""The penalty steps a row missed while its feature was absent from the batches,
applied in closed form when the row is next read or stepped (see ``_penalty``),
and the sum of the iterates it missed in the running average's window."""

import numpy as np

from ._step_terms import denominator


def catch_up(state, W, G, last, t, skip_zero_rows=False):
    """Apply to ``W`` (in place) the penalty steps missed since ``last`` up to
    step ``t`` under ``state``'s hyperparameters and rate history; return the
    sum of the iterates in the average window, if any."""
    missed = last < t
    if skip_zero_rows:
        missed &= W.any(axis=1)
    if 2 * np.count_nonzero(missed) < missed.size or W.size == 0:
        # Rows updated at step t (features present in the previous batch)
        # missed nothing. The closed forms leave such rows exactly as they
        # are, but when they are the majority, gathering the others is the
        # cheaper way through.
        total = None if state.average_start is None else np.zeros_like(W)
        if missed.any():
            index = np.flatnonzero(missed)
            caught_up = W[index]
            part = catch_up(state, caught_up, G[index], last[index], t)
            W[index] = caught_up
            if total is not None:
                total[index] = part
        return total
    return state.penalty.catch_up(
        W,
        denominator(G, state.eps),
        last,
        t - last,
        state.schedule,
        state.rate_history,
        _sum_after(state, last),
    )


def _sum_after(state, last):
    """Per row, how many of its missed steps precede the averaging window (None
    when not averaging)."""
    if state.average_start is None:
        return None
    return np.maximum(state.average_start - 1 - last, 0)
