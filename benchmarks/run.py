"""Benchmark suite: sk_adagrad against scikit-learn's SGD and the matmul floor.

Usage::

    python benchmarks/run.py [--quick] [--repeats 5] [--write-docs] [--only KEY]

Every row of the table is a ratio ``ours / peer`` where both sides are
measured in this run, interleaved repeat by repeat so that a change of machine
load hits both: the ratio shown is the median of the per-repeat ratios, with
their min-max, next to the absolute medians (and min-max) of each side. The
peer is scikit-learn's ``SGDClassifier``/``SGDRegressor``, the full-batch
matrix-product floor, another configuration of ours, or a memory budget.

``--quick`` uses the small data sets (under a minute); ``--write-docs``
rewrites ``docs/performance.md`` and ``docs/_static/time_to_accuracy.png``.
"""

from __future__ import annotations

import argparse
import datetime
import gc
import json
import os
import platform
import subprocess
import sys
import time
import tracemalloc
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import scipy
import sklearn
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import SGDClassifier, SGDRegressor

REPO_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_DIR))

import sk_adagrad  # noqa: E402
from benchmarks import datasets, vowpal  # noqa: E402
from sk_adagrad import (  # noqa: E402
    AdagradClassifier,
    AdagradRegressor,
    _defaults,
)
from sk_adagrad._step_policy import StepPolicy  # noqa: E402

DOCS_PAGE = REPO_DIR / "docs" / "performance.md"
PLOT_FILE = REPO_DIR / "docs" / "_static" / "time_to_accuracy.png"

# Time to accuracy: SGD runs SGD_EPOCHS epochs at each alpha of its grid;
# ours runs at each lr of its grid until it reaches SGD's best accuracy, for at
# most Context.max_epochs epochs and TIME_LIMIT times SGD's time.
SGD_EPOCHS = 5
TIME_LIMIT = 3.0
MEGABYTE = 2**20


# --------------------------------------------------------------------------
# Results
# --------------------------------------------------------------------------


@dataclass
class Row:
    """One line of the table: ``ours`` against ``peer``, one value per repeat.

    ``ratio`` is the median of ``ours / peer`` over repeats; the row passes
    when it is at most ``target``. ``lower_bound`` marks a time to accuracy
    that was not reached: the ratio is then only a lower bound.
    """

    section: str
    name: str
    data: str
    ours_label: str
    ours: np.ndarray
    peer_label: str
    peer: np.ndarray
    target: float | None = None
    unit: str = "s"
    detail: str = ""
    lower_bound: bool = False

    @property
    def ratios(self) -> np.ndarray:
        return np.asarray(self.ours, dtype=float) / np.asarray(self.peer, dtype=float)

    @property
    def ratio(self) -> float:
        return float(np.median(self.ratios))

    @property
    def passed(self) -> bool | None:
        if self.target is None:
            return None
        return not self.lower_bound and self.ratio <= self.target


def _format_values(values: np.ndarray, unit: str) -> str:
    """``median [min-max] unit`` (just the value when there is one)."""
    values = np.asarray(values, dtype=float)
    median = f"{np.median(values):.3g}"
    if len(values) == 1:
        return f"{median} {unit}"
    return f"{median} [{values.min():.3g}–{values.max():.3g}] {unit}"


def _format_ratio(row: Row) -> str:
    text = f"{'> ' if row.lower_bound else ''}{row.ratio:.2f}"
    if len(row.ratios) > 1:
        text += f" [{row.ratios.min():.2f}–{row.ratios.max():.2f}]"
    return text


def format_table(rows: list[Row]) -> str:
    """Markdown table of the rows, with numbered footnotes for the details."""
    header = [
        "Section",
        "Row",
        "Data",
        "Ours",
        "Peer",
        "Ratio ours/peer",
        "Target",
        "OK",
        "n",
    ]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    notes = []
    for row in rows:
        name = row.name
        if row.detail:
            notes.append(row.detail)
            name += f" [{len(notes)}]"
        status = {True: "yes", False: "**no**", None: "–"}[row.passed]
        cells = [
            row.section,
            name,
            row.data,
            f"{row.ours_label}: {_format_values(row.ours, row.unit)}",
            f"{row.peer_label}: {_format_values(row.peer, row.unit)}",
            _format_ratio(row),
            "–" if row.target is None else f"≤ {row.target:g}",
            status,
            str(len(row.ratios)),
        ]
        lines.append("| " + " | ".join(cells) + " |")
    lines.append("")
    lines += [f"{number}. {note}" for number, note in enumerate(notes, start=1)]
    return "\n".join(lines)


# --------------------------------------------------------------------------
# Measurement helpers
# --------------------------------------------------------------------------


@dataclass
class Split:
    """A train/test split and a short description of the data set."""

    X_train: object
    X_test: object
    y_train: np.ndarray
    y_test: np.ndarray
    label: str

    @property
    def classes(self) -> np.ndarray:
        return np.unique(self.y_train)


def _nearest_default_first(lrs: tuple[float, ...]) -> tuple[float, ...]:
    """The lr grid ordered by distance to the lr that ``lr='auto'`` gives the
    hinge loss these runs use (in log scale): once a run reaches the target,
    later runs stop as soon as they are slower, so the likely winner goes
    first."""
    default = _defaults.BASE_LR
    return tuple(sorted(lrs, key=lambda lr: abs(np.log(lr / default))))


@dataclass
class Context:
    """Suite size, repeats, grids, the data sets built so far and the curves to
    plot."""

    size: str = "full"
    repeats: int = 5
    hashed_log2_features: tuple[int, ...] = (16, 20, 24)
    sgd_alphas: tuple[float, ...] = (1e-6, 1e-5, 1e-4, 1e-3)
    our_lrs: tuple[float, ...] = field(
        default_factory=lambda: _nearest_default_first((0.03, 0.1, 0.3, 1.0))
    )
    max_epochs: int = 10
    splits: dict[str, Split] = field(default_factory=dict)
    curves: dict[str, dict] = field(default_factory=dict)

    def data(self, name: str) -> Split:
        """Data set ``name`` of :func:`datasets.get_dataset`, split 80/20, cached."""
        if name not in self.splits:
            if name.endswith("32"):
                base = self.data(name.removesuffix("32"))
                self.splits[name] = Split(
                    base.X_train.astype(np.float32),
                    base.X_test.astype(np.float32),
                    base.y_train,
                    base.y_test,
                    base.label.replace(")", ") float32", 1),
                )
            else:
                X, y = datasets.get_dataset(name, self.size)
                label = f"({DATA_LETTERS[name]}) {_shape_label(*X.shape)}"
                self.splits[name] = Split(*datasets.split(X, y), label)
        return self.splits[name]


DATA_LETTERS = {
    "binary": "a",
    "multiclass": "b",
    "text": "c",
    "regression": "d",
    "dense": "e",
    "dense_regression": "e",
}


def time_interleaved(
    tasks: dict[str, Callable[[], object]], repeats: int
) -> dict[str, np.ndarray]:
    """Wall time of each task, ``repeats`` times, tasks interleaved per repeat."""
    times: dict[str, list[float]] = {name: [] for name in tasks}
    for _ in range(repeats):
        # A full collection costs ~0.1 s with scikit-learn imported: once per
        # repeat keeps the garbage of earlier runs out of the clocks.
        gc.collect()
        for name, task in tasks.items():
            start = time.perf_counter()
            task()
            times[name].append(time.perf_counter() - start)
    return {name: np.array(values) for name, values in times.items()}


def fit_task(estimator, X, y, policy=None) -> Callable[[], object]:
    """A task fitting a fresh clone of ``estimator``, whose steps follow the
    step policy ``policy`` when given (ours only)."""

    def fit():
        model = clone(estimator)
        if policy is not None:
            model._step_policy = policy
        return model.fit(X, y)

    return fit


def floor_task(X, n_outputs: int, random_state: int = 0) -> Callable[[], object]:
    """The full-batch floor of one epoch: ``X @ W`` and ``X.T @ R``, K outputs."""
    rng = np.random.default_rng(random_state)
    W = rng.standard_normal((X.shape[1], n_outputs))
    R = rng.standard_normal((X.shape[0], n_outputs))
    return lambda: (X @ W, X.T @ R)


def our_classifier(**params) -> AdagradClassifier:
    """Our classifier with default parameters, one epoch per fit unless given."""
    return AdagradClassifier(
        **{"max_iter": 1, "tol": None, "random_state": 0, **params}
    )


def sgd_classifier(**params) -> SGDClassifier:
    """scikit-learn's SGDClassifier, one epoch per fit unless given."""
    return SGDClassifier(**{"max_iter": 1, "tol": None, "random_state": 0, **params})


def our_regressor(**params) -> AdagradRegressor:
    """Our regressor with default parameters, one epoch per fit unless given."""
    return AdagradRegressor(**{"max_iter": 1, "tol": None, "random_state": 0, **params})


def sgd_regressor(**params) -> SGDRegressor:
    """scikit-learn's SGDRegressor, one epoch per fit unless given."""
    return SGDRegressor(**{"max_iter": 1, "tol": None, "random_state": 0, **params})


def _n_outputs(y: np.ndarray) -> int:
    n_classes = len(np.unique(y))
    return 1 if n_classes == 2 else n_classes


# --------------------------------------------------------------------------
# Per-epoch time
# --------------------------------------------------------------------------


def bench_multiclass_epoch(ctx: Context, name: str) -> list[Row]:
    """One epoch of log_loss (multinomial) and hinge (OvR) vs SGD and the floor."""
    split = ctx.data(name)
    X, y = split.X_train, split.y_train
    tasks = {}
    for loss in ("log_loss", "hinge"):
        tasks[f"ours {loss}"] = fit_task(our_classifier(loss=loss), X, y)
        tasks[f"sgd {loss}"] = fit_task(sgd_classifier(loss=loss), X, y)
        one_thread = our_classifier(loss=loss, n_threads=1)
        tasks[f"ours {loss}, one thread"] = fit_task(one_thread, X, y)
        tasks[f"sgd {loss}, two jobs"] = fit_task(
            sgd_classifier(loss=loss, n_jobs=2), X, y
        )
    tasks["floor"] = floor_task(X, _n_outputs(y))
    times = time_interleaved(tasks, ctx.repeats)
    section = "epoch, multi-class"
    rows = []
    for loss, kind in (("log_loss", "multinomial"), ("hinge", "OvR")):
        ours = times[f"ours {loss}"]
        rows.append(
            Row(
                section,
                f"{loss} ({kind}) vs SGD",
                split.label,
                "ours",
                ours,
                "SGD",
                times[f"sgd {loss}"],
                target=0.8,
            )
        )
        rows.append(
            Row(
                section,
                f"{loss} ({kind}) vs floor",
                split.label,
                "ours",
                ours,
                "floor",
                times["floor"],
                target=2.0,
            )
        )
        rows.append(
            Row(
                section,
                f"{loss} ({kind}) vs SGD, both on two cores",
                split.label,
                "ours",
                ours,
                "SGD n_jobs=2",
                times[f"sgd {loss}, two jobs"],
            )
        )
        rows.append(
            Row(
                section,
                f"{loss} ({kind}) on one thread vs SGD",
                split.label,
                "ours n_threads=1",
                times[f"ours {loss}, one thread"],
                "SGD",
                times[f"sgd {loss}"],
            )
        )
    return rows


def bench_binary_epoch(ctx: Context) -> list[Row]:
    """One epoch of the default (hinge) binary classifier vs SGD and the floor."""
    split = ctx.data("binary")
    X, y = split.X_train, split.y_train
    times = time_interleaved(
        {
            "ours": fit_task(our_classifier(), X, y),
            "sgd": fit_task(sgd_classifier(), X, y),
            "floor": floor_task(X, 1),
        },
        ctx.repeats,
    )
    section = "epoch, binary"
    return [
        Row(
            section,
            "hinge vs SGD",
            split.label,
            "ours",
            times["ours"],
            "SGD",
            times["sgd"],
            target=1.5,
        ),
        Row(
            section,
            "hinge vs floor",
            split.label,
            "ours",
            times["ours"],
            "floor",
            times["floor"],
        ),
    ]


# --------------------------------------------------------------------------
# Time to accuracy
# --------------------------------------------------------------------------


def train_epochs(
    estimator,
    split: Split,
    max_epochs: int,
    *,
    score: bool = True,
    stop_at: float | None = None,
    time_limit: float | None = None,
) -> list[tuple[float, float]]:
    """Train epoch by epoch with ``partial_fit``; return (seconds, accuracy) per
    epoch.

    The clock covers ``partial_fit`` and reading ``coef_`` (which brings lazy
    weights up to date, as any prediction would); scoring is not timed.
    """
    elapsed, curve = 0.0, []
    gc.collect()
    for _ in range(max_epochs):
        start = time.perf_counter()
        estimator.partial_fit(split.X_train, split.y_train, classes=split.classes)
        np.asarray(estimator.coef_)
        elapsed += time.perf_counter() - start
        accuracy = estimator.score(split.X_test, split.y_test) if score else np.nan
        curve.append((elapsed, accuracy))
        if stop_at is not None and accuracy >= stop_at:
            break
        if time_limit is not None and elapsed > time_limit:
            break
    return curve


def _first_reaching(curve, target):
    """``(seconds, epochs)`` at the first epoch of ``curve`` scoring at least
    ``target``, or None."""
    return next(
        (
            (seconds, epoch)
            for epoch, (seconds, accuracy) in enumerate(curve, start=1)
            if accuracy >= target
        ),
        None,
    )


def bench_time_to_accuracy(ctx: Context, name: str) -> list[Row]:
    """Wall time for each side to reach SGD's best 5-epoch test accuracy, by
    the same rule: the first epoch at which a run scores at least the target,
    for the fastest value of its grid (alpha for SGD, lr for ours)."""
    split = ctx.data(name)
    # The target: the best test accuracy of SGD's grid after SGD_EPOCHS epochs.
    sgd_runs = {
        alpha: train_epochs(
            SGDClassifier(alpha=alpha, random_state=0), split, SGD_EPOCHS
        )
        for alpha in ctx.sgd_alphas
    }
    target = max(curve[-1][1] for curve in sgd_runs.values())
    sgd_reached = {
        alpha: _first_reaching(curve, target) for alpha, curve in sgd_runs.items()
    }
    sgd_alpha = min(
        (alpha for alpha, reach in sgd_reached.items() if reach is not None),
        key=lambda alpha: sgd_reached[alpha][0],
    )
    sgd_time, sgd_epochs = sgd_reached[sgd_alpha]

    # Ours: fastest lr of the grid to reach the target; a run stops once it is
    # slower than the best so far, since it can no longer win.
    our_runs, best_lr = {}, None
    for lr in ctx.our_lrs:
        limit = TIME_LIMIT * sgd_time
        if best_lr is not None:
            limit = min(limit, our_runs[best_lr][-1][0])
        curve = train_epochs(
            AdagradClassifier(lr=lr, random_state=0),
            split,
            ctx.max_epochs,
            stop_at=target,
            time_limit=limit,
        )
        our_runs[lr] = curve
        if curve[-1][1] >= target and (
            best_lr is None or curve[-1][0] < our_runs[best_lr][-1][0]
        ):
            best_lr = lr
    reached = best_lr is not None
    if not reached:
        best_lr = max(our_runs, key=lambda lr: max(acc for _, acc in our_runs[lr]))
    our_curve = our_runs[best_lr]
    epochs = len(our_curve)

    ours = np.array([our_curve[-1][0]])
    sgd = np.array([sgd_time])
    if reached and ctx.repeats > 1:
        # Time the two winning runs again, without scoring, for the spread.
        times = time_interleaved(
            {
                "ours": lambda: train_epochs(
                    AdagradClassifier(lr=best_lr, random_state=0),
                    split,
                    epochs,
                    score=False,
                ),
                "sgd": lambda: train_epochs(
                    SGDClassifier(alpha=sgd_alpha, random_state=0),
                    split,
                    sgd_epochs,
                    score=False,
                ),
            },
            ctx.repeats - 1,
        )
        ours = np.concatenate([ours, times["ours"]])
        sgd = np.concatenate([sgd, times["sgd"]])

    ctx.curves[name] = {
        "label": split.label,
        "target": target,
        "sgd": sgd_runs[sgd_alpha],
        "sgd_alpha": sgd_alpha,
        "ours": our_curve,
        "lr": best_lr,
    }
    best_accuracy = max(acc for _, acc in our_curve)
    outcome = (
        f"reached {our_curve[-1][1]:.4f} after {epochs} epoch(s) at lr={best_lr:g}"
        if reached
        else f"not reached: best {best_accuracy:.4f} at lr={best_lr:g} in "
        f"{epochs} epoch(s) (limit {ctx.max_epochs} epochs or {TIME_LIMIT:g}x "
        "SGD's time)"
    )
    detail = (
        f"Time to accuracy on {split.label}: the target is SGD's (hinge) best "
        f"test accuracy after {SGD_EPOCHS} epochs over alpha in "
        f"{', '.join(f'{a:g}' for a in ctx.sgd_alphas)}, {target:.4f}; each side "
        "is timed to the first epoch that reaches it with the fastest value of "
        f"its grid: SGD after {sgd_epochs} epoch(s) at alpha={sgd_alpha:g}, "
        f"ours (hinge) {outcome} "
        f"(grid lr {', '.join(f'{lr:g}' for lr in sorted(ctx.our_lrs))})."
    )
    return [
        Row(
            "time to accuracy",
            "ours to SGD's 5-epoch accuracy",
            split.label,
            "ours",
            ours,
            "SGD to the same accuracy",
            sgd,
            target=1.0,
            detail=detail,
            lower_bound=not reached,
        )
    ]


# --------------------------------------------------------------------------
# partial_fit scaling, memory, float32, penalties
# --------------------------------------------------------------------------


def bench_partial_fit_hashed(ctx: Context) -> list[Row]:
    """partial_fit on a fixed hashed batch at 2**16, 2**20 and 2**24 features
    (``ctx.hashed_log2_features``), each size against the smallest."""
    n_documents = datasets.SIZES[ctx.size]["hashed"]["n_documents"]
    calls_per_sample = 20  # one call takes milliseconds; time several per sample
    tasks = {}
    smallest, *larger = ctx.hashed_log2_features
    for log2 in ctx.hashed_log2_features:
        X, y = datasets.make_hashed_batch(2**log2, n_documents)
        for kind, model in (
            ("ours", AdagradClassifier(random_state=0)),
            ("sgd", SGDClassifier(random_state=0)),
        ):
            model.partial_fit(X, y, classes=[0, 1])  # warm-up: allocates the model

            def task(model=model, X=X, y=y):
                for _ in range(calls_per_sample):
                    model.partial_fit(X, y)

            tasks[f"{kind} {log2}"] = task
    times = time_interleaved(tasks, ctx.repeats)
    times = {key: value / calls_per_sample for key, value in times.items()}
    label = f"(f) {n_documents} docs"
    section = "partial_fit, hashed"
    rows = [
        Row(
            section,
            f"2^{log2} vs 2^{smallest} features",
            label,
            f"ours 2^{log2}",
            times[f"ours {log2}"],
            f"ours 2^{smallest}",
            times[f"ours {smallest}"],
            target=1.2,
        )
        for log2 in larger
    ]
    rows.append(
        Row(
            section,
            f"SGD: 2^{larger[-1]} vs 2^{smallest} features",
            label,
            f"SGD 2^{larger[-1]}",
            times[f"sgd {larger[-1]}"],
            f"SGD 2^{smallest}",
            times[f"sgd {smallest}"],
        )
    )
    return rows


def run_memory_probe(estimator: str, size: str) -> dict:
    """Run :mod:`memory_probe` in a fresh interpreter and return its figures."""
    probe = Path(__file__).resolve().with_name("memory_probe.py")
    result = subprocess.run(
        [sys.executable, str(probe), "--estimator", estimator, "--size", size],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(result.stdout.strip().splitlines()[-1])


def bench_memory(ctx: Context) -> list[Row]:
    """Peak RSS of fit on (a) above the RSS with X built, vs a budget."""
    rows = []
    for estimator, label in (("ours", "ours"), ("sgd", "SGD")):
        figures = run_memory_probe(estimator, ctx.size)
        extra = (figures["peak"] - figures["baseline"]) / MEGABYTE
        budget = (figures["x_bytes"] + 4 * figures["model_bytes"]) / MEGABYTE + 100
        detail = (
            f"Memory of fit ({label}, 2 epochs) on all of (a): RSS with X built "
            f"{figures['baseline'] / MEGABYTE:.0f} MB, peak during fit "
            f"{figures['peak'] / MEGABYTE:.0f} MB; X is "
            f"{figures['x_bytes'] / MEGABYTE:.0f} MB, the model "
            f"{figures['model_bytes'] / MEGABYTE:.2f} MB."
        )
        if not figures["exact_peak"]:
            detail += " The peak could not be reset: an upper bound."
        rows.append(
            Row(
                "memory",
                f"{label}: fit peak RSS above baseline",
                _size_label(ctx, "binary"),
                label,
                np.array([extra]),
                "X + 4 model + 100 MB",
                np.array([budget]),
                target=1.0 if estimator == "ours" else None,
                unit="MB",
                detail=detail,
            )
        )
    return rows


def _size_label(ctx: Context, name: str) -> str:
    """Label of a data set from its configured size, without building it."""
    params = datasets.SIZES[ctx.size][name]
    shape = _shape_label(params["n_samples"], params["n_features"])
    return f"({DATA_LETTERS[name]}) {shape}"


def _shape_label(n_rows: int, n_columns: int) -> str:
    """``500k x 50k``: counts of 10,000 or more in thousands."""
    return " x ".join(
        f"{count / 1000:.0f}k" if count >= 10_000 else str(count)
        for count in (n_rows, n_columns)
    )


FLOAT32_SETS = ("binary", "multiclass", "text")
# Each path forced by a step policy.
STEP_PATHS = {
    "active rows": StepPolicy(in_place_ratio=0.0),
    "in place": StepPolicy(in_place_ratio=np.inf),
}


def model_bytes(model) -> int:
    """Bytes of a fitted model's training state (weights, accumulators, average)."""
    engine = model.optimizer_
    arrays = (
        engine.coef,
        engine.coef_accumulator,
        engine.coef_sum,
        engine.intercept,
        engine.intercept_accumulator,
        engine.intercept_sum,
    )
    return sum(array.nbytes for array in arrays if array is not None)


def bench_float32(ctx: Context) -> list[Row]:
    """float32 vs float64 X (float32 vs float64 models): epoch time on each
    step path, model memory, and no float64 copy of X in fit."""
    section = "float32"
    rows = []
    for name in FLOAT32_SETS:
        split64, split32 = ctx.data(name), ctx.data(name + "32")
        for path, policy in STEP_PATHS.items():
            times = time_interleaved(
                {
                    "float32": fit_task(
                        our_classifier(), split32.X_train, split32.y_train, policy
                    ),
                    "float64": fit_task(
                        our_classifier(), split64.X_train, split64.y_train, policy
                    ),
                },
                ctx.repeats,
            )
            rows.append(
                Row(
                    section,
                    f"epoch, {path}, float32 vs float64",
                    split32.label,
                    "float32",
                    times["float32"],
                    "float64",
                    times["float64"],
                    target=0.7,
                )
            )
    split64, split32 = ctx.data("text"), ctx.data("text32")
    sizes = {
        dtype: model_bytes(
            our_classifier(average=True).fit(split.X_train, split.y_train)
        )
        for dtype, split in (("float32", split32), ("float64", split64))
    }
    rows.append(
        Row(
            section,
            "model memory, float32 vs float64",
            split32.label,
            "float32",
            np.array([sizes["float32"] / MEGABYTE]),
            "float64",
            np.array([sizes["float64"] / MEGABYTE]),
            target=0.5,
            unit="MB",
            detail="Bytes of the fitted model's state (weights, accumulators and "
            "running average, with average=True) on (c).",
        )
    )
    X32, y32 = ctx.data("binary32").X_train, ctx.data("binary32").y_train
    float64_copy = X32.nnz * 8 + X32.indices.nbytes + X32.indptr.nbytes
    # Allocations are deterministic, so one traced fit (slowed down by the
    # tracing) is enough.
    model = our_classifier()
    gc.collect()
    tracemalloc.start()
    model.fit(X32, y32)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    rows.append(
        Row(
            section,
            "fit allocations vs a float64 copy of X",
            ctx.data("binary32").label,
            "tracemalloc peak",
            np.array([peak / MEGABYTE]),
            "float64 copy",
            np.array([float64_copy / MEGABYTE]),
            target=0.5,
            unit="MB",
            detail="Peak of tracemalloc (numpy allocations included) during one "
            "epoch of fit on float32 X, against the size of a float64 copy of "
            "X; a silent float64 copy would put the ratio at 0.67 or more.",
        )
    )
    return rows


def bench_float32_vs_sgd(ctx: Context) -> list[Row]:
    """One epoch of ours against SGD's, both on float32 X (and so both
    training float32 models): the text set (c), multinomial log_loss and OvR
    hinge, and the binary problem (a), hinge."""
    cases = [("text32", "log_loss", 0.8), ("text32", "hinge", 0.8)]
    cases.append(("binary32", "hinge", 1.2))
    tasks = {}
    for name, loss, _ in cases:
        split = ctx.data(name)
        X, y = split.X_train, split.y_train
        tasks[f"ours {name} {loss}"] = fit_task(our_classifier(loss=loss), X, y)
        tasks[f"sgd {name} {loss}"] = fit_task(sgd_classifier(loss=loss), X, y)
    times = time_interleaved(tasks, ctx.repeats)
    return [
        Row(
            "float32",
            f"epoch, {loss} vs SGD",
            ctx.data(name).label,
            "ours",
            times[f"ours {name} {loss}"],
            "SGD",
            times[f"sgd {name} {loss}"],
            target=target,
        )
        for name, loss, target in cases
    ]


def bench_elasticnet_average(ctx: Context) -> list[Row]:
    """Epoch time with penalty='elasticnet', average=True vs penalty=None."""
    split = ctx.data("binary")
    X, y = split.X_train, split.y_train
    times = time_interleaved(
        {
            "elasticnet": fit_task(
                our_classifier(penalty="elasticnet", average=True), X, y
            ),
            "none": fit_task(our_classifier(penalty=None), X, y),
        },
        ctx.repeats,
    )
    return [
        Row(
            "penalty",
            "elasticnet + average vs penalty=None",
            split.label,
            "elasticnet+avg",
            times["elasticnet"],
            "None",
            times["none"],
            target=1.2,
        )
    ]


# --------------------------------------------------------------------------
# Regression and dense data
# --------------------------------------------------------------------------


def bench_regression(ctx: Context) -> list[Row]:
    """One epoch of AdagradRegressor vs SGDRegressor on sparse data (d)."""
    split = ctx.data("regression")
    times = time_interleaved(
        {
            "ours": fit_task(
                our_regressor(),
                split.X_train,
                split.y_train,
            ),
            "sgd": fit_task(
                sgd_regressor(),
                split.X_train,
                split.y_train,
            ),
        },
        ctx.repeats,
    )
    return [
        Row(
            "epoch, regression",
            "squared_error vs SGDRegressor",
            split.label,
            "ours",
            times["ours"],
            "SGD",
            times["sgd"],
        )
    ]


def bench_dense(ctx: Context) -> list[Row]:
    """One epoch on dense data (e): classifier and regressor vs SGD."""
    classification, regression = ctx.data("dense"), ctx.data("dense_regression")
    times = time_interleaved(
        {
            "ours clf": fit_task(
                our_classifier(), classification.X_train, classification.y_train
            ),
            "sgd clf": fit_task(
                sgd_classifier(), classification.X_train, classification.y_train
            ),
            "ours reg": fit_task(
                our_regressor(),
                regression.X_train,
                regression.y_train,
            ),
            "sgd reg": fit_task(
                sgd_regressor(),
                regression.X_train,
                regression.y_train,
            ),
        },
        ctx.repeats,
    )
    section = "epoch, dense"
    return [
        Row(
            section,
            "hinge vs SGDClassifier",
            classification.label,
            "ours",
            times["ours clf"],
            "SGD",
            times["sgd clf"],
        ),
        Row(
            section,
            "squared_error vs SGDRegressor",
            regression.label,
            "ours",
            times["ours reg"],
            "SGD",
            times["sgd reg"],
        ),
    ]


def bench_lightning(ctx: Context) -> list[Row]:
    """sklearn-contrib-lightning's AdaGradClassifier, when it is installed."""
    try:
        from lightning.classification import AdaGradClassifier
    except ImportError:
        return []
    split = ctx.data("binary")
    X, y = split.X_train, split.y_train
    times = time_interleaved(
        {
            "ours": fit_task(our_classifier(), X, y),
            "lightning": fit_task(AdaGradClassifier(n_iter=1), X, y),
        },
        ctx.repeats,
    )
    return [
        Row(
            "epoch, binary",
            "hinge vs lightning AdaGrad",
            split.label,
            "ours",
            times["ours"],
            "lightning",
            times["lightning"],
        )
    ]


# --------------------------------------------------------------------------
# Vowpal Wabbit
# --------------------------------------------------------------------------

VW_PASSES = (1, 5)


def vw_task(train_file: Path, n_classes: int, passes: int) -> Callable[[], object]:
    """A task training VW from the file, as its command line would: ``--oaa``
    with its defaults otherwise (squared loss, the adaptive, normalised and
    invariant update, 2^18 weights per class); several passes read a cache
    VW writes on the first, with no held-out examples. VW's own driver reads
    the file (``run_parser``), so no Python call per example is timed, unlike
    ``vowpal.fit_and_score``, which feeds the lines one by one."""
    from vowpalwabbit import Workspace

    arguments = f"--oaa {n_classes} --quiet -d {train_file}"
    if passes > 1:
        cache = train_file.with_suffix(".cache")
        arguments += f" --passes {passes} -k --cache_file {cache} --holdout_off"

    def train():
        workspace = Workspace(arguments)
        workspace.run_parser()
        return workspace

    return train


def bench_vowpal_wabbit(ctx: Context) -> list[Row]:
    """Vowpal Wabbit's one pass and 5 passes on the tf-idf features of the
    text set (c), against our epochs, time and accuracy; no rows unless
    ``vowpalwabbit`` is installed."""
    if not vowpal.available():
        return []
    import tempfile

    split = ctx.data("text")
    classes = split.classes
    # VW's multi-class labels are 1..K.
    codes_train = np.searchsorted(classes, split.y_train) + 1
    codes_test = np.searchsorted(classes, split.y_test) + 1
    test_lines = vowpal.as_lines(split.X_test, codes_test)
    rows = []
    with tempfile.TemporaryDirectory() as directory:
        train_file = Path(directory) / "train.vw"
        train_lines = vowpal.as_lines(split.X_train, codes_train)
        train_file.write_text("\n".join(train_lines) + "\n")
        tasks = {}
        for passes in VW_PASSES:
            ours = our_classifier(max_iter=passes)
            tasks[f"ours {passes}"] = fit_task(ours, split.X_train, split.y_train)
            tasks[f"vw {passes}"] = vw_task(train_file, len(classes), passes)
        times = time_interleaved(tasks, ctx.repeats)
        for passes in VW_PASSES:
            model = tasks[f"ours {passes}"]()
            ours_accuracy = model.score(split.X_test, split.y_test)
            workspace = tasks[f"vw {passes}"]()
            predicted = np.array([workspace.predict(line) for line in test_lines])
            workspace.finish()
            vw_accuracy = float(np.mean(predicted == codes_test))
            name = "one pass" if passes == 1 else f"{passes} passes"
            epochs = "one epoch" if passes == 1 else f"{passes} epochs"
            rows += [
                Row(
                    "Vowpal Wabbit",
                    f"{name}: time",
                    split.label,
                    f"ours, {epochs}",
                    times[f"ours {passes}"],
                    f"VW, {name}",
                    times[f"vw {passes}"],
                ),
                Row(
                    "Vowpal Wabbit",
                    f"{name}: test accuracy",
                    split.label,
                    f"ours, {epochs}",
                    np.array([ours_accuracy]),
                    f"VW, {name}",
                    np.array([vw_accuracy]),
                    unit="",
                ),
            ]
    rows[0].detail = (
        "Vowpal Wabbit (the `vowpalwabbit` package of the `bench` extra; rows "
        "skipped without it) trains with `--oaa K` and its defaults otherwise "
        "(squared loss; adaptive, normalised and invariant updates; 2^18 "
        "weights per class), from a text file of the same tf-idf values "
        "(`label | column:value ...`) written before the clock starts: its "
        "time includes parsing that file (and, over several passes, writing "
        "and reading its cache, with `--holdout_off`), ours starts from the "
        "CSR matrix. Ours runs at its defaults too (hinge, one-vs-rest). "
        "Accuracy is on the held-out 20%; higher is better."
    )
    return rows


BENCHMARKS: dict[str, Callable[[Context], list[Row]]] = {
    "multiclass_epoch": lambda ctx: bench_multiclass_epoch(ctx, "multiclass"),
    "text_epoch": lambda ctx: bench_multiclass_epoch(ctx, "text"),
    "binary_epoch": bench_binary_epoch,
    "binary_accuracy": lambda ctx: bench_time_to_accuracy(ctx, "binary"),
    "multiclass_accuracy": lambda ctx: bench_time_to_accuracy(ctx, "multiclass"),
    "text_accuracy": lambda ctx: bench_time_to_accuracy(ctx, "text"),
    "partial_fit": bench_partial_fit_hashed,
    "memory": bench_memory,
    "float32": bench_float32,
    "float32_vs_sgd": bench_float32_vs_sgd,
    "elasticnet": bench_elasticnet_average,
    "regression": bench_regression,
    "dense": bench_dense,
    "lightning": bench_lightning,
    "vowpal_wabbit": bench_vowpal_wabbit,
}


# --------------------------------------------------------------------------
# Running, reporting
# --------------------------------------------------------------------------


def machine_info() -> dict[str, str]:
    """CPU, cores, RAM, library versions, date and load of this machine."""
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            names = [
                line.split(":", 1)[1].strip()
                for line in cpuinfo
                if line.startswith("model name")
            ]
        cpu = names[0] if names else cpu
    except OSError:
        pass
    ram = "unknown"
    try:
        with open("/proc/meminfo") as meminfo:
            for line in meminfo:
                if line.startswith("MemTotal:"):
                    ram = f"{int(line.split()[1]) / 2**20:.1f} GiB"
    except OSError:
        pass
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=REPO_DIR,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        commit = "unknown"
    return {
        "date": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "cpu": f"{cpu}, {os.cpu_count()} logical cores",
        "ram": ram,
        "python": platform.python_version(),
        "versions": (
            f"numpy {np.__version__}, scipy {scipy.__version__}, "
            f"scikit-learn {sklearn.__version__}, sk_adagrad "
            f"{sk_adagrad.__version__} (commit {commit})"
        ),
        "load": f"load average (1, 5, 15 min) at start: {load_average()}",
    }


def load_average() -> str:
    """The 1, 5 and 15 minute load averages, as text."""
    return ", ".join(f"{value:.1f}" for value in os.getloadavg())


def format_header(info: dict[str, str]) -> str:
    """The machine header printed above the table."""
    return "\n".join(
        [
            f"Date: {info['date']}",
            f"CPU: {info['cpu']}; RAM: {info['ram']}",
            f"Python {info['python']}; {info['versions']}",
            info["load"].capitalize(),
        ]
    )


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
                print(
                    f"  {key}: {len(new_rows)} row(s) in {elapsed:.0f} s",
                    file=sys.stderr,
                    flush=True,
                )
    return rows


def plot_time_to_accuracy(curves: dict[str, dict], path: Path) -> None:
    """Test accuracy against training wall time, ours vs SGD, one panel per set."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = [name for name in ("multiclass", "text") if name in curves]
    figure, axes = plt.subplots(
        1, len(names), figsize=(5.5 * len(names), 4), squeeze=False
    )
    for axis, name in zip(axes[0], names, strict=True):
        curve = curves[name]
        for key, style, label in (
            ("sgd", "s--", f"SGDClassifier, alpha={curve['sgd_alpha']:g}"),
            ("ours", "o-", f"AdagradClassifier, lr={curve['lr']:g}"),
        ):
            seconds, accuracy = zip(*curve[key], strict=True)
            axis.plot(seconds, accuracy, style, label=label)
        axis.axhline(curve["target"], color="grey", linewidth=0.8, linestyle=":")
        axis.set_title(curve["label"])
        axis.set_xlabel("training wall time (s), one marker per epoch")
        axis.set_ylabel("test accuracy")
        axis.legend(loc="lower right")
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=100)
    plt.close(figure)


ROW_NOTES = """\
## What each row measures

All times are wall-clock seconds in one process; "n" is the number of
repeats. Ours and the peer alternate within each repeat, so a change in
machine load hits both sides; the ratio is the median of the per-repeat
ratios, with their min–max in brackets (so it need not equal the ratio of
the two medians). The machine may be shared with other work (see the load
average above): the ratios are steadier than the absolute seconds, but not
immune. SGD's per-sample loop is the more sensitive side: with other jobs
running on this 2-core machine its multi-class epochs were 1.5–2.5 times
slower while ours slowed little, which flatters ours; compare runs made
at a load average well below the number of cores.

Unless a row says otherwise both estimators run with their default
parameters and `random_state=0`, and one epoch is one `fit` with
`max_iter=1, tol=None` (input validation and set-up included, as a user
pays them). Models train on 80% of each data set; the other 20% is the
test set of the time-to-accuracy rows.

- **epoch, multi-class**: `AdagradClassifier(loss='log_loss')` (one
  multinomial softmax model) and `loss='hinge'` (one-vs-rest, all classes in
  one pass) against `SGDClassifier` with the same loss (one-vs-rest, one pass
  per class), and against the *floor*: one full-batch `X @ W` plus
  `X.T @ R` with K columns in SciPy, the least work any method that touches
  the gradient of every class for every row must do per epoch. By default
  ours shares each large step between the two cores (`n_threads=None`) while
  `SGDClassifier` (`n_jobs=None`) and the floor use one, as each does out of
  the box; two rows without a target compare like with like: both on two
  cores (`SGDClassifier(n_jobs=2)` trains two classes at a time), and ours
  on one thread against SGD's default.
- **epoch, binary**: the same on the binary problem (a); the floor has one
  column and is shown without a target.
- **time to accuracy**: `SGDClassifier(loss='hinge')` runs 5 epochs
  (`partial_fit` epoch by epoch) at each alpha of its grid; the best test
  accuracy becomes the target. Ours (`loss='hinge'`, other parameters at
  their defaults) runs epoch by epoch at each lr of its grid until it
  reaches the target; the row compares our wall time to the target with
  SGD's time for its 5 epochs. Clocks cover
  `partial_fit` and reading `coef_`, never scoring. The two winning
  configurations are timed again for the spread. A ratio with ">" was not
  reached (the run stopped at 10 epochs or 3x SGD's time).
- **partial_fit, hashed**: `partial_fit` of a fixed batch of hashed
  documents after a warm-up call, at 2^20 and 2^24 features against
  2^16: the cost of a step must depend on the nonzeros of the batch, not on
  the number of features. SGD's ratio is shown for comparison. At 2^24
  features the model's arrays span hundreds of MB and each step touches
  scattered entries of them: unless the kernel backs these arrays with huge
  pages (numpy asks for them; whether it gets them varies from run to run)
  the TLB misses alone can double the step time, so this ratio moved
  between 1.0 and 2.7 across otherwise identical runs here.
- **memory**: a fresh process builds all of (a), then the kernel's peak-RSS
  mark is reset and `fit` runs for 2 epochs; the row is the peak RSS above
  the RSS with X built, against a budget of the size of X plus 4 times the
  model plus 100 MB.
- **float32**: epoch time on the float32 copies of (a), (b) and (c)
  (a float32 model) against float64, with every step forced onto the
  active-row path and onto the in-place path; the memory of the fitted
  model's state on (c), float32 against float64; the peak of `tracemalloc`
  during one `fit` on float32 X against the size of a float64 copy of X (a
  silent conversion would cost at least two thirds of it; allocations are
  deterministic, so one traced fit is enough); and one epoch of ours
  against `SGDClassifier`'s, both on the float32 copies of (c) and (a) (SGD
  then trains in float32 too).
- **Vowpal Wabbit**: the tool a user of fast sparse linear models would
  pick instead, at its defaults with `--oaa K`, one pass and 5 passes over
  the training part of (c), against our epochs at our defaults; time and
  held-out accuracy (see the row's note).
- **penalty**: `penalty='elasticnet', average=True` against `penalty=None`,
  per epoch on (a); the lazy, exact penalty and the average should cost
  little.
- **epoch, regression** and **epoch, dense**: `AdagradRegressor` and
  `AdagradClassifier` against `SGDRegressor`/`SGDClassifier` on the sparse
  regression (d) and the dense problem (e); no target.
"""

DATA_NOTES = """\
## Data sets

Built by `benchmarks/datasets.py` from seeded generators (no download):

- **(a)** RCV1-like binary problem: Zipf term frequencies over a random
  column order, ~80 distinct terms per row, L2-normalised `(1 + log tf) *
  idf` values, labels from a planted sparse linear model (balanced) with 5%
  of labels redrawn at random; float64 CSR, and a float32 copy.
- **(b)** the same design with 20 classes: noisy argmax of 20 planted
  sparse linear scores (fewer rows than (a) to keep the suite under 15
  minutes).
- **(c)** real text: `sk_adagrad.datasets.load_docstrings()` (docstring
  paragraphs of the standard library, numpy, scipy and scikit-learn,
  labelled by sub-package) through
  `TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, min_df=2)`.
- **(d)** sparse regression: the design of (a) with a planted linear
  response plus noise.
- **(e)** dense: correlated standardised Gaussian features, binary labels
  or a linear response.
- **(f)** hashed stream: documents of (c) through `HashingVectorizer` with
  2^16, 2^20 or 2^24 features, binary label.
"""

LIGHTNING_NOTE = """\
## Peers not measured

`sklearn-contrib-lightning` (whose `AdaGradClassifier` is a Cython RDA
Adagrad) could not be installed here: `pip install sklearn-contrib-lightning`
finds only the 0.6.2.post0 source distribution for Python 3.11, and its
`setup.py` imports numpy before pip's isolated build environment provides
it (`ModuleNotFoundError: No module named 'numpy'`). The suite measures it
automatically (`lightning` row) wherever it is importable.
"""


def lightning_available() -> bool:
    """Whether sklearn-contrib-lightning can be imported."""
    try:
        import lightning.classification  # noqa: F401
    except ImportError:
        return False
    return True


def render_page(rows: list[Row], info: dict[str, str], command: str) -> str:
    """The text of docs/performance.md."""
    parts = [
        "# Performance",
        "",
        f"Measured on {info['date']} with `{command}`; every ratio compares "
        "two measurements of the same run. Regenerate the page with "
        "`python benchmarks/run.py --write-docs`.",
        "",
        "## Machine",
        "",
        f"- CPU: {info['cpu']}",
        f"- RAM: {info['ram']}",
        f"- Python {info['python']}; {info['versions']}",
        f"- {info['load'].capitalize()}",
        "",
        "## Results",
        "",
        format_table(rows),
        "",
        "## Time to accuracy",
        "",
        "Test accuracy against training wall time, one marker per epoch, at "
        "the best alpha of SGD and the best lr of ours; the dotted line is "
        "SGD's accuracy after 5 epochs.",
        "",
        f"![Test accuracy against wall time](_static/{PLOT_FILE.name})",
        "",
        ROW_NOTES,
        DATA_NOTES,
    ]
    if not lightning_available():
        parts.append(LIGHTNING_NOTE)
    return "\n".join(parts).rstrip() + "\n"


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
        command = "python benchmarks/run.py" + (" --quick" if args.quick else "")
        if args.repeats != 5:
            command += f" --repeats {args.repeats}"
        DOCS_PAGE.write_text(render_page(rows, info, command), encoding="utf-8")
        if ctx.curves:
            plot_time_to_accuracy(ctx.curves, PLOT_FILE)
        print(f"\nWrote {DOCS_PAGE.relative_to(REPO_DIR)}")


if __name__ == "__main__":
    main()
