"""Tests of the offline docstring corpus (each full load takes a few seconds)."""

import gc
import platform
import re
from collections import Counter

import numpy as np
import pytest
import scipy
import sklearn

from sk_adagrad.datasets import load_docstrings

WORD = re.compile(r"(?u)\b\w\w+\b")


@pytest.fixture(scope="module")
def corpus():
    return load_docstrings()


def _documented_sizes():
    """The versions and corpus sizes that load_docstrings' docstring states."""
    text = " ".join(load_docstrings.__doc__.split())
    versions = re.search(
        r"With Python ([\d.]+), numpy ([\d.]+), scipy ([\d.]+) and "
        r"scikit-learn ([\d.]+) it gives ([\d,]+) paragraphs in (\d+) classes "
        r"\(([\d,]+) whole docstrings in (\d+) classes",
        text,
    )
    assert versions, "the docstring no longer states its versions and sizes"
    python, numpy, scipy_, sklearn_, *sizes = versions.groups()
    paragraphs, n_classes, docstrings, n_docstring_classes = (
        int(size.replace(",", "")) for size in sizes
    )
    return (python, numpy, scipy_, sklearn_), {
        "paragraph": (paragraphs, n_classes),
        "docstring": (docstrings, n_docstring_classes),
    }


def _assert_sizes_as_documented(corpus, unit):
    documented_versions, sizes = _documented_sizes()
    n_docs, n_classes = sizes[unit]
    installed = (
        platform.python_version(),
        np.__version__,
        scipy.__version__,
        sklearn.__version__,
    )
    measured = (len(corpus.data), len(corpus.target_names))
    if installed == documented_versions:
        assert measured == (n_docs, n_classes), (unit, measured)
    else:
        # Other versions have other docstrings: the stated sizes stay the
        # right order of magnitude.
        assert abs(measured[0] - n_docs) <= 0.15 * n_docs, (unit, measured)
        assert abs(measured[1] - n_classes) <= 8, (unit, measured)


def test_corpus_size_and_classes(corpus):
    n_docs = len(corpus.data)
    assert n_docs >= 20_000
    assert len(corpus.target) == len(corpus.module) == n_docs
    assert 40 <= len(corpus.target_names) <= 60
    np.testing.assert_array_equal(corpus.target_names, np.unique(corpus.target))
    assert min(Counter(corpus.target).values()) >= 200
    for label in ["scipy.sparse", "sklearn.linear_model", "numpy.lib", "email"]:
        assert label in corpus.target_names
    assert "Docstring corpus" in corpus.DESCR
    assert f"{n_docs} documents" in corpus.DESCR
    _assert_sizes_as_documented(corpus, "paragraph")


def test_documents_are_cleaned(corpus):
    assert all(isinstance(text, str) for text in corpus.data)
    assert all(text == text.strip() for text in corpus.data)
    assert all(len(WORD.findall(text)) >= 5 for text in corpus.data)
    assert len(set(corpus.data)) == len(corpus.data)
    for name in corpus.module:
        assert ".tests." not in name and not name.startswith("test.")
        assert ".externals." not in name


def test_labels_follow_the_grouping_rule(corpus):
    for label, module in set(zip(corpus.target, corpus.module, strict=True)):
        head = module.split(".")
        if head[0] in ("numpy", "scipy", "sklearn"):
            # Package-level modules are labelled with the package itself.
            assert label in (head[0], ".".join(head[:2]))
        else:
            assert label == head[0]


def test_subset_is_deterministic_evenly_spaced_and_return_X_y(corpus):
    data, target = load_docstrings(max_docs_per_class=40, return_X_y=True)
    assert isinstance(data, list)
    counts = Counter(target)
    assert set(counts) == set(corpus.target_names)
    assert set(counts.values()) == {40}

    # The subset must be exactly the evenly spaced picks from the full
    # corpus, which also shows that two loads walk the files identically.
    expected = []
    for label in corpus.target_names:
        positions = np.flatnonzero(corpus.target == label)
        picks = np.round(np.linspace(0, len(positions) - 1, 40)).astype(int)
        expected.extend(positions[picks])
    expected = np.sort(expected)
    assert data == [corpus.data[i] for i in expected]
    np.testing.assert_array_equal(target, corpus.target[expected])


def test_whole_docstrings_unit():
    corpus = load_docstrings(unit="docstring", min_docs_per_class=100)
    counts = Counter(corpus.target)
    assert len(corpus.data) >= 8_000
    assert 30 <= len(counts) <= 60
    assert min(counts.values()) >= 100
    # Whole docstrings span paragraphs; some must contain a blank line.
    assert any("\n\n" in text for text in corpus.data)
    assert gc.isenabled()
    _assert_sizes_as_documented(corpus, "docstring")


@pytest.mark.parametrize(
    "kwargs, name",
    [
        ({"unit": "sentence"}, "unit"),
        ({"min_docs_per_class": 0}, "min_docs_per_class"),
        ({"min_docs_per_class": 2.5}, "min_docs_per_class"),
        ({"max_docs_per_class": 0}, "max_docs_per_class"),
        ({"max_docs_per_class": True}, "max_docs_per_class"),
    ],
)
def test_invalid_parameters_are_named(kwargs, name):
    with pytest.raises(ValueError, match=name):
        load_docstrings(**kwargs)
