"""Faults injected at every function of the package that training reaches leave
no model changed (see tests/fault_injection.py for the harness)."""

import pytest
from fault_injection import PATHS, inject_on_path


@pytest.mark.parametrize("path", PATHS)
def test_no_injected_fault_changes_a_model(path):
    result = inject_on_path(path)
    # The harness does reach the package, down to the journal and the kernel.
    assert {"_journal.Journal.__init__", "_engine.SparseAdagrad._update_rows"} <= (
        result.points
    )
    report = "\n".join(
        f"{description}: {', '.join(problems)}"
        for description, problems in result.corrupted
    )
    assert not result.corrupted, f"{len(result.corrupted)} corrupted:\n{report}"
