"""The SQLite files a build keeps between runs (the build cache, the publish manifest): opened, checked, sealed.

A file may be damaged between two builds (a disk error, a CI cache restored from storage other jobs
write, random bytes). Each time this program closes one of its files, it records the file's stat
beside it (the seal); a file whose stat is no longer the sealed one was changed by something else,
and SQLite checks its whole structure before it is used. A damaged file is discarded with a warning.
Imported by a build that finds nothing changed: no library beyond the standard one.
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from .errors import Problem

CHECK_SIZE = 16
# SQLite's primary result codes for a damaged file: SQLITE_CORRUPT and SQLITE_NOTADB; for a file another
# connection holds: SQLITE_BUSY and SQLITE_LOCKED.
DAMAGED_CODES = (11, 26)
BUSY_CODES = (5, 6)
# How long a connection waits for another process's write to the same file (two builds sharing a cache).
BUSY_SECONDS = 60.0


class StoreError(Exception):
    """A store file cannot be used: damaged, or written by another version of this program."""


def damaged(exc: sqlite3.Error) -> bool:
    """Tell whether an SQLite error says the file is damaged (not locked, full or unreadable)."""
    return getattr(exc, "sqlite_errorcode", 0) & 0xFF in DAMAGED_CODES


def busy(exc: BaseException) -> bool:
    """Tell whether an error is SQLite's saying another process held the file longer than BUSY_SECONDS."""
    return isinstance(exc, sqlite3.OperationalError) and getattr(exc, "sqlite_errorcode", 0) & 0xFF in BUSY_CODES


def open_store(
    path: Path | None, schema: int, tables: str, kind: str = "cache file", hint: str = "nothing to do: it is rebuilt"
) -> tuple[sqlite3.Connection, list[Problem]]:
    """Open (or create) an SQLite store; discard it with a warning when damaged or of another schema."""
    if path is None:
        db = sqlite3.connect(":memory:")
        db.executescript(tables)
        return db, []
    path.parent.mkdir(parents=True, exist_ok=True)
    warnings: list[Problem] = []
    try:
        db = _connect(path, schema, tables, check=not sealed(path))
    except (sqlite3.DatabaseError, StoreError) as exc:
        if isinstance(exc, sqlite3.DatabaseError) and not damaged(exc):
            raise
        warnings.append(unusable(path, str(exc), kind, hint))
        discard(path)
        db = _connect(path, schema, tables, check=False)
    return db, warnings


def unusable(path: Path, reason: str, kind: str = "cache file", hint: str = "nothing to do: it is rebuilt") -> Problem:
    """Return the warning that a store file was found unusable (damaged, of another schema) and not used."""
    return Problem(str(path), 0, f"discarded an unusable {kind} ({reason})", hint, warning=True)


def _connect(path: Path, schema: int, tables: str, check: bool) -> sqlite3.Connection:
    """Connect, check the structure (`check`) and the schema version, create missing tables."""
    db = sqlite3.connect(path, timeout=BUSY_SECONDS)
    try:
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=NORMAL")
        if check:
            found = intact(db)
            if found:
                raise StoreError(found)
        db.executescript(tables)
        row = _schema(db)
        if row is None:
            with writing(db):  # another build may be making the same new file: one of the two writes the version
                row = _schema(db)
                if row is None:
                    if any(db.execute(f"SELECT 1 FROM {name} LIMIT 1").fetchone() for name in _table_names(tables)):
                        raise StoreError("no schema version")
                    db.execute("INSERT INTO meta VALUES ('schema', ?)", (str(schema),))
        if row is not None and row[0] != str(schema):
            raise StoreError(f"schema {row[0]}, this program uses {schema}")
    except BaseException:
        db.close()
        raise
    return db


def _schema(db: sqlite3.Connection) -> tuple[str] | None:
    """Return the row of the file's schema version, or None when it has none."""
    row: tuple[str] | None = db.execute("SELECT value FROM meta WHERE key = 'schema'").fetchone()
    return row


@contextmanager
def writing(db: sqlite3.Connection) -> Iterator[None]:
    """Run one write transaction that takes the file's write lock first, waiting for another process's write.

    A transaction that read before it writes (SQLite's default) cannot wait: once another build sharing
    the file has written since that read, its write fails at once ("database is locked"). So a read the
    connection has open (a query through a temporary table begins one) is ended, and the lock is taken
    before anything is read: a build that shares the cache with another waits for it instead.
    """
    if db.in_transaction:
        db.commit()
    db.execute("BEGIN IMMEDIATE")
    with db:
        yield


def intact(db: sqlite3.Connection) -> str:
    """Check a file's whole structure; return what is damaged, or "" when nothing is."""
    rows = db.execute("PRAGMA quick_check(1)").fetchall()
    if rows == [("ok",)]:
        return ""
    found = " ".join(str(rows[0][0]).replace("*** in database main ***", "").split()) if rows else ""
    return f"damaged: {found or 'no answer'}"


def _table_names(tables: str) -> list[str]:
    """List the tables a schema script creates."""
    return [line.split()[5] for line in tables.splitlines() if line.startswith("CREATE TABLE")]


def discard(path: Path) -> None:
    """Delete a store file with its write-ahead log, shared memory and seal."""
    for suffix in ("", "-wal", "-shm", ".seal"):
        path.with_name(path.name + suffix).unlink(missing_ok=True)


def _state(path: Path) -> str:
    """Describe a store file and its write-ahead log (if not empty) by device, inode, size, mtime and ctime."""
    parts = []
    for file in (path, path.with_name(path.name + "-wal")):
        try:
            s = os.stat(file)
        except FileNotFoundError:
            parts.append("-")
            continue
        except OSError:
            return "?"
        # An empty log holds nothing: a reader (`check`) may leave one behind without changing a byte.
        parts.append(f"{s.st_dev}:{s.st_ino}:{s.st_size}:{s.st_mtime_ns}:{s.st_ctime_ns}" if s.st_size else "-")
    return " ".join(parts)


def seal(path: Path) -> None:
    """Record a closed store file's state: as long as it holds, no other program changed the file."""
    state = _state(path)
    target = path.with_name(path.name + ".seal")
    try:
        if target.read_text(encoding="ascii") == state:
            return
    except (OSError, UnicodeDecodeError):
        pass
    try:
        target.write_text(state, encoding="ascii")
    except OSError:
        target.unlink(missing_ok=True)  # no seal: the file is checked when next opened


def sealed(path: Path) -> bool:
    """Tell whether a store file is as this program left it when it last closed it."""
    try:
        return path.with_name(path.name + ".seal").read_text(encoding="ascii") == _state(path)
    except (OSError, UnicodeDecodeError):
        return False


def connect_read_only(path: Path, immutable: bool = True) -> sqlite3.Connection:
    """Open a store file for reading; `immutable` also spares SQLite its lock files (no writer is around)."""
    flags = "mode=ro&immutable=1" if immutable else "mode=ro"
    return sqlite3.connect(f"file:{path}?{flags}", uri=True, timeout=BUSY_SECONDS)


def _check(payload: bytes | memoryview, key: tuple[object, ...]) -> bytes:
    """Digest a row's key and value, so that a damaged or moved row is told from a sound one."""
    h = hashlib.blake2b(repr(key).encode(), digest_size=CHECK_SIZE)
    h.update(payload)
    return h.digest()


def wrap(payload: bytes, *key: object) -> bytes:
    """Return a row's value column: a digest of the row's key and value, then the value."""
    return _check(payload, key) + payload


def unwrap(column: object, *key: object) -> memoryview:
    """Return the value of a row's value column; raise StoreError when it does not match its digest."""
    if not isinstance(column, bytes) or len(column) < CHECK_SIZE:
        raise StoreError("a value of another type")
    payload = memoryview(column)[CHECK_SIZE:]  # not a copy: the parses of 10,000 items are 10 MB
    if _check(payload, key) != column[:CHECK_SIZE]:
        raise StoreError("a value that does not match its digest")
    return payload
