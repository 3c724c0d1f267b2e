"""Soak test: stream millions of hashed-text-like rows through ``partial_fit``.

Chunks of sparse rows are generated on the fly, shaped like the output of
``HashingVectorizer`` (2**20 columns, Zipf word frequencies, hash collisions
summed, L2-normalised rows) with labels from a planted linear model, and fed to
``AdagradClassifier.partial_fit`` one after another. Memory must stay flat: the
estimator holds the model and one chunk, whatever the length of the stream. The
script reports the resident set size after the first chunk, in the middle and at
the end (the run fails if the middle or end figure is more than 5% above the
first), the peak, the training throughput and the accuracy on held-out rows.

Usage::

    python -m benchmarks.soak                 # 10 million rows, a few minutes
    python -m benchmarks.soak --rows 500000   # a quick run
    python -m benchmarks.soak --write-docs    # also record the figures in
                                              # docs/reliability.md
"""

from __future__ import annotations

import argparse
import ctypes
import ctypes.util
import datetime
import os
import re
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import scipy.sparse as sp

from benchmarks import DOCS_DIR
from benchmarks.machine import machine_description
from benchmarks.pages import replace_between
from sk_adagrad import AdagradClassifier

DOCS_PAGE = DOCS_DIR / "reliability.md"
RESULTS_START = "<!-- soak-results:start -->"
RESULTS_END = "<!-- soak-results:end -->"
FLATNESS_TOLERANCE = 0.05
# Knuth's multiplicative hash spreads word ranks over the columns as a feature
# hasher would.
HASH_MULTIPLIER = 2654435761


@dataclass
class Stream:
    """A reproducible stream of hashed-text-like chunks with planted labels."""

    n_features: int
    nnz_per_row: int
    n_classes: int
    seed: int

    def __post_init__(self):
        rng = np.random.default_rng([self.seed, 0])
        # A vocabulary four times the hashed width, as in real hashed text where
        # collisions are common; 5% of the words carry signal.
        self.vocabulary_size = 4 * self.n_features
        informative = rng.random(self.n_features) < 0.05
        self.true_coef = rng.normal(size=(self.n_features, self.n_classes))
        self.true_coef *= informative[:, None]

    def chunk(self, index: int, n_rows: int, held_out: bool = False):
        """Chunk ``index`` of the stream (or of the held-out rows): ``(X, y)``,
        the same on every run."""
        rng = np.random.default_rng([self.seed, 2 if held_out else 1, index])
        nnz = n_rows * self.nnz_per_row
        # Word ranks r with P(r) proportional to 1 / r (Zipf), hashed to columns.
        ranks = np.floor(self.vocabulary_size ** rng.random(nnz)).astype(np.int64)
        columns = (ranks * HASH_MULTIPLIER) % self.n_features
        counts = 1.0 + np.floor(rng.exponential(0.5, size=nnz))
        indptr = np.arange(0, nnz + 1, self.nnz_per_row, dtype=np.int64)
        X = sp.csr_array(
            (np.log1p(counts), columns.astype(np.int32), indptr),
            shape=(n_rows, self.n_features),
        )
        X.sum_duplicates()  # colliding words add up, as in HashingVectorizer
        norms = np.sqrt(np.add.reduceat(X.data**2, X.indptr[:-1]))
        X.data /= np.repeat(norms, np.diff(X.indptr))

        scores = np.asarray(X @ self.true_coef)
        scores += rng.gumbel(scale=0.1, size=scores.shape)
        if self.n_classes == 1:
            y = (scores[:, 0] > 0).astype(np.int64)
        else:
            y = scores.argmax(axis=1)
        return X, y

    @property
    def classes(self):
        return np.arange(2 if self.n_classes == 1 else self.n_classes)


def resident_memory() -> int:
    """Resident set size of this process in bytes (VmRSS)."""
    try:
        import psutil
    except ImportError:
        status = Path("/proc/self/status").read_text()
        return int(re.search(r"VmRSS:\s+(\d+) kB", status).group(1)) * 1024
    return psutil.Process().memory_info().rss


def _load_libc_trim():
    """glibc's ``malloc_trim``, or None elsewhere."""
    try:
        return ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6").malloc_trim
    except (OSError, AttributeError):
        return None


_MALLOC_TRIM = _load_libc_trim()


def live_memory() -> int | None:
    """Resident set size after handing freed heap memory back to the system.

    glibc keeps freed blocks for reuse (and, once large blocks have been freed,
    raises its mmap threshold so that later ones come from the heap too), so the
    plain resident size rises over the first chunks and then wavers by tens of
    MiB without any live object growing. ``malloc_trim(0)`` returns that free
    memory; what stays resident is what the process really holds, which is what
    a leak would make grow. None where glibc is not available.
    """
    if _MALLOC_TRIM is None:
        return None
    _MALLOC_TRIM(0)
    return resident_memory()


def _load_average() -> float:
    try:
        return os.getloadavg()[0]
    except OSError:
        return float("nan")


@dataclass
class Checkpoint:
    name: str
    rows: int
    rss: int
    live: int | None
    accuracy: float


def _rise(checkpoints, field):
    """Largest rise of a memory figure over its value at the first checkpoint."""
    values = [getattr(c, field) for c in checkpoints]
    if values[0] is None:
        return None
    return max((value - values[0]) / values[0] for value in values)


def soak(args) -> dict:
    """Run the stream; return the measurements."""
    n_classes = 1 if args.classes == 2 else args.classes
    stream = Stream(args.n_features, args.nnz_per_row, n_classes, args.seed)
    n_chunks = max(1, -(-args.rows // args.chunk_rows))
    checkpoint_names = {0: "start", (n_chunks - 1) // 2: "middle", n_chunks - 1: "end"}
    X_test, y_test = stream.chunk(0, args.test_rows, held_out=True)
    model = AdagradClassifier(
        loss=args.loss, batch_size=args.batch_size, random_state=args.seed
    )

    checkpoints = []
    load_before = _load_average()
    train_seconds = generate_seconds = 0.0
    peak_rss, rows_done = 0, 0
    start = time.perf_counter()
    for index in range(n_chunks):
        n_rows = min(args.chunk_rows, args.rows - rows_done)
        tic = time.perf_counter()
        X, y = stream.chunk(index, n_rows)
        toc = time.perf_counter()
        model.partial_fit(X, y, classes=stream.classes)
        generate_seconds += toc - tic
        train_seconds += time.perf_counter() - toc
        rows_done += n_rows
        del X, y

        rss = resident_memory()
        peak_rss = max(peak_rss, rss)
        if index in checkpoint_names:
            name = checkpoint_names[index]
            live = live_memory()
            accuracy = model.score(X_test, y_test)
            checkpoints.append(Checkpoint(name, rows_done, rss, live, accuracy))
            if args.verbose:
                print(f"{name}: {rows_done:,} rows, {rss / 2**20:.1f} MiB RSS")
        elif args.verbose and index % 100 == 0:
            print(f"  {rows_done:,} rows, {rss / 2**20:.1f} MiB RSS", flush=True)

    rss_rise, live_rise = _rise(checkpoints, "rss"), _rise(checkpoints, "live")
    # The criterion is on the memory the process holds when glibc can tell it,
    # else on the plain resident size.
    judged = rss_rise if live_rise is None else live_rise
    return dict(
        checkpoints=checkpoints,
        rss_rise=rss_rise,
        live_rise=live_rise,
        flat=judged <= FLATNESS_TOLERANCE,
        peak_rss=peak_rss,
        load_average=(load_before, _load_average()),
        rows=rows_done,
        n_chunks=n_chunks,
        train_seconds=train_seconds,
        generate_seconds=generate_seconds,
        wall_seconds=time.perf_counter() - start,
        model_bytes=model.coef_.nbytes + model.coef_accumulator_.nbytes,
        steps=model.t_,
    )


def _mib(value):
    return "n/a" if value is None else f"{value / 2**20:.1f}"


def _change(value, baseline):
    return "n/a" if value is None else f"{(value - baseline) / baseline:+.1%}"


def report_table(results: dict, args) -> str:
    """The figures as a Markdown table (printed, and written into the docs)."""
    first = results["checkpoints"][0]
    lines = [
        "| checkpoint | rows streamed | RSS (MiB) | vs start "
        "| RSS after trim (MiB) | vs start | held-out accuracy |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for c in results["checkpoints"]:
        lines.append(
            f"| {c.name} | {c.rows:,} | {_mib(c.rss)} | {_change(c.rss, first.rss)} "
            f"| {_mib(c.live)} | {_change(c.live, first.live)} | {c.accuracy:.3f} |"
        )
    verdict = "flat" if results["flat"] else "NOT FLAT"
    live_rise = results["live_rise"]
    lines += [
        "",
        f"- Stream: {results['rows']:,} rows in {results['n_chunks']:,} chunks of "
        f"{args.chunk_rows:,}; {args.n_features:,} hashed features, "
        f"{args.nnz_per_row} words per row before collisions; {args.classes} "
        f"classes; `loss={args.loss!r}`, `batch_size={args.batch_size}` "
        f"({results['steps']:,} Adagrad steps). Weights and accumulators: "
        f"{results['model_bytes'] / 2**20:.0f} MiB.",
        f"- Memory: largest rise over the start {results['rss_rise']:+.1%} "
        f"resident, "
        + ("n/a" if live_rise is None else f"{live_rise:+.1%}")
        + f" after trimming (limit {FLATNESS_TOLERANCE:.0%}): {verdict}. Peak "
        f"resident size {results['peak_rss'] / 2**20:.1f} MiB.",
        f"- Throughput of `partial_fit`: "
        f"{results['rows'] / results['train_seconds']:,.0f} rows/s "
        f"({results['train_seconds']:.0f} s training, "
        f"{results['generate_seconds']:.0f} s generating the chunks, "
        f"{results['wall_seconds']:.0f} s wall); load average "
        f"{results['load_average'][0]:.1f} before and "
        f"{results['load_average'][1]:.1f} after the run, on "
        f"{os.cpu_count()} cores.",
    ]
    return "\n".join(lines)


def write_docs(table: str, command: str) -> None:
    """Replace the results section of docs/reliability.md with this run's."""
    today = datetime.date.today().isoformat()
    measured = f"Measured on {today} with `{command}` on: {machine_description()}."
    replace_between(DOCS_PAGE, RESULTS_START, RESULTS_END, f"\n{measured}\n\n{table}\n")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--chunk-rows", type=int, default=10_000)
    parser.add_argument("--n-features", type=int, default=2**20)
    parser.add_argument("--nnz-per-row", type=int, default=50)
    parser.add_argument("--classes", type=int, default=2)
    parser.add_argument("--loss", default="log_loss")
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--test-rows", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--write-docs", action="store_true")
    parser.add_argument("--verbose", action="store_true")
    args = parser.parse_args(argv)
    if args.classes < 2:
        parser.error("--classes must be at least 2")

    results = soak(args)
    table = report_table(results, args)
    print(table)
    if args.write_docs:
        command = "python -m benchmarks.soak " + " ".join(
            a
            for a in (argv if argv is not None else sys.argv[1:])
            if a not in ("--write-docs", "--verbose")  # they change no figure
        )
        write_docs(table, command.strip())
        print(f"\nWrote the figures to {DOCS_PAGE.relative_to(DOCS_PAGE.parents[1])}")
    return 0 if results["flat"] else 1


if __name__ == "__main__":
    sys.exit(main())
