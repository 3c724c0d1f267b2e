"""Rows per step of ``batch_size='auto'``: by rows only, or by the work of a
step (docs/defaults.md, "Step sizing").

A step has a fixed cost (its Python and NumPy calls, about a millisecond)
whatever its size. The rows-only rule gives a fit about 32 steps an epoch, so
on short texts (a few nonzeros a row) most of an epoch is that fixed cost.
Each candidate rule takes the rows-only rule's rows per step (the former
default), or more when a step would hold fewer than ``min_entries`` stored
entries (nonzeros of sparse rows, every entry of dense ones; with
``per_output``, entries times the model's outputs, which is what a one-vs-rest
step updates), keeping at least ``min_steps`` steps an epoch. The default
(``sk_adagrad._defaults.auto_batch_size``) counts the nonzeros of sparse rows
only: dense rows keep the rows-only rule.

The default also gives a step at least ``MIN_STEP_WORK`` nonzeros times the
model's outputs, keeping ``STEPS_PER_EPOCH`` steps an epoch: larger steps
for large sets of short rows and few outputs only.

Every case of the size study (``benchmarks/size_study.py``; ``SKIPPED`` left
out for time), short texts (the first line of each docstring paragraph,
about six words: whether it comes from the standard library or from
numpy/scipy/scikit-learn, and its 55 classes) and many short texts (every
line of the paragraphs, about eight words: the same binary label, and
whether it comes from scipy) are fitted with each distinct
rows per step the rules give, with ``SEEDS`` random states, and with
``SGDClassifier``/``SGDRegressor``'s defaults in the same run. A case on
which no candidate changes the rows per step is listed without fits: every
rule fits it as the rows-only rule does. Times are CPU seconds of this process
(the machine is shared), medians over the seeds; accuracy is the median test
score over the seeds, and its spread over the seeds (max - min, rows-only
rule) tells noise from change.

    python -m benchmarks.step_sizing [--quick] [--only TEXT]
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
from sklearn.base import clone
from sklearn.linear_model import SGDClassifier, SGDRegressor
from sklearn.utils import Bunch

from benchmarks import DOCS_DIR, corpus, size_study
from benchmarks.harness import fit_quietly, interleaved, n_outputs
from benchmarks.machine import load_average, machine_description
from sk_adagrad import AdagradClassifier, AdagradRegressor
from sk_adagrad import _defaults as defaults

DOCS = DOCS_DIR / "defaults.md"
TITLE = "## Step sizing"
SEEDS = (0, 1, 2)
SHORT_TEXT_SIZES = (1_000, 10_000, None)
LINE_TEXT_SIZES = (60_000, None)
# The cases of short rows, whose CPU time the summary gives apart.
SHORT_TEXT_LABELS = ("short texts", "docstring lines")
# Left out for time (a fit of ours takes 10 to 15 s there, and a candidate
# changes their steps little: their rows hold 34 and 80 nonzeros and the
# rows-only rule already gives them 1024-row steps).
SKIPPED = ("docstring paragraphs 30,000", "(b) 20 classes 100,000")


@dataclass(frozen=True)
class Rule:
    """At least ``min_entries`` entries a step (times the outputs when
    ``per_output``; dense rows count all their entries when ``counts_dense``,
    else keep the rows-only rule) and at least ``min_steps`` steps an epoch;
    0 entries is the rows-only rule. ``min_work``, the default's second
    term: at least this many nonzeros times outputs, keeping
    ``STEPS_PER_EPOCH`` steps an epoch."""

    min_entries: int
    min_steps: int = defaults.MIN_STEPS_PER_EPOCH
    per_output: bool = False
    counts_dense: bool = True
    min_work: int = 0

    @property
    def name(self) -> str:
        if not self.min_entries:
            return "rows only (former)"
        if self.min_work:
            return (
                f"{self.min_entries:,} nonzeros and {self.min_work:,} x outputs, "
                "sparse only (default)"
            )
        if not self.counts_dense:
            return f"{self.min_entries:,} nonzeros, sparse only (former default)"
        outputs = " x outputs" if self.per_output else ""
        return f"{self.min_entries:,} entries{outputs}, {self.min_steps}+ steps"

    def rows_per_step(self, X, outputs: int) -> int:
        entries = defaults.mean_nonzeros_per_row(X)
        if entries is None and self.counts_dense:
            entries = float(X.shape[1])
        if entries is not None and self.per_output:
            entries *= outputs
        return defaults.auto_batch_size(
            X.shape[0],
            entries,
            self.min_entries,
            self.min_steps,
            n_outputs=outputs,
            min_step_work=self.min_work,
        )


ROWS_ONLY = Rule(0)
DEFAULT = Rule(
    defaults.MIN_STEP_NONZEROS, counts_dense=False, min_work=defaults.MIN_STEP_WORK
)
RULES = (
    ROWS_ONLY,
    DEFAULT,
    Rule(defaults.MIN_STEP_NONZEROS, counts_dense=False),
    Rule(1_024),
    Rule(2_048),
    Rule(4_096),
    Rule(8_192),
    Rule(32_768, min_steps=8),
    Rule(32_768, min_steps=8, per_output=True),
)


def short_text_cases(sizes=SHORT_TEXT_SIZES) -> Iterator[size_study.Case]:
    """The first line of each docstring paragraph, binary (standard library
    or the scientific stack) and with its 55 classes, vectorised as the size
    study vectorises text."""
    texts, labels = corpus.full_text_corpus()
    lines = corpus.first_lines(texts)
    scientific = np.array(
        [str(label).startswith(("numpy", "scipy", "sklearn")) for label in labels]
    )
    for label, target in (
        ("short texts, binary", scientific.astype(np.int64)),
        ("short texts, 55 classes", labels),
    ):
        yield from size_study._text_cases(
            label, Bunch(data=lines, target=target), sizes
        )


def line_text_cases(sizes=LINE_TEXT_SIZES) -> Iterator[size_study.Case]:
    """Every line of three words or more of each docstring paragraph, binary:
    whether it comes from the scientific stack, and whether from scipy."""
    texts, labels = corpus.full_text_corpus()
    lines, line_labels = corpus.every_line(texts, labels)
    line_labels = line_labels.astype(str)
    for label, prefixes in (
        ("docstring lines, binary", ("numpy", "scipy", "sklearn")),
        ("docstring lines, scipy or not", ("scipy",)),
    ):
        target = np.char.startswith(line_labels, prefixes[0])
        for prefix in prefixes[1:]:
            target |= np.char.startswith(line_labels, prefix)
        yield from size_study._text_cases(
            label, Bunch(data=lines, target=target.astype(np.int64)), sizes
        )


def cases(quick: bool) -> Iterator[size_study.Case]:
    for case in size_study.cases(quick):
        if case.name not in SKIPPED:
            yield case
    yield from short_text_cases(SHORT_TEXT_SIZES[:2] if quick else SHORT_TEXT_SIZES)
    if not quick:
        yield from line_text_cases()


@dataclass
class Fits:
    """Medians over the seeds: test score, CPU seconds, epochs; and the
    spread (max - min) of the scores."""

    score: float
    cpu: float
    epochs: float
    spread: float


def _seeded_fits(models, data, seeds) -> dict[object, Fits]:
    """Each model fitted once per seed, the models interleaved within a seed."""
    X_train, X_test, y_train, y_test = data
    cpu = {name: [] for name in models}
    results = {name: [] for name in models}
    for seed in seeds:
        tasks = {
            name: lambda model=model, seed=seed: fit_quietly(
                clone(model).set_params(random_state=seed), X_train, y_train
            )
            for name, model in models.items()
        }
        runs = interleaved(
            tasks,
            repeats=1,
            keep=lambda fitted: (
                fitted.score(X_test, y_test),
                getattr(fitted, "n_iter_", 0),
            ),
        )
        for name, run in runs.items():
            cpu[name].extend(run.cpu)
            results[name].append(run.result)
    fits = {}
    for name in models:
        scores = [score for score, _ in results[name]]
        fits[name] = Fits(
            float(np.median(scores)),
            float(np.median(cpu[name])),
            float(np.median([epochs for _, epochs in results[name]])),
            float(np.ptp(scores)),
        )
    return fits


def run_case(case: size_study.Case, seeds) -> list[dict]:
    """One row per loss: the rows per step each rule gives, and for each
    distinct one, and for SGD, the fits' medians over ``seeds`` (no fits when
    every rule gives the same)."""
    data = case.load()
    X_train = data[0]
    nonzeros = defaults.mean_nonzeros_per_row(X_train)
    entries = X_train.shape[1] if nonzeros is None else nonzeros
    outputs = n_outputs(data[2]) if case.is_classification else 1
    sizes = {rule: rule.rows_per_step(X_train, outputs) for rule in RULES}
    row = {
        "case": case.name,
        "rows": X_train.shape[0],
        "entries": entries,
        "sizes": sizes,
    }
    if len(set(sizes.values())) == 1:
        return [dict(row, loss="", fits=None)]
    rows = []
    for loss in size_study._losses(case):
        if case.is_classification:
            ours, sgd = AdagradClassifier(loss=loss), SGDClassifier(loss=loss)
        else:
            ours, sgd = AdagradRegressor(), SGDRegressor()
        models = {"SGD": sgd}
        for size in sorted(set(sizes.values())):
            models[size] = clone(ours).set_params(batch_size=int(size))
        rows.append(dict(row, loss=loss, fits=_seeded_fits(models, data, seeds)))
    return rows


def _cell(fits: Fits, size: int, rows_only: Fits | None = None) -> str:
    if rows_only is None:
        return (
            f"{size} r: {fits.score:.3f} ±{fits.spread / 2:.3f} "
            f"({fits.cpu:.2f} s, {fits.epochs:.0f} ep)"
        )
    return (
        f"{size} r: {fits.score:.3f} ({fits.score - rows_only.score:+.3f}), "
        f"{fits.cpu / rows_only.cpu:.2f}x, {fits.epochs:.0f} ep"
    )


def format_row(row: dict) -> str:
    sizes, fits = row["sizes"], row["fits"]
    cells = [row["case"], f"{row['rows']:,}", f"{row['entries']:.1f}", row["loss"]]
    if fits is None:
        cells.append("not fitted")
        cells += [f"{sizes[rule]} r" for rule in RULES]
    else:
        sgd, rows_only = fits["SGD"], fits[sizes[ROWS_ONLY]]
        cells.append(f"{sgd.score:.3f} ({sgd.cpu:.2f} s, {sgd.epochs:.0f} ep)")
        cells.append(_cell(rows_only, sizes[ROWS_ONLY]))
        for rule in RULES[1:]:
            size = sizes[rule]
            cells.append(
                "same"
                if size == sizes[ROWS_ONLY]
                else _cell(fits[size], size, rows_only)
            )
    return "| " + " | ".join(cells) + " |"


def header() -> list[str]:
    names = ["data set", "rows", "entries a row", "loss", "SGD"]
    names += [rule.name for rule in RULES]
    return [
        "| " + " | ".join(names) + " |",
        "| " + " | ".join(["---"] * len(names)) + " |",
    ]


def summary(rows: list[dict], noise: float) -> list[str]:
    """Per candidate: rows changed, rows losing more than ``noise`` (and more
    than the rows-only rule's seed spread), the worst change of score, and the
    CPU time against the rows-only rule's on the changed rows (geometric mean)
    and on the short texts."""
    lines = [
        "| rule | rows changed | losing > "
        f"{noise:.3f} | losing > seed spread | worst change | CPU, changed rows "
        "| CPU, short texts |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    fitted = [row for row in rows if row["fits"] is not None]
    for rule in RULES[1:]:
        changed = [r for r in fitted if r["sizes"][rule] != r["sizes"][ROWS_ONLY]]
        changes, ratios, short = [], [], []
        beyond_noise = beyond_spread = 0
        for r in changed:
            rows_only, new = (
                r["fits"][r["sizes"][ROWS_ONLY]],
                r["fits"][r["sizes"][rule]],
            )
            change = new.score - rows_only.score
            changes.append(change)
            beyond_noise += change < -noise
            beyond_spread += change < -max(rows_only.spread, noise)
            ratios.append(new.cpu / rows_only.cpu)
            if r["case"].startswith(SHORT_TEXT_LABELS):
                short.append(ratios[-1])
        lines.append(
            f"| {rule.name} | {len(changed)} of {len(fitted)} | {beyond_noise} "
            f"| {beyond_spread} | {min(changes, default=0.0):+.3f} "
            f"| {_geometric_mean(ratios)} | {_geometric_mean(short)} |"
        )
    return lines


def _geometric_mean(ratios: list[float]) -> str:
    if not ratios:
        return ""
    return (
        f"{math.exp(np.mean(np.log(ratios))):.2f}x "
        f"[{min(ratios):.2f}-{max(ratios):.2f}]"
    )


NOISE = 0.003


def study(quick: bool, seeds=SEEDS, on_row=print, only=None) -> list[dict]:
    """Run every case (those whose name holds ``only``, when given)."""
    for line in header():
        on_row(line)
    rows = []
    for case in cases(quick):
        if only is not None and only not in case.name:
            continue
        for row in run_case(case, seeds):
            rows.append(row)
            on_row(format_row(row))
    return rows


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small cases, one seed")
    parser.add_argument("--only", help="the cases whose name holds this text")
    args = parser.parse_args(argv)
    print(machine_description())
    print(f"load average at start: {load_average()}")
    rows = study(args.quick, SEEDS[:1] if args.quick else SEEDS, only=args.only)
    print(f"load average at end: {load_average()}")
    print("\n".join(summary(rows, NOISE)))


if __name__ == "__main__":
    main()
