"""Could a fit stop sooner? Stopping rules replayed on recorded training curves.

On text the test accuracy stops improving after about 4 to 8 epochs while the
training objective, which the stopping rule watches, keeps falling. Every case
of the size study (``benchmarks/size_study.py``, its 100,000-row sets left
out) is fitted once for a fixed number of epochs with the default
hyperparameters, recording after each epoch what a rule may watch (the
running training loss of the epoch, which the current rule watches, and the
score on the training rows) and the test score; and once more on 90% of its
training rows, recording the score on the other 10% (what
``early_stopping=True`` watches, as scikit-learn's ``early_stopping='auto'``
would above 10,000 rows) and the test score. Each candidate rule is then
replayed on those curves: the epoch at which it would have stopped, and the
test score there against the score where the current rule stops. A rule is
worth adopting only if it saves epochs with no case losing accuracy.

``--write-docs`` replaces the section "Stopping sooner" of docs/defaults.md.

    python -m benchmarks.stopping_study [--quick] [--write-docs]
"""

import argparse
import dataclasses
import math
import warnings
from dataclasses import dataclass

from sklearn.model_selection import train_test_split

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


HELD_OUT = 0.1  # the validation_fraction of scikit-learn's SGD and ours


@dataclass
class Epoch:
    """What a rule may watch after an epoch, and the test score there."""

    running_loss: float
    training_score: float
    test_score: float


class _Recording:
    """Mixin: after each epoch, record an :class:`Epoch` (the running loss the
    stopping rule sees, the score on ``self.watched`` and on ``self.test``)."""

    def _epoch_settings(self):
        return dataclasses.replace(super()._epoch_settings(), after_epoch=self._record)

    def _record(self, engine, loss):
        fitted = self.__dict__.get("optimizer_")
        self.optimizer_ = engine  # score the model as it stands
        try:
            self.curve.append(
                Epoch(loss, self.score(*self.watched), self.score(*self.test))
            )
        finally:
            if fitted is None:
                del self.optimizer_
            else:
                self.optimizer_ = fitted


class RecordingClassifier(_Recording, AdagradClassifier):
    pass


class RecordingRegressor(_Recording, AdagradRegressor):
    pass


def record(case, loss, held_out=False):
    """The :class:`Epoch` of each epoch of a default fit on ``case``: its
    ``training_score`` is the score on the training rows, or with
    ``held_out`` the score on the ``HELD_OUT`` share of them that the fit
    then leaves out (a stratified draw, as ``early_stopping=True`` makes)."""
    X_train, X_test, y_train, y_test = case.load()
    epochs = TEXT_EPOCHS if case.kind == "text" else OTHER_EPOCHS
    if case.is_classification:
        model = RecordingClassifier(loss=loss)
    else:
        model = RecordingRegressor()
    model.set_params(random_state=0, max_iter=epochs, tol=None)
    watched = X_train, y_train
    if held_out:
        X_train, X_valid, y_train, y_valid = train_test_split(
            X_train,
            y_train,
            test_size=HELD_OUT,
            random_state=0,
            stratify=y_train if case.is_classification else None,
        )
        watched = X_valid, y_valid
    model.curve, model.watched, model.test = [], watched, (X_test, y_test)
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


@dataclass(frozen=True)
class Rule:
    """A stopping rule: what it watches (``"running loss"``, ``"training
    score"``, or ``"held-out score"`` of a fit on the other rows) and the
    :class:`NoImprovement` that decides, made afresh for each replay."""

    watches: str
    make: object

    def criterion(self, epoch: Epoch) -> float:
        if self.watches == "running loss":
            return epoch.running_loss
        return -epoch.training_score


def _loss_rule(make):
    return Rule("running loss", make)


def _score_rule(watches, n_iter_no_change):
    return Rule(watches, lambda: NoImprovement(1e-3, n_iter_no_change, False))


RULES = {
    "current (tol 1e-3, 5 epochs)": _loss_rule(lambda: NoImprovement(1e-3, 5, True)),
    "3 epochs": _loss_rule(lambda: NoImprovement(1e-3, 3, True)),
    "2 epochs": _loss_rule(lambda: NoImprovement(1e-3, 2, True)),
    "tol 0.3% of the best, 5 epochs": _loss_rule(
        lambda: RelativeTolerance(1e-3, 5, 3e-3)
    ),
    "tol 1% of the best, 5 epochs": _loss_rule(
        lambda: RelativeTolerance(1e-3, 5, 1e-2)
    ),
    "tol 1% of the best, 3 epochs": _loss_rule(
        lambda: RelativeTolerance(1e-3, 3, 1e-2)
    ),
    "tol 0.3% of the first epoch, 5 epochs": _loss_rule(
        lambda: FirstEpochTolerance(1e-3, 5, 3e-3)
    ),
    "tol 1% of the first epoch, 3 epochs": _loss_rule(
        lambda: FirstEpochTolerance(1e-3, 3, 1e-2)
    ),
    "training score, 5 epochs": _score_rule("training score", 5),
    "training score, 3 epochs": _score_rule("training score", 3),
    "held-out 10%, 5 epochs": _score_rule("held-out score", 5),
    "held-out 10%, 3 epochs": _score_rule("held-out score", 3),
    "held-out 10%, 2 epochs": _score_rule("held-out score", 2),
}


def stopping_epoch(curve, rule) -> int:
    decides = rule.make()
    for number, epoch in enumerate(curve, start=1):
        if decides.should_stop(rule.criterion(epoch)):
            return number
    return len(curve)


@dataclass
class Replay:
    epochs: int
    change: float  # test score at the stop minus the current rule's


def replay(curves) -> dict[str, Replay]:
    """Each rule replayed on ``curves``, the recorded curve by what it watches
    (``"held-out score"``: the fit on the other rows; else the whole fit)."""
    results = {}
    for name, rule in RULES.items():
        curve = curves[rule.watches == "held-out score"]
        epoch = stopping_epoch(curve, rule)
        results[name] = Replay(epoch, curve[epoch - 1].test_score)
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
            curves = (record(case, loss), record(case, loss, held_out=True))
            row = (case, loss, replay(curves))
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
            "stopping rule watches), the score on the training rows and the "
            "test score, and once more on 90% of the training rows, recording "
            "the score on the other 10% (what `early_stopping=True` watches) "
            "and the test score; each rule is replayed on the curves of what "
            "it watches. Epochs at the stop, summed; a case loses when its "
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
