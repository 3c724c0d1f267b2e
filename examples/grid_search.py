"""Tune Adagrad's learning rate and epsilon with GridSearchCV on real text.

A :class:`~sklearn.pipeline.Pipeline` of ``TfidfVectorizer`` and
``AdagradClassifier`` is cross-validated over a grid of ``lr`` (Adagrad's base
step) and ``eps`` (added to the square root of each accumulator). The corpus is
:func:`sk_adagrad.datasets.load_docstrings`: docstring paragraphs of the Python
standard library, numpy, scipy and scikit-learn labelled by sub-package, read
offline from the installed sources.

Every candidate trains for the same fixed number of epochs (``tol=None``), so
the grid compares step sizes at equal cost. The vectorizer of each fold is fit
once and cached (the pipeline's ``memory``), not once per candidate. The
script prints the best parameters, their cross-validated accuracy and the
accuracy of the refitted pipeline on a held-out test split, and draws a
heat map of the mean cross-validated accuracy.

Usage::

    python examples/grid_search.py [--small] [--output-dir DIR] [--n-jobs N]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.model_selection import GridSearchCV, StratifiedKFold, train_test_split
from sklearn.pipeline import Pipeline

from sk_adagrad import AdagradClassifier
from sk_adagrad.datasets import load_docstrings

PLOT_NAME = "grid_search.png"

# Full run: about 16,000 documents in 55 classes, 6 x 4 candidates, 3 folds.
FULL = dict(
    max_docs_per_class=300,
    lr=[0.01, 0.03, 0.1, 0.3, 1.0, 3.0],
    eps=[1e-10, 1e-3, 1e-2, 1e-1],
    epochs=10,
)
# --small: a quick run for tests and a first look.
SMALL = dict(
    max_docs_per_class=60,
    lr=[0.03, 0.3, 3.0],
    eps=[1e-10, 1e-2, 1e-1],
    epochs=5,
)


def make_search(
    lr_values: list[float],
    eps_values: list[float],
    epochs: int,
    cache_dir: str | None,
    n_jobs: int | None,
) -> GridSearchCV:
    """A cross-validated grid search over ``clf__lr`` and ``clf__eps``."""
    pipeline = Pipeline(
        [
            ("tfidf", TfidfVectorizer(sublinear_tf=True, min_df=2)),
            ("clf", AdagradClassifier(max_iter=epochs, tol=None, random_state=0)),
        ],
        memory=cache_dir,
    )
    return GridSearchCV(
        pipeline,
        {"clf__lr": lr_values, "clf__eps": eps_values},
        cv=StratifiedKFold(n_splits=3, shuffle=True, random_state=0),
        scoring="accuracy",
        n_jobs=n_jobs,
    )


def score_table(
    search: GridSearchCV, lr_values: list[float], eps_values: list[float]
) -> np.ndarray:
    """Mean cross-validated accuracy, one row per ``eps`` and column per ``lr``."""
    table = np.empty((len(eps_values), len(lr_values)))
    results = search.cv_results_
    for params, score in zip(
        results["params"], results["mean_test_score"], strict=True
    ):
        row = eps_values.index(params["clf__eps"])
        column = lr_values.index(params["clf__lr"])
        table[row, column] = score
    return table


def plot_heat_map(
    table: np.ndarray,
    lr_values: list[float],
    eps_values: list[float],
    title: str,
    path: Path,
) -> None:
    # A bare Figure on the Agg canvas: no pyplot state, no display needed.
    figure = Figure(figsize=(7.5, 4.8), layout="constrained")
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    image = axes.imshow(table, cmap="viridis", aspect="auto", origin="lower")
    figure.colorbar(image, ax=axes, label="mean CV accuracy")
    best_row, best_column = np.unravel_index(np.argmax(table), table.shape)
    middle = (table.min() + table.max()) / 2
    for row in range(table.shape[0]):
        for column in range(table.shape[1]):
            best = (row, column) == (best_row, best_column)
            axes.text(
                column,
                row,
                f"{table[row, column]:.3f}",
                ha="center",
                va="center",
                fontweight="bold" if best else "normal",
                color="black" if table[row, column] > middle else "white",
            )
    # Outline the best cell.
    axes.add_patch(
        Rectangle(
            (best_column - 0.5, best_row - 0.5),
            1,
            1,
            fill=False,
            edgecolor="red",
            linewidth=2.5,
        )
    )
    axes.set_xticks(range(len(lr_values)), [f"{value:g}" for value in lr_values])
    axes.set_yticks(range(len(eps_values)), [f"{value:g}" for value in eps_values])
    axes.set_xlabel("lr")
    axes.set_ylabel("eps")
    axes.set_title(title)
    figure.savefig(path, dpi=110)


def parse_arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--small",
        action="store_true",
        help="a quick run: 60 documents per class and a 3 x 3 grid",
    )
    parser.add_argument(
        "--output-dir",
        type=Path,
        default=Path("examples/output"),
        help="where to write the plot (default: examples/output)",
    )
    parser.add_argument(
        "--n-jobs",
        type=int,
        default=None,
        help="parallel fits of the grid search (default: one at a time)",
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> dict[str, object]:
    """Run the grid search; return its results.

    The result has the keys ``lr`` and ``eps`` (the grid), ``cv_scores``
    (mean CV accuracy, shape ``(len(eps), len(lr))``), ``best_params``,
    ``best_cv_score``, ``test_accuracy``, ``n_classes``, ``search_seconds``
    and ``plot_path``.
    """
    arguments = parse_arguments(argv)
    settings = SMALL if arguments.small else FULL
    arguments.output_dir.mkdir(parents=True, exist_ok=True)

    corpus = load_docstrings(max_docs_per_class=settings["max_docs_per_class"])
    docs_train, docs_test, y_train, y_test = train_test_split(
        corpus.data,
        corpus.target,
        test_size=0.25,
        stratify=corpus.target,
        random_state=0,
    )
    n_classes = len(corpus.target_names)
    print(
        f"{len(corpus.data)} documents, {n_classes} classes; "
        f"train {len(docs_train)}, test {len(docs_test)}"
    )

    lr_values, eps_values = settings["lr"], settings["eps"]
    with tempfile.TemporaryDirectory() as cache_dir:
        search = make_search(
            lr_values, eps_values, settings["epochs"], cache_dir, arguments.n_jobs
        )
        start = time.perf_counter()
        search.fit(docs_train, y_train)
        search_seconds = time.perf_counter() - start
        # Release the cached transformers before the directory goes away.
        search.best_estimator_.memory = None
    test_accuracy = search.score(docs_test, y_test)

    table = score_table(search, lr_values, eps_values)
    best_params = {
        name.removeprefix("clf__"): value for name, value in search.best_params_.items()
    }
    n_fits = len(search.cv_results_["params"]) * search.n_splits_
    print(f"{n_fits} fits in {search_seconds:.1f} s")
    print("mean CV accuracy (rows: eps, columns: lr)")
    print("eps \\ lr " + "".join(f"{value:>9g}" for value in lr_values))
    for eps, row in zip(eps_values, table, strict=True):
        print(f"{eps:<9g}" + "".join(f"{score:>9.4f}" for score in row))
    print(
        f"best: lr={best_params['lr']:g}, eps={best_params['eps']:g}, "
        f"CV accuracy {search.best_score_:.4f}, test accuracy {test_accuracy:.4f}"
    )

    plot_path = arguments.output_dir / PLOT_NAME
    title = (
        f"AdagradClassifier, {settings['epochs']} epochs: mean 3-fold CV accuracy\n"
        f"tf-idf docstrings, {n_classes} classes, {len(docs_train)} documents"
    )
    plot_heat_map(table, lr_values, eps_values, title, plot_path)
    print(f"plot written to {plot_path}")
    return {
        "lr": lr_values,
        "eps": eps_values,
        "cv_scores": table,
        "best_params": best_params,
        "best_cv_score": float(search.best_score_),
        "test_accuracy": float(test_accuracy),
        "n_classes": n_classes,
        "search_seconds": search_seconds,
        "plot_path": plot_path,
    }


if __name__ == "__main__":
    main()
