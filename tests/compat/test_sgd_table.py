"""The counts in docs/sgd.rst's table of scikit-learn's own ``test_sgd.py``,
run against our estimators (tests/compat/test_sklearn_sgd.py), are the counts of the
collected tests: a change to the list of tests that do not apply shows here
until the table is updated. Another scikit-learn collects other tests, so the
check runs with the version the table names."""

import re
import subprocess
import sys
from collections import Counter
from pathlib import Path
from types import SimpleNamespace

import pytest
import sklearn
from test_sklearn_sgd import (
    ASGD,
    IRIS_F1,
    JOBLIB_BACKEND,
    KNIFE_EDGE,
    ONE_CLASS,
    PRIVATE,
    SCHEDULE,
    SGD_LOSSES,
    TINY_DATA,
    WARM_START,
    WORDING,
    ZERO_WEIGHTS,
    not_applicable_reason,
)

TESTS = Path(__file__).resolve().parent
REPO_DIR = TESTS.parents[1]
TABLE = REPO_DIR / "docs" / "sgd.rst"

# The table's rows, by the first words of their label.
ROWS = {
    "Tests collected": "collected",
    "Passed": "passed",
    "Not run: the one-class SVM": ONE_CLASS,
    "Not run: SGD's Cython loss objects": SGD_LOSSES,
    "Not run: two joblib backends": JOBLIB_BACKEND,
    "``warm_start`` carries": WARM_START,
    "exact coefficients of per-sample averaged SGD": ASGD,
    "SGD-only learning-rate schedules": SCHEDULE,
    "what per-sample SGD reaches on tiny data": TINY_DATA,
    "per-sample SGD's F1 scores": IRIS_F1,
    "private attributes": PRIVATE,
    "SGD's wording": WORDING,
    "the sign of a margin": KNIFE_EDGE,
    "zero weights": ZERO_WEIGHTS,
}
NOT_RUN = (ONE_CLASS, SGD_LOSSES, JOBLIB_BACKEND)


def documented():
    """The table's counts by row (ROWS' values), the number it gives of the
    tests not applicable, and the scikit-learn version it names."""
    text = TABLE.read_text()
    version = re.search(r"With scikit-learn (\d[\w.]*):", text).group(1)
    table = text[text.index(f"With scikit-learn {version}:") :]
    table = table[: table.index("Every test not listed passes.")]
    counts = {}
    for row in table.split("* - ")[1:]:
        label, _, count = row.partition("\n     - ")
        label = " ".join(label.split())
        if label.startswith("Not applicable, expected to fail"):
            not_applicable = int(re.search(r"\((\d+)\)", label).group(1))
            continue
        keys = [key for prefix, key in ROWS.items() if label.startswith(prefix)]
        assert len(keys) == 1, f"a row of docs/sgd.rst not in ROWS: {label!r}"
        counts[keys[0]] = int(count)
    return counts, not_applicable, version


def collected():
    """The counts of the collected tests by ROWS' values."""
    listing = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "--collect-only",
            "-q",
            "-p",
            "no:cacheprovider",
            str(TESTS / "test_sklearn_sgd.py"),
        ],
        capture_output=True,
        text=True,
        check=True,
        cwd=REPO_DIR,
    ).stdout
    names = [line.split("::", 1)[1] for line in listing.splitlines() if "::" in line]
    reasons = Counter(
        not_applicable_reason(
            SimpleNamespace(name=name, originalname=name.split("[")[0])
        )
        for name in names
    )
    counts = {reason: n for reason, n in reasons.items() if reason is not None}
    counts["collected"] = len(names)
    counts["passed"] = reasons[None]
    return counts


def test_the_table_counts_the_collected_tests():
    counts, not_applicable, version = documented()
    if sklearn.__version__ != version:
        pytest.skip(
            f"docs/sgd.rst counts scikit-learn {version}'s tests; "
            f"{sklearn.__version__} is installed"
        )
    assert counts == collected()
    expected_to_fail = set(ROWS.values()) - set(NOT_RUN) - {"collected", "passed"}
    assert not_applicable == sum(counts[key] for key in expected_to_fail)
