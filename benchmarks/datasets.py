"""Deterministic data sets for the benchmark suite.

Every generator takes a ``random_state`` and draws from a seeded
``numpy.random.Generator``, so the same arguments give the same arrays on every
run and machine. The generators are vectorised: the full-size RCV1-like
problem (500k x 50k, 40M nonzeros) is built in a few seconds.

Data sets
---------
(a) :func:`make_rcv1_like` with ``n_classes=2``: synthetic binary tf-idf
    problem shaped like RCV1 (Zipf column frequencies, ~80 nonzeros per row,
    L2-normalised log-tf x idf values, labels from a planted sparse linear
    model with label noise). ``dtype=np.float32`` gives the float32 variant.
(b) :func:`make_rcv1_like` with ``n_classes >= 20``: the same design with a
    planted K-class model (noisy argmax of K sparse linear scores).
(c) :func:`benchmarks.corpus.make_tfidf_corpus`: real text (docstrings, from
    ``sk_adagrad.datasets.load_docstrings``) through
    ``TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, min_df=2)``.
(d) :func:`make_sparse_regression`: the design of (a) with a planted sparse
    linear response plus Gaussian noise.
(e) :func:`make_dense`: dense correlated Gaussian features, binary labels or a
    linear response.
(f) :func:`benchmarks.corpus.make_hashed_batch`: documents through
    ``HashingVectorizer`` at 2**16, 2**20 or 2**24 features.

Run ``python -m benchmarks.datasets [--small]`` to build them all and print
shapes and generation times.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import scipy.sparse as sp
from sklearn.model_selection import train_test_split

from benchmarks.corpus import (
    TextCorpus,
    full_text_corpus,
    make_hashed_batch,
    make_tfidf_corpus,
)

# Sizes of every data set, by suite size. "full" is the default benchmark run,
# "small" the quick smoke run; "tiny" is for the test suite.
SIZES: dict[str, dict[str, dict]] = {
    "full": {
        "binary": {"n_samples": 500_000, "n_features": 50_000},
        # Fewer rows than (a): 20 classes make each epoch ~20x dearer for
        # one-vs-rest SGD, and the whole suite must stay under 15 minutes.
        "multiclass": {"n_samples": 200_000, "n_features": 50_000, "n_classes": 20},
        "text": {"max_documents": None},
        "regression": {"n_samples": 200_000, "n_features": 50_000},
        "dense": {"n_samples": 100_000, "n_features": 100},
        "hashed": {"n_documents": 1000},
    },
    "small": {
        "binary": {"n_samples": 20_000, "n_features": 5_000, "nnz_per_row": 40},
        "multiclass": {
            "n_samples": 20_000,
            "n_features": 5_000,
            "nnz_per_row": 40,
            "n_classes": 20,
        },
        "text": {"max_documents": 3_000},
        "regression": {"n_samples": 10_000, "n_features": 5_000, "nnz_per_row": 40},
        "dense": {"n_samples": 10_000, "n_features": 100},
        "hashed": {"n_documents": 1000},
    },
    "tiny": {
        "binary": {"n_samples": 2_000, "n_features": 1_000, "nnz_per_row": 20},
        "multiclass": {
            "n_samples": 2_000,
            "n_features": 1_000,
            "nnz_per_row": 20,
            "n_classes": 20,
        },
        "text": {"max_documents": 600},
        "regression": {"n_samples": 2_000, "n_features": 1_000, "nnz_per_row": 20},
        "dense": {"n_samples": 2_000, "n_features": 20},
        "hashed": {"n_documents": 200},
    },
}


# --------------------------------------------------------------------------
# Sampling helpers
# --------------------------------------------------------------------------


def _zipf_probabilities(n_features: int, exponent: float) -> np.ndarray:
    """Zipf-Mandelbrot term probabilities ``p_k ~ 1 / (k + 2.7) ** exponent``.

    The offset flattens the head a little, as in real vocabularies, so the
    most frequent term is not in nearly every document.
    """
    ranks = np.arange(1, n_features + 1, dtype=np.float64)
    weights = (ranks + 2.7) ** -exponent
    return weights / weights.sum()


def _alias_table(probabilities: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Walker/Vose alias table for O(1) sampling from a discrete distribution.

    Inverse-CDF sampling with ``np.searchsorted`` costs ~4 s for 50M draws
    here; the alias method needs two uniform draws and two gathers per sample.
    Building the table is a Python loop over the categories (~30 ms for 50k).
    """
    n = len(probabilities)
    scaled = probabilities * n
    alias = np.arange(n)
    small = list(np.flatnonzero(scaled < 1.0))
    large = list(np.flatnonzero(scaled >= 1.0))
    while small and large:
        s, big = small.pop(), large.pop()
        alias[s] = big
        scaled[big] -= 1.0 - scaled[s]
        (small if scaled[big] < 1.0 else large).append(big)
    # Leftovers are 1 up to rounding error.
    scaled[small] = 1.0
    scaled[large] = 1.0
    return scaled.astype(np.float32), alias.astype(np.int32)


def _sample_from_alias(
    rng: np.random.Generator, accept: np.ndarray, alias: np.ndarray, size: int
) -> np.ndarray:
    """Draw ``size`` category indices (int32) from an alias table."""
    picks = rng.integers(0, len(accept), size=size, dtype=np.int32)
    coins = rng.random(size, dtype=np.float32)
    return np.where(coins < accept[picks], picks, alias[picks])


def _mean_unique_terms(probabilities: np.ndarray, lengths: np.ndarray) -> float:
    """Expected number of distinct terms in documents of the given lengths."""
    # E[distinct | L] = sum_k 1 - (1 - p_k) ** L, evaluated on a length grid
    # and interpolated, which keeps this cheap for many documents.
    grid = np.unique(np.geomspace(1, max(lengths.max(), 2), 64).astype(np.int64))
    log_miss = np.log1p(-probabilities)
    distinct = np.array([np.sum(-np.expm1(length * log_miss)) for length in grid])
    return float(np.interp(lengths, grid, distinct).mean())


def _document_lengths(
    rng: np.random.Generator,
    probabilities: np.ndarray,
    n_samples: int,
    nnz_per_row: float,
    sigma: float = 0.5,
) -> np.ndarray:
    """Log-normal token counts whose mean number of distinct terms is the target.

    Frequent terms repeat inside a document, so a document needs more tokens
    than distinct terms; the median length is found by bisection.
    """
    if nnz_per_row >= len(probabilities):
        raise ValueError("nnz_per_row must be smaller than n_features")
    standard = np.exp(sigma * np.random.default_rng(0).standard_normal(4000))
    low, high = float(nnz_per_row) / 2, float(nnz_per_row) * 64
    for _ in range(40):
        median = (low + high) / 2
        if _mean_unique_terms(probabilities, median * standard) < nnz_per_row:
            low = median
        else:
            high = median
    lengths = median * rng.lognormal(0.0, sigma, size=n_samples)
    return np.maximum(np.rint(lengths), 1).astype(np.int64)


def _tfidf_design(
    rng: np.random.Generator,
    n_samples: int,
    n_features: int,
    nnz_per_row: float,
    zipf_exponent: float,
) -> sp.csr_matrix:
    """Synthetic bag-of-words documents turned into L2-normalised tf-idf rows.

    Columns are a random permutation of Zipf ranks (as in an alphabetically
    sorted vocabulary). Values are ``(1 + log tf) * idf`` with sklearn's
    smooth idf, rows scaled to unit L2 norm: the ``sublinear_tf=True``
    recipe of ``TfidfVectorizer``.
    """
    probabilities = _zipf_probabilities(n_features, zipf_exponent)
    probabilities = probabilities[rng.permutation(n_features)]
    accept, alias = _alias_table(probabilities.copy())
    lengths = _document_lengths(rng, probabilities, n_samples, nnz_per_row)

    indptr = np.zeros(n_samples + 1, dtype=np.int64)
    np.cumsum(lengths, out=indptr[1:])
    tokens = _sample_from_alias(rng, accept, alias, int(indptr[-1]))
    counts = sp.csr_matrix(
        (np.ones(len(tokens)), tokens, indptr), shape=(n_samples, n_features)
    )
    del tokens
    # Summing duplicate (row, column) entries turns tokens into term counts.
    counts.sum_duplicates()
    counts.indptr = counts.indptr.astype(np.int32, copy=False)
    counts.indices = counts.indices.astype(np.int32, copy=False)

    document_frequency = np.bincount(counts.indices, minlength=n_features)
    idf = np.log((1.0 + n_samples) / (1.0 + document_frequency)) + 1.0
    values = counts.data
    np.log(values, out=values)
    values += 1.0
    values *= idf[counts.indices]
    squared_norms = np.add.reduceat(values**2, counts.indptr[:-1])
    values /= np.repeat(np.sqrt(squared_norms), np.diff(counts.indptr))
    return counts


def _planted_weights(
    rng: np.random.Generator,
    X: sp.csr_matrix,
    n_outputs: int,
    support_fraction: float,
) -> np.ndarray:
    """Sparse Gaussian weights of shape (n_features, n_outputs).

    A feature enters the support with probability proportional to the square
    root of its document frequency (mean ``support_fraction``): as with
    topic words in real text, informative features are neither the rarest
    nor only the most common ones, so most documents carry some signal.
    """
    n_features = X.shape[1]
    frequency = np.sqrt(np.bincount(X.indices, minlength=n_features) + 1.0)
    inclusion = np.minimum(
        1.0, support_fraction * n_features * frequency / frequency.sum()
    )
    weights = rng.standard_normal((n_features, n_outputs))
    weights *= rng.random((n_features, n_outputs)) < inclusion[:, None]
    return weights


# --------------------------------------------------------------------------
# (a), (b), (d): synthetic sparse problems
# --------------------------------------------------------------------------


def make_rcv1_like(
    n_samples: int = 500_000,
    n_features: int = 50_000,
    nnz_per_row: float = 80,
    n_classes: int = 2,
    *,
    zipf_exponent: float = 1.0,
    support_fraction: float = 0.01,
    label_noise: float = 0.05,
    temperature: float = 0.1,
    dtype: type = np.float64,
    random_state: int = 0,
) -> tuple[sp.csr_matrix, np.ndarray]:
    """RCV1-like sparse classification problem (data sets (a) and (b)).

    Parameters
    ----------
    n_samples, n_features : int
        Shape of ``X``.
    nnz_per_row : float
        Mean number of nonzeros per row (distinct terms per document).
    n_classes : int
        2 gives the binary problem (a); more gives the multi-class problem (b).
    zipf_exponent : float
        Exponent of the Zipf law of column (term) frequencies.
    support_fraction : float
        Mean fraction of nonzero entries in the planted weight matrix.
    label_noise : float
        Fraction of labels replaced by a uniformly drawn class.
    temperature : float
        Multi-class only: scale of the Gumbel noise added to the planted
        scores, relative to their standard deviation.
    dtype : {np.float64, np.float32}
        dtype of ``X.data``.
    random_state : int
        Seed of the ``numpy.random.Generator``.

    Returns
    -------
    X : scipy.sparse.csr_matrix of shape (n_samples, n_features)
        Rows are L2-normalised ``(1 + log tf) * idf`` vectors; int32 indices.
    y : ndarray of shape (n_samples,)
        Integer labels in ``range(n_classes)``.

    Notes
    -----
    Binary labels threshold the planted score ``X @ w`` at its median, so the
    classes are balanced. With K classes, the label is the argmax of
    ``X @ W`` plus Gumbel noise (a draw from a softmax model); with the
    default temperature 87% of the labels are the noiseless argmax. Label
    noise then replaces ``label_noise`` of the labels, which caps the
    attainable accuracy.
    """
    rng = np.random.default_rng(random_state)
    X = _tfidf_design(rng, n_samples, n_features, nnz_per_row, zipf_exponent)
    n_outputs = 1 if n_classes == 2 else n_classes
    scores = X @ _planted_weights(rng, X, n_outputs, support_fraction)
    if n_classes == 2:
        # Upper half of the scores, ties (rows with no planted feature) broken
        # at random, so the classes are exactly balanced at any size.
        order = np.lexsort((rng.random(n_samples), scores[:, 0]))
        y = np.zeros(n_samples, dtype=np.int64)
        y[order[n_samples // 2 :]] = 1
    else:
        scores += temperature * scores.std() * rng.gumbel(size=scores.shape)
        y = np.argmax(scores, axis=1).astype(np.int64)
    noisy = rng.random(n_samples) < label_noise
    y[noisy] = rng.integers(0, n_classes, size=int(noisy.sum()))
    return X.astype(dtype, copy=False), y


def make_sparse_regression(
    n_samples: int = 200_000,
    n_features: int = 50_000,
    nnz_per_row: float = 80,
    *,
    zipf_exponent: float = 1.0,
    support_fraction: float = 0.01,
    noise: float = 0.1,
    dtype: type = np.float64,
    random_state: int = 0,
) -> tuple[sp.csr_matrix, np.ndarray]:
    """Sparse regression on the tf-idf design of :func:`make_rcv1_like` (d).

    Parameters
    ----------
    n_samples, n_features, nnz_per_row, zipf_exponent, dtype, random_state
        As in :func:`make_rcv1_like`.
    support_fraction : float
        Fraction of nonzero planted weights.
    noise : float
        Standard deviation of the Gaussian noise relative to the standard
        deviation of the noiseless response.

    Returns
    -------
    X : scipy.sparse.csr_matrix of shape (n_samples, n_features)
    y : ndarray of shape (n_samples,)
        ``X @ w + 0.5 + noise``, scaled to unit standard deviation.
    """
    rng = np.random.default_rng(random_state)
    X = _tfidf_design(rng, n_samples, n_features, nnz_per_row, zipf_exponent)
    signal = X @ _planted_weights(rng, X, 1, support_fraction)[:, 0]
    signal /= signal.std()
    y = signal + 0.5 + noise * rng.standard_normal(n_samples)
    return X.astype(dtype, copy=False), y


# --------------------------------------------------------------------------
# (e): dense problem
# --------------------------------------------------------------------------


def make_dense(
    n_samples: int = 100_000,
    n_features: int = 100,
    *,
    task: str = "classification",
    noise: float = 0.1,
    random_state: int = 0,
) -> tuple[np.ndarray, np.ndarray]:
    """Dense problem with correlated, standardised Gaussian features (e).

    Parameters
    ----------
    n_samples, n_features : int
        Shape of ``X`` (C-contiguous float64).
    task : {"classification", "regression"}
        Binary labels ``Xw + noise > 0`` or the response ``Xw + noise``.
    noise : float
        Noise standard deviation relative to the spread of ``Xw``.
    random_state : int
        Seed of the ``numpy.random.Generator``.

    Returns
    -------
    X : ndarray of shape (n_samples, n_features)
    y : ndarray of shape (n_samples,)
    """
    rng = np.random.default_rng(random_state)
    mixing = rng.standard_normal((n_features, n_features)) / np.sqrt(n_features)
    mixing += np.eye(n_features)
    X = rng.standard_normal((n_samples, n_features)) @ mixing
    X -= X.mean(axis=0)
    X /= X.std(axis=0)
    signal = X @ rng.standard_normal(n_features)
    signal /= signal.std()
    signal += noise * rng.standard_normal(n_samples)
    if task == "classification":
        return X, (signal > 0).astype(np.int64)
    if task == "regression":
        return X, signal
    raise ValueError(f"task must be 'classification' or 'regression', got {task!r}")


# --------------------------------------------------------------------------
# Registry used by the benchmark runner
# --------------------------------------------------------------------------


def split(X, y: np.ndarray, test_fraction: float = 0.2, random_state: int = 0) -> tuple:
    """Deterministic shuffled train/test split: ``X_train, X_test, y_train,
    y_test``."""
    return train_test_split(
        X, y, test_size=test_fraction, random_state=random_state, shuffle=True
    )


def get_dataset(
    name: str,
    size: str = "full",
    text_corpus: TextCorpus = full_text_corpus,
    **overrides,
) -> tuple:
    """Build a named data set at a suite size.

    Parameters
    ----------
    name : {"binary", "binary32", "multiclass", "text", "regression",
            "dense", "dense_regression"}
        Data sets (a), (a) in float32, (b), (c), (d), (e) classification and
        (e) regression.
    size : {"full", "small", "tiny"}
        Key of :data:`SIZES`.
    text_corpus : callable
        The documents of "text", as in :func:`benchmarks.corpus.load_text_corpus`.
    **overrides
        Replace any size parameter.

    Returns
    -------
    X, y
    """
    family = {"binary32": "binary", "dense_regression": "dense"}.get(name, name)
    params = {**SIZES[size][family], **overrides}
    if name == "binary":
        return make_rcv1_like(**params)
    if name == "binary32":
        return make_rcv1_like(**params, dtype=np.float32)
    if name == "multiclass":
        return make_rcv1_like(**params)
    if name == "text":
        return make_tfidf_corpus(**params, text_corpus=text_corpus)
    if name == "regression":
        return make_sparse_regression(**params)
    if name == "dense":
        return make_dense(**params, task="classification")
    if name == "dense_regression":
        return make_dense(**params, task="regression")
    raise ValueError(f"unknown data set {name!r}")


def _describe(X, y: np.ndarray) -> str:
    """One-line summary of a data set."""
    if sp.issparse(X):
        density = f"nnz/row {X.nnz / X.shape[0]:.1f}, {X.dtype}"
    else:
        density = f"dense, {X.dtype}"
    labels = np.unique(y)
    target = f"{len(labels)} classes" if len(labels) < 100 else "continuous"
    return f"{X.shape[0]} x {X.shape[1]}, {density}, {target}"


def main() -> None:
    """Build every data set and report shapes and timings."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", action="store_true", help="quick small sizes")
    size = "small" if parser.parse_args().small else "full"
    names = ["binary", "binary32", "multiclass", "text", "regression", "dense"]
    for name in names:
        start = time.perf_counter()
        X, y = get_dataset(name, size)
        elapsed = time.perf_counter() - start
        print(f"{name:12s} {elapsed:6.2f} s  {_describe(X, y)}")
    for log2 in (16, 20, 24):
        start = time.perf_counter()
        X, y = make_hashed_batch(2**log2, **SIZES[size]["hashed"])
        elapsed = time.perf_counter() - start
        print(f"hashed 2**{log2} {elapsed:6.2f} s  {_describe(X, y)}")


if __name__ == "__main__":
    main()
