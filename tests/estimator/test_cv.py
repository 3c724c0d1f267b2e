"""AdagradClassifierCV and AdagradRegressorCV: every (candidate, fold) trained
as columns of one model must be the plain estimator's fit of that candidate
with the fold's held-out rows weighted zero, on the same batches."""

import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.datasets import make_classification, make_regression
from sklearn.exceptions import ConvergenceWarning, FitFailedWarning
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.model_selection import GridSearchCV, GroupKFold, KFold
from sklearn.pipeline import make_pipeline

from sk_adagrad import (
    AdagradClassifier,
    AdagradClassifierCV,
    AdagradRegressorCV,
)
from sk_adagrad._base import BaseAdagrad
from sk_adagrad._engine import SparseAdagrad
from sk_adagrad._losses import Hinge
from sk_adagrad._penalty import ElasticNet
from sk_adagrad._schedule import Schedule
from sk_adagrad._step_paths import ACTIVE_ROWS, IN_PLACE, PlannedStep

from helpers.cv_search import Recorder, plain_fit, sparse_problem

CASES = {
    "binary-hinge-l2": ("binary", dict(loss="hinge")),
    "ovr-hinge-elasticnet-averaged": (
        "ovr",
        dict(loss="hinge", penalty="elasticnet", average=True),
    ),
    "multinomial-log-l1-decay": (
        "ovr",
        dict(loss="log_loss", penalty="l1", lr_decay=0.05),
    ),
    "regressor-huber": ("regressor", dict(loss="huber")),
}


@pytest.mark.parametrize("case", CASES)
def test_each_column_is_the_plain_fit_with_held_out_rows_weighted_zero(case):
    kind, shared = CASES[case]
    X, y = sparse_problem(kind)
    folds = list(KFold(3, shuffle=True, random_state=0).split(X))
    search_class = AdagradRegressorCV if kind == "regressor" else AdagradClassifierCV
    recorder = Recorder(X)
    common = dict(random_state=0, max_iter=12, batch_size=16, n_threads=1, **shared)
    grid = dict(lr=["auto", 0.1], eps=[1e-10, 1e-2], alpha=["auto", 1e-3])
    search = search_class(cv=folds, scoring=recorder, **grid, **common)
    search.fit(X, y)
    assert len(recorder.models) == 8 * 3
    for params in search.cv_results_["params"]:
        for train, test in folds:
            key = (params["alpha"], params["eps"], params["lr"], test.min())
            coef, intercept, n_iter = recorder.models[key]
            plain = plain_fit(kind, {**common, **params}, X, y, train)
            assert n_iter == plain.n_iter_
            # To rounding: the stack may step its batches by another path
            # (in place or on the active rows) than a one-model fit, and the
            # rounding differences grow through the losses' kinks over the
            # epochs, to 1e-9 of the weights' scale at the largest steps
            # ('auto' on a regression target of scale 5), as much as the
            # plain fit's on the same data sparse and dense.
            scale = np.abs(plain.coef_).max()
            assert_allclose(coef, plain.coef_, rtol=0, atol=1e-7 * scale)
            assert_allclose(intercept, plain.intercept_, rtol=0, atol=1e-7 * scale)


@pytest.mark.parametrize("kind", ["binary", "ovr", "regressor"])
def test_a_stack_of_one_model_is_the_plain_fit_bit_for_bit(kind):
    X, y = sparse_problem(kind)
    train, test = np.arange(60), np.arange(60, 90)
    search_class = AdagradRegressorCV if kind == "regressor" else AdagradClassifierCV
    recorder = Recorder(X)
    params = dict(random_state=0, lr=0.3, eps=1e-6, alpha=1e-3, average=True)
    search_class(cv=[(train, test)], scoring=recorder, **params).fit(X, y)
    ((coef, intercept, n_iter),) = recorder.models.values()
    plain = plain_fit(kind, params, X, y, train)
    assert n_iter == plain.n_iter_
    assert_array_equal(coef, plain.coef_)
    assert_array_equal(intercept, plain.intercept_)


def test_short_rows_get_the_same_larger_steps_in_the_stack_as_in_a_plain_fit():
    # 400 rows of 6 nonzeros: batch_size='auto' gives them 100-row steps (four
    # an epoch, where the rows-only rule gives 32); the stack sizes them from
    # all the rows, as the plain fit with held-out rows weighted zero does.
    X, y = sparse_problem("binary", n_samples=400)
    train, test = np.arange(300), np.arange(300, 400)
    recorder = Recorder(X)
    params = dict(random_state=0, lr=0.3, alpha=1e-3, max_iter=3, tol=None)
    AdagradClassifierCV(cv=[(train, test)], scoring=recorder, **params).fit(X, y)
    ((coef, intercept, n_iter),) = recorder.models.values()
    plain = plain_fit("binary", params, X, y, train)
    assert plain.t_ == 3 * 4
    assert n_iter == plain.n_iter_
    assert_array_equal(coef, plain.coef_)
    assert_array_equal(intercept, plain.intercept_)


def test_float32_input_keeps_every_model_float32():
    X, y = sparse_problem("ovr")
    X = X.astype(np.float32)
    recorder = Recorder(X)
    search = AdagradClassifierCV(
        lr=[0.1, 1.0],
        cv=KFold(3),
        scoring=recorder,
        random_state=0,
        max_iter=5,
        tol=None,
    ).fit(X, y)
    for coef, intercept, _ in recorder.models.values():
        assert coef.dtype == intercept.dtype == np.float32
    assert search.coef_.dtype == np.float32
    assert search.decision_function(X).dtype == np.float32
    train, test = next(iter(KFold(3).split(X)))
    params = search.cv_results_["params"][0]
    plain = plain_fit(
        "ovr", dict(random_state=0, max_iter=5, tol=None, **params), X, y, train
    )
    coef, _, _ = recorder.models[(params["alpha"], 1e-10, params["lr"], test.min())]
    assert_allclose(coef, plain.coef_, rtol=2e-4, atol=2e-5)


def test_results_have_grid_search_cvs_format_and_candidates():
    X, y = make_classification(n_samples=120, random_state=0)
    grid = dict(lr=[0.1, 1.0], eps=[1e-10, 1e-2], alpha=[1e-4])
    ours = AdagradClassifierCV(cv=3, random_state=0, **grid).fit(X, y)
    theirs = GridSearchCV(
        AdagradClassifier(random_state=0), {k: list(v) for k, v in grid.items()}, cv=3
    ).fit(X, y)
    assert set(theirs.cv_results_) <= set(ours.cv_results_)
    assert ours.cv_results_["params"] == theirs.cv_results_["params"]
    results = ours.cv_results_
    means = np.mean([results[f"split{k}_test_score"] for k in range(3)], axis=0)
    assert_allclose(results["mean_test_score"], means)
    best = np.argmax(results["mean_test_score"])
    assert results["rank_test_score"][best] == 1
    assert ours.best_params_ == results["params"][best]
    assert ours.best_score_ == results["mean_test_score"][best]
    assert (results["mean_fit_time"] > 0).all()
    refit = AdagradClassifier(random_state=0, **ours.best_params_).fit(X, y)
    assert_array_equal(ours.best_estimator_.coef_, refit.coef_)
    assert_array_equal(ours.predict(X), refit.predict(X))


def test_the_default_grid_searches_alpha_around_its_auto_value():
    X, y = make_classification(n_samples=150, random_state=0)
    search = AdagradClassifierCV(cv=3, random_state=0).fit(X, y)
    auto = AdagradClassifier(random_state=0).fit(X, y).alpha_
    alphas = [params["alpha"] for params in search.cv_results_["params"]]
    assert_allclose(alphas, [0.1 * auto, 0.3 * auto, auto, 3 * auto])


def test_works_in_a_pipeline_on_text():
    docs = ["good movie", "great film", "bad movie", "awful film"] * 6
    labels = [1, 1, 0, 0] * 6
    model = make_pipeline(
        TfidfVectorizer(), AdagradClassifierCV(lr=[0.3, 1.0], cv=3, random_state=0)
    )
    assert_array_equal(
        model.fit(docs, labels).predict(["good film", "bad film"]), [1, 0]
    )


def test_a_stack_too_large_is_refused_before_allocation(monkeypatch):
    monkeypatch.setattr(BaseAdagrad, "_memory_available", staticmethod(lambda: 10_000))
    X, y = make_classification(n_samples=60, random_state=0)
    search = AdagradClassifierCV(lr=[0.1, 1.0], cv=3)
    expected = r"needs about 16 KiB \(8 candidates x 3 folds x 1 outputs = 24 col"
    with pytest.raises(MemoryError, match=expected) as raised:
        search.fit(X, y)
    assert "ulimit -v" in str(raised.value)
    assert not hasattr(search, "cv_results_")


def test_the_stack_counts_the_model_that_scores_each_stopped_one(monkeypatch):
    # The stack's four arrays of 24 columns over 20 features fit, but not
    # the plain model beside them that scores each stopped model.
    stack_alone = 4 * 20 * 24 * 8
    monkeypatch.setattr(
        BaseAdagrad, "_memory_available", staticmethod(lambda: stack_alone + 100)
    )
    X, y = make_classification(n_samples=60, random_state=0)
    with pytest.raises(MemoryError, match="and a model to score each"):
        AdagradClassifierCV(lr=[0.1, 1.0], cv=3).fit(X, y)


def test_a_diverging_candidate_scores_nan_and_the_others_are_exact():
    rng = np.random.default_rng(0)
    X = 100 * rng.normal(size=(120, 3))
    y = X @ [1.0, -2.0, 0.5] + 3.0
    params = dict(alpha=1e-4, random_state=0, max_iter=20)
    with pytest.warns(FitFailedWarning, match="3 of the 6 models diverged"):
        search = AdagradRegressorCV(lr=[1e300, 0.1], cv=3, **params).fit(X, y)
    scores = search.cv_results_["mean_test_score"]
    assert np.isnan(scores[0]) and np.isfinite(scores[1])
    assert search.best_params_["lr"] == 0.1
    alone = AdagradRegressorCV(lr=0.1, cv=3, **params).fit(X, y)
    for fold in range(3):
        split = f"split{fold}_test_score"
        assert alone.cv_results_[split][0] == search.cv_results_[split][1]


@pytest.mark.parametrize("penalty", ["l2", "l1", "elasticnet"])
@pytest.mark.parametrize("lr_decay", [0.0, 0.05])
@pytest.mark.parametrize("average", [0, 7])
def test_per_output_hyperparameters_lazy_equal_eager_and_scalar(
    penalty, lr_decay, average
):
    # Per-output lr, eps and alpha (one alpha of 0) stepped lazily on the
    # active rows equal the same steps taken on every row in place, and each
    # output equals an engine of its own scalar values.
    rng = np.random.default_rng(1)
    n_features, n_outputs = 30, 4
    lr = np.array([0.05, 0.1, 0.3, 1.0])
    eps = np.array([1e-10, 1e-6, 1e-2, 0.1])
    alpha = np.array([1e-2, 0.0, 3e-3, 0.1])
    penalties = [ElasticNet.from_params(penalty, a, 0.15) for a in alpha]
    batches = [
        sp.random(6, n_features, density=0.1, random_state=seed, format="csr")
        for seed in range(25)
    ]
    targets = [np.sign(rng.normal(size=(6, n_outputs))) for _ in batches]

    def engine(lr, eps, penalty, n_outputs):
        return SparseAdagrad(
            n_features,
            n_outputs,
            loss=Hinge(),
            schedule=Schedule(lr, lr_decay),
            penalty=penalty,
            eps=eps,
            fit_intercept=True,
            initial_accumulator_value=0.0,
            average_from_sample=average,
        )

    def trained(engine, path, outputs=slice(None)):
        for X, Y in zip(batches, targets, strict=True):
            weights = np.ones(X.shape[0])
            planned = PlannedStep(path, path.split(engine, X, 1))
            engine.step(planned, Y[:, outputs], weights)
        return engine.weights_by_output(), engine.intercept_at_now()

    vector = ElasticNet(
        np.array([p.l1 for p in penalties]), np.array([p.l2 for p in penalties])
    )
    lazy = trained(engine(lr, eps, vector, n_outputs), ACTIVE_ROWS)
    eager = trained(engine(lr, eps, vector, n_outputs), IN_PLACE)
    assert_allclose(lazy[0], eager[0], rtol=1e-11, atol=1e-14)
    assert_allclose(lazy[1], eager[1], rtol=1e-11, atol=1e-14)
    for j in range(n_outputs):
        alone = trained(
            engine(lr[j], eps[j], penalties[j], 1), ACTIVE_ROWS, slice(j, j + 1)
        )
        assert_allclose(lazy[0][j], alone[0][0], rtol=1e-11, atol=1e-14)
        assert_allclose(lazy[1][j], alone[1][0], rtol=1e-11, atol=1e-14)


def test_refit_false_keeps_the_results_and_refuses_to_predict():
    X, y = make_classification(n_samples=90, random_state=0)
    search = AdagradClassifierCV(lr=[0.1, 1.0], cv=3, refit=False, random_state=0)
    search.fit(X, y)
    assert search.best_params_ in search.cv_results_["params"]
    assert not hasattr(search, "best_estimator_")
    with pytest.raises(AttributeError, match="refit=False"):
        search.predict(X)


def test_a_failed_fit_leaves_the_previous_results():
    X, y = make_classification(n_samples=90, random_state=0)
    search = AdagradClassifierCV(lr=[0.1, 1.0], cv=3, random_state=0).fit(X, y)
    results = search.cv_results_
    with pytest.raises(ValueError, match="Every candidate diverged"):
        search.set_params(lr=1e300, loss="squared_error").fit(1e3 * X, y)
    assert search.cv_results_ is results
    assert search.best_estimator_.lr in (0.1, 1.0)


def test_bad_targets_and_missing_probabilities_are_explained_as_for_plain_models():
    X = np.random.default_rng(0).normal(size=(30, 3))
    with pytest.raises(
        ValueError, match="y holds values that are not numbers.*AdagradClassifierCV"
    ):
        AdagradRegressorCV(cv=2).fit(X, np.array(["a", "b"] * 15))
    search = AdagradClassifierCV(cv=2)
    assert not hasattr(search, "predict_proba")
    with pytest.raises(AttributeError, match="loss='hinge'.*loss='log_loss'"):
        search.predict_proba  # noqa: B018
    fitted = AdagradClassifierCV(cv=2, lr=[1.0], loss="log_loss").fit(
        X, np.arange(30) % 2
    )
    assert fitted.predict_proba(X[:2]).shape == (2, 2)


def test_groups_reach_a_group_splitter_as_in_grid_search_cv():
    X, y = make_classification(n_samples=120, n_features=8, random_state=0)
    groups = np.repeat(np.arange(12), 10)
    search = AdagradClassifierCV(lr=[0.1, 1.0], cv=GroupKFold(3), random_state=0)
    with pytest.raises(ValueError, match="groups"):
        search.fit(X, y)
    by_groups = search.fit(X, y, groups=groups).cv_results_
    given = list(GroupKFold(3).split(X, y, groups))
    for train, test in given:
        assert not set(groups[train]) & set(groups[test])
    by_splits = AdagradClassifierCV(lr=[0.1, 1.0], cv=given, random_state=0)
    by_splits = by_splits.fit(X, y).cv_results_
    for key in ("split0_test_score", "split1_test_score", "mean_test_score"):
        assert_array_equal(by_groups[key], by_splits[key])


def test_a_bad_candidate_is_named_with_the_search_and_the_value():
    X, y = make_classification(n_samples=60, random_state=0)
    with pytest.raises(ValueError, match=r"AdagradClassifierCV: the candidate eps=-1"):
        AdagradClassifierCV(eps=[1e-6, -1.0], cv=2).fit(X, y)
    with pytest.raises(ValueError, match="not a dict"):
        AdagradClassifierCV(alpha={"a": 1}, cv=2).fit(X, y)
    search = AdagradClassifierCV(lr=np.array([0.1, 0.3]), cv=2, max_iter=3, tol=None)
    best = search.fit(X, y).best_params_
    assert type(best["lr"]) is float


def test_a_scoring_the_loss_cannot_serve_is_refused_before_training(monkeypatch):
    X, y = make_classification(n_samples=60, random_state=0)

    def trained(*args, **kwargs):
        raise AssertionError("the stack was trained")

    monkeypatch.setattr(AdagradClassifierCV, "_train_stack", trained)
    with pytest.raises(ValueError, match="reads predict_proba, which"):
        AdagradClassifierCV(scoring="neg_log_loss", cv=2).fit(X, y)
    # Any one of the methods a scorer can use will do.
    with pytest.raises(AssertionError, match="was trained"):
        AdagradClassifierCV(scoring="roc_auc", cv=2).fit(X, y)
    with pytest.raises(AssertionError, match="was trained"):
        AdagradClassifierCV(loss="log_loss", scoring="neg_log_loss", cv=2).fit(X, y)


def test_the_searchs_warnings_point_at_the_users_call_of_fit():
    X, y = make_regression(600, 20, noise=10, random_state=0)
    search = AdagradRegressorCV(lr=[1.0], cv=3, max_iter=2, random_state=0)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        search.fit(X, y)
    convergence = [w for w in caught if issubclass(w.category, ConvergenceWarning)]
    # The fold models' and the refit's, both at this line, told apart.
    assert {w.filename for w in convergence} == {__file__}
    refit = [w for w in convergence if "Refitting the best candidate" in str(w.message)]
    assert len(refit) == 1 and len(convergence) == 2


@pytest.mark.parametrize("scoring", [["accuracy", "f1"], {"a": "accuracy"}])
def test_several_metrics_are_refused_in_a_short_message(scoring):
    X, y = make_classification(60, random_state=0)
    with pytest.raises(ValueError, match="scores with one metric") as error:
        AdagradClassifierCV(scoring=scoring).fit(X, y)
    assert len(str(error.value)) < 300
