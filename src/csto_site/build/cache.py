"""The persistent build cache: what each content file said, and the HTML of every Markdown body.

Everything is keyed by content (digests of the file, of the registries and site.yaml, of the code),
so an entry that no longer applies is simply never found. A cache that cannot be read, or was
written by another version of this program, is discarded with a warning and rebuilt.
"""

from __future__ import annotations

import os
import pickle
import sqlite3
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from ..util.errors import Problem
from ..util.store import CacheError, connect_read_only, open_store, stamp_of
from .state import TABLES as STATE_TABLES

if TYPE_CHECKING:
    from ..content.items import ParsedItem
    from ..content.model import Item

SCHEMA = 5
FILE = "cache.sqlite"
# `folders` keeps, per content folder, what each item file of it said: its stat, digest and parse. A
# folder's entries travel as one pickled row, read and written together: a rebuild reads ~100 rows
# for a 10,000-item archive, and an edit rewrites only the row of the folder it touched.
TABLES = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS folders (content TEXT NOT NULL, folder TEXT NOT NULL, entries BLOB NOT NULL,
                                    PRIMARY KEY (content, folder));
CREATE TABLE IF NOT EXISTS bodies (key TEXT PRIMARY KEY, html TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS checked (key TEXT PRIMARY KEY, value BLOB NOT NULL);
""" + STATE_TABLES
# What reading a pickled row can raise when the row is damaged or was written by another program.
UNREADABLE = (sqlite3.DatabaseError, pickle.UnpicklingError, AttributeError, EOFError, ImportError, TypeError,
              IndexError)
# Rows not used by the latest build are deleted once they outnumber the used ones this much.
GARBAGE_FACTOR = 2



@dataclass(frozen=True)
class Record:
    """A parsed item as the cache keeps it: the item without its body, its head digest and its body key."""

    parsed: ParsedItem
    head: str
    body: str


class Entry(NamedTuple):
    """What the cache knows of one item file: its stat (mtime -1: check the bytes), digest and parse."""

    mtime_ns: int
    size: int
    digest: str
    record: Record


@dataclass(frozen=True)
class Folder:
    """The entries of one content folder, parsed in one context (code, registries, site.yaml)."""

    context: str
    entries: Mapping[str, Entry]


@dataclass
class Memo:
    """What a long-running process (csto-site serve) keeps of the cache file between its builds.

    The parses of the content folders, as the file holds them, with the
    file's stamp when they were last read or written here: a write by any other process restamps
    the file, and then everything is read from it again.
    """

    path: Path | None = None
    stamp: str = ""
    folders: dict[str, dict[str, Folder]] = field(default_factory=dict)

    def forget(self) -> None:
        """Drop everything kept."""
        self.stamp = ""
        self.folders.clear()


class Cache:
    """The content cache of one build: read what is known, collect what is new, save it at the end."""

    def __init__(self, db: sqlite3.Connection, path: Path | None, warnings: list[Problem],
                 read_only: bool = False, memo: Memo | None = None) -> None:
        self.db = db
        self.path = path
        self.warnings = warnings
        self.read_only = read_only
        self.memo = memo
        self.new_folders: dict[tuple[str, str], Folder] = {}
        self.gone_folders: set[tuple[str, str]] = set()
        self.new_bodies: dict[str, str] = {}

    @classmethod
    def open(cls, folder: Path | None, clean: bool = False, read_only: bool = False, memo: Memo | None = None
             ) -> Cache:
        """Open the cache in `folder` (None: keep nothing between builds); `clean` empties it first.

        A read-only cache is used if it exists and is never created or written (`csto-site check`).
        `memo` is what this process kept of the same file from its last build, used while still true.
        """
        path = folder / FILE if folder is not None else None
        if read_only:
            # A cache being written (its -wal file exists) is not read: reading it would create files.
            if path is not None and path.is_file() and not path.with_name(path.name + "-wal").exists():
                try:
                    db = connect_read_only(path)
                    row = db.execute("SELECT value FROM meta WHERE key = 'schema'").fetchone()
                    if row and row[0] == str(SCHEMA):
                        return cls(db, path, [], read_only=True)
                    db.close()
                except sqlite3.DatabaseError:
                    pass
            db, _ = open_store(None, SCHEMA, TABLES)
            return cls(db, None, [], read_only=True)
        db, warnings = open_store(path, SCHEMA, TABLES)
        if memo is not None and (memo.path != path or memo.stamp != stamp_of(db)):
            memo.forget()
            memo.path = path
        cache = cls(db, path, warnings, memo=memo)
        if clean:
            cache.empty()
        return cache

    def close(self) -> None:
        """Close the database."""
        self.db.close()

    def __enter__(self) -> Cache:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def empty(self) -> None:
        """Forget every entry."""
        if not self.read_only:
            with self.db:
                self.db.executescript("DELETE FROM folders; DELETE FROM bodies; DELETE FROM checked; "
                                      "DELETE FROM targets;")
                self._restamp()
            if self.memo is not None:
                self.memo.forget()

    def discard(self, reason: str) -> None:
        """Forget everything after finding a damaged entry, with a warning."""
        self.warnings.append(Problem(str(self.path or "cache"), 0, f"discarded a damaged cache ({reason})",
                                     "nothing to do: it is rebuilt", warning=True))
        self.empty()

    def folders(self, content: str) -> dict[str, Folder]:
        """Return what the cache knows of each folder of a content tree."""
        if self.memo is not None and content in self.memo.folders:
            return dict(self.memo.folders[content])
        found: dict[str, Folder] = {}
        try:
            for folder, blob in self.db.execute("SELECT folder, entries FROM folders WHERE content = ?",
                                                (content,)):
                entries = pickle.loads(blob)
                if not isinstance(entries, Folder):
                    raise CacheError("an entry of another type")
                found[folder] = entries
        except (*UNREADABLE, CacheError) as exc:
            self.discard(str(exc))
            return {}
        if self.memo is not None:
            self.memo.folders[content] = dict(found)
        return found

    def remember(self, content: str, folders: Mapping[str, Folder], gone: Iterable[str]) -> None:
        """Collect changed folders and vanished ones, to be saved by `save`."""
        self.new_folders.update({(content, name): folder for name, folder in folders.items()})
        self.gone_folders.update((content, name) for name in gone)

    def add_bodies(self, bodies: Mapping[str, str]) -> None:
        """Keep new bodies: in the database at once (each batch committed), or in memory when read-only."""
        if self.read_only:
            self.new_bodies.update(bodies)
        elif bodies:
            with self.db:
                self.db.executemany("INSERT OR REPLACE INTO bodies VALUES (?, ?)", bodies.items())

    def checked(self, key: str) -> Any:
        """Return what was recorded under `key` (a check that passed), or None."""
        try:
            row = self.db.execute("SELECT value FROM checked WHERE key = ?", (key,)).fetchone()
            return pickle.loads(row[0]) if row else None
        except (sqlite3.DatabaseError, pickle.UnpicklingError, EOFError, AttributeError, ImportError):
            return None

    def record_check(self, key: str, value: Any) -> None:
        """Record that a check passed, with what it found."""
        if not self.read_only:
            with self.db:
                self.db.execute("DELETE FROM checked")
                self.db.execute("INSERT INTO checked VALUES (?, ?)", (key, pickle.dumps(value)))

    def body_lookup(self) -> Callable[[str], str | None]:
        """Return a function giving the HTML of a body by its key (or None), safe in forked worker processes."""
        path = self.path
        # A connection to a file must not cross a fork: each process opens its own. An in-memory
        # cache has no file, and a forked process reads its own copy of it.
        connections: dict[int, sqlite3.Connection] = {os.getpid(): self.db}

        def lookup(key: str) -> str | None:
            if key in self.new_bodies:
                return self.new_bodies[key]
            pid = os.getpid()
            if pid not in connections:
                connections[pid] = connect_read_only(path, self.read_only) if path else self.db
            row = connections[pid].execute("SELECT html FROM bodies WHERE key = ?", (key,)).fetchone()
            return None if row is None else str(row[0])

        return lookup

    def body_reader(self, keys: Mapping[str, str]) -> Callable[[Item], str]:
        """Return a function giving an item's body HTML (`keys`: item path -> body key), safe in forked workers."""
        lookup = self.body_lookup()

        def body(item: Item) -> str:
            html = lookup(keys[item.path])
            if html is None:
                raise CacheError(f"the body of {item.path} vanished from the cache")
            return html

        return body

    def _restamp(self) -> None:
        """Mark the file as written by this process (inside the write's transaction)."""
        stamp = os.urandom(8).hex()
        self.db.execute("INSERT OR REPLACE INTO meta VALUES ('stamp', ?)", (stamp,))
        if self.memo is not None:
            self.memo.stamp = stamp

    def save(self, live_bodies: set[str]) -> None:
        """Write what is new; drop bodies the latest build did not use once they pile up."""
        if self.read_only:
            return
        db = self.db
        with db:
            db.executemany("DELETE FROM folders WHERE content = ? AND folder = ?", sorted(self.gone_folders))
            db.executemany("INSERT OR REPLACE INTO folders VALUES (?, ?, ?)",
                           [(content, name, pickle.dumps(folder, protocol=pickle.HIGHEST_PROTOCOL))
                            for (content, name), folder in sorted(self.new_folders.items())])
            db.executemany("INSERT OR REPLACE INTO bodies VALUES (?, ?)", self.new_bodies.items())
            count = db.execute("SELECT count(*) FROM bodies").fetchone()[0]
            # Bodies are shared by every content folder built with this cache: drop them only when it
            # serves one, so a build never loses the bodies another build is about to use.
            trees = db.execute("SELECT count(DISTINCT content) FROM folders").fetchone()[0]
            if trees <= 1 and count > GARBAGE_FACTOR * len(live_bodies) + 100:
                db.execute("CREATE TEMP TABLE IF NOT EXISTS live (key TEXT PRIMARY KEY)")
                db.execute("DELETE FROM live")
                db.executemany("INSERT INTO live VALUES (?)", ((k,) for k in live_bodies))
                db.execute("DELETE FROM bodies WHERE key NOT IN (SELECT key FROM live)")
            self._restamp()
        if self.memo is not None:
            for (content, name), folder in self.new_folders.items():
                self.memo.folders.setdefault(content, {})[name] = folder
            for content, name in self.gone_folders:
                self.memo.folders.get(content, {}).pop(name, None)
        self.new_folders.clear()
        self.gone_folders.clear()
        self.new_bodies.clear()
