"""The record of every address the site has published: content/addresses.txt, kept and committed with the content.

One address a line, sorted, each followed by the item file (relative to content/) it was last the
page of, if any. The build adds what it publishes and never drops a line; which addresses may be
lost, and how an address is kept (a page, a redirect, a retraction), is the site's business
(site/addresses.py): this module only reads and writes the file.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, MutableMapping
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import NamedTuple

from ..util.digest import digest_text
from ..util.errors import Problem
from ..util.files import read_text
from ..util.fs import sync_folder

RECORD_FILE = "addresses.txt"
TEMPORARY = f".{RECORD_FILE}."  # the start of the name of the record's temporary file, then the writer's id
HEADER = """\
# Every address this site has published, one a line, sorted, after it the item file it was last
# the page of. Written by `csto-site build`: commit it with the content. A line is never removed:
# the build keeps each address as a page, redirects it (an item's `aliases:`, site.yaml's
# `redirects:`) or answers 410 for it (site.yaml's `gone:`), and refuses to lose one.
"""
CONFLICT_MARKS = ("<<<<<<<", "=======", ">>>>>>>", "|||||||")


class Recorded(NamedTuple):
    """One line of the record: a published address, the item file it was last the page of (or ""), its line.

    The item file is named below the content folder as the build names items. A named tuple, not a
    dataclass: a build reads one per published address (25,000 at 10,000 items), at a fifth of the cost.
    """

    address: str
    source: str
    line: int


@dataclass(frozen=True)
class Record:
    """The record as read: its lines by address, and the digest of its text ("" when there is no file)."""

    path: str
    entries: Mapping[str, Recorded]
    digest: str

    def sources(self) -> dict[str, str]:
        """Return the address -> item file mapping the record holds ("" for addresses of no item)."""
        return {address: entry.source for address, entry in self.entries.items()}

    @cached_property
    def by_source(self) -> dict[str, list[str]]:
        """Return the addresses recorded for each item file."""
        found: dict[str, list[str]] = {}
        for address, entry in self.entries.items():
            if entry.source:
                found.setdefault(entry.source, []).append(address)
        return found


def read_record(
    content: Path, known: MutableMapping[str, tuple[Record, tuple[Problem, ...]]] | None = None
) -> tuple[Record, list[Problem]]:
    """Read content/addresses.txt (an empty record when there is none yet); report lines that are not addresses.

    Each line's item file is named below the content folder as given (`content/alpha/x.md`), as items are.
    A process that reads the record again and again (serve) passes `known`: the last text's reading, reused
    while the text is the same.
    """
    root = item_root(content)
    path = content / RECORD_FILE
    shown = str(path)
    text = read_text(shown) if path.exists() else ""
    if isinstance(text, Problem):
        return Record(shown, {}, ""), [text]
    digest = digest_text(text)
    key = f"{shown}\0{digest}"
    if known is None or key not in known:
        read = _parse_record(shown, root, text, digest)
        if known is None:
            return read
        known.clear()
        known[key] = (read[0], tuple(read[1]))
    record, problems = known[key]
    return record, list(problems)


def _parse_record(shown: str, root: str, text: str, digest: str) -> tuple[Record, list[Problem]]:
    """Read the record's lines (read_record, once its text is read)."""
    entries: dict[str, Recorded] = {}
    problems: list[Problem] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if line[:1] == "/":  # the usual line, as the build writes it: an address, then maybe its item file
            address, _, source = line.partition(" ")
            if address not in entries:
                source = source.strip()
                entries[address] = Recorded(address, root + source if source else "", number)
            continue
        if not line or line.startswith("#"):
            continue
        if line.startswith(CONFLICT_MARKS):
            problems.append(
                Problem(
                    shown,
                    number,
                    "a merge conflict mark",
                    "keep the lines of both sides and delete the marks: an address is never dropped",
                )
            )
            continue
        problems.append(
            Problem(
                shown,
                number,
                f"{line.partition(' ')[0]!r} is not an address of the site",
                'each line is an address starting with "/", then the item file it was the page of',
            )
        )
    return Record(shown, entries, digest), problems


def format_record(sources: Mapping[str, str], content: Path) -> str:
    """Write a record: the header, then each address (and its item file) on a line, sorted by address.

    `sources` name item files as the build names items (as read_record gives them); the file names them
    below `content`.
    """
    root = item_root(content)
    lines = [
        f"{address} {source.removeprefix(root)}" if source else address for address, source in sorted(sources.items())
    ]
    return HEADER + "".join(line + "\n" for line in lines)


def item_root(content: Path) -> str:
    """Return the prefix of the item files the record names, as the build names items (`content/`)."""
    return os.path.join(os.fspath(content), "")


def write_record(content: Path, text: str) -> None:
    """Replace content/addresses.txt with `text` in one rename, on disk when this returns.

    A reader never sees half a record, and a power cut leaves the old record or the new one: the
    temporary file's bytes are synced before the rename, the folder's entry after it. Without that a
    file system may write the rename first, and leave an empty addresses.txt beside a site that
    published addresses only it named.
    """
    path = content / RECORD_FILE
    temporary = path.with_name(f"{TEMPORARY}{os.getpid()}.tmp")
    try:
        with open(temporary, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)
    sync_folder(content)


def remove_stale_temporaries(content: Path) -> None:
    """Remove the record's temporary files whose writer is gone (a build killed while writing it).

    `git add content/` would commit them. One of a build still writing (into another output folder) is left.
    """
    for path in content.glob(f"{TEMPORARY}*.tmp"):
        pid = path.name.removeprefix(TEMPORARY).removesuffix(".tmp")
        if pid.isdigit() and _gone(int(pid)):
            path.unlink(missing_ok=True)


def _gone(pid: int) -> bool:
    """Tell whether no process has this id (on a system that cannot tell without signalling it, Windows: never)."""
    if os.name != "posix":  # there os.kill(pid, 0) would send Ctrl+C to the process
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:  # a process of another user
        return False
    return False
