"""Publish a build atomically: bring a standby copy of the site up to date, then swap the two folders.

The output folder (public/) has a twin, `.public.publish/standby/`, and the two share every unchanged
file as a hard link. A build writes only the files whose bytes changed into the standby, carries
over files that people placed in public/ by hand, then exchanges the two folders in one atomic
rename (renameat2 RENAME_EXCHANGE on Linux; two renames elsewhere). A web server reading public/
sees the old site or the new one, never a mix; an unchanged file keeps its inode and mtime; a
failed build never touches public/. `.public.publish/manifest.sqlite` records what each folder
holds, and the folder itself is locked while a build runs, so a second build is refused.
"""

from __future__ import annotations

import ctypes
import errno
import hashlib
import os
import pickle
import posixpath
import shutil
import sqlite3
import time
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from .cache import open_store
from .errors import ContentError, Problem

SCHEMA = 1
TABLES = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS files (path TEXT PRIMARY KEY, digest TEXT NOT NULL, signature TEXT NOT NULL,
                                  grp TEXT NOT NULL, indexed INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS stale (path TEXT PRIMARY KEY);
CREATE TABLE IF NOT EXISTS stamps (tree INTEGER NOT NULL, dir TEXT NOT NULL, ctime_ns INTEGER NOT NULL,
                                   PRIMARY KEY (tree, dir));
CREATE TABLE IF NOT EXISTS foreign_entries (tree INTEGER NOT NULL, path TEXT NOT NULL, PRIMARY KEY (tree, path));
"""
# A folder changed this close to the moment its ctime was read may change again unnoticed within
# the clock's resolution; such a stamp is not trusted, and the folder is listed next time.
RACY_NS = 2_000_000_000
RENAME_EXCHANGE = 2
AT_FDCWD = -100


@dataclass(frozen=True)
class Output:
    """One file of the built site and what produced it."""

    path: str
    data: bytes
    source: str


class Produced(Protocol):
    """Anything that names an output path and what produces it."""

    @property
    def path(self) -> str: ...

    @property
    def source(self) -> str: ...


def check_unique(outputs: Iterable[Produced]) -> list[Problem]:
    """Report two producers of one output path, naming both."""
    owners: dict[str, str] = {}
    problems = []
    for output in outputs:
        if output.path in owners:
            problems.append(Problem(output.source, 0, f"{output.path} is also written by {owners[output.path]}",
                                    "give one of them another address"))
        else:
            owners[output.path] = output.source
    return problems


def path_error(path: str) -> str:
    """Return why an output path could leave the output folder or clash with a folder, or ""."""
    if not path or path.startswith("/") or "\\" in path or "\0" in path:
        return "it is not a relative path inside the output folder"
    parts = path.split("/")
    if any(part in ("", ".", "..") for part in parts):
        return "it leads outside the output folder"
    if posixpath.normpath(path) != path:
        return "it is not a plain path"
    return ""


def check_paths(outputs: Iterable[Produced]) -> list[Problem]:
    """Report output paths that would write outside the output folder, or where a file must be a folder."""
    problems = []
    paths = set()
    for output in outputs:
        reason = path_error(output.path)
        if reason:
            problems.append(Problem(output.source, 0, f"cannot write {output.path!r}: {reason}",
                                    "use an address made of letters, digits and hyphens"))
        else:
            paths.add(output.path)
    folders = {posixpath.dirname(p) for p in paths}
    for folder in sorted(folders):
        while folder:
            if folder in paths:
                problems.append(Problem(folder, 0, f"{folder} is written both as a file and as a folder",
                                        "give one of them another address"))
            folder = posixpath.dirname(folder)
    return problems


@dataclass(frozen=True)
class FileRecord:
    """What the manifest knows of one published file."""

    digest: str
    signature: str
    group: str
    indexed: bool


@dataclass(frozen=True)
class FastState:
    """What a build that found nothing changed may report without looking further."""

    inputs: str
    racy: Mapping[str, str]
    valid_from: float
    valid_until: float
    summary: Any


@dataclass
class Changes:
    """What one build did to the output: files written, removed and left as they were."""

    written: set[str] = field(default_factory=set)
    removed: set[str] = field(default_factory=set)
    unchanged: int = 0


def file_digest(data: bytes) -> str:
    """Return the digest the manifest keeps of a file's bytes."""
    return hashlib.blake2b(data, digest_size=16).hexdigest()


def exchange(a: Path, b: Path) -> None:
    """Swap two folders atomically where the system can (Linux renameat2), else with three renames."""
    try:
        renameat2 = ctypes.CDLL(None, use_errno=True).renameat2
    except AttributeError:
        renameat2 = None
    if renameat2 is not None:
        result = renameat2(AT_FDCWD, os.fsencode(a), AT_FDCWD, os.fsencode(b), RENAME_EXCHANGE)
        if result == 0:
            return
        code = ctypes.get_errno()
        if code not in (errno.ENOSYS, errno.EINVAL, errno.ENOTSUP):
            raise OSError(code, os.strerror(code), str(a))
    # Without an atomic exchange there is a moment with no `a`: readers get a 404, never a mix.
    parked = b.with_name(b.name + ".swap")
    os.rename(a, parked)
    os.rename(b, a)
    os.rename(parked, b)


class Trees:
    """The output folder, its standby twin, and the manifest of what a build put in them."""

    def __init__(self, out: Path) -> None:
        self.shown = str(out)
        self.live = out.resolve()
        self.home = self.live.with_name(f".{self.live.name}.publish")
        self.standby = self.home / "standby"
        self.lock_fd: int | None = None
        self.db: sqlite3.Connection | None = None
        self.warnings: list[Problem] = []
        self.files: dict[str, FileRecord] = {}
        self.groups: dict[str, list[str]] = {}
        self.verify = True
        self.known = False
        self.missing: set[str] = set()
        self.foreign: set[str] = set()
        self.standby_foreign: set[str] = set()
        self.live_id = 0
        self.standby_id = 0
        self.safe_folders: set[str] = set()

    # -- locking -----------------------------------------------------------------------------

    def lock(self) -> None:
        """Lock the output against other builds; refuse with a clear problem when one is running."""
        if self.lock_fd is not None:
            return
        self.home.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.home, os.O_RDONLY)
        try:
            import fcntl
        except ImportError:  # no advisory locks on this system (Windows): builds are not serialised
            self.lock_fd = fd
            return
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise ContentError([Problem(self.shown, 0, "another build is writing this output folder right now",
                                        "wait for it to finish, then build again")]) from None
        self.lock_fd = fd

    def lock_if_known(self) -> bool:
        """Lock now if an earlier build left its state here; return whether it did."""
        if not self.home.is_dir():
            return False
        self.lock()
        return True

    def close(self) -> None:
        """Close the manifest and release the lock."""
        if self.db is not None:
            self.db.close()
            self.db = None
        if self.lock_fd is not None:
            os.close(self.lock_fd)
            self.lock_fd = None

    def __enter__(self) -> Trees:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- the manifest ----------------------------------------------------------------------------

    def _store(self) -> sqlite3.Connection:
        """Open the manifest (locked callers only)."""
        if self.db is None:
            self.db, warnings = open_store(self.home / "manifest.sqlite", SCHEMA, TABLES)
            self.warnings += warnings
        return self.db

    def _meta(self, key: str) -> Any:
        """Read one pickled value of the manifest's meta table, or None."""
        row = self._store().execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return pickle.loads(row[0]) if row else None

    def _put(self, db: sqlite3.Connection, key: str, value: Any) -> None:
        """Write one pickled value of the meta table (inside the caller's transaction)."""
        db.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, pickle.dumps(value)))

    def fast_state(self) -> FastState | None:
        """Return the last build's quick-answer state if both folders are still as it left them."""
        try:
            state, ids, dirty = self._meta("fast"), self._meta("ids"), self._meta("dirty")
        except (sqlite3.DatabaseError, pickle.UnpicklingError, EOFError, AttributeError, ImportError):
            return None
        if dirty or not isinstance(state, FastState) or ids != (_inode(self.live), _inode(self.standby)):
            return None
        return state

    def open(self, verify: bool) -> None:
        """Read the manifest and decide whether the folders can be trusted or must be checked file by file."""
        db = self._store()
        try:
            self.files = {path: FileRecord(dig, sig, grp, bool(ix))
                          for path, dig, sig, grp, ix in db.execute("SELECT * FROM files")}
            ids, dirty = self._meta("ids"), self._meta("dirty")
        except (sqlite3.DatabaseError, pickle.UnpicklingError, EOFError, AttributeError, ImportError) as exc:
            self.warnings.append(Problem(str(self.home), 0, f"the publish manifest is damaged ({exc})",
                                         "the output is checked file by file this time", warning=True))
            self.files, ids, dirty = {}, None, True
        self.known = bool(self.files) or ids is not None
        for path, record in self.files.items():
            self.groups.setdefault(record.group, []).append(path)
        self.live_id, self.standby_id = _inode(self.live), _inode(self.standby)
        trusted = not verify and not dirty and self.live_id != 0 and ids == (self.live_id, self.standby_id)
        self.verify = not trusted
        if not self.verify:
            self.foreign, self.missing = self._scan_changes()
            self.standby_foreign = {p for (p,) in db.execute(
                "SELECT path FROM foreign_entries WHERE tree = ?", (self.standby_id,))}

    def reusable(self, group: str, signature: str) -> dict[str, FileRecord] | None:
        """Return the published files of an output group made from `signature`, if they can be kept as they are."""
        if self.verify:
            return None
        paths = self.groups.get(group)
        if not paths or any(p in self.missing or self.files[p].signature != signature for p in paths):
            return None
        return {p: self.files[p] for p in paths}

    # -- finding hand-placed files ----------------------------------------------------------------

    def _scan_changes(self) -> tuple[set[str], set[str]]:
        """Find hand-placed entries, and files of ours that were deleted, listing only folders that changed."""
        db = self._store()
        stamps = dict(db.execute("SELECT dir, ctime_ns FROM stamps WHERE tree = ?", (self.live_id,)))
        known_foreign = {p for (p,) in db.execute("SELECT path FROM foreign_entries WHERE tree = ?",
                                                  (self.live_id,))}
        children = _children(self.files)
        changed = [""]
        fresh: dict[str, int] = {}
        for folder in children:
            if not folder:
                continue
            try:
                ctime = os.stat(self.live / folder).st_ctime_ns
            except OSError:
                ctime = 0
            if ctime == 0 or ctime != stamps.get(folder):
                changed.append(folder)
                fresh[folder] = ctime
        changed_set = set(changed)
        foreign = {p for p in known_foreign if posixpath.dirname(p) not in changed_set}
        missing: set[str] = set()
        gone: list[str] = []
        for folder in changed:
            try:
                entries = {e.name: e for e in os.scandir(self.live / folder if folder else self.live)}
            except OSError:
                entries = {}
            for name, kind in children.get(folder, {}).items():
                rel = f"{folder}/{name}" if folder else name
                entry = entries.pop(name, None)
                if entry is None or not (entry.is_dir(follow_symlinks=False) if kind == "dir"
                                         else entry.is_file(follow_symlinks=False)):
                    if entry is not None:
                        foreign.add(rel)
                    if kind == "dir":
                        gone.append(rel + "/")
                    else:
                        missing.add(rel)
            foreign.update(f"{folder}/{name}" if folder else name for name in entries)
        if gone:
            missing.update(p for p in self.files if p.startswith(tuple(gone)))
        with db:
            db.executemany("INSERT OR REPLACE INTO stamps VALUES (?, ?, ?)",
                           [(self.live_id, d, _trusted(c)) for d, c in fresh.items()])
        return foreign, missing

    def _walk_foreign(self, produced: set[str], folders: set[str]) -> set[str]:
        """List the live folder's entries that are not ours: files and whole folders outside our folders."""
        found: set[str] = set()
        if self.live_id == 0:
            return found
        stack = [""]
        while stack:
            folder = stack.pop()
            for entry in os.scandir(self.live / folder if folder else self.live):
                rel = f"{folder}/{entry.name}" if folder else entry.name
                if entry.is_dir(follow_symlinks=False) and rel in folders:
                    stack.append(rel)
                elif rel not in produced and rel not in self.files:
                    found.add(rel)
        return found

    # -- writing the standby ----------------------------------------------------------------------

    def begin(self, produced: Iterable[str]) -> None:
        """Get the standby ready for writing: marked unfinished, emptied when untrusted, clashes removed."""
        produced = set(produced)
        folders = _folders(produced)
        with self._store() as db:
            self._put(db, "dirty", True)
        if self.verify:
            self.foreign = self._walk_foreign(produced, folders | _folders(self.files))
            if self.foreign and not self.known:
                shown = ", ".join(sorted(self.foreign)[:3])
                self.warnings.append(Problem(self.shown, 0, f"kept {len(self.foreign)} entries no recorded build "
                                             f"made: {shown}", "delete them by hand if they are left over",
                                             warning=True))
            if self.standby.exists() or self.standby.is_symlink():
                _remove(self.standby)
            self.standby.mkdir(parents=True)
            self.standby_foreign = set()
        clashes = {p for p in self.foreign if p in produced or p in folders}
        for path in sorted(clashes):
            self.warnings.append(Problem(f"{self.shown}/{path}", 0,
                                         "a file placed here by hand is replaced by a page of the site",
                                         "move it elsewhere if you still need it", warning=True))
        self.foreign -= clashes
        for path in sorted(self.standby_foreign):
            if path in produced or path in folders:
                _remove(self.standby / path)
                self.standby_foreign.discard(path)

    def write(self, path: str, data: bytes) -> None:
        """Write one changed file into the standby without touching the copy the live folder shares."""
        reason = path_error(path)
        if reason:
            raise ContentError([Problem(path, 0, f"cannot write {path!r}: {reason}", "")])
        target = os.path.join(self.standby, path)
        self._ensure_folder(posixpath.dirname(path))
        if self.verify:
            # The standby was emptied for this build: no file here is shared with the live folder.
            with open(target, "wb") as handle:
                handle.write(data)
            return
        temporary = f"{target}.{os.getpid()}.tmp"
        with open(temporary, "wb") as handle:
            handle.write(data)
        os.replace(temporary, target)

    def same_as_live(self, path: str, data: bytes) -> bool:
        """Tell whether the live folder holds exactly these bytes at `path` (read from disk when untrusted)."""
        if self.verify:
            try:
                with open(self.live / path, "rb") as handle:
                    return handle.read() == data
            except OSError:
                return False
        record = self.files.get(path)
        return record is not None and path not in self.missing and record.digest == file_digest(data)

    def link(self, path: str) -> None:
        """Make the standby's `path` the live folder's file, as a hard link."""
        target = self.standby / path
        self._ensure_folder(posixpath.dirname(path))
        target.unlink(missing_ok=True)
        _link_or_copy(str(self.live / path), str(target))

    def _ensure_folder(self, folder: str) -> None:
        """Create a folder of the standby, refusing to follow a link out of it."""
        if folder in self.safe_folders:
            return
        target = os.path.join(self.standby, folder)
        os.makedirs(target, exist_ok=True)
        # An emptied standby holds only what this build made; a kept one may hold hand-placed links.
        if not self.verify and not os.path.realpath(target).startswith(os.path.realpath(self.standby)):
            raise ContentError([Problem(folder, 0, "a link in the output folder leads out of it",
                                        "remove the link from the output folder")])
        self.safe_folders.add(folder)

    def finish(self, records: Mapping[str, FileRecord], changes: Changes, fast: FastState | None) -> None:
        """Complete the standby, swap it in when any file changed, and record what each folder holds."""
        db = self._store()
        changes.removed = set(self.files) - set(records)
        swap = bool(changes.written or changes.removed) or self.live_id == 0
        stale = set() if self.verify else {p for (p,) in db.execute("SELECT path FROM stale")}
        if self.verify:
            relink = set(records) - changes.written if self.live_id else set()
            drop: set[str] = set()
        elif swap:
            relink = (stale & set(records)) - changes.written
            drop = changes.removed | (stale - set(records))
        else:
            relink, drop = set(), set()
        for path in sorted(relink):
            self.link(path)
        for path in sorted(drop):
            (self.standby / path).unlink(missing_ok=True)
        carried = set()
        if swap or self.verify:
            for path in sorted(self.standby_foreign - self.foreign):
                _remove(self.standby / path)
            for path in sorted(self.foreign):
                self._carry(path)
            carried = self.foreign | self.standby_foreign
        touched = _folders(changes.written | relink | drop | carried) | {""}
        self._prune(touched)
        ours = _folders(records)
        stamps = dict(self._stamps(self.standby, ours if self.verify else touched & ours))
        other: dict[str, int] = {}
        if self.live_id == 0:
            os.rename(self.standby, self.live)
            self._mirror(records)
            ids = (_inode(self.live), _inode(self.standby))
            other = dict(self._stamps(self.standby, ours))
        elif swap:
            exchange(self.live, self.standby)
            ids = (_inode(self.live), _inode(self.standby))
            if self.verify:
                other = dict(self._stamps(self.standby, ours))
        else:
            ids = (self.live_id, _inode(self.standby))
            other = stamps
            stamps = dict(self._stamps(self.live, ours)) if self.verify else {}
        live_id, standby_id = ids
        with db:
            db.execute("DELETE FROM files")
            db.executemany("INSERT INTO files VALUES (?, ?, ?, ?, ?)",
                           [(p, r.digest, r.signature, r.group, int(r.indexed)) for p, r in records.items()])
            if swap or self.verify:
                db.execute("DELETE FROM stale")
            if swap and self.live_id:
                db.executemany("INSERT OR REPLACE INTO stale VALUES (?)",
                               ((p,) for p in changes.written | changes.removed))
            if self.verify:
                db.execute("DELETE FROM stamps")
            db.execute("DELETE FROM stamps WHERE tree NOT IN (?, ?)", ids)
            db.executemany("INSERT OR REPLACE INTO stamps VALUES (?, ?, ?)",
                           [(live_id, d, c) for d, c in stamps.items()]
                           + [(standby_id, d, c) for d, c in other.items()])
            db.execute("DELETE FROM foreign_entries")
            standby_foreign = self.foreign if swap or self.verify else self.standby_foreign
            db.executemany("INSERT INTO foreign_entries VALUES (?, ?)",
                           [(live_id, p) for p in sorted(self.foreign)]
                           + [(standby_id, p) for p in sorted(standby_foreign)])
            self._put(db, "ids", ids)
            self._put(db, "dirty", False)
            self._put(db, "fast", fast)

    def record_fast(self, fast: FastState) -> None:
        """Store a new quick-answer state after a build that changed nothing."""
        with self._store() as db:
            self._put(db, "fast", fast)

    def _carry(self, path: str) -> None:
        """Give the standby the live folder's hand-placed file or folder at `path`."""
        source, target = self.live / path, self.standby / path
        self._ensure_folder(posixpath.dirname(path))
        if source.is_dir() and not source.is_symlink():
            if target.exists() or target.is_symlink():
                _remove(target)
            shutil.copytree(source, target, symlinks=True, copy_function=_link_or_copy)
            return
        try:
            if os.stat(target, follow_symlinks=False).st_ino == os.stat(source, follow_symlinks=False).st_ino:
                return
        except FileNotFoundError:
            pass
        if target.exists() or target.is_symlink():
            _remove(target)
        _link_or_copy(str(source), str(target))

    def _prune(self, folders: Iterable[str]) -> None:
        """Remove standby folders left empty, from the deepest up."""
        for folder in sorted(folders, key=lambda f: -f.count("/")):
            if folder:
                try:
                    (self.standby / folder).rmdir()
                except OSError:
                    continue

    def _stamps(self, tree: Path, folders: Iterable[str]) -> Iterator[tuple[str, int]]:
        """Read the ctime of folders of a tree (racy ones as 0: listed next time)."""
        for folder in folders:
            try:
                yield folder, _trusted(os.stat(tree / folder).st_ctime_ns)
            except OSError:
                continue

    def _mirror(self, records: Mapping[str, FileRecord]) -> None:
        """Create the standby as a hard-link copy of the live folder's files (after a first build)."""
        if self.standby.exists():
            _remove(self.standby)
        self.standby.mkdir()
        made: set[str] = set()
        live, standby = str(self.live), str(self.standby)
        for path in sorted(records):
            folder = posixpath.dirname(path)
            if folder and folder not in made:
                os.makedirs(os.path.join(standby, folder), exist_ok=True)
                made.add(folder)
            _link_or_copy(os.path.join(live, path), os.path.join(standby, path))
        for path in sorted(self.foreign):
            self._carry(path)


def _inode(path: Path) -> int:
    """Return a folder's inode number, 0 when missing."""
    try:
        return os.stat(path, follow_symlinks=False).st_ino
    except OSError:
        return 0


def _trusted(ctime_ns: int) -> int:
    """Return a ctime worth comparing later, or 0 when it is too recent to rule out an unseen change."""
    return 0 if ctime_ns >= time.time_ns() - RACY_NS else ctime_ns


def _children(paths: Iterable[str]) -> dict[str, dict[str, str]]:
    """Map each folder of the output to its entries of ours and their kind (file or dir)."""
    children: dict[str, dict[str, str]] = {}
    for path in paths:
        folder, name = posixpath.split(path)
        children.setdefault(folder, {})[name] = "file"
        while folder:
            parent, name = posixpath.split(folder)
            children.setdefault(parent, {})[name] = "dir"
            folder = parent
    return children


def _folders(paths: Iterable[str]) -> set[str]:
    """Return every folder that holds one of the paths, at any depth (the root excluded)."""
    folders: set[str] = set()
    for path in paths:
        folder = posixpath.dirname(path)
        while folder and folder not in folders:
            folders.add(folder)
            folder = posixpath.dirname(folder)
    return folders


def _remove(path: Path) -> None:
    """Delete a file, link or whole folder."""
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    else:
        path.unlink(missing_ok=True)


def _link_or_copy(source: str, target: str) -> None:
    """Hard-link a file, copying where links are not possible."""
    try:
        os.link(source, target, follow_symlinks=False)
    except OSError as exc:
        if exc.errno not in (errno.EXDEV, errno.EPERM, errno.EMLINK, errno.ENOTSUP):
            raise
        shutil.copy2(source, target, follow_symlinks=False)
