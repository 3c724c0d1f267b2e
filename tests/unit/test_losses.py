"""The losses: derivatives against their values, values and derivatives against
scikit-learn's own loss implementations, stability at huge margins, and the
target encodings the estimators feed them.

Oracles we did not write: the SGD losses of ``sklearn.linear_model._sgd_fast``
(``py_loss``/``py_dloss``, which define SGDClassifier's hinge, perceptron,
squared hinge, modified Huber and the epsilon-insensitive losses, including the
subgradient taken at each kink) and ``sklearn._loss`` (the half binomial,
half multinomial, half squared error and Huber losses that SGD and
LogisticRegression use).
"""

import warnings

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from scipy.optimize import check_grad
from sklearn._loss.loss import (
    HalfBinomialLoss,
    HalfMultinomialLoss,
    HalfSquaredError,
    HuberLoss,
)
from sklearn.linear_model import SGDClassifier, _sgd_fast

from sk_adagrad import AdagradClassifier, AdagradRegressor
from sk_adagrad._losses import (
    CLASSIFICATION_LOSSES,
    PROBABILITY_LOSSES,
    REGRESSION_LOSSES,
    BinaryLog,
    Hinge,
    ModifiedHuber,
    MultinomialLog,
    SquaredError,
    SquaredHinge,
    classification_loss,
    gives_probabilities,
    make_loss,
)

from oracles.eager_adagrad import encode_targets

EPSILON = 0.25  # the regression losses' threshold (exact in binary, so kinks are hit)

# (name, loss, target kind, margins at which the loss has a kink)
CASES = [
    ("hinge", make_loss("hinge"), "binary", [1.0]),
    ("perceptron", make_loss("perceptron"), "binary", [0.0]),
    ("squared_hinge", make_loss("squared_hinge"), "binary", [1.0]),
    ("modified_huber", make_loss("modified_huber"), "binary", [1.0, -1.0]),
    ("log_loss", make_loss("log_loss"), "binary", []),
    ("multinomial", make_loss("log_loss", multinomial=True), "multinomial", []),
    ("squared_error", make_loss("squared_error", epsilon=EPSILON), "regression", []),
    ("huber", make_loss("huber", epsilon=EPSILON), "regression", [EPSILON]),
    (
        "epsilon_insensitive",
        make_loss("epsilon_insensitive", epsilon=EPSILON),
        "regression",
        [EPSILON],
    ),
    (
        "squared_epsilon_insensitive",
        make_loss("squared_epsilon_insensitive", epsilon=EPSILON),
        "regression",
        [EPSILON],
    ),
]
CASE_IDS = [case[0] for case in CASES]


def targets_and_margins(kind, rng, n=200, n_classes=4):
    """Encoded targets ``Y`` and margins ``Z`` of matching shape."""
    if kind == "binary":
        Y = rng.choice([-1.0, 1.0], size=(n, 1))
        Z = 3.0 * rng.normal(size=(n, 1))
    elif kind == "multinomial":
        Y = np.eye(n_classes)[rng.integers(n_classes, size=n)]
        Z = 3.0 * rng.normal(size=(n, n_classes))
    else:
        Y = rng.normal(size=(n, 1))
        Z = Y + rng.normal(size=(n, 1))
    return Y, Z


def distance_to_kinks(kind, kinks, Y, Z):
    """How far each margin is from the loss's nearest kink."""
    if not kinks:
        return np.full(Z.shape, np.inf)
    # Classification kinks are in y z; regression kinks in |z - y|.
    position = Y * Z if kind == "binary" else np.abs(Z - Y)
    return np.min([np.abs(position - kink) for kink in kinks], axis=0)


@pytest.mark.parametrize("name, loss, kind, kinks", CASES, ids=CASE_IDS)
def test_derivative_is_the_derivative_of_the_value(name, loss, kind, kinks):
    rng = np.random.default_rng(0)
    Y, Z = targets_and_margins(kind, rng)
    smooth = distance_to_kinks(kind, kinks, Y, Z) > 1e-3
    Y, Z = Y[smooth.all(axis=1)], Z[smooth.all(axis=1)]
    assert len(Y) > 150

    # Central differences, one output column at a time; the value sums the
    # outputs of a sample, so its change isolates that margin's derivative.
    h = 1e-6
    numeric = np.empty_like(Z)
    for k in range(Z.shape[1]):
        step = np.zeros_like(Z)
        step[:, k] = h
        numeric[:, k] = (loss.value(Y, Z + step) - loss.value(Y, Z - step)) / (2 * h)
    assert_allclose(loss.derivative(Y, Z), numeric, rtol=1e-6, atol=1e-8)

    # scipy's independent check on the total, as a function of all margins.
    def total(z):
        return loss.value(Y, z.reshape(Z.shape)).sum()

    def gradient(z):
        return loss.derivative(Y, z.reshape(Z.shape)).ravel()

    error = check_grad(total, gradient, Z.ravel())
    assert error < 1e-5 * max(1.0, np.linalg.norm(gradient(Z.ravel())))


HUGE = [1e4, -1e4, 1e3, -1e3, 750.0, -750.0, 0.0]


@pytest.mark.parametrize("name, loss, kind, kinks", CASES, ids=CASE_IDS)
def test_huge_margins_are_finite_without_warnings(name, loss, kind, kinks):
    rng = np.random.default_rng(1)
    if kind == "multinomial":
        Z = np.array([[1e4, -1e4, 0.0], [-1e4, -1e4, -1e4], [1e4, 1e4, -1e4]])
        Z = np.vstack([Z, rng.choice(HUGE, size=(20, 3))])
        Y = np.eye(3)[rng.integers(3, size=len(Z))]
    else:
        Z = np.array(HUGE)[:, None]
        Y = np.ones_like(Z)
        if kind == "binary":
            Z, Y = np.vstack([Z, Z]), np.vstack([Y, -Y])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        values = loss.value(Y, Z)
        derivatives = loss.derivative(Y, Z)
    assert np.isfinite(values).all() and np.isfinite(derivatives).all()
    assert (values >= 0).all()


def test_log_losses_at_huge_margins_have_their_asymptotes():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        binary = BinaryLog()
        Y = np.array([[1.0], [1.0], [-1.0], [-1.0]])
        Z = np.array([[-1e4], [1e4], [1e4], [-1e4]])
        assert_array_equal(binary.value(Y, Z), [1e4, 0.0, 1e4, 0.0])
        assert_array_equal(binary.derivative(Y, Z)[:, 0], [-1.0, 0.0, 1.0, 0.0])

        multinomial = MultinomialLog()
        Y = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])
        Z = np.array([[-1e4, 1e4, 0.0], [-1e4, 1e4, 0.0]])
        assert_allclose(multinomial.value(Y, Z), [2e4, 0.0], atol=1e-300)
        assert_allclose(
            multinomial.derivative(Y, Z), [[-1.0, 1.0, 0.0], [0.0, 0.0, 0.0]]
        )


# -- against scikit-learn's SGD losses (kinks included) -----------------------------

SGD_ORACLES = [
    ("hinge", _sgd_fast.Hinge(1.0), "binary"),
    ("perceptron", _sgd_fast.Hinge(0.0), "binary"),
    ("squared_hinge", _sgd_fast.SquaredHinge(1.0), "binary"),
    ("modified_huber", _sgd_fast.ModifiedHuber(), "binary"),
    ("epsilon_insensitive", _sgd_fast.EpsilonInsensitive(EPSILON), "regression"),
    (
        "squared_epsilon_insensitive",
        _sgd_fast.SquaredEpsilonInsensitive(EPSILON),
        "regression",
    ),
]


def sgd_oracle_points(kind, rng):
    """Targets and margins, including margins exactly on the kinks."""
    if kind == "binary":
        y = np.repeat([-1.0, 1.0], 30)
        z = 3 * rng.normal(size=60)
        # Exactly on the kinks y z = 1, 0 and -1, and far out, for both labels.
        z[:10] = z[30:40] = [1.0, 0.0, -1.0, 2.0, -2.0, 1e4, -1e4, 0.5, -0.5, 3.0]
        return y, z
    y = rng.normal(size=60)
    z = y + rng.normal(size=60)
    # |z - y| exactly EPSILON on both sides.
    y[:4] = 0.5
    z[:4] = [0.5 + EPSILON, 0.5 - EPSILON, 0.5, 1e4]
    assert abs(z[0] - y[0]) == EPSILON and abs(z[1] - y[1]) == EPSILON
    return y, z


@pytest.mark.parametrize(
    "name, oracle, kind", SGD_ORACLES, ids=[case[0] for case in SGD_ORACLES]
)
def test_values_and_subgradients_match_sklearn_sgd_losses(name, oracle, kind):
    loss = make_loss(name, epsilon=EPSILON)
    y, z = sgd_oracle_points(kind, np.random.default_rng(2))
    expected_value = [oracle.py_loss(p, t) for p, t in zip(z, y, strict=True)]
    expected_derivative = [oracle.py_dloss(p, t) for p, t in zip(z, y, strict=True)]
    assert_allclose(loss.value(y[:, None], z[:, None]), expected_value, rtol=1e-15)
    assert_allclose(
        loss.derivative(y[:, None], z[:, None])[:, 0],
        expected_derivative,
        rtol=1e-15,
    )


# -- against scikit-learn's common losses --------------------------------------------


def test_log_loss_is_sklearn_half_binomial():
    rng = np.random.default_rng(3)
    y01 = rng.integers(2, size=300).astype(float)
    z = np.concatenate([3 * rng.normal(size=290), [1e4, -1e4, 40, -40, 0] * 2])
    oracle = HalfBinomialLoss()
    Y = (2 * y01 - 1)[:, None]
    value = BinaryLog().value(Y, z[:, None])
    # sklearn computes log(1 + exp(z)) - y z, which loses about 1e-16 absolute
    # (and returns 0 for 4e-18 at y z = 40); hence the absolute tolerance.
    assert_allclose(value, oracle.loss(y01, z), rtol=1e-13, atol=1e-15)
    # Ours is accurate to the last digits everywhere: log1p(exp(-|m|)) + max(-m, 0).
    margin = Y[:, 0] * z
    direct = np.log1p(np.exp(-np.abs(margin))) + np.maximum(-margin, 0.0)
    assert_allclose(value, direct, rtol=1e-15, atol=0)
    assert_allclose(
        BinaryLog().derivative(Y, z[:, None])[:, 0],
        oracle.gradient(y01, z),
        rtol=1e-13,
        atol=1e-300,
    )


def test_multinomial_log_loss_is_sklearn_half_multinomial():
    rng = np.random.default_rng(4)
    n_classes = 5
    labels = rng.integers(n_classes, size=200)
    Z = 3 * rng.normal(size=(200, n_classes))
    Z[:5] = 1e4 * rng.choice([-1.0, 1.0], size=(5, n_classes))
    oracle = HalfMultinomialLoss(n_classes=n_classes)
    Y = np.eye(n_classes)[labels]
    y = labels.astype(float)
    assert_allclose(
        MultinomialLog().value(Y, Z), oracle.loss(y, Z), rtol=1e-12, atol=1e-12
    )
    assert_allclose(
        MultinomialLog().derivative(Y, Z),
        oracle.gradient(y, Z),
        rtol=1e-12,
        atol=1e-15,
    )


@pytest.mark.parametrize("epsilon", [0.05, EPSILON, 2.0])
def test_squared_error_and_huber_are_sklearn_losses(epsilon):
    rng = np.random.default_rng(5)
    y = rng.normal(size=300)
    z = y + 2 * rng.normal(size=300)
    z[:2] = [y[0] + epsilon, y[1] - epsilon]
    Y, Z = y[:, None], z[:, None]
    assert_allclose(SquaredError().value(Y, Z), HalfSquaredError().loss(y, z))
    assert_allclose(SquaredError().derivative(Y, Z)[:, 0], z - y, rtol=1e-15)
    huber = make_loss("huber", epsilon=epsilon)
    oracle = HuberLoss(delta=epsilon)
    assert_allclose(huber.value(Y, Z), oracle.loss(y, z), rtol=1e-13)
    assert_allclose(huber.derivative(Y, Z)[:, 0], oracle.gradient(y, z), rtol=1e-15)


# -- names and encodings ------------------------------------------------------------


def test_loss_names_map_to_the_right_losses():
    assert make_loss("hinge") == Hinge(1.0)
    assert make_loss("perceptron") == Hinge(0.0)
    assert make_loss("squared_hinge") == SquaredHinge(1.0)
    assert make_loss("modified_huber") == ModifiedHuber()
    assert make_loss("log_loss") == BinaryLog()
    assert make_loss("log_loss", multinomial=True) == MultinomialLog()
    assert make_loss("huber", epsilon=0.7).epsilon == 0.7
    assert set(CLASSIFICATION_LOSSES) == {
        "hinge",
        "log_loss",
        "modified_huber",
        "squared_hinge",
        "perceptron",
    }
    assert set(REGRESSION_LOSSES) == {
        "squared_error",
        "huber",
        "epsilon_insensitive",
        "squared_epsilon_insensitive",
    }


ENCODING_CASES = [
    # (loss, multi_class, labels, multinomial encoding expected)
    ("hinge", "auto", ["no", "yes"], False),
    ("log_loss", "auto", ["no", "yes"], False),
    ("hinge", "auto", ["a", "b", "c"], False),
    ("modified_huber", "ovr", [3, 1, 2, 7], False),
    ("log_loss", "ovr", ["a", "b", "c"], False),
    ("log_loss", "auto", ["a", "b", "c"], True),
    ("log_loss", "multinomial", [0, 1, 2, 3], True),
]


@pytest.mark.parametrize("loss, multi_class, labels, multinomial", ENCODING_CASES)
def test_classifier_encodes_targets_as_the_losses_read_them(
    loss, multi_class, labels, multinomial
):
    rng = np.random.default_rng(6)
    y = np.array(labels * 5)[rng.permutation(5 * len(labels))]
    X = rng.normal(size=(len(y), 3))
    model = AdagradClassifier(loss=loss, multi_class=multi_class, max_iter=1, tol=None)
    model.fit(X, y)
    classes = sorted(set(labels))
    assert_array_equal(model.classes_, classes)
    codes = np.searchsorted(model.classes_, y)
    expected = encode_targets(y, classes, multinomial=multinomial)
    assert_array_equal(model._encode_targets(codes), expected)
    n_outputs = 1 if len(classes) == 2 else len(classes)
    assert model.coef_.shape == (n_outputs, 3)
    assert model.optimizer_.loss == make_loss(loss, multinomial=multinomial)


def test_binary_margin_is_positive_for_the_second_class():
    X = np.array([[1.0], [2.0], [-1.0], [-2.0]])
    y = np.array(["pos", "pos", "neg", "neg"])  # classes_ = ['neg', 'pos']
    model = AdagradClassifier(loss="log_loss", penalty=None, max_iter=20, tol=None)
    model.fit(X, y)
    assert model.coef_[0, 0] > 0
    assert_array_equal(model.predict(X), y)
    proba = model.predict_proba(X)
    assert_allclose(proba[:, 1], 1 / (1 + np.exp(-model.decision_function(X))))


def test_regressor_encodes_values_in_one_column():
    rng = np.random.default_rng(7)
    y = rng.normal(size=10)
    model = AdagradRegressor(max_iter=1, tol=None).fit(rng.normal(size=(10, 2)), y)
    assert_array_equal(model._encode_targets(y), encode_targets(y))
    assert model.optimizer_.loss == SquaredError()


# -- links: probabilities and the multinomial choice --------------------------------


@pytest.mark.parametrize("n_classes", [2, 3])
@pytest.mark.parametrize("name", ["log_loss", "modified_huber"])
def test_one_vs_rest_probabilities_are_sgds(name, n_classes):
    rng = np.random.default_rng(8)
    X = rng.normal(size=(120, 4))
    y = rng.integers(n_classes, size=120)
    sgd = SGDClassifier(loss=name, max_iter=5, tol=None, random_state=0).fit(X, y)
    # Large margins too, where modified_huber's probabilities are 0 or 1 and a
    # row of zeros is made uniform.
    X = np.vstack([X, 50 * X[:10], -50 * X[:10]])
    Z = sgd.decision_function(X).reshape(len(X), -1)
    assert_allclose(make_loss(name).proba(Z), sgd.predict_proba(X), rtol=1e-13)


def test_multinomial_probabilities_are_sklearn_half_multinomials():
    Z = 3 * np.random.default_rng(9).normal(size=(50, 4))
    oracle = HalfMultinomialLoss(n_classes=4)
    assert_allclose(
        MultinomialLog().proba(Z), oracle.predict_proba(Z), rtol=1e-13, atol=1e-300
    )


@pytest.mark.parametrize("name", CLASSIFICATION_LOSSES + REGRESSION_LOSSES)
def test_only_log_loss_and_modified_huber_give_probabilities(name):
    loss = make_loss(name, epsilon=EPSILON)
    gives = name in ("log_loss", "modified_huber")
    assert gives_probabilities(name) is gives
    assert (loss.link is not None) is gives
    if not gives:
        with pytest.raises(TypeError, match="gives no probabilities"):
            loss.proba(np.zeros((3, 1)))
    assert PROBABILITY_LOSSES == ("log_loss", "modified_huber")
    assert not gives_probabilities("bogus")


@pytest.mark.parametrize(
    "name, multi_class, n_outputs, expected",
    [
        ("log_loss", "auto", 3, MultinomialLog()),
        ("log_loss", "multinomial", 3, MultinomialLog()),
        ("log_loss", "ovr", 3, BinaryLog()),
        ("log_loss", "auto", 1, BinaryLog()),
        ("hinge", "auto", 3, Hinge(1.0)),
        ("huber", "ovr", 3, make_loss("huber", epsilon=EPSILON)),
    ],
)
def test_classifiers_choose_the_multinomial_for_log_loss_only(
    name, multi_class, n_outputs, expected
):
    loss = classification_loss(
        name, epsilon=EPSILON, multi_class=multi_class, n_outputs=n_outputs
    )
    assert loss == expected
    with pytest.raises(ValueError, match="multi_class='multinomial' needs loss"):
        classification_loss(
            "hinge", epsilon=EPSILON, multi_class="multinomial", n_outputs=n_outputs
        )


def test_the_penalty_counts_once_per_problem():
    # One-vs-rest: K problems, each with its own penalty, averaged; multinomial:
    # one problem, one penalty.
    rng = np.random.default_rng(10)
    labels = rng.integers(3, size=40)
    Z = rng.normal(size=(40, 3))
    weights = rng.random(40)
    for loss, off in [(BinaryLog(), -1.0), (MultinomialLog(), 0.0)]:
        Y = loss.encode_labels(labels, 3)
        assert_array_equal(Y, np.where(np.eye(3)[labels] == 1, 1.0, off))
        mean_loss = np.average(loss.value(Y, Z), weights=weights)
        problems = 1 if loss == MultinomialLog() else 3
        assert loss.objective(Y, Z, weights, 0.6) == pytest.approx(
            mean_loss + 0.6 / problems, rel=1e-15
        )
