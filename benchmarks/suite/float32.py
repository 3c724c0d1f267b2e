"""float32 against float64: epoch time on each step path, the model's memory,
no float64 copy of X, and one epoch against SGD's on float32 data."""

from __future__ import annotations

import gc
import tracemalloc

import numpy as np

from benchmarks.harness import (
    MEGABYTE,
    Context,
    Row,
    fit_task,
    our_classifier,
    sgd_classifier,
    time_interleaved,
)
from sk_adagrad._step_policy import StepPolicy

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
