"""Successive halving inside the stack: which candidates of a grid search are
clearly behind on their held-out rows, to be dropped before their own
stopping rules end them.

After the epochs :func:`is_checkpoint` names, every model still in the stack
is scored on its fold's held-out rows, as a stopped model is; a model that
stopped earlier keeps its final score. A candidate is behind when its mean
score over the folds is below the best candidate's by more than both

- the paired margin: Student's t quantile ``T_LEVEL`` (with ``n_folds - 1``
  degrees of freedom) times the standard error of its fold-by-fold difference
  from the best (the folds share their held-out rows, so the difference is
  less noisy than either score), and
- the spread of the best candidate's own fold scores (their standard
  deviation): a gap smaller than the folds' disagreement on the best one is
  not clear, however consistent it is.

Both come from the folds themselves, not from constants fitted to one data
set. The worst candidates behind go first, and never more than leaves
:func:`n_kept` candidates undropped. With one fold there is no spread and
nothing is dropped.
"""

import math

import numpy as np
from scipy.stats import t as student_t

# One-sided level of the paired margin: a candidate whose gap would arise by
# chance in more than 2.5% of fold draws is kept.
T_LEVEL = 0.975


def is_checkpoint(epoch: int) -> bool:
    """Whether candidates are judged after ``epoch``: 1, 2, 4, 8, ... (each
    judgement scores every model left, so they thin out as the models
    settle)."""
    return epoch & (epoch - 1) == 0


def n_kept(n_candidates: int) -> int:
    """Candidates never dropped below: a third of the grid, at least two."""
    return min(n_candidates, max(2, math.ceil(n_candidates / 3)))


def candidates_behind(
    scores: np.ndarray, running: np.ndarray, dropped: np.ndarray
) -> list[int]:
    """The candidates to drop now.

    Parameters
    ----------
    scores : ndarray of shape (n_candidates, n_folds)
        Each model's held-out score now (its final score if it stopped, nan
        if it diverged).
    running : ndarray of bool of shape (n_candidates,)
        Candidates with a model still in the stack: only these can be dropped.
    dropped : ndarray of bool of shape (n_candidates,)
        Candidates dropped before.

    Returns
    -------
    list of int
        Candidates behind, worst first.
    """
    n_folds = scores.shape[1]
    means = scores.mean(axis=1)
    judged = np.isfinite(means) & ~dropped
    if n_folds < 2 or not judged.any():
        return []
    best = int(np.flatnonzero(judged)[np.argmax(means[judged])])
    gaps = scores[best] - scores
    paired = student_t.ppf(T_LEVEL, n_folds - 1) * gaps.std(axis=1, ddof=1)
    margin = np.maximum(paired / math.sqrt(n_folds), scores[best].std(ddof=1))
    behind = np.flatnonzero(judged & running & (gaps.mean(axis=1) > margin))
    room = int(np.count_nonzero(~dropped)) - n_kept(len(scores))
    worst_first = behind[np.argsort(means[behind], kind="stable")]
    return worst_first[: max(room, 0)].tolist()
