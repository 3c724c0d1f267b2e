"""float32 and float64 fits of the same data agree to float32's precision after
every step, from the first.

The float32 model trains on the float64 data rounded to float32 and rounds
every operation of every step to float32; the float64 model is the exact run,
to float32's eyes. Their difference after a step is bounded, to first order, by
the sum over the steps so far of what rounding can change in one step. A step
moves a weight by ``rate * g / (sqrt(G) + eps)``, whose derivative with respect
to the gradient ``g`` is at most ``1 / (sqrt(G) + eps)``; the gradient of a
batch of ``n`` rows, ``sum_i x_i t_i``, is computed with an error of at most
``(n + 2) U sum_i |x_i t_i|`` (the sum's ``n - 1`` roundings, the terms' own,
the data's). Step ``r`` therefore changes by at most

    a_r = (n + 2) U rate max_j sum_i |x_ij t_ij| / (sqrt(G_j) + eps)

over every weight and intercept ``j``, and the float32 and float64 models can
differ after step ``s`` by ``sum_{r <= s} a_r`` plus the rounding of the
weights themselves (``U`` times the largest). The test's conditioning factor
is that bound in units of ``U`` times the largest weight; a factor ``SLACK``
covers what the first-order bound leaves out (an error carried from one step
to the next through the margins, the rounding of ``sqrt(G)``).

Where the intercept starts at the best constant and its first gradient is pure
rounding noise, a step on that noise would move it by ``lr`` at once (millions
of ``U``): the estimators count such a gradient as zero
(sk_adagrad/_rounding.py). scikit-learn's six-point case and interleaved
binary docstring batches are such starts.
"""

import numpy as np
import pytest
import scipy.sparse as sp
from numpy.testing import assert_array_equal
from sklearn.feature_extraction.text import TfidfVectorizer
from test_lazy_penalty import block_problem, make_model

from sk_adagrad import AdagradClassifier
from sk_adagrad._losses import make_loss
from sk_adagrad.datasets import load_docstrings

from helpers.float32 import assert_close_in_float32
from oracles.eager_adagrad import encode_targets

U = 2.0**-24

# Observed: the float32 and float64 trajectories differ by at most 0.5 of the
# first-order bound (docstring batches, squared hinge).
SLACK = 2.0

# The bound must say something: float32 within 5% of the largest weight at
# worst. Observed: a conditioning of at most 1.4e5 (1.7% with SLACK), on the
# first step of the 55-class hinge, where a feature's gradient sums terms of
# both signs that nearly cancel and Adagrad's first step is lr times its sign;
# a step on the intercept's first gradient when that is pure noise makes it
# 1e10 to 1e11.
MEANINGFUL = 0.05

# scikit-learn's test_sgd_numerical_consistency: two symmetric classes, so
# that the intercept's best constant is 0 and its first gradient is noise.
SIX_POINTS = (
    np.array([[-2, -1], [-1, -1], [-1, -2], [1, 1], [1, 2], [2, 1]], dtype=float),
    np.array([1, 1, 1, 2, 2, 2]),
)


@pytest.fixture(scope="module")
def docstrings():
    data, target = load_docstrings(max_docs_per_class=40, return_X_y=True)
    return TfidfVectorizer().fit_transform(data), target


def interleaved_pair(X, target, first, second, per_class=39):
    """Rows of two classes in runs of three, alternating: every batch of six is
    balanced and starts the intercept where its gradient is noise."""
    runs = [
        np.flatnonzero(target == label)[:per_class].reshape(-1, 3)
        for label in (first, second)
    ]
    rows = np.column_stack(runs).ravel()
    return X[rows], target[rows]


def model(loss):
    return AdagradClassifier(loss=loss, shuffle=False, batch_size=10**6)


def state(estimator):
    return np.column_stack([estimator.coef_, estimator.intercept_[:, None]]).astype(
        np.float64
    )


def batch_terms(estimator, X_batch, Y, first):
    """The per-row terms ``t_i`` of the gradient of the float64 model's next
    step on ``X_batch`` (encoded targets ``Y``): the loss's derivative at the
    margins before the step (the best constant of the batch before the first
    one), divided by the batch's size."""
    multinomial = estimator.loss == "log_loss" and Y.shape[1] > 2
    loss = make_loss(estimator.loss, multinomial=multinomial)
    if first:
        margins = np.broadcast_to(loss.best_constant(Y, np.ones(len(Y))), Y.shape)
    else:
        margins = estimator.decision_function(X_batch).reshape(Y.shape)
    return loss.derivative(Y, margins) / len(Y)


def step_rounding_bound(estimator, X_batch, terms):
    """``a_r`` of the module docstring for the step the float64 ``estimator``
    just took on ``X_batch`` with gradient terms ``terms``."""
    spread = np.vstack(
        [abs(sp.csr_array(X_batch)).T @ abs(terms), abs(terms).sum(axis=0)]
    )
    accumulators = np.vstack(
        [estimator.coef_accumulator_.T, estimator.intercept_accumulator_]
    )
    steps = estimator.lr_ * spread / (np.sqrt(accumulators) + estimator.eps)
    # A coordinate whose accumulator is still 0 has had only gradients within
    # their rounding error, which both models count as zero: it has not moved.
    steps[accumulators == 0] = 0.0
    return (len(terms) + 2) * U * steps.max()


def assert_float32_follows_float64(loss, X, y, batch_size):
    classes = np.unique(y)
    multinomial = loss == "log_loss" and len(classes) > 2
    exact, rounded = model(loss), model(loss)
    X32 = X.astype(np.float32)
    bound_sum = 0.0
    for start in range(0, X.shape[0], batch_size):
        rows = slice(start, start + batch_size)
        Y = encode_targets(y[rows], classes, multinomial=multinomial)
        terms = batch_terms(exact, X[rows], Y, first=start == 0)
        exact.partial_fit(X[rows], y[rows], classes=classes)
        rounded.partial_fit(X32[rows], y[rows], classes=classes)
        assert rounded.coef_.dtype == np.float32
        bound_sum += step_rounding_bound(exact, X[rows], terms)
        expected = state(exact)
        scale = np.abs(expected).max()
        conditioning = (bound_sum + U * scale) / (U * scale)
        difference = np.abs(state(rounded) - expected).max()
        assert SLACK * conditioning * U <= MEANINGFUL, (
            f"step {exact.t_}: the float64 trajectory is so sensitive to "
            f"rounding (conditioning {conditioning:.3g}) that float32 may "
            "differ by anything"
        )
        assert difference <= SLACK * conditioning * U * scale, (
            f"step {exact.t_}: float32 and float64 differ by "
            f"{difference / (U * scale):.3g} U of the largest weight, the "
            f"bound is {SLACK * conditioning:.3g} U"
        )


@pytest.mark.parametrize("loss", ["hinge", "log_loss", "squared_hinge"])
@pytest.mark.parametrize("sparse", [False, True], ids=["dense", "csr"])
def test_six_points_agree_after_every_step(loss, sparse):
    X, y = SIX_POINTS
    # scikit-learn's case fits 22 epochs of one step each.
    X = np.tile(X, (22, 1))
    y = np.tile(y, 22)
    assert_float32_follows_float64(loss, sp.csr_array(X) if sparse else X, y, 6)


@pytest.mark.parametrize("loss", ["hinge", "log_loss", "squared_hinge"])
@pytest.mark.parametrize("pair", [(0, 1), (10, 11)])
def test_docstring_pairs_agree_after_every_step(docstrings, loss, pair):
    X, target = docstrings
    labels = np.unique(target)
    X, y = interleaved_pair(X, target, labels[pair[0]], labels[pair[1]])
    assert_float32_follows_float64(loss, X, y, 6)


@pytest.mark.parametrize("loss", ["hinge", "log_loss"])
def test_docstring_classes_agree_after_every_step(docstrings, loss):
    X, y = docstrings
    order = np.random.default_rng(0).permutation(len(y))
    assert_float32_follows_float64(loss, X[order], y[order], 220)


def test_the_noise_of_the_first_step_is_no_step():
    """On the six points the intercept's first gradient is rounding noise in
    float32 (-3e-8, a float32 sum of three 1/6 and three -1/6): its accumulator
    stays 0 and its value the best constant, 0, as in float64."""
    X, y = SIX_POINTS
    for dtype in (np.float32, np.float64):
        estimator = model("hinge").partial_fit(X.astype(dtype), y, classes=[1, 2])
        assert estimator.intercept_accumulator_[0] == 0.0
        assert estimator.intercept_[0] == 0.0


def test_float32_and_float64_models_of_the_same_numbers_agree_to_float32():
    X, y, sample_weight = block_problem("multinomial", 3)
    X32 = X.astype(np.float32)
    params = dict(penalty="elasticnet", alpha=0.05, batch_size=4, max_iter=3)
    fit32 = make_model("multinomial", "log_loss", **params)
    fit64 = make_model("multinomial", "log_loss", **params)
    fit32.fit(sp.csr_array(X32), y, sample_weight=sample_weight)
    fit64.fit(sp.csr_array(X32.astype(np.float64)), y, sample_weight=sample_weight)
    assert fit64.coef_.dtype == np.float64
    assert_close_in_float32(fit32.coef_, fit64.coef_, fit32.t_, "coef_")
    assert_array_equal(fit32.predict(X32), fit64.predict(X32))
