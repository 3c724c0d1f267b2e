"""Smoke test of the data-parallel benchmark at a tiny size."""

import pytest

from benchmarks import data_parallel


def _rows(out, name):
    """The table rows of data set ``name``, each a list of its cells."""
    return [
        [cell.strip().removeprefix("- ") for cell in row.strip().splitlines()]
        for row in out.split(f"   * - {name}")[1:]
    ]


@pytest.mark.filterwarnings("ignore:Port 8787 is already in use")
@pytest.mark.filterwarnings("ignore:Sending large graph")
def test_the_comparison_prints_a_row_per_way_of_training(capsys):
    data_parallel.main(
        ["--epochs", "2", "--partitions", "4", "--scale", "0.01"]
        + ["--datasets", "(a) binary", "--rules", *data_parallel.MERGE_RULES]
    )
    out = capsys.readouterr().out
    assert "load average" in out
    rows = _rows(out, "(a) binary")
    labels = [row[1] for row in rows]
    assert labels == [
        "sequential ``Incremental``",
        *[f"``DataParallel``, {rule}" for rule in data_parallel.MERGE_RULES],
        "``partial_fit`` loop in one process",
    ]
    for row in rows:
        assert len(row[-1].split(", ")) == 2
        assert all(0 < float(a) <= 100 for a in row[-1].split(", "))
    # Ratios to Incremental: its own is 1.
    assert rows[0][3] == "1.00"


@pytest.mark.filterwarnings("ignore:Port 8787 is already in use")
def test_the_partial_models_study_reports_bytes_moved_and_touched(capsys):
    data_parallel.main(
        ["partials", "--epochs", "2", "--partitions", "4", "--scale", "0.01"]
        + ["--datasets", "(a) binary"]
    )
    out = capsys.readouterr().out
    rows = _rows(out, "(a) binary")
    assert [row[1] for row in rows] == ["1", "2", "4"]
    for row in rows:
        moved, touched = float(row[-2]), float(row[-1])
        assert touched > 0 and moved >= 0
    # One partial model sends nothing to merge: only the epoch's changes move.
    assert float(rows[0][-2]) <= float(rows[-1][-2])
