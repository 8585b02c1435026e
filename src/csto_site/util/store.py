"""Small SQLite stores that discard themselves, with a warning, when they cannot be read."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from .errors import Problem


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


def stamp_of(db: sqlite3.Connection) -> str:
    """Return the stamp of the last write of a cache file ("" for none)."""
    row = db.execute("SELECT value FROM meta WHERE key = 'stamp'").fetchone()
    return str(row[0]) if row else ""


def _table_names(tables: str) -> list[str]:
    """List the tables a schema script creates."""
    return [line.split()[5] for line in tables.splitlines() if line.startswith("CREATE TABLE")]


def connect_read_only(path: Path, immutable: bool = True) -> sqlite3.Connection:
    """Open a cache file for reading; `immutable` also spares SQLite its lock files (no writer is around)."""
    flags = "mode=ro&immutable=1" if immutable else "mode=ro"
    return sqlite3.connect(f"file:{path}?{flags}", uri=True, timeout=30)
