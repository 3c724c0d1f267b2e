"""The stopping rule: scikit-learn SGD's, except that an epoch of the training
objective counts only once the objective has settled."""

import numpy as np
from hypothesis import given
from hypothesis import strategies as st
from sklearn import datasets

from sk_adagrad import AdagradClassifier
from sk_adagrad._stopping import SETTLED_SHARE, NoImprovement


def sgd_stop_epoch(criteria, tol, n_iter_no_change):
    """scikit-learn SGD's rule as its docs state it: the first epoch (from 1)
    that ends n_iter_no_change epochs in a row with criterion > best - tol."""
    best, stalled = np.inf, 0
    for epoch, criterion in enumerate(criteria, start=1):
        stalled = stalled + 1 if criterion > best - tol else 0
        best = min(best, criterion)
        if stalled >= n_iter_no_change:
            return epoch
    return None


def stop_epoch(rule, criteria):
    for epoch, criterion in enumerate(criteria, start=1):
        if rule.should_stop(criterion):
            return epoch
    return None


criteria_lists = st.lists(
    st.floats(0.0, 10.0, allow_nan=False), min_size=1, max_size=40
)
tols = st.sampled_from([0.0, 1e-3, 1e-2, 0.5])
patience = st.integers(1, 6)


@given(criteria_lists, tols, patience)
def test_without_settling_the_rule_is_sgds(criteria, tol, n_iter_no_change):
    rule = NoImprovement(tol, n_iter_no_change, settled_only=False)
    assert stop_epoch(rule, criteria) == sgd_stop_epoch(criteria, tol, n_iter_no_change)


@given(
    st.floats(0.1, 10.0),
    st.lists(st.floats(-1.0, 1.0), min_size=1, max_size=40),
    tols,
    patience,
)
def test_on_a_settled_objective_the_rule_is_sgds(start, moves, tol, n_iter_no_change):
    # Each epoch moves by at most tol (or by the settled share) from the one
    # before it, as a training objective does once it has settled.
    criteria = [start]
    for move in moves:
        # 0.99: strictly within the bound, whatever the rounding.
        step = 0.99 * move * max(tol, SETTLED_SHARE * criteria[-1])
        criteria.append(max(criteria[-1] + step, 0.0))
    rule = NoImprovement(tol, n_iter_no_change, settled_only=True)
    assert stop_epoch(rule, criteria) == sgd_stop_epoch(criteria, tol, n_iter_no_change)


def test_an_objective_still_swinging_does_not_stop_the_fit():
    # Swings of tens of percent with a new best now and then, as on unscaled
    # features: SGD's rule stops after 5 epochs without a new best.
    criteria = [38.0, 6.7, 3.0, 3.7, 2.5, 3.0, 2.4, 3.7, 2.7, 3.3, 2.8, 3.4, 2.2]
    assert sgd_stop_epoch(criteria, 1e-3, 5) == 12  # before the new best
    rule = NoImprovement(1e-3, 5, settled_only=True)
    assert stop_epoch(rule, criteria) is None
    # Once it settles, five epochs without a new best end it.
    assert stop_epoch(rule, [2.2] * 5) == 5


def test_a_validation_score_keeps_sgds_rule(capsys):
    # Early stopping watches for the validation score to fall: every epoch
    # without a new best counts, as in SGD, however far the score moved.
    X, y = datasets.make_classification(n_samples=300, random_state=0)
    model = AdagradClassifier(
        early_stopping=True,
        n_iter_no_change=2,
        max_iter=100,
        verbose=1,
        random_state=0,
    ).fit(X, y)
    lines = capsys.readouterr().out.splitlines()
    scores = [
        float(line.split("validation score ")[1].split(",")[0])
        for line in lines
        if line.startswith("-- Epoch")
    ]
    assert len(scores) == model.n_iter_ < 100
    negated = [-score for score in scores]
    assert sgd_stop_epoch(negated, model.tol, 2) == model.n_iter_


def test_a_settled_training_objective_stops_as_sgd_would(capsys):
    X, y = datasets.make_classification(n_samples=300, random_state=0)
    model = AdagradClassifier(verbose=1, random_state=0).fit(X, y)
    lines = capsys.readouterr().out.splitlines()
    objectives = [
        float(line.split("running loss ")[1].split(",")[0])
        for line in lines
        if line.startswith("-- Epoch")
    ]
    rule = NoImprovement(model.tol, model.n_iter_no_change, settled_only=True)
    assert stop_epoch(rule, objectives) == model.n_iter_ == len(objectives)
