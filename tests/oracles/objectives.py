"""The objectives training minimises, written out term by term: the exact
solvers' solutions and the estimators' fits are compared on them.

- :func:`squared_objective`: the weighted half mean squared error plus the
  elastic-net penalty ``l1 |w|_1 + l2 ||w||^2 / 2`` of a fitted regressor.
- :func:`log_objective`: the weighted mean log loss (binary, or multinomial
  over K weight vectors) plus ``alpha ||W||^2 / 2``, the intercept unpenalised.
"""

import numpy as np
from scipy.special import logsumexp


def squared_objective(model, X, y, sample_weight, l1, l2):
    residual = X @ np.ravel(model.coef_) + np.ravel(model.intercept_)[0] - y
    data_fit = 0.5 * np.average(residual**2, weights=sample_weight)
    coef = np.ravel(model.coef_)
    return data_fit + l1 * np.abs(coef).sum() + 0.5 * l2 * (coef**2).sum()


def log_objective(coef, intercept, X, y, sample_weight, alpha):
    Z = X @ np.atleast_2d(coef).T + intercept
    if Z.shape[1] == 1:
        margin = np.where(y == 1, 1.0, -1.0) * Z[:, 0]
        losses = np.logaddexp(0.0, -margin)
    else:
        losses = logsumexp(Z, axis=1) - Z[np.arange(len(y)), y]
    return np.average(losses, weights=sample_weight) + 0.5 * alpha * (coef**2).sum()
