"""What a step costs as the model grows, and what a fit holds in memory:
``partial_fit`` on a hashed batch at 2^16 to 2^24 features, and the peak
resident memory of ``fit`` in a fresh process."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
from sklearn.linear_model import SGDClassifier

from benchmarks import REPO_DIR, corpus, datasets
from benchmarks.harness import MEGABYTE, Context, Row, time_interleaved
from sk_adagrad import AdagradClassifier


def bench_partial_fit_hashed(ctx: Context) -> list[Row]:
    """partial_fit on a fixed hashed batch at 2**16, 2**20 and 2**24 features
    (``ctx.hashed_log2_features``), each size against the smallest."""
    n_documents = datasets.SIZES[ctx.size]["hashed"]["n_documents"]
    calls_per_sample = 20  # one call takes milliseconds; time several per sample
    tasks = {}
    smallest, *larger = ctx.hashed_log2_features
    for log2 in ctx.hashed_log2_features:
        X, y = corpus.make_hashed_batch(
            2**log2, n_documents, text_corpus=ctx.text_corpus
        )
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
    result = subprocess.run(
        [sys.executable, "-m", "benchmarks.memory_probe"]
        + ["--estimator", estimator, "--size", size],
        cwd=REPO_DIR,
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
                ctx.size_label("binary"),
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
