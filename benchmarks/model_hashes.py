"""Fingerprints of the models the benchmark suite trains, for checking a change
that must not change any trained model.

Trains every estimator and loss the suite times, on the suite's data sets, by
``fit``, ``partial_fit``, merged partial models and the cross-validated search,
and prints one line per model: its name and a SHA-256 of everything it learned
(coefficients, intercepts, accumulators, step count, epochs, decision values
and probabilities). Run it before and after a change and compare the two outputs::

    python -m benchmarks.model_hashes > before.txt
    ...
    python -m benchmarks.model_hashes > after.txt
    diff before.txt after.txt

``--size tiny`` trains on the test suite's small data sets (under a minute);
the default, ``small``, takes a few minutes. A change of step path or policy
changes some hashes: the paths agree only up to rounding.
"""

import argparse
import copy
import hashlib
import warnings

import numpy as np
from sklearn.base import clone, is_classifier

from benchmarks.datasets import get_dataset
from sk_adagrad import (
    AdagradClassifier,
    AdagradClassifierCV,
    AdagradRegressor,
    AdagradRegressorCV,
)
from sk_adagrad._merge import merge_partial_models

CHUNK_ROWS = 4096
SEEDED = dict(random_state=0)

# Name: (data set, estimator, how it is trained).
MODELS = {
    "hinge (a)": ("binary", AdagradClassifier(**SEEDED), "fit"),
    "hinge (a) float32": ("binary32", AdagradClassifier(**SEEDED), "fit"),
    "log_loss (a)": ("binary", AdagradClassifier(loss="log_loss", **SEEDED), "fit"),
    "hinge (b)": ("multiclass", AdagradClassifier(**SEEDED), "fit"),
    "hinge (b) one thread": (
        "multiclass",
        AdagradClassifier(n_threads=1, **SEEDED),
        "fit",
    ),
    "log_loss (b)": (
        "multiclass",
        AdagradClassifier(loss="log_loss", **SEEDED),
        "fit",
    ),
    "hinge (c)": ("text", AdagradClassifier(**SEEDED), "fit"),
    "log_loss (c)": ("text", AdagradClassifier(loss="log_loss", **SEEDED), "fit"),
    "modified_huber (c) averaged, elastic net": (
        "text",
        AdagradClassifier(
            loss="modified_huber",
            penalty="elasticnet",
            l1_ratio=0.3,
            average=True,
            **SEEDED,
        ),
        "fit",
    ),
    "log_loss (b) early stopping, balanced": (
        "multiclass",
        AdagradClassifier(
            loss="log_loss", early_stopping=True, class_weight="balanced", **SEEDED
        ),
        "fit",
    ),
    "hinge (c) one pass": ("text", AdagradClassifier(**SEEDED), "partial_fit"),
    "log_loss (c) one pass, l1": (
        "text",
        AdagradClassifier(loss="log_loss", penalty="l1", alpha=1e-5, **SEEDED),
        "partial_fit",
    ),
    "squared_error (d)": ("regression", AdagradRegressor(**SEEDED), "fit"),
    "huber (d) averaged": (
        "regression",
        AdagradRegressor(loss="huber", average=True, **SEEDED),
        "fit",
    ),
    "epsilon_insensitive (d) one pass": (
        "regression",
        AdagradRegressor(loss="epsilon_insensitive", **SEEDED),
        "partial_fit",
    ),
    "hinge (e) dense": ("dense", AdagradClassifier(**SEEDED), "fit"),
    "log_loss (e) dense, l1": (
        "dense",
        AdagradClassifier(loss="log_loss", penalty="l1", **SEEDED),
        "fit",
    ),
    "squared_error (e) dense": (
        "dense_regression",
        AdagradRegressor(**SEEDED),
        "fit",
    ),
    "hinge (c) partial models, weighted average": (
        "text",
        AdagradClassifier(**SEEDED),
        "merge weighted_average",
    ),
    "log_loss (c) partial models, line search": (
        "text",
        AdagradClassifier(loss="log_loss", penalty="elasticnet", **SEEDED),
        "merge line_search",
    ),
    "squared_error (d) partial models, rescaled sum": (
        "regression",
        AdagradRegressor(**SEEDED),
        "merge rescaled_sum",
    ),
    "search (c)": (
        "text",
        AdagradClassifierCV(lr=[0.1, 1.0], eps=[1e-10, 1e-2], cv=3, **SEEDED),
        "fit",
    ),
    "search (c) log_loss": (
        "text",
        AdagradClassifierCV(loss="log_loss", lr=[0.3, 1.0], cv=3, **SEEDED),
        "fit",
    ),
    "search (d)": (
        "regression",
        AdagradRegressorCV(lr=[0.1, 1.0], alpha=[1e-5, 1e-3], cv=3, **SEEDED),
        "fit",
    ),
}


def train(estimator, X, y, how: str):
    """Train a fresh copy of ``estimator`` on ``X, y``: by ``fit``, by one
    ``partial_fit`` pass in chunks, or (``"merge <rule>"``) as two partial
    models on the second and last thirds of the rows, from a model streamed
    over the first third, merged by ``rule``."""
    model = clone(estimator)
    if how == "fit":
        return model.fit(X, y)
    classes = {"classes": np.unique(y)} if is_classifier(model) else {}
    if how == "partial_fit":
        return stream(model, X, y, classes)
    first, *halves = np.array_split(np.arange(X.shape[0]), 3)
    start = stream(model, X[first], y[first], classes)
    partials = [
        stream(copy.deepcopy(start), X[rows], y[rows], classes) for rows in halves
    ]
    rule = how.removeprefix("merge ")
    return merge_partial_models(start, partials, rule, X[first], y[first])


def stream(model, X, y, classes):
    """``model`` after one ``partial_fit`` call per chunk of ``X, y``, with the
    keyword arguments ``classes``."""
    for start in range(0, X.shape[0], CHUNK_ROWS):
        chunk = slice(start, start + CHUNK_ROWS)
        model.partial_fit(X[chunk], y[chunk], **classes)
    return model


def fingerprint(model, X) -> str:
    """SHA-256 of what a trained model learned and what it predicts on ``X``."""
    fitted = getattr(model, "best_estimator_", model)
    parts = [
        fitted.coef_,
        fitted.intercept_,
        fitted.coef_accumulator_,
        fitted.intercept_accumulator_,
        np.asarray(fitted.t_),
        np.asarray(fitted.n_iter_),
        model.predict(X[:500]),
    ]
    if hasattr(model, "decision_function"):
        parts.append(model.decision_function(X[:500]))
    if getattr(fitted, "loss", None) in ("log_loss", "modified_huber"):
        parts.append(model.predict_proba(X[:500]))
    if hasattr(model, "cv_results_"):
        parts.extend(
            np.asarray(model.cv_results_[key])
            for key in sorted(model.cv_results_)
            if key.startswith(("mean_test", "std_test", "rank", "split"))
        )
    digest = hashlib.sha256()
    for part in parts:
        array = np.ascontiguousarray(part)
        digest.update(str((array.dtype, array.shape)).encode())
        raw = repr(array).encode() if array.dtype == object else array.tobytes()
        digest.update(raw)
    return digest.hexdigest()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", default="small", choices=["tiny", "small", "full"])
    args = parser.parse_args(argv)
    data = {}
    for name, (dataset, estimator, how) in MODELS.items():
        if dataset not in data:
            data[dataset] = get_dataset(dataset, args.size)
        X, y = data[dataset]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model = train(estimator, X, y, how)
        print(f"{fingerprint(model, X)}  {name}", flush=True)


if __name__ == "__main__":
    main()
