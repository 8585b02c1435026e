"""Publish a build atomically: bring a standby copy of the site up to date, then swap the two folders.

The output folder (public/) has a twin, `.public.publish/standby/`, and the two share every unchanged
file as a hard link. A build writes only the files whose bytes changed into the standby, carries
over files that people placed in public/ by hand, then exchanges the two folders in one atomic
rename (renameat2 RENAME_EXCHANGE on Linux; three renames elsewhere). A web server reading public/
sees the old site or the new one, never a mix; an unchanged file keeps its inode and mtime; a
failed build never touches public/. `.public.publish/manifest.sqlite` records what each folder
holds, and the folder itself is locked while a build runs, so a second build is refused.

Hand-placed files are found without listing the whole output: the manifest keeps the ctime of each
folder of the live site, and only folders whose ctime moved (an entry was added or removed) are
listed. A build that cannot trust the manifest (the first, --clean, after a crash) compares every
file with the bytes on disk instead.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import json
import os
import posixpath
import shutil
import sqlite3
import stat
import time
from collections.abc import Container, Iterable, Iterator
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar
from zoneinfo import ZoneInfo

from ..build.inputs import FastState, Summary
from ..build.outbox import Changes
from ..site.urls import MARK_WINDOW, MARKED_SUFFIXES, OwnPaths, carries_mark, output_path_error, uncompressed
from ..util.errors import ContentError, Problem
from ..util.files import READ_FLAGS
from ..util.store import StoreError, connect_read_only, damaged, discard, intact, open_store, seal, sealed, unwrap, wrap

if TYPE_CHECKING:
    from ..util.parallel import Background

SCHEMA = 3
TABLES = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS groups (grp TEXT PRIMARY KEY, signature TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS files (path TEXT PRIMARY KEY, grp TEXT NOT NULL, dir TEXT NOT NULL, digest TEXT NOT NULL,
                                  indexed INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS files_grp ON files (grp);
CREATE INDEX IF NOT EXISTS files_dir ON files (dir);
CREATE TABLE IF NOT EXISTS stale (path TEXT PRIMARY KEY);
CREATE TABLE IF NOT EXISTS stamps (tree INTEGER NOT NULL, dir TEXT NOT NULL, ctime_ns INTEGER NOT NULL,
                                   PRIMARY KEY (tree, dir));
CREATE TABLE IF NOT EXISTS foreign_entries (tree INTEGER NOT NULL, path TEXT NOT NULL, PRIMARY KEY (tree, path));
"""
# A folder changed this close to the moment its ctime was read may change again unnoticed within
# the clock's resolution; such a stamp is not trusted, and the folder is listed next time.
RACY_NS = 2_000_000_000
CHECKED_BY_FILE = "nothing to do: the output is checked file by file this time"
T = TypeVar("T")
RENAME_EXCHANGE = 2
# Reading the stamps is one stat per folder of the site: a reader still busy after a minute is stuck, not slow.
EARLY_STAMPS_SECONDS = 60.0
AT_FDCWD = -100
# Scratch folders of a build (pages laid out for the search indexer) live in `.public.publish/`.
SCRATCH = "scratch-"


def file_digest(data: bytes) -> str:
    """Return the digest the manifest keeps of a file's bytes."""
    return hashlib.blake2b(data, digest_size=16).hexdigest()


def exchange(a: Path, b: Path) -> None:
    """Swap two folders atomically where the system can (Linux renameat2), else with three renames."""
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
            raise ContentError(
                [
                    Problem(
                        str(a),
                        0,
                        "cannot swap the new site in: the output folder is a mount "
                        "point, or on another file system than the folder that holds it",
                        "build into a folder inside it (--out public/site) and serve that",
                    )
                ]
            )
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
        self.signatures: dict[str, str] = {}
        self.folders: set[str] = set()
        self.verify = True
        self.known = False
        self.missing: set[str] = set()
        self.missing_groups: set[str] = set()
        self.fresh: dict[str, int] = {}
        self.foreign: set[str] = set()
        self.own = OwnPaths(frozenset())
        self.unwanted: set[str] = set()
        self.recorded_foreign: set[str] = set()
        self.standby_foreign: set[str] = set()
        self.live_digests: dict[str, str] = {}
        self.live_id = 0
        self.standby_id = 0
        self.safe_folders: set[str] = set()
        self.early: Background | None = None
        self.begun = False

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
            raise ContentError(
                [
                    Problem(
                        self.shown,
                        0,
                        "another build is writing this output folder right now",
                        "wait for it to finish, then build again",
                    )
                ]
            ) from None
        self.lock_fd = fd

    def lock_if_known(self) -> bool:
        """Lock now if an earlier build left its state here; return whether it did."""
        if not self.home.is_dir():
            return False
        self.lock()
        return True

    def close(self) -> None:
        """Stop the early reader if its result was not taken, close the manifest and release the lock."""
        if self.early is not None:
            self.early.close()
            self.early = None
        if self.db is not None:
            self.db.close()
            self.db = None
            seal(self.manifest)
        if self.lock_fd is not None:
            os.close(self.lock_fd)
            self.lock_fd = None

    def __enter__(self) -> Trees:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- the manifest ----------------------------------------------------------------------------

    @property
    def manifest(self) -> Path:
        """Return the manifest's file."""
        return self.home / "manifest.sqlite"

    def _store(self) -> sqlite3.Connection:
        """Open the manifest (locked callers only)."""
        if self.db is None:
            self.db, warnings = open_store(self.manifest, SCHEMA, TABLES, "publish manifest", CHECKED_BY_FILE)
            self.warnings += warnings
        return self.db

    def _meta(self, key: str) -> Any:
        """Read one value of the meta table as JSON data, or None; raise StoreError or ValueError when damaged."""
        row = self._store().execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return json.loads(bytes(unwrap(row[0], key))) if row else None

    def _put(self, db: sqlite3.Connection, key: str, value: FastState | tuple[int, int] | bool | str | None) -> None:
        """Write one value of the meta table, as JSON data with its digest (inside the caller's transaction)."""
        data = _fast_data(value) if isinstance(value, FastState) else value
        db.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, wrap(json.dumps(data).encode(), key)))

    def fast_state(self) -> FastState | None:
        """Return the last build's quick-answer state if both folders are still as it left them."""
        try:
            state, ids, dirty = self._meta("fast"), self._meta("ids"), self._meta("dirty")
            fast = _fast_state(state)
            if state is not None and fast is None:
                raise StoreError("a quick-answer state of another shape")
        except (StoreError, ValueError) as exc:
            # Only this answer is lost (the rest has digests of its own): the build goes on.
            self.warnings.append(
                Problem(
                    str(self.manifest),
                    0,
                    f"discarded a damaged value of the publish manifest ({exc})",
                    "nothing to do: the build looks at everything",
                    warning=True,
                )
            )
            return None
        except sqlite3.DatabaseError:
            return None  # the build goes on, and `open` discards a damaged manifest
        if dirty is not False or fast is None or _ids(ids) != (_inode(self.live), _inode(self.standby)):
            return None
        return fast

    def open(self, verify: bool) -> None:
        """Read the manifest and decide whether the folders can be trusted or must be checked file by file."""
        db = self._store()
        try:
            self.signatures = dict(db.execute("SELECT grp, signature FROM groups"))
            ids, dirty = _ids(self._meta("ids")), self._meta("dirty")
        except (sqlite3.DatabaseError, StoreError, ValueError) as exc:
            if isinstance(exc, sqlite3.DatabaseError) and not damaged(exc):
                raise
            self.warnings.append(
                Problem(
                    str(self.manifest),
                    0,
                    f"discarded a damaged publish manifest ({exc})",
                    CHECKED_BY_FILE,
                    warning=True,
                )
            )
            db.close()
            self.db = None
            discard(self.manifest)
            db = self._store()
            self.signatures, ids, dirty = {}, None, True
        self.known = bool(self.signatures)
        self.live_id, self.standby_id = _inode(self.live), _inode(self.standby)
        recorded_live = ids[0] if isinstance(ids, tuple) and ids else 0
        # An unfinished build may have emptied or half-written the standby; the live folder it never touched.
        trusted = (
            not verify
            and self.live_id != 0
            and (ids == (self.live_id, self.standby_id) or (dirty and recorded_live == self.live_id))
        )
        self.verify = not trusted
        if self.live.exists() and not self.live.is_dir():
            raise ContentError(
                [Problem(self.shown, 0, "the output path is a file, not a folder", "choose another --out")]
            )
        if trusted and dirty:
            # A build stopped (killed, Ctrl+C, a full disk) after it began changing the standby and before
            # its swap: the live folder is as recorded, only the standby is not. Brought back to a copy of
            # the live folder, it is trusted, and this build renders what changed instead of every page.
            self._restandby()
        if not self.verify:
            self._scan_changes()
            self.standby_foreign = {
                p for (p,) in db.execute("SELECT path FROM foreign_entries WHERE tree = ?", (self.standby_id,))
            }

    def _restandby(self) -> None:
        """Bring the standby back to a hard-link copy of the live folder's files of ours, as recorded.

        Only what the unfinished build changed is undone: every other file still shares its inode with
        the live one, and is left alone (a few hundred writes, not one per file of the site).
        """
        db = self._store()
        paths = {p for (p,) in db.execute("SELECT path FROM files")}
        folders = _folders(paths)
        if self.standby.is_symlink() or not self.standby.is_dir():
            if self.standby.exists() or self.standby.is_symlink():
                _remove(self.standby)
            self.standby.mkdir(parents=True)
            self.standby_id = _inode(self.standby)
        live = _file_inodes(self.live, folders)
        shared: set[str] = set()
        stack = [""]
        while stack:
            folder = stack.pop()
            with os.scandir(os.path.join(self.standby, folder)) as entries:
                for entry in entries:
                    rel = f"{folder}/{entry.name}" if folder else entry.name
                    if rel in folders and entry.is_dir(follow_symlinks=False):
                        stack.append(rel)
                    elif rel in paths and entry.is_file(follow_symlinks=False) and entry.inode() == live.get(rel):
                        shared.add(rel)
                    else:
                        _remove(Path(entry.path))
        standby = str(self.standby)
        for path in sorted(paths - shared):
            _make_folder(os.path.dirname(os.path.join(standby, path)))
            # A file deleted from the live folder is found missing by the scan, and written again.
            with contextlib.suppress(FileNotFoundError):
                _link_or_copy(os.path.join(self.live, path), os.path.join(standby, path))
        with db:
            # The standby holds just what the live folder holds of ours; its folders are stamped when next swapped.
            db.execute("DELETE FROM stale")
            db.execute("DELETE FROM stamps WHERE tree != ?", (self.live_id,))
            db.execute("DELETE FROM foreign_entries WHERE tree != ?", (self.live_id,))
            db.executemany(
                "INSERT INTO stamps VALUES (?, ?, 0)", [(self.standby_id, folder) for folder in sorted(folders)]
            )
            self._put(db, "ids", (self.live_id, self.standby_id))

    def generation(self) -> str:
        """Return the generation of the build state the live site was published with ("" when unknown)."""
        try:
            found = self._meta("generation")
        except (sqlite3.DatabaseError, StoreError, ValueError):
            return ""
        return found if isinstance(found, str) else ""

    def reusable(self, group: str, signature: str) -> bool:
        """Tell whether the published files of an output group were made from `signature` and are all there."""
        return self.signatures.get(group) == signature and self.intact(group)

    def intact(self, group: str) -> bool:
        """Tell whether an output group the last build published is still all there, whatever it was made from."""
        return not self.verify and group in self.signatures and group not in self.missing_groups

    # -- finding hand-placed files ----------------------------------------------------------------

    def read_stamps_early(self) -> None:
        """Start reading the live folder's recorded and current stamps in a second process (lock held).

        On a large site that is tens of thousands of system calls, done while this process parses and
        plans; `open` takes the result when it finds the folders trustworthy.
        """
        from ..util.parallel import Background  # not imported by a build that finds nothing changed

        manifest = self.home / "manifest.sqlite"
        if self.lock_fd is not None and self.early is None and manifest.is_file():
            self.early = Background(partial(_read_stamps, manifest, self.live))

    def _live_stamps(self) -> tuple[list[tuple[str, int]], list[int]]:
        """Return the live folder's recorded stamps and current ctimes: those read early, or read now."""
        early, self.early = self.early, None
        if early is not None:
            from ..util.parallel import WorkerError

            try:
                live_id, stamps, ctimes = early.result(timeout=EARLY_STAMPS_SECONDS)
                if live_id == self.live_id:
                    return stamps, ctimes
            except WorkerError:  # the reader died or is stuck: the stamps are read here instead
                pass
        stamps = _recorded_stamps(self._store(), self.live_id)
        return stamps, _ctimes(self.live, [folder for folder, _ in stamps])

    def _scan_changes(self) -> None:
        """Find hand-placed entries and deleted files of ours in the live folder, listing only changed folders."""
        db = self._store()
        stamps, ctimes = self._live_stamps()
        folders = [folder for folder, _ in stamps]
        self.folders = set(folders)
        self.recorded_foreign = {
            p for (p,) in db.execute("SELECT path FROM foreign_entries WHERE tree = ?", (self.live_id,))
        }
        fresh = {
            folder: ctime for (folder, stamp), ctime in zip(stamps, ctimes, strict=True) if ctime == 0 or ctime != stamp
        }
        changed = ["", *fresh]
        changed_set = set(changed)
        self.foreign = {p for p in self.recorded_foreign if p.rpartition("/")[0] not in changed_set}
        # Our subfolders of each changed folder: those of the root always (it has no stamp), others rarely.
        subfolders: dict[str, set[str]] = {"": {folder for folder in folders if "/" not in folder}}
        if len(changed_set) > 1:
            for folder in folders:
                parent, _, name = folder.rpartition("/")
                if parent in changed_set:
                    subfolders.setdefault(parent, set()).add(name)
        # Our files in each changed folder, in one query (thousands of folders after a full build).
        files: dict[str, set[str]] = {}
        for folder, path in self._query_in("SELECT dir, path FROM files WHERE dir IN", changed_set):
            files.setdefault(folder, set()).add(path.rpartition("/")[2])
        live = str(self.live)
        gone: list[str] = []
        no_names: set[str] = set()
        for folder in changed:
            try:
                with os.scandir(os.path.join(live, folder) if folder else live) as listing:
                    entries = {e.name: e for e in listing}
            except OSError:
                entries = {}
            ours, subs = files.get(folder, no_names), subfolders.get(folder, no_names)
            # Most listed folders hold just what they held (their stamp was racy): nothing to record.
            if (
                entries.keys() == ours | subs
                and all(entries[name].is_file(follow_symlinks=False) for name in ours)
                and all(entries[name].is_dir(follow_symlinks=False) for name in subs)
            ):
                continue
            prefix = f"{folder}/" if folder else ""
            for name in ours:
                entry = entries.pop(name, None)
                if entry is None or not entry.is_file(follow_symlinks=False):
                    self.missing.add(prefix + name)
                    if entry is not None:
                        self.foreign.add(prefix + name)
            for name in subs:
                entry = entries.pop(name, None)
                if entry is None or not entry.is_dir(follow_symlinks=False):
                    gone.append(prefix + name + "/")
                    if entry is not None:
                        self.foreign.add(prefix + name)
            if entries:
                self.foreign.update(prefix + name for name in entries)
        for folder in gone:
            self.missing.update(
                p
                for (p,) in db.execute("SELECT path FROM files WHERE path LIKE ? ESCAPE '\\'", (_like_prefix(folder),))
            )
        self.missing_groups = (
            {g for (g,) in self._query_in("SELECT DISTINCT grp FROM files WHERE path IN", self.missing)}
            if self.missing
            else set()
        )
        # The new stamps are recorded by finish(), with what this scan found: a build refused before then
        # (a content error) must not leave stamps saying these folders were seen, and their finds unrecorded.
        # Whether a ctime is racy depends on when it was read: now.
        self.fresh = {folder: _trusted(ctime) for folder, ctime in fresh.items()}
        db.commit()

    def _walk_foreign(self, produced: set[str], folders: set[str]) -> tuple[set[str], set[str]]:
        """Sort the live folder's entries that this build does not make and no recorded build made.

        Return those kept as placed by hand (files, and whole folders outside our folders), and those
        this program may have made, to remove: entries at its own addresses (an old page of a deleted
        item, its search fragment) and pages or feeds carrying its mark (an old address's redirect page),
        with their compressed copies. Without a record it can trust, nothing else tells them apart.
        """
        kept: set[str] = set()
        unwanted: set[str] = set()
        if self.live_id == 0:
            return kept, unwanted
        old = {p for (p,) in self._store().execute("SELECT path FROM files")}
        folders = folders | _folders(old)
        stack = [""]
        while stack:
            folder = stack.pop()
            for entry in os.scandir(self.live / folder if folder else self.live):
                rel = f"{folder}/{entry.name}" if folder else entry.name
                if entry.is_dir(follow_symlinks=False) and rel in folders:
                    stack.append(rel)
                elif rel in produced or rel in old:
                    continue
                elif rel in self.own or self._marked(entry, rel, produced):
                    unwanted.add(rel)
                elif entry.is_dir(follow_symlinks=False):
                    # A folder placed by hand is kept, but not a page of ours inside it (an old address /about/).
                    marked, whole = self._marked_inside(rel)
                    unwanted |= {rel} if whole else marked
                    if not whole:
                        kept.add(rel)
                else:
                    kept.add(rel)
        return kept, unwanted

    def _marked(self, entry: os.DirEntry[str], rel: str, produced: Container[str]) -> bool:
        """Tell whether a live file is a page or feed this program made, or a compressed copy of one or of its own."""
        source = uncompressed(rel)
        if source != rel:
            return source in produced or _carries_mark(self.live / source)
        return rel.endswith(MARKED_SUFFIXES) and entry.is_file(follow_symlinks=False) and _carries_mark(entry.path)

    def _marked_inside(self, folder: str) -> tuple[set[str], bool]:
        """Return the files of a folder of the live site that this program made, and whether that is all it holds."""
        marked: set[str] = set()
        other = False
        stack = [folder]
        while stack:
            current = stack.pop()
            try:
                entries = list(os.scandir(self.live / current))
            except OSError:  # a folder that cannot be listed holds something of its own: kept whole
                entries, other = [], True
            for entry in entries:
                rel = f"{current}/{entry.name}"
                if entry.is_dir(follow_symlinks=False):
                    stack.append(rel)
                elif self._marked(entry, rel, ()):
                    marked.add(rel)
                else:
                    other = True
        return marked, bool(marked) and not other

    # -- writing the standby ----------------------------------------------------------------------

    def begin(self, rendering: Iterable[str], own: OwnPaths) -> None:
        """Get the standby ready: marked unfinished, emptied when untrusted, clashes removed, digests at hand.

        `own` are the paths this program writes for this site: what a build that cannot trust its record
        removes when it does not make it.
        """
        self.own = own
        produced = set(rendering)
        if not self.begun:
            self.begun = True
            with self._store() as db:
                self._put(db, "dirty", True)
            if self.verify:
                if self.standby.exists() or self.standby.is_symlink():
                    _remove(self.standby)
                self.standby.mkdir(parents=True)
                self.standby_foreign = set()
        if self.standby_foreign:
            folders = _folders(produced)
            for path in sorted(self.standby_foreign):
                if path in produced or path in folders:
                    _remove(self.standby / path)
                    self.standby_foreign.discard(path)
        if not self.verify:
            self.live_digests.update(self._query_in("SELECT path, digest FROM files WHERE grp IN", produced))

    def _query_in(self, query: str, values: Iterable[str]) -> list[tuple[Any, ...]]:
        """Run `query ... (values)` over many values (groups, paths, folders) at once, through a temporary table."""
        db = self._store()
        db.execute("CREATE TEMP TABLE IF NOT EXISTS wanted (value TEXT PRIMARY KEY)")
        db.execute("DELETE FROM wanted")
        db.executemany("INSERT OR IGNORE INTO wanted VALUES (?)", ((v,) for v in values))
        return db.execute(f"{query} (SELECT value FROM wanted)").fetchall()

    def settle(self, path: str, data: bytes, indexed: bool = False) -> tuple[str, bool]:
        """Return a file's digest, writing it into the standby unless the live folder holds the same bytes."""
        digest = file_digest(data)
        if self.verify:
            try:
                with open(os.path.join(self.live, path), "rb") as handle:
                    same = handle.read() == data
            except OSError:
                same = False
        else:
            same = self.live_digests.get(path) == digest and path not in self.missing
        if not same:
            self.write(path, data)
        return digest, not same

    def write(self, path: str, data: bytes) -> None:
        """Write one changed file into the standby without touching the copy the live folder shares."""
        reason = output_path_error(path)
        if reason:
            raise ContentError([Problem(path, 0, f"cannot write {path!r}: {reason}", "")])
        target = os.path.join(self.standby, path)
        self._ensure_folder(posixpath.dirname(path))
        if self.verify:
            # The standby was emptied for this build: no file here is shared with the live folder.
            _write_file(target, data)
            return
        temporary = f"{target}.{os.getpid()}.tmp"
        _write_file(temporary, data)
        os.replace(temporary, target)

    def link(self, path: str) -> None:
        """Make the standby's `path` the live folder's file, as a hard link."""
        target = os.path.join(self.standby, path)
        self._ensure_folder(posixpath.dirname(path))
        with contextlib.suppress(FileNotFoundError):
            os.unlink(target)
        _link_or_copy(os.path.join(self.live, path), target)

    def _ensure_folder(self, folder: str) -> None:
        """Create a folder of the standby, refusing to follow a link out of it."""
        if folder in self.safe_folders:
            return
        target = os.path.join(self.standby, folder)
        _make_folder(target)
        # An emptied standby holds only what this build made; a kept one may hold hand-placed links.
        if not self.verify and not os.path.realpath(target).startswith(os.path.realpath(self.standby)):
            raise ContentError(
                [
                    Problem(
                        folder,
                        0,
                        "a link in the output folder leads out of it",
                        "remove the link from the output folder",
                    )
                ]
            )
        self.safe_folders.add(folder)

    @contextlib.contextmanager
    def laid_out(self, paths: Iterable[str], written: Container[str]) -> Iterator[Path]:
        """Yield a scratch folder beside the output holding `paths` as they will be published (removed after).

        Each file is a hard link to the standby's copy (if this build wrote it) or the live one: the
        folder is on the output's file system wherever TMPDIR is, and costs no space.
        """
        for left in self.home.glob(f"{SCRATCH}*"):  # left by a build that was killed (the lock is held)
            _remove(left)
        # Named for this process: a Pagefind left running by a killed build writes only into its own.
        scratch = self.home / f"{SCRATCH}{os.getpid()}"
        scratch.mkdir()
        try:
            site = scratch / "site"
            for path in paths:
                target = os.path.join(site, path)
                _make_folder(os.path.dirname(target))
                _link_or_copy(os.path.join(self.standby if path in written else self.live, path), target)
            yield site
        finally:
            _remove(scratch)

    def indexed(self, dropped: set[str], changes: Changes) -> list[tuple[str, str]]:
        """Return (path, digest) of every indexed page of the new site (none of `dropped`), sorted."""
        found = (
            {
                path: dig
                for path, dig, group in self._store().execute("SELECT path, digest, grp FROM files WHERE indexed = 1")
                if group not in dropped and group not in changes.rendered
            }
            if not self.verify
            else {}
        )
        for _, files in changes.rendered.values():
            found.update((f.path, f.digest) for f in files if f.indexed)
        return sorted(found.items())

    def complete(self, changes: Changes, dropped: set[str], generation: str) -> None:
        """Finish the build; a failure between the swap and its record (a full disk, Ctrl+C) swaps back.

        So a build that stops at any moment leaves the output folder as it was; the standby, marked
        unfinished since `begin`, is repaired by the next build (`_restandby`).
        """
        try:
            self.finish(changes, dropped, generation)
        except BaseException:
            self._put_back()
            raise

    def _put_back(self) -> None:
        """Bring the old site back in place if this build swapped its own in."""
        if _inode(self.live) == self.live_id:
            return
        if self.live_id == 0:  # a first build: there was no site, and the new one goes back to standing by
            if self.standby.exists():
                _remove(self.standby)
            os.rename(self.live, self.standby)
        else:
            exchange(self.live, self.standby)

    def finish(self, changes: Changes, dropped: set[str], generation: str) -> None:
        """Complete the standby, swap it in when any file changed, and record what each folder holds."""
        db = self._store()
        new_files = {f.path for _, files in changes.rendered.values() for f in files}
        if self.verify:
            old = {p for (p,) in db.execute("SELECT path FROM files")}
        else:
            old = {
                p
                for p, _ in self._query_in("SELECT path, grp FROM files WHERE grp IN", dropped | set(changes.rendered))
            }
        changes.removed = old - new_files
        if self.verify:
            self.foreign, self.unwanted = self._walk_foreign(new_files, _folders(new_files))
            if self.unwanted:
                shown = ", ".join(sorted(self.unwanted)[:3])
                self.warnings.append(
                    Problem(
                        self.shown,
                        0,
                        f"removed {len(self.unwanted)} entries no recorded build "
                        f"made where this program writes: {shown}",
                        "place files by hand only outside the site's own addresses",
                        warning=True,
                    )
                )
            if self.foreign and not self.known:
                shown = ", ".join(sorted(self.foreign)[:3])
                self.warnings.append(
                    Problem(
                        self.shown,
                        0,
                        f"kept {len(self.foreign)} entries no recorded build made: {shown}",
                        "delete them by hand if they are left over",
                        warning=True,
                    )
                )
        self._drop_clashes(new_files)
        self._warn_placed_at_own_paths()
        swap = bool(changes.written or changes.removed or self.unwanted) or self.live_id == 0
        stale = set() if self.verify else {p for (p,) in db.execute("SELECT path FROM stale")}
        if self.verify:
            relink = new_files - changes.written if self.live_id else set()
            drop: set[str] = set()
        elif swap:
            # A stale path is still published if its group was kept as it was, or rendered anew.
            stale_groups = self._groups_of(stale)
            current = {
                p
                for p in stale
                if p in new_files
                or ((g := stale_groups.get(p)) is not None and g not in dropped and g not in changes.rendered)
            }
            relink = current - changes.written
            drop = changes.removed | (stale - current)
        else:
            relink, drop = set(), set()
        for path in sorted(relink):
            self.link(path)
        for path in sorted(drop):
            try:
                os.unlink(os.path.join(self.standby, path))
            except FileNotFoundError:
                continue
            except IsADirectoryError:  # a folder of ours left by a build that could not trust its record
                shutil.rmtree(os.path.join(self.standby, path))
        carried: set[str] = set()
        if swap or self.verify:
            # A file the site publishes is never removed as hand-placed, whatever an old record says.
            ours = {p for p in self.standby_foreign - self.foreign if p in new_files or self._published(p)}
            for path in sorted(self.standby_foreign - self.foreign - ours):
                _remove(self.standby / path)
            for path in sorted(self.foreign):
                self._carry(path)
            carried = self.foreign | self.standby_foreign
        touched = _folders(changes.written | relink | drop | carried) | {""}
        self._prune(touched)
        ours = (
            _folders(new_files)
            if self.verify
            else (self.folders | _folders(new_files)) - {f for f in touched if not (self.standby / f).is_dir()}
        )
        restamp = touched & ours
        if swap and not self.verify:
            # Folders of the standby left unstamped when last written (after a first build, all of them,
            # made a moment before): stamped now, or the next build would list every one of them.
            restamp |= self._unstamped(self.standby_id) & ours
        stamps = dict(self._stamps(self.standby, ours if self.verify else restamp))
        other: dict[str, int] = {}
        if self.live_id == 0:
            os.rename(self.standby, self.live)
            self._mirror(new_files)
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
            # Every folder of `fresh` has its row: an update in place, no delete and insert as a replace.
            db.executemany(
                "UPDATE stamps SET ctime_ns = ? WHERE tree = ? AND dir = ?",
                [(c, self.live_id, d) for d, c in self.fresh.items()],
            )
            if self.verify:
                db.execute("DELETE FROM files")
                db.execute("DELETE FROM groups")
                db.execute("DELETE FROM stamps")
            else:
                db.executemany("DELETE FROM files WHERE path = ?", ((p,) for p in sorted(old)))
                db.executemany("DELETE FROM groups WHERE grp = ?", ((g,) for g in sorted(dropped)))
            db.executemany(
                "INSERT OR REPLACE INTO groups VALUES (?, ?)", [(g, sig) for g, (sig, _) in changes.rendered.items()]
            )
            db.executemany(
                "INSERT OR REPLACE INTO files VALUES (?, ?, ?, ?, ?)",
                [
                    (f.path, g, f.path.rpartition("/")[0], f.digest, int(f.indexed))
                    for g, (_, files) in changes.rendered.items()
                    for f in files
                ],
            )
            if swap or self.verify:
                db.execute("DELETE FROM stale")
            if swap and self.live_id:
                # The entries removed as ours are still in the old site, the next standby: gone from it next time.
                db.executemany(
                    "INSERT OR REPLACE INTO stale VALUES (?)",
                    ((p,) for p in sorted(changes.written | changes.removed | self.unwanted)),
                )
            db.execute("DELETE FROM stamps WHERE tree NOT IN (?, ?)", ids)
            if not self.verify:
                gone = self.folders - ours
                db.executemany("DELETE FROM stamps WHERE dir = ?", ((d,) for d in sorted(gone)))
            db.executemany(
                "INSERT OR REPLACE INTO stamps VALUES (?, ?, ?)",
                [(live_id, d, c) for d, c in stamps.items()] + [(standby_id, d, c) for d, c in other.items()],
            )
            if swap or self.verify or self.foreign != self.recorded_foreign:
                db.execute("DELETE FROM foreign_entries")
                standby_foreign = self.foreign if swap or self.verify else self.standby_foreign
                db.executemany(
                    "INSERT INTO foreign_entries VALUES (?, ?)",
                    [(live_id, p) for p in sorted(self.foreign)] + [(standby_id, p) for p in sorted(standby_foreign)],
                )
            self._put(db, "ids", ids)
            self._put(db, "dirty", False)
            self._put(db, "generation", generation)
            self._put(db, "fast", None)
            changes.files = db.execute("SELECT count(*) FROM files").fetchone()[0]
        changes.removed |= self.unwanted

    def _drop_clashes(self, produced: set[str]) -> None:
        """Forget hand-placed entries where the site now has a file or folder of its own, with a warning."""
        if not self.foreign:
            return
        folders = _folders(produced)
        clashes = sorted(p for p in self.foreign if p in produced or p in folders)
        if clashes:
            more = f" and {len(clashes) - 1} more" if len(clashes) > 1 else ""
            self.warnings.append(
                Problem(
                    f"{self.shown}/{clashes[0]}",
                    0,
                    f"a file placed here by hand{more} is replaced by the site's own",
                    "move hand-placed files to addresses the site does not use",
                    warning=True,
                )
            )
        self.foreign -= set(clashes)

    def _published(self, path: str) -> bool:
        """Tell whether the manifest lists `path` as a file of the site."""
        return self._store().execute("SELECT 1 FROM files WHERE path = ?", (path,)).fetchone() is not None

    def record_fast(self, fast: FastState) -> None:
        """Store what a later build that finds nothing changed may answer."""
        try:
            with self._store() as db:
                self._put(db, "fast", fast)
        except sqlite3.OperationalError as exc:  # a full disk: the site is published and recorded all the same
            self.warnings.append(
                Problem(
                    str(self.home),
                    0,
                    f"the quick answer of the next build was not saved ({exc})",
                    "nothing to do: the next build looks for changes instead",
                    warning=True,
                )
            )

    def _groups_of(self, paths: Iterable[str]) -> dict[str, str]:
        """Return the output group each of the published paths belongs to."""
        db = self._store()
        return {
            path: group for path in paths for (group,) in db.execute("SELECT grp FROM files WHERE path = ?", (path,))
        }

    def _carry(self, path: str) -> None:
        """Give the standby the live folder's hand-placed file or folder at `path`."""
        source, target = self.live / path, self.standby / path
        self._ensure_folder(posixpath.dirname(path))
        if source.is_dir() and not source.is_symlink():
            if target.exists() or target.is_symlink():
                _remove(target)
            shutil.copytree(
                source,
                target,
                symlinks=True,
                copy_function=_link_or_copy,
                ignore=self._unwanted_names if self.unwanted else None,
            )
            return
        try:
            if os.stat(target, follow_symlinks=False).st_ino == os.stat(source, follow_symlinks=False).st_ino:
                return
        except FileNotFoundError:
            pass
        if target.exists() or target.is_symlink():
            _remove(target)
        _link_or_copy(str(source), str(target))

    def _unwanted_names(self, folder: str, names: list[str]) -> set[str]:
        """Name the entries of a folder being carried over that this build removes as its own (copytree's ignore)."""
        rel = Path(folder).relative_to(self.live).as_posix()
        return {name for name in names if f"{rel}/{name}" in self.unwanted}

    def _warn_placed_at_own_paths(self) -> None:
        """Warn about entries newly placed by hand where this program writes: a build without the record drops them."""
        placed = sorted(p for p in self.foreign - self.recorded_foreign if p in self.own)
        if placed and not self.verify:
            more = f" and {len(placed) - 1} more" if len(placed) > 1 else ""
            self.warnings.append(
                Problem(
                    f"{self.shown}/{placed[0]}",
                    0,
                    f"a file placed here by hand{more} is where "
                    "the site writes its own files: a build that cannot trust its record "
                    "(--clean, or after a crash) removes it",
                    "put it under static/, or outside the site's own addresses",
                    warning=True,
                )
            )

    def _prune(self, folders: Iterable[str]) -> None:
        """Remove standby folders left empty, from the deepest up."""
        for folder in sorted(folders, key=lambda f: -f.count("/")):
            if folder:
                try:
                    os.rmdir(os.path.join(self.standby, folder))
                except OSError:
                    continue

    def _unstamped(self, tree_id: int) -> set[str]:
        """Return the folders of a tree whose ctime was too recent to record when it was last written."""
        return {
            d for (d,) in self._store().execute("SELECT dir FROM stamps WHERE tree = ? AND ctime_ns = 0", (tree_id,))
        }

    def _stamps(self, tree: Path, folders: Iterable[str]) -> Iterator[tuple[str, int]]:
        """Read the ctime of folders of a tree (racy ones as 0: listed next time)."""
        root = str(tree)
        for folder in folders:
            if not folder:
                continue
            try:
                yield folder, _trusted(os.stat(os.path.join(root, folder)).st_ctime_ns)
            except OSError:
                continue

    def _mirror(self, paths: Iterable[str]) -> None:
        """Create the standby as a hard-link copy of the live folder's files (after a first build)."""
        if self.standby.exists():
            _remove(self.standby)
        self.standby.mkdir()
        made: set[str] = set()
        live, standby = str(self.live), str(self.standby)
        for path in sorted(paths):
            folder = posixpath.dirname(path)
            if folder and folder not in made:
                _make_folder(os.path.join(standby, folder))
                made.add(folder)
            _link_or_copy(os.path.join(live, path), os.path.join(standby, path))
        for path in sorted(self.foreign):
            self._carry(path)


def published_generation(out: Path) -> str:
    """Return the generation of the build state the last finished build published ("" when unknown).

    Read without the build lock (a check may run beside a build); "" when there is no such build, or
    its manifest is of another version or cannot be read: then everything is checked.
    """
    manifest = Trees(out).manifest
    if not manifest.is_file():
        return ""
    try:
        db = sqlite3.connect(f"{manifest.resolve().as_uri()}?mode=ro", uri=True, timeout=30)
        try:
            if not sealed(manifest) and intact(db):
                return ""
            schema = db.execute("SELECT value FROM meta WHERE key = 'schema'").fetchone()
            dirty = db.execute("SELECT value FROM meta WHERE key = 'dirty'").fetchone()
            generation = db.execute("SELECT value FROM meta WHERE key = 'generation'").fetchone()
            if (
                schema != (str(SCHEMA),)
                or dirty is None
                or generation is None
                or json.loads(bytes(unwrap(dirty[0], "dirty"))) is not False
            ):
                return ""
            found = json.loads(bytes(unwrap(generation[0], "generation")))
        finally:
            db.close()
    except (sqlite3.DatabaseError, StoreError, ValueError):
        return ""
    return found if isinstance(found, str) else ""


def _carries_mark(path: str | Path) -> bool:
    """Tell whether a file is a page or feed this program made (its generator mark), never following a link."""
    try:
        fd = os.open(path, READ_FLAGS)
    except OSError:
        return False
    with open(fd, "rb") as handle:
        try:
            return stat.S_ISREG(os.fstat(fd).st_mode) and carries_mark(handle.read(MARK_WINDOW))
        except OSError:
            return False


def _fast_data(fast: FastState) -> dict[str, Any]:
    """Describe a quick-answer state as JSON data."""
    summary = fast.summary
    due = summary.next_due
    return {
        "inputs": fast.inputs,
        "racy": dict(fast.racy),
        "valid_from": fast.valid_from,
        "valid_until": fast.valid_until,
        "summary": [
            summary.items,
            summary.pages,
            summary.files,
            summary.held_back,
            None if due is None else [due.replace(tzinfo=None).isoformat(), due.fold, str(due.tzinfo)],
        ],
    }


def _fast_state(data: Any) -> FastState | None:
    """Read a quick-answer state from JSON data; None when it has another shape."""
    try:
        items, pages, files, held_back, due = _typed(data["summary"], list)
        if due is not None:
            wall, fold, zone = _typed(due, list)
            due = datetime.fromisoformat(_typed(wall, str)).replace(
                tzinfo=ZoneInfo(_typed(zone, str)), fold=_typed(fold, int)
            )
        racy = {_typed(path, str): _typed(value, str) for path, value in _typed(data["racy"], dict).items()}
        return FastState(
            _typed(data["inputs"], str),
            racy,
            _typed(data["valid_from"], float),
            _typed(data["valid_until"], float),
            Summary(_typed(items, int), _typed(pages, int), _typed(files, int), _typed(held_back, int), due),
        )
    except (TypeError, KeyError, ValueError):
        return None


def _ids(data: Any) -> tuple[int, int] | None:
    """Read the inodes of the live and standby folders from JSON data; None when it has another shape."""
    if isinstance(data, list) and len(data) == 2 and all(type(value) is int for value in data):
        return data[0], data[1]
    return None


def _typed(value: Any, kind: type[T]) -> T:
    """Return a value of JSON data if it is of exactly this type; raise TypeError otherwise."""
    if type(value) is not kind:
        raise TypeError(f"{value!r} is not a {kind.__name__}")
    return value


def _recorded_stamps(db: sqlite3.Connection, tree_id: int) -> list[tuple[str, int]]:
    """Return each folder of a tree with the ctime the manifest recorded for it."""
    # A plain scan of the table beats its (tree, dir) index here: the index would send every one of
    # the tree's rows to a second lookup for its ctime, and the table holds only the two trees.
    return db.execute("SELECT dir, ctime_ns FROM stamps NOT INDEXED WHERE tree = ?", (tree_id,)).fetchall()


def _read_stamps(manifest: Path, live: Path) -> tuple[int, list[tuple[str, int]], list[int]]:
    """Return the live folder's inode, its folders' recorded stamps and their current ctimes (in a worker)."""
    live_id = _inode(live)
    db = connect_read_only(manifest, immutable=False)
    try:
        stamps = _recorded_stamps(db, live_id)
    finally:
        db.close()
    return live_id, stamps, _ctimes(live, [folder for folder, _ in stamps])


def _file_inodes(tree: Path, folders: set[str]) -> dict[str, int]:
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


def _inode(path: Path) -> int:
    """Return a folder's inode number, 0 when missing."""
    try:
        return os.stat(path, follow_symlinks=False).st_ino
    except OSError:
        return 0


def _ctimes(tree: Path, folders: list[str]) -> list[int]:
    """Return the ctime of each folder of a tree, 0 for one that cannot be read (listed as changed)."""
    stat = os.stat
    ctimes: list[int] = []
    add = ctimes.append
    if stat not in os.supports_dir_fd:  # Windows: no stat relative to an open folder
        root = str(tree)
        for folder in folders:
            try:
                add(stat(os.path.join(root, folder)).st_ctime_ns)
            except OSError:
                add(0)
        return ctimes
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
    return ctimes


def _trusted(ctime_ns: int) -> int:
    """Return a ctime worth comparing later, or 0 when it is too recent to rule out an unseen change."""
    return 0 if ctime_ns >= time.time_ns() - RACY_NS else ctime_ns


def _like_prefix(prefix: str) -> str:
    """Return a LIKE pattern matching every path that starts with `prefix`."""
    return prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def _folders(paths: Iterable[str]) -> set[str]:
    """Return every folder that holds one of the paths, at any depth (the root excluded)."""
    folders: set[str] = set()
    for path in paths:
        folder = path.rpartition("/")[0]
        while folder and folder not in folders:
            folders.add(folder)
            folder = folder.rpartition("/")[0]
    return folders


def _write_file(path: str, data: bytes) -> None:
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


def _make_folder(path: str) -> None:
    """Create a folder and any missing parents (one system call when the parent exists, the usual case)."""
    try:
        os.mkdir(path)
    except FileExistsError:
        return
    except FileNotFoundError:
        os.makedirs(path, exist_ok=True)


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
        try:
            shutil.copy2(source, target, follow_symlinks=False)
        except OSError as error:
            raise _naming(error, target) from None


def _naming(exc: OSError, path: str) -> OSError:
    """Return the error with the file it concerns, when the system call that raised it named none."""
    return exc if exc.filename else OSError(exc.errno, exc.strerror, path)


def records(out: Path, cache: Path | None) -> str:
    """Name the databases a build keeps: the build cache and the publish record beside the output."""
    return f"{cache} or {Trees(out).home}"
