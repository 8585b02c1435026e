"""File-system primitives with no knowledge of the site: write, link or copy, remove, swap two folders, stat.

The publisher builds on these: a file written with plain system calls, a hard link that falls back to
a copy across file systems, the atomic exchange of two folders (renameat2 on Linux), and the inodes
and ctimes that tell whether a folder changed.
"""

from __future__ import annotations

import errno
import os
import shutil
from collections.abc import Iterable
from pathlib import Path

RENAME_EXCHANGE = 2
AT_FDCWD = -100


class CannotExchange(OSError):
    """Two folders cannot be exchanged: one is a mount point, or they are on different file systems."""


def write_file(path: str, data: bytes) -> None:
    """Write bytes to a new file with plain system calls (no buffered file object for a single write)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o666)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
    except OSError as exc:  # a write error (a full disk) names no file: the message must
        raise _naming(exc, path) from None
    finally:
        os.close(fd)


def sync_folder(folder: Path) -> None:
    """Put a folder's entries (a rename in it) on disk; Windows cannot open a folder, and keeps the rename as is."""
    if os.name != "posix":
        return
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def make_folder(path: str) -> None:
    """Create a folder and any missing parents (one system call when the parent exists, the usual case)."""
    try:
        os.mkdir(path)
    except FileExistsError:
        return
    except FileNotFoundError:
        os.makedirs(path, exist_ok=True)


def remove(path: Path) -> None:
    """Delete a file, link or whole folder."""
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    else:
        path.unlink(missing_ok=True)


def link_or_copy(source: str, target: str) -> None:
    """Hard-link a file, copying where links are not possible."""
    try:
        os.link(source, target, follow_symlinks=False)
    except OSError as exc:
        if exc.errno not in (errno.EXDEV, errno.EPERM, errno.EMLINK, errno.ENOTSUP):
            raise
        try:
            shutil.copy2(source, target, follow_symlinks=False)
        except OSError as error:
            raise _naming(error, target) from None


def _naming(exc: OSError, path: str) -> OSError:
    """Return the error with the file it concerns, when the system call that raised it named none."""
    return exc if exc.filename else OSError(exc.errno, exc.strerror, path)


def exchange(a: Path, b: Path) -> None:
    """Swap two folders atomically where the system can (Linux renameat2), else with three renames.

    Raise CannotExchange when the system refuses because of where the folders are (a mount point,
    two file systems): three renames would fail the same way.
    """
    import ctypes  # only a build that publishes needs it, not one that finds nothing changed

    try:
        renameat2 = ctypes.CDLL(None, use_errno=True).renameat2
    except AttributeError:
        renameat2 = None
    if renameat2 is not None:
        result = renameat2(AT_FDCWD, os.fsencode(a), AT_FDCWD, os.fsencode(b), RENAME_EXCHANGE)
        if result == 0:
            return
        code = ctypes.get_errno()
        if code in (errno.EBUSY, errno.EXDEV):
            raise CannotExchange(code, os.strerror(code), str(a))
        if code not in (errno.ENOSYS, errno.EINVAL, errno.ENOTSUP):
            raise OSError(code, os.strerror(code), str(a))
    # Without an atomic exchange there is a moment with no `a`: readers get a 404, never a mix.
    parked = _parked(b)
    os.rename(a, parked)
    os.rename(b, a)
    os.rename(parked, b)


def _parked(b: Path) -> Path:
    """Return where the three-rename exchange keeps `a` while it moves `b` into its place."""
    return b.with_name(b.name + ".swap")


def recover_exchange(a: Path, b: Path) -> bool:
    """Set right a three-rename exchange of `a` and `b` that a kill stopped halfway; return whether `a` was put back.

    With `a` missing, the parked folder is `a` as it was: put back. With `b` missing, it is the old `a` on
    its way to `b`: moved there, finishing the exchange. With both there, it is a leftover: removed.
    """
    parked = _parked(b)
    if not os.path.lexists(parked):
        return False
    if not os.path.lexists(a):
        os.rename(parked, a)
        return True
    if os.path.lexists(b):
        remove(parked)
    else:
        os.rename(parked, b)
    return False


def inode(path: Path) -> int:
    """Return a folder's inode number, 0 when missing."""
    try:
        return os.stat(path, follow_symlinks=False).st_ino
    except OSError:
        return 0


def file_inodes(tree: Path, folders: set[str]) -> dict[str, int]:
    """Return the inode of each file in the root and in `folders` of a tree, by path (listed, never stat'ed)."""
    found: dict[str, int] = {}
    for folder in ("", *folders):
        try:
            with os.scandir(os.path.join(tree, folder)) as entries:
                for entry in entries:
                    if entry.is_file(follow_symlinks=False):
                        found[f"{folder}/{entry.name}" if folder else entry.name] = entry.inode()
        except OSError:
            continue
    return found


def ctimes(tree: Path, folders: list[str]) -> list[int]:
    """Return the ctime of each folder of a tree, 0 for one that cannot be read (listed as changed)."""
    stat = os.stat
    found: list[int] = []
    add = found.append
    if stat not in os.supports_dir_fd:  # Windows: no stat relative to an open folder
        root = str(tree)
        for folder in folders:
            try:
                add(stat(os.path.join(root, folder)).st_ctime_ns)
            except OSError:
                add(0)
        return found
    try:
        fd = os.open(tree, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        return [0] * len(folders)
    # Tens of thousands of folders on a large site: one short system call each, relative to the open
    # tree, and no other Python work per folder (two threads were measured: no faster, the GIL).
    try:
        for folder in folders:
            try:
                add(stat(folder, dir_fd=fd).st_ctime_ns)
            except OSError:
                add(0)
    finally:
        os.close(fd)
    return found


def folders_of(paths: Iterable[str]) -> set[str]:
    """Return every folder that holds one of the paths, at any depth (the root excluded)."""
    folders: set[str] = set()
    for path in paths:
        folder = path.rpartition("/")[0]
        while folder and folder not in folders:
            folders.add(folder)
            folder = folder.rpartition("/")[0]
    return folders
