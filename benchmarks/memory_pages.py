"""What a process pays the first time it writes a model's memory: huge pages
(NumPy's advice for arrays of 4 MiB or more) against the small pages the
package maps its model-sized arrays in (``sk_adagrad._pages``).

Each measurement runs in a fresh interpreter, since the cost is the first touch
of memory a process has not used yet; the two kinds of pages alternate within
each repeat, and SGDClassifier is measured the same way for reference. The
huge-page runs give the estimator a step policy whose ``small_pages_from`` is
``np.inf``, so that every array comes from NumPy as before. Two cases:

- a wide model: 20,000 docstrings hashed to 2^20 features, 55 classes, fed to
  ``partial_fit`` 1,000 documents a call twice over (the first call, the median
  of the later ones, then reading ``coef_``);
- default fits of the docstring corpus (tf-idf, 55 classes): the first of the
  process, and the third, whose memory the process has used before.

Medians over repeats, wall seconds (and CPU for the fit).
``--write-docs`` writes the table to docs/performance.md, "Memory pages".

    python -m benchmarks.memory_pages [--repeats 3] [--write-docs]
"""

import argparse
import datetime
import json
import subprocess
import sys
import time
import warnings

import numpy as np

from benchmarks import DOCS_DIR
from benchmarks.machine import load_average, machine_description
from benchmarks.pages import replace_section

DOCS = DOCS_DIR / "performance.md"
TITLE = "## Memory pages"
WIDE_FEATURES = 2**20
WIDE_DOCUMENTS = 20_000
CALL_DOCUMENTS = 1_000
ARMS = ("huge pages", "small pages", "SGD")


def _estimator(arm):
    from sklearn.linear_model import SGDClassifier

    from sk_adagrad import AdagradClassifier
    from sk_adagrad._step_policy import StepPolicy

    if arm == "SGD":
        return SGDClassifier(random_state=0)
    model = AdagradClassifier(random_state=0)
    if arm == "huge pages":
        model._step_policy = StepPolicy(small_pages_from=np.inf)
    return model


def wide_model(arm):
    """Seconds of the first ``partial_fit`` call, the median later call and a
    read of ``coef_``."""
    from sklearn.feature_extraction.text import HashingVectorizer

    from benchmarks.corpus import load_text_corpus

    texts, labels = load_text_corpus()
    order = np.random.default_rng(0).permutation(len(labels))[:WIDE_DOCUMENTS]
    X = HashingVectorizer(n_features=WIDE_FEATURES).transform([texts[i] for i in order])
    y, classes = labels[order], np.unique(labels)
    model = _estimator(arm)
    starts = range(0, WIDE_DOCUMENTS, CALL_DOCUMENTS)
    seconds = []
    for start in [*starts, *starts]:
        batch = slice(start, start + CALL_DOCUMENTS)
        began = time.perf_counter()
        model.partial_fit(X[batch], y[batch], classes=classes)
        seconds.append(time.perf_counter() - began)
    began = time.perf_counter()
    model.coef_  # noqa: B018 (the read is what is timed)
    return {
        "first partial_fit": seconds[0],
        "later partial_fit (median)": float(np.median(seconds[1:])),
        "reading coef_": time.perf_counter() - began,
    }


def default_fit(arm):
    """Wall and CPU seconds of a default fit of the docstring corpus, the first
    of the process and the third."""
    from sklearn.exceptions import ConvergenceWarning

    from benchmarks.corpus import docstring_split

    X, _, y, _ = docstring_split()
    figures = {}
    for fit in ("first", "second", "third"):
        model = _estimator(arm)
        began, began_cpu = time.perf_counter(), time.process_time()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            model.fit(X, y)
        if fit != "second":
            figures[f"{fit} default fit of the process, wall"] = (
                time.perf_counter() - began
            )
            figures[f"{fit} default fit of the process, CPU"] = (
                time.process_time() - began_cpu
            )
        del model
    return figures


CASES = {
    f"{WIDE_FEATURES:,} hashed features, 55 classes": wide_model,
    "docstring corpus (tf-idf), 55 classes": default_fit,
}


def run_child(case, arm):
    """The figures of ``case`` for ``arm``, from a fresh interpreter."""
    command = [sys.executable, "-m", "benchmarks.memory_pages"]
    done = subprocess.run(
        [*command, "--child", case, arm], capture_output=True, text=True, check=True
    )
    return json.loads(done.stdout)


def measure(repeats):
    """``{case: {measure: {arm: median seconds}}}``."""
    figures = {}
    for case in CASES:
        runs = {arm: [] for arm in ARMS}
        for _ in range(repeats):
            for arm in ARMS:
                runs[arm].append(run_child(case, arm))
        figures[case] = {
            name: {
                arm: float(np.median([run[name] for run in runs[arm]])) for arm in ARMS
            }
            for name in runs[ARMS[0]][0]
        }
    return figures


HEADER = [
    "| case | measure | huge pages: s | small pages: s | small / huge | SGD: s |",
    "| --- | --- | --- | --- | --- | --- |",
]


def table_lines(figures):
    return [
        f"| {case} | {name} | {arms['huge pages']:.4f} | {arms['small pages']:.4f}"
        f" | {arms['small pages'] / arms['huge pages']:.2f} | {arms['SGD']:.4f} |"
        for case, measures in figures.items()
        for name, arms in measures.items()
    ]


def write_docs(lines, repeats, load):
    section = [
        TITLE,
        "",
        "Written by `python -m benchmarks.memory_pages --write-docs` "
        f"({datetime.date.today()}, {machine_description()}; load {load}; "
        f"medians of {repeats} fresh processes per figure). NumPy advises huge "
        "pages (2 MiB) for every array of 4 MiB or more. A step writes the rows "
        "of its active features, scattered over the model, so with huge pages "
        "the first steps of a process make the system map nearly all of the "
        "model's memory; on this virtual machine the first touch of a huge "
        "page costs about ten milliseconds. The package maps its model-sized "
        "arrays (the state, the step buffers, `coef_`) in small pages "
        "instead: a first call then costs in proportion to the rows it "
        "writes. The price is paid later, in misses of the address "
        "translation cache: on the 2^20-feature model, where each step's rows "
        "are scattered over 900 MB, a later call costs more with small pages "
        "(the 'later partial_fit' row). On the docstring corpus, whose "
        "steps reach nearly every row, the first fit of a process and a later "
        "one take the same time with either kind of page, within this "
        "machine's noise (an earlier run of this study had the first fit "
        "7% faster with small pages).",
        "",
        *HEADER,
        *lines,
    ]
    replace_section(DOCS, TITLE, "\n".join(section))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--write-docs", action="store_true")
    parser.add_argument("--child", nargs=2, metavar=("CASE", "ARM"))
    args = parser.parse_args(argv)
    if args.child:
        case, arm = args.child
        print(json.dumps(CASES[case](arm)))
        return
    before = load_average()
    lines = table_lines(measure(args.repeats))
    print("\n".join(HEADER + lines))
    if args.write_docs:
        write_docs(lines, args.repeats, f"{before} then {load_average()}")


if __name__ == "__main__":
    main()
