"""Full-batch training converges to the exact minimiser of the objective.

The oracles are scikit-learn's exact solvers for the same objective:

- ``Ridge`` (Cholesky): ``||y - Xw - b||^2 + alpha_r ||w||^2``; ours is that
  divided by ``2 n``, so ``alpha = alpha_r / n`` (``/ sum(s)`` with weights);
- ``Lasso`` and ``ElasticNet`` (coordinate descent, tiny ``tol``):
  ``||y - Xw - b||^2 / (2 n) + alpha l1_ratio |w|_1 + alpha (1 - l1_ratio) / 2
  ||w||^2``, the same ``alpha`` and ``l1_ratio`` as ours;
- ``LogisticRegression`` (Newton-Cholesky, tiny ``tol``):
  ``C sum_i s_i log_loss_i + ||W||^2 / 2``, intercept not penalised, so
  ``alpha = 1 / (C sum(s))``; K weight vectors for K > 2 classes, like our
  multinomial model, and one for two classes, like ours.

With a full batch, no shuffling and no decay, Adagrad's accumulators stop
growing as the gradient vanishes, so each coordinate ends up on a constant step
and the iteration converges linearly; a large ``lr`` is fine because Adagrad
normalises the first steps. Everything reaches the oracle to about 1e-15 in a
few thousand epochs; the tests ask for 1e-9 (coefficients) and 1e-12
(objective).
"""

import numpy as np
import pytest
import scipy.sparse as sp
from numpy.testing import assert_allclose, assert_array_equal
from scipy.special import logsumexp
from sklearn.linear_model import ElasticNet, Lasso, LogisticRegression, Ridge

from sk_adagrad import AdagradClassifier, AdagradRegressor

COEF_RTOL = 1e-9
OBJECTIVE_RTOL = 1e-12
FULL_BATCH = dict(batch_size=10_000, shuffle=False, tol=None, lr=1.0, max_iter=1500)


def regression_data(seed, n_samples=60, n_features=8, density=0.6):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n_samples, n_features)) * rng.uniform(0.5, 2.0, n_features)
    X[rng.random(X.shape) > density] = 0.0
    w = rng.normal(size=n_features)
    w[:3] = 0.0
    y = X @ w + 1.0 + 0.3 * rng.normal(size=n_samples)
    sample_weight = rng.uniform(0.2, 3.0, size=n_samples)
    return X, y, w, sample_weight


def classification_data(seed, n_classes, n_samples=80, n_features=6):
    X, _, w, sample_weight = regression_data(seed, n_samples, n_features)
    rng = np.random.default_rng(seed + 1)
    score = X @ w + rng.normal(size=n_samples)
    y = np.digitize(score, np.quantile(score, np.linspace(0, 1, n_classes + 1)[1:-1]))
    return X, y, sample_weight


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


def as_input(X, sparse):
    return sp.csr_array(X) if sparse else X


@pytest.mark.parametrize("sparse", [False, True], ids=["dense", "csr"])
@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
@pytest.mark.parametrize("fit_intercept", [True, False])
def test_l2_squared_error_converges_to_ridge(sparse, weighted, fit_intercept):
    # Oracle: Ridge(solver='cholesky') on the dense twin, alpha_r = alpha sum(s).
    X, y, _, sample_weight = regression_data(0)
    if not weighted:
        sample_weight = np.ones_like(y)
    alpha = 0.05
    oracle = Ridge(
        alpha=alpha * sample_weight.sum(),
        solver="cholesky",
        fit_intercept=fit_intercept,
    ).fit(X, y, sample_weight=sample_weight)
    model = AdagradRegressor(
        loss="squared_error",
        penalty="l2",
        alpha=alpha,
        fit_intercept=fit_intercept,
        **FULL_BATCH,
    ).fit(as_input(X, sparse), y, sample_weight=sample_weight)
    assert_allclose(model.coef_, oracle.coef_, rtol=COEF_RTOL, atol=1e-12)
    assert_allclose(model.intercept_, [oracle.intercept_], rtol=COEF_RTOL, atol=1e-12)
    ours = squared_objective(model, X, y, sample_weight, 0.0, alpha)
    best = squared_objective(oracle, X, y, sample_weight, 0.0, alpha)
    assert abs(ours - best) <= OBJECTIVE_RTOL * best


@pytest.mark.parametrize("sparse", [False, True], ids=["dense", "csr"])
@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
@pytest.mark.parametrize("l1_ratio", [1.0, 0.4], ids=["lasso", "elasticnet"])
def test_l1_and_elastic_net_converge_to_coordinate_descent(sparse, weighted, l1_ratio):
    # Oracle: Lasso / ElasticNet (coordinate descent to tol=1e-15); same alpha and
    # l1_ratio. sklearn rescales sample weights to sum to n, which leaves its
    # weighted mean squared error, and so the minimiser, as ours.
    X, y, _, sample_weight = regression_data(1)
    if not weighted:
        sample_weight = np.ones_like(y)
    alpha = 0.05
    solver = Lasso(alpha=alpha) if l1_ratio == 1.0 else ElasticNet(alpha, l1_ratio=0.4)
    oracle = solver.set_params(tol=1e-15, max_iter=100_000).fit(
        X, y, sample_weight=sample_weight
    )
    model = AdagradRegressor(
        loss="squared_error",
        penalty="l1" if l1_ratio == 1.0 else "elasticnet",
        alpha=alpha,
        l1_ratio=l1_ratio,
        **FULL_BATCH,
    ).fit(as_input(X, sparse), y, sample_weight=sample_weight)
    assert_allclose(model.coef_, oracle.coef_, rtol=COEF_RTOL, atol=1e-12)
    assert_allclose(model.intercept_, [oracle.intercept_], rtol=COEF_RTOL)
    # Exact zeros, the same ones.
    assert (oracle.coef_ == 0).sum() >= 2
    assert_array_equal(model.coef_ == 0, oracle.coef_ == 0)
    l1, l2 = alpha * l1_ratio, alpha * (1 - l1_ratio)
    ours = squared_objective(model, X, y, sample_weight, l1, l2)
    best = squared_objective(oracle, X, y, sample_weight, l1, l2)
    assert abs(ours - best) <= OBJECTIVE_RTOL * best


@pytest.mark.parametrize("sparse", [False, True], ids=["dense", "csr"])
@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
@pytest.mark.parametrize("n_classes", [2, 4])
def test_log_loss_converges_to_logistic_regression(sparse, weighted, n_classes):
    # Oracle: LogisticRegression(solver='newton-cholesky', tol=1e-14), L2 on the
    # weights only, alpha = 1 / (C sum(s)); multinomial for 4 classes.
    X, y, sample_weight = classification_data(2, n_classes)
    if not weighted:
        sample_weight = np.ones(len(y))
    C = 0.7
    oracle = LogisticRegression(
        C=C, solver="newton-cholesky", tol=1e-14, max_iter=1000
    ).fit(X, y, sample_weight=sample_weight)
    alpha = 1.0 / (C * sample_weight.sum())
    model = AdagradClassifier(loss="log_loss", penalty="l2", alpha=alpha, **FULL_BATCH)
    model.fit(as_input(X, sparse), y, sample_weight=sample_weight)

    assert model.coef_.shape == oracle.coef_.shape
    assert_allclose(model.coef_, oracle.coef_, rtol=COEF_RTOL, atol=1e-12)
    # Softmax intercepts are defined up to a common shift (unpenalised, and
    # Adagrad's per-coordinate steps do not keep their sum at 0): compare them
    # centred, and the probabilities themselves.
    centred = model.intercept_ - model.intercept_.mean() * (n_classes > 2)
    expected = oracle.intercept_ - oracle.intercept_.mean() * (n_classes > 2)
    assert_allclose(centred, expected, rtol=COEF_RTOL, atol=1e-12)
    assert_allclose(
        model.predict_proba(as_input(X, sparse)), oracle.predict_proba(X), atol=1e-12
    )
    ours = log_objective(model.coef_, model.intercept_, X, y, sample_weight, alpha)
    best = log_objective(oracle.coef_, oracle.intercept_, X, y, sample_weight, alpha)
    assert abs(ours - best) <= OBJECTIVE_RTOL * best


def test_multiclass_one_vs_rest_log_loss_converges_per_class():
    # Oracle: one binary LogisticRegression per class (one-vs-rest trains the K
    # outputs independently, on the same objective each).
    X, y, sample_weight = classification_data(3, n_classes=3)
    C = 2.0
    alpha = 1.0 / (C * sample_weight.sum())
    model = AdagradClassifier(
        loss="log_loss", multi_class="ovr", penalty="l2", alpha=alpha, **FULL_BATCH
    ).fit(sp.csr_array(X), y, sample_weight=sample_weight)
    for k in range(3):
        binary = LogisticRegression(
            C=C, solver="newton-cholesky", tol=1e-14, max_iter=1000
        ).fit(X, y == k, sample_weight=sample_weight)
        assert_allclose(model.coef_[k], binary.coef_[0], rtol=COEF_RTOL, atol=1e-12)
        assert_allclose(model.intercept_[k], binary.intercept_[0], rtol=COEF_RTOL)
