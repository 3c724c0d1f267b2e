"""The code base stays ruff-clean (lint rules and formatting of pyproject.toml)."""

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("command", [["check"], ["format", "--check"]])
def test_ruff(command):
    result = subprocess.run(
        [sys.executable, "-m", "ruff", *command, "."],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_private_scikit_learn_is_imported_in_one_module():
    # Private names of scikit-learn can change between releases: the package
    # takes them from _sklearn_private.py alone, which the CI tests against the
    # declared minimum versions as well as the newest.
    import ast

    importers = set()
    for path in (ROOT / "sk_adagrad").glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith(
                "sklearn"
            ):
                names = [node.module, *(alias.name for alias in node.names)]
                if any(part.startswith("_") for n in names for part in n.split(".")):
                    importers.add(path.name)
    assert importers == {"_sklearn_private.py"}
