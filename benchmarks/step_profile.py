"""Where a step's time goes: a default fit profiled, grouped by what it does.

Fits the default one-vs-rest hinge model on the docstring corpus (tf-idf of
uni+bigrams, 55 classes) for a few epochs on one thread under ``cProfile``,
and sums the time of the functions of each part of a step: gathering the
active rows, writing them back, the lazy catch-up of missed penalty steps, the
Adagrad and proximal update, the two sparse products (margins and gradient),
and the rest. ``--write-docs`` replaces the section "Where a step's time goes"
of docs/performance.md; ``--label`` names the row (run it on two versions of
the package to compare them).

    python -m benchmarks.step_profile [--epochs 3] [--label NAME] [--write-docs]
"""

import argparse
import cProfile
import datetime
import pstats
import time

from benchmarks import DOCS_DIR, corpus
from benchmarks.machine import machine_description
from benchmarks.pages import find_section, replace_section
from sk_adagrad import AdagradClassifier

DOCS = DOCS_DIR / "performance.md"
TITLE = "## Where a step's time goes"

# (part, test on "file:function" of a profiled function)
PARTS = [
    ("gather the active rows", lambda name: "'take' of 'numpy.ndarray'" in name),
    ("write them back", lambda name: "'put' of 'numpy.ndarray'" in name),
    (
        "catch up missed penalty steps",
        lambda name: (
            "_schedule.py" in name
            or ("_penalty.py" in name and "prox" not in name)
            or "_catch_up" in name
        ),
    ),
    (
        "Adagrad and proximal update",
        lambda name: name.endswith(
            (
                ":_update_rows",
                ":step_rows_on_entries",
                ":update_entries",
                "_step_terms.py:denominator",
                ":prox",
            )
        ),
    ),
    (
        "sparse products",
        lambda name: (
            "matvecs" in name or "matmat" in name or "gradient_entries" in name
        ),
    ),
]


def _part(name):
    return next((part for part, test in PARTS if test(name)), "the rest")


def profile(epochs=3):
    """Seconds per part (the functions' own time) over ``epochs`` epochs, and
    the number of steps."""
    X_train, _, y_train, _ = corpus.docstring_split()
    model = AdagradClassifier(max_iter=epochs, tol=None, n_threads=1, random_state=0)
    model.fit(X_train, y_train)  # a first fit warms the process's memory
    profiler = cProfile.Profile()
    start = time.process_time()
    profiler.enable()
    model.fit(X_train, y_train)
    profiler.disable()
    total = time.process_time() - start
    seconds = dict.fromkeys([part for part, _ in PARTS] + ["the rest"], 0.0)
    for (filename, _, function), row in pstats.Stats(profiler).stats.items():
        seconds[_part(f"{filename}:{function}")] += row[2]
    profiled = sum(seconds.values())
    # Report CPU seconds: the profile's shares of the fit's CPU time.
    return {part: total * value / profiled for part, value in seconds.items()}, (
        model.t_
    )


def table_row(label, seconds, steps):
    total = sum(seconds.values())
    cells = [
        f"{1e3 * value / steps:.1f} ({value / total:.0%})" for value in seconds.values()
    ]
    return f"| {label} | " + " | ".join(cells) + f" | {1e3 * total / steps:.1f} |"


def header():
    parts = [part for part, _ in PARTS] + ["the rest"]
    return [
        "| version | " + " | ".join(parts) + " | a step |",
        "| --- | " + " | ".join("---" for _ in parts) + " | --- |",
    ]


def _write_docs(row, page=DOCS):
    rows = [
        line
        for line in find_section(page, TITLE).splitlines()
        if line.startswith("| ") and not line.startswith(("| version", "| ---"))
    ]
    label = row.split(" | ")[0]
    rows = [line for line in rows if line.split(" | ")[0] != label] + [row]
    section = "\n".join(
        [
            TITLE,
            "",
            "Written by `python -m benchmarks.step_profile --write-docs`: the "
            "default one-vs-rest hinge fit on the docstring corpus (55 "
            "classes), three epochs on one thread under `cProfile`, "
            "milliseconds of CPU per step by part (each function's own time, "
            "scaled to the fit's CPU time) and their shares. Each version's "
            f"row is added by its own run ({datetime.date.today()}, "
            f"{machine_description()}).",
            "",
            *header(),
            *rows,
        ]
    )
    replace_section(page, TITLE, section)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--label", default="this version")
    parser.add_argument("--write-docs", action="store_true")
    args = parser.parse_args(argv)
    seconds, steps = profile(args.epochs)
    row = table_row(args.label, seconds, steps)
    print("\n".join(header() + [row]))
    if args.write_docs:
        _write_docs(row)


if __name__ == "__main__":
    main()
