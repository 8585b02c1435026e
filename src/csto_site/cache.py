"""The persistent build cache: what each content file said, and the HTML of every Markdown body.

Everything is keyed by content (digests of the file, of the registries and site.yaml, of the code),
so an entry that no longer applies is simply never found. A cache that cannot be read, or was
written by another version of this program, is discarded with a warning and rebuilt.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import sqlite3
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from .errors import Problem

if TYPE_CHECKING:
    from .items import ParsedItem
    from .model import Item

SCHEMA = 1
FILE = "cache.sqlite"
TABLES = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS stats (path TEXT PRIMARY KEY, mtime_ns INTEGER NOT NULL, size INTEGER NOT NULL,
                                  digest TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS records (key TEXT PRIMARY KEY, record BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS bodies (key TEXT PRIMARY KEY, html TEXT NOT NULL);
"""
# Rows not used by the latest build are deleted once they outnumber the used ones this much.
GARBAGE_FACTOR = 2

Stat = tuple[int, int, str]


def digest(*parts: str | bytes) -> str:
    """Return a short hex digest of the parts, kept apart by a separator."""
    if all(type(part) is str for part in parts):
        return hashlib.blake2b("\x1f".join(parts).encode(), digest_size=16).hexdigest()  # type: ignore[arg-type]
    h = hashlib.blake2b(digest_size=16)
    for part in parts:
        h.update(part.encode() if isinstance(part, str) else part)
        h.update(b"\x1f")
    return h.hexdigest()


@dataclass(frozen=True)
class Record:
    """A parsed item as the cache keeps it: the item without its body, its head digest and its body key."""

    parsed: ParsedItem
    head: str
    body: str


class CacheError(Exception):
    """The cache file cannot be used."""


def open_store(path: Path | None, schema: int, tables: str) -> tuple[sqlite3.Connection, list[Problem]]:
    """Open (or create) an SQLite store; discard it with a warning when unreadable or of another schema."""
    if path is None:
        db = sqlite3.connect(":memory:")
        db.executescript(tables)
        return db, []
    path.parent.mkdir(parents=True, exist_ok=True)
    warnings: list[Problem] = []
    try:
        db = _connect(path, schema, tables)
    except (sqlite3.DatabaseError, CacheError) as exc:
        warnings.append(Problem(str(path), 0, f"discarded an unusable cache file ({exc})",
                                "nothing to do: it is rebuilt", warning=True))
        for leftover in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
            leftover.unlink(missing_ok=True)
        db = _connect(path, schema, tables)
    return db, warnings


def _connect(path: Path, schema: int, tables: str) -> sqlite3.Connection:
    """Connect, check the schema version, create missing tables."""
    db = sqlite3.connect(path, timeout=30)
    try:
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=NORMAL")
        db.executescript(tables)
        row = db.execute("SELECT value FROM meta WHERE key = 'schema'").fetchone()
        if row is None:
            if any(db.execute(f"SELECT 1 FROM {name} LIMIT 1").fetchone() for name in _table_names(tables)):
                raise CacheError("no schema version")
            db.execute("INSERT INTO meta VALUES ('schema', ?)", (str(schema),))
            db.commit()
        elif row[0] != str(schema):
            raise CacheError(f"schema {row[0]}, this program uses {schema}")
    except BaseException:
        db.close()
        raise
    return db


def _table_names(tables: str) -> list[str]:
    """List the tables a schema script creates."""
    return [line.split()[5] for line in tables.splitlines() if line.startswith("CREATE TABLE")]


def connect_read_only(path: Path, immutable: bool = True) -> sqlite3.Connection:
    """Open a cache file for reading; `immutable` also spares SQLite its lock files (no writer is around)."""
    flags = "mode=ro&immutable=1" if immutable else "mode=ro"
    return sqlite3.connect(f"file:{path}?{flags}", uri=True, timeout=30)


class Cache:
    """The content cache of one build: read what is known, collect what is new, save it at the end."""

    def __init__(self, db: sqlite3.Connection, path: Path | None, warnings: list[Problem],
                 read_only: bool = False) -> None:
        self.db = db
        self.path = path
        self.warnings = warnings
        self.read_only = read_only
        self.new_stats: dict[str, Stat] = {}
        self.new_records: dict[str, Record] = {}
        self.new_bodies: dict[str, str] = {}

    @classmethod
    def open(cls, folder: Path | None, clean: bool = False, read_only: bool = False) -> Cache:
        """Open the cache in `folder` (None: keep nothing between builds); `clean` empties it first.

        A read-only cache is used if it exists and is never created or written (`csto-site check`).
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
        if clean:
            db.executescript("DELETE FROM stats; DELETE FROM records; DELETE FROM bodies;")
            db.commit()
        return cls(db, path, warnings)

    def close(self) -> None:
        """Close the database."""
        self.db.close()

    def __enter__(self) -> Cache:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def discard(self, reason: str) -> None:
        """Forget everything after finding a damaged entry, with a warning."""
        self.warnings.append(Problem(str(self.path or "cache"), 0, f"discarded a damaged cache ({reason})",
                                     "nothing to do: it is rebuilt", warning=True))
        self.db.executescript("DELETE FROM stats; DELETE FROM records; DELETE FROM bodies;")
        self.db.commit()

    def stats(self) -> dict[str, Stat]:
        """Return the last known (mtime_ns, size, digest) of every file, by path."""
        try:
            return {path: (mtime, size, dig) for path, mtime, size, dig in self.db.execute("SELECT * FROM stats")}
        except sqlite3.DatabaseError as exc:
            self.discard(str(exc))
            return {}

    def records(self, keys: Iterable[str]) -> dict[str, Record]:
        """Return the cached parse results among `keys`."""
        wanted = set(keys)
        found: dict[str, Record] = {}
        try:
            for key, blob in self.db.execute("SELECT key, record FROM records"):
                if key in wanted:
                    record = pickle.loads(blob)
                    if not isinstance(record, Record):
                        raise CacheError("a record of another type")
                    found[key] = record
        except (sqlite3.DatabaseError, pickle.UnpicklingError, CacheError, AttributeError, EOFError,
                ImportError, TypeError) as exc:
            self.discard(str(exc))
            return {}
        return found

    def body(self, key: str) -> str | None:
        """Return the HTML of one Markdown body, or None."""
        if key in self.new_bodies:
            return self.new_bodies[key]
        row = self.db.execute("SELECT html FROM bodies WHERE key = ?", (key,)).fetchone()
        return row[0] if row else None

    def body_reader(self, keys: Mapping[str, str]) -> Callable[[Item], str]:
        """Return a function giving an item's body HTML, safe to call in forked worker processes."""
        path = self.path
        # A connection to a file must not cross a fork: each process opens its own. An in-memory
        # cache has no file, and a forked process reads its own copy of it.
        connections: dict[int, sqlite3.Connection] = {os.getpid(): self.db}

        def body(item: Item) -> str:
            if keys[item.path] in self.new_bodies:
                return self.new_bodies[keys[item.path]]
            pid = os.getpid()
            if pid not in connections:
                connections[pid] = connect_read_only(path, self.read_only) if path else self.db
            row = connections[pid].execute("SELECT html FROM bodies WHERE key = ?", (keys[item.path],)).fetchone()
            if row is None:
                raise CacheError(f"the body of {item.path} vanished from the cache")
            return str(row[0])

        return body

    def remember(self, stats: Mapping[str, Stat], records: Mapping[str, Record], bodies: Mapping[str, str]) -> None:
        """Collect new stats, parse results and bodies, to be saved by `save`."""
        self.new_stats.update(stats)
        self.new_records.update(records)
        self.new_bodies.update(bodies)

    def save(self, live_records: set[str], live_bodies: set[str]) -> None:
        """Write what is new; drop entries the latest build did not use once they pile up."""
        if self.read_only:
            return
        db = self.db
        with db:
            db.executemany("INSERT OR REPLACE INTO stats VALUES (?, ?, ?, ?)",
                           [(p, m, s, d) for p, (m, s, d) in self.new_stats.items()])
            db.executemany("INSERT OR REPLACE INTO records VALUES (?, ?)",
                           [(k, pickle.dumps(r, protocol=pickle.HIGHEST_PROTOCOL))
                            for k, r in self.new_records.items()])
            db.executemany("INSERT OR REPLACE INTO bodies VALUES (?, ?)", self.new_bodies.items())
            for table, live in (("records", live_records), ("bodies", live_bodies)):
                count = db.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
                if count > GARBAGE_FACTOR * len(live) + 100:
                    db.execute("CREATE TEMP TABLE IF NOT EXISTS live (key TEXT PRIMARY KEY)")
                    db.execute("DELETE FROM live")
                    db.executemany("INSERT INTO live VALUES (?)", ((k,) for k in live))
                    db.execute(f"DELETE FROM {table} WHERE key NOT IN (SELECT key FROM live)")
        self.new_stats.clear()
        self.new_records.clear()
        self.new_bodies.clear()
