"""AdagradClassifierCV / AdagradRegressorCV against GridSearchCV, same run.

For each data set and loss: ``GridSearchCV`` over the plain estimator with
``n_jobs=1`` and ``n_jobs=2``, and the stacked search, on the same grid
(``lr`` in {0.1, 0.3, 1.0} x ``eps`` in {1e-10, 1e-6, 1e-2}, ``alpha='auto'``)
and the same 3 folds, each including its refit on all the data; the table
gives the times, our time over each of theirs, the best candidates and their
cross-validated scores. Then, on the text sets, the defaults:
``AdagradClassifierCV()`` against ``GridSearchCV(SGDClassifier(), {'alpha':
[1e-6, 1e-5, 1e-4, 1e-3]})`` (both 5 folds), searched on 75% of the
documents and scored on the other 25%.

Data: the docstring corpus (``sk_adagrad.datasets.load_docstrings``) at
10,000 documents through ``TfidfVectorizer(ngram_range=(1, 2),
sublinear_tf=True, min_df=2)``, its 55 classes and a binary task on it
(scikit-learn's docstrings against the rest); a sparse regression set
(``benchmarks.datasets.make_sparse_regression``, 10,000 x 5,000).

Times are wall-clock seconds of one run each unless ``--repeats`` asks for
medians; the machine may be shared, so the page records ``uptime``'s load
beside them, and the ratios are measured in the same run.

Usage::

    python -m benchmarks.cv [--quick] [--repeats N] [--only TEXT] [--loss LOSS]
                            [--write-docs]

``--quick`` runs at 3,000 documents and rows; ``--only`` runs the data sets
whose name holds the text, ``--loss`` the one loss (without the defaults
table); ``--write-docs`` writes docs/cv.md.
"""

from __future__ import annotations

import argparse
import datetime
import os
import subprocess
import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import SGDClassifier
from sklearn.model_selection import (
    GridSearchCV,
    KFold,
    StratifiedKFold,
    train_test_split,
)

from benchmarks import DOCS_DIR, REPO_DIR
from benchmarks.corpus import make_tfidf_corpus
from benchmarks.datasets import make_sparse_regression
from benchmarks.harness import timed
from benchmarks.machine import machine_description
from benchmarks.pages import find_section
from sk_adagrad import (
    AdagradClassifier,
    AdagradClassifierCV,
    AdagradRegressor,
    AdagradRegressorCV,
)

GRID = {"lr": [0.1, 0.3, 1.0], "eps": [1e-10, 1e-6, 1e-2]}
SGD_ALPHAS = [1e-6, 1e-5, 1e-4, 1e-3]
# The bars of the design: our time over GridSearchCV's with n_jobs=1, per
# loss (the hinge and squared error steps are cheaper than the logistic's).
TIME_BARS = {"hinge": 0.25, "log_loss": 0.5, "squared_error": 0.25}
SCORE_SLACK = 0.005
# The heading of docs/cv.md's section written by benchmarks.cv_halving.
HALVING_TITLE = "## Successive halving inside the stack"


def load(size):
    """``name -> (X, y, task)`` for the three data sets at ``size`` rows."""
    X, labels = make_tfidf_corpus(size)
    binary = np.char.startswith(labels.astype(str), "sklearn").astype(int)
    X_reg, y_reg = make_sparse_regression(size, 5_000, nnz_per_row=40)
    return {
        f"docstrings {size:,} (55 classes)": (X, labels, "classification"),
        f"docstrings {size:,} (binary: sklearn)": (X, binary, "classification"),
        f"sparse regression {size:,} x 5,000": (X_reg, y_reg, "regression"),
    }


def losses_for(task):
    """The losses a task is searched with."""
    return ("hinge", "log_loss") if task == "classification" else ("squared_error",)


def compare(X, y, task, loss, repeats):
    """One row: GridSearchCV (n_jobs 1 and 2) and ours on the same folds."""
    classify = task == "classification"
    splitter = StratifiedKFold if classify else KFold
    folds = list(splitter(3, shuffle=True, random_state=0).split(X, y))
    plain = (AdagradClassifier if classify else AdagradRegressor)(
        loss=loss, random_state=0
    )
    search = AdagradClassifierCV if classify else AdagradRegressorCV
    # CPU times are of this process (all its threads; not of worker processes).
    theirs = {}
    for n_jobs in (1, 2):
        theirs[n_jobs] = timed(
            lambda n_jobs=n_jobs: GridSearchCV(
                plain, GRID, cv=folds, n_jobs=n_jobs
            ).fit(X, y),
            repeats,
        )
    run = timed(
        lambda: search(loss=loss, alpha="auto", cv=folds, random_state=0, **GRID).fit(
            X, y
        ),
        repeats,
    )
    ours, ours_time, ours_cpu = run.result, run.median, run.median_cpu
    reference = theirs[1].result
    reference_time, reference_cpu = theirs[1].median, theirs[1].median_cpu
    same = ours.best_params_ == reference.best_params_
    # Our best candidate's score in GridSearchCV's own results.
    their_score_of_ours = reference.cv_results_["mean_test_score"][ours.best_index_]
    close = reference.best_score_ - their_score_of_ours <= SCORE_SLACK
    return {
        "loss": loss,
        "gs1": reference_time,
        "gs2": theirs[2].median,
        "ours": ours_time,
        "ratio1": ours_time / reference_time,
        "ratio2": ours_time / theirs[2].median,
        "gs1_cpu": reference_cpu,
        "ours_cpu": ours_cpu,
        "cpu_ratio": ours_cpu / reference_cpu,
        "their_best": _short(reference.best_params_),
        "their_score": reference.best_score_,
        "our_best": _short(ours.best_params_),
        "our_score": ours.best_score_,
        "their_score_of_ours": their_score_of_ours,
        "best_met": same or close,
        "time_met": ours_time <= TIME_BARS[loss] * reference_time
        and ours_time < theirs[2].median,
    }


def _short(params):
    return ", ".join(f"{name}={params[name]:g}" for name in ("lr", "eps"))


def defaults_row(X, y, repeats):
    """AdagradClassifierCV() against SGDClassifier's grid over alpha."""
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.25, stratify=y, random_state=0
    )
    our_run = timed(
        lambda: AdagradClassifierCV(random_state=0).fit(X_train, y_train), repeats
    )
    sgd_run = timed(
        lambda: GridSearchCV(SGDClassifier(random_state=0), {"alpha": SGD_ALPHAS}).fit(
            X_train, y_train
        ),
        repeats,
    )
    ours, sgd = our_run.result, sgd_run.result
    return {
        "ours": our_run.median,
        "sgd": sgd_run.median,
        "ours_cpu": our_run.median_cpu,
        "sgd_cpu": sgd_run.median_cpu,
        "our_accuracy": ours.score(X_test, y_test),
        "sgd_accuracy": sgd.score(X_test, y_test),
        "our_alpha": ours.best_params_["alpha"],
        "by_factor": "/".join(
            f"{score:.3f}" for score in ours.cv_results_["mean_test_score"]
        ),
        "sgd_alpha": sgd.best_params_["alpha"],
    }


def load_average():
    return subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--write-docs", action="store_true")
    parser.add_argument(
        "--only", default="", help="run the data sets whose name holds this text"
    )
    parser.add_argument("--loss", help="run this loss only (and no defaults table)")
    args = parser.parse_args(argv)
    warnings.simplefilter("ignore", ConvergenceWarning)
    size = 3_000 if args.quick else 10_000
    data = {name: value for name, value in load(size).items() if args.only in name}
    loads = [load_average()]
    lines = [
        "| data | loss | GridSearchCV n_jobs=1 (s) | n_jobs=2 (s) | ours (s) "
        "| ours / n_jobs=1 | ours / n_jobs=2 | CPU s, n_jobs=1 / ours (ratio) "
        "| their best (score) | our best (score; theirs of it) | bars met |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    print(lines[0], flush=True)
    for name, (X, y, task) in data.items():
        for loss in losses_for(task):
            if args.loss not in (None, loss):
                continue
            row = compare(X, y, task, loss, args.repeats)
            met = [
                "best" if row["best_met"] else "not best",
                "time" if row["time_met"] else "not time",
            ]
            lines.append(
                f"| {name} | {loss} | {row['gs1']:.1f} | {row['gs2']:.1f} "
                f"| {row['ours']:.1f} | {row['ratio1']:.2f} | {row['ratio2']:.2f} "
                f"| {row['gs1_cpu']:.1f} / {row['ours_cpu']:.1f} "
                f"({row['cpu_ratio']:.2f}) "
                f"| {row['their_best']} ({row['their_score']:.4f}) "
                f"| {row['our_best']} ({row['our_score']:.4f}; "
                f"{row['their_score_of_ours']:.4f}) | {', '.join(met)} |"
            )
            print(lines[-1], flush=True)
            loads.append(load_average())
    default_lines = [
        "| data | AdagradClassifierCV() (s; CPU s) "
        "| GridSearchCV(SGDClassifier) (s; CPU s) "
        "| held-out accuracy, ours | SGD's | alpha chosen, ours | SGD's "
        "| our CV accuracy at 'auto' x 0.1/0.3/1/3 |",
        "|---|---|---|---|---|---|---|---|",
    ]
    # --loss times the searches of one loss only: no table of the defaults.
    default_sets = [
        (name, X, y)
        for name, (X, y, task) in data.items()
        if task == "classification" and args.loss is None
    ]
    if default_sets:
        print(default_lines[0], flush=True)
    for name, X, y in default_sets:
        row = defaults_row(X, y, args.repeats)
        default_lines.append(
            f"| {name} | {row['ours']:.1f}; {row['ours_cpu']:.1f} "
            f"| {row['sgd']:.1f}; {row['sgd_cpu']:.1f} "
            f"| {row['our_accuracy']:.4f} | {row['sgd_accuracy']:.4f} "
            f"| {row['our_alpha']:.3g} | {row['sgd_alpha']:g} | {row['by_factor']} |"
        )
        print(default_lines[-1], flush=True)
        loads.append(load_average())
    if args.write_docs:
        write_docs(lines, default_lines, loads, args)


PAGE = """# Grid search in one pass

Measured on {date} by `python -m benchmarks.cv{flags}` ({machine}). The
machine is shared: `uptime` gave {loads} during the run, so the times are
noisy; the ratios compare runs made minutes apart in the same process, and
the CPU seconds (of the searching process, all its threads) are the figures
least moved by the other load.

`AdagradClassifierCV` and `AdagradRegressorCV` train every candidate and
every fold of a grid search as the columns of one model: each step reads its
batch once, finds its active features once and computes every model's margins
with one sparse product; each model keeps its own `lr`, `eps` and `alpha` as
per-column values of the same vectorised step, weighs its fold's held-out
rows zero, stops by the plain estimator's rule and then leaves the stack. Each
model is the model the plain estimator fits with the held-out rows weighted
zero, on the same batches (`tests/estimator/test_cv.py`).

## Against GridSearchCV, same grid and folds

`lr` in {{0.1, 0.3, 1.0}} x `eps` in {{1e-10, 1e-6, 1e-2}}, `alpha='auto'`, the
same 3 folds, refit included. "Theirs of it" is GridSearchCV's score of the
candidate we chose. The bars: the same best candidate or one within
{slack} of its score, in at most {hinge_bar}x GridSearchCV's `n_jobs=1` time
for the hinge and the squared error ({log_bar}x for `log_loss`) and less than
its `n_jobs=2` time.

{table}

## The defaults against SGDClassifier's grid

`AdagradClassifierCV()` (its default grid: `alpha` = `'auto'` x 0.1, 0.3, 1
and 3, 5 folds) against `GridSearchCV(SGDClassifier(), {{'alpha': {sgd}}})`
(5 folds), searched on 75% of the documents, accuracy on the other 25%.

{defaults}

## Reading the numbers

The stack saves what the fits of a grid search repeat: reading, shuffling
and slicing the batches, finding their active features, the sparse products'
set-up and the Python cost of each step. Its arithmetic per step is that of
all the models together, and more: a fold's held-out rows are in every batch,
weighted zero in that fold's columns, so the stack computes margins and
gradients on all the rows where each fit of 3-fold cross-validation reads two
thirds of them, and its batches (of the same number per epoch) hold more
active features. So it gains where a step's fixed cost dominates, on binary
and regression problems (one output per model), and not on many-class
problems: there a step gathers, updates and writes back active features x
classes x models values, the same work as the separate fits plus the held-out
rows' share. The CPU seconds show it best, being the least moved by the
machine's other load.

The last column of the defaults table shows where the default grid's best
`alpha` lies; a best at either end of the grid says the grid should be wider
on that kind of data.

Every model runs until its own stopping rule here, as in `GridSearchCV`.
Successive halving inside the stack (`halving=True`, below) drops the
candidates clearly behind and no longer improving.
"""


def write_docs(lines, default_lines, loads, args):
    flags = " --quick" if args.quick else ""
    if args.repeats != 1:
        flags += f" --repeats {args.repeats}"
    averages = [entry.split("load average:")[-1].strip() for entry in loads]
    page = PAGE.format(
        date=datetime.date.today().isoformat(),
        flags=flags,
        machine=machine_description(),
        loads="; ".join(averages),
        slack=SCORE_SLACK,
        hinge_bar=TIME_BARS["hinge"],
        log_bar=TIME_BARS["log_loss"],
        table="\n".join(lines),
        sgd=SGD_ALPHAS,
        defaults="\n".join(default_lines),
    )
    path = DOCS_DIR / "cv.md"
    # The section benchmarks.cv_halving writes stays.
    halving = find_section(path, HALVING_TITLE)
    path.write_text(page + (f"\n{halving}\n" if halving else ""))
    print(f"wrote {path.relative_to(REPO_DIR)} ({os.path.getsize(path)} bytes)")


if __name__ == "__main__":
    main()
