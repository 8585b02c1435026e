"""Discover the content tree and read each file once."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from .errors import Problem

REGISTRY_FILES = ("site.yaml", "officials.yaml", "organizations.yaml")
SECTION_INDEX = "_index"


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
    """Read one file as UTF-8 (with or without BOM); report binary or unreadable files."""
    shown = str(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        return Problem(shown, 0, f"cannot read the file: {exc.strerror}", "check its permissions")
    if b"\0" in data:
        return Problem(shown, 0, "this is not a text file", "only Markdown (.md) files belong here")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        return Problem(shown, line, "the file is not UTF-8 text", "save it with the UTF-8 encoding")
    digest = hashlib.blake2b(data, digest_size=16).hexdigest()
    return SourceFile(shown, rel, text, digest)


def discover(content: Path) -> ContentTree:
    """Find section indexes and items: every .md file below a section folder."""
    sections: list[SourceFile] = []
    items: list[SourceFile] = []
    problems: list[Problem] = []
    for path in sorted(content.rglob("*.md")):
        if not path.is_file():
            continue
        rel = path.relative_to(content).as_posix()
        if any(part.startswith(".") for part in rel.split("/")):
            continue
        if "/" not in rel:
            problems.append(Problem(str(path), 0, "a news item must be inside a section folder",
                                    "move it into a folder such as csto-news/"))
            continue
        source = read_source(path, rel)
        if isinstance(source, Problem):
            problems.append(source)
        elif rel.count("/") == 1 and path.name.split(".")[0] == SECTION_INDEX:
            sections.append(source)
        else:
            items.append(source)
    return ContentTree(tuple(sections), tuple(items), tuple(problems))
