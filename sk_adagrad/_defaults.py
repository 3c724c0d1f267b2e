"""Default hyperparameters shared by both estimators, and the rules that turn
the ``'auto'`` defaults into numbers for the data at hand.

docs/defaults.md holds the measurements behind each rule, across data sizes
(a thousand rows to hundreds of thousands), kinds (sparse text, dense, raw and
standardised) and tasks, and says where they differ from torch's and
scikit-learn's.
"""

import math

import numpy as np
import scipy.sparse as sp

LR = "auto"
ALPHA = "auto"
BATCH_SIZE = "auto"
INITIAL_ACCUMULATOR_VALUE = 0.0
MAX_ITER = 100
N_ITER_NO_CHANGE = 5

# lr='auto': Adagrad's first step of every coordinate is about lr, so lr is in
# the units of the weights. Classification margins and standardised targets
# need weights of order one; a regression target of scale s needs s times more,
# and Adagrad's steps, being blind to the gradient's scale, do not grow with it.
BASE_LR = 0.3
# The logistic loss's gradient fades as the margins grow, so its accumulators
# grow more slowly than the hinges': it reaches a better model in about half
# the epochs with a larger step (docs/defaults.md).
LOG_LOSS_LR = 1.0

# alpha='auto' is ALPHA_PER_SAMPLE / n, n the total sample weight (the number of
# rows when unweighted): the penalty's weight relative to the mean loss shrinks
# as the data grows, as a prior of fixed strength does (LogisticRegression's
# C fixed is alpha = 1 / (C n)); counting weight, not rows, keeps a weight of k
# equivalent to k copies of a row.
ALPHA_PER_SAMPLE = 0.1
# The hinge losses are zero on every row beyond the margin, so a penalty of the
# same strength weighs more against their data term than against the logistic
# loss's, yet they gain from a stronger one: 0.3 / n raised hinge accuracy on
# every text set and on the synthetic sets, where it lowers log_loss's
# (docs/defaults.md).
MARGIN_ALPHA_PER_SAMPLE = 0.3
# partial_fit sees a stream whose length it does not know: it takes the value
# measured best on the largest corpora.
STREAM_ALPHA = 3e-6

# batch_size='auto' gives a fit about STEPS_PER_EPOCH steps per epoch, within
# [MIN_BATCH_SIZE, MAX_BATCH_SIZE] rows per step: a small data set gets enough
# steps to learn in a few epochs, and from about 32,000 rows on the 1024-row
# steps that make an epoch cheap (a smaller step touches almost as many
# features for fewer rows). A data set of at most MIN_BATCH_SIZE rows is fitted
# full batch, each epoch one exact step (where a weight of k is exactly k
# copies of a row). partial_fit, whose chunk is a piece of a larger stream,
# steps STREAM_BATCH_SIZE rows at a time, so that a call costs about what its
# step costs.
STEPS_PER_EPOCH = 32
MIN_BATCH_SIZE = 32
MAX_BATCH_SIZE = 1024
STREAM_BATCH_SIZE = MAX_BATCH_SIZE
# A step also has a fixed cost, its Python and NumPy calls (about a
# millisecond), whatever its work. Sparse rows of a few nonzeros (short texts)
# would pay it for 32-row steps of almost no work, so a step of sparse rows
# holds at least MIN_STEP_NONZEROS nonzeros, as long as an epoch keeps at least
# MIN_STEPS_PER_EPOCH steps: a thousand rows of six nonzeros are fitted in
# steps of 250 rows, at a fifth of the time and the same accuracy. More
# nonzeros a step cost accuracy on the synthetic text set (a) at 1,000 rows,
# whose 80-nonzero rows keep their 32-row steps here. Dense rows keep the
# rows-only rule: every step updates all their weights, and their small data
# sets lost accuracy (or moved erratically) with any larger step tried
# (docs/defaults.md, "Step sizing").
MIN_STEP_NONZEROS = 2048
MIN_STEPS_PER_EPOCH = 4
# From about 32,000 rows on, a step also holds at least MIN_STEP_WORK nonzeros
# times outputs, as long as an epoch keeps STEPS_PER_EPOCH steps: a
# 1024-row step of a binary model of short texts (about ten nonzeros a row)
# does about 0.2 ms of work (some 16 ns a nonzero) for about 0.7 ms of fixed
# cost, and 2**16 nonzeros x outputs are about a millisecond of work. Only
# rows of few nonzeros and models of few outputs get larger steps; a data
# set small enough for STEPS_PER_EPOCH steps of at most MAX_BATCH_SIZE rows
# keeps them (docs/defaults.md, "Step sizing": 112,080 one-line docstrings,
# binary, in half the time, the test score within a few tenths of a point).
MIN_STEP_WORK = 2**16


def auto_batch_size(
    n_samples: int,
    nonzeros_per_row: float | None = None,
    min_step_nonzeros: int = MIN_STEP_NONZEROS,
    min_steps_per_epoch: int = MIN_STEPS_PER_EPOCH,
    n_outputs: int = 1,
    min_step_work: int = MIN_STEP_WORK,
) -> int:
    """Rows per step for a pass over ``n_samples`` rows: about
    ``1 / STEPS_PER_EPOCH`` of them (within ``[MIN_BATCH_SIZE,
    MAX_BATCH_SIZE]``), or, for sparse rows of ``nonzeros_per_row`` nonzeros
    on average (None for dense rows), more when that holds fewer than
    ``min_step_nonzeros`` nonzeros, while an epoch keeps
    ``min_steps_per_epoch`` steps, or fewer than ``min_step_work`` nonzeros
    times ``n_outputs`` (the model's outputs), while an epoch keeps
    ``STEPS_PER_EPOCH`` steps."""
    by_rows = int(
        np.clip(round(n_samples / STEPS_PER_EPOCH), MIN_BATCH_SIZE, MAX_BATCH_SIZE)
    )
    if nonzeros_per_row is None:
        return by_rows
    nonzeros = max(nonzeros_per_row, 1.0)
    by_nonzeros = math.ceil(min_step_nonzeros / nonzeros)
    by_work = math.ceil(min_step_work / (nonzeros * n_outputs))
    return max(
        by_rows,
        min(by_nonzeros, n_samples // min_steps_per_epoch),
        min(by_work, n_samples // STEPS_PER_EPOCH),
    )


def mean_nonzeros_per_row(X, rows: np.ndarray | None = None) -> float | None:
    """Mean nonzeros of the rows ``rows`` (all when None) of a sparse ``X``;
    None for a dense one."""
    if not sp.issparse(X):
        return None
    if rows is None:
        return X.nnz / max(X.shape[0], 1)
    if len(rows) == 0:
        return 0.0
    return float(np.diff(X.tocsr().indptr)[rows].mean())


def auto_alpha(
    sample_weight: np.ndarray, per_sample: float = ALPHA_PER_SAMPLE
) -> float:
    """Penalty strength for a fit on rows of these weights: ``per_sample``
    divided by their total weight."""
    total = sample_weight.sum()
    return per_sample / (total if total > 0 else max(len(sample_weight), 1))


def resolve_lr(lr, base: float, X, sample_weight, rows=None, targets=None) -> float:
    """``lr`` as a number: as given, or what ``'auto'`` stands for on the rows
    ``rows`` of ``X`` (all when None) of weights ``sample_weight``: the base
    rate ``base``, in the units of ``targets`` when they are given (a
    regression's): times their scale over the rows' feature load."""
    if lr != "auto":
        return float(lr)
    if targets is None:
        return base
    return base * (
        target_scale(targets, sample_weight) / feature_load(X, sample_weight, rows)
    )


def resolve_alpha(alpha, per_sample: float, sample_weight=None) -> float:
    """``alpha`` as a number: as given, or what ``'auto'`` stands for on
    training rows of weights ``sample_weight`` (see :func:`auto_alpha`), or
    on a stream of unknown length when None."""
    if alpha != "auto":
        return float(alpha)
    if sample_weight is None:
        return STREAM_ALPHA
    return auto_alpha(sample_weight, per_sample)


def target_scale(y: np.ndarray, sample_weight: np.ndarray) -> float:
    """Weighted standard deviation of a regression target (1 when it is 0 or
    the weights are all 0: the intercept alone then fits it)."""
    total = sample_weight.sum()
    largest = np.max(np.abs(y), initial=0.0)
    if total <= 0 or not 0 < largest < np.inf:
        return 1.0
    # In units of the largest target, so that targets near the float range do
    # not overflow when squared.
    unit = y / largest
    mean = sample_weight @ unit / total
    scale = largest * float(np.sqrt(sample_weight @ np.square(unit - mean) / total))
    return scale if 0 < scale < np.inf else 1.0


def feature_load(X, sample_weight: np.ndarray, rows: np.ndarray | None = None) -> float:
    """What divides a regression's ``lr='auto'`` besides the target scale: the
    weighted mean squared L2 norm of the rows (of ``rows``, all when None), or 1
    when it is smaller or cannot be computed.

    Adagrad steps every coordinate a row touches by about lr at once. Dense
    standardised features make that mean the number of features, and the
    prediction of a row then moves by about lr times it per step: a regression
    on 10 standardised features wants an lr ten times smaller than on 10 raw
    features whose rows have norms below one (diabetes). Rows of unit norm
    (tf-idf text) and features of small raw scale keep the target scale alone
    (docs/defaults.md).
    """
    if sp.issparse(X):
        squared = np.asarray(X.multiply(X).sum(axis=1), dtype=np.float64).ravel()
    else:
        squared = np.einsum("ij,ij->i", X, X, dtype=np.float64)
    if rows is not None:
        squared = squared[rows]
    total = sample_weight.sum()
    if total <= 0:
        return 1.0
    load = float(sample_weight @ squared / total)
    return load if 1.0 < load < np.inf else 1.0
