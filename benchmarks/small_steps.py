"""What small steps cost beyond their work: default fits whose steps are too
small to share between threads.

Times, on the same data in the same run, default fits of
``AdagradClassifier`` and ``SGDClassifier`` on sets whose steps are small (a
binary model of short texts, the synthetic binary set (a)) and, for contrast,
three epochs of each on the docstring corpus (55 classes), ours on one
thread.
Wall and CPU seconds, medians over repeats. ``--label`` names the version
measured and ``--write-docs`` adds its rows to the section "Small steps" of
docs/step_paths.md (run it on two versions of the package to compare them).

    python -m benchmarks.small_steps [--repeats 5] [--label NAME] [--write-docs]
"""

import argparse
import datetime
from collections import Counter

from sklearn.linear_model import SGDClassifier

from benchmarks import DOCS_DIR, corpus, datasets
from benchmarks.harness import fit_quietly, interleaved
from benchmarks.machine import load_average, machine_description
from benchmarks.pages import find_section, replace_section
from sk_adagrad import AdagradClassifier

DOCS = DOCS_DIR / "step_paths.md"
TITLE = "## Small steps"
HEADER = [
    "| version | data | ours: wall s | ours: CPU s | SGD: wall s | ours / SGD, wall |",
    "| --- | --- | --- | --- | --- | --- |",
]


def short_texts():
    """Each docstring's first line (about nine stored entries a row after
    tf-idf), labelled by whether it comes from the most frequent module."""
    texts, labels = corpus.load_text_corpus()
    first_lines = [text.strip().split("\n")[0] for text in texts]
    most_frequent = Counter(labels.tolist()).most_common(1)[0][0]
    vectorizer = corpus.text_vectorizer()
    return vectorizer.fit_transform(first_lines), labels == most_frequent


def cases():
    """``(name, X, y, our parameters, SGD's parameters)`` of each row."""
    X_short, y_short = short_texts()
    X_a, y_a = datasets.make_rcv1_like(n_samples=10_000, n_classes=2, random_state=0)
    X_doc, _, y_doc, _ = corpus.docstring_split()
    epochs = dict(max_iter=3, tol=None)
    return [
        ("short texts, binary (default fits)", X_short, y_short, {}, {}),
        ("(a) binary, 10,000 rows (default fits)", X_a, y_a, {}, {}),
        (
            "docstrings, 55 classes (3 epochs; ours n_threads=1)",
            X_doc,
            y_doc,
            dict(epochs, n_threads=1),
            epochs,
        ),
    ]


def measure(repeats):
    rows = []
    for name, X, y, ours, theirs in cases():
        runs = interleaved(
            {
                "ours": lambda X=X, y=y, ours=ours: fit_quietly(
                    AdagradClassifier(random_state=0, **ours), X, y
                ),
                "SGD": lambda X=X, y=y, theirs=theirs: fit_quietly(
                    SGDClassifier(random_state=0, **theirs), X, y
                ),
            },
            repeats,
            keep=lambda model: None,
        )
        rows.append(
            (name, runs["ours"].median, runs["ours"].median_cpu, runs["SGD"].median)
        )
    return rows


def table_rows(label, rows):
    return [
        f"| {label} | {name} | {wall:.3f} | {cpu:.3f} | {sgd:.3f} | {wall / sgd:.1f} |"
        for name, wall, cpu, sgd in rows
    ]


def _write_docs(lines, load):
    kept = [
        line
        for line in find_section(DOCS, TITLE).splitlines()
        if line.startswith("| ") and line not in HEADER
    ]
    labels = {line.split(" | ")[0] for line in lines}
    kept = [line for line in kept if line.split(" | ")[0] not in labels]
    section = [
        TITLE,
        "",
        "Written by `python -m benchmarks.small_steps --write-docs` "
        f"({datetime.date.today()}, {machine_description()}; load {load}): "
        "default fits whose steps are too small to share between threads, and "
        "three epochs of the docstring corpus, ours on one thread; medians of "
        "repeats, SGDClassifier's in the same run. Each version's "
        "rows are added by its own run. Steps too small to share run with no "
        "second thread at all: handing the next batch to a thread that "
        "prepares it costs more than preparing it, the two threads taking "
        "turns at the GIL between NumPy's short calls.",
        "",
        *HEADER,
        *kept,
        *lines,
    ]
    replace_section(DOCS, TITLE, "\n".join(section))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--label", default="this version")
    parser.add_argument("--write-docs", action="store_true")
    args = parser.parse_args(argv)
    before = load_average()
    lines = table_rows(args.label, measure(args.repeats))
    print("\n".join(HEADER + lines))
    if args.write_docs:
        _write_docs(lines, f"{before} then {load_average()}")


if __name__ == "__main__":
    main()
