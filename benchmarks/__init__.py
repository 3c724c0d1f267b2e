"""Benchmarks of sk_adagrad, one module per study, each run from the
repository's root as ``python -m benchmarks.<study>``; the shared timing and
tables are in :mod:`benchmarks.harness`, the machine description in
:mod:`benchmarks.machine`, the data sets in :mod:`benchmarks.datasets`."""

from pathlib import Path

REPO_DIR = Path(__file__).resolve().parent.parent
DOCS_DIR = REPO_DIR / "docs"
