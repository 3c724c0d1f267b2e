"""When to step every feature in place rather than the active rows only, and
when to share a step between threads.

A step either gathers the rows of the batch's active features, catches them up
and scatters them back, or updates every feature where it lies (see
``sk_adagrad._step_paths``). The engine steps in place when
``n_features * (n_outputs + 2)`` is at most its step policy's
``in_place_ratio`` times the stored entries of the batch. This script times one
epoch of each path, forced, on one thread, on RCV1-like data (about 80 stored
entries per row, Zipf column frequencies, default ``batch_size``) as the number
of features grows at a fixed number of entries per batch, for a binary and a
20-class problem, and prints the ratio of the two with the fraction of features
active in a batch and the path the rule picks. A second table times the path
the rule picks on one thread and with every step shared between two, against
the (feature, output) entries a step updates, which is what the policy's
``shard_entries`` is set from.
``--write-docs`` writes both tables to docs/step_paths.md.

    python -m benchmarks.step_paths [--repeats 3] [--write-docs]
"""

from __future__ import annotations

import argparse
import datetime
import time

import numpy as np

from benchmarks import DOCS_DIR, datasets
from benchmarks.machine import machine_description
from benchmarks.pages import write_keeping_sections
from sk_adagrad import AdagradClassifier
from sk_adagrad._defaults import MAX_BATCH_SIZE as BATCH_SIZE
from sk_adagrad._step_policy import StepPolicy

DOCS_PAGE = DOCS_DIR / "step_paths.md"
N_SAMPLES = 60_000
NNZ_PER_ROW = 80
FEATURE_COUNTS = (20_000, 50_000, 100_000, 200_000, 400_000, 800_000)
CLASS_COUNTS = (2, 20)
DEFAULT = StepPolicy()
# Each path forced by a step policy, on one thread.
PATHS = {
    "active rows": StepPolicy(in_place_ratio=0.0),
    "in place": StepPolicy(in_place_ratio=np.inf),
}
# The path the default rule picks, with every step shared between the threads.
SHARED = StepPolicy(shard_entries=1)


def epoch_seconds(X, y, policy: StepPolicy, n_threads: int = 1) -> float:
    model = AdagradClassifier(max_iter=1, tol=None, random_state=0, n_threads=n_threads)
    model._step_policy = policy
    start = time.perf_counter()
    model.fit(X, y)
    return time.perf_counter() - start


def active_fraction(X, n_batches: int = 20) -> float:
    """Mean fraction of the features present in a batch of consecutive rows (the
    rows are in random order already)."""
    n_batches = max(1, min(n_batches, X.shape[0] // BATCH_SIZE))
    counts = [
        np.unique(X[start : start + BATCH_SIZE].indices).size
        for start in range(0, n_batches * BATCH_SIZE, BATCH_SIZE)
    ]
    return float(np.mean(counts)) / X.shape[1]


def measure(repeats: int, n_samples: int, feature_counts) -> list[dict]:
    """Both paths, forced, on one thread; one row per data set."""
    rows = []
    for n_classes, n_features, X, y in problems(n_samples, feature_counts):
        times = {name: [] for name in PATHS}
        for _ in range(repeats):
            for name, policy in PATHS.items():
                times[name].append(epoch_seconds(X, y, policy))
        row = describe(n_classes, n_features, X, DEFAULT.in_place_ratio)
        row.update({name: float(np.median(t)) for name, t in times.items()})
        row["ratio"] = row["in place"] / row["active rows"]
        rows.append(row)
        print(format_row(row), flush=True)
    return rows


def measure_threads(repeats: int, n_samples: int, feature_counts) -> list[dict]:
    """The path the rule picks, on one thread and with every step shared
    between two; one row per data set."""
    rows = []
    for n_classes, n_features, X, y in problems(n_samples, feature_counts):
        times = {1: [], 2: []}
        for _ in range(repeats):
            for n_threads in times:
                times[n_threads].append(epoch_seconds(X, y, SHARED, n_threads))
        row = describe(n_classes, n_features, X, SHARED.in_place_ratio)
        row["one thread"] = float(np.median(times[1]))
        row["two threads"] = float(np.median(times[2]))
        row["thread ratio"] = row["two threads"] / row["one thread"]
        rows.append(row)
        print(format_thread_row(row, DEFAULT.shard_entries), flush=True)
    return rows


def problems(n_samples: int, feature_counts):
    for n_classes in CLASS_COUNTS:
        for n_features in feature_counts:
            X, y = datasets.make_rcv1_like(
                n_samples, n_features, NNZ_PER_ROW, n_classes, random_state=0
            )
            yield n_classes, n_features, X, y


def describe(n_classes: int, n_features: int, X, ratio: float) -> dict:
    """A data set's shape, the path the rule picks for its batches and the
    (feature, output) entries a step on that path updates."""
    entries = X.nnz / X.shape[0] * BATCH_SIZE
    n_outputs = 1 if n_classes == 2 else n_classes
    active = active_fraction(X)
    in_place = n_features * (n_outputs + 2) <= ratio * entries
    return {
        "classes": n_classes,
        "features": n_features,
        "features_per_entry": n_features / entries,
        "active": active,
        "picked": "in place" if in_place else "active rows",
        "step_entries": n_features * n_outputs * (1.0 if in_place else active),
    }


HEADER = (
    "| classes | features | features per stored entry of a batch "
    "| active features | epoch, active rows (s) | epoch, in place (s) "
    "| in place / active rows | the engine picks |\n|---|---|---|---|---|---|---|---|"
)


def format_row(row: dict) -> str:
    return (
        f"| {row['classes']} | {row['features']:,} | "
        f"{row['features_per_entry']:.2f} | {row['active']:.0%} | "
        f"{row['active rows']:.3f} | {row['in place']:.3f} | "
        f"{row['ratio']:.2f} | {row['picked']} |"
    )


THREAD_HEADER = (
    "| classes | features | the engine picks | entries per step "
    "| epoch, one thread (s) | epoch, two threads (s) | two / one "
    "| shared by default |\n|---|---|---|---|---|---|---|---|"
)


def format_thread_row(row: dict, shard_entries: int) -> str:
    shared = row["step_entries"] >= 2 * shard_entries
    return (
        f"| {row['classes']} | {row['features']:,} | {row['picked']} | "
        f"{row['step_entries']:,.0f} | {row['one thread']:.3f} | "
        f"{row['two threads']:.3f} | {row['thread ratio']:.2f} | "
        f"{'yes' if shared else 'no'} |"
    )


def render_page(
    rows: list[dict], thread_rows: list[dict], repeats: int, n_samples: int
) -> str:
    today = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M")
    table = "\n".join([HEADER] + [format_row(row) for row in rows])
    shard_entries = DEFAULT.shard_entries
    thread_table = "\n".join(
        [THREAD_HEADER] + [format_thread_row(row, shard_entries) for row in thread_rows]
    )
    return f"""# Stepping in place or on the active rows

Measured on {today} UTC with `python -m benchmarks.step_paths --write-docs` on:
{machine_description()}.

One epoch of `AdagradClassifier(batch_size={BATCH_SIZE})` (the batch that
`batch_size='auto'` gives large data) on
RCV1-like data of {n_samples:,} rows with about {NNZ_PER_ROW} stored entries per
row, each path forced, on one thread; median of {repeats} repeats. "Active
features" is the mean fraction of the features present in a batch.

{table}

A step on the active rows pays, per active feature, a gather and a scatter of
its weights and accumulators and the closed-form catch-up of its missed penalty
steps, plus the search for the active columns per stored entry; a step in place
pays the update of every feature, present or not. The engine steps in place
when `n_features * (K + 2) <= {DEFAULT.in_place_ratio:g} * nnz(batch)`, K the
number of outputs: the last column says which path that rule picks. Both paths
cost O(nnz(batch) x K) under that rule.

## Sharing a step between threads

The same data sets, on the path the rule picks, with each step on one thread
and shared between two (forced, whatever its size). "Entries per step" is the
number of (feature, output) pairs a step updates: every feature in place, the
active ones otherwise.

{thread_table}

Handing a shard to a thread and waiting for it costs a fixed amount per step,
and the thread that prepares the next batch competes for the second core, so
sharing pays only on large steps, and less for one output than for twenty at
the same size. The engine shares a step when each thread
gets at least {shard_entries:,} entries (`StepPolicy.shard_entries`); the last
column says whether a step of the row's size would be shared on two threads.
"""


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--n-samples", type=int, default=N_SAMPLES)
    parser.add_argument("--features", type=int, nargs="+", default=list(FEATURE_COUNTS))
    parser.add_argument(
        "--write-docs", action="store_true", help="write docs/step_paths.md"
    )
    args = parser.parse_args(argv)
    print(HEADER)
    rows = measure(args.repeats, args.n_samples, args.features)
    print(THREAD_HEADER)
    thread_rows = measure_threads(args.repeats, args.n_samples, args.features)
    if args.write_docs:
        page = render_page(rows, thread_rows, args.repeats, args.n_samples)
        # The section on small steps is written by benchmarks/small_steps.py.
        write_keeping_sections(DOCS_PAGE, page)


if __name__ == "__main__":
    main()
