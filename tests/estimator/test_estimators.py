"""Behaviour of the estimators' API: options, attributes and their shapes."""

import copy
import pickle
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from scipy.special import softmax
from sklearn.datasets import make_classification, make_regression
from sklearn.exceptions import ConvergenceWarning
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import SGDClassifier

from sk_adagrad import AdagradClassifier, AdagradRegressor
from sk_adagrad._step_policy import StepPolicy
from sk_adagrad.datasets import load_docstrings

from helpers.float32 import float32_state


@pytest.fixture(scope="module")
def three_classes():
    X, y = make_classification(
        300, 20, n_informative=8, n_classes=3, random_state=0, n_clusters_per_class=1
    )
    return sp.csr_matrix(np.where(np.abs(X) > 0.7, X, 0.0)), y


def test_binary_shapes_follow_sklearn(three_classes):
    X, y = three_classes
    model = AdagradClassifier(random_state=0).fit(X, y == 1)
    assert model.coef_.shape == (1, X.shape[1])
    assert model.intercept_.shape == (1,)
    assert model.coef_accumulator_.shape == model.coef_.shape
    assert model.decision_function(X).shape == (X.shape[0],)
    assert set(model.predict(X)) <= {False, True}


def test_multiclass_trains_all_outputs_in_one_pass(three_classes):
    X, y = three_classes
    model = AdagradClassifier(random_state=0, max_iter=3, tol=None, batch_size=16)
    model.fit(X, y)
    assert model.coef_.shape == (3, X.shape[1])
    # One step per mini-batch, whatever the number of classes.
    assert model.t_ == 3 * int(np.ceil(X.shape[0] / model.batch_size))


def test_multinomial_probabilities_are_the_softmax_of_the_margins(three_classes):
    X, y = three_classes
    model = AdagradClassifier(loss="log_loss", random_state=0).fit(X, y)
    np.testing.assert_allclose(
        model.predict_proba(X), softmax(model.decision_function(X), axis=1)
    )
    ovr = AdagradClassifier(loss="log_loss", multi_class="ovr", random_state=0)
    proba = ovr.fit(X, y).predict_proba(X)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)


@pytest.mark.parametrize("loss", ["hinge", "squared_hinge", "perceptron"])
def test_probabilities_only_where_the_loss_gives_them(three_classes, loss):
    X, y = three_classes
    model = AdagradClassifier(loss=loss).fit(X, y)
    assert not hasattr(model, "predict_proba")
    assert not hasattr(model, "predict_log_proba")
    # The error says which parameter to change, and to what.
    for method in ["predict_proba", "predict_log_proba"]:
        with pytest.raises(AttributeError) as error:
            getattr(model, method)(X)
        message = str(error.value)
        assert method in message and f"loss={loss!r}" in message
        assert "loss='log_loss'" in message and "loss='modified_huber'" in message
    # Asked for probabilities after set_params, before a new fit: the model
    # says that its fitted loss gives none, and how to get them.
    model.set_params(loss="log_loss")
    with pytest.raises(ValueError, match="fit it again to use loss='log_loss'"):
        model.predict_proba(X)
    model.fit(X, y)
    assert np.allclose(model.predict_proba(X).sum(axis=1), 1.0)


@pytest.mark.parametrize("loss", ["log_loss", "modified_huber"])
def test_probability_methods_are_documented_and_bound(three_classes, loss):
    # On the class, the plain function with its docstring (for the API pages);
    # on an instance, a method bound to it.
    assert AdagradClassifier.predict_proba.__doc__.startswith("Class probabilities")
    X, y = three_classes
    model = AdagradClassifier(loss=loss, random_state=0).fit(X, y)
    assert model.predict_proba.__self__ is model
    np.testing.assert_allclose(
        model.predict_log_proba(X), np.log(model.predict_proba(X))
    )


def test_multinomial_needs_log_loss(three_classes):
    X, y = three_classes
    with pytest.raises(ValueError, match="multinomial.*log_loss"):
        AdagradClassifier(multi_class="multinomial").fit(X, y)


def test_modified_huber_probabilities_match_sgd_rule(three_classes):
    X, y = three_classes
    model = AdagradClassifier(loss="modified_huber", random_state=0).fit(X, y == 0)
    z = model.decision_function(X)
    expected = (np.clip(z, -1, 1) + 1) / 2
    np.testing.assert_allclose(model.predict_proba(X)[:, 1], expected)


def test_string_labels_and_class_weight(three_classes):
    X, y = three_classes
    labels = np.array(["ham", "spam", "eggs"])[y]
    model = AdagradClassifier(class_weight="balanced", random_state=0).fit(X, labels)
    assert list(model.classes_) == ["eggs", "ham", "spam"]
    assert set(model.predict(X)) <= set(labels)


def test_partial_fit_continues_the_schedule(three_classes):
    X, y = three_classes
    model = AdagradClassifier(batch_size=100, shuffle=False)
    model.partial_fit(X, y, classes=[0, 1, 2])
    assert model.t_ == 3
    accumulator = model.coef_accumulator_.copy()
    model.partial_fit(X[:100], y[:100])
    assert model.t_ == 4
    assert np.all(model.coef_accumulator_ >= accumulator)
    with pytest.raises(ValueError, match="not in classes"):
        model.partial_fit(X[:5], np.array([0, 1, 2, 3, 0]))


def test_warm_start_continues_and_cold_fit_restarts(three_classes):
    X, y = three_classes
    model = AdagradClassifier(max_iter=2, tol=None, warm_start=True).fit(X, y)
    first = model.t_
    model.fit(X, y)
    assert model.t_ == 2 * first
    model.set_params(warm_start=False).fit(X, y)
    assert model.t_ == first


def test_tol_none_runs_exactly_max_iter(three_classes):
    X, y = three_classes
    model = AdagradClassifier(max_iter=7, tol=None).fit(X, y)
    assert model.n_iter_ == 7


def test_early_stopping_holds_out_data(three_classes, capsys):
    X, y = three_classes
    model = AdagradClassifier(
        early_stopping=True, n_iter_no_change=2, max_iter=50, verbose=1, random_state=0
    ).fit(X, y)
    assert model.n_iter_ < 50
    assert "validation score" in capsys.readouterr().out


def test_verbose_prints_one_line_per_epoch_and_step_statistics(three_classes, capsys):
    X, y = three_classes
    AdagradClassifier(max_iter=3, tol=None, verbose=1).fit(X, y)
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 5 and all(line.startswith("-- Epoch") for line in lines[:3])
    # Two quantities, two names: the epoch's running loss (each batch before
    # its step, no penalty) and the fitted model's objective at the end.
    assert all(": running loss " in line for line in lines[:3])
    assert not any("objective" in line for line in lines[:3])
    # Why the fit stopped, and how it compares with the best constant model.
    assert lines[3] == "Stopped after epoch 3: max_iter=3 epochs run."
    assert lines[4].startswith("Fitted model's objective ")
    assert "mean loss plus penalty" in lines[4] and "running loss" not in lines[4]
    assert "best constant model's" in lines[4]
    AdagradClassifier(max_iter=50, tol=1e-2, n_iter_no_change=2, verbose=1).fit(X, y)
    stop = capsys.readouterr().out.strip().splitlines()[-2]
    assert "did not improve by tol=0.01 for 2 epochs" in stop
    AdagradClassifier(max_iter=2, tol=None, verbose=2).fit(X, y)
    out = capsys.readouterr().out
    assert out.count("mean step size") == 2 and "active features per step" in out


def test_verbose_step_size_is_that_of_coordinates_that_have_had_a_gradient(capsys):
    # One-vs-rest hinge on text: from the constant start, many (feature,
    # class) entries of a step have no gradient yet; their lr / eps (3e9)
    # would swamp the mean of the others (lr / sqrt(G), about a hundred).
    docs = load_docstrings(max_docs_per_class=5)
    X = TfidfVectorizer().fit_transform(docs.data)
    model = AdagradClassifier(max_iter=1, tol=None, verbose=2, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(X, docs.target)
    out = capsys.readouterr().out
    size = float(out.split("mean step size ")[1].split()[0])
    assert 0 < size < 1e4


def test_sparsify_keeps_predictions(three_classes):
    X, y = three_classes
    model = AdagradClassifier(penalty="l1", alpha=1e-3, random_state=0).fit(X, y)
    dense_predictions = model.predict(X)
    model.sparsify()
    assert sp.issparse(model.coef_)
    np.testing.assert_array_equal(model.predict(X), dense_predictions)
    assert isinstance(model.densify().coef_, np.ndarray)


def test_regressor_shapes_and_fit():
    X, y = make_regression(400, 10, noise=1.0, random_state=0)
    model = AdagradRegressor(lr=1.0, random_state=0).fit(X, y / y.std())
    assert model.coef_.shape == (10,)
    assert model.intercept_.shape == (1,)
    assert model.score(X, y / y.std()) > 0.95


def test_beats_sgd_defaults_on_a_sparse_text_like_problem():
    rng = np.random.default_rng(0)
    X = sp.random(2000, 3000, density=0.01, random_state=0, format="csr")
    w = rng.normal(size=(3000, 4))
    y = np.asarray(X @ w).argmax(axis=1)
    train, test = slice(0, 1500), slice(1500, None)
    ours = AdagradClassifier(random_state=0).fit(X[train], y[train])
    sgd = SGDClassifier(random_state=0).fit(X[train], y[train])
    assert ours.score(X[test], y[test]) >= sgd.score(X[test], y[test]) - 0.02


def test_average_cannot_change_on_a_fitted_model(three_classes):
    X, y = three_classes
    model = AdagradClassifier(average=True).partial_fit(X, y, classes=[0, 1, 2])
    with pytest.raises(ValueError, match="average"):
        model.set_params(average=False).partial_fit(X, y)
    model.set_params(warm_start=False).fit(X, y)
    assert model.optimizer_.average_from_sample == 0


@pytest.mark.parametrize("average", [False, 5])
@pytest.mark.parametrize("Model", [AdagradClassifier, AdagradRegressor])
def test_weights_read_block_by_block_equal_the_whole_materialized_ones(Model, average):
    # Small blocks, so that coef_ is assembled from many of them; a wide sparse X
    # and small batches, so that many rows are behind on penalty steps.
    X = sp.random(120, 400, density=0.02, random_state=0, format="csr")
    y = np.arange(120) % 3 if Model is AdagradClassifier else np.asarray(X.sum(axis=1))
    model = Model(batch_size=7, average=average, max_iter=3, tol=None, random_state=0)
    model._step_policy = StepPolicy(block_entries=64)
    model.fit(X, np.ravel(y))
    engine = model.optimizer_
    assert engine.last_step.min() < engine.t
    assert engine._materialized is None
    blocked, intercept = model.coef_, model.intercept_
    W, b = engine.materialize()
    whole = W.T[0] if Model is AdagradRegressor else W.T
    np.testing.assert_array_equal(blocked, whole)
    np.testing.assert_array_equal(intercept, b)
    # Once materialized, coef_ is read from the materialized weights.
    np.testing.assert_array_equal(model.coef_, whole)
    accumulators = engine.coef_accumulator.T
    np.testing.assert_array_equal(
        model.coef_accumulator_,
        accumulators[0] if Model is AdagradRegressor else accumulators,
    )


@pytest.mark.parametrize("average", [False, 5])
@pytest.mark.parametrize("Model", [AdagradClassifier, AdagradRegressor])
def test_final_weights_in_place_equal_the_materialized_ones(Model, average):
    # What a search's stack hands over at its end, computed in its own memory.
    X = sp.random(120, 400, density=0.02, random_state=0, format="csr")
    y = np.arange(120) % 3 if Model is AdagradClassifier else np.asarray(X.sum(axis=1))
    model = Model(batch_size=7, average=average, alpha=1e-2, max_iter=3, tol=None)
    model.set_params(random_state=0).fit(X, np.ravel(y))
    engine = model.optimizer_
    assert engine.last_step.min() < engine.t
    W, b = engine.materialize()
    W, b = W.copy(), b.copy()
    final_W, final_b = copy.deepcopy(engine).final_weights()
    np.testing.assert_array_equal(final_W, W)
    np.testing.assert_array_equal(final_b, b)


@pytest.mark.parametrize("average", [False, 5])
def test_read_weights_are_copies_the_model_never_changes(three_classes, average):
    X, y = three_classes
    model = AdagradClassifier(penalty="l2", average=average, random_state=0)
    model.fit(X, y)
    coef, intercept = model.coef_, model.intercept_
    scores = model.decision_function(X)
    model.coef_[...] = 0.0
    model.intercept_[...] = 0.0
    np.testing.assert_array_equal(model.coef_, coef)
    np.testing.assert_array_equal(model.intercept_, intercept)
    np.testing.assert_array_equal(model.decision_function(X), scores)
    # Reading the weights again after more training leaves older reads as they were.
    kept = coef.copy()
    model.partial_fit(X, y)
    assert not np.array_equal(model.coef_, kept)
    np.testing.assert_array_equal(coef, kept)


# -- a model keeps its dtype ----------------------------------------------------


@pytest.mark.parametrize("method", ["partial_fit", "warm_start"])
def test_float64_batches_train_a_float32_model_as_their_float32_copy(method):
    rng = np.random.default_rng(4)
    X = sp.random_array((40, 12), density=0.3, rng=rng, format="csr")
    y = rng.integers(0, 3, size=40)
    X32 = X.astype(np.float32)

    def train(model, data):
        if method == "partial_fit":
            return model.partial_fit(data, y, classes=[0, 1, 2])
        return model.fit(data, y)

    params = dict(batch_size=8, random_state=0, warm_start=True, max_iter=2, tol=None)
    given_float64 = train(AdagradClassifier(**params), X32)
    given_float32 = train(AdagradClassifier(**params), X32)
    train(given_float64, X)
    train(given_float32, X32)
    assert pickle.dumps(given_float64.optimizer_) == pickle.dumps(
        given_float32.optimizer_
    )
    float32_state(given_float64)
    # Predictions take X as it comes, like SGDClassifier's: float64 margins
    # from float64 X.
    assert given_float64.decision_function(X).dtype == np.float64
    assert given_float64.decision_function(X32).dtype == np.float32


def test_a_float64_model_stays_float64_on_float32_batches():
    rng = np.random.default_rng(5)
    X = rng.normal(size=(30, 5))
    y = X @ rng.normal(size=5)
    model = AdagradRegressor(batch_size=8, random_state=0).partial_fit(X, y)
    model.partial_fit(X.astype(np.float32), y)
    assert model.coef_.dtype == model.optimizer_.coef.dtype == np.float64
