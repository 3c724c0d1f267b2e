"""Data-parallel epochs on a Dask cluster against sequential ``Incremental``.

On a ``distributed.LocalCluster`` of two worker processes with one thread each,
every data set is split into ``--partitions`` row blocks held in the workers'
memory, and models with ``n_threads=1`` train epoch by epoch over them:
``dask_ml.wrappers.Incremental`` (one model passed from block to block, in
order) and ``sk_adagrad.dask.DataParallel`` with two partial models per epoch,
once for each merge rule. Their epochs alternate, so that all meet the same
load on a shared machine. For each it prints the median epoch time (the call
that trains an epoch and brings the model back to the client), the median
CPU time the workers spent on the epoch (the sum over the workers for
``Incremental``, whose tasks run one after another; the busier worker's for
``DataParallel``, whose partial models train side by side): on a machine
shared with other work, the wall time of parallel work says little, and this
is what an epoch would take on two otherwise idle cores, client-side
serialisation aside. Then their ratios to ``Incremental``'s, and the test
accuracy after each epoch. The epochs are the repeats: every epoch does the
same work. The one-minute load average is read before each timed epoch and
its range printed with the table, to tell how busy the machine was.
``--write-docs`` writes the table into docs/scaling.rst between its markers.

Data sets: the docstring corpus (tf-idf of uni+bigrams, 75/25 split), and the
synthetic sets (a) (binary) and (b) (20 classes) of ``benchmarks/datasets.py``.

    python benchmarks/data_parallel.py [--epochs 5] [--partitions 8] [--write-docs]
"""

from __future__ import annotations

import argparse
import importlib
import os
import statistics
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

REPO_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_DIR))

from benchmarks import datasets  # noqa: E402
from benchmarks.machine import machine_description  # noqa: E402
from sk_adagrad import AdagradClassifier  # noqa: E402
from sk_adagrad._merge import MERGE_RULES  # noqa: E402

DOCS_PAGE = REPO_DIR / "docs" / "scaling.rst"
START_MARKER = ".. data-parallel table start"
END_MARKER = ".. data-parallel table end"

# (a) at the benchmark suite's size, (b) at a size whose epochs take seconds,
# not minutes, on one thread.
SYNTHETIC = {
    "(a) binary": dict(n_samples=500_000, n_features=50_000, n_classes=2),
    "(b) 20 classes": dict(n_samples=250_000, n_features=50_000, n_classes=20),
}


@dataclass
class Run:
    """Epoch times and test accuracies of one way of training."""

    label: str
    workers: int
    load: list[float] = field(default_factory=list)
    seconds: list[float] = field(default_factory=list)
    cpu_seconds: list[float] = field(default_factory=list)
    accuracy: list[float] = field(default_factory=list)


@dataclass
class Result:
    name: str
    shape: tuple[int, int]
    n_classes: int
    runs: list[Run]


def load(name: str, scale: float):
    """``X_train, X_test, y_train, y_test`` of a named data set."""
    if name == "docstrings":
        return datasets.docstring_split()
    params = dict(SYNTHETIC[name])
    params["n_samples"] = int(params["n_samples"] * scale)
    return datasets.split(*datasets.make_rcv1_like(**params, random_state=0))


def as_dask_blocks(client, X, y, n_partitions: int):
    """A dask array of ``n_partitions`` CSR row blocks (and the labels), held
    in the workers' memory, spread over the workers in turn."""
    import dask.array as da
    import scipy.sparse as sp

    bounds = np.linspace(0, X.shape[0], n_partitions + 1).astype(int)
    workers = sorted(client.scheduler_info()["workers"])
    X_parts, y_parts = [], []
    for index, (start, stop) in enumerate(zip(bounds[:-1], bounds[1:], strict=True)):
        where = [workers[index * len(workers) // n_partitions]]
        X_future = client.scatter(X[start:stop], workers=where)
        y_future = client.scatter(y[start:stop], workers=where)
        X_parts.append(
            da.from_delayed(
                X_future,
                shape=(stop - start, X.shape[1]),
                dtype=X.dtype,
                meta=sp.csr_matrix((0, X.shape[1])),
            )
        )
        y_parts.append(da.from_delayed(y_future, shape=(stop - start,), dtype=y.dtype))
    return da.concatenate(X_parts), da.concatenate(y_parts)


def measure(client, name: str, epochs: int, n_partitions: int, scale: float):
    from dask_ml.wrappers import Incremental

    from sk_adagrad.dask import DataParallel

    X_train, X_test, y_train, y_test = load(name, scale)
    classes = np.unique(y_train)
    X, y = as_dask_blocks(client, X_train, y_train, n_partitions)

    def model():
        return AdagradClassifier(n_threads=1, random_state=0)

    wrappers = {
        "sequential ``Incremental``": Incremental(model(), shuffle_blocks=False)
    }
    for rule in MERGE_RULES:
        wrappers[f"``DataParallel``, {rule}"] = DataParallel(
            model(), n_workers=2, merge=rule
        )
    runs = [Run(label, 1 if index == 0 else 2) for index, label in enumerate(wrappers)]
    for epoch in range(epochs):
        extra = {"classes": classes} if epoch == 0 else {}
        for wrapper, run in zip(wrappers.values(), runs, strict=True):
            run.load.append(os.getloadavg()[0])
            cpu_before = client.run(time.process_time)
            start = time.perf_counter()
            wrapper.partial_fit(X, y, **extra)
            run.seconds.append(time.perf_counter() - start)
            cpu = client.run(time.process_time)
            spent = [cpu[worker] - cpu_before[worker] for worker in cpu]
            # Incremental's tasks run one after another: an epoch takes their
            # sum; the partial models train side by side: the busier worker's.
            run.cpu_seconds.append(sum(spent) if run.workers == 1 else max(spent))
            run.accuracy.append(wrapper.estimator_.score(X_test, y_test))
        print(
            f"  {name} epoch {epoch + 1}: "
            + "; ".join(
                f"{run.label} {run.seconds[-1]:.2f} s ({run.accuracy[-1]:.4f})"
                for run in runs
            ),
            flush=True,
        )
    return Result(name, X_train.shape, len(classes), runs)


def table(results: list[Result]) -> str:
    """The results as an RST list-table."""
    epochs = len(results[0].runs[0].accuracy)
    lines = [
        ".. list-table::",
        "   :header-rows: 1",
        "",
        "   * - data set",
        "     - training",
        "     - workers",
        "     - median epoch (s)",
        "     - time ratio",
        "     - worker CPU (s)",
        "     - ratio",
        "     - " + ", ".join(str(e + 1) for e in range(epochs)),
    ]
    for result in results:
        n_rows, n_features = result.shape
        label = (
            f"{result.name} ({n_rows:,} x {n_features:,}, {result.n_classes} classes)"
        )
        baseline = statistics.median(result.runs[0].seconds)
        cpu_baseline = statistics.median(result.runs[0].cpu_seconds)
        for run in result.runs:
            median = statistics.median(run.seconds)
            cpu = statistics.median(run.cpu_seconds)
            lines += [
                f"   * - {label}",
                f"     - {run.label}",
                f"     - {run.workers}",
                f"     - {median:.2f}",
                f"     - {median / baseline:.2f}",
                f"     - {cpu:.2f}",
                f"     - {cpu / cpu_baseline:.2f}",
                "     - " + ", ".join(f"{100 * a:.1f}" for a in run.accuracy),
            ]
    return "\n".join(lines)


def load_range(results: list[Result]) -> tuple[float, float]:
    """The least and greatest one-minute load average read before an epoch."""
    loads = [load for result in results for run in result.runs for load in run.load]
    return min(loads), max(loads)


def write_docs(text: str) -> None:
    page = DOCS_PAGE.read_text()
    head, rest = page.split(START_MARKER, 1)
    _, tail = rest.split(END_MARKER, 1)
    DOCS_PAGE.write_text(f"{head}{START_MARKER}\n\n{text}\n\n{END_MARKER}{tail}")


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--partitions", type=int, default=8)
    parser.add_argument(
        "--scale", type=float, default=1.0, help="fraction of (a)/(b)'s rows"
    )
    parser.add_argument(
        "--datasets",
        nargs="+",
        default=["docstrings", *SYNTHETIC],
        choices=["docstrings", *SYNTHETIC],
    )
    parser.add_argument("--write-docs", action="store_true")
    args = parser.parse_args(argv)

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
        results = [
            measure(client, name, args.epochs, args.partitions, args.scale)
            for name in args.datasets
        ]
    text = table(results)
    low, high = load_range(results)
    heading = (
        f"Measured on {machine_description()}, {args.partitions} partitions, "
        f"one-minute load average {low:.1f} to {high:.1f} on {os.cpu_count()} "
        "CPUs before the timed epochs; test accuracy (%) after each epoch."
    )
    print(heading)
    print(text)
    if args.write_docs:
        write_docs(f"{heading}\n\n{text}")


if __name__ == "__main__":
    main()
