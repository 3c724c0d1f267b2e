"""A real text-classification corpus that needs no download.

:func:`load_docstrings` reads the docstrings of the Python standard library and
of the installed numpy, scipy and scikit-learn packages straight from their
``.py`` source files (parsed with :mod:`ast`, never imported) and labels each
text with the sub-package it comes from.  Every machine that can run this
package has these files, so examples, tests and benchmarks get tens of
thousands of real, labelled documents offline.
"""

from __future__ import annotations

import ast
import contextlib
import gc
import importlib.util
import numbers
import os
import platform
import re
import sysconfig
import textwrap
import warnings
from collections.abc import Iterator

import numpy as np
import scipy
import sklearn
from sklearn.utils import Bunch

__all__ = ["load_docstrings"]

# Third-party packages whose sub-packages become labels ("scipy.sparse", ...).
# Standard-library modules are labelled by their top-level name ("email").
_THIRD_PARTY_PACKAGES = ("numpy", "scipy", "sklearn")

# Directories never read: test suites (their docstrings describe tests, not
# the package), code vendored from other projects (it would be labelled with
# the vendoring package's name), installed third-party packages, and
# generated codec tables whose docstrings are near-copies of each other.
_SKIPPED_DIRECTORIES = frozenset(
    {
        "__pycache__",
        "site-packages",
        "dist-packages",
        "test",
        "tests",
        "idle_test",
        "externals",
        "array_api_compat",
        "array_api_extra",
        "cobyqa",
        "pyprima",
        "encodings",
    }
)

# The token pattern of scikit-learn's text vectorizers: a paragraph with fewer
# than _MIN_WORDS such tokens ("Returns", "self : object") carries no topic.
_WORD = re.compile(r"(?u)\b\w\w+\b")
_MIN_WORDS = 5
_PARAGRAPH_BREAK = re.compile(r"\n\s*\n")

_DOCSTRING_OWNERS = (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)
# Only statements can own or contain docstrings, so the walk follows just the
# fields that hold nested statements, which is several times cheaper than
# ``ast.walk`` over every expression node.
_NESTED_STATEMENT_FIELDS = ("body", "orelse", "finalbody", "handlers", "cases")


def load_docstrings(
    *,
    unit: str = "paragraph",
    min_docs_per_class: int = 200,
    max_docs_per_class: int | None = None,
    return_X_y: bool = False,
) -> Bunch | tuple[list[str], np.ndarray]:
    """Load the docstrings of the standard library, numpy, scipy and sklearn.

    Each document is a paragraph (default) or a whole docstring of a module,
    class or function, read with :mod:`ast` from the installed ``.py`` source
    files; nothing is imported or downloaded.  Its label is the sub-package it
    lives in: ``'<package>.<sub-package>'`` for numpy, scipy and scikit-learn
    (``'scipy.sparse'``, ``'sklearn.linear_model'``; modules directly in the
    package are labelled ``'numpy'``, ``'scipy'`` or ``'sklearn'``) and the
    top-level module or package name for the standard library (``'email'``,
    ``'asyncio'``, ``'typing'``).

    Cleaning: docstrings are dedented (:func:`inspect.cleandoc`); documents
    with fewer than five words are dropped; a text found under two labels is
    dropped entirely and a text repeated under one label is kept once; test
    suites, vendored third-party code and the generated ``encodings`` codecs
    are not read; classes with fewer than ``min_docs_per_class`` documents are
    dropped.

    The result is deterministic for given installed versions: files are
    walked in sorted order and documents keep their source order.  It takes
    about 5 s (mostly :func:`ast.parse`).  With Python 3.11.7, numpy 2.4.6,
    scipy 1.17.1 and scikit-learn 1.9.1 it gives 46,055 paragraphs in 55
    classes (10,823 whole docstrings in 41 classes with ``unit='docstring'``
    and ``min_docs_per_class=100``); other versions give somewhat different
    counts (the test suite checks these against the installed versions).

    For a reproducible split use
    ``sklearn.model_selection.train_test_split(data, target, test_size=0.25,
    stratify=target, random_state=0)``.

    Parameters
    ----------
    unit : {'paragraph', 'docstring'}, default='paragraph'
        What one document is: a paragraph of a docstring (its text between
        blank lines) or the whole docstring.
    min_docs_per_class : int, default=200
        Classes with fewer documents after cleaning are dropped.
    max_docs_per_class : int or None, default=None
        If given, keep at most this many documents per class, evenly spaced
        over the class's documents in source order so that a subset still
        covers all of the class's modules.  Meant for quick runs.
    return_X_y : bool, default=False
        If True, return ``(data, target)`` instead of a Bunch.

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        With attributes ``data`` (list of str), ``target`` (ndarray of str
        labels), ``target_names`` (sorted ndarray of the labels), ``module``
        (ndarray of str, the dotted name of each document's module) and
        ``DESCR`` (str).
    (data, target) : tuple
        If ``return_X_y`` is True.
    """
    if unit not in ("paragraph", "docstring"):
        raise ValueError(f"unit must be 'paragraph' or 'docstring', got {unit!r}")
    _check_positive_integer("min_docs_per_class", min_docs_per_class)
    if max_docs_per_class is not None:
        _check_positive_integer("max_docs_per_class", max_docs_per_class)

    with _garbage_collection_paused():
        records = list(_iter_documents(split_paragraphs=unit == "paragraph"))
    records = _drop_duplicates(records)
    records = _apply_class_sizes(records, min_docs_per_class, max_docs_per_class)

    data = [text for _, _, text in records]
    target = np.array([label for label, _, _ in records], dtype=str)
    module = np.array([name for _, name, _ in records], dtype=str)
    if return_X_y:
        return data, target
    target_names = np.unique(target)
    return Bunch(
        data=data,
        target=target,
        target_names=target_names,
        module=module,
        DESCR=_describe(unit, len(data), len(target_names), min_docs_per_class),
    )


def _check_positive_integer(name: str, value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")


@contextlib.contextmanager
def _garbage_collection_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector, restoring its state afterwards.

    ast.parse allocates millions of short-lived nodes that reference counting
    frees (trees have no cycles); the collector's passes over the caller's
    heap then take about 40% of the load time for nothing.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _source_roots() -> list[tuple[str, str]]:
    """(label prefix, directory) for the standard library and each package."""
    roots = [("", sysconfig.get_paths()["stdlib"])]
    for package in _THIRD_PARTY_PACKAGES:
        # find_spec on a top-level name locates the package without importing it.
        spec = importlib.util.find_spec(package)
        if spec is None or not spec.submodule_search_locations:
            raise RuntimeError(f"cannot locate the installed {package!r} package")
        roots.append((package, list(spec.submodule_search_locations)[0]))
    return roots


def _iter_source_files(root: str) -> Iterator[tuple[list[str], str]]:
    """Yield (path parts relative to root, full path) of .py files, sorted."""
    for directory, subdirectories, files in os.walk(root):
        # Sorting in place fixes the order os.walk descends in.
        subdirectories[:] = sorted(
            name for name in subdirectories if name not in _SKIPPED_DIRECTORIES
        )
        relative = os.path.relpath(directory, root)
        parts = [] if relative == os.curdir else relative.split(os.sep)
        for name in sorted(files):
            if name.endswith(".py"):
                yield [*parts, name], os.path.join(directory, name)


def _label_and_module(prefix: str, parts: list[str]) -> tuple[str, str]:
    """Class label and dotted module name of a file given its relative path."""
    module_parts = [*parts[:-1], parts[-1][: -len(".py")]]
    if module_parts[-1] == "__init__":
        module_parts.pop()
    if prefix:
        label = f"{prefix}.{parts[0]}" if len(parts) > 1 else prefix
        module = ".".join([prefix, *module_parts])
    else:
        label = module_parts[0]
        module = ".".join(module_parts)
    return label, module


def _iter_documents(split_paragraphs: bool) -> Iterator[tuple[str, str, str]]:
    """Yield (label, module, text) for every kept document, in source order."""
    for prefix, root in _source_roots():
        for parts, path in _iter_source_files(root):
            label, module = _label_and_module(prefix, parts)
            for docstring in _file_docstrings(path):
                pieces = (
                    _PARAGRAPH_BREAK.split(docstring)
                    if split_paragraphs
                    else [docstring]
                )
                for piece in pieces:
                    text = piece.strip()
                    if len(_WORD.findall(text)) >= _MIN_WORDS:
                        yield label, module, text


def _file_docstrings(path: str) -> list[str]:
    """Cleaned module, class and function docstrings of a file, in order."""
    with open(path, "rb") as file:
        source = file.read()
    try:
        with warnings.catch_warnings():
            # Old files may hold invalid escape sequences; their warnings are
            # noise here, and under ``-W error`` they would abort the load.
            warnings.simplefilter("ignore")
            tree = ast.parse(source, filename=path)
    except (SyntaxError, ValueError):
        return []  # e.g. lib2to3 grammar fixtures written in Python 2
    docstrings = []
    pending = [tree]
    while pending:
        node = pending.pop()
        if isinstance(node, _DOCSTRING_OWNERS):
            docstring = ast.get_docstring(node, clean=True)
            if docstring:
                docstrings.append(docstring)
        for field in _NESTED_STATEMENT_FIELDS:
            # reversed: the stack then pops children in source order.
            pending.extend(reversed(getattr(node, field, ())))
    return docstrings


def _drop_duplicates(
    records: list[tuple[str, str, str]],
) -> list[tuple[str, str, str]]:
    """Keep the first copy of each text; drop texts found under two labels."""
    labels_of_text: dict[str, set[str]] = {}
    for label, _, text in records:
        labels_of_text.setdefault(text, set()).add(label)
    kept, seen = [], set()
    for record in records:
        text = record[2]
        if len(labels_of_text[text]) == 1 and text not in seen:
            seen.add(text)
            kept.append(record)
    return kept


def _apply_class_sizes(
    records: list[tuple[str, str, str]],
    min_docs_per_class: int,
    max_docs_per_class: int | None,
) -> list[tuple[str, str, str]]:
    """Drop small classes and thin out large ones, keeping source order."""
    positions_of_label: dict[str, list[int]] = {}
    for position, (label, _, _) in enumerate(records):
        positions_of_label.setdefault(label, []).append(position)
    kept_positions = []
    for positions in positions_of_label.values():
        if len(positions) < min_docs_per_class:
            continue
        if max_docs_per_class is not None and len(positions) > max_docs_per_class:
            chosen = np.linspace(0, len(positions) - 1, max_docs_per_class)
            positions = [positions[i] for i in np.round(chosen).astype(int)]
        kept_positions.extend(positions)
    return [records[position] for position in sorted(kept_positions)]


def _describe(unit: str, n_docs: int, n_classes: int, min_docs: int) -> str:
    documents = "docstring paragraphs" if unit == "paragraph" else "docstrings"
    paragraphs = [
        f"{n_docs} documents ({documents}) in {n_classes} classes.",
        "Source: the module, class and function docstrings of the Python "
        f"{platform.python_version()} standard library, numpy {np.__version__}, "
        f"scipy {scipy.__version__} and scikit-learn {sklearn.__version__}, "
        "read from the installed .py files with the ast module. Label: the "
        "sub-package a docstring lives in ('scipy.sparse', "
        "'sklearn.linear_model') or the standard-library top-level module "
        "('email', 'asyncio').",
        f"Cleaning: texts with fewer than {_MIN_WORDS} words are dropped, a text "
        "found under two labels is dropped, repeats under one label are kept "
        "once, test suites and vendored code are skipped, classes with fewer "
        f"than {min_docs} documents are dropped. The corpus changes with the "
        "installed versions and is otherwise deterministic.",
    ]
    body = "\n\n".join(
        textwrap.fill(paragraph, width=79, break_on_hyphens=False)
        for paragraph in paragraphs
    )
    return f"Docstring corpus\n----------------\n\n{body}\n"
