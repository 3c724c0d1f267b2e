"""The stacked search's test helpers: small sparse problems, a scorer that
records each column model it scores, and the plain fit a column must equal."""

import numpy as np
import scipy.sparse as sp

from sk_adagrad import AdagradClassifier, AdagradRegressor


def sparse_problem(kind, n_samples=90, n_features=40, seed=0):
    rng = np.random.default_rng(seed)
    X = sp.random(n_samples, n_features, density=0.15, random_state=seed, format="csr")
    X.data = rng.normal(size=X.nnz)
    w = rng.normal(size=(n_features, 3))
    scores = X @ w + 0.3 * rng.normal(size=(n_samples, 3))
    if kind == "regressor":
        return X, 5.0 * scores[:, 0] + 2.0
    if kind == "binary":
        return X, (scores[:, 0] > 0).astype(int)
    return X, scores.argmax(axis=1)


class Recorder:
    """A scorer that keeps each column model it is given, keyed by its
    candidate and the held-out rows (as the first row index)."""

    def __init__(self, X):
        self.X = X
        self.models = {}

    def __call__(self, model, X_test, y_test):
        params = model.get_params()
        key = (params["alpha"], params["eps"], params["lr"], self._fold_of(X_test))
        self.models[key] = (model.coef_, model.intercept_, model.n_iter_)
        return model.score(X_test, y_test)

    def _fold_of(self, X_test):
        first = X_test[[0]].toarray() if sp.issparse(X_test) else X_test[[0]]
        dense = self.X.toarray() if sp.issparse(self.X) else self.X
        return int(np.flatnonzero((dense == first).all(axis=1))[0])


def plain_fit(kind, params, X, y, train):
    weights = np.zeros(len(y))
    weights[train] = 1.0
    plain = AdagradRegressor if kind == "regressor" else AdagradClassifier
    return plain(**params).fit(X, y, sample_weight=weights)
