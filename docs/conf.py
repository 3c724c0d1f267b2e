"""Sphinx configuration for the sk_adagrad documentation.

Build with ``python -m sphinx -W --keep-going -b html docs docs/_build/html``.
"""

from __future__ import annotations

import ast
import importlib.metadata
import re
from pathlib import Path

from docutils import nodes
from docutils.parsers.rst import Directive
from docutils.statemachine import StringList
from sphinx.util.parsing import nested_parse_to_nodes

DOCS_DIR = Path(__file__).resolve().parent
REPO_DIR = DOCS_DIR.parent
EXAMPLES_DIR = REPO_DIR / "examples"
EXAMPLE_OUTPUT_DIR = EXAMPLES_DIR / "output"
MAIN_EXAMPLE = "text_classification.py"

project = "sk_adagrad"
author = "sk_adagrad developers"
copyright = "sk_adagrad developers"
try:
    release = importlib.metadata.version("sk_adagrad")
except importlib.metadata.PackageNotFoundError:
    release = ""
version = release

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.intersphinx",
    "sphinx.ext.mathjax",
    "numpydoc",
    "myst_parser",
]

# Markdown pages (the benchmark tables and the measured defaults) are written by
# scripts and by hand next to the reStructuredText pages.
source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
myst_enable_extensions = ["dollarmath"]
myst_heading_anchors = 3

root_doc = "index"
exclude_patterns = ["_build", "Thumbs.db", ".DS_Store"]
templates_path = ["_templates"]

# The API pages are written by hand (docs/sk_adagrad.*.rst) so that building
# the site never writes files into the source tree.
autosummary_generate = False
autodoc_default_options = {"inherited-members": False}
autodoc_typehints = "none"

# numpydoc renders the sections of our docstrings; the member tables it would
# add duplicate the methods autodoc already lists on each class page.
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_xref_param_type = False

# No network at build time: cross-references to other projects are written as
# plain links, so intersphinx has no inventories to fetch.
intersphinx_mapping: dict[str, tuple[str, str | None]] = {}

html_theme = "pydata_sphinx_theme"
html_title = "sk_adagrad"
html_static_path = ["_static"]
html_css_files = ["custom.css"]
html_theme_options = {
    "navigation_with_keys": False,
    "show_toc_level": 2,
    "secondary_sidebar_items": ["page-toc"],
}
html_show_sourcelink = False


def _module_docstring(script: Path) -> str:
    """Return the module docstring of ``script`` (empty if it has none)."""
    tree = ast.parse(script.read_text(encoding="utf-8"))
    return ast.get_docstring(tree) or ""


def _written_pngs(script: Path) -> list[str]:
    """Return the PNG file names an example script mentions, in order."""
    names = re.findall(r"[\w.-]+\.png", script.read_text(encoding="utf-8"))
    return list(dict.fromkeys(names))


def _example_scripts() -> list[Path]:
    """The example scripts, the main one (the README's first command) first."""
    scripts = [p for p in EXAMPLES_DIR.glob("*.py") if not p.name.startswith("_")]
    return sorted(scripts, key=lambda p: (p.name != MAIN_EXAMPLE, p.name))


class ExampleScripts(Directive):
    """List every script in ``examples/`` with its description, code and plots.

    Each script's module docstring becomes its description. Plots the script
    writes to ``examples/output/`` are not committed; those present when the
    site is built (after running the examples) are shown under the script.
    """

    has_content = False

    def run(self) -> list[nodes.Node]:
        env = self.state.document.settings.env
        lines: list[str] = []
        for script in _example_scripts():
            env.note_dependency(str(script))
            lines += self._script_section(script)
        if not lines:
            lines = ["No example scripts were found.", ""]
        content = StringList(lines, source="examples")
        return nested_parse_to_nodes(self.state, content, allow_section_headings=True)

    def _script_section(self, script: Path) -> list[str]:
        summary, _, body = _module_docstring(script).partition("\n")
        lines = [script.name, "-" * len(script.name), ""]
        if summary.strip():
            lines += [f"**{summary.strip()}**", ""]
        lines += body.strip().splitlines() + [""]
        lines += ["Run it from the repository root:", ""]
        lines += [".. code-block:: bash", "", f"   python examples/{script.name}", ""]
        for png in _written_pngs(script):
            if (EXAMPLE_OUTPUT_DIR / png).exists():
                lines += [
                    f".. figure:: /../examples/output/{png}",
                    "   :width: 90%",
                    "",
                    f"   ``examples/output/{png}``",
                    "",
                ]
            else:
                lines += [
                    f"The script writes the plot ``examples/output/{png}``.",
                    "",
                ]
        # The listing is folded away so that the page stays readable.
        lines += [
            ".. raw:: html",
            "",
            f"   <details><summary>The code of {script.name}</summary>",
            "",
            # A leading slash makes the path relative to the docs directory.
            f".. literalinclude:: /../examples/{script.name}",
            "   :language: python",
            "   :linenos:",
            "",
            ".. raw:: html",
            "",
            "   </details>",
            "",
        ]
        return lines


def setup(app) -> dict[str, bool]:
    app.add_directive("example-scripts", ExampleScripts)
    return {"parallel_read_safe": True}
