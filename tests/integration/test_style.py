"""The code base stays ruff-clean (lint rules and formatting of pyproject.toml)."""

import ast
import importlib
import inspect
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


def test_the_largest_modules_stay_readable():
    # The engine, the estimators' base and every benchmark module each fit in
    # one sitting: split by idea before one grows past 600 lines.
    paths = [ROOT / "sk_adagrad" / "_engine.py", ROOT / "sk_adagrad" / "_base.py"]
    paths += sorted((ROOT / "benchmarks").rglob("*.py"))
    lengths = {path.name: len(path.read_text().splitlines()) for path in paths}
    assert max(lengths.values()) < 600, lengths


# Code whose job is to replace functions where they are looked up: the
# fault-injection harness fails each library call in turn, the profiler of
# small partial_fit calls times functions in place.
REPLACES_FUNCTIONS = {"fault_injection.py", "partial_fit_overhead.py"}


def _imported_modules(tree):
    """The names a file binds to modules by its imports."""
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(
                (alias.asname or alias.name).split(".")[0] for alias in node.names
            )
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            try:
                parent = importlib.import_module(node.module)
            except ImportError:
                continue
            names.update(
                alias.asname or alias.name
                for alias in node.names
                if inspect.ismodule(getattr(parent, alias.name, None))
            )
    return names


def test_no_test_or_benchmark_patches_a_module_global():
    # Tests and benchmarks choose a step path, the memory available or the
    # installed metadata by handing a value over (a StepPolicy, a class
    # attribute, a parameter), never by rebinding a name in a module:
    # monkeypatch.setattr(module, ...) or setattr(module, ...).
    patched = []
    paths = [*(ROOT / "tests").rglob("*.py"), *(ROOT / "benchmarks").rglob("*.py")]
    for path in paths:
        if path.name in REPLACES_FUNCTIONS:
            continue
        tree = ast.parse(path.read_text())
        modules = _imported_modules(tree)
        for node in ast.walk(tree):
            if not (isinstance(node, ast.Call) and node.args):
                continue
            function = node.func
            is_setattr = (
                isinstance(function, ast.Attribute) and function.attr == "setattr"
            ) or (isinstance(function, ast.Name) and function.id == "setattr")
            target = node.args[0]
            if is_setattr and isinstance(target, ast.Name) and target.id in modules:
                patched.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert patched == []
