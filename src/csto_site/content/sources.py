"""Discover the content tree and read each file once."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from ..util.digest import bytes_digest
from ..util.errors import Problem
from ..util.files import decoded, publishable, read_listed
from .record import RECORD_FILE

REGISTRY_FILES = ("site.yaml", "officials.yaml", "organizations.yaml")
# Every file of content/ the build reads besides the items: the registries and the record of addresses.
OWN_FILES = (*REGISTRY_FILES, RECORD_FILE)
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


def read_source(path: Path, rel: str) -> SourceFile | Problem:
    """Read one file as UTF-8 (with or without BOM); report binary or unreadable files, and links out of content/."""
    shown = str(path)
    data = read_listed(shown, path.parents[rel.count("/")])
    if isinstance(data, Problem):
        return data
    if data.startswith(UTF16_BOMS):
        return Problem(shown, 1, "the file is saved as UTF-16", "save it with the UTF-8 encoding")
    if b"\0" in data:
        return Problem(
            shown,
            _binary_line(data),
            "this is not a text file (it contains NUL bytes)",
            "only Markdown (.md) text files are items; a photo or document goes in its item's folder"
            " (see docs/guide.md, Photos and documents)",
        )
    if len(data) > MAX_ITEM_BYTES:
        return Problem(
            shown,
            1,
            f"the file is {len(data) / 2**20:.1f} MB, more than the 1 MB a news item may have",
            "split it into several items, or put the document under static/ and link to it",
        )
    text = decoded(shown, data)
    if isinstance(text, Problem):
        return text
    bad = FORBIDDEN.search(text)
    if bad:
        line = text.count("\n", 0, bad.start()) + 1
        return Problem(
            shown,
            line,
            f"invisible control character U+{ord(bad.group()):04X}",
            "delete it (it often comes with text pasted from a word processor)",
        )
    digest = bytes_digest(data)
    return SourceFile(shown, rel, text, digest)


def _binary_line(data: bytes) -> int:
    """Return the line of the first NUL byte when text precedes it, else 1 (a wholly binary file)."""
    before = data[: data.index(b"\0")]
    try:
        before.decode("utf-8")
    except UnicodeDecodeError:
        return 1
    return before.count(b"\n") + 1


def _visible_files(content: Path) -> Iterator[tuple[Path, str]]:
    """Yield every file below `content` with its relative path, as the build lists them (util.files.publishable)."""
    for path, rel, _ in publishable(content):
        yield Path(path), rel


def _ignored(path: Path, rel: str) -> bool:
    """Tell whether the build leaves a content file alone: neither Markdown nor a registry."""
    return path.suffix != ".md" and rel not in OWN_FILES


def ignored_files(content: Path) -> tuple[str, ...]:
    """List the files below `content` that the build ignores, without reading any file."""
    return tuple(str(path) for path, rel in _visible_files(content) if _ignored(path, rel))


def is_section_index(rel: str) -> bool:
    """Tell whether a content path is a section's _index.md (or _index.<lang>.md)."""
    return rel.count("/") == 1 and rel.rsplit("/", 1)[1].split(".")[0] == SECTION_INDEX


def read_sections(content: Path) -> tuple[tuple[SourceFile, ...], tuple[Problem, ...]]:
    """Read only the section indexes, for commands that need the sections but not the items."""
    sections: list[SourceFile] = []
    problems: list[Problem] = []
    for path in sorted(content.glob(f"*/{SECTION_INDEX}*.md")):
        rel = path.relative_to(content).as_posix()
        if rel.startswith(".") or not is_section_index(rel) or not path.is_file():
            continue
        source = read_source(path, rel)
        if isinstance(source, Problem):
            problems.append(source)
        else:
            sections.append(source)
    return tuple(sections), tuple(problems)


def discover(content: Path) -> ContentTree:
    """Find section indexes and items: every .md file below a section folder."""
    sections: list[SourceFile] = []
    items: list[SourceFile] = []
    problems: list[Problem] = []
    for path, rel in _visible_files(content):
        if path.suffix != ".md":
            continue
        if "/" not in rel:
            problems.append(
                Problem(
                    str(path),
                    1,
                    "a news item must be inside a section folder",
                    "move it into a folder such as csto-news/",
                )
            )
            continue
        source = read_source(path, rel)
        if isinstance(source, Problem):
            problems.append(source)
        elif is_section_index(rel):
            sections.append(source)
        else:
            items.append(source)
    return ContentTree(tuple(sections), tuple(items), tuple(problems))
