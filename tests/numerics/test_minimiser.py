"""Training converges to the exact minimiser of the objective: full batches on
either step path, and mini-batches on the active-row path (at the end).

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
from sklearn.linear_model import ElasticNet, Lasso, LogisticRegression, Ridge

from sk_adagrad import AdagradClassifier, AdagradRegressor

from oracles.objectives import log_objective, squared_objective

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


# -- mini-batches on the active-row path ---------------------------------------------
#
# A mini-batch steps only the features present in it and catches the others up
# lazily when they next appear. Mini-batches do not converge exactly in general,
# so the problems below are built to have a fixed point common to every batch:
# the rows of a small problem are repeated in N_COPIES consecutive batches, and
# every copy after the first brings EXTRA_FEATURES features of its own, which
# are orthogonal to the weighted residual (the loss derivative) at the small
# problem's optimum. The optimum of the whole problem is then the small one's
# with the extra weights at 0, every batch's proximal step leaves it where it is,
# and Adagrad reaches it to rounding; meanwhile the extra features miss the
# steps of the other batches and are caught up in closed form each time they
# return. The oracle solves the whole problem (the features of the wide matrix
# that no row holds have weight 0, whatever the penalty) and must find the
# extra weights at 0 too. The wide matrix has so many features for the
# entries of a batch that every step takes the active-row path.
# At a fixed point common to all batches, a feature absent from a batch can only
# sit at 0 (the proximal step moves anything else), so these tests hold the
# gathers, scatters and catch-ups of the active-row path to the exact optimum;
# the closed forms' values on nonzero weights are held to the eager steps by
# tests/numerics/test_lazy_penalty.py.

N_COPIES, EXTRA_FEATURES, WIDE_FEATURES = 3, 4, 4000
MINI_BATCHES = dict(FULL_BATCH, max_iter=500)


def widened(X, y, sample_weight, residual, seed):
    """The problem ``(X, y, sample_weight)`` repeated in ``N_COPIES`` batches
    of ``len(X)`` rows, with extra features orthogonal to ``sample_weight *
    residual``; returns the wide sparse matrix, the targets, the weights, the
    dense matrix of its used features and their columns in the wide one."""
    rng = np.random.default_rng(seed)
    n_samples = X.shape[0]
    weighted_residual = (sample_weight * residual.T).T.reshape(n_samples, -1)
    copies = []
    for copy in range(N_COPIES):
        extras = np.zeros((n_samples, EXTRA_FEATURES * (N_COPIES - 1)))
        if copy:
            for j in range(EXTRA_FEATURES * (copy - 1), EXTRA_FEATURES * copy):
                rows = rng.choice(n_samples, n_samples // 3, replace=False)
                basis, _ = np.linalg.qr(weighted_residual[rows])
                column = rng.normal(size=rows.size)
                extras[rows, j] = column - basis @ (basis.T @ column)
        copies.append(np.hstack([X, extras]))
    used = np.vstack(copies)
    columns = np.sort(rng.choice(WIDE_FEATURES, used.shape[1], replace=False))
    wide = sp.csr_array(
        (used[used != 0], (np.nonzero(used)[0], columns[np.nonzero(used)[1]])),
        shape=(used.shape[0], WIDE_FEATURES),
    )
    return wide, np.tile(y, N_COPIES), np.tile(sample_weight, N_COPIES), used, columns


@pytest.fixture
def active_row_steps(monkeypatch):
    """Count the steps by path, failing the test if any is taken in place."""
    from sk_adagrad._engine import SparseAdagrad
    from sk_adagrad._step_paths import ACTIVE_ROWS

    counts = {"active rows": 0, "in place": 0}
    plan_step = SparseAdagrad.plan_step

    def counting(self, X_batch, n_shards=1):
        planned = plan_step(self, X_batch, n_shards)
        counts["active rows" if planned.path is ACTIVE_ROWS else "in place"] += 1
        return planned

    monkeypatch.setattr(SparseAdagrad, "plan_step", counting)
    yield counts
    assert counts["in place"] == 0
    assert counts["active rows"] == N_COPIES * MINI_BATCHES["max_iter"]


def assert_wide_coef(model_coef, oracle_coef, columns):
    model_coef = np.atleast_2d(model_coef)
    unused = np.setdiff1d(np.arange(WIDE_FEATURES), columns)
    assert not model_coef[:, unused].any()
    used = model_coef[:, columns]
    assert_allclose(used, np.atleast_2d(oracle_coef), rtol=COEF_RTOL, atol=1e-12)
    extra = used[:, -EXTRA_FEATURES * (N_COPIES - 1) :]
    assert_allclose(extra, 0.0, atol=1e-12)


@pytest.mark.parametrize("solver", ["ridge", "lasso", "elasticnet"])
def test_mini_batches_on_active_rows_converge_to_the_exact_solvers(
    active_row_steps, solver
):
    X, y, _, sample_weight = regression_data(4)
    alpha = 0.05
    l1_ratio = {"ridge": 0.0, "lasso": 1.0, "elasticnet": 0.4}[solver]

    def oracle(X, y, sample_weight):
        if solver == "ridge":
            exact = Ridge(alpha=alpha * sample_weight.sum(), solver="cholesky")
        else:
            exact = ElasticNet(alpha, l1_ratio=l1_ratio, tol=1e-15, max_iter=100_000)
        return exact.fit(X, y, sample_weight=sample_weight)

    small = oracle(X, y, sample_weight)
    residual = X @ small.coef_ + small.intercept_ - y
    wide, y_wide, weights, used, columns = widened(X, y, sample_weight, residual, 4)
    exact = oracle(used, y_wide, weights)
    model = AdagradRegressor(
        loss="squared_error",
        penalty={"ridge": "l2", "lasso": "l1", "elasticnet": "elasticnet"}[solver],
        alpha=alpha,
        l1_ratio=l1_ratio,
        **dict(MINI_BATCHES, batch_size=len(y)),
    ).fit(wide, y_wide, sample_weight=weights)
    assert_wide_coef(model.coef_, exact.coef_, columns)
    assert_allclose(model.intercept_, [exact.intercept_], rtol=COEF_RTOL)
    if solver != "ridge":
        assert (exact.coef_ == 0).sum() >= 2
        assert_array_equal(model.coef_[columns] == 0, exact.coef_ == 0)


@pytest.mark.parametrize("n_classes", [2, 4])
def test_mini_batches_on_active_rows_converge_to_logistic_regression(
    active_row_steps, n_classes
):
    X, y, sample_weight = classification_data(5, n_classes)
    alpha = 0.02

    def oracle(X, sample_weight):
        C = 1.0 / (alpha * sample_weight.sum())
        exact = LogisticRegression(
            C=C, solver="newton-cholesky", tol=1e-14, max_iter=1000
        )
        return exact.fit(X, np.resize(y, X.shape[0]), sample_weight=sample_weight)

    small = oracle(X, sample_weight)
    # The loss derivative at the optimum: predicted probabilities minus the
    # one-hot labels (of the positive class alone for two classes).
    residual = small.predict_proba(X) - (y[:, None] == np.arange(n_classes))
    if n_classes == 2:
        residual = residual[:, 1]
    wide, y_wide, weights, used, columns = widened(X, y, sample_weight, residual, 5)
    exact = oracle(used, weights)
    model = AdagradClassifier(
        loss="log_loss",
        penalty="l2",
        alpha=alpha,
        **dict(MINI_BATCHES, batch_size=len(y)),
    ).fit(wide, y_wide, sample_weight=weights)
    assert_wide_coef(model.coef_, exact.coef_, columns)
    centred = model.intercept_ - model.intercept_.mean() * (n_classes > 2)
    expected = exact.intercept_ - exact.intercept_.mean() * (n_classes > 2)
    assert_allclose(centred, expected, rtol=COEF_RTOL, atol=1e-12)
