"""Vowpal Wabbit as a peer: its default online learner on the same features.

Vowpal Wabbit (the ``vowpalwabbit`` package, in the ``bench`` extra) is what
users of fast sparse linear models pick; its default update is adaptive (an
Adagrad variant), normalised and importance-invariant, one example at a time.
The helpers here write the rows to a file in its text format and let its own
driver read it, as its command line does, one-against-all (``--oaa K``,
squared loss) for several classes and ``--binary`` for two, and report the
test accuracy and the training seconds (parsing included, as for its command
line; writing the text is not timed).
Without the package, :func:`available` is False and the callers leave the
rows out.
"""

import re
import tempfile
import time
from pathlib import Path

import numpy as np
import scipy.sparse as sp

try:
    import vowpalwabbit
except ImportError:  # the bench extra is not installed
    vowpalwabbit = None


def available() -> bool:
    return vowpalwabbit is not None


def as_lines(X: sp.csr_matrix, labels) -> list[str]:
    """One Vowpal Wabbit text example per row: ``label | index:value ...``."""
    X = sp.csr_matrix(X)
    lines = []
    for row, label in enumerate(labels):
        start, stop = X.indptr[row], X.indptr[row + 1]
        features = " ".join(
            f"{index}:{value:.6g}"
            for index, value in zip(
                X.indices[start:stop], X.data[start:stop], strict=True
            )
        )
        lines.append(f"{label} | {features}")
    return lines


# What Vowpal Wabbit's text format reserves (namespace bar, feature value
# colon) and the whitespace that separates its features and examples.
_RESERVED = re.compile(r"[|:\s]+")


def text_line(text: str, label="") -> str:
    """One Vowpal Wabbit example of the raw words of ``text``, lowercased,
    with its reserved characters blanked: what a user writes from raw text
    for Vowpal Wabbit's own parser (``--ngram 2`` then pairs the words)."""
    return f"{label} | {_RESERVED.sub(' ', text.lower()).strip()}"


def _write(path: Path, X, labels) -> None:
    path.write_text("\n".join(as_lines(X, labels)) + "\n")


def fit_and_score(X_train, y_train, X_test, y_test, passes=1, random_state=0):
    """Train on ``X_train`` (``passes`` passes over its rows shuffled once, as a
    user shuffles a file: an online learner fed rows sorted by class forgets
    the early classes) and return ``(test accuracy, training seconds)``.

    Vowpal Wabbit reads the rows as its command line does: from a file in its
    text format, parsed by its own driver (``-d`` and ``run_parser``, several
    passes through the cache it writes on the first, with no held-out
    examples), so no Python call per row is timed. Writing the file is not
    timed; parsing it is. The test rows are predicted the same way (``-t``).
    """
    classes = np.unique(y_train)
    codes_train = np.searchsorted(classes, y_train)
    codes_test = np.searchsorted(classes, y_test)
    if len(classes) == 2:
        arguments, to_label = "--binary", lambda code: 2 * code - 1
    else:
        arguments, to_label = f"--oaa {len(classes)}", lambda code: code + 1
    order = np.random.default_rng(random_state).permutation(len(codes_train))
    with tempfile.TemporaryDirectory() as directory:
        directory = Path(directory)
        train, test = directory / "train.vw", directory / "test.vw"
        model, predictions = directory / "model.vw", directory / "predictions.txt"
        _write(train, X_train[order], [to_label(code) for code in codes_train[order]])
        _write(test, X_test, [to_label(code) for code in codes_test])
        arguments += f" --quiet -d {train} -f {model}"
        if passes > 1:
            cache = directory / "train.cache"
            arguments += f" --passes {passes} -k --cache_file {cache} --holdout_off"
        start = time.perf_counter()
        workspace = vowpalwabbit.Workspace(arguments)
        workspace.run_parser()
        workspace.finish()  # writes the model file
        seconds = time.perf_counter() - start
        workspace = vowpalwabbit.Workspace(
            f"-t -i {model} --quiet -d {test} -p {predictions}"
        )
        workspace.run_parser()
        workspace.finish()
        predicted = np.loadtxt(predictions, ndmin=1)
    expected = np.array([to_label(code) for code in codes_test])
    return float(np.mean(predicted == expected)), seconds
