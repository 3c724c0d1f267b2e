"""Successive halving inside the stacked search: what it drops, what a dropped
candidate records, and that without it (or with nothing to drop) the search is
unchanged."""

import re
import warnings

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import KFold
from sklearn.utils._param_validation import InvalidParameterError

from sk_adagrad import AdagradClassifierCV, AdagradRegressorCV
from sk_adagrad._halving import candidates_behind, is_checkpoint, n_kept

from helpers.cv_search import Recorder, plain_fit, sparse_problem


def test_checkpoints_are_the_powers_of_two_and_a_third_of_the_grid_is_kept():
    assert [e for e in range(1, 40) if is_checkpoint(e)] == [1, 2, 4, 8, 16, 32]
    assert [n_kept(n) for n in (1, 2, 3, 4, 6, 9, 12)] == [1, 2, 2, 2, 2, 3, 4]


def test_a_candidate_is_dropped_when_clearly_behind_and_not_improving():
    scores = np.array(
        [
            [0.80, 0.82, 0.81],  # best
            [0.60, 0.61, 0.62],  # far behind, consistently, not improving
            [0.79, 0.83, 0.80],  # within the best's own spread
            [0.70, 0.84, 0.60],  # behind on average, inconsistently
            [0.50, 0.52, 0.51],  # far behind but stopped
            [0.55, 0.56, 0.57],  # far behind but still gaining
        ]
    )
    previous = scores - 0.001
    previous[5] -= 0.1
    running = np.array([True, True, True, True, False, True])
    none = np.zeros(6, dtype=bool)
    assert candidates_behind(scores, previous, running, none) == [1]
    # Worst first, and nothing below n_kept(5) = 2 candidates left undropped.
    far = np.array([[0.9, 0.91, 0.92]] + [[0.1 * k] * 3 for k in range(1, 5)])
    moved = far - 0.001
    everyone = np.ones(5, dtype=bool)
    assert candidates_behind(far, moved, everyone, none[:5]) == [1, 2, 3]
    earlier = np.array([False, True, False, False, False])
    assert candidates_behind(far, moved, everyone, earlier) == [2, 3]
    # Models whose every fold scores what it did at the last checkpoint may
    # not have started learning: not judged.
    assert candidates_behind(far, far, everyone, none[:5]) == []
    standing = moved.copy()
    standing[1] = far[1]
    assert candidates_behind(far, standing, everyone, none[:5]) == [2, 3, 4]
    # No previous scores (the first checkpoint), one fold (no spread): nothing
    # dropped;
    # a diverged candidate is neither the best nor judged.
    assert candidates_behind(far, np.full_like(far, np.nan), everyone, none[:5]) == []
    assert candidates_behind(far[:, :1], far[:, :1], everyone, none[:5]) == []
    diverged = far.copy()
    diverged[0, 1] = np.nan
    # (Judged against the best of the others, whose folds agree exactly: a
    # candidate moved, but down, is not improving.)
    assert candidates_behind(diverged, far + 0.001, everyone, none[:5]) == [1, 2, 3]


@pytest.mark.parametrize("kind", ["binary", "regressor"])
def test_with_nothing_to_drop_halving_changes_nothing_bit_for_bit(kind):
    # Two candidates are never dropped below (n_kept), so halving only scores
    # the models at its checkpoints: that must leave the training untouched.
    X, y = sparse_problem(kind)
    search = AdagradRegressorCV if kind == "regressor" else AdagradClassifierCV
    params = dict(
        lr=[0.01, 1.0], alpha=1e-4, cv=3, random_state=0, average=True, max_iter=20
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        off = search(**params).fit(X, y)
        on = search(halving=True, **params).fit(X, y)
    assert_array_equal(on.cv_results_["dropped_at_epoch"], [-1, -1])
    for key, value in off.cv_results_.items():
        if "test_score" in key or "n_iter" in key:
            assert_array_equal(on.cv_results_[key], value, err_msg=key)
    assert_array_equal(on.best_estimator_.coef_, off.best_estimator_.coef_)


def hopeless_search(kind, n_samples):
    """A grid with one hopeless candidate (a learning rate of 1e-6) whose
    slower candidates (0.1, 0.3) still end close to the best."""
    X, y = sparse_problem(kind, n_samples=n_samples)
    folds = list(KFold(3, shuffle=True, random_state=0).split(X))
    common = dict(random_state=0, batch_size=16, n_threads=1)
    grid = dict(lr=[1e-6, 0.1, 0.3, 1.0], alpha=[1e-4])
    return X, y, folds, grid, common


def test_a_candidate_still_at_its_starting_constant_is_not_dropped():
    # lr=1e-6 predicts the majority class on every fold at every checkpoint:
    # far behind and gaining nothing, like a slow starter that has not yet
    # begun (lr=0.03 on a larger binary task, which ends best).
    X, y, folds, grid, common = hopeless_search("binary", 300)
    off = AdagradClassifierCV(cv=folds, **grid, **common).fit(X, y)
    on = AdagradClassifierCV(cv=folds, halving=True, **grid, **common).fit(X, y)
    dropped = on.cv_results_["dropped_at_epoch"]
    assert dropped[0] == -1
    assert on.n_iter_[0].tolist() == off.n_iter_[0].tolist()
    assert dropped[off.best_index_] == -1
    assert on.best_params_ == off.best_params_
    assert on.best_score_ == pytest.approx(off.best_score_, abs=1e-12)
    assert_allclose(on.best_estimator_.coef_, off.best_estimator_.coef_)
    # The candidates run to their own rules are those of the full search.
    kept = np.flatnonzero(dropped == -1)
    for fold in range(3):
        split = f"split{fold}_test_score"
        assert_allclose(on.cv_results_[split][kept], off.cv_results_[split][kept])
    assert (on.cv_results_["mean_n_iter"] <= off.cv_results_["mean_n_iter"]).all()
    assert on.cv_results_["rank_test_score"][0] == 4


def test_a_dropped_candidates_models_are_plain_fits_of_that_many_epochs():
    # On this smaller three-class problem, lr 0.1 and 0.3 stop gaining and
    # are dropped after 8 epochs.
    X, y, folds, grid, common = hopeless_search("ovr", 150)
    recorder = Recorder(X)
    search = AdagradClassifierCV(
        cv=folds, scoring=recorder, halving=True, **grid, **common
    )
    search.fit(X, y)
    results = search.cv_results_
    dropped = np.flatnonzero(results["dropped_at_epoch"] >= 0)
    assert_array_equal(results["dropped_at_epoch"], [-1, 8, 8, -1])
    for candidate in dropped:
        params = results["params"][candidate]
        epochs = results["dropped_at_epoch"][candidate]
        for fold, (train, test) in enumerate(folds):
            coef, intercept, n_iter = recorder.models[
                (params["alpha"], params["eps"], params["lr"], test.min())
            ]
            assert n_iter == results[f"split{fold}_n_iter"][candidate] == epochs
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ConvergenceWarning)
                plain = plain_fit(
                    "ovr", {**common, **params, "max_iter": epochs}, X, y, train
                )
            # To rounding, as every column of the stack (test_cv).
            scale = np.abs(plain.coef_).max()
            assert_allclose(coef, plain.coef_, rtol=0, atol=1e-7 * scale)
            assert_allclose(intercept, plain.intercept_, rtol=0, atol=1e-7 * scale)
            assert results[f"split{fold}_test_score"][candidate] == pytest.approx(
                plain.score(X[test], y[test])
            )


@pytest.mark.parametrize(
    "kind, scoring", [("ovr", "accuracy"), ("binary", "accuracy"), ("regressor", "r2")]
)
@pytest.mark.parametrize("weighted", [False, True])
def test_the_default_scorings_margins_judge_as_the_scorer_does(kind, scoring, weighted):
    # With the default scoring halving scores the stack's margins itself; the
    # same scoring by name goes through the scorer on each model built.
    X, y = sparse_problem(kind, n_samples=300)
    weight = np.random.default_rng(0).uniform(0.5, 2, len(y)) if weighted else None
    search = AdagradRegressorCV if kind == "regressor" else AdagradClassifierCV
    params = dict(lr=[1e-6, 0.03, 0.3, 1.0], alpha=1e-4, cv=3, random_state=0)
    params.update(halving=True, batch_size=16, refit=False)
    own = search(**params).fit(X, y, sample_weight=weight)
    scored = search(scoring=scoring, **params).fit(X, y, sample_weight=weight)
    assert (own.cv_results_["dropped_at_epoch"] >= 0).any()
    for key, value in scored.cv_results_.items():
        if "test_score" in key or "n_iter" in key or key == "dropped_at_epoch":
            assert_allclose(own.cv_results_[key], value, rtol=1e-12, err_msg=key)


def test_halving_is_validated_like_the_other_parameters():
    X, y = sparse_problem("binary")
    with pytest.raises(InvalidParameterError, match="'halving' parameter"):
        AdagradClassifierCV(halving="yes", cv=2).fit(X, y)


@pytest.mark.parametrize("search", [AdagradClassifierCV, AdagradRegressorCV])
def test_every_key_of_cv_results_is_documented(search):
    kind = "regressor" if search is AdagradRegressorCV else "binary"
    X, y = sparse_problem(kind)
    params = dict(lr=[0.1, 1.0], alpha=1e-4, max_iter=8, tol=None, random_state=0)
    results = search(cv=2, halving=True, **params).fit(X, y)
    documented = search.__doc__.split("cv_results_ :")[1].split("best_params_ :")[0]
    for key in results.cv_results_:
        general = re.sub(r"^split\d+_", "split<k>_", key)
        general = re.sub(r"^param_\w+", "param_<name>", general)
        assert f"``{general}``" in documented, key
