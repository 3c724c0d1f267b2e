"""Out-of-core text classification: hashed features and partial_fit on a stream.

Documents arrive in chunks, as they would from files or a database too large
for memory. Each chunk is turned into features by a stateless
``HashingVectorizer`` (2**20 features, unigrams and bigrams; no vocabulary to
fit, so no pass over the whole corpus first) and fed to
``AdagradClassifier.partial_fit``. Memory holds the model and one chunk.

Accuracy is measured by progressive validation: every chunk is first
predicted by the current model and scored, then trained on. Each document is
thus scored once, by a model that has not seen it yet, and the running
accuracy estimates the accuracy on new data without a held-out set.

The stream is the docstring corpus of :func:`sk_adagrad.datasets.load_docstrings`
in a fixed random order, and the task is which project a paragraph comes from:
the Python standard library, numpy, scipy or scikit-learn. A progress bar
shows the stream when ``tqdm`` is installed; otherwise one line is printed per
chunk. The script writes a plot of the per-chunk and running accuracy.

Usage::

    python examples/out_of_core.py [--small] [--output-dir DIR]
                                   [--chunk-size N] [--no-progress-bar]
"""

from __future__ import annotations

import argparse
import importlib.util
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from sklearn.feature_extraction.text import HashingVectorizer

from sk_adagrad import AdagradClassifier
from sk_adagrad.datasets import load_docstrings

PLOT_NAME = "out_of_core.png"
N_FEATURES = 2**20
PROJECTS = ("numpy", "python", "scipy", "sklearn")


def project_of(label: str) -> str:
    """The project of a corpus label: 'scipy.sparse' -> 'scipy', 'email' ->
    'python' (standard-library labels are top-level module names)."""
    top_level = label.split(".")[0]
    return top_level if top_level in PROJECTS else "python"


def stream_documents(
    max_docs_per_class: int | None, chunk_size: int, seed: int = 0
) -> Iterator[tuple[list[str], np.ndarray]]:
    """Yield ``(documents, project labels)`` chunks in a fixed random order.

    The corpus is small enough to load at once; a real stream would read each
    chunk from its source instead. Everything downstream sees one chunk at a
    time.
    """
    corpus = load_docstrings(max_docs_per_class=max_docs_per_class)
    labels = np.array([project_of(label) for label in corpus.target])
    order = np.random.default_rng(seed).permutation(len(labels))
    for start in range(0, len(order), chunk_size):
        rows = order[start : start + chunk_size]
        yield [corpus.data[row] for row in rows], labels[rows]


class ChunkProgress:
    """A tqdm progress bar over documents, or one printed line per chunk."""

    def __init__(self, use_bar: bool):
        self.bar = None
        if use_bar:
            from tqdm import tqdm

            # A stream does not know its length: the bar counts documents.
            self.bar = tqdm(unit="doc", desc="streaming")

    def update(
        self,
        chunk: int,
        n_docs: int,
        docs_seen: int,
        chunk_accuracy: float | None,
        running_accuracy: float | None,
    ) -> None:
        """Report a processed chunk; accuracies are None for the first one."""
        scores = (
            {"chunk": f"{chunk_accuracy:.3f}", "running": f"{running_accuracy:.3f}"}
            if chunk_accuracy is not None
            else {"chunk": "-", "running": "-"}
        )
        if self.bar is not None:
            self.bar.update(n_docs)
            self.bar.set_postfix(scores)
        else:
            print(
                f"chunk {chunk:>3}: {docs_seen:>6} documents seen, "
                f"chunk accuracy {scores['chunk']:>5}, "
                f"running accuracy {scores['running']:>5}",
                flush=True,
            )

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def tqdm_available() -> bool:
    return importlib.util.find_spec("tqdm") is not None


def train_on_stream(
    chunks: Iterator[tuple[list[str], np.ndarray]],
    progress: ChunkProgress,
) -> dict[str, object]:
    """Progressive validation: score each chunk, then ``partial_fit`` on it.

    The first chunk is only trained on (there is no model to score it yet).
    All classes are passed to the first ``partial_fit``: a stream cannot know
    which labels its later chunks hold. ``seconds`` counts vectorising,
    scoring and training, not reading the stream.
    """
    vectorizer = HashingVectorizer(
        n_features=N_FEATURES, alternate_sign=False, ngram_range=(1, 2)
    )
    model = AdagradClassifier(random_state=0)
    classes = np.array(PROJECTS)
    docs_seen, scored, correct, seconds = 0, 0, 0, 0.0
    docs_axis, chunk_accuracies, running_accuracies = [], [], []
    for chunk, (documents, labels) in enumerate(chunks):
        start = time.perf_counter()
        X = vectorizer.transform(documents)
        chunk_accuracy = running_accuracy = None
        if docs_seen:
            hits = int((model.predict(X) == labels).sum())
            correct += hits
            scored += len(labels)
            chunk_accuracy, running_accuracy = hits / len(labels), correct / scored
        model.partial_fit(X, labels, classes=classes)
        seconds += time.perf_counter() - start
        docs_seen += len(labels)
        if chunk_accuracy is not None:
            docs_axis.append(docs_seen)
            chunk_accuracies.append(chunk_accuracy)
            running_accuracies.append(running_accuracy)
        progress.update(chunk, len(labels), docs_seen, chunk_accuracy, running_accuracy)
    progress.close()
    return {
        "model": model,
        "docs_seen": docs_seen,
        "n_chunks": chunk + 1,
        "docs_axis": np.array(docs_axis),
        "chunk_accuracy": np.array(chunk_accuracies),
        "running_accuracy": np.array(running_accuracies),
        "final_running_accuracy": running_accuracies[-1],
        "seconds": seconds,
    }


def plot_accuracy(result: dict[str, object], title: str, path: Path) -> None:
    # A bare Figure on the Agg canvas: no pyplot state, no display needed.
    figure = Figure(figsize=(7, 4.5), layout="constrained")
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    axes.plot(
        result["docs_axis"],
        result["chunk_accuracy"],
        marker=".",
        alpha=0.5,
        label="accuracy on each new chunk",
    )
    axes.plot(
        result["docs_axis"],
        result["running_accuracy"],
        linewidth=2,
        label="running (progressive validation) accuracy",
    )
    axes.set_xlabel("documents streamed")
    axes.set_ylabel("accuracy before training on the chunk")
    axes.set_title(title)
    axes.grid(alpha=0.3)
    axes.legend(loc="lower right")
    figure.savefig(path, dpi=110)


def parse_arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--small",
        action="store_true",
        help="a quick run on 60 documents per sub-package (about 3,300 in all)",
    )
    parser.add_argument(
        "--output-dir",
        type=Path,
        default=Path("examples/output"),
        help="where to write the plot (default: examples/output)",
    )
    parser.add_argument(
        "--chunk-size",
        type=int,
        default=None,
        help="documents per chunk (default: 1000, or 250 with --small)",
    )
    parser.add_argument(
        "--no-progress-bar",
        action="store_true",
        help="print one line per chunk even when tqdm is installed",
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> dict[str, object]:
    """Stream the corpus through the model; return the progressive results.

    The result has the keys ``model`` (the trained classifier), ``docs_seen``,
    ``n_chunks``, ``docs_axis``, ``chunk_accuracy``, ``running_accuracy``
    (arrays over the scored chunks), ``final_running_accuracy``, ``seconds``
    and ``plot_path``.
    """
    arguments = parse_arguments(argv)
    arguments.output_dir.mkdir(parents=True, exist_ok=True)
    max_docs_per_class = 60 if arguments.small else None
    chunk_size = arguments.chunk_size or (250 if arguments.small else 1000)

    progress = ChunkProgress(use_bar=tqdm_available() and not arguments.no_progress_bar)
    chunks = stream_documents(max_docs_per_class, chunk_size)
    result = train_on_stream(chunks, progress)

    model = result["model"]
    print(
        f"{result['docs_seen']} documents in {result['n_chunks']} chunks of "
        f"{chunk_size}, {result['seconds']:.1f} s of vectorising, scoring and "
        f"training; "
        f"progressive accuracy {result['final_running_accuracy']:.4f}"
    )
    print(
        f"model: {model.coef_.shape[0]} x {model.coef_.shape[1]} weights, "
        f"{model.t_} Adagrad steps"
    )

    plot_path = arguments.output_dir / PLOT_NAME
    title = (
        f"Streaming {result['docs_seen']} docstrings in chunks of {chunk_size}: "
        "which project?\nHashingVectorizer(2**20) + AdagradClassifier.partial_fit"
    )
    plot_accuracy(result, title, plot_path)
    print(f"plot written to {plot_path}")
    result["plot_path"] = plot_path
    return result


if __name__ == "__main__":
    main()
