"""Every code block of README.md and of the pages under docs/ runs as written.

The Python blocks of a page run in order in one namespace, as a reader pastes
them one after the other, in an empty working directory; their data is made by
the snippets themselves or shipped with the package. Every other block must
name its language (``bash``, ``console``, ``text``): a block that does not
could be code that no test runs.
"""

import warnings

import pytest
from sklearn.exceptions import ConvergenceWarning

from helpers.doc_snippets import (
    DOCS_DIR,
    NOT_PYTHON,
    PYTHON,
    REPO_DIR,
    code_blocks,
    documentation_pages,
    python_blocks,
)

PAGES = documentation_pages()


def _name(page):
    return str(page.relative_to(REPO_DIR))


def test_every_documentation_page_is_collected():
    names = {_name(page) for page in PAGES}
    assert "README.md" in names and "docs/quickstart.rst" in names
    assert {f"docs/{p.name}" for p in DOCS_DIR.glob("*.rst")} <= names
    assert {f"docs/{p.name}" for p in DOCS_DIR.glob("*.md")} <= names


@pytest.mark.parametrize("page", PAGES, ids=_name)
def test_every_code_block_names_its_language(page):
    for block in code_blocks(page):
        assert block.language in PYTHON | NOT_PYTHON, (
            f"{block.where}: a code block of language {block.language!r}; "
            f"mark Python as 'python' and commands or output as one of "
            f"{sorted(NOT_PYTHON)}"
        )


@pytest.mark.parametrize(
    "page",
    [page for page in PAGES if python_blocks(page)],
    ids=_name,
)
def test_python_blocks_run_as_written(page, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    namespace = {"__name__": "__main__"}
    for block in python_blocks(page):
        with warnings.catch_warnings():
            # A snippet's small data may leave a fit short of convergence;
            # that is not what the snippet shows.
            warnings.simplefilter("ignore", ConvergenceWarning)
            exec(compile(block.code, block.where, "exec"), namespace)


def test_blocks_are_found_with_their_languages(tmp_path):
    rst = tmp_path / "page.rst"
    rst.write_text(
        "Text::\n\n   literal = 1\n\n"
        ".. code-block:: python\n   :linenos:\n\n   a = 1\n\n       b = 2\n"
        "after\n\n"
        "   .. code-block:: bash\n\n      ls\n"
    )
    blocks = code_blocks(rst)
    assert [(b.language, b.code, b.line) for b in blocks] == [
        ("", "literal = 1\n", 1),
        ("python", "a = 1\n\n    b = 2\n", 5),
        ("bash", "ls\n", 13),
    ]
    md = tmp_path / "page.md"
    md.write_text(
        "```python\nx = 1\n```\n\n   ```bash\n   ls\n   ```\n\n"
        "````{code-block} python\n```\n````\n\n```\nbare\n```\n"
    )
    assert [(b.language, b.code) for b in code_blocks(md)] == [
        ("python", "x = 1\n"),
        ("bash", "ls\n"),
        ("python", "```\n"),
        ("", "bare\n"),
    ]
