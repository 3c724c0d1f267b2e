"""Vowpal Wabbit's one pass and five against our epochs on the text set (c):
time and held-out accuracy."""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from pathlib import Path

import numpy as np

from benchmarks import vowpal
from benchmarks.harness import Context, Row, fit_task, our_classifier, time_interleaved

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
