"""Classify docstrings by sub-package: AdagradClassifier against SGDClassifier.

The corpus is :func:`sk_adagrad.datasets.load_docstrings`: paragraphs of the
docstrings of the Python standard library, numpy, scipy and scikit-learn,
labelled with the sub-package they come from (``'scipy.sparse'``,
``'sklearn.linear_model'``, ``'email'``, ...), about 46,000 documents in 55
classes, read offline from the installed source files.

Both models run with their default parameters (and a fixed seed) behind the same tf-idf
vectorizer (unigrams and bigrams) on the same stratified split. The script
prints a table of test accuracy, macro-F1 and fit time, then trains both
models again one epoch at a time with ``partial_fit`` on features vectorised
once, and plots test accuracy against cumulative training time.

Usage::

    python examples/text_classification.py [--output-dir DIR]
                                           [--max-docs-per-class N]
                                           [--epochs N]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import SGDClassifier
from sklearn.metrics import accuracy_score, f1_score
from sklearn.model_selection import train_test_split
from sklearn.pipeline import Pipeline

from sk_adagrad import AdagradClassifier
from sk_adagrad.datasets import load_docstrings

PLOT_NAME = "text_classification.png"


def make_models() -> dict[str, object]:
    """Fresh, unfitted classifiers with their default parameters.

    Only the seed of the epoch shuffling is fixed, so that runs repeat.
    """
    return {
        "AdagradClassifier": AdagradClassifier(random_state=0),
        "SGDClassifier": SGDClassifier(random_state=0),
    }


def make_vectorizer() -> TfidfVectorizer:
    return TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, min_df=2)


def compare_pipelines(
    docs_train: list[str],
    y_train: np.ndarray,
    docs_test: list[str],
    y_test: np.ndarray,
) -> list[dict[str, object]]:
    """Fit a tf-idf + classifier pipeline per model; score it on the test set.

    The fit time includes vectorising the training documents, which costs the
    same for both models.
    """
    results = []
    for name, classifier in make_models().items():
        pipeline = Pipeline([("tfidf", make_vectorizer()), ("clf", classifier)])
        start = time.perf_counter()
        pipeline.fit(docs_train, y_train)
        fit_seconds = time.perf_counter() - start
        predicted = pipeline.predict(docs_test)
        results.append(
            {
                "model": name,
                "accuracy": accuracy_score(y_test, predicted),
                "macro_f1": f1_score(y_test, predicted, average="macro"),
                "fit_time_s": fit_seconds,
                "epochs": int(pipeline["clf"].n_iter_),
            }
        )
    return results


def epoch_curves(
    X_train,
    y_train: np.ndarray,
    X_test,
    y_test: np.ndarray,
    n_epochs: int,
) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Cumulative training seconds and test accuracy after each epoch.

    Each ``partial_fit`` call is one pass over the training set; only those
    calls are timed, not the scoring between them.
    """
    classes = np.unique(y_train)
    curves = {}
    for name, classifier in make_models().items():
        seconds, accuracies = [], []
        elapsed = 0.0
        for _ in range(n_epochs):
            start = time.perf_counter()
            classifier.partial_fit(X_train, y_train, classes=classes)
            elapsed += time.perf_counter() - start
            seconds.append(elapsed)
            accuracies.append(classifier.score(X_test, y_test))
        curves[name] = (np.array(seconds), np.array(accuracies))
    return curves


def plot_curves(
    curves: dict[str, tuple[np.ndarray, np.ndarray]], title: str, path: Path
) -> None:
    # A bare Figure on the Agg canvas: no pyplot state, no display needed.
    figure = Figure(figsize=(7, 4.5), layout="constrained")
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    for name, (seconds, accuracies) in curves.items():
        axes.plot(seconds, accuracies, marker="o", label=name)
    axes.set_xlabel("cumulative training time (s), one point per epoch")
    axes.set_ylabel("test accuracy")
    axes.set_title(title)
    axes.grid(alpha=0.3)
    axes.legend(loc="lower right")
    figure.savefig(path, dpi=110)


def format_table(results: list[dict[str, object]]) -> str:
    lines = [
        f"{'model':<20} {'accuracy':>9} {'macro-F1':>9} {'fit time s':>11} "
        f"{'epochs':>7}"
    ]
    for row in results:
        lines.append(
            f"{row['model']:<20} {row['accuracy']:>9.4f} {row['macro_f1']:>9.4f} "
            f"{row['fit_time_s']:>11.2f} {row['epochs']:>7d}"
        )
    return "\n".join(lines)


def parse_arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--output-dir",
        type=Path,
        default=Path("examples/output"),
        help="where to write the plot (default: examples/output)",
    )
    parser.add_argument(
        "--max-docs-per-class",
        type=int,
        default=None,
        help="keep at most this many documents per class (for a quick run)",
    )
    parser.add_argument(
        "--epochs",
        type=int,
        default=10,
        help="epochs of the per-epoch accuracy curves (default: 10)",
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> list[dict[str, object]]:
    """Run the comparison; return the results table as a list of dicts.

    Each row has the keys ``model``, ``accuracy``, ``macro_f1``,
    ``fit_time_s`` and ``epochs``.
    """
    arguments = parse_arguments(argv)
    arguments.output_dir.mkdir(parents=True, exist_ok=True)

    corpus = load_docstrings(max_docs_per_class=arguments.max_docs_per_class)
    docs_train, docs_test, y_train, y_test = train_test_split(
        corpus.data,
        corpus.target,
        test_size=0.25,
        stratify=corpus.target,
        random_state=0,
    )
    print(
        f"{len(corpus.data)} documents, {len(corpus.target_names)} classes; "
        f"train {len(docs_train)}, test {len(docs_test)}"
    )

    results = compare_pipelines(docs_train, y_train, docs_test, y_test)
    print(format_table(results))

    vectorizer = make_vectorizer()
    X_train = vectorizer.fit_transform(docs_train)
    X_test = vectorizer.transform(docs_test)
    print(
        f"tf-idf features (fitted on the training set): {X_train.shape[1]}, "
        f"nonzeros in the training matrix: {X_train.nnz}"
    )
    curves = epoch_curves(X_train, y_train, X_test, y_test, arguments.epochs)
    title = (
        f"Docstring sub-packages: {len(corpus.target_names)} classes, "
        f"{X_train.shape[0]} x {X_train.shape[1]} tf-idf"
    )
    plot_path = arguments.output_dir / PLOT_NAME
    plot_curves(curves, title, plot_path)
    for name, (seconds, accuracies) in curves.items():
        print(
            f"{name}: {len(seconds)} epochs in {seconds[-1]:.2f} s, "
            f"final test accuracy {accuracies[-1]:.4f}"
        )
    print(f"plot written to {plot_path}")
    return results


if __name__ == "__main__":
    main()
