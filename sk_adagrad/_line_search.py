"""The merge rule ``"line_search"``: the point of the line from the weighted
average of partial models through their rescaled sum with the least training
objective on rows the caller gives (see :func:`~sk_adagrad._merge.
merge_partial_models`)."""

import numpy as np
import scipy.sparse as sp

from ._blocks import row_blocks
from ._model_rows import stored_rows
from ._sklearn_private import check_sample_weight

# The points of the line from the weighted average (0) through the rescaled sum
# (1) that "line_search" compares.
LINE_STEPS = np.arange(7) / 4


def best_step(start, merged_small, rows, weights, direction, X, y, sample_weight):
    """The ``s`` of ``LINE_STEPS`` for which ``weights + s direction`` (rows
    ``rows`` and the intercept, the other rows at the start's, pending penalty
    steps applied through the merged step) has the least training objective on
    ``X, y``."""
    X, Y, sample_weight = _training_rows(start.base, X, y, sample_weight)
    margins, margins_direction = _margins_along(
        start, merged_small, rows, weights, direction, X
    )
    penalties = _penalties_along(merged_small["penalty"], weights, direction)
    with np.errstate(over="ignore", invalid="ignore"):
        objectives = np.array(
            [
                merged_small["loss"].objective(
                    Y, margins + step * margins_direction, sample_weight, penalty
                )
                for step, penalty in zip(LINE_STEPS, penalties, strict=True)
            ]
        )
    # An overflow far along the line is never the least; the average is kept
    # if every point overflows.
    return LINE_STEPS[np.argmin(np.where(np.isfinite(objectives), objectives, np.inf))]


def _training_rows(model, X, y, sample_weight):
    """``(X, Y, sample_weight)``: the rows the line search measures, checked as
    ``model``'s ``partial_fit`` checks them, ``X`` in CSR and the targets as
    the loss reads them."""
    X = model._validate_X(X, reset=False)
    sample_weight = check_sample_weight(sample_weight, X, dtype=np.float64)
    targets, sample_weight = model._prepare_y(
        y, sample_weight, reset=False, partial=True
    )
    Y = model._encode_targets(targets)
    X = sp.csr_matrix(X) if not sp.issparse(X) else X.tocsr()
    return X, Y, sample_weight


def _margins_along(start, merged_small, rows, weights, direction, X):
    """The margins of ``X`` at the start of the line (``weights`` at ``rows``
    and the intercept, the start's other rows brought up to the merged step)
    and their change per unit step along ``direction``."""
    columns = np.unique(X.indices)
    inside = np.isin(columns, rows)
    stored = stored_rows(start.base, start.changes, columns[~inside])
    W = np.zeros((len(columns), weights.shape[1]))
    D = np.zeros_like(W)
    W[~inside] = start.base.optimizer_.rows_at_step(
        stored, merged_small["t"], merged_small
    )
    at = np.searchsorted(rows, columns[inside])
    W[inside], D[inside] = weights[at], direction[at]
    X_columns = X[:, columns]
    margins = np.asarray(X_columns @ W) + weights[-1]
    return margins, np.asarray(X_columns @ D) + direction[-1]


def _penalties_along(penalty, weights, direction):
    """The penalty of the merged rows (``weights`` without their last row, the
    intercept) at each point of the line. The other rows' penalty is the same
    at every point: it does not count."""
    penalties = np.zeros(len(LINE_STEPS))
    if not penalty.is_zero:
        for block in row_blocks((len(weights) - 1, weights.shape[1])):
            penalties += penalty.values_along(
                weights[block], direction[block], LINE_STEPS
            )
    return penalties
