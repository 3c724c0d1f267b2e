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

    python benchmarks/partial_fit_overhead.py [--calls 200] [--profile]

``--profile`` also prints the functions outside the kernel that cost the most
(cProfile, cumulative time).
"""

from __future__ import annotations

import argparse
import cProfile
import gc
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
        step, columns = SparseAdagrad.step, SparseAdagrad.columns_to_step
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
        SparseAdagrad.columns_to_step = timed(columns)
        try:
            yield self
        finally:
            SparseAdagrad.step, SparseAdagrad.columns_to_step = step, columns


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


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=200, help="timed calls")
    parser.add_argument("--profile", action="store_true", help="cProfile a run")
    args = parser.parse_args(argv)

    X, y = hashed_batch()
    classes = np.unique(y)
    print(machine_description())
    print(
        f"batch: {X.shape[0]} documents x 2^{N_FEATURES.bit_length() - 1} features, "
        f"{X.nnz} stored entries, {len(classes)} classes; {args.calls} calls each "
        "(medians per call, ms)\n"
    )
    header = "| setting | call | kernel | outside | outside share |"
    print(header)
    print("|---|---|---|---|---|")
    for dtype in (np.float64, np.float32):
        Xd = X.astype(dtype)
        model = AdagradClassifier(loss="log_loss", random_state=0)
        model.partial_fit(Xd, y, classes=classes)  # allocates the model
        for fast_config in (False, True):
            gc.collect()
            totals, kernels = time_calls(model, Xd, y, args.calls, fast_config)
            outside = totals - kernels
            name = f"{np.dtype(dtype).name}" + (
                ", assume_finite + skip_parameter_validation" if fast_config else ""
            )
            print(
                f"| {name} | {1e3 * np.median(totals):.2f} | "
                f"{1e3 * np.median(kernels):.2f} | {1e3 * np.median(outside):.2f} | "
                f"{np.median(outside / totals):.0%} |"
            )
        if args.profile:
            profile_outside_kernel(model, Xd, y, args.calls)


if __name__ == "__main__":
    main()
