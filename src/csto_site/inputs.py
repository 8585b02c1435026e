"""What a build reads, listed and digested once, and the quick answer when none of it changed.

A build first lists the content, templates and static folders and the program's own files (names,
sizes, mtimes, ctimes). If that listing, the options and the clock's place among the items' dates are what
the last build recorded, its output is still exactly right, and the build says so without importing
the rest of the program, reading a file or touching the output.
"""

from __future__ import annotations

import bisect
import errno
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
from operator import attrgetter
from pathlib import Path
from stat import S_ISBLK, S_ISCHR, S_ISDIR, S_ISFIFO, S_ISLNK, S_ISREG, S_ISSOCK
from typing import Any

from .errors import ContentError, Problem

# A file modified this close to the moment its stat was taken may change again within the clock's
# resolution without its mtime moving, so its stat is not trusted next time (git's "racy clean").
RACY_NS = 2_000_000_000

Listing = list[tuple[str, str, os.stat_result]]
# The libraries whose version can change what a build writes (their distribution names, normalised).
LIBRARIES = frozenset({"jinja2", "markupsafe", "markdown", "nh3", "pyyaml", "python_slugify", "text_unidecode",
                       "unidecode", "feedgen", "lxml", "python_dateutil", "brotli", "cbor2", "pagefind_bin",
                       "tzdata"})
_NAME = attrgetter("name")


def walk(folder: str | os.PathLike[str], suffix: str = "") -> Listing:
    """List (path, relative path, stat) of the files below a folder, skipping hidden names, sorted by path.

    Sorted by path as a sequence of names: a folder's files come at its name's place among its
    siblings. Each folder's entries are sorted by name and walked depth first, which is that order.
    Only names ending with `suffix` are listed (all when it is empty); folders are always walked.
    A link to a file is listed as that file, other links and special files are skipped: this is for
    the program's own files and the templates, which are never published; see `publishable`.
    """
    return _walk(os.fspath(folder), suffix, None)


def publishable(folder: str | os.PathLike[str]) -> Listing:
    """List the files of content/ or static/ as `walk` does, refusing all but regular files inside the folder.

    The one listing of those folders: the quick check that nothing changed, the build, `check` and
    the copy of static/ all use it, so they always see the same files. Hidden names are skipped; a
    symbolic link to a file inside the folder is listed as that file. Raise ContentError naming every
    other link (out of the folder, to a folder, to nothing) and every special file (a named pipe would
    hang its reader): a committed link to /proc/self/environ or ../.git/config would publish secrets.
    """
    problems: list[Problem] = []
    found = _walk(os.fspath(folder), "", problems)
    if problems:
        raise ContentError(problems)
    return found


def _walk(folder: str, suffix: str, problems: list[Problem] | None) -> Listing:
    """List a folder's files (walk); with a problems list, as `publishable`, adding a problem per refused entry."""
    found: Listing = []
    append = found.append
    root = os.path.realpath(folder) if problems is not None else ""
    stack: list[tuple[Iterator[os.DirEntry[str]], str]] = []
    entries, prefix = _entries(folder), ""
    while True:
        for entry in entries:
            name = entry.name
            if name[0] == ".":
                continue
            if entry.is_file(follow_symlinks=False):
                if name.endswith(suffix):
                    append((entry.path, prefix + name, entry.stat()))
            elif entry.is_dir(follow_symlinks=False):
                stack.append((entries, prefix))  # resumed after this folder, at the next name
                entries, prefix = _entries(entry.path), f"{prefix}{name}/"
                break
            elif problems is None:
                if entry.is_file() and name.endswith(suffix):  # a link to a file
                    append((entry.path, prefix + name, entry.stat()))
            else:  # a link or a special file: rare, so checked with care rather than speed
                followed = _follow(entry.path, root, folder)
                if isinstance(followed, Problem):
                    problems.append(followed)
                else:
                    append((entry.path, prefix + name, followed[1]))
        else:
            if not stack:
                return found
            entries, prefix = stack.pop()


def _follow(path: str, root: str, shown: str) -> tuple[str, os.stat_result] | Problem:
    """Resolve a link inside a folder to the regular file it leads to (its real path and stat), or say why not.

    `root` is the folder's real path, `shown` the folder as the user named it. A special file (not a
    link) is refused too: the listing sends here every entry that is neither a file nor a folder.
    """
    target = ""
    try:
        mode = os.lstat(path).st_mode
        if not S_ISLNK(mode):
            return _special(path, mode)
        target = os.readlink(path)
        real = os.path.realpath(path)
        rel = os.path.relpath(real, root)
        if rel == os.pardir or rel.startswith(os.pardir + os.sep):
            return Problem(path, 0, f"a symbolic link that leads outside {shown.rstrip('/')}/ ({target})",
                           "replace it with the file itself")
        linked = os.stat(real)
    except OSError as exc:
        reason = "leads round in a loop" if exc.errno == errno.ELOOP else "leads nowhere"
        return Problem(path, 0, f"a symbolic link that {reason} ({target})", "replace it with the file itself")
    if not S_ISREG(linked.st_mode):
        what = "a folder" if S_ISDIR(linked.st_mode) else _kind(linked.st_mode)
        return Problem(path, 0, f"a symbolic link to {what} ({target})",
                       "replace it with the file or folder itself: only links to files are followed")
    if any(part.startswith(".") for part in rel.split(os.sep)):
        return Problem(path, 0, f"a symbolic link to a hidden file ({target})",
                       "hidden files are never published: replace the link with the file itself")
    return real, linked


def _special(path: str, mode: int) -> Problem:
    """Describe a special file found where only files and folders belong."""
    return Problem(path, 0, f"{_kind(mode)}, not a regular file", "remove it: only files and folders belong here")


def _kind(mode: int) -> str:
    """Name the kind of a special file."""
    if S_ISFIFO(mode):
        return "a named pipe (FIFO)"
    if S_ISSOCK(mode):
        return "a socket"
    return "a device" if S_ISCHR(mode) or S_ISBLK(mode) else "a special file"


# Reading never follows a link in place of the listed file's name (one swapped in after the listing is
# refused, or checked again like a listed link) and never waits (a named pipe swapped in would block).
READ_FLAGS = (os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)
              | getattr(os, "O_BINARY", 0))


def read_listed(path: str, folder: str | os.PathLike[str]) -> bytes | Problem:
    """Read a file `publishable` listed in `folder`: a regular file, or a link to one inside it; else say why not."""
    try:
        try:
            fd = os.open(path, READ_FLAGS)
            expected = None
        except OSError as exc:
            if exc.errno != errno.ELOOP:
                raise
            followed = _follow(path, os.path.realpath(folder), os.fspath(folder))
            if isinstance(followed, Problem):
                return followed
            real, expected = followed
            fd = os.open(real, READ_FLAGS)
        with open(fd, "rb") as handle:
            opened = os.fstat(fd)
            if not S_ISREG(opened.st_mode):
                return _special(path, opened.st_mode)
            if expected is not None and (opened.st_dev, opened.st_ino) != (expected.st_dev, expected.st_ino):
                return Problem(path, 0, "the link changed while the build read it", "build again")
            return handle.read()
    except OSError as exc:
        return Problem(path, 0, f"cannot read the file: {exc.strerror}", "check its permissions")


def _entries(folder: str) -> Iterator[os.DirEntry[str]]:
    """Return the entries of a folder sorted by name (none if it is gone)."""
    try:
        return iter(sorted(os.scandir(folder), key=_NAME))
    except (FileNotFoundError, NotADirectoryError):
        return iter(())


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
        found += [name for name in names if name.endswith((".dist-info", ".egg-info"))
                  and name.split("-")[0].lower().replace(".", "_") in LIBRARIES]
    return sorted(found)


def digest_text(*parts: str) -> str:
    """Return a short hex digest of text parts."""
    return hashlib.blake2b("\x1f".join(parts).encode(), digest_size=16).hexdigest()


@dataclass(frozen=True)
class Inputs:
    """Every file a build reads, by name, size and mtime, digested with the program and the options."""

    digest: str
    content: Listing
    listings: Listing
    started_ns: int


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


def read_inputs(options: Any) -> Inputs:
    """List the content, templates, static files and the program's own files, and digest the lot.

    The digest covers the options, Python's and the libraries' versions, and for each folder its
    name, then its files' relative paths (joined by NUL, which no name holds), sizes, mtimes and
    ctimes (as 64-bit integers), each part preceded by its length. The ctime is there because an
    edit can keep a file's size and set its mtime back (`cp -p`, `touch -r`): nothing sets a ctime back.
    """
    with collector_paused():
        return _read_inputs(options)


def _read_inputs(options: Any) -> Inputs:
    """List and digest what a build reads (read_inputs, with the collector paused)."""
    started = time.time_ns()
    digest = hashlib.blake2b(digest_size=16)
    digest.update("\x1f".join([repr((options.content, options.out, options.templates, options.static,
                                      options.drafts, options.future, options.search, options.reindex)),
                               sys.version, *library_stamps()]).encode())
    listings: Listing = []
    content: Listing = []
    program = Path(__file__).parent
    problems: list[Problem] = []  # content/ and static/ are listed as `publishable` lists them, all problems at once
    for folder in (options.content, options.templates, options.static, program):
        # the program's sources, not the bytecode Python writes beside them
        listing = (_walk(os.fspath(folder), "", problems) if folder is options.content or folder is options.static
                   else walk(folder, ".py" if folder is program else ""))
        if folder is options.content:
            content = listing
        listings += listing
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
    if problems:
        raise ContentError(problems)
    return Inputs(digest.hexdigest(), content, listings, started)


def fast_state(inputs: Inputs, moments: Iterable[float], now: datetime, summary: Summary) -> FastState:
    """Describe this build for a later one that finds nothing changed: inputs, racy files, time window.

    `moments` are the times at which the site changes by itself (an item's date, the end of its time in
    the news sitemap); the output stays right only while the clock stays between the same two of them.
    """
    racy = {path: file_digest(Path(path)) for path, _, stat in inputs.listings
            if max(stat.st_mtime_ns, stat.st_ctime_ns) >= inputs.started_ns - RACY_NS}
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
        return hashlib.blake2b(path.read_bytes(), digest_size=16).hexdigest()
    except OSError:
        return ""
