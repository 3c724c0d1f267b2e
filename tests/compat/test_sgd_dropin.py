"""What code written for SGDClassifier and SGDRegressor relies on, one test per
behaviour that scikit-learn's own SGD tests (tests/compat/test_sklearn_sgd.py) found
missing: a given start (``coef_init``, ``intercept_init``) and how it meets
``warm_start``, ``l1_ratio=None``, ``early_stopping`` with ``partial_fit``, the
regression losses in the classifier, divergence as a ``ValueError``, a held-out
set of zero weight, and data order without shuffling."""

import pickle

import numpy as np
import pytest
import scipy.sparse as sp
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.base import clone, is_classifier
from sklearn.model_selection import train_test_split

from sk_adagrad import AdagradClassifier, AdagradRegressor, DivergenceError
from sk_adagrad._engine import SparseAdagrad
from sk_adagrad._losses import make_loss
from sk_adagrad._penalty import ElasticNet

from helpers.fitted_models import X as FITTED_X
from helpers.fitted_models import assert_unchanged, fitted, snapshot, targets_for
from oracles.eager_adagrad import EagerAdagrad, encode_targets

rng = np.random.default_rng(0)
X_DENSE = rng.normal(size=(60, 5)) * (rng.random((60, 5)) < 0.6)
X = sp.csr_array(X_DENSE)
Y_BINARY = np.where(X_DENSE @ rng.normal(size=5) > 0, "yes", "no")
Y_THREE = np.resize(["a", "b", "c"], 60)
Y_VALUES = X_DENSE @ rng.normal(size=5) + 0.5

PROBLEMS = {
    "binary": (AdagradClassifier, Y_BINARY),
    "three_classes": (AdagradClassifier, Y_THREE),
    "regression": (AdagradRegressor, Y_VALUES),
}
SMALL = dict(batch_size=7, max_iter=3, tol=None, shuffle=False, random_state=0)


def n_outputs_of(y):
    return 1 if y is Y_VALUES or len(np.unique(y)) == 2 else len(np.unique(y))


# -- 1. coef_init and intercept_init -------------------------------------------


@pytest.mark.parametrize("problem", PROBLEMS)
def test_given_start_is_where_the_steps_begin(problem):
    # The lazy, sparse estimator against eager proximal Adagrad started by hand
    # at the same point, with a penalty that shrinks the start at every step.
    Model, y = PROBLEMS[problem]
    n_outputs = n_outputs_of(y)
    start_rng = np.random.default_rng(1)
    coef_init = start_rng.normal(size=(n_outputs, X.shape[1]))
    intercept_init = start_rng.normal(size=n_outputs)
    params = dict(penalty="elasticnet", alpha=0.05, l1_ratio=0.5, lr=0.2, **SMALL)
    model = Model(**params).fit(
        X, y, coef_init=coef_init, intercept_init=intercept_init
    )

    classes = np.unique(y) if is_classifier(model) else None
    penalty = ElasticNet.from_params("elasticnet", 0.05, 0.5)
    eager = EagerAdagrad(
        X.shape[1],
        n_outputs,
        loss=make_loss(model.loss),
        lr=0.2,
        l1=penalty.l1,
        l2=penalty.l2,
    )
    eager.w, eager.b = coef_init.T.copy(), intercept_init.copy()
    eager.run(X, encode_targets(y, classes), np.ones(len(y)), batch_size=7, n_epochs=3)

    assert model.t_ == eager.t
    assert_allclose(np.reshape(model.coef_, (n_outputs, -1)), eager.coef.T, rtol=1e-9)
    assert_allclose(model.intercept_, eager.intercept, rtol=1e-9)


@pytest.mark.parametrize(
    ("problem", "coef_shape", "intercept_shape"),
    [("binary", (5,), ()), ("binary", (1, 5), (1,)), ("three_classes", (3, 5), (3,))]
    + [("regression", (5,), ()), ("regression", (5,), (1,))],
)
def test_start_shapes_accepted_as_in_scikit_learn(problem, coef_shape, intercept_shape):
    Model, y = PROBLEMS[problem]
    n_outputs = n_outputs_of(y)
    coef_init = np.arange(5 * n_outputs, dtype=float).reshape(coef_shape) / 10
    model = Model(**SMALL).fit(
        X, y, coef_init=coef_init, intercept_init=np.ones(intercept_shape)
    )
    full_shape = (n_outputs, 5)
    reference = Model(**SMALL).fit(
        X, y, coef_init=coef_init.reshape(full_shape), intercept_init=[1.0] * n_outputs
    )
    assert_array_equal(model.coef_, reference.coef_)
    # A sparse start, as a sparsified model's coef_, is read the same way.
    sparse = Model(**SMALL).fit(
        X,
        y,
        coef_init=sp.csr_matrix(coef_init.reshape(full_shape)),
        intercept_init=np.ones(intercept_shape),
    )
    assert_array_equal(sparse.coef_, model.coef_)


@pytest.mark.parametrize(
    ("problem", "argument", "shape", "expected"),
    [
        ("binary", "coef_init", (2, 5), r"\(2, 5\), expected \(1, 5\) or \(5,\)"),
        ("binary", "intercept_init", (2,), r"\(2,\), expected \(1,\) or \(\)"),
        ("three_classes", "coef_init", (5,), r"\(5,\), expected \(3, 5\)"),
        ("three_classes", "intercept_init", (1,), r"\(1,\), expected \(3,\)"),
        ("regression", "coef_init", (4,), r"\(4,\), expected \(1, 5\) or \(5,\)"),
    ],
)
def test_start_of_the_wrong_shape_is_refused_and_changes_nothing(
    problem, argument, shape, expected
):
    Model, y = PROBLEMS[problem]
    model = Model(**SMALL).fit(X, y)
    before = snapshot(model)
    for warm_start in (False, True):
        model.set_params(warm_start=warm_start)
        with pytest.raises(ValueError, match=f"{argument} does not match.*{expected}"):
            model.fit(X, y, **{argument: np.zeros(shape)})
        model.set_params(warm_start=False)
        assert_unchanged(model, before)
    with pytest.raises(ValueError, match="coef_init contains NaN"):
        Model(**SMALL).fit(X, y, coef_init=np.full((n_outputs_of(y), 5), np.nan))


@pytest.mark.parametrize("model_name", ["classifier", "regressor"])
def test_warm_start_carries_the_accumulators_and_a_given_start_does_not(model_name):
    model = fitted(model_name)
    y = targets_for(model)
    steps = model.t_
    accumulators = model.coef_accumulator_

    warm = pickle.loads(pickle.dumps(model)).fit(FITTED_X, y)
    assert warm.t_ == 2 * steps
    assert np.all(warm.coef_accumulator_ >= accumulators)
    assert np.any(warm.coef_accumulator_ > accumulators)

    # A given start, even under warm_start, begins a new optimizer there: the
    # same model as a cold fit from that start.
    restarted = pickle.loads(pickle.dumps(model))
    restarted.fit(
        FITTED_X,
        y,
        coef_init=model.coef_,
        intercept_init=np.full_like(model.intercept_, 0.5),
    )
    cold = clone(model).set_params(warm_start=False)
    cold.fit(
        FITTED_X,
        y,
        coef_init=model.coef_,
        intercept_init=np.full_like(model.intercept_, 0.5),
    )
    assert restarted.t_ == steps
    assert pickle.dumps(restarted.optimizer_) == pickle.dumps(cold.optimizer_)

    # Under warm_start the part not given is the fitted model's, as in SGD.
    only_intercept = pickle.loads(pickle.dumps(model))
    only_intercept.fit(FITTED_X, y, intercept_init=model.intercept_)
    both = clone(model).set_params(warm_start=False)
    both.fit(FITTED_X, y, coef_init=model.coef_, intercept_init=model.intercept_)
    assert pickle.dumps(only_intercept.optimizer_) == pickle.dumps(both.optimizer_)


def test_failed_fit_from_a_given_start_keeps_the_previous_model():
    model = fitted("regressor")
    before, lr = snapshot(model), model.lr
    model.set_params(lr=1e300)
    with pytest.raises(DivergenceError):
        model.fit(FITTED_X, targets_for(model), coef_init=model.coef_ * 2)
    assert_unchanged(model.set_params(lr=lr), before)


def test_engine_start_is_journaled_like_a_step():
    engine = fitted("classifier").optimizer_
    fresh = SparseAdagrad(
        *engine.coef.shape,
        loss=engine.loss,
        schedule=engine.schedule,
        penalty=engine.penalty,
        eps=engine.eps,
        initial_accumulator_value=0.0,
        fit_intercept=True,
        average_from_sample=0,
    )
    fresh.begin()
    fresh.start_from(np.ones(fresh.coef.shape), np.ones(fresh.intercept.shape))
    assert fresh.coef.all() and fresh.intercept.all()
    fresh.rollback()
    assert not fresh.coef.any() and not fresh.intercept.any()
    with pytest.raises(RuntimeError, match="taken no step"):
        engine.start_from(np.ones(engine.coef.shape))


# -- 2. l1_ratio=None ----------------------------------------------------------


@pytest.mark.parametrize("Model", [AdagradClassifier, AdagradRegressor])
def test_l1_ratio_may_be_none_unless_the_penalty_is_elastic_net(Model):
    y = Y_BINARY if Model is AdagradClassifier else Y_VALUES
    for penalty in ("l1", "l2", None):
        unused = Model(penalty=penalty, l1_ratio=None, **SMALL).fit(X, y)
        given = Model(penalty=penalty, l1_ratio=0.7, **SMALL).fit(X, y)
        assert_array_equal(unused.coef_, given.coef_)
    model = Model(penalty="elasticnet", l1_ratio=None)
    with pytest.raises(ValueError, match="l1_ratio must be set when penalty is"):
        model.fit(X, y)
    with pytest.raises(ValueError, match="l1_ratio must be set when penalty is"):
        partial_fit(model, X, y)
    assert not hasattr(model, "optimizer_")


def partial_fit(model, X, y, **kwargs):
    if is_classifier(model):
        kwargs["classes"] = np.unique(y)
    return model.partial_fit(X, y, **kwargs)


# -- 3. early_stopping with partial_fit ------------------------------------------


@pytest.mark.parametrize("model_name", ["classifier", "regressor"])
def test_partial_fit_refuses_early_stopping(model_name):
    model = fitted(model_name)
    before = snapshot(model)
    model.set_params(early_stopping=True)
    with pytest.raises(ValueError, match="early_stopping should be False with partial"):
        partial_fit(model, FITTED_X, targets_for(model))
    assert_unchanged(model.set_params(early_stopping=False), before)
    unfitted = clone(model).set_params(early_stopping=True)
    with pytest.raises(ValueError, match="early_stopping should be False with partial"):
        partial_fit(unfitted, FITTED_X, targets_for(model))
    assert not hasattr(unfitted, "optimizer_")


# -- 4. regression losses in the classifier --------------------------------------


@pytest.mark.parametrize(
    "loss",
    ["squared_error", "huber", "epsilon_insensitive", "squared_epsilon_insensitive"],
)
@pytest.mark.parametrize("y", [Y_BINARY, Y_THREE], ids=["binary", "three_classes"])
def test_classifier_fits_regression_losses_one_vs_rest(loss, y):
    # Each output is the regressor of the same loss on its class coded -1/+1,
    # as SGDClassifier does.
    params = dict(loss=loss, epsilon=0.3, lr=0.3, **SMALL)
    model = AdagradClassifier(**params).fit(X, y)
    assert not hasattr(model, "predict_proba")
    classes = np.unique(y)
    codes = encode_targets(y, classes)
    for output in range(codes.shape[1]):
        regressor = AdagradRegressor(**params).fit(X, codes[:, output])
        assert_allclose(model.coef_[output], regressor.coef_, rtol=1e-12)
        assert_allclose(model.intercept_[output], regressor.intercept_[0], rtol=1e-12)
    margins = model.decision_function(X).reshape(len(y), -1)
    expected = (
        classes[(margins[:, 0] > 0).astype(int)]
        if len(classes) == 2
        else classes[margins.argmax(axis=1)]
    )
    assert_array_equal(model.predict(X), expected)


def test_classifier_epsilon_is_the_loss_threshold():
    # From one start: Huber's own starts at the median, the squared error's at
    # the mean.
    def fit(**params):
        model = AdagradClassifier(**params, **SMALL)
        return model.fit(X, Y_BINARY, intercept_init=0.0)

    narrow = fit(loss="huber", epsilon=0.01)
    wide = fit(loss="huber", epsilon=10.0)
    squared = fit(loss="squared_error")
    # Within a wide threshold Huber is the squared error; a narrow one is not.
    assert_allclose(wide.coef_, squared.coef_, rtol=1e-12)
    assert not np.allclose(narrow.coef_, squared.coef_)


@pytest.mark.parametrize(
    "loss", ["huber", "epsilon_insensitive", "squared_epsilon_insensitive"]
)
def test_balanced_classes_start_at_the_midpoint_for_regression_losses(loss):
    # Half the weight on each class: any intercept in [-1, 1] is a median of
    # the codes, and the start favours neither class.
    y = np.array(["no", "yes"] * 3)
    engine = AdagradClassifier(loss=loss, max_iter=1).fit(X[:6], y).optimizer_
    codes = encode_targets(y, ["no", "yes"])
    assert_array_equal(engine.loss.best_constant(codes, np.ones(6)), [0.0])
    weighted = np.array([2.0, 1.0, 1.0, 1.0, 1.0, 2.0])
    assert_array_equal(engine.loss.best_constant(codes, weighted), [0.0])
    more_yes = weighted + [0, 1, 0, 0, 0, 0]
    assert engine.loss.best_constant(codes, more_yes) > 0


# -- 6. divergence is a ValueError -----------------------------------------------


def test_divergence_is_caught_as_a_value_error():
    assert issubclass(DivergenceError, FloatingPointError)
    model = AdagradRegressor(lr=1e300, **SMALL)
    with pytest.raises(ValueError, match="Adagrad diverged") as caught:
        model.fit(X, Y_VALUES * 1e300)
    assert isinstance(caught.value, DivergenceError)
    assert not hasattr(model, "optimizer_")


# -- 7. a held-out set of zero weight ----------------------------------------------


@pytest.mark.parametrize("Model", [AdagradClassifier, AdagradRegressor])
def test_held_out_rows_of_zero_weight_are_refused_before_any_step(Model, monkeypatch):
    y = Y_THREE if Model is AdagradClassifier else Y_VALUES
    # The split early_stopping makes for this seed, made the same way.
    _, held_out = train_test_split(
        np.arange(len(y)),
        test_size=0.2,
        random_state=np.random.RandomState(0),
        stratify=y if Model is AdagradClassifier else None,
    )
    sample_weight = np.ones(len(y))
    sample_weight[held_out] = 0.0

    def no_step(*args, **kwargs):
        raise AssertionError("a step was taken")

    monkeypatch.setattr(SparseAdagrad, "step", no_step)
    model = Model(early_stopping=True, validation_fraction=0.2, random_state=0)
    with pytest.raises(ValueError, match="The sample weights for validation set are"):
        model.fit(X, y, sample_weight=sample_weight)
    assert not hasattr(model, "optimizer_")
    monkeypatch.undo()
    # Any other held-out row of nonzero weight is enough.
    sample_weight[held_out[0]] = 1.0
    model.fit(X, y, sample_weight=sample_weight)


# -- 8. data order without shuffling -------------------------------------------------


@pytest.mark.parametrize("Model", [AdagradClassifier, AdagradRegressor])
def test_without_shuffling_training_rows_are_visited_in_data_order(Model):
    y = Y_THREE if Model is AdagradClassifier else Y_VALUES
    params = dict(batch_size=8, max_iter=4, tol=None, shuffle=False)
    stopping = Model(
        early_stopping=True, validation_fraction=0.25, random_state=3, **params
    )
    stopping.fit(X, y)
    train, _ = train_test_split(
        np.arange(len(y)),
        test_size=0.25,
        random_state=np.random.RandomState(3),
        stratify=y if Model is AdagradClassifier else None,
    )
    rows = np.sort(train)
    plain = Model(**params).fit(X[rows], y[rows])
    assert pickle.dumps(stopping.optimizer_) == pickle.dumps(plain.optimizer_)
