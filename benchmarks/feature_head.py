"""Would a frequency-ordered head of features spare a step its gathers?

A step gathers the rows of its batch's active features, steps them and writes
them back (about a quarter of a step on the docstring corpus: "Where a step's
time goes" in docs/performance.md). Numbering the features by document
frequency would make the frequent head a contiguous slice of the state,
stepped where it lies like the in-place path does, leaving only the rare tail
to gather and write back. What that spares is at most the head's share of a
step's active rows; what it costs is stepping the head's rows that the batch
does not hold.

This counts both over a shuffled epoch of the docstring corpus (paragraphs,
and their first lines as short texts; tf-idf as the other studies), for
batches of several sizes and for the heads of features that a batch holds
with probability at least ``p`` (a feature in ``c`` of ``n`` rows: ``1 - (1 -
c / n) ** batch_size``). No timing: the counts bound the gain. ``--write-docs``
replaces the section "A frequency-ordered head" of docs/performance.md.

    python -m benchmarks.feature_head [--write-docs]
"""

import argparse
import datetime

import numpy as np

from benchmarks import DOCS_DIR, corpus
from benchmarks.machine import machine_description
from benchmarks.pages import replace_section

DOCS = DOCS_DIR / "performance.md"
TITLE = "## A frequency-ordered head"
BATCH_SIZES = (256, 1024, 4096)
PROBABILITIES = (0.9, 0.5, 0.25)
# Shares of a step of the default docstring fit, from its profile (docs/
# performance.md, "Where a step's time goes", the row of 940feb8): what the
# head would spare on its rows (gathering, writing back, catching up) and
# what its idle rows would add (the Adagrad and proximal update).
SPARED_PER_ROW = (2.1 + 2.8 + 3.9) / 18.3
ADDED_PER_ROW = 3.5 / 18.3
HEADER = [
    "| data | batch size | active features a step | head: a batch holds "
    "each with probability | head size | share of the head a step holds | "
    "share of a step's active features in the head | at most spared of a "
    "step |",
    "| --- | --- | --- | --- | --- | --- | --- | --- |",
]


def head_counts(X, batch_size, probabilities=PROBABILITIES, seed=0):
    """``(mean active features a batch, {p: (head size, share of the head a
    batch holds, share of a batch's active features in the head)})`` over
    the batches of one shuffled epoch of the CSR ``X`` (a last, shorter
    batch left out)."""
    n_rows, n_features = X.shape
    counts = np.bincount(X.indices, minlength=n_features)
    rank = np.empty(n_features, dtype=np.int64)
    rank[np.argsort(-counts, kind="stable")] = np.arange(n_features)
    held = 1.0 - (1.0 - counts / n_rows) ** batch_size
    sizes = {p: int(np.count_nonzero(held >= p)) for p in probabilities}
    order = np.random.default_rng(seed).permutation(n_rows)
    active, in_head = [], {p: [] for p in probabilities}
    for start in range(0, n_rows - batch_size + 1, batch_size):
        ranks = np.sort(rank[np.unique(X[order[start : start + batch_size]].indices)])
        active.append(ranks.size)
        for p in probabilities:
            in_head[p].append(np.searchsorted(ranks, sizes[p]))
    active = np.asarray(active, dtype=float)
    shares = {}
    for p in probabilities:
        head = np.asarray(in_head[p], dtype=float)
        held_share = np.mean(head) / sizes[p] if sizes[p] else float("nan")
        shares[p] = (sizes[p], held_share, np.mean(head / active))
    return float(np.mean(active)), shares


def corpora(text_corpus=corpus.full_text_corpus):
    """``name -> X``: the docstring paragraphs and their first lines, tf-idf."""
    texts, _ = corpus.load_text_corpus(text_corpus=text_corpus)
    vectorizer = corpus.text_vectorizer()
    return {
        "docstring paragraphs": vectorizer.fit_transform(texts).tocsr(),
        "their first lines (short texts)": vectorizer.fit_transform(
            corpus.first_lines(texts)
        ).tocsr(),
    }


def table(data, batch_sizes=BATCH_SIZES):
    """The rows of the table for ``data`` (``name -> X``)."""
    lines = []
    for name, X in data.items():
        for batch_size in batch_sizes:
            active, shares = head_counts(X, batch_size)
            for p, (size, held, in_head) in shares.items():
                idle = (1.0 - held) * size / active
                spared = in_head * SPARED_PER_ROW - idle * ADDED_PER_ROW
                lines.append(
                    f"| {name} | {batch_size} | {active:,.0f} | {p:g} | {size:,} "
                    f"| {held:.2f} | {in_head:.2f} | {spared:.2f} |"
                )
    return lines


def _write_docs(lines):
    section = [
        TITLE,
        "",
        "Written by `python -m benchmarks.feature_head --write-docs` "
        f"({datetime.date.today()}, {machine_description()}): counts over a "
        "shuffled epoch of the docstring corpus, no timing. Numbering the "
        "features by document frequency would let a step update the frequent "
        "head in place, as a contiguous slice, stepped at every step, and "
        "gather, catch up and write back only the rest. On the head's rows "
        "it spares the gathers, the writes and the catch-up, "
        f"{SPARED_PER_ROW:.0%} of a step of the default docstring fit "
        '("Where a step\'s time goes", 940feb8), and it adds the update of '
        "each row of the head the batch does not hold "
        f"({ADDED_PER_ROW:.0%} of a step for as many rows as the step's). The "
        "last column is the first share times the head's part of a step's "
        "active features less the second times its idle rows' part: an upper "
        "bound, before the cost of keeping two kinds of rows.",
        "",
        *HEADER,
        *lines,
        "",
        "Text's active features are mostly rare words and pairs, a different "
        "tail in each batch: a head that nearly every batch holds "
        "(probability 0.9) is a tenth to a sixth of a step's features, and a "
        "larger head leaves more of its rows idle. At the default batches "
        "(1,024 rows) the bound is 5 to 15% of a step, the most for a head "
        "half of whose rows sit idle in a step. Not built: renumbering the "
        "features permutes the data's columns at every fit, adds a second "
        "kind of row to every step path, and changes the order of the "
        "margins' sums, so every model by rounding, for at most a seventh of "
        "a step; it stays a lead.",
    ]
    replace_section(DOCS, TITLE, "\n".join(section))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write-docs", action="store_true")
    args = parser.parse_args(argv)
    lines = table(corpora())
    print("\n".join(HEADER + lines))
    if args.write_docs:
        _write_docs(lines)


if __name__ == "__main__":
    main()
