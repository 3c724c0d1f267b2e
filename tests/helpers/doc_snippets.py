"""The code blocks of the README and of the documentation pages.

reStructuredText pages hold ``.. code-block:: <language>`` directives (and
``.. code::``/``.. sourcecode::``); Markdown pages hold fenced blocks, with the
language as their info string (or MyST's ``{code-block} <language>``). A
literal block (a paragraph ending in ``::``) or a block without a language is
returned with the language ``""``: a reader cannot tell whether it is meant to
run, so the tests refuse it.
"""

import re
from dataclasses import dataclass
from pathlib import Path

REPO_DIR = Path(__file__).resolve().parents[2]
DOCS_DIR = REPO_DIR / "docs"

PYTHON = frozenset({"python", "python3", "py"})
# Blocks that are shown, never run: shell commands, and output or messages.
NOT_PYTHON = frozenset({"bash", "console", "shell", "sh", "text"})

_RST_DIRECTIVE = re.compile(r"^(\s*)\.\. (?:code-block|code|sourcecode)::\s*(\S*)")
_RST_OTHER_DIRECTIVE = re.compile(r"^\s*\.\. ")
_FENCE = re.compile(r"^(\s*)(`{3,}|~{3,})\s*(.*?)\s*$")


@dataclass
class CodeBlock:
    path: Path
    line: int  # 1-based line of the directive or the opening fence
    language: str
    code: str

    @property
    def where(self) -> str:
        return f"{self.path.relative_to(REPO_DIR)}:{self.line}"


def documentation_pages() -> list[Path]:
    """README.md and every .rst and .md page under docs/ (not a build)."""
    pages = [
        path
        for path in sorted(DOCS_DIR.rglob("*"))
        if path.suffix in (".rst", ".md") and "_build" not in path.parts
    ]
    return [REPO_DIR / "README.md", *pages]


def code_blocks(path: Path) -> list[CodeBlock]:
    lines = path.read_text(encoding="utf-8").splitlines()
    if path.suffix == ".md":
        return _fenced_blocks(path, lines)
    return _rst_blocks(path, lines)


def python_blocks(path: Path) -> list[CodeBlock]:
    return [block for block in code_blocks(path) if block.language in PYTHON]


def _indented_body(lines: list[str], start: int, indent: int) -> str:
    """The lines from ``start`` indented deeper than ``indent`` (blank lines
    included), dedented; directive options (``:linenos:``) are skipped."""
    body = []
    for line in lines[start:]:
        if line.strip() and len(line) - len(line.lstrip()) <= indent:
            break
        body.append(line)
    while body and (not body[0].strip() or body[0].strip().startswith(":")):
        body.pop(0)
    content = [line for line in body if line.strip()]
    margin = min((len(line) - len(line.lstrip()) for line in content), default=0)
    return "\n".join(line[margin:] for line in body).strip("\n") + "\n"


def _rst_blocks(path: Path, lines: list[str]) -> list[CodeBlock]:
    blocks = []
    for index, line in enumerate(lines):
        directive = _RST_DIRECTIVE.match(line)
        if directive:
            indent, language = len(directive.group(1)), directive.group(2)
        elif line.rstrip().endswith("::") and not _RST_OTHER_DIRECTIVE.match(line):
            indent, language = len(line) - len(line.lstrip()), ""
        else:
            continue
        code = _indented_body(lines, index + 1, indent)
        blocks.append(CodeBlock(path, index + 1, language.lower(), code))
    return blocks


def _fenced_blocks(path: Path, lines: list[str]) -> list[CodeBlock]:
    blocks = []
    index = 0
    while index < len(lines):
        opening = _FENCE.match(lines[index])
        if not opening:
            index += 1
            continue
        indent, fence, info = opening.groups()
        end = index + 1
        while end < len(lines):
            closing = _FENCE.match(lines[end])
            if (
                closing
                and closing.group(2)[0] == fence[0]
                and len(closing.group(2)) >= len(fence)
                and not closing.group(3)
            ):
                break
            end += 1
        words = info.split()
        if words and words[0] in ("{code-block}", "{code}", "{sourcecode}"):
            words = words[1:]
        language = words[0].lower() if words else ""
        body = [line[len(indent) :] for line in lines[index + 1 : end]]
        code = "\n".join(body).strip("\n") + "\n"
        blocks.append(CodeBlock(path, index + 1, language, code))
        index = end + 1
    return blocks
