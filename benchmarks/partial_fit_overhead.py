"""Where a small ``partial_fit`` call spends its time.

A streaming user calls ``partial_fit`` on chunks of a few hundred to a few
thousand rows. This script times calls on one fixed batch of 1,000 hashed
documents (``HashingVectorizer``, 2**20 features, the 20 most frequent classes
of the docstring corpus) into a model of 20 classes, and splits each call into
the step kernel (``SparseAdagrad.step`` and the search for the batch's active
columns it steps on) and everything else (parameter and data validation, target
encoding, the shuffle, the undo journal's setup). Timed with and without
``sklearn.config_context(assume_finite=True, skip_parameter_validation=True)``.

Usage::

    python -m benchmarks.partial_fit_overhead [--calls 200] [--profile] [--write-docs]

``--profile`` also prints the functions outside the kernel that cost the most
(cProfile, cumulative time).
"""

from __future__ import annotations

import argparse
import cProfile
import datetime
import gc
import itertools
import os
import pstats
import threading
import time
from collections import Counter, defaultdict
from contextlib import contextmanager, nullcontext

import numpy as np
import scipy.sparse as sp
import sklearn
from sklearn.feature_extraction.text import HashingVectorizer

from benchmarks import DOCS_DIR, corpus
from benchmarks.machine import machine_description
from sk_adagrad import AdagradClassifier, _base
from sk_adagrad._base import BaseAdagrad
from sk_adagrad._engine import SparseAdagrad

DOCS_PAGE = DOCS_DIR / "partial_fit.md"
N_DOCUMENTS = 1000
N_FEATURES = 2**20
N_CLASSES = 20


def hashed_batch(
    n_documents=N_DOCUMENTS,
    n_classes=N_CLASSES,
    random_state=0,
    text_corpus=corpus.full_text_corpus,
):
    """The first ``n_documents`` documents, in a seeded random order, of the
    ``n_classes`` most frequent classes of ``text_corpus`` (the docstring
    corpus by default), hashed to ``N_FEATURES`` columns."""
    texts, labels = corpus.load_text_corpus(text_corpus=text_corpus)
    kept = {label for label, _ in Counter(labels.tolist()).most_common(n_classes)}
    order = np.random.default_rng(random_state).permutation(len(texts))
    rows = [i for i in order if labels[i] in kept][:n_documents]
    X = HashingVectorizer(n_features=N_FEATURES).transform([texts[i] for i in rows])
    return X, labels[rows]


class Clock:
    """Adds up, per part, the time spent in the functions of that part while
    installed: the CPU time of the thread that runs them (with several
    batches per call, the next one is planned in a second thread while a step
    runs), and the wall time on the thread that installed the clock, the one
    that calls ``partial_fit``. ``parts`` maps a part's name to
    ``(owner, attribute)`` pairs, the functions to time."""

    def __init__(self, parts):
        self.parts = parts
        self.reset()

    def reset(self):
        self.cpu = dict.fromkeys(self.parts, 0.0)
        self.wall = dict.fromkeys(self.parts, 0.0)

    @contextmanager
    def installed(self):
        self.caller = threading.get_ident()
        saved = []
        for name, functions in self.parts.items():
            for owner, attribute in functions:
                # What the owner itself holds (an inherited method: nothing).
                saved.append((owner, attribute, vars(owner).get(attribute)))
                setattr(owner, attribute, self._timed(name, getattr(owner, attribute)))
        try:
            yield self
        finally:
            for owner, attribute, own in reversed(saved):
                if own is None:
                    delattr(owner, attribute)
                else:
                    setattr(owner, attribute, own)

    def _timed(self, name, function):
        clock = self

        def wrapper(*args, **kwargs):
            cpu, wall = time.thread_time(), time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                clock.cpu[name] += time.thread_time() - cpu
                if threading.get_ident() == clock.caller:
                    clock.wall[name] += time.perf_counter() - wall

        return wrapper


KERNEL = {"kernel": [(SparseAdagrad, "step"), (SparseAdagrad, "plan_step")]}
# The parts of a call outside the kernel, each the functions that do it.
PARTS = {
    "parameter check": [(_base, "validate_params")],
    "data validation": [(BaseAdagrad, "_validate_X")],
    "sample weights": [(_base, "check_sample_weight")],
    "label codes": [(AdagradClassifier, "_prepare_y")],
    "engine settings": [(BaseAdagrad, "_optimizer_for")],
    "shuffle": [(BaseAdagrad, "_partial_fit_order")],
    "row gather": [(sp.csr_array, "__getitem__")],
    "target encoding": [(AdagradClassifier, "_encode_targets")],
    "undo journal": [(SparseAdagrad, "begin"), (SparseAdagrad, "commit")],
}


def time_calls(model, X, y, n_calls, fast_config, parts=KERNEL):
    """Per call, ``n_calls`` times: the CPU and wall seconds of the call and of
    each of ``parts``, as arrays by name (the call under "call")."""
    config = (
        sklearn.config_context(assume_finite=True, skip_parameter_validation=True)
        if fast_config
        else nullcontext()
    )
    cpu, wall = defaultdict(list), defaultdict(list)
    clock = Clock(parts)
    with config, clock.installed():
        for _ in range(n_calls):
            clock.reset()
            start_cpu, start_wall = time.process_time(), time.perf_counter()
            model.partial_fit(X, y)
            cpu["call"].append(time.process_time() - start_cpu)
            wall["call"].append(time.perf_counter() - start_wall)
            for name in parts:
                cpu[name].append(clock.cpu[name])
                wall[name].append(clock.wall[name])
    return (
        {name: np.array(seconds) for name, seconds in cpu.items()},
        {name: np.array(seconds) for name, seconds in wall.items()},
    )


def profile_outside_kernel(model, X, y, n_calls):
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(n_calls):
        model.partial_fit(X, y)
    profiler.disable()
    stats = pstats.Stats(profiler).sort_stats("cumulative")
    stats.print_stats(30)


HEADER = (
    "| model | batch | settings | call (ms) | kernel (ms) | outside (ms) "
    "| outside share | share, each repeat | wall: call (ms) "
    "| wall: outside share |\n" + "|---" * 10 + "|"
)
# The default, one step per call of a thousand rows, and 64-row steps, sixteen
# steps per call.
BATCH_SIZES = ("auto", 64)
FAST_CONFIG = "assume_finite, skip_parameter_validation"


def new_model(X, y, dtype, batch_size):
    """A model allocated by a first call on the batch in ``dtype``."""
    Xd = X.astype(dtype)
    model = AdagradClassifier(loss="log_loss", batch_size=batch_size, random_state=0)
    return model.partial_fit(Xd, y, classes=np.unique(y)), Xd


def measure(X, y, n_calls, repeats=1, profile=False):
    """One row per model dtype, batch size and configuration: per repeat the
    medians per call, then the median of the repeats."""
    rows = []
    for dtype, batch_size in itertools.product((np.float64, np.float32), BATCH_SIZES):
        model, Xd = new_model(X, y, dtype, batch_size)
        for fast_config in (False, True):
            runs = []
            for _ in range(repeats):
                gc.collect()
                cpu, wall = time_calls(model, Xd, y, n_calls, fast_config)
                runs.append(
                    {
                        "call": np.median(cpu["call"]),
                        "kernel": np.median(cpu["kernel"]),
                        "outside": np.median(cpu["call"] - cpu["kernel"]),
                        "share": np.median(1 - cpu["kernel"] / cpu["call"]),
                        "wall_call": np.median(wall["call"]),
                        "wall_share": np.median(1 - wall["kernel"] / wall["call"]),
                    }
                )
            row = {
                name: (1e3 if name in ("call", "kernel", "outside", "wall_call") else 1)
                * np.median([run[name] for run in runs])
                for name in runs[0]
            }
            row["shares"] = sorted(run["share"] for run in runs)
            row["model"] = np.dtype(dtype).name
            row["batch_size"] = batch_size
            row["settings"] = FAST_CONFIG if fast_config else "defaults"
            rows.append(row)
            print(format_row(row), flush=True)
        if profile:
            profile_outside_kernel(model, Xd, y, n_calls)
    return rows


def format_row(row):
    shares = ", ".join(f"{share:.0%}" for share in row["shares"])
    return (
        f"| {row['model']} | {row['batch_size']} | {row['settings']} | "
        f"{row['call']:.2f} | {row['kernel']:.2f} | {row['outside']:.2f} | "
        f"{row['share']:.0%} | {shares} | {row['wall_call']:.2f} | "
        f"{row['wall_share']:.0%} |"
    )


def measure_parts(X, y, n_calls):
    """Per model dtype (one step per call, scikit-learn's defaults), the median
    CPU time per call of each part of the call, in microseconds, the kernel
    and the call included."""
    columns = {}
    for dtype in (np.float64, np.float32):
        model, Xd = new_model(X, y, dtype, "auto")
        gc.collect()
        cpu, _ = time_calls(model, Xd, y, n_calls, False, {**KERNEL, **PARTS})
        named = sum(cpu[name] for name in KERNEL | PARTS)
        column = {name: 1e6 * np.median(cpu[name]) for name in PARTS}
        column["the rest (calls between the parts, clocks)"] = 1e6 * np.median(
            cpu["call"] - named
        )
        column["outside the kernel"] = 1e6 * np.median(cpu["call"] - cpu["kernel"])
        column["kernel"] = 1e6 * np.median(cpu["kernel"])
        column["call"] = 1e6 * np.median(cpu["call"])
        columns[np.dtype(dtype).name] = column
    return columns


def format_parts(columns):
    names = list(columns)
    lines = [
        "| part | " + " | ".join(f"{name} (µs)" for name in names) + " |",
        "|---" * (len(names) + 1) + "|",
    ]
    for part in next(iter(columns.values())):
        values = " | ".join(f"{columns[name][part]:.0f}" for name in names)
        lines.append(f"| {part} | {values} |")
    return "\n".join(lines)


def describe_batch(X, y, n_calls, repeats):
    return (
        f"{X.shape[0]:,} documents x 2^{X.shape[1].bit_length() - 1} features, "
        f"{X.nnz:,} stored entries, {len(np.unique(y))} classes; "
        f"`AdagradClassifier(loss='log_loss')`, {repeats} repeats of "
        f"{n_calls} calls"
    )


def render_page(rows, parts, batch, load=None):
    load = os.getloadavg()[0] if load is None else load
    today = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M")
    table = "\n".join([HEADER] + [format_row(row) for row in rows])
    return f"""# Small partial_fit calls

Measured on {today} UTC with `python -m benchmarks.partial_fit_overhead
--write-docs` on: {machine_description()}. One-minute load average
{load:.1f} as it began. The figures are medians, of CPU time of this process
unless
marked "wall" (CPU time is less disturbed by other work than wall time, but not
immune: the caches are shared).

One batch, {batch}, each after a call that allocated the model. With the
default `batch_size='auto'` (1024 rows in `partial_fit`) a call on it is one
step; with `batch_size=64` it is sixteen. "Kernel" is the steps themselves
(`SparseAdagrad.step`, which includes saving the rows it changes for the undo
journal, and `SparseAdagrad.plan_step`, the search for the batch's active
columns); "outside" is everything else in the call. The settings are
scikit-learn's defaults, or `sklearn.set_config(assume_finite=True,
skip_parameter_validation=True)`. Each repeat takes the median of its calls;
the table gives the median of the repeats, and the outside share of each
repeat. "wall: outside share" is the share of a call's wall time that the
calling thread spends outside the kernel (with several batches, the next
batch is planned in a second thread meanwhile).

{table}

## Where the time outside the kernel goes

One step per call, scikit-learn's defaults: the median CPU time per call of
each part, timed by wrapping the functions that do it (the wrappers' own
clocks add about a microsecond each, counted in the rest).

{format_parts(parts)}

A later call checks only what can have changed since the first one. A CSR
chunk of the model's float type and width, with labels in a NumPy array, is
checked for what scikit-learn's `validate_data` would refuse in it (NaN or
infinity, unless `assume_finite` is set) and goes no further through it; any
other input goes through `validate_data` as on a first call, with its
conversions, warnings and errors. Parameters that are the very objects the
last check passed are not checked again. The labels' type is not checked again
when they are integers, booleans or strings (their membership in `classes_` is
checked instead). A call of one batch too small to share between threads sets
up no thread pool. What remains is work on the chunk itself: the search of
its labels among the classes, the shuffle of its rows and their gather into
the shuffled batch the step reads, the check that it holds no duplicate
entries nor stored zeros (part of the data validation), and the undo journal.
Before these changes (commit 98ec370), this script gave, on the same
machine as busy (2026-11-30 07:18 UTC): 0.64 ms outside the kernel of a
1.79 ms call (36%) for float64 with one step per call and scikit-learn's
defaults, 0.50 ms of 1.64 ms (31%) with the two settings; 0.67 ms of 1.56 ms
(44%) and 0.48 ms of 1.31 ms (37%) for float32; with 64-row steps, 33% for
float64 and 35% for float32 (defaults).

With several batches per call, each batch's rows are gathered and its
targets encoded in a second thread while the previous step runs: that saves
about 15% of an epoch of `fit` on large data, where the gather waits on
memory. On this chunk, which fits in cache, with the machine busy (load
average about 4), the
hand-over to the thread costs more than it saves: with it turned off, a
64-row call took about a third less CPU and wall time. Skipping it for data
that fits in cache needs a rule measured on an idle machine; it is not made
here, and the 64-row rows include it.
"""


def main(argv=None, text_corpus=corpus.full_text_corpus):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=200, help="calls per repeat")
    parser.add_argument("--repeats", type=int, default=5, help="repeats per row")
    parser.add_argument("--profile", action="store_true", help="cProfile a run")
    parser.add_argument(
        "--write-docs", action="store_true", help="write docs/partial_fit.md"
    )
    args = parser.parse_args(argv)

    load = os.getloadavg()[0]
    X, y = hashed_batch(text_corpus=text_corpus)
    batch = describe_batch(X, y, args.calls, args.repeats)
    print(machine_description())
    print(f"{batch} (medians per call of CPU time)\n")
    print(HEADER)
    rows = measure(X, y, args.calls, args.repeats, args.profile)
    parts = measure_parts(X, y, args.calls * args.repeats)
    print("\n" + format_parts(parts))
    if args.write_docs:
        DOCS_PAGE.write_text(render_page(rows, parts, batch, load), encoding="utf-8")


if __name__ == "__main__":
    main()
