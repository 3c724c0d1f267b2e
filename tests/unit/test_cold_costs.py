"""Reading a wide model (hashed features) catches up only the rows that hold
something, not every feature of its width."""

import numpy as np
import scipy.sparse as sp

from sk_adagrad import AdagradClassifier
from sk_adagrad._penalty import ElasticNet

N_FEATURES = 2**20


def _few_features_batch(n_rows=64, n_classes=4, seed=0):
    rng = np.random.default_rng(seed)
    columns = rng.choice(N_FEATURES, size=(n_rows, 3))
    X = sp.csr_matrix(
        (rng.random(columns.size), columns.ravel(), np.arange(0, columns.size + 1, 3)),
        shape=(n_rows, N_FEATURES),
    )
    return X, np.arange(n_rows) % n_classes


def test_reading_the_weights_catches_up_only_learnt_rows(monkeypatch):
    X, y = _few_features_batch()
    model = AdagradClassifier(loss="log_loss", alpha=1e-3, random_state=0)
    model.partial_fit(X, y, classes=np.unique(y))
    model.partial_fit(X[:32], y[:32])  # rows of the other half miss a step
    caught_up = []
    catch_up = ElasticNet.catch_up

    def counting_catch_up(self, W, *args, **kwargs):
        caught_up.append(W.shape[0])
        return catch_up(self, W, *args, **kwargs)

    monkeypatch.setattr(ElasticNet, "catch_up", counting_catch_up)
    coef = model.coef_
    learnt = np.flatnonzero(np.abs(coef).sum(axis=0))
    assert 0 < sum(caught_up) <= X.nnz
    assert len(learnt) <= X.nnz
    # The rows skipped are zero, as the closed form would have left them.
    eager = model.optimizer_.state.coef.copy()
    assert np.all(eager[np.setdiff1d(np.arange(N_FEATURES), learnt)] == 0)
