"""Successive halving inside the stack: the same searches with and without it.

For each data set of ``benchmarks.cv``, loss and grid (the issue's ``lr`` in
{0.1, 0.3, 1.0} x ``eps`` in {1e-10, 1e-6, 1e-2} at ``alpha='auto'``, and the
default grid, ``alpha`` = ``'auto'`` x 0.1, 0.3, 1, 3), the stacked search on
the same 3 folds with ``halving=False`` and ``halving=True``, interleaved in
the same run (refit excluded, the same for both): the candidates dropped and
when, the best candidate of each, the full search's score of the candidate the
halving search chose (the bar: the same candidate, or one within 0.005 of the
full search's best score), and the CPU seconds of each. ``--gridsearch`` adds
``GridSearchCV``'s CPU seconds over the plain estimator on the same grid and
folds (``n_jobs=1``).

Usage::

    python -m benchmarks.cv_halving [--quick] [--repeats N] [--only TEXT]
                                    [--loss LOSS] [--grid GRID] [--gridsearch]
                                    [--trajectories] [--write-docs]

``--quick`` runs at 3,000 documents and rows, ``--only`` the data sets whose
name holds the text, ``--loss`` one loss, ``--grid`` one grid;
``--write-docs`` writes the table between the markers of docs/cv.md's
halving section. ``--trajectories`` prints instead, for each search, every
candidate's mean held-out score at halving's checkpoints (epochs 1, 2, 4,
...) and at its end, with nothing dropped: what the rule sees.
"""

from __future__ import annotations

import argparse
import datetime
import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV, KFold, StratifiedKFold

from benchmarks import DOCS_DIR
from benchmarks.cv import GRID, SCORE_SLACK, load, load_average, losses_for
from benchmarks.harness import interleaved, timed
from benchmarks.machine import machine_description
from benchmarks.pages import replace_between
from sk_adagrad import (
    AdagradClassifier,
    AdagradClassifierCV,
    AdagradRegressor,
    AdagradRegressorCV,
)

GRIDS = {"lr x eps": dict(alpha="auto", **GRID), "default": {}}


def compare(X, y, task, loss, grid, repeats, gridsearch=False):
    """One row: the search with and without halving, same folds, same run."""
    classify = task == "classification"
    splitter = StratifiedKFold if classify else KFold
    folds = list(splitter(3, shuffle=True, random_state=0).split(X, y))
    search = AdagradClassifierCV if classify else AdagradRegressorCV
    common = dict(loss=loss, cv=folds, random_state=0, refit=False, **grid)
    runs = interleaved(
        {
            halving: lambda halving=halving: search(halving=halving, **common).fit(X, y)
            for halving in (False, True)
        },
        repeats,
    )
    full, halved = runs[False].result, runs[True].result
    scores = full.cv_results_["mean_test_score"]
    dropped = halved.cv_results_["dropped_at_epoch"]
    row = {
        "candidates": len(scores),
        "dropped": [
            (params, int(epoch))
            for params, epoch in zip(halved.cv_results_["params"], dropped, strict=True)
            if epoch >= 0
        ],
        "full_best_dropped": bool(dropped[full.best_index_] >= 0),
        "full_best": full.best_params_,
        "full_score": full.best_score_,
        "halved_best": halved.best_params_,
        "halved_score": halved.best_score_,
        "full_score_of_halved": float(scores[halved.best_index_]),
        "full_cpu": runs[False].median_cpu,
        "halved_cpu": runs[True].median_cpu,
        "full_wall": runs[False].median,
        "halved_wall": runs[True].median,
    }
    row["met"] = full.best_score_ - row["full_score_of_halved"] <= SCORE_SLACK
    row["cpu_ratio"] = row["halved_cpu"] / row["full_cpu"]
    if gridsearch:
        plain = (AdagradClassifier if classify else AdagradRegressor)(
            loss=loss, random_state=0
        )
        searched = {name: value for name, value in grid.items()} or {
            "alpha": list(full.cv_results_["param_alpha"])
        }
        searched = {
            name: value if isinstance(value, list) else [value]
            for name, value in searched.items()
        }
        theirs = timed(
            lambda: GridSearchCV(plain, searched, cv=folds, refit=False).fit(X, y),
            repeats,
        )
        row["gridsearch_cpu"] = theirs.median_cpu
    return row


def trajectories(X, y, task, loss, grid):
    """The mean held-out score of each candidate as halving's rule sees it,
    after epochs 1, 2, 4, ..., of a search that drops nothing (its rule
    recording what it is given), and the search itself."""
    seen = []

    def record(scores, previous, running, dropped):
        seen.append(scores.mean(axis=1))
        return []

    classify = task == "classification"
    splitter = StratifiedKFold if classify else KFold
    folds = list(splitter(3, shuffle=True, random_state=0).split(X, y))
    search = AdagradClassifierCV if classify else AdagradRegressorCV
    recording = type("Recording", (search,), {"_halving_rule": staticmethod(record)})
    common = dict(loss=loss, cv=folds, random_state=0, refit=False, **grid)
    fitted = recording(halving=True, **common).fit(X, y)
    return np.array(seen).T, fitted


def trajectory_lines(X, y, task, loss, grid):
    """A table: each candidate's mean score after epochs 1, 2, 4, ... and at
    its end, the best at each in bold."""
    means, fitted = trajectories(X, y, task, loss, grid)
    final = fitted.cv_results_["mean_test_score"]
    epochs = [2**k for k in range(means.shape[1])]
    lines = [
        "| candidate | "
        + " | ".join(f"epoch {e}" for e in epochs)
        + " | final (epochs) |",
        "|---" * (len(epochs) + 2) + "|",
    ]
    columns = np.column_stack([means, final])
    best = np.nanargmax(columns, axis=0)
    for index, params in enumerate(fitted.cv_results_["params"]):
        cells = [
            f"**{value:.3f}**" if best[at] == index else f"{value:.3f}"
            for at, value in enumerate(columns[index])
        ]
        cells[-1] += f" ({fitted.cv_results_['mean_n_iter'][index]:.0f})"
        lines.append(f"| {_short(params)} | " + " | ".join(cells) + " |")
    return lines


def _short(params):
    return ", ".join(
        f"{name}={params[name]:.3g}"
        for name in ("alpha", "lr", "eps")
        if not isinstance(params[name], str)
    )


HEADER = (
    "| data | loss | grid | dropped (of all): epoch | full search's best (score) "
    "| halving's best (score; full search's of it) | bar met | CPU s, full / "
    "halving (ratio) | GridSearchCV CPU s (halving / it) |\n"
    "|---|---|---|---|---|---|---|---|---|"
)


def format_row(name, loss, grid_name, row):
    epochs = sorted({epoch for _, epoch in row["dropped"]})
    counts = ", ".join(
        f"{sum(e == epoch for _, e in row['dropped'])} after {epoch}"
        for epoch in epochs
    )
    dropped = f"{len(row['dropped'])} of {row['candidates']}" + (
        f": {counts}" if counts else ""
    )
    if row["full_best_dropped"]:
        dropped += " (the full best among them)"
    gridsearch = (
        f"{row['gridsearch_cpu']:.1f} ({row['halved_cpu'] / row['gridsearch_cpu']:.2f})"
        if "gridsearch_cpu" in row
        else "not run"
    )
    return (
        f"| {name} | {loss} | {grid_name} | {dropped} "
        f"| {_short(row['full_best'])} ({row['full_score']:.4f}) "
        f"| {_short(row['halved_best'])} ({row['halved_score']:.4f}; "
        f"{row['full_score_of_halved']:.4f}) | {'yes' if row['met'] else 'no'} "
        f"| {row['full_cpu']:.1f} / {row['halved_cpu']:.1f} ({row['cpu_ratio']:.2f}) "
        f"| {gridsearch} |"
    )


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--only", default="")
    parser.add_argument("--loss")
    parser.add_argument("--grid", choices=list(GRIDS))
    parser.add_argument("--gridsearch", action="store_true")
    parser.add_argument("--write-docs", action="store_true")
    parser.add_argument(
        "--trajectories",
        action="store_true",
        help="print each candidate's scores at the checkpoints instead",
    )
    args = parser.parse_args(argv)
    warnings.simplefilter("ignore", ConvergenceWarning)
    size = 3_000 if args.quick else 10_000
    data = {name: value for name, value in load(size).items() if args.only in name}
    if args.trajectories:
        for name, (X, y, task) in data.items():
            for loss in ("hinge", "log_loss", "squared_error"):
                if args.loss not in (None, loss) or (
                    (task == "classification") == (loss == "squared_error")
                ):
                    continue
                for grid_name, grid in GRIDS.items():
                    if args.grid in (None, grid_name):
                        print(f"\n{name}, {loss}, {grid_name} grid:\n")
                        print("\n".join(trajectory_lines(X, y, task, loss, grid)))
        return
    loads = [load_average()]
    lines = [HEADER]
    print(HEADER, flush=True)
    for name, (X, y, task) in data.items():
        for loss in losses_for(task):
            if args.loss not in (None, loss):
                continue
            for grid_name, grid in GRIDS.items():
                if args.grid not in (None, grid_name):
                    continue
                row = compare(X, y, task, loss, grid, args.repeats, args.gridsearch)
                lines.append(format_row(name, loss, grid_name, row))
                print(lines[-1], flush=True)
                loads.append(load_average())
    print("uptime:", "; ".join(loads))
    if args.write_docs:
        write_docs(lines, loads, argv)


START, END = "<!-- cv-halving:start -->", "<!-- cv-halving:end -->"


def write_docs(lines, loads, argv, page=DOCS_DIR / "cv.md"):
    """Write ``lines``, with the date, machine and loads, between the markers
    of ``page``'s halving section (the prose around them stays)."""
    averages = "; ".join(entry.split("load average:")[-1].strip() for entry in loads)
    flags = " ".join(argv or [])
    block = (
        f"\nMeasured on {datetime.date.today().isoformat()} by "
        f"`python -m benchmarks.cv_halving {flags}` ({machine_description()}); "
        f"`uptime` gave {averages}.\n\n" + "\n".join(lines) + "\n"
    )
    replace_between(page, START, END, block)


if __name__ == "__main__":
    main()
