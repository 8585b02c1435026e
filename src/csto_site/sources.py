"""Discover the content tree and read each file once."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

from .errors import Problem

REGISTRY_FILES = ("site.yaml", "officials.yaml", "organizations.yaml")
SECTION_INDEX = "_index"
# The longest real news items (treaty texts) are a few hundred kilobytes; Markdown takes about
# three seconds a megabyte, so a bigger file is refused rather than slowing every clean build.
MAX_ITEM_BYTES = 1024 * 1024
# Characters XML 1.0 forbids: they would break feeds and sitemaps, and they are invisible in editors.
FORBIDDEN = re.compile("[\x01-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")


@dataclass(frozen=True)
class SourceFile:
    """One content file: where it is, its text and a digest of its bytes."""

    path: str
    rel: str
    text: str
    digest: str


@dataclass(frozen=True)
class ContentTree:
    """The content files, sorted into section indexes and news items."""

    sections: tuple[SourceFile, ...]
    items: tuple[SourceFile, ...]
    problems: tuple[Problem, ...]
    ignored: tuple[str, ...] = ()


def read_source(path: Path, rel: str) -> SourceFile | Problem:
    """Read one file as UTF-8 (with or without BOM); report binary or unreadable files."""
    shown = str(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        return Problem(shown, 0, f"cannot read the file: {exc.strerror}", "check its permissions")
    if data.startswith(UTF16_BOMS):
        return Problem(shown, 1, "the file is saved as UTF-16", "save it with the UTF-8 encoding")
    if b"\0" in data:
        return Problem(shown, _binary_line(data), "this is not a text file (it contains NUL bytes)",
                       "only Markdown (.md) text files belong here; put images and documents under static/")
    if len(data) > MAX_ITEM_BYTES:
        return Problem(shown, 1, f"the file is {len(data) / 2**20:.1f} MB, more than the 1 MB a news item may have",
                       "split it into several items, or put the document under static/ and link to it")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        return Problem(shown, line, "the file is not UTF-8 text", "save it with the UTF-8 encoding")
    bad = FORBIDDEN.search(text)
    if bad:
        line = text.count("\n", 0, bad.start()) + 1
        return Problem(shown, line, f"invisible control character U+{ord(bad.group()):04X}",
                       "delete it (it often comes with text pasted from a word processor)")
    digest = hashlib.blake2b(data, digest_size=16).hexdigest()
    return SourceFile(shown, rel, text, digest)


def _binary_line(data: bytes) -> int:
    """Return the line of the first NUL byte when text precedes it, else 1 (a wholly binary file)."""
    before = data[: data.index(b"\0")]
    try:
        before.decode("utf-8")
    except UnicodeDecodeError:
        return 1
    return before.count(b"\n") + 1


def discover(content: Path) -> ContentTree:
    """Find section indexes and items (every .md file below a section folder) and the files ignored."""
    sections: list[SourceFile] = []
    items: list[SourceFile] = []
    problems: list[Problem] = []
    ignored: list[str] = []
    for path in sorted(content.rglob("*")):
        rel = path.relative_to(content).as_posix()
        if any(part.startswith(".") for part in rel.split("/")) or not path.is_file():
            continue
        if path.suffix != ".md":
            if rel not in REGISTRY_FILES:
                ignored.append(str(path))
            continue
        if "/" not in rel:
            problems.append(Problem(str(path), 1, "a news item must be inside a section folder",
                                    "move it into a folder such as csto-news/"))
            continue
        source = read_source(path, rel)
        if isinstance(source, Problem):
            problems.append(source)
        elif rel.count("/") == 1 and path.name.split(".")[0] == SECTION_INDEX:
            sections.append(source)
        else:
            items.append(source)
    return ContentTree(tuple(sections), tuple(items), tuple(problems), tuple(ignored))
