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

    python benchmarks/partial_fit_overhead.py [--calls 200] [--profile] [--write-docs]

``--profile`` also prints the functions outside the kernel that cost the most
(cProfile, cumulative time).
"""

from __future__ import annotations

import argparse
import cProfile
import datetime
import gc
import itertools
import pstats
import sys
import time
from collections import Counter
from contextlib import contextmanager, nullcontext
from pathlib import Path

import numpy as np
import sklearn
from sklearn.feature_extraction.text import HashingVectorizer

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks import datasets  # noqa: E402
from benchmarks.machine import machine_description  # noqa: E402
from sk_adagrad import AdagradClassifier  # noqa: E402
from sk_adagrad._engine import SparseAdagrad  # noqa: E402

DOCS_PAGE = Path(__file__).resolve().parent.parent / "docs" / "partial_fit.md"
N_DOCUMENTS = 1000
N_FEATURES = 2**20
N_CLASSES = 20


def hashed_batch(n_documents=N_DOCUMENTS, n_classes=N_CLASSES, random_state=0):
    """The first ``n_documents`` documents, in a seeded random order, of the
    ``n_classes`` most frequent classes, hashed to ``N_FEATURES`` columns."""
    texts, labels = datasets.load_text_corpus()
    kept = {label for label, _ in Counter(labels.tolist()).most_common(n_classes)}
    order = np.random.default_rng(random_state).permutation(len(texts))
    rows = [i for i in order if labels[i] in kept][:n_documents]
    X = HashingVectorizer(n_features=N_FEATURES).transform([texts[i] for i in rows])
    return X, labels[rows]


class KernelClock:
    """Adds up the time spent in the step kernel while installed."""

    def __init__(self):
        self.seconds = 0.0

    @contextmanager
    def installed(self):
        step, columns = SparseAdagrad.step, SparseAdagrad.plan_step
        clock = self

        def timed(function):
            def wrapper(*args, **kwargs):
                start = time.process_time()
                try:
                    return function(*args, **kwargs)
                finally:
                    clock.seconds += time.process_time() - start

            return wrapper

        SparseAdagrad.step = timed(step)
        SparseAdagrad.plan_step = timed(columns)
        try:
            yield self
        finally:
            SparseAdagrad.step, SparseAdagrad.plan_step = step, columns


def time_calls(model, X, y, n_calls, fast_config):
    """Per call: total seconds and seconds in the kernel, ``n_calls`` times."""
    totals, kernels = [], []
    config = (
        sklearn.config_context(assume_finite=True, skip_parameter_validation=True)
        if fast_config
        else nullcontext()
    )
    clock = KernelClock()
    with config, clock.installed():
        for _ in range(n_calls):
            clock.seconds = 0.0
            start = time.process_time()
            model.partial_fit(X, y)
            totals.append(time.process_time() - start)
            kernels.append(clock.seconds)
    return np.array(totals), np.array(kernels)


def profile_outside_kernel(model, X, y, n_calls):
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(n_calls):
        model.partial_fit(X, y)
    profiler.disable()
    stats = pstats.Stats(profiler).sort_stats("cumulative")
    stats.print_stats(30)


HEADER = """\
| model | batch | settings | call (ms) | kernel (ms) | outside (ms) | outside share |
|---|---|---|---|---|---|---|"""
# One step per call, and the default: batch_size='auto' steps a chunk of a
# thousand rows in batches of a few dozen.
BATCH_SIZES = (1024, "auto")
FAST_CONFIG = "assume_finite, skip_parameter_validation"


def measure(X, y, n_calls, profile=False):
    """One row per model dtype and configuration: medians per call of CPU
    time."""
    classes = np.unique(y)
    rows = []
    for dtype, batch_size in itertools.product((np.float64, np.float32), BATCH_SIZES):
        Xd = X.astype(dtype)
        model = AdagradClassifier(
            loss="log_loss", batch_size=batch_size, random_state=0
        )
        model.partial_fit(Xd, y, classes=classes)  # allocates the model
        for fast_config in (False, True):
            gc.collect()
            totals, kernels = time_calls(model, Xd, y, n_calls, fast_config)
            row = {
                "model": np.dtype(dtype).name,
                "batch_size": batch_size,
                "settings": FAST_CONFIG if fast_config else "defaults",
                "call": 1e3 * np.median(totals),
                "kernel": 1e3 * np.median(kernels),
                "outside": 1e3 * np.median(totals - kernels),
                "share": np.median((totals - kernels) / totals),
            }
            rows.append(row)
            print(format_row(row), flush=True)
        if profile:
            profile_outside_kernel(model, Xd, y, n_calls)
    return rows


def format_row(row):
    return (
        f"| {row['model']} | {row['batch_size']} | {row['settings']} | "
        f"{row['call']:.2f} | "
        f"{row['kernel']:.2f} | {row['outside']:.2f} | {row['share']:.0%} |"
    )


def describe_batch(X, y, n_calls):
    return (
        f"{X.shape[0]:,} documents x 2^{X.shape[1].bit_length() - 1} features, "
        f"{X.nnz:,} stored entries, {len(np.unique(y))} classes; "
        f"`AdagradClassifier(loss='log_loss')`, {n_calls} calls"
    )


def render_page(rows, batch, n_calls):
    today = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M")
    table = "\n".join([HEADER] + [format_row(row) for row in rows])
    return f"""# Small partial_fit calls

Measured on {today} UTC with `python benchmarks/partial_fit_overhead.py
--write-docs` on: {machine_description()}. The machine was shared with other
work while it ran: the figures are CPU time of this process (medians), less
disturbed than wall time but not immune.

One batch, {batch}, each after a call that allocated the model; with
`batch_size=1024` a call is one step, with the default `batch_size='auto'`
(a few dozen rows per step for a chunk of a thousand) it is several. "Kernel"
is the steps themselves (`SparseAdagrad.step`, which includes saving the rows it
changes for the undo journal, and the search for the batch's active columns);
"outside" is everything else in the call: parameter and data validation,
label encoding, the shuffle of the rows, the undo journal's setup. The
settings are scikit-learn's defaults, or
`sklearn.set_config(assume_finite=True, skip_parameter_validation=True)`.

{table}

A later call skips what the first one settled: the type of integer, boolean
and string labels (their membership in `classes_` is checked instead) and,
when scikit-learn's configuration says so, the parameters; the CPU count that
decides how many threads may share a step is read once per process. What
remains outside the kernel is mostly scikit-learn's `validate_data` (the
format, shape and feature-name checks of X and y), the gather of the
shuffled rows and the label lookup. Before these changes (commit 3b0eaa6,
when a call of a thousand rows was one step by default), the same measurement
gave 1.56 ms outside the kernel of a 3.05 ms call (52%) for float64 with one
step per call and scikit-learn's defaults, and 1.51 ms of 2.98 ms (51%) with
the two settings.
"""


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=200, help="timed calls")
    parser.add_argument("--profile", action="store_true", help="cProfile a run")
    parser.add_argument(
        "--write-docs", action="store_true", help="write docs/partial_fit.md"
    )
    args = parser.parse_args(argv)

    X, y = hashed_batch()
    batch = describe_batch(X, y, args.calls)
    print(machine_description())
    print(f"{batch} (medians per call of CPU time)\n")
    print(HEADER)
    rows = measure(X, y, args.calls, args.profile)
    if args.write_docs:
        DOCS_PAGE.write_text(render_page(rows, batch, args.calls), encoding="utf-8")


if __name__ == "__main__":
    main()
