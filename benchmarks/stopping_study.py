"""Could a fit stop sooner? Stopping rules replayed on recorded training curves.

On text the test accuracy stops improving after about 4 to 8 epochs while the
training objective, which the stopping rule watches, keeps falling. Every case
of the size study (``benchmarks/size_study.py``, its 100,000-row sets left
out) is fitted once for a fixed number of epochs with the default
hyperparameters, recording after each epoch what the stopping rule sees (the
running training loss of the epoch) and the test score. Each candidate rule is
then replayed on those curves: the epoch at which it would have stopped, and
the test score there against the score where the current rule stops. A rule
is worth adopting only if it saves epochs with no case losing accuracy.

``--write-docs`` replaces the section "Stopping sooner" of docs/defaults.md.

    python -m benchmarks.stopping_study [--quick] [--write-docs]
"""

import argparse
import dataclasses
import math
import warnings
from dataclasses import dataclass

from benchmarks import DOCS_DIR, size_study
from benchmarks.pages import replace_section
from sk_adagrad import AdagradClassifier, AdagradRegressor
from sk_adagrad._stopping import NoImprovement

DOCS = DOCS_DIR / "defaults.md"
TEXT_EPOCHS = 40
OTHER_EPOCHS = 100
# A replayed score this far below the current rule's counts as a loss (about
# one test row in 400 on the smallest text sets).
LOSS_MARGIN = 0.0025


class _Recording:
    """Mixin: after each epoch, record the running loss the stopping rule sees
    and the score on a test set."""

    def _epoch_settings(self, X, rows):
        return dataclasses.replace(
            super()._epoch_settings(X, rows), after_epoch=self._record
        )

    def _record(self, engine, loss):
        fitted = self.__dict__.get("optimizer_")
        self.optimizer_ = engine  # score the model as it stands
        try:
            self.curve.append((loss, self.score(*self.test)))
        finally:
            if fitted is None:
                del self.optimizer_
            else:
                self.optimizer_ = fitted


class RecordingClassifier(_Recording, AdagradClassifier):
    pass


class RecordingRegressor(_Recording, AdagradRegressor):
    pass


def record(case, loss):
    """``[(running loss, test score)]`` per epoch of a default fit on ``case``."""
    X_train, X_test, y_train, y_test = case.load()
    epochs = TEXT_EPOCHS if case.kind == "text" else OTHER_EPOCHS
    if case.is_classification:
        model = RecordingClassifier(loss=loss)
    else:
        model = RecordingRegressor()
    model.set_params(random_state=0, max_iter=epochs, tol=None)
    model.curve, model.test = [], (X_test, y_test)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.fit(X_train, y_train)
    return model.curve


class RelativeTolerance(NoImprovement):
    """The current rule with ``tol`` raised to ``share`` of the best loss."""

    def __init__(self, tol, n_iter_no_change, share):
        super().__init__(tol, n_iter_no_change, settled_only=True)
        self.floor, self.share = tol, share

    def should_stop(self, criterion):
        if self.best < math.inf:
            self.tol = max(self.floor, self.share * abs(self.best))
        return super().should_stop(criterion)


class FirstEpochTolerance(NoImprovement):
    """The current rule with ``tol`` raised to ``share`` of the first epoch's
    loss."""

    def __init__(self, tol, n_iter_no_change, share):
        super().__init__(tol, n_iter_no_change, settled_only=True)
        self.share = share

    def should_stop(self, criterion):
        if self.best == math.inf:
            self.tol = max(self.tol, self.share * abs(criterion))
        return super().should_stop(criterion)


RULES = {
    "current (tol 1e-3, 5 epochs)": lambda: NoImprovement(1e-3, 5, True),
    "3 epochs": lambda: NoImprovement(1e-3, 3, True),
    "2 epochs": lambda: NoImprovement(1e-3, 2, True),
    "tol 0.3% of the best, 5 epochs": lambda: RelativeTolerance(1e-3, 5, 3e-3),
    "tol 1% of the best, 5 epochs": lambda: RelativeTolerance(1e-3, 5, 1e-2),
    "tol 1% of the best, 3 epochs": lambda: RelativeTolerance(1e-3, 3, 1e-2),
    "tol 0.3% of the first epoch, 5 epochs": lambda: FirstEpochTolerance(1e-3, 5, 3e-3),
    "tol 1% of the first epoch, 3 epochs": lambda: FirstEpochTolerance(1e-3, 3, 1e-2),
}


def stopping_epoch(losses, rule) -> int:
    for epoch, loss in enumerate(losses, start=1):
        if rule.should_stop(loss):
            return epoch
    return len(losses)


@dataclass
class Replay:
    epochs: int
    change: float  # test score at the stop minus the current rule's


def replay(curve) -> dict[str, Replay]:
    losses = [loss for loss, _ in curve]
    scores = [score for _, score in curve]
    results = {}
    for name, make in RULES.items():
        epoch = stopping_epoch(losses, make())
        results[name] = Replay(epoch, scores[epoch - 1])
    current = results[next(iter(RULES))].change
    for result in results.values():
        result.change -= current
    return results


def study(quick=False, on_case=print):
    """Per case and loss, the replays of every rule."""
    rows = []
    for case in size_study.cases(quick):
        if "100,000" in case.name:
            continue
        for loss in size_study._losses(case):
            row = (case, loss, replay(record(case, loss)))
            rows.append(row)
            on_case(_case_line(row))
    return rows


def _case_line(row):
    case, loss, results = row
    cells = " | ".join(
        f"{result.epochs} ({result.change:+.3f})" for result in results.values()
    )
    return f"| {case.name} | {loss} | {cells} |"


def summary_table(rows) -> list[str]:
    """One line per rule: epochs over all cases (text cases apart), and the
    cases that lose accuracy against the current rule."""
    lines = [
        "| rule | epochs, all cases | epochs, text | cases losing > "
        f"{LOSS_MARGIN} | worst change |",
        "| --- | --- | --- | --- | --- |",
    ]
    for name in RULES:
        replays = [(case, results[name]) for case, _, results in rows]
        total = sum(r.epochs for _, r in replays)
        text = sum(r.epochs for case, r in replays if case.kind == "text")
        losing = [r for _, r in replays if r.change < -LOSS_MARGIN]
        worst = min(r.change for _, r in replays)
        lines.append(
            f"| {name} | {total} | {text} | {len(losing)} of {len(replays)} | "
            f"{worst:+.3f} |"
        )
    return lines


def _write_docs(rows):
    header = "| case | loss | " + " | ".join(RULES) + " |"
    rule = "| --- | --- | " + " | ".join("---" for _ in RULES) + " |"
    section = "\n".join(
        [
            "## Stopping sooner",
            "",
            "Written by `python -m benchmarks.stopping_study --write-docs`: "
            "each case fitted once with the defaults for "
            f"{TEXT_EPOCHS} epochs (text) or {OTHER_EPOCHS} (the others), "
            "recording after each epoch the running training loss (what the "
            "stopping rule watches) and the test score; each rule is replayed "
            "on the curves. Epochs at the stop, summed; a case loses when its "
            "test score at the stop is more than "
            f"{LOSS_MARGIN} below the current rule's.",
            "",
            *summary_table(rows),
            "",
            "Per case, the epoch at which each rule stops and the change of "
            "the test score against the current rule:",
            "",
            header,
            rule,
            *(_case_line(row) for row in rows),
        ]
    )
    replace_section(DOCS, "## Stopping sooner", section)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small cases only")
    parser.add_argument("--write-docs", action="store_true")
    args = parser.parse_args(argv)
    rows = study(args.quick)
    print("\n".join(summary_table(rows)))
    if args.write_docs:
        _write_docs(rows)


if __name__ == "__main__":
    main()
