"""Smoke test of the data-parallel benchmark at a tiny size."""

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks import data_parallel  # noqa: E402


@pytest.mark.filterwarnings("ignore:Port 8787 is already in use")
def test_the_benchmark_prints_a_row_per_way_of_training(capsys):
    data_parallel.main(
        [
            "--epochs",
            "2",
            "--partitions",
            "4",
            "--scale",
            "0.01",
            "--datasets",
            "(a) binary",
        ]
    )
    out = capsys.readouterr().out
    assert "sequential ``Incremental``" in out
    for rule in ("line_search", "weighted_average", "rescaled_sum"):
        assert f"``DataParallel``, {rule}" in out
    assert "load average" in out
    # Four numeric columns and the accuracies of both epochs on each row.
    rows = out.split("   * - (a) binary")[1:]
    assert len(rows) == 4
    for row in rows:
        accuracies = row.strip().splitlines()[-1].strip().removeprefix("- ")
        accuracies = accuracies.split(", ")
        assert len(accuracies) == 2
        assert all(0 < float(a) <= 100 for a in accuracies)
