"""Vowpal Wabbit as a peer: its default online learner on the same features.

Vowpal Wabbit (the ``vowpalwabbit`` package, in the ``bench`` extra) is what
users of fast sparse linear models pick; its default update is adaptive (an
Adagrad variant), normalised and importance-invariant, one example at a time.
The helpers here train it through its Python API on rows written in its text
format, one-against-all (``--oaa K``, squared loss) for several classes and
``--binary`` for two, and report the test accuracy and the training seconds
(parsing included, as for its command line; writing the text is not timed).
Without the package, :func:`available` is False and the callers leave the
rows out.
"""

import time

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


def fit_and_score(X_train, y_train, X_test, y_test, passes=1, random_state=0):
    """Train on ``X_train`` (``passes`` passes over its rows shuffled once, as a
    user shuffles a file: an online learner fed rows sorted by class forgets
    the early classes) and return ``(test accuracy, training seconds)``."""
    classes = np.unique(y_train)
    codes_train = np.searchsorted(classes, y_train)
    codes_test = np.searchsorted(classes, y_test)
    if len(classes) == 2:
        arguments, to_label = "--binary", lambda code: 2 * code - 1
    else:
        arguments, to_label = f"--oaa {len(classes)}", lambda code: code + 1
    order = np.random.default_rng(random_state).permutation(len(codes_train))
    train = as_lines(X_train[order], [to_label(code) for code in codes_train[order]])
    test = as_lines(X_test, [to_label(code) for code in codes_test])
    workspace = vowpalwabbit.Workspace(f"{arguments} --quiet")
    start = time.perf_counter()
    for _ in range(passes):
        for line in train:
            workspace.learn(line)
    seconds = time.perf_counter() - start
    predicted = np.array([workspace.predict(line) for line in test])
    workspace.finish()
    expected = np.array([to_label(code) for code in codes_test])
    return float(np.mean(predicted == expected)), seconds
