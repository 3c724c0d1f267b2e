"""The docstring corpus as benchmark data: data set (c), real text through
tf-idf, and (f), the same documents hashed, batch by batch.

The corpus is ``sk_adagrad.datasets.load_docstrings()``: one document per
docstring paragraph of the standard library, numpy, scipy and scikit-learn,
labelled by sub-package. It is parsed once per process. Each function takes the
corpus as ``text_corpus``, a function returning ``(texts, labels)``, so that a
quick run (the smoke tests) can give a small synthetic one.
"""

from __future__ import annotations

import functools
from collections import Counter
from collections.abc import Callable, Iterator

import numpy as np
import scipy.sparse as sp
from sklearn.feature_extraction.text import HashingVectorizer, TfidfVectorizer
from sklearn.model_selection import train_test_split

from sk_adagrad.datasets import load_docstrings


@functools.cache
def full_text_corpus() -> tuple[list[str], np.ndarray]:
    """The whole docstring corpus, read once per process (parsing takes ~5 s)."""
    texts, labels = load_docstrings(return_X_y=True)
    return list(texts), np.asarray(labels)


TextCorpus = Callable[[], tuple[list[str], np.ndarray]]


def text_vectorizer() -> TfidfVectorizer:
    """The studies' vectoriser of text: sublinear tf-idf of unigrams and
    bigrams seen in at least two documents."""
    return TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, min_df=2)


def first_lines(texts) -> list[str]:
    """The first line of each text: short texts (about six words from a
    docstring paragraph) from a corpus of longer ones."""
    return [text.strip().split("\n")[0] for text in texts]


def every_line(texts, labels, min_words=3) -> tuple[list[str], np.ndarray]:
    """Each line of at least ``min_words`` words of each text, with its text's
    label: many short texts (about eight words) from fewer long ones."""
    lines, line_labels = [], []
    for text, label in zip(texts, labels, strict=True):
        for line in text.split("\n"):
            if len(line.split()) >= min_words:
                lines.append(line.strip())
                line_labels.append(label)
    return lines, np.asarray(line_labels)


def load_text_corpus(
    max_documents: int | None = None,
    random_state: int = 0,
    text_corpus: TextCorpus = full_text_corpus,
) -> tuple[list[str], np.ndarray]:
    """Labelled docstring corpus: ``sk_adagrad.datasets.load_docstrings()``.

    One document per docstring paragraph of the standard library, numpy,
    scipy and scikit-learn, labelled by sub-package (the sizes for given
    versions are in ``load_docstrings``' docstring).

    Parameters
    ----------
    max_documents : int or None
        Keep a deterministic random subset of this many documents.
    random_state : int
        Seed of the subset.
    text_corpus : callable
        Returns the whole corpus, ``(texts, labels)``; the docstring corpus by
        default.

    Returns
    -------
    texts : list of str
    labels : ndarray of shape (n_documents,)
    """
    texts, labels = text_corpus()
    if max_documents is not None and max_documents < len(texts):
        rng = np.random.default_rng(random_state)
        chosen = np.sort(rng.choice(len(texts), size=max_documents, replace=False))
        return [texts[i] for i in chosen], labels[chosen]
    return list(texts), labels.copy()


def make_tfidf_corpus(
    max_documents: int | None = None,
    random_state: int = 0,
    text_corpus: TextCorpus = full_text_corpus,
) -> tuple[sp.csr_matrix, np.ndarray]:
    """Real text corpus (c): docstrings through uni+bigram sublinear tf-idf.

    The vectorizer is fitted on all documents (vocabulary and idf are
    unsupervised; the train/test split is made afterwards).

    Parameters
    ----------
    max_documents, random_state, text_corpus
        As in :func:`load_text_corpus`.

    Returns
    -------
    X : scipy.sparse.csr_matrix of shape (n_documents, n_terms)
    y : ndarray of shape (n_documents,)
    """
    texts, labels = load_text_corpus(max_documents, random_state, text_corpus)
    vectorizer = text_vectorizer()
    return vectorizer.fit_transform(texts), labels


def docstring_split(max_docs_per_class: int | None = None):
    """Tf-idf (uni+bigrams, ``min_df=2``, sublinear tf) of the docstring corpus,
    split 75/25 stratified by class with ``random_state=0``: the data of the
    defaults and sparsity studies. Returns ``X_train, X_test, y_train, y_test``.
    """
    corpus = load_docstrings(max_docs_per_class=max_docs_per_class)
    train_docs, test_docs, y_train, y_test = train_test_split(
        corpus.data,
        corpus.target,
        test_size=0.25,
        stratify=corpus.target,
        random_state=0,
    )
    vectorizer = text_vectorizer()
    X_train = vectorizer.fit_transform(train_docs)
    return X_train, vectorizer.transform(test_docs), y_train, y_test


def iter_hashed_batches(
    n_features: int,
    batch_size: int = 1000,
    random_state: int = 0,
    text_corpus: TextCorpus = full_text_corpus,
) -> Iterator[tuple[sp.csr_matrix, np.ndarray]]:
    """Stream of hashed text batches (f), for out-of-core ``partial_fit``.

    Documents of :func:`load_text_corpus` (of ``text_corpus``) in a seeded
    random order, through
    ``HashingVectorizer(n_features=n_features)`` (unigrams, alternate signs,
    L2-normalised rows). The label is binary, "document comes from the most
    frequent module", so the model has one row of ``n_features`` weights even
    at 2**24 features.

    Yields
    ------
    X : scipy.sparse.csr_matrix of shape (batch_size, n_features)
        The last batch may be shorter.
    y : ndarray of shape (batch_size,)
        0/1 labels.
    """
    texts, labels = load_text_corpus(text_corpus=text_corpus)
    most_frequent = Counter(labels.tolist()).most_common(1)[0][0]
    order = np.random.default_rng(random_state).permutation(len(texts))
    vectorizer = HashingVectorizer(n_features=n_features)
    for start in range(0, len(order), batch_size):
        rows = order[start : start + batch_size]
        X = vectorizer.transform([texts[i] for i in rows])
        yield X, (labels[rows] == most_frequent).astype(np.int64)


def make_hashed_batch(
    n_features: int,
    n_documents: int = 1000,
    random_state: int = 0,
    text_corpus: TextCorpus = full_text_corpus,
) -> tuple[sp.csr_matrix, np.ndarray]:
    """The first batch of :func:`iter_hashed_batches`: a fixed hashed batch.

    Parameters
    ----------
    n_features : int
        Hashing space, e.g. 2**16, 2**20 or 2**24.
    n_documents : int
        Rows in the batch.
    random_state : int
        Seed of the document order.
    text_corpus : callable
        As in :func:`load_text_corpus`.

    Returns
    -------
    X : scipy.sparse.csr_matrix of shape (n_documents, n_features)
    y : ndarray of shape (n_documents,)
    """
    return next(iter_hashed_batches(n_features, n_documents, random_state, text_corpus))
