"""The defaults across data sizes and kinds: the study behind the ``'auto'``
rules (docs/defaults.md, first table).

Each case is a training set and a test set; each row fits, on the same data
in the same run, the default ``AdagradClassifier``/``AdagradRegressor``, the
default ``SGDClassifier``/``SGDRegressor``, the dummy model (the floor),
``LogisticRegression``/``Ridge`` with their defaults (a converged reference),
and on the text sets Vowpal Wabbit, one pass and five (when installed). Text
subsamples are vectorised on their own training part, as a user would.
"""

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np
from sklearn import datasets as sk_datasets
from sklearn.base import clone
from sklearn.dummy import DummyClassifier, DummyRegressor
from sklearn.linear_model import (
    LogisticRegression,
    Ridge,
    SGDClassifier,
    SGDRegressor,
)
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

from benchmarks import datasets, vowpal
from benchmarks.corpus import text_vectorizer
from benchmarks.harness import fit_quietly, timed
from sk_adagrad import AdagradClassifier, AdagradRegressor
from sk_adagrad.datasets import load_docstrings

TEXT_SIZES = (1_000, 3_000, 10_000, 30_000, None)
SYNTHETIC_SIZES = (1_000, 10_000, 100_000)
VW_PASSES = (1, 5)
# The one-pass stream of ours is read in chunks of this many rows (four of its
# 1024-row steps), scored after each.
STREAM_CHUNK = 4096


@dataclass
class Case:
    """A data set: its name, kind, size label and ``(X_train, X_test, y_train,
    y_test)`` made on demand."""

    name: str
    kind: str
    load: Callable[[], tuple]

    @property
    def is_classification(self) -> bool:
        return self.kind != "regression"


def _vectorised(texts, labels, train, test):
    vectorizer = text_vectorizer()
    X_train = vectorizer.fit_transform(texts[train])
    return X_train, vectorizer.transform(texts[test]), labels[train], labels[test]


def _text_cases(label, corpus, sizes) -> Iterator[Case]:
    texts, labels = np.array(corpus.data, dtype=object), np.asarray(corpus.target)
    train, test = train_test_split(
        np.arange(len(labels)), test_size=0.25, stratify=labels, random_state=0
    )
    for size in sizes:
        subset = train
        if size is not None and size < len(train):
            subset = np.sort(
                np.random.default_rng(0).choice(train, size, replace=False)
            )
        n = len(subset)
        yield Case(
            f"{label} {n:,}",
            "text",
            lambda subset=subset: _vectorised(texts, labels, subset, test),
        )


def _subsampled(X, y, sizes, label, kind) -> Iterator[Case]:
    train, test = train_test_split(
        np.arange(len(y)),
        test_size=0.2,
        random_state=0,
        stratify=y if kind != "regression" else None,
    )
    for size in sizes:
        subset = train[:size]
        yield Case(
            f"{label} {len(subset):,}",
            kind,
            lambda subset=subset: (X[subset], X[test], y[subset], y[test]),
        )


def _dense_case(name, X, y, scaled, kind) -> Case:
    def load():
        X_train, X_test, y_train, y_test = train_test_split(
            X,
            y,
            test_size=0.25,
            random_state=0,
            stratify=y if kind != "regression" else None,
        )
        if scaled:
            scaler = StandardScaler().fit(X_train)
            X_train, X_test = scaler.transform(X_train), scaler.transform(X_test)
        return X_train, X_test, y_train, y_test

    return Case(f"{name} ({'standardised' if scaled else 'raw'})", kind, load)


def cases(quick: bool = False) -> Iterator[Case]:
    """Every case of the study; ``quick`` keeps the small ones."""
    text_sizes = TEXT_SIZES[:2] if quick else TEXT_SIZES
    synthetic_sizes = SYNTHETIC_SIZES[:1] if quick else SYNTHETIC_SIZES
    yield from _text_cases("docstring paragraphs", load_docstrings(), text_sizes)
    yield from _text_cases(
        "whole docstrings",
        load_docstrings(unit="docstring", min_docs_per_class=100),
        text_sizes[:2] + (None,),
    )
    n_synthetic = max(synthetic_sizes) * 5 // 4
    for n_classes, label in ((2, "(a) binary"), (20, "(b) 20 classes")):
        X, y = datasets.make_rcv1_like(
            n_samples=n_synthetic, n_classes=n_classes, random_state=0
        )
        yield from _subsampled(X, y, synthetic_sizes, label, "text")
    bundled = {
        "breast_cancer": sk_datasets.load_breast_cancer,
        "digits": sk_datasets.load_digits,
        "wine": sk_datasets.load_wine,
        "iris": sk_datasets.load_iris,
        "diabetes": sk_datasets.load_diabetes,
    }
    for name, load in bundled.items():
        X, y = load(return_X_y=True)
        kind = "regression" if name == "diabetes" else "dense"
        for scaled in (False, True):
            yield _dense_case(name, X, y, scaled, kind)
    X, y = sk_datasets.make_classification(
        n_samples=5000, n_features=20, n_informative=10, random_state=0
    )
    yield _dense_case("make_classification 5,000", X, y, False, "dense")
    X, y = sk_datasets.make_regression(
        n_samples=2000, n_features=20, n_informative=10, noise=10.0, random_state=0
    )
    yield _dense_case(
        f"make_regression 2,000, target std {y.std():.0f}", X, y, False, "regression"
    )
    yield _dense_case(
        "make_regression 2,000, target std 1", X, y / y.std(), False, "regression"
    )
    X, y = datasets.make_sparse_regression(n_samples=12_500, random_state=0)
    for scale in (1, 100):
        yield from _subsampled(
            X,
            scale * y,
            (10_000,),
            f"sparse regression, target std {scale},",
            "regression",
        )


@dataclass
class Result:
    score: float
    seconds: float
    epochs: int | None = None
    # One pass of ours: the training time at which its test score first
    # reached Vowpal Wabbit's one-pass score (None if it did not).
    reached_vw: float | None = None


def _timed_fits(model, data, repeats) -> Result:
    """Fit ``repeats`` times; the score of the last fit and the median time."""
    X_train, X_test, y_train, y_test = data
    run = timed(
        lambda: fit_quietly(clone(model), X_train, y_train),
        repeats,
        keep=lambda fitted: (
            fitted.score(X_test, y_test),
            getattr(fitted, "n_iter_", None),
        ),
    )
    score, epochs = run.result
    return Result(score, run.median, epochs)


def _one_pass(model, data) -> tuple[Result, list[tuple[float, float]]]:
    """One ``partial_fit`` pass over the training set, shuffled once, as a
    stream read once in chunks of ``STREAM_CHUNK`` rows; the result after the
    pass, and the training time and test score after each chunk (scoring not
    timed). The shuffle keeps subsamples, which are in corpus order, from
    streaming one class after another."""
    X_train, X_test, y_train, y_test = data
    order = np.random.default_rng(0).permutation(X_train.shape[0])
    X_train, y_train = X_train[order], y_train[order]
    fitted, classes = clone(model), np.unique(y_train)
    seconds, curve = 0.0, []
    for start in range(0, X_train.shape[0], STREAM_CHUNK):
        chunk = slice(start, start + STREAM_CHUNK)
        begin = time.perf_counter()
        fitted.partial_fit(X_train[chunk], y_train[chunk], classes=classes)
        seconds += time.perf_counter() - begin
        curve.append((seconds, fitted.score(X_test, y_test)))
    return Result(curve[-1][1], seconds), curve


def _losses(case: Case) -> tuple[str, ...]:
    return ("hinge", "log_loss") if case.is_classification else ("squared_error",)


def run_case(case: Case, repeats: int) -> list[dict]:
    """One row per loss: scores and seconds of every model on ``case``."""
    data = case.load()
    rows = []
    for loss in _losses(case):
        if case.is_classification:
            ours, sgd = AdagradClassifier(loss=loss), SGDClassifier(loss=loss)
            floor, reference = DummyClassifier(), LogisticRegression(max_iter=1000)
        else:
            ours, sgd = AdagradRegressor(), SGDRegressor()
            floor, reference = DummyRegressor(), Ridge()
        row = {
            "case": case.name,
            "kind": case.kind,
            "rows": data[0].shape[0],
            "loss": loss,
            "ours": _timed_fits(ours.set_params(random_state=0), data, repeats),
            "sgd": _timed_fits(sgd.set_params(random_state=0), data, repeats),
            "dummy": _timed_fits(floor, data, 1),
        }
        if loss != "log_loss":  # one converged reference per data set
            row["reference"] = _timed_fits(reference, data, 1)
        if case.kind == "text" and loss == "hinge":
            row["ours1"], curve = _one_pass(ours, data)
            if vowpal.available():
                X_train, X_test, y_train, y_test = data
                for passes in VW_PASSES:
                    score, seconds = vowpal.fit_and_score(
                        X_train, y_train, X_test, y_test, passes=passes
                    )
                    row[f"vw{passes}"] = Result(score, seconds)
                row["ours1"].reached_vw = next(
                    (t for t, score in curve if score >= row["vw1"].score), None
                )
        rows.append(row)
    return rows


def verdict(row: dict) -> str:
    """Whether ours met the bar: score at least SGD's, and fit time at most
    SGD's (a fit under a second is judged like any other)."""
    ours, sgd = row["ours"], row["sgd"]
    accurate = ours.score >= sgd.score
    fast = ours.seconds <= sgd.seconds
    missed = ("score" if not accurate else "", "time" if not fast else "")
    return " ".join(word for word in missed if word) or "met"


def _cell(result: Result | None, with_epochs: bool = False) -> str:
    if result is None:
        return ""
    epochs = f", {result.epochs} ep" if with_epochs and result.epochs else ""
    reached = (
        f"; VW's at {result.reached_vw:.2f} s" if result.reached_vw is not None else ""
    )
    return f"{result.score:.3f} ({result.seconds:.2f} s{epochs}{reached})"


HEADER = (
    "| data set | rows | loss | ours | SGD | dummy | reference | ours, 1 pass "
    "| VW 1 pass | VW 5 passes | not met |\n"
    "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"
)


def format_row(row: dict) -> str:
    cells = [
        row["case"],
        f"{row['rows']:,}",
        row["loss"],
        _cell(row["ours"], with_epochs=True),
        _cell(row["sgd"], with_epochs=True),
        f"{row['dummy'].score:.3f}",
        _cell(row.get("reference")),
        _cell(row.get("ours1")),
        _cell(row.get("vw1")),
        _cell(row.get("vw5")),
        "" if verdict(row) == "met" else verdict(row),
    ]
    return "| " + " | ".join(cells) + " |"


def study(repeats: int = 3, quick: bool = False, on_row=print) -> list[str]:
    """Markdown lines of the study's table, printed as they come."""
    lines = HEADER.splitlines()
    for line in lines:
        on_row(line)
    for case in cases(quick):
        for row in run_case(case, repeats):
            lines.append(format_row(row))
            on_row(lines[-1])
    return lines
