"""When to use sk_adagrad: test accuracy and fit time against the usual peers.

Each model runs with its defaults (and a fixed seed) on the same split of
three data sets: the docstring corpus (tf-idf of uni+bigrams, 55 classes), a
synthetic binary text-like set (tf-idf rows with Zipf word frequencies and a
planted linear model, ``benchmarks.datasets.make_rcv1_like``) and
breast_cancer on its raw, unscaled features. The peers are ``SGDClassifier``,
``LogisticRegression`` (an exact solver of the log loss) and Vowpal Wabbit
(one pass and five, reading a file in its text format with its own parser).
Fit times are wall-clock, the models interleaved (medians over ``--repeats``
fits; one by default, as ``LogisticRegression`` takes minutes on the
docstrings); vectorising the text is not timed, for any model.
``--write-docs`` writes the table into docs/when_to_use.md; ``--quick`` runs
small versions of the sets (a smoke run, a few seconds).

    python -m benchmarks.when_to_use [--repeats 1] [--quick] [--write-docs]
"""

from __future__ import annotations

import argparse
import datetime
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from sklearn.datasets import load_breast_cancer
from sklearn.linear_model import LogisticRegression, SGDClassifier
from sklearn.model_selection import train_test_split

from benchmarks import DOCS_DIR, corpus, datasets, vowpal
from benchmarks.harness import fit_quietly, interleaved
from benchmarks.machine import machine_description
from benchmarks.pages import replace_between
from sk_adagrad import AdagradClassifier

PAGE = DOCS_DIR / "when_to_use.md"
START, END = "<!-- when-to-use:start -->", "<!-- when-to-use:end -->"
VW_PASSES = (1, 5)


@dataclass
class Split:
    name: str
    X_train: object
    X_test: object
    y_train: np.ndarray
    y_test: np.ndarray


def splits(quick: bool) -> list[Split]:
    """The three data sets, split 75/25 stratified with ``random_state=0``."""
    X_train, X_test, y_train, y_test = corpus.docstring_split(
        max_docs_per_class=30 if quick else None
    )
    text = Split(
        f"docstrings ({X_train.shape[0]:,} x {X_train.shape[1]:,}, "
        f"{len(np.unique(y_train))} classes)",
        X_train,
        X_test,
        y_train,
        y_test,
    )
    n_rows = 2_000 if quick else 40_000
    X, y = datasets.make_rcv1_like(n_samples=n_rows, random_state=0)
    binary = Split(
        f"synthetic text, binary ({n_rows * 3 // 4:,} x {X.shape[1]:,})",
        *_split(X, y),
    )
    X, y = load_breast_cancer(return_X_y=True)
    dense = Split(
        f"breast_cancer, raw features ({len(y) * 3 // 4:,} x {X.shape[1]})",
        *_split(X, y),
    )
    return [text, binary, dense]


def _split(X, y):
    return train_test_split(X, y, test_size=0.25, stratify=y, random_state=0)


def models() -> dict[str, Callable[[], object]]:
    """Fresh, unfitted estimators with their defaults and a fixed seed."""
    return {
        "sk_adagrad (hinge)": lambda: AdagradClassifier(random_state=0),
        "sk_adagrad (log_loss)": lambda: AdagradClassifier(
            loss="log_loss", random_state=0
        ),
        "SGDClassifier (hinge)": lambda: SGDClassifier(random_state=0),
        "LogisticRegression (lbfgs)": lambda: LogisticRegression(),
    }


@dataclass
class Row:
    data: str
    model: str
    accuracy: float
    seconds: list[float]

    @property
    def median(self) -> float:
        return float(np.median(self.seconds))


def measure(split: Split, repeats: int) -> list[Row]:
    """Every model on one split: fits interleaved, ``repeats`` times each."""
    # A peer that stops at its max_iter on raw features is measured as it ends;
    # the warning would say nothing the table does not.
    tasks = {
        name: lambda make=make: fit_quietly(make(), split.X_train, split.y_train)
        for name, make in models().items()
    }
    runs = interleaved(
        tasks,
        repeats,
        collect=False,
        keep=lambda model: float(model.score(split.X_test, split.y_test)),
    )
    rows = [
        Row(split.name, name, run.result, list(run.wall)) for name, run in runs.items()
    ]
    if vowpal.available():
        for passes in VW_PASSES:
            results = [
                vowpal.fit_and_score(
                    split.X_train, split.y_train, split.X_test, split.y_test, passes
                )
                for _ in range(repeats)
            ]
            name = (
                "Vowpal Wabbit, one pass"
                if passes == 1
                else f"Vowpal Wabbit, {passes} passes"
            )
            rows.append(
                Row(split.name, name, results[0][0], [sec for _, sec in results])
            )
    return rows


def format_table(rows: list[Row]) -> str:
    """One line per model and data set; time also as a multiple of SGD's."""
    sgd = {row.data: row.median for row in rows if row.model.startswith("SGD")}
    lines = [
        "| data | model | test accuracy | fit time (s) | time / SGD's |",
        "| --- | --- | ---: | ---: | ---: |",
    ]
    for row in rows:
        ratio = row.median / sgd[row.data]
        lines.append(
            f"| {row.data} | {row.model} | {row.accuracy:.4f} | "
            f"{row.median:.2f} | {ratio:.2f} |"
        )
    return "\n".join(lines)


def render_block(rows: list[Row], repeats: int, load: tuple[float, float]) -> str:
    vw = "" if vowpal.available() else " (Vowpal Wabbit not installed: no VW rows)"
    fits = "one fit of each model" if repeats == 1 else f"medians of {repeats} fits"
    return (
        f"\n\n{format_table(rows)}\n\n"
        f"Measured by `python -m benchmarks.when_to_use --repeats {repeats} "
        f"--write-docs` on {datetime.date.today().isoformat()}: "
        f"{machine_description()}. Fit times: {fits}{vw}; the load average "
        f"(1 minute) was {load[0]:.1f} before the run and {load[1]:.1f} after "
        "it.\n\n"
    )


def write_page(block: str, page: Path = PAGE) -> None:
    """Put ``block`` (of :func:`render_block`) between the markers of ``page``."""
    replace_between(page, START, END, block)


def main(argv: list[str] | None = None) -> list[Row]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--write-docs", action="store_true")
    args = parser.parse_args(argv)
    load_before = os.getloadavg()[0]
    rows = []
    for split in splits(args.quick):
        rows += measure(split, args.repeats)
        print(format_table([r for r in rows if r.data == split.name]), flush=True)
    block = render_block(rows, args.repeats, (load_before, os.getloadavg()[0]))
    print(block)
    if args.write_docs:
        write_page(block)
    return rows


if __name__ == "__main__":
    main()
