"""The Python examples of the pages on scaling and clusters run as written, on
the data they make, each starting and closing its own cluster, and print a
score; no Dask warning about the size of a graph appears."""

import contextlib
import io
import re
import warnings
from pathlib import Path

import pytest

DOCS = Path(__file__).resolve().parents[2] / "docs"
PAGES = ("scaling.rst", "data_parallel.rst", "cluster_search.rst")


def _python_blocks(page):
    """The ``.. code-block:: python`` blocks of an RST page, dedented."""
    blocks, lines = [], (DOCS / page).read_text().splitlines()
    for index, line in enumerate(lines):
        if line.strip() != ".. code-block:: python":
            continue
        body = []
        for following in lines[index + 1 :]:
            if following.strip() and not following.startswith("   "):
                break
            body.append(following[3:])
        blocks.append("\n".join(body).strip("\n"))
    return blocks


EXAMPLES = [
    pytest.param(code, id=f"{page}-{number}")
    for page in PAGES
    for number, code in enumerate(_python_blocks(page), start=1)
]


def test_the_pages_have_examples():
    assert {param.id.split("-")[0] for param in EXAMPLES} == set(PAGES)


@pytest.mark.filterwarnings("ignore:Port 8787 is already in use")
@pytest.mark.parametrize("code", EXAMPLES)
def test_the_example_runs_as_written(code):
    assert not re.search(r"read_shard|shard_paths|rows_per_shard|ALL_CLASSES", code)
    printed = io.StringIO()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with contextlib.redirect_stdout(printed):
            exec(compile(code, "<docs example>", "exec"), {"__name__": "__docs__"})
    assert not [w for w in caught if "large graph" in str(w.message)]
    # Every example ends by printing a score or the search's choice.
    assert printed.getvalue().strip()
