"""List a folder's files safely and in a stable order, and read one without following a link swapped in.

Only regular files inside a folder are listed for publishing: a symbolic link that leads out, a
link loop, a named pipe or a device is a problem naming it, never something read.
"""

from __future__ import annotations

import errno
import os
import re
import shlex
from collections.abc import Iterator
from operator import attrgetter
from stat import S_ISBLK, S_ISCHR, S_ISDIR, S_ISFIFO, S_ISLNK, S_ISREG, S_ISSOCK

from .errors import ContentError, Problem

# The files the build writes, in UTF-8 bytes. File systems allow 255 bytes a name (ext4, XFS, Btrfs,
# APFS); the build adds up to 15 to a file's name (`.gz` or `.br`, then `.<pid>.tmp` while writing it),
# and the whole path, the output folder's own in front, must stay under Linux's 4,096. So each part
# of an output path (and a content file's name, which a translation lengthens) keeps to 200 bytes,
# and a whole path below the output folder to 1,000.
NAME_BYTES = 200
PATH_BYTES = 1000
# A file name that is not UTF-8 reaches Python as lone surrogates.
NOT_UTF8 = re.compile("[\ud800-\udfff]")
# Control characters (a line break in a folder's name would reach HTTP headers and every log) and the
# two non-characters XML forbids.
INVISIBLE = re.compile("[\x00-\x1f\x7f-\x9f\ufffe\uffff]")


Listing = list[tuple[str, str, os.stat_result]]
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
    found = checked_walk(folder, problems)
    if problems:
        raise ContentError(problems)
    return found


def checked_walk(folder: str | os.PathLike[str], problems: list[Problem]) -> Listing:
    """List a folder as `publishable` does, adding its problems to `problems` instead of raising them."""
    return _walk(os.fspath(folder), "", problems)


def _walk(folder: str, suffix: str, problems: list[Problem] | None) -> Listing:
    """List a folder's files (walk); with a problems list, as `publishable`, adding a problem per refused entry."""
    found: Listing = []
    append = found.append
    root = os.path.realpath(folder) if problems is not None else ""
    stack: list[tuple[Iterator[os.DirEntry[str]], str]] = []
    entries, prefix = _entries(folder, problems), ""
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
                entries, prefix = _entries(entry.path, problems), f"{prefix}{name}/"
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
            return Problem(
                path,
                0,
                f"a symbolic link that leads outside {shown.rstrip('/')}/ ({target})",
                "replace it with the file itself",
            )
        linked = os.stat(real)
    except OSError as exc:
        reason = "leads round in a loop" if exc.errno == errno.ELOOP else "leads nowhere"
        return Problem(path, 0, f"a symbolic link that {reason} ({target})", "replace it with the file itself")
    if not S_ISREG(linked.st_mode):
        what = "a folder" if S_ISDIR(linked.st_mode) else _kind(linked.st_mode)
        return Problem(
            path,
            0,
            f"a symbolic link to {what} ({target})",
            "replace it with the file or folder itself: only links to files are followed",
        )
    if any(part.startswith(".") for part in rel.split(os.sep)):
        return Problem(
            path,
            0,
            f"a symbolic link to a hidden file ({target})",
            "hidden files are never published: replace the link with the file itself",
        )
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


# A file or folder changed this close to the moment its stat was taken may change again within the
# clock's resolution without its times moving (git's "racy clean"): such a stat is not trusted next time.
RACY_NS = 2_000_000_000

# Reading never follows a link in place of the listed file's name (one swapped in after the listing is
# refused, or checked again like a listed link) and never waits (a named pipe swapped in would block).
READ_FLAGS = (
    os.O_RDONLY
    | getattr(os, "O_NOFOLLOW", 0)
    | getattr(os, "O_NONBLOCK", 0)
    | getattr(os, "O_CLOEXEC", 0)
    | getattr(os, "O_BINARY", 0)
)


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
        return unreadable(path, exc)


def read_text(path: str) -> str | Problem:
    """Read a UTF-8 text file (without its byte-order mark, if any); else say why it cannot be read."""
    try:
        with open(path, "rb") as handle:
            data = handle.read()
    except OSError as exc:
        return unreadable(path, exc)
    return decoded(path, data)


def decoded(path: str, data: bytes) -> str | Problem:
    """Decode a file's bytes as UTF-8 (without its byte-order mark, if any); else name the first line that is not."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        return Problem(path, line, "the file is not UTF-8 text", "save it with the UTF-8 encoding")


def unreadable(path: str, exc: OSError, what: str = "file") -> Problem:
    """Describe a file (or a folder: `what`) the system would not let the build read, in words, with what to do."""
    reason = (exc.strerror or "refused by the system").lower()
    return Problem(path, 0, f"cannot read the {what}: {reason}", _read_hint(path, exc, what))


def _read_hint(path: str, exc: OSError, what: str) -> str:
    """Say what to do about a file or folder that could not be read: only a refusal is about its permissions."""
    if isinstance(exc, PermissionError):
        # A folder is listed and entered (x), a file only read.
        return f"make it readable: chmod a+{'rx' if what == 'folder' else 'r'} {shlex.quote(path)}"
    if isinstance(exc, (FileNotFoundError, NotADirectoryError)):
        return "it was moved or deleted meanwhile: run the command again"
    if isinstance(exc, IsADirectoryError):
        return "give the path of a file, not of a folder"
    return f"check the disk, and copy the {what} again"


def _entries(folder: str, problems: list[Problem] | None) -> Iterator[os.DirEntry[str]]:
    """Return the entries of a folder sorted by name (none if it is gone).

    A folder the system will not list is a problem added to `problems`, or raised without a list.
    """
    try:
        return iter(sorted(os.scandir(folder), key=_NAME))
    except (FileNotFoundError, NotADirectoryError):
        return iter(())
    except OSError as exc:
        problem = unreadable(folder, exc, "folder")
        if problems is None:
            raise ContentError([problem]) from None
        problems.append(problem)
        return iter(())


def name_error(path: str, suffixes: tuple[str, ...] = ()) -> str:
    """Return why a file cannot have this relative path on any file system the site goes to, or "".

    A name ending with one of `suffixes` (added by the program itself) may exceed the limit by that much.
    """
    if NOT_UTF8.search(path):
        return "its name is not UTF-8 text"
    bad = INVISIBLE.search(path)
    if bad:
        return f"it holds the invisible control character U+{ord(bad.group()):04X}"
    size = len(path) if path.isascii() else len(path.encode())
    if size > PATH_BYTES:
        return f"it is {size} bytes long, more than the {PATH_BYTES} a path may have"
    if size > NAME_BYTES:
        for part in path.split("/"):
            length = len(part.encode()) - max((len(s) for s in suffixes if part.endswith(s)), default=0)
            if length > NAME_BYTES:
                return (
                    f"its part {part[:24] + '...'!r} is {length} bytes long, more than the {NAME_BYTES} a name may have"
                )
    return ""
