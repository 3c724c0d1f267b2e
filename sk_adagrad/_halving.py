"""Successive halving inside the stack: which candidates of a grid search are
clearly behind on their held-out rows and no longer catching up, to be dropped
before their own stopping rules end them.

Every model still in the stack is scored on its fold's held-out rows, as a
stopped model is, after the epochs :func:`is_checkpoint` names (1, 2, 4, 8,
...); a model that stopped keeps its final score. At each checkpoint after the
first, a candidate is dropped when both

- it is *behind*: its mean score over the folds is below the best
  candidate's by more than the larger of Student's t quantile ``T_LEVEL``
  (``n_folds - 1`` degrees of freedom) times the standard error of the
  fold-by-fold difference, and the *spread* (standard deviation) of the best
  candidate's own fold scores: a gap smaller than the folds' disagreement on
  the best one is not clear, however consistent it is; and
- it is *not improving*: its mean gain since the previous checkpoint is at
  most that spread (a lenient test on purpose: a noisy gain counts as
  improving).

Both margins come from the folds themselves, not from constants fitted to one
data set.

A candidate none of whose folds' scores moved since the previous checkpoint
is not judged: it may still be predicting its starting constant, as a small
``lr`` does for epochs before it learns and overtakes the others.

The second condition is what keeps the slow starters: early scores measure
how fast a candidate learns more than where it ends, and the candidate that
ends best is often the slowest (a small ``lr``, a large ``eps``), behind by
several points after an epoch or two but gaining at every checkpoint
(docs/cv.md). The first checkpoint judges nothing, for want of a gain: the
starting model (a constant) is no reference, since a slow starter may gain
almost nothing on it in its first epoch when the constant already scores well
(0.003 over 0.706 on the benchmark's unbalanced binary task, for the candidate
that ends best). A candidate that learns a little and then stalls far behind
goes after epoch 2; one that has learnt nothing yet stays.

The worst candidates go first, never more than leaves :func:`n_kept`
candidates undropped. With one fold there is no spread and nothing is dropped.
"""

import math

import numpy as np
from scipy.stats import t as student_t

# One-sided level of the paired margins: a difference that chance alone would
# give in more than 2.5% of fold draws is not clear.
T_LEVEL = 0.975


def is_checkpoint(epoch: int) -> bool:
    """Whether models are scored after ``epoch``: 1, 2, 4, 8, ... (each
    checkpoint scores every model left, so they thin out as the models
    settle)."""
    return epoch > 0 and epoch & (epoch - 1) == 0


def n_kept(n_candidates: int) -> int:
    """Candidates never dropped below: a third of the grid, at least two."""
    return min(n_candidates, max(2, math.ceil(n_candidates / 3)))


def candidates_behind(
    scores: np.ndarray,
    previous: np.ndarray,
    running: np.ndarray,
    dropped: np.ndarray,
) -> list[int]:
    """The candidates to drop now.

    Parameters
    ----------
    scores : ndarray of shape (n_candidates, n_folds)
        Each model's held-out score now (its final score if it stopped, nan
        if it diverged).
    previous : ndarray of shape (n_candidates, n_folds)
        The same at the previous checkpoint (nan at the first).
    running : ndarray of bool of shape (n_candidates,)
        Candidates with a model still in the stack: only these can be dropped.
    dropped : ndarray of bool of shape (n_candidates,)
        Candidates dropped before.

    Returns
    -------
    list of int
        Candidates to drop, worst first.
    """
    n_folds = scores.shape[1]
    means = scores.mean(axis=1)
    judged = np.isfinite(means) & np.isfinite(previous).all(axis=1) & ~dropped
    if n_folds < 2 or not judged.any():
        return []
    best = int(np.flatnonzero(judged)[np.argmax(means[judged])])
    spread = scores[best].std(ddof=1)
    quantile = student_t.ppf(T_LEVEL, n_folds - 1) / math.sqrt(n_folds)

    gaps = scores[best] - scores
    margin = np.maximum(quantile * gaps.std(axis=1, ddof=1), spread)
    behind = gaps.mean(axis=1) > margin
    improving = (scores - previous).mean(axis=1) > spread
    # A model whose every fold scores what it scored at the last checkpoint
    # may not have started: a small lr keeps predicting the starting constant
    # for epochs before it learns, and then may end best. Standing still is
    # no evidence against it.
    standing = (scores == previous).all(axis=1)
    drop = np.flatnonzero(judged & running & behind & ~improving & ~standing)
    room = int(np.count_nonzero(~dropped)) - n_kept(len(scores))
    worst_first = drop[np.argsort(means[drop], kind="stable")]
    return worst_first[: max(room, 0)].tolist()
