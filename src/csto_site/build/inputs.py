"""What a build reads, listed and digested once, and the quick answer when none of it changed.

A build first lists the content, templates and static folders and the program's own files (names,
sizes, mtimes, ctimes). If that listing, the options and the clock's place among the items' dates are what
the last build recorded, its output is still exactly right, and the build says so without importing
the rest of the program, reading a file or touching the output.
"""

from __future__ import annotations

import bisect
import gc
import hashlib
import os
import sys
import time
from array import array
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from ..util.digest import bytes_digest
from ..util.errors import ContentError, Problem
from ..util.files import RACY_NS, Listing, checked_walk, walk
from ..util.libraries import LIBRARIES
from .options import Options


def library_stamps() -> list[str]:
    """Name the installed versions of the libraries that shape the output (their dist-info folders).

    Read from the site-packages listings, so that nothing is imported: reinstalling the same
    versions changes nothing, upgrading any of them makes the next build start afresh.
    """
    found = []
    for entry in sys.path:
        if Path(entry).name not in ("site-packages", "dist-packages"):
            continue
        try:
            names = os.listdir(entry)
        except OSError:
            continue
        found += [
            name
            for name in names
            if name.endswith((".dist-info", ".egg-info")) and name.split("-")[0].lower().replace(".", "_") in LIBRARIES
        ]
    return sorted(found)


@dataclass(frozen=True)
class Inputs:
    """Every file a build reads, by name, size and mtime, digested with the program and the options.

    `folders` are the content, templates and static folders and the program's own, each with its listing.
    """

    digest: str
    folders: tuple[tuple[Path, Listing], ...]
    started_ns: int

    @property
    def content(self) -> Listing:
        """List the content folder."""
        return self.folders[0][1]

    @property
    def listings(self) -> Listing:
        """List every file read, folder after folder."""
        return [entry for _, listing in self.folders for entry in listing]


@dataclass(frozen=True)
class Summary:
    """The counts a build reports, kept for a later build that finds nothing changed."""

    items: int
    pages: int
    files: int
    held_back: int
    next_due: datetime | None


@dataclass(frozen=True)
class FastState:
    """What a build that finds nothing changed may report without looking further."""

    inputs: str
    racy: Mapping[str, str]
    valid_from: float
    valid_until: float
    summary: Summary


@contextmanager
def collector_paused() -> Iterator[None]:
    """Pause Python's cycle collector while long-lived, cycle-free objects pile up; restore it as it was.

    A build's listing and site model live until it ends and hold no cycles, yet each allocation brings
    the next collection closer and each full collection walks them all again: a quarter of a one-item
    rebuild at 10,000 items. Forked workers (parallel.py) turn the collector back on for their share.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def read_inputs(options: Options) -> Inputs:
    """List the content, templates, static files and the program's own files, and digest the lot.

    The digest covers the options, Python's and the libraries' versions, and for each folder its
    name, then its files' relative paths (joined by NUL, which no name holds), sizes, mtimes and
    ctimes (as 64-bit integers), each part preceded by its length. The ctime is there because an
    edit can keep a file's size and set its mtime back (`cp -p`, `touch -r`): nothing sets a ctime back.
    """
    with collector_paused():
        return _read_inputs(options)


def _read_inputs(options: Options) -> Inputs:
    """List and digest what a build reads (read_inputs, with the collector paused)."""
    started = time.time_ns()
    program = Path(__file__).parent.parent
    problems: list[Problem] = []  # content/ and static/ are listed as `publishable` lists them, all problems at once
    folders: list[tuple[Path, Listing]] = []
    for folder in (options.content, options.templates, options.static, program):
        # the program's sources, not the bytecode Python writes beside them
        listing = (
            checked_walk(folder, problems)
            if folder is options.content or folder is options.static
            else walk(folder, ".py" if folder is program else "")
        )
        folders.append((folder, listing))
    if problems:
        raise ContentError(problems)
    return Inputs(_digest(options, folders), tuple(folders), started)


def _digest(options: Options, folders: Iterable[tuple[Path, Listing]]) -> str:
    """Digest the options, Python's and the libraries' versions and each folder's listing."""
    digest = hashlib.blake2b(digest_size=16)
    digest.update(
        "\x1f".join(
            [
                repr(
                    (
                        options.content,
                        options.out,
                        options.templates,
                        options.static,
                        options.drafts,
                        options.future,
                        options.search,
                        options.record,  # a preview (serve) records nothing: the build after one must record
                    )
                ),
                sys.version,
                *library_stamps(),
            ]
        ).encode()
    )
    for folder, listing in folders:
        names: list[str] = []
        numbers: list[int] = []
        for _, rel, stat in listing:
            names.append(rel)
            numbers += (stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns)
        # A name that is not UTF-8 reaches Python as surrogates: digested as its bytes, reported by the checks.
        text = "\0".join(names).encode("utf-8", "surrogateescape")
        digest.update(f"\x1e{folder}\x1e{len(listing)}\x1e{len(text)}\x1e".encode())
        digest.update(text)
        digest.update(array("q", numbers).tobytes())
    return digest.hexdigest()


def restamped(inputs: Inputs, options: Options, rel: str) -> Inputs:
    """Return the inputs with one file of the content folder listed as it is now (added or moved in the listing).

    What the build wrote itself (the record of addresses) is listed again this way without listing every
    file: a file anything else changed meanwhile keeps its old stamps here, so the next build sees it.
    """
    path = os.path.join(os.fspath(options.content), rel)
    key = rel.split("/")
    listing = [entry for entry in inputs.content if entry[1] != rel]
    try:
        stat = os.stat(path, follow_symlinks=False)
    except OSError:
        stat = None
    if stat is not None:
        at = bisect.bisect_left(listing, key, key=lambda entry: entry[1].split("/"))
        listing.insert(at, (path, rel, stat))
    folders = ((inputs.folders[0][0], listing), *inputs.folders[1:])
    return Inputs(_digest(options, folders), folders, inputs.started_ns)


def fast_state(inputs: Inputs, moments: Iterable[float], now: datetime, summary: Summary) -> FastState:
    """Describe this build for a later one that finds nothing changed: inputs, racy files, time window.

    `moments` are the times at which the site changes by itself (an item's date, the end of its time in
    the news sitemap); the output stays right only while the clock stays between the same two of them.
    """
    racy = {
        path: file_digest(Path(path))
        for path, _, stat in inputs.listings
        if max(stat.st_mtime_ns, stat.st_ctime_ns) >= inputs.started_ns - RACY_NS
    }
    ordered = sorted(set(moments))
    stamp = now.timestamp()
    index = bisect.bisect_left(ordered, stamp)
    if index < len(ordered) and ordered[index] == stamp:
        valid_from = valid_until = stamp
    else:
        valid_from = ordered[index - 1] if index else float("-inf")
        valid_until = ordered[index] if index < len(ordered) else float("inf")
    return FastState(inputs.digest, racy, valid_from, valid_until, summary)


def fast_path_holds(fast: FastState, inputs: str, now: datetime) -> bool:
    """Tell whether the last build's output is still exactly what this one would write."""
    if fast.inputs != inputs or not fast.valid_from < now.timestamp() < fast.valid_until:
        return False
    return all(file_digest(Path(path)) == dig for path, dig in fast.racy.items())


def file_digest(path: Path) -> str:
    """Digest a file's bytes ("" when it cannot be read)."""
    try:
        return bytes_digest(path.read_bytes())
    except OSError:
        return ""
