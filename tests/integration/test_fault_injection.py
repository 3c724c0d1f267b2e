"""Faults injected at every function of the package, and every NumPy and SciPy
call it makes, that training reaches on the set-ups users run leave no model
changed (see tests/helpers/fault_injection.py for the harness). The run rewrites the
table of docs/reliability.md."""

import pytest

from helpers.fault_injection import (
    DOCS_PAGE,
    SET_UPS,
    inject,
    planned_runs,
    point_name,
    reached,
    table,
    write_docs,
)

# What the ordinary set-ups reach and an injection must therefore meet: the
# default losses, stopping rule and batch size, early stopping's validation,
# the step's kernel and the journal, and NumPy and SciPy inside a step.
MUST_REACH = {
    "_losses.Hinge.value",
    "_losses.Hinge.derivative",
    "_losses.Hinge.best_constant",
    "_losses.BinaryLog.value",
    "_losses.BinaryLog.derivative",
    "_losses.BinaryLog.best_constant",
    "_losses.SquaredError.derivative",
    "_losses.make_loss",
    "_stopping.NoImprovement.should_stop",
    "_defaults.auto_batch_size",
    "_training.hold_out",
    "_classifier.AdagradClassifier._score_validation",
    "_classifier.AdagradClassifier._stratify",
    "_classifier.AdagradClassifier._codes_from_margins",
    "_regressor.AdagradRegressor._score_validation",
    "_engine.SparseAdagrad.can_share",
    "_engine.SparseAdagrad.materialize",
    "_engine.SparseAdagrad._update_rows",
    "_entry_steps.gradient_entries",
    "_entry_steps.step_rows_on_entries",
    "_engine.SparseAdagrad._step_intercept",
    "_journal.Journal.__init__",
    "_memory.check_model_fits",
    "np.sqrt in _step_terms",
    "np.isfinite in _engine",
    "sp.issparse in _step_policy",
    "expit in _losses",
    "logsumexp in _losses",
}


@pytest.fixture(scope="module")
def plans():
    return planned_runs()


@pytest.fixture(scope="module")
def results():
    """Each set-up's result, as its test leaves it."""
    return {}


@pytest.mark.parametrize("set_up", SET_UPS, ids=[s.name for s in SET_UPS])
def test_no_injected_fault_changes_a_model(set_up, plans, results):
    result = inject(set_up, *plans[set_up.name])
    results[set_up.name] = result
    print(
        f"{set_up.name}: {len(result.reached)} points reached, "
        f"{len(result.injected)} injected in {result.runs} runs"
    )
    assert result.reached == result.injected, sorted(result.reached - result.injected)
    report = "\n".join(
        f"{description}: {', '.join(problems)}"
        for description, problems in result.corrupted
    )
    assert not result.corrupted, f"{len(result.corrupted)} corrupted:\n{report}"


def test_every_point_the_set_ups_reach_is_injected(plans):
    reached_points, injected = set(), set()
    for scenarios, runs in plans.values():
        reached_points |= {point_name(point) for point in reached(scenarios)}
        injected |= {point_name(run.point) for run in runs}
    assert MUST_REACH <= reached_points, sorted(MUST_REACH - reached_points)
    assert not reached_points - injected, sorted(reached_points - injected)


def test_the_reliability_page_shows_this_run(plans, results):
    """docs/reliability.md's table is this run's (set-ups not run above, under a
    selection of tests, are run here)."""
    for set_up in SET_UPS:
        if set_up.name not in results:
            results[set_up.name] = inject(set_up, *plans[set_up.name])
    text = table([results[set_up.name] for set_up in SET_UPS])
    if not any(result.corrupted for result in results.values()):
        write_docs(text)
    with open(DOCS_PAGE) as page:
        assert text in page.read()
