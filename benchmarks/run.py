"""Benchmark suite: sk_adagrad against scikit-learn's SGD and the matmul floor.

Usage, from the repository's root::

    python -m benchmarks.run [--quick] [--repeats 5] [--write-docs] [--only KEY]

Every row of the table is a ratio ``ours / peer`` where both sides are
measured in this run, interleaved repeat by repeat so that a change of machine
load hits both: the ratio shown is the median of the per-repeat ratios, with
their min-max, next to the absolute medians (and min-max) of each side. The
peer is scikit-learn's ``SGDClassifier``/``SGDRegressor``, the full-batch
matrix-product floor, another configuration of ours, or a memory budget.

``--quick`` uses the small data sets (under a minute); ``--write-docs``
rewrites ``docs/performance.md`` and ``docs/_static/time_to_accuracy.png``.
The rows are defined in :mod:`benchmarks.suite`.
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from collections.abc import Callable

from sklearn.exceptions import ConvergenceWarning

from benchmarks import REPO_DIR
from benchmarks.harness import Context, Row, format_table
from benchmarks.machine import format_header, load_average, machine_info
from benchmarks.pages import write_keeping_sections
from benchmarks.suite import accuracy, epochs, float32, scaling, vowpal_rows
from benchmarks.suite.page import COMMAND, DOCS_PAGE, PLOT_FILE, render_page
from benchmarks.suite.plot import plot_time_to_accuracy

BENCHMARKS: dict[str, Callable[[Context], list[Row]]] = {
    "multiclass_epoch": lambda ctx: epochs.bench_multiclass_epoch(ctx, "multiclass"),
    "text_epoch": lambda ctx: epochs.bench_multiclass_epoch(ctx, "text"),
    "binary_epoch": epochs.bench_binary_epoch,
    "binary_accuracy": lambda ctx: accuracy.bench_time_to_accuracy(ctx, "binary"),
    "multiclass_accuracy": lambda ctx: accuracy.bench_time_to_accuracy(
        ctx, "multiclass"
    ),
    "text_accuracy": lambda ctx: accuracy.bench_time_to_accuracy(ctx, "text"),
    "partial_fit": scaling.bench_partial_fit_hashed,
    "memory": scaling.bench_memory,
    "float32": float32.bench_float32,
    "float32_vs_sgd": float32.bench_float32_vs_sgd,
    "elasticnet": epochs.bench_elasticnet_average,
    "regression": epochs.bench_regression,
    "dense": epochs.bench_dense,
    "lightning": epochs.bench_lightning,
    "vowpal_wabbit": vowpal_rows.bench_vowpal_wabbit,
    "vowpal_raw_text": vowpal_rows.bench_vowpal_raw_text,
}

# Peers measured only where they are installed: a row of theirs without them
# would be empty.
NEEDS = {
    "lightning": "sklearn-contrib-lightning (see 'Peers not measured' in the page)",
    "vowpal_wabbit": "vowpalwabbit (pip install -e '.[bench]')",
    "vowpal_raw_text": "vowpalwabbit (pip install -e '.[bench]')",
}


def run_suite(
    ctx: Context, keys: list[str] | None = None, verbose: bool = True
) -> list[Row]:
    """Run the named benchmarks (all by default) and return their rows."""
    rows = []
    with warnings.catch_warnings():
        # One-epoch fits of SGD and ours warn that they did not converge.
        warnings.simplefilter("ignore", ConvergenceWarning)
        for key in keys or list(BENCHMARKS):
            start = time.perf_counter()
            new_rows = BENCHMARKS[key](ctx)
            rows += new_rows
            if verbose:
                elapsed = time.perf_counter() - start
                missing = f": needs {NEEDS[key]}" if key in NEEDS else ""
                print(
                    f"  {key}: {len(new_rows)} row(s) in {elapsed:.0f} s"
                    + ("" if new_rows else missing),
                    file=sys.stderr,
                    flush=True,
                )
    return rows


def main(argv: list[str] | None = None) -> None:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(
        description="Benchmarks of sk_adagrad against SGD and the matmul floor."
    )
    parser.add_argument("--quick", action="store_true", help="small data sets")
    parser.add_argument("--repeats", type=int, default=5, help="repeats per row")
    parser.add_argument(
        "--write-docs",
        action="store_true",
        help="write docs/performance.md and the time-to-accuracy plot",
    )
    parser.add_argument(
        "--only", nargs="+", choices=sorted(BENCHMARKS), help="run only these rows"
    )
    args = parser.parse_args(argv)

    ctx = Context(size="small" if args.quick else "full", repeats=args.repeats)
    info = machine_info()
    print(format_header(info), flush=True)
    start = time.perf_counter()
    rows = run_suite(ctx, args.only)
    info["load"] += f"; at end: {load_average()}"
    print(f"\nTotal {time.perf_counter() - start:.0f} s\n")
    print(format_table(rows))
    if args.write_docs:
        command = COMMAND + (" --quick" if args.quick else "")
        if args.repeats != 5:
            command += f" --repeats {args.repeats}"
        # The step profile's section is written by its own study.
        write_keeping_sections(DOCS_PAGE, render_page(rows, info, command))
        if ctx.curves:
            plot_time_to_accuracy(ctx.curves, PLOT_FILE)
        print(f"\nWrote {DOCS_PAGE.relative_to(REPO_DIR)}")


if __name__ == "__main__":
    main()
