"""Data-parallel epochs on a Dask cluster against sequential training.

On a ``distributed.LocalCluster`` of two worker processes with one thread each,
every data set is split into ``--partitions`` row blocks held in the workers'
memory (spread over them in order), and ``AdagradClassifier(n_threads=1,
random_state=0)`` trains epoch by epoch over them. Two measurements:

``compare`` (the default): ``dask_ml.wrappers.Incremental`` (one model
passed from block to block, in order), ``sk_adagrad.dask.DataParallel`` with
two partial models per epoch (its default merge, or ``--rules``) and a plain
``partial_fit`` loop over the same blocks in this process. Their epochs
alternate, so that all meet the same load on a shared machine. For each it
prints the median epoch time (the call that trains an epoch; ``Incremental``
brings the model back to the client, ``DataParallel`` leaves it on the
cluster), the median CPU time the workers spent on an epoch (the sum over the
workers for ``Incremental``, the busier worker's for ``DataParallel``), their
ratios to ``Incremental``'s and to the loop's, and the test accuracy after
each epoch. The epochs are the repeats.

``partials``: ``DataParallel`` with 1, 2, 4, 8 and 16 partial models per epoch
on the same two workers (the accuracy does not depend on where they run),
each for ``--epochs`` epochs: test accuracy after each epoch, median epoch
time, the time the merge tasks ran per epoch, the bytes of the model and its
parts moved between workers per epoch after the first (the workers' transfer
logs; the data blocks and line-search rows left out), the bytes of the rows the partial
models touched (the rows of its group's blocks, times the bytes a row of the
model takes) and the model's size.

The one-minute load average is read before each timed epoch and its range
printed with each table. ``--write-docs`` writes the tables into
docs/data_parallel_measured.rst between their markers.

Data sets: the docstring corpus as tf-idf of uni+bigrams (75/25 split) and
hashed to 2**20 features (float64, 55 classes, as a new user would), a binary
short-text set (each docstring's first line, hashed to 2**20 float32
features, "from the most frequent module" or not), and the synthetic sets (a)
(binary) and (b) (20 classes) of ``benchmarks/datasets.py``.

    python -m benchmarks.data_parallel [compare|partials] [--epochs 3] \\
        [--partitions 8] [--datasets ...] [--write-docs]
"""

from __future__ import annotations

import argparse
import importlib
import os
import statistics
import time
from collections import Counter
from dataclasses import dataclass, field

import numpy as np

from benchmarks import DOCS_DIR, corpus, datasets
from benchmarks.machine import machine_description
from benchmarks.pages import replace_between
from sk_adagrad import AdagradClassifier
from sk_adagrad._merge import MERGE_RULES

DOCS_PAGE = DOCS_DIR / "data_parallel_measured.rst"
MARKERS = {
    "compare": (".. data-parallel table start", ".. data-parallel table end"),
    "partials": (".. partial-models table start", ".. partial-models table end"),
    "warmup": (".. warm-up table start", ".. warm-up table end"),
}

# (a) at the benchmark suite's size, (b) at a size whose epochs take seconds,
# not minutes, on one thread.
SYNTHETIC = {
    "(a) binary": dict(n_samples=500_000, n_features=50_000, n_classes=2),
    "(b) 20 classes": dict(n_samples=250_000, n_features=50_000, n_classes=20),
}
TEXT = ("docstrings", "docstrings hashed", "short text")
DATASETS = (*TEXT, *SYNTHETIC)
PARTIAL_MODELS = (1, 2, 4, 8, 16)


@dataclass
class Run:
    """Epoch times and test accuracies of one way of training."""

    label: str
    workers: int
    load: list[float] = field(default_factory=list)
    seconds: list[float] = field(default_factory=list)
    cpu_seconds: list[float] = field(default_factory=list)
    accuracy: list[float] = field(default_factory=list)
    merge_seconds: list[float] = field(default_factory=list)
    moved_bytes: list[float] = field(default_factory=list)
    touched_bytes: float = 0.0


@dataclass
class Result:
    name: str
    shape: tuple[int, int]
    n_classes: int
    model_bytes: int
    touched_share: float
    nonzeros_per_row: float
    runs: list[Run]


def load(name: str, scale: float):
    """``X_train, X_test, y_train, y_test`` of a named data set."""
    if name == "docstrings":
        return corpus.docstring_split()
    if name in ("docstrings hashed", "short text"):
        return _hashed_docstrings(short=name == "short text")
    params = dict(SYNTHETIC[name])
    params["n_samples"] = int(params["n_samples"] * scale)
    return datasets.split(*datasets.make_rcv1_like(**params, random_state=0))


def _hashed_docstrings(short: bool):
    """The docstring corpus hashed to 2**20 features: every class in float64,
    or (``short``) each document's first line, labelled by whether it comes
    from the most frequent module, in float32."""
    from sklearn.feature_extraction.text import HashingVectorizer

    texts, labels = corpus.load_text_corpus()
    if short:
        texts = corpus.first_lines(texts)
        most_frequent = Counter(labels.tolist()).most_common(1)[0][0]
        labels = (labels == most_frequent).astype(np.int64)
    vectorizer = HashingVectorizer(
        n_features=2**20,
        alternate_sign=False,
        dtype=np.float32 if short else np.float64,
    )
    return datasets.split(vectorizer.transform(texts), labels, test_fraction=0.25)


def as_dask_blocks(client, X, y, n_partitions: int):
    """A dask array of ``n_partitions`` CSR row blocks (and the labels), held
    in the workers' memory, spread over the workers in order; and the blocks
    themselves."""
    import dask.array as da
    import scipy.sparse as sp

    bounds = np.linspace(0, X.shape[0], n_partitions + 1).astype(int)
    workers = sorted(client.scheduler_info()["workers"])
    X_parts, y_parts, blocks = [], [], []
    for index, (start, stop) in enumerate(zip(bounds[:-1], bounds[1:], strict=True)):
        where = [workers[index * len(workers) // n_partitions]]
        blocks.append((X[start:stop], y[start:stop]))
        X_future = client.scatter(X[start:stop], workers=where)
        y_future = client.scatter(y[start:stop], workers=where)
        X_parts.append(
            da.from_delayed(
                X_future,
                shape=(stop - start, X.shape[1]),
                dtype=X.dtype,
                meta=sp.csr_matrix((0, X.shape[1]), dtype=X.dtype),
            )
        )
        y_parts.append(da.from_delayed(y_future, shape=(stop - start,), dtype=y.dtype))
    return da.concatenate(X_parts), da.concatenate(y_parts), blocks


def model_row_bytes(X, n_classes: int) -> int:
    """The bytes one row of the model takes: a weight and an accumulator per
    output, and the step it was brought up to."""
    n_outputs = 1 if n_classes == 2 else n_classes
    return 2 * n_outputs * np.dtype(X.dtype).itemsize + 8


def touched_rows(blocks, n_groups: int) -> list[int]:
    """How many rows (features) each group of blocks touches: the distinct
    columns of its blocks."""
    groups = np.array_split(np.arange(len(blocks)), n_groups)
    return [
        len(np.unique(np.concatenate([blocks[i][0].indices for i in group])))
        for group in groups
    ]


# The results of these tasks are the model or parts of it; the rest is data.
MODEL_TASKS = (
    "_train_on_blocks",
    "_combine",
    "_finish_epoch",
    "_train_alone",
    "no_rows",
    "deepcopy",
)


def _model_transfers(client) -> float:
    """The bytes of the model and its parts that the workers received from
    each other so far (the data blocks and line-search rows left out)."""

    def received(dask_worker):
        return sum(
            size
            for transfer in dask_worker.transfer_incoming_log
            for key, size in transfer["keys"].items()
            if str(key).startswith(MODEL_TASKS)
        )

    return float(sum(client.run(received).values()))


def _timed_epoch(client, run: Run, train, score, parallel: bool) -> None:
    """Time one epoch of ``train`` into ``run``, with the workers' CPU time,
    the bytes moved between them and the time the merge tasks ran."""
    from distributed import get_task_stream

    run.load.append(os.getloadavg()[0])
    cpu_before = client.run(time.process_time)
    moved_before = _model_transfers(client)
    with get_task_stream(client) as stream:
        start = time.perf_counter()
        train()
        run.seconds.append(time.perf_counter() - start)
    cpu = client.run(time.process_time)
    spent = [cpu[worker] - cpu_before[worker] for worker in cpu]
    # Tasks in sequence take their sum; side by side, the busier worker's.
    run.cpu_seconds.append(max(spent) if parallel else sum(spent))
    run.moved_bytes.append(_model_transfers(client) - moved_before)
    run.merge_seconds.append(
        sum(
            part["stop"] - part["start"]
            for task in stream.data
            if str(task["key"]).startswith(("_combine", "_finish_epoch"))
            for part in task["startstops"]
            if part["action"] == "compute"
        )
    )
    run.accuracy.append(score())


def _model():
    return AdagradClassifier(n_threads=1, random_state=0)


def _result(name, X_train, classes, blocks, runs, n_groups):
    row_bytes = model_row_bytes(X_train, len(classes))
    touched = touched_rows(blocks, n_groups)
    return Result(
        name,
        X_train.shape,
        len(classes),
        row_bytes * X_train.shape[1],
        statistics.mean(touched) / X_train.shape[1],
        X_train.nnz / touched_rows(blocks, 1)[0],
        runs,
    )


def compare(client, name, epochs, n_partitions, scale, rules) -> Result:
    """Incremental, DataParallel (two partial models) and a plain loop."""
    from dask_ml.wrappers import Incremental

    from sk_adagrad.dask import DataParallel

    X_train, X_test, y_train, y_test = load(name, scale)
    classes = np.unique(y_train)
    X, y, blocks = as_dask_blocks(client, X_train, y_train, n_partitions)
    sequential = Incremental(_model(), shuffle_blocks=False)
    parallel = {rule: DataParallel(_model(), n_workers=2, merge=rule) for rule in rules}
    loop_model = _model()
    runs = [Run("sequential ``Incremental``", 1)]
    runs += [Run(f"``DataParallel``, {rule}", 2) for rule in rules]
    loop = Run("``partial_fit`` loop in one process", 1)
    for epoch in range(epochs):
        extra = {"classes": classes} if epoch == 0 else {}

        def loop_epoch(extra=extra):
            for X_block, y_block in blocks:
                loop_model.partial_fit(X_block, y_block, **extra)

        _timed_epoch(
            client,
            runs[0],
            lambda extra=extra: sequential.partial_fit(X, y, **extra),
            lambda: sequential.estimator_.score(X_test, y_test),
            parallel=False,
        )
        for rule, run in zip(rules, runs[1:], strict=True):
            wrapper = parallel[rule]
            _timed_epoch(
                client,
                run,
                lambda wrapper=wrapper, extra=extra: wrapper.partial_fit(X, y, **extra),
                lambda wrapper=wrapper: wrapper.estimator_.score(X_test, y_test),
                parallel=True,
            )
        loop.load.append(os.getloadavg()[0])
        start = time.perf_counter()
        loop_epoch()
        loop.seconds.append(time.perf_counter() - start)
        loop.accuracy.append(loop_model.score(X_test, y_test))
        print(
            f"  {name} epoch {epoch + 1}: "
            + "; ".join(
                f"{run.label} {run.seconds[-1]:.2f} s ({run.accuracy[-1]:.4f})"
                for run in [*runs, loop]
            ),
            flush=True,
        )
    runs.append(loop)
    return _result(name, X_train, classes, blocks, runs, 2)


def partials(client, name, epochs, n_partitions, scale) -> Result:
    """DataParallel with 1 to 16 partial models per epoch."""
    from sk_adagrad.dask import DataParallel

    X_train, X_test, y_train, y_test = load(name, scale)
    classes = np.unique(y_train)
    X, y, blocks = as_dask_blocks(client, X_train, y_train, n_partitions)
    row_bytes = model_row_bytes(X_train, len(classes))
    runs = []
    for n_models in PARTIAL_MODELS:
        if n_models > n_partitions:
            continue
        run = Run(f"{n_models} partial models", n_models)
        run.touched_bytes = row_bytes * sum(touched_rows(blocks, n_models))
        wrapper = DataParallel(_model(), n_workers=n_models)
        for epoch in range(epochs):
            extra = {"classes": classes} if epoch == 0 else {}
            _timed_epoch(
                client,
                run,
                lambda wrapper=wrapper, extra=extra: wrapper.partial_fit(X, y, **extra),
                lambda wrapper=wrapper: wrapper.estimator_.score(X_test, y_test),
                parallel=True,
            )
        print(
            f"  {name}, {n_models} partial models: "
            + ", ".join(f"{a:.4f}" for a in run.accuracy)
            + f"; epochs {', '.join(f'{s:.2f}' for s in run.seconds)} s; moved "
            f"{run.moved_bytes[-1] / 1e6:.1f} MB, touched x models "
            f"{run.touched_bytes / 1e6:.1f} MB",
            flush=True,
        )
        runs.append(run)
    return _result(name, X_train, classes, blocks, runs, 2)


def warm_up(name, epochs, n_partitions, scale) -> str:
    """Test accuracy after each epoch of data-parallel training written out
    in this process (the result does not depend on where it runs), with 2, 4
    and 8 partial models, after a warm-up on ``1 / n_models`` of the blocks
    or on one block; an RST list-table's rows."""
    import copy

    import scipy.sparse as sp

    from sk_adagrad.dask import merge_partial_models

    X_train, X_test, y_train, y_test = load(name, scale)
    classes = np.unique(y_train)
    bounds = np.linspace(0, X_train.shape[0], n_partitions + 1).astype(int)
    blocks = [
        (X_train[start:stop], y_train[start:stop])
        for start, stop in zip(bounds[:-1], bounds[1:], strict=True)
    ]
    rows = []
    for n_models in (2, 4, 8):
        for warm in sorted({n_partitions // n_models, 1}, reverse=True):
            if n_partitions - warm < n_models:
                continue  # a partial model of the first epoch would get no block
            model = _model()
            for X_block, y_block in blocks[:warm]:
                model.partial_fit(X_block, y_block, classes=classes)
            remaining, accuracy = blocks[warm:], []
            for _ in range(epochs):
                groups = np.array_split(np.arange(len(remaining)), n_models)
                partial_models = []
                for group in groups:
                    partial = copy.deepcopy(model)
                    for index in group:
                        partial.partial_fit(*remaining[index])
                    partial_models.append(partial)
                heads = [remaining[group[-1]] for group in groups]
                model = merge_partial_models(
                    model,
                    partial_models,
                    "line_search",
                    sp.vstack([X[:2048] for X, _ in heads], format="csr"),
                    np.concatenate([y[:2048] for _, y in heads]),
                )
                accuracy.append(model.score(X_test, y_test))
                remaining = blocks
            print(
                f"  {name}, {n_models} partial models, warm-up {warm} blocks: "
                + ", ".join(f"{a:.4f}" for a in accuracy),
                flush=True,
            )
            rows += [
                f"   * - {name}",
                f"     - {n_models}",
                f"     - {warm} of {n_partitions}",
                "     - " + ", ".join(f"{100 * a:.1f}" for a in accuracy),
            ]
    return "\n".join(rows)


def _label(result: Result) -> str:
    n_rows, n_features = result.shape
    return f"{result.name} ({n_rows:,} x {n_features:,}, {result.n_classes} classes)"


def compare_table(results: list[Result]) -> str:
    """The comparison as an RST list-table."""
    epochs = len(results[0].runs[0].accuracy)
    lines = [
        ".. list-table::",
        "   :header-rows: 1",
        "",
        "   * - data set",
        "     - training",
        "     - median epoch (s)",
        "     - ratio to ``Incremental``",
        "     - ratio to the loop",
        "     - worker CPU (s)",
        "     - CPU ratio",
        "     - test accuracy (%) after epoch "
        + ", ".join(map(str, range(1, epochs + 1))),
    ]
    for result in results:
        baseline = statistics.median(result.runs[0].seconds)
        loop = statistics.median(result.runs[-1].seconds)
        cpu_baseline = statistics.median(result.runs[0].cpu_seconds)
        for run in result.runs:
            median = statistics.median(run.seconds)
            cpu = statistics.median(run.cpu_seconds) if run.cpu_seconds else None
            lines += [
                f"   * - {_label(result)}",
                f"     - {run.label}",
                f"     - {median:.2f}",
                f"     - {median / baseline:.2f}",
                f"     - {median / loop:.1f}",
                "     - " + ("" if cpu is None else f"{cpu:.2f}"),
                "     - " + ("" if cpu is None else f"{cpu / cpu_baseline:.2f}"),
                "     - " + ", ".join(f"{100 * a:.1f}" for a in run.accuracy),
            ]
    return "\n".join(lines)


def partials_table(results: list[Result]) -> str:
    """The partial-models study as an RST list-table."""
    epochs = len(results[0].runs[0].accuracy)
    lines = [
        ".. list-table::",
        "   :header-rows: 1",
        "",
        "   * - data set (model MB; rows half the blocks touch; nonzeros of an "
        "epoch per row the epoch touches)",
        "     - partial models",
        "     - test accuracy (%) after epoch "
        + ", ".join(map(str, range(1, epochs + 1))),
        "     - median epoch (s)",
        "     - merge tasks per epoch (s)",
        "     - model MB moved per epoch (after the first)",
        "     - MB of touched rows x partial models",
    ]
    for result in results:
        for run in result.runs:
            moved = statistics.median(run.moved_bytes[1:] or run.moved_bytes)
            lines += [
                f"   * - {_label(result)} ({result.model_bytes / 1e6:.0f} MB; "
                f"{100 * result.touched_share:.1f}%; "
                f"{result.nonzeros_per_row:.0f})",
                f"     - {run.workers}",
                "     - " + ", ".join(f"{100 * a:.1f}" for a in run.accuracy),
                f"     - {statistics.median(run.seconds):.2f}",
                f"     - {statistics.median(run.merge_seconds):.2f}",
                f"     - {moved / 1e6:.1f}",
                f"     - {run.touched_bytes / 1e6:.1f}",
            ]
    return "\n".join(lines)


def load_range(results: list[Result]) -> tuple[float, float]:
    """The least and greatest one-minute load average read before an epoch."""
    loads = [load for result in results for run in result.runs for load in run.load]
    return min(loads), max(loads)


def write_docs(kind: str, text: str) -> None:
    replace_between(DOCS_PAGE, *MARKERS[kind], f"\n\n{text}\n\n")


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("kind", nargs="?", default="compare", choices=list(MARKERS))
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--partitions", type=int, default=8)
    parser.add_argument(
        "--scale", type=float, default=1.0, help="fraction of (a)/(b)'s rows"
    )
    parser.add_argument(
        "--datasets", nargs="+", default=list(DATASETS), choices=list(DATASETS)
    )
    parser.add_argument(
        "--rules", nargs="+", default=["line_search"], choices=list(MERGE_RULES)
    )
    parser.add_argument("--write-docs", action="store_true")
    args = parser.parse_args(argv)

    if args.kind == "warmup":
        start = os.getloadavg()[0]
        text = "\n".join(
            [
                ".. list-table::",
                "   :header-rows: 1",
                "",
                "   * - data set",
                "     - partial models",
                "     - warm-up (blocks)",
                "     - test accuracy (%) after epoch "
                + ", ".join(map(str, range(1, args.epochs + 1))),
            ]
            + [
                warm_up(name, args.epochs, args.partitions, args.scale)
                for name in args.datasets
            ]
        )
        heading = (
            f"{args.partitions} blocks; accuracies do not depend on the load "
            f"(one-minute load average {start:.1f} at the start)."
        )
        print(heading)
        print(text)
        if args.write_docs:
            write_docs(args.kind, f"{heading}\n\n{text}")
        return

    from distributed import Client, LocalCluster

    with (
        LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            dashboard_address=None,
            worker_dashboard_address=":0",
        ) as cluster,
        Client(cluster) as client,
    ):
        # The workers import what the tasks run before anything is timed.
        for module in ("sk_adagrad.dask", "dask_ml.wrappers"):
            client.run(importlib.import_module, module)
        if args.kind == "compare":
            results = [
                compare(
                    client, name, args.epochs, args.partitions, args.scale, args.rules
                )
                for name in args.datasets
            ]
            text = compare_table(results)
        else:
            results = [
                partials(client, name, args.epochs, args.partitions, args.scale)
                for name in args.datasets
            ]
            text = partials_table(results)
    low, high = load_range(results)
    heading = (
        f"Measured on {machine_description()}, {args.partitions} partitions, "
        f"one-minute load average {low:.1f} to {high:.1f} on {os.cpu_count()} "
        "CPUs before the timed epochs."
    )
    print(heading)
    print(text)
    if args.write_docs:
        write_docs(args.kind, f"{heading}\n\n{text}")


if __name__ == "__main__":
    main()
