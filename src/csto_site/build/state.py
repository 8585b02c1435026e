"""What the last build described and drew, and what each of those read: the state an incremental build starts from.

Kept in the build cache's SQLite file, per target (a content folder built into an output folder with
given options):
- targets: the build that stored the state: its generation, which the publisher records with the swap
  (a state whose generation is not the published one, a build stopped between the two, is not
  trusted), its clock time, the program and the parses it ran with, and the digests of the address record;
- partitions: each producer partition's outputs as described (specs), and which sitemaps they fill;
- outputs: each output's files (the page and its compressed copies) with their digests;
- deps: for every consumer (a partition described, an output drawn) the keys it read with their
  values, one row per key of an item or listing scope (indexed by scope, to find the candidates of
  a change);
- wide: the global and registry keys each consumer read, in one row per consumer (they change rarely,
  and then every consumer is looked at); wide_keys: each of those keys once, with its stored value;
- search: the pages the site indexes for search, as a digest and a count per bucket (a language's month).
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import msgspec

from ..output.search import Bucket
from ..output.spec import Spec, later
from ..site.queries import GLOBAL, REGISTRY, scope_of
from ..util.store import StoreError, unwrap, wrap, writing

TABLES = """
CREATE TABLE IF NOT EXISTS targets (target TEXT PRIMARY KEY, generation TEXT NOT NULL, built_at REAL NOT NULL,
                                    code TEXT NOT NULL, record TEXT NOT NULL, seen TEXT NOT NULL,
                                    parses TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS partitions (target TEXT NOT NULL, id TEXT NOT NULL, producer TEXT NOT NULL,
                                       sitemaps TEXT NOT NULL, specs BLOB NOT NULL, PRIMARY KEY (target, id));
CREATE TABLE IF NOT EXISTS outputs (target TEXT NOT NULL, path TEXT NOT NULL, partition TEXT NOT NULL,
                                    files BLOB NOT NULL, PRIMARY KEY (target, path));
CREATE INDEX IF NOT EXISTS outputs_partition ON outputs (target, partition);
-- The pages, counted by every build for its summary (pages() asks exactly this): not a scan of every output.
CREATE INDEX IF NOT EXISTS outputs_pages ON outputs (target) WHERE path LIKE '%.html' AND partition != 'redirect';
CREATE TABLE IF NOT EXISTS deps (target TEXT NOT NULL, consumer TEXT NOT NULL, scope TEXT NOT NULL,
                                 key TEXT NOT NULL, value TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS deps_scope ON deps (target, scope);
CREATE INDEX IF NOT EXISTS deps_consumer ON deps (target, consumer);
CREATE INDEX IF NOT EXISTS deps_key ON deps (target, key);
CREATE TABLE IF NOT EXISTS wide (target TEXT NOT NULL, consumer TEXT NOT NULL, deps BLOB NOT NULL,
                                 PRIMARY KEY (target, consumer));
CREATE TABLE IF NOT EXISTS wide_keys (target TEXT NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL,
                                      PRIMARY KEY (target, key));
-- The search index's buckets (output/search.py) as the last build left the site; none after a --no-search one.
CREATE TABLE IF NOT EXISTS search (target TEXT PRIMARY KEY, buckets BLOB NOT NULL);
"""
WIDE = (GLOBAL, REGISTRY)
_SPECS = msgspec.msgpack.Decoder(
    list[tuple[str, str, str, str, tuple[str, ...], tuple[tuple[str, str], ...], str, str, str]]
)
_FILES = msgspec.msgpack.Decoder(list[tuple[str, str]])
_DEPS = msgspec.msgpack.Decoder(dict[str, str])
_BUCKETS = msgspec.msgpack.Decoder(dict[str, tuple[str, str, int]])
_ENCODE = msgspec.msgpack.Encoder()

Files = tuple[tuple[str, str], ...]  # (path, digest) of an output's files: itself and its compressed copies


def partition_consumer(part_id: str) -> str:
    """Name a partition as a consumer of dependencies."""
    return f"p:{part_id}"


def output_consumer(path: str) -> str:
    """Name an output as a consumer of dependencies."""
    return f"o:{path}"


class StateDamaged(Exception):
    """A row of the stored state cannot be read (damaged, or written by another program)."""


def _decode(decoder: msgspec.msgpack.Decoder[Any], column: object, what: str, *key: object) -> Any:
    """Check a stored value against its digest and decode it, or raise StateDamaged naming it."""
    try:
        return decoder.decode(unwrap(column, *key))
    except (StoreError, msgspec.DecodeError, msgspec.ValidationError) as exc:
        raise StateDamaged(what) from exc


def sitemap_lastmods(specs: Sequence[Spec]) -> dict[str, str]:
    """Return the sitemaps some of `specs` are listed in, each with the latest `lastmod` of those ("" if none)."""
    found: dict[str, str] = {}
    for spec in specs:
        if spec.sitemap:
            found[spec.sitemap] = later(found.get(spec.sitemap, ""), spec.lastmod)
    return dict(sorted(found.items()))


def encode_specs(specs: Sequence[Spec]) -> bytes:
    """Encode a partition's specs."""
    return _ENCODE.encode(
        [(s.path, s.url, s.lang, s.key, s.args, s.alternates, s.sitemap, s.source, s.lastmod) for s in specs]
    )


def decode_specs(column: object, *key: str) -> list[Spec]:
    """Decode a partition's specs (stored under `key`: target and partition id)."""
    return [Spec(*row) for row in _decode(_SPECS, column, key[-1], *key)]


@dataclass
class StateChanges:
    """What a build changes in the state, written in one transaction at its end."""

    partitions: dict[str, tuple[str, list[Spec]]] = field(default_factory=dict)  # id -> (producer, specs)
    dropped_partitions: set[str] = field(default_factory=set)
    outputs: dict[str, tuple[str, Files]] = field(default_factory=dict)  # path -> (partition id, files)
    dropped_outputs: set[str] = field(default_factory=set)
    deps: dict[str, Mapping[str, str]] = field(default_factory=dict)  # consumer -> key -> value
    dropped_consumers: set[str] = field(default_factory=set)


class OutputState:
    """Read and update the outputs state of one target in the build cache."""

    def __init__(self, db: sqlite3.Connection, target: str, trusted: bool) -> None:
        self.db = db
        self.target = target
        self.trusted = trusted
        self._specs: dict[str, list[Spec]] = {}

    def generation(self, code: str, parses: str) -> str:
        """Return the generation of the stored state ("" when none, or when another program stored it).

        Also "" when the cache's parses are not the ones the stored build left (`parses`, Cache.parses_after):
        the changes a build finds in the content are then not all the changes since this state's build.
        """
        row = self.db.execute(
            "SELECT generation, code, parses FROM targets WHERE target = ?", (self.target,)
        ).fetchone()
        return str(row[0]) if row and row[1] == code and row[2] == parses else ""

    def built_at(self) -> float | None:
        """Return the clock time of the build that stored this state (None when none did)."""
        if not self.trusted:
            return None
        row = self.db.execute("SELECT built_at FROM targets WHERE target = ?", (self.target,)).fetchone()
        return float(row[0]) if row else None

    def record(self) -> str:
        """Return the digest of the address record the stored build left holding every address it published, or ""."""
        return self._target_text("record")

    def seen(self) -> str:
        """Return the digest of the address record as the stored build left it (written, or read), or ""."""
        return self._target_text("seen")

    def _target_text(self, column: str) -> str:
        """Return a text column of the stored build's row ("" when none is trusted)."""
        if not self.trusted:
            return ""
        row = self.db.execute(f"SELECT {column} FROM targets WHERE target = ?", (self.target,)).fetchone()
        return str(row[0]) if row else ""

    def pages(self) -> int:
        """Count the pages of the site: its HTML outputs but the redirect pages."""
        row = self.db.execute(
            "SELECT count(*) FROM outputs WHERE target = ? AND path LIKE '%.html' AND partition != 'redirect'",
            (self.target,),
        ).fetchone()
        return int(row[0])

    def search_buckets(self) -> dict[str, Bucket] | None:
        """Return the search index's buckets as the stored build left the site (None when not known).

        Raise StateDamaged when their row cannot be read.
        """
        if not self.trusted:
            return None
        row = self.db.execute("SELECT buckets FROM search WHERE target = ?", (self.target,)).fetchone()
        if row is None:
            return None
        found = _decode(_BUCKETS, row[0], "search", self.target, "search")
        return {name: Bucket(*bucket) for name, bucket in found.items()}

    # -- reading ---------------------------------------------------------------------------------

    def partitions(self) -> dict[str, str]:
        """Return every stored partition's producer, by partition id."""
        if not self.trusted:
            return {}
        return dict(self.db.execute("SELECT id, producer FROM partitions WHERE target = ?", (self.target,)))

    def specs(self, part_id: str) -> list[Spec]:
        """Return a stored partition's specs."""
        if part_id not in self._specs:
            row = self.db.execute(
                "SELECT specs FROM partitions WHERE target = ? AND id = ?", (self.target, part_id)
            ).fetchone()
            self._specs[part_id] = decode_specs(row[0], self.target, part_id) if row else []
        return self._specs[part_id]

    def candidates(self, scopes: Iterable[str]) -> dict[str, str]:
        """Return the stored keys of the given item and listing scopes, with their values."""
        # The planner, seeing one target, would rather scan every row of it than use the scope index.
        return dict(
            self._query_in(
                "SELECT DISTINCT key, value FROM deps INDEXED BY deps_scope WHERE target = ? AND scope IN", scopes
            )
        )

    def wide_keys(self) -> dict[str, str]:
        """Return every global and registry key a consumer read, with its stored value."""
        return dict(self.db.execute("SELECT key, value FROM wide_keys WHERE target = ?", (self.target,)))

    def sitemaps(self) -> dict[str, dict[str, str]]:
        """Return the sitemaps each stored partition is listed in, with their latest `lastmod`, by partition."""
        return {
            part: {name: lastmod for name, _, lastmod in (entry.partition("=") for entry in column.split(",") if entry)}
            for part, column in self.db.execute("SELECT id, sitemaps FROM partitions WHERE target = ?", (self.target,))
        }

    def consumers(self, keys: Iterable[str], wide: Iterable[str] = ()) -> set[str]:
        """Return the consumers that read any of `keys` (item and listing keys) or `wide` (global, registry)."""
        found = {
            c
            for (c,) in self._query_in(
                "SELECT DISTINCT consumer FROM deps INDEXED BY deps_key WHERE target = ? AND key IN", keys
            )
        }
        wide = set(wide)
        if wide:
            for consumer, blob in self.db.execute("SELECT consumer, deps FROM wide WHERE target = ?", (self.target,)):
                if not wide.isdisjoint(_decode(_DEPS, blob, consumer, self.target, consumer)):
                    found.add(consumer)
        return found

    def value(self, key: str) -> str | None:
        """Return the stored value of one key (None when no consumer read it)."""
        row = self.db.execute(
            "SELECT value FROM deps WHERE target = ? AND key = ? LIMIT 1", (self.target, key)
        ).fetchone()
        return str(row[0]) if row else None

    def outputs_of(self, part_id: str) -> dict[str, Files]:
        """Return the stored outputs of a partition with their files."""
        return {
            path: tuple(_decode(_FILES, blob, path, self.target, path))
            for path, blob in self.db.execute(
                "SELECT path, files FROM outputs WHERE target = ? AND partition = ?", (self.target, part_id)
            )
        }

    def owners(self, paths: Iterable[str]) -> dict[str, str]:
        """Return the partition that owns each of `paths` that an output already has."""
        return dict(self._query_in("SELECT path, partition FROM outputs WHERE target = ? AND path IN", paths))

    def below(self, folder: str) -> str | None:
        """Return an output path inside `folder`, if any (a new file there would clash with it)."""
        prefix = folder + "/"
        row = self.db.execute(
            "SELECT path FROM outputs WHERE target = ? AND path >= ? AND path < ? LIMIT 1",
            (self.target, prefix, prefix[:-1] + "0"),
        ).fetchone()
        return str(row[0]) if row else None

    def _query_in(self, query: str, values: Iterable[str]) -> list[Any]:
        """Run `query ... (values)` for many values at once, through a temporary table."""
        db = self.db
        db.execute("CREATE TEMP TABLE IF NOT EXISTS wanted (value TEXT PRIMARY KEY)")
        db.execute("DELETE FROM wanted")
        db.executemany("INSERT OR IGNORE INTO wanted VALUES (?)", ((v,) for v in values))
        return db.execute(f"{query} (SELECT value FROM wanted)", (self.target,)).fetchall()

    # -- writing ---------------------------------------------------------------------------------

    def save(
        self,
        changes: StateChanges,
        generation: str,
        clean: bool,
        built_at: float,
        code: str,
        record: tuple[str, str],
        parses: str,
        search: Mapping[str, Bucket] | None = None,
    ) -> None:
        """Write a build's changes (or, for a build that trusted nothing, its whole state) in one transaction.

        `record` is the digest of the address record once it holds every address this build publishes ("" when
        the build does not keep the record: a build that finds that record may look for new addresses only
        in the partitions it describes again), and the digest of the record as this build leaves it.
        `parses` names the cache's parses this build leaves (Cache.parses_after). `search` is the search
        index's buckets of the site this build made (None: it made no index).
        """
        db, target = self.db, self.target
        with writing(db):
            if clean:
                for table in ("partitions", "outputs", "deps", "wide", "wide_keys"):
                    db.execute(f"DELETE FROM {table} WHERE target = ?", (target,))
            db.executemany(
                "DELETE FROM partitions WHERE target = ? AND id = ?",
                [(target, p) for p in sorted(changes.dropped_partitions)],
            )
            db.executemany(
                "INSERT OR REPLACE INTO partitions VALUES (?, ?, ?, ?, ?)",
                [
                    (
                        target,
                        p,
                        producer,
                        ",".join(f"{name}={lastmod}" for name, lastmod in sitemap_lastmods(specs).items()),
                        wrap(encode_specs(specs), target, p),
                    )
                    for p, (producer, specs) in sorted(changes.partitions.items())
                ],
            )
            db.executemany(
                "DELETE FROM outputs WHERE target = ? AND path = ?",
                [(target, p) for p in sorted(changes.dropped_outputs)],
            )
            db.executemany(
                "INSERT OR REPLACE INTO outputs VALUES (?, ?, ?, ?)",
                [
                    (target, p, part, wrap(_ENCODE.encode(list(files)), target, p))
                    for p, (part, files) in sorted(changes.outputs.items())
                ],
            )
            gone = sorted(changes.dropped_consumers | set(changes.deps))
            db.executemany("DELETE FROM deps WHERE target = ? AND consumer = ?", [(target, c) for c in gone])
            db.executemany("DELETE FROM wide WHERE target = ? AND consumer = ?", [(target, c) for c in gone])
            rows: list[tuple[str, str, str, str, str]] = []
            wide: list[tuple[str, str, bytes]] = []
            for consumer, deps in sorted(changes.deps.items()):
                kept: dict[str, str] = {}
                for key, value in deps.items():
                    scope = scope_of(key)
                    if scope in WIDE:
                        kept[key] = value
                    else:
                        rows.append((target, consumer, scope, key, value))
                wide.append((target, consumer, wrap(_ENCODE.encode(dict(sorted(kept.items()))), target, consumer)))
            db.executemany("INSERT INTO deps VALUES (?, ?, ?, ?, ?)", rows)
            db.executemany("INSERT INTO wide VALUES (?, ?, ?)", wide)
            db.executemany(
                "INSERT OR REPLACE INTO wide_keys VALUES (?, ?, ?)",
                [
                    (target, key, value)
                    for deps in changes.deps.values()
                    for key, value in deps.items()
                    if scope_of(key) in WIDE
                ],
            )
            db.execute(
                "INSERT OR REPLACE INTO targets VALUES (?, ?, ?, ?, ?, ?, ?)",
                (target, generation, built_at, code, *record, parses),
            )
            db.execute("DELETE FROM search WHERE target = ?", (target,))
            if search is not None:
                buckets = _ENCODE.encode({name: tuple(bucket) for name, bucket in sorted(search.items())})
                db.execute("INSERT INTO search VALUES (?, ?)", (target, wrap(buckets, target, "search")))


def new_generation() -> str:
    """Return a fresh generation token."""
    return os.urandom(8).hex()
