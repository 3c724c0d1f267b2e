"""Writing a study's figures into its page of docs/: between two markers of the
page, or as the section under a heading."""

from __future__ import annotations

import re
from pathlib import Path


def replace_between(path: Path, start: str, end: str, text: str) -> None:
    """Put ``text`` between the marker ``start`` of the page at ``path`` and the
    first marker ``end`` after it, in place of what was there."""
    page = path.read_text(encoding="utf-8")
    head, found_start, rest = page.partition(start)
    _, found_end, tail = rest.partition(end)
    if not (found_start and found_end):
        raise ValueError(f"{path} has no {start} ... {end} block")
    path.write_text(head + start + text + end + tail, encoding="utf-8")


def write_keeping_sections(path: Path, text: str) -> None:
    """Write the page ``text`` at ``path``, followed by the sections (``## ``
    headings) of the page there now that ``text`` lacks: those other studies
    wrote into it."""
    old = path.read_text(encoding="utf-8") if path.exists() else ""
    titles = re.findall(r"^## .*$", old, re.M)
    kept = [
        find_section(path, t)
        for t in titles
        if not re.search(rf"^{re.escape(t)}$", text, re.M)
    ]
    path.write_text(
        "\n\n".join([text.rstrip("\n"), *(s.rstrip("\n") for s in kept)]) + "\n",
        encoding="utf-8",
    )


def _section_pattern(title: str) -> re.Pattern:
    """A Markdown section: the heading line ``title`` up to the next ``## ``."""
    return re.compile(re.escape(title) + r"\n.*?(?=\n## |\Z)", re.S)


def find_section(path: Path, title: str) -> str:
    """The section of the page at ``path`` under heading ``title``, or ''."""
    found = _section_pattern(title).search(path.read_text(encoding="utf-8"))
    return found.group(0) if found else ""


def replace_section(path: Path, title: str, section: str) -> None:
    """Put ``section`` (its heading ``title`` included) in place of the page's
    section under ``title``, or at the end of the page if it has none."""
    text = path.read_text(encoding="utf-8")
    pattern = _section_pattern(title)
    if pattern.search(text):
        # Ended by a newline: a blank line then parts it from the next section.
        text = pattern.sub(lambda _: section.rstrip("\n") + "\n", text)
    else:
        text = text.rstrip("\n") + "\n\n" + section + "\n"
    path.write_text(text, encoding="utf-8")
