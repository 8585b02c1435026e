"""The persistent build cache: what each content file said, and the HTML of every Markdown body.

Everything is keyed by content (digests of the file, of the registries and site.yaml, of the code),
so an entry that no longer applies is simply never found. The cache holds data, never code: each
row is MessagePack decoded into a fixed shape (msgspec refuses anything else), and carries a digest
of its key and bytes. A damaged file, one written by another version of this program, or a damaged
row is discarded (the file, or the row) with a warning, and what it held is made again.
"""

from __future__ import annotations

import mmap
import os
import sqlite3
from collections.abc import Callable, Iterable, Mapping
from contextlib import ExitStack, closing
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple, TypeVar
from zoneinfo import ZoneInfo

import msgspec

from ..content.items import ParsedItem
from ..content.model import Alias, Attachment, BundleFile, Item, Photo, Update
from ..content.record import Record as AddressRecord
from ..util.errors import ContentError, Problem
from ..util.store import (
    StoreError,
    connect_read_only,
    damaged,
    discard,
    intact,
    open_store,
    seal,
    sealed,
    unusable,
    unwrap,
    wrap,
    writing,
)
from .media import Seen
from .state import TABLES as STATE_TABLES

if TYPE_CHECKING:  # the renderer is only kept here: a build with nothing to do loads no Jinja2
    from ..output.render import Renderer

SCHEMA = 11
FILE = "cache.sqlite"
# `folders` keeps, per content folder, what each item file of it said: its stat, digest and parse. A
# folder's entries travel as one row, read and written together: a rebuild reads ~100 rows for a
# 10,000-item archive, and an edit rewrites only the row of the folder it touched. Every value column
# holds a digest of the row's key and value (16 bytes), then the value.
TABLES = (
    """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS folders (content TEXT NOT NULL, folder TEXT NOT NULL, entries BLOB NOT NULL,
                                    PRIMARY KEY (content, folder));
CREATE TABLE IF NOT EXISTS bodies (key TEXT PRIMARY KEY, html BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS checked (key TEXT PRIMARY KEY, value BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS shards (key TEXT PRIMARY KEY, files BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS variants (key TEXT NOT NULL, name TEXT NOT NULL, data BLOB NOT NULL,
                                     PRIMARY KEY (key, name));
"""
    + STATE_TABLES
)
# Rows not used by the latest build are deleted once they outnumber the used ones this much.
GARBAGE_FACTOR = 2
T = TypeVar("T")


class Record(NamedTuple):
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
    ctime_ns: int = 0
    media: tuple[tuple[str, Seen], ...] = ()  # the files of its folder the item names, as last read


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
    the file, and then everything is read from it again. Also the record of addresses as last read,
    by the digest of its text, and the templates as compiled, by the digest of their sources.
    """

    path: Path | None = None
    stamp: str = ""
    folders: dict[str, dict[str, Folder]] = field(default_factory=dict)
    records: dict[str, tuple[AddressRecord, tuple[Problem, ...]]] = field(default_factory=dict)  # see read_record
    renderer: tuple[str, Renderer] | None = None  # see read.read_content

    def forget(self) -> None:
        """Drop everything kept."""
        self.stamp = ""
        self.folders.clear()
        self.records.clear()


# -- the rows, as data -------------------------------------------------------------------------------
# A date and time as its wall-clock reading, its fold (the first or second of a repeated hour) and its
# time zone's name: exactly the datetime the parse made, which a UTC instant would not give back.
Moment = tuple[datetime, int, str]


# A Photo and a BundleFile, field by field.
_PhotoRow = tuple[str, str, str, str, int, str]
_FileRow = tuple[str, str, int, str, int, int]


class _ItemRow(msgspec.Struct, array_like=True, gc=False):
    """An Item without its derived `day` (derived again when decoded)."""

    key: str
    lang: str
    path: str
    section: str
    title: str
    published: Moment
    updated: Moment | None
    slug: str
    summary: str
    body_html: str
    officials: tuple[str, ...]
    organizations: tuple[str, ...]
    draft: bool
    aliases: tuple[tuple[str, int], ...]
    digest: str
    place: str
    updates: tuple[tuple[Moment, str], ...]
    bundle: str
    image: _PhotoRow | None
    gallery: tuple[_PhotoRow, ...]
    attachments: tuple[tuple[str, str, int, str], ...]
    figures: tuple[_PhotoRow, ...]
    files: tuple[_FileRow, ...]


class _EntryRow(msgspec.Struct, array_like=True, gc=False):
    """One item file of a folder: its stat and digest, and its Record."""

    rel: str
    mtime_ns: int
    size: int
    ctime_ns: int
    digest: str
    item: _ItemRow
    explicit_slug: bool
    lines: dict[str, int]
    head: str
    body: str
    media: list[tuple[str, int, int, int, _FileRow]]


class _FolderRow(msgspec.Struct, array_like=True, gc=False):
    """A Folder."""

    context: str
    entries: list[_EntryRow]


_ENCODER = msgspec.msgpack.Encoder()
_FOLDER = msgspec.msgpack.Decoder(_FolderRow)
_CHECKED = msgspec.msgpack.Decoder(dict[str, str])
_SHARD = msgspec.msgpack.Decoder(dict[str, bytes])
# What decoding a row can raise besides msgspec's errors: a time zone or fold no parse makes.
_BAD_VALUE = (ValueError, KeyError)


def _moment(value: datetime) -> Moment:
    """Describe an aware datetime exactly (its tzinfo is a ZoneInfo, the site's time zone)."""
    zone = value.tzinfo
    if not isinstance(zone, ZoneInfo):
        raise TypeError(f"a date in an unexpected time zone: {value!r}")
    return value.replace(tzinfo=None), value.fold, zone.key


def _datetime(moment: Moment) -> datetime:
    """Give back the datetime a Moment describes."""
    wall, fold, zone = moment
    return wall.replace(tzinfo=ZoneInfo(zone), fold=fold)


def encode_folder(folder: Folder) -> bytes:
    """Encode a Folder as MessagePack."""
    rows = []
    for rel, entry in folder.entries.items():
        record = entry.record
        parsed = record.parsed
        item = parsed.item
        row = _ItemRow(
            item.key,
            item.lang,
            item.path,
            item.section,
            item.title,
            _moment(item.published),
            _moment(item.updated) if item.updated is not None else None,
            item.slug,
            item.summary,
            item.body_html,
            item.officials,
            item.organizations,
            item.draft,
            tuple((a.url, a.line) for a in item.aliases),
            item.digest,
            item.place,
            tuple((_moment(u.when), u.note) for u in item.updates),
            item.bundle,
            _photo_row(item.image) if item.image is not None else None,
            tuple(_photo_row(p) for p in item.gallery),
            tuple((a.file, a.title, a.line, a.lang) for a in item.attachments),
            tuple(_photo_row(p) for p in item.figures),
            tuple(_file_row(f) for f in item.files),
        )
        rows.append(
            _EntryRow(
                rel,
                entry.mtime_ns,
                entry.size,
                entry.ctime_ns,
                entry.digest,
                row,
                parsed.explicit_slug,
                dict(parsed.lines),
                record.head,
                record.body,
                [(name, m.mtime_ns, m.size, m.ctime_ns, _file_row(m.file)) for name, m in entry.media],
            )
        )
    return _ENCODER.encode(_FolderRow(folder.context, rows))


def _photo_row(photo: Photo) -> _PhotoRow:
    """Write a Photo as a row."""
    return (photo.file, photo.alt, photo.caption, photo.credit, photo.line, photo.lang)


def _file_row(file: BundleFile) -> _FileRow:
    """Write a BundleFile as a row."""
    return (file.name, file.digest, file.size, file.kind, file.width, file.height)


def decode_folder(data: bytes | memoryview) -> Folder:
    """Decode a Folder; raise msgspec.DecodeError, ValueError or KeyError on anything of another shape."""
    row = _FOLDER.decode(data)
    entries = {}
    for e in row.entries:
        i = e.item
        item = Item(
            i.key,
            i.lang,
            i.path,
            i.section,
            i.title,
            _datetime(i.published),
            _datetime(i.updated) if i.updated is not None else None,
            i.slug,
            i.summary,
            i.body_html,
            i.officials,
            i.organizations,
            i.draft,
            # Most items have none of these: an empty row costs no generator (10,000 items, 8 each).
            tuple(Alias(url, line) for url, line in i.aliases) if i.aliases else (),
            i.digest,
            i.place,
            tuple(Update(_datetime(when), note) for when, note in i.updates) if i.updates else (),
            i.bundle,
            Photo(*i.image) if i.image is not None else None,
            tuple(Photo(*p) for p in i.gallery) if i.gallery else (),
            tuple(Attachment(*a) for a in i.attachments) if i.attachments else (),
            tuple(Photo(*p) for p in i.figures) if i.figures else (),
            tuple(BundleFile(*f) for f in i.files) if i.files else (),
        )
        entries[e.rel] = Entry(
            e.mtime_ns,
            e.size,
            e.digest,
            Record(ParsedItem(item, e.explicit_slug, e.lines), e.head, e.body),
            e.ctime_ns,
            tuple((name, Seen(mtime, size, ctime, BundleFile(*file))) for name, mtime, size, ctime, file in e.media)
            if e.media
            else (),
        )
    return Folder(row.context, entries)


class Cache:
    """The content cache of one build: read what is known, collect what is new, save it at the end."""

    def __init__(
        self,
        db: sqlite3.Connection,
        path: Path | None,
        warnings: list[Problem],
        read_only: bool = False,
        memo: Memo | None = None,
    ) -> None:
        self.db = db
        self.path = path
        self.warnings = warnings
        self.read_only = read_only
        self.memo = memo
        self.owner = os.getpid()
        self.new_folders: dict[tuple[str, str], Folder] = {}
        self.gone_folders: set[tuple[str, str]] = set()
        self.new_bodies: dict[str, str] = {}
        self.live_shards: set[str] = set()  # the search shards of the site this build makes
        self.new_variants: dict[tuple[str, str], bytes] = {}
        # How to make the HTML of a body the cache lost from the item's own file (see loader.parse_items).
        self.remake: Callable[[Item, str], str | None] | None = None
        # Set to 1 by any process of this build, forked workers too, that read a damaged body.
        self.flags = mmap.mmap(-1, 1)
        # Which parses the folder rows hold: a token that changes with them (see parses_after).
        self.parses = self._read(lambda: _meta(db, "parses"), "")
        self._next_parses = ""

    @classmethod
    def open(cls, folder: Path | None, clean: bool = False, read_only: bool = False, memo: Memo | None = None) -> Cache:
        """Open the cache in `folder` (None: keep nothing between builds); `clean` empties it first.

        A read-only cache is used if it exists and is never created or written (`csto-site check`).
        `memo` is what this process kept of the same file from its last build, used while still true.
        """
        path = folder / FILE if folder is not None else None
        if read_only:
            return cls._open_read_only(path)
        db, warnings = open_store(path, SCHEMA, TABLES)
        cache = cls(db, path, warnings, memo=memo)
        if memo is not None and (memo.path != path or memo.stamp != cache._read(lambda: _stamp(cache.db), "")):
            memo.forget()
            memo.path = path
        if clean:
            cache.empty()
        return cache

    @classmethod
    def _open_read_only(cls, path: Path | None) -> Cache:
        """Open the cache file to read if it exists and is sound; else an empty cache, warning of an unusable file."""
        warnings: list[Problem] = []
        # A cache being written (its -wal file exists) is not read: reading it would create files.
        if path is not None and path.is_file() and not path.with_name(path.name + "-wal").exists():
            with ExitStack() as opened:
                try:
                    db = opened.enter_context(closing(connect_read_only(path)))
                    reason = _unusable(db, path)
                except sqlite3.DatabaseError as exc:
                    reason = str(exc)
                if not reason:
                    opened.pop_all()  # the cache closes it
                    return cls(db, path, [], read_only=True)
            warnings.append(unusable(path, reason))
        db, _ = open_store(None, SCHEMA, TABLES)
        return cls(db, None, warnings, read_only=True)

    def close(self) -> None:
        """Drop the bodies a worker found damaged, close the database and seal its file."""
        if self.flags[0] and not self.read_only:
            self._drop_damaged_bodies()
        self.flags.close()
        self.db.close()
        if self.path is not None and not self.read_only:
            seal(self.path)

    def __enter__(self) -> Cache:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- damage ---------------------------------------------------------------------------------

    def _warn(self, message: str, hint: str = "nothing to do: it is rebuilt") -> None:
        """Add a warning about the cache file."""
        self.warnings.append(Problem(str(self.path or "cache"), 0, message, hint, warning=True))

    def _replace(self, exc: sqlite3.DatabaseError) -> None:
        """Discard a file found damaged with a warning, and go on with an empty one (or re-raise another error)."""
        if not damaged(exc):
            raise exc
        self._warn(f"discarded a damaged cache file ({exc})")
        if self.memo is not None:
            self.memo.forget()
        self.db.close()
        if self.read_only or self.path is None:
            self.db, _ = open_store(None, SCHEMA, TABLES)
            self.path = None
            return
        discard(self.path)
        self.db, _ = open_store(self.path, SCHEMA, TABLES)

    def _write(self, write: Callable[[], None]) -> None:
        """Run a write of the database; on a damaged file, discard it and write into a new one."""
        try:
            write()
        except sqlite3.DatabaseError as exc:
            self._replace(exc)
            write()

    def _read(self, read: Callable[[], T], lost: T) -> T:
        """Run a read of the database; on a damaged file, discard it and return `lost`."""
        try:
            return read()
        except sqlite3.DatabaseError as exc:
            self._replace(exc)
            return lost

    def _drop_damaged_bodies(self) -> None:
        """Delete every body whose row does not match its digest, and the parses that lead to bodies."""

        def drop() -> None:
            bad = [(key,) for key, html in self.db.execute("SELECT key, html FROM bodies") if _body(html, key) is None]
            if bad:
                with writing(self.db):
                    self.db.executemany("DELETE FROM bodies WHERE key = ?", bad)
                    # The items of a parse kept here would look for their lost body again in every build.
                    self.db.execute("DELETE FROM folders")
                    self._restamp()

        self._warn("discarded damaged bodies of the cache")
        self._write(drop)

    # -- reading and writing --------------------------------------------------------------------

    def empty(self) -> None:
        """Forget every entry."""
        if not self.read_only:

            def empty() -> None:
                with writing(self.db):
                    # One statement each: a script would first commit, and run outside the transaction.
                    for table in ("folders", "bodies", "checked", "shards", "targets", "variants"):
                        self.db.execute(f"DELETE FROM {table}")
                    self._restamp()

            self._write(empty)
            if self.memo is not None:
                self.memo.forget()

    def folders(self, content: str) -> dict[str, Folder]:
        """Return what the cache knows of each folder of a content tree (a damaged folder's row is dropped)."""
        if self.memo is not None and content in self.memo.folders:
            return dict(self.memo.folders[content])
        rows: list[tuple[str, bytes]] = self._read(
            lambda: self.db.execute("SELECT folder, entries FROM folders WHERE content = ?", (content,)).fetchall(), []
        )
        found: dict[str, Folder] = {}
        damaged_rows = []
        for folder, blob in rows:
            try:
                found[folder] = decode_folder(unwrap(blob, content, folder))
            except (msgspec.DecodeError, StoreError, *_BAD_VALUE) as exc:
                self._warn(
                    f"discarded a damaged cache entry of {folder!r} ({exc})",
                    "nothing to do: its items are parsed again",
                )
                damaged_rows.append((content, folder))
        if damaged_rows and not self.read_only:
            self.gone_folders.update(damaged_rows)
        if self.memo is not None:
            self.memo.folders[content] = dict(found)
        return found

    def remember(
        self,
        content: str,
        folders: Mapping[str, Folder],
        gone: Iterable[str],
        remake: Callable[[Item, str], str | None] | None = None,
    ) -> None:
        """Collect changed folders and vanished ones, to be saved by `save`, and how to remake a lost body."""
        self.new_folders.update({(content, name): folder for name, folder in folders.items()})
        self.gone_folders.update((content, name) for name in gone)
        self.remake = remake

    def add_bodies(self, bodies: Mapping[str, str]) -> None:
        """Keep new bodies: in the database at once (each batch committed), or in memory when read-only."""
        if self.read_only:
            self.new_bodies.update(bodies)
        elif bodies:
            rows = [(key, wrap(html.encode(), key)) for key, html in bodies.items()]

            def add() -> None:
                with writing(self.db):
                    self.db.executemany("INSERT OR REPLACE INTO bodies VALUES (?, ?)", rows)

            self._write(add)

    def checked(self, key: str) -> dict[str, str] | None:
        """Return what was recorded under `key` (a check that passed), or None."""
        row = self._read(lambda: self.db.execute("SELECT value FROM checked WHERE key = ?", (key,)).fetchone(), None)
        if row is None:
            return None
        try:
            return _CHECKED.decode(unwrap(row[0], key))
        except (msgspec.DecodeError, StoreError) as exc:
            self._warn(
                f"discarded a damaged record of the templates' check ({exc})", "nothing to do: they are checked again"
            )
            return None

    def record_check(self, key: str, value: Mapping[str, str]) -> None:
        """Record that a check passed, with what it found."""
        if not self.read_only:
            column = wrap(_ENCODER.encode(dict(value)), key)

            def record() -> None:
                with writing(self.db):
                    self.db.execute("DELETE FROM checked")
                    self.db.execute("INSERT INTO checked VALUES (?, ?)", (key, column))

            self._write(record)

    def shard(self, key: str) -> dict[str, bytes] | None:
        """Return the files of the search shard made from `key` (the digest of its pages), or None."""
        row = self._read(lambda: self.db.execute("SELECT files FROM shards WHERE key = ?", (key,)).fetchone(), None)
        if row is None:
            return None
        try:
            return _SHARD.decode(unwrap(row[0], key))
        except (msgspec.DecodeError, StoreError) as exc:
            self._warn(f"discarded a damaged search shard ({exc})", "nothing to do: it is indexed again")
            return None

    def add_shard(self, key: str, files: Mapping[str, bytes]) -> None:
        """Keep the files of a search shard made from `key`, at once (a stopped build keeps what it indexed)."""
        if self.read_only:
            return
        column = wrap(_ENCODER.encode(dict(files)), key)

        def add() -> None:
            with writing(self.db):
                self.db.execute("INSERT OR REPLACE INTO shards VALUES (?, ?)", (key, column))

        self._write(add)

    def body_lookup(self) -> Callable[[str], str | None]:
        """Return a function giving the HTML of a body by its key (or None), safe in forked worker processes.

        A body this process cannot read (a damaged row or file) is None, as if never converted; in a
        forked worker, which must not touch the file, it is also flagged for `close` to clean up.
        """
        # A connection to a file must not cross a fork: each process opens its own. An in-memory
        # cache has no file, and a forked process reads its own copy of it.
        connections: dict[int, sqlite3.Connection] = {}

        def lookup(key: str) -> str | None:
            if key in self.new_bodies:
                return self.new_bodies[key]
            pid = os.getpid()
            if pid == self.owner:
                row = self._read(
                    lambda: self.db.execute("SELECT html FROM bodies WHERE key = ?", (key,)).fetchone(), None
                )
                html = _body(row[0], key) if row is not None else None
                if row is not None and html is None:
                    self.flags[0] = 1
                return html
            try:
                if pid not in connections:
                    path = self.path
                    connections[pid] = connect_read_only(path, self.read_only) if path else self.db
                row = connections[pid].execute("SELECT html FROM bodies WHERE key = ?", (key,)).fetchone()
            except sqlite3.DatabaseError as exc:
                if not damaged(exc):
                    raise
                row = (b"",)
            html = _body(row[0], key) if row is not None else None
            if row is not None and html is None:
                self.flags[0] = 1
            return html

        return lookup

    def add_variants(self, key: str, variants: Mapping[str, bytes]) -> None:
        """Keep the variants of one photo (`key`: its digest and the settings): at once, or in memory when read-only."""
        if self.read_only:
            self.new_variants.update({(key, name): data for name, data in variants.items()})
            return
        rows = [(key, name, wrap(data, key, name)) for name, data in variants.items()]

        def add() -> None:
            with writing(self.db):
                self.db.executemany("INSERT OR REPLACE INTO variants VALUES (?, ?, ?)", rows)

        self._write(add)

    def variant_keys(self) -> set[str]:
        """Return the keys of the photos whose variants the cache holds."""
        if self.read_only:
            return {key for key, _ in self.new_variants}
        return set(self._read(lambda: [k for (k,) in self.db.execute("SELECT DISTINCT key FROM variants")], []))

    def variant_lookup(self) -> Callable[[str, str], bytes | None]:
        """Return a function giving a variant's bytes by its photo's key and name (or None), safe in forked workers."""
        connections: dict[int, sqlite3.Connection] = {}

        def lookup(key: str, name: str) -> bytes | None:
            if (key, name) in self.new_variants:
                return self.new_variants[(key, name)]
            pid = os.getpid()
            try:
                if pid == self.owner:
                    db = self.db
                elif pid in connections:
                    db = connections[pid]
                else:
                    db = connections[pid] = connect_read_only(self.path, self.read_only) if self.path else self.db
                row = db.execute("SELECT data FROM variants WHERE key = ? AND name = ?", (key, name)).fetchone()
            except sqlite3.DatabaseError as exc:
                if not damaged(exc):
                    raise
                return None  # made again by the caller
            if row is None:
                return None
            try:
                return bytes(unwrap(row[0], key, name))
            except StoreError:
                return None

        return lookup

    def drop_variants(self, live: set[str]) -> None:
        """Forget the variants of every photo not in `live` (the keys of the site's photos now)."""
        if self.read_only:
            return
        stale = [(k,) for k in self.variant_keys() - live]
        if stale:

            def drop() -> None:
                with writing(self.db):
                    self.db.executemany("DELETE FROM variants WHERE key = ?", stale)

            self._write(drop)

    def body_reader(self, keys: Mapping[str, str]) -> Callable[[Item], str]:
        """Return a function giving an item's body HTML (`keys`: item path -> body key), safe in forked workers.

        A body the cache lost is made again from the item's file (`remake`); a file changed since it was
        parsed in this build is a problem.
        """
        lookup = self.body_lookup()

        def body(item: Item) -> str:
            key = keys[item.path]
            html = lookup(key)
            if html is None and self.remake is not None:
                html = self.remake(item, key)
            if html is None:
                raise ContentError([Problem(item.path, 0, "the file changed while the site was built", "build again")])
            return html

        return body

    def _restamp(self) -> None:
        """Mark the file as written by this process (inside the write's transaction)."""
        stamp = os.urandom(8).hex()
        self.db.execute("INSERT OR REPLACE INTO meta VALUES ('stamp', ?)", (stamp,))
        if self.memo is not None:
            self.memo.stamp = stamp

    def parses_after(self) -> str:
        """Name the parses the folder rows hold once this build's are saved: a new token if they change.

        A build's outputs state keeps it: the changes a build finds are those since the rows were last
        saved, by whichever build did, so they are this output folder's own only if its last build left
        the rows as they are (another output folder built from the same content with the same cache may
        have saved its parses since).
        """
        if not (self.new_folders or self.gone_folders):
            return self.parses
        if not self._next_parses:
            self._next_parses = os.urandom(8).hex()
        return self._next_parses

    def save(self, live_bodies: set[str]) -> None:
        """Write what is new; drop bodies the latest build did not use once they pile up."""
        if self.read_only:
            return
        folders = [
            (content, name, wrap(encode_folder(folder), content, name))
            for (content, name), folder in sorted(self.new_folders.items())
        ]
        bodies = [(key, wrap(html.encode(), key)) for key, html in self.new_bodies.items()]
        parses = self.parses_after()

        def save() -> None:
            db = self.db
            with writing(db):
                db.executemany("DELETE FROM folders WHERE content = ? AND folder = ?", sorted(self.gone_folders))
                db.executemany("INSERT OR REPLACE INTO folders VALUES (?, ?, ?)", folders)
                db.execute("INSERT OR REPLACE INTO meta VALUES ('parses', ?)", (parses,))
                db.executemany("INSERT OR REPLACE INTO bodies VALUES (?, ?)", bodies)
                count = db.execute("SELECT count(*) FROM bodies").fetchone()[0]
                # Bodies are shared by every content folder built with this cache: drop them only when it
                # serves one, so a build never loses the bodies another build is about to use.
                trees = db.execute("SELECT count(DISTINCT content) FROM folders").fetchone()[0]
                if trees <= 1 and count > GARBAGE_FACTOR * len(live_bodies) + 100:
                    db.execute("CREATE TEMP TABLE IF NOT EXISTS live (key TEXT PRIMARY KEY)")
                    db.execute("DELETE FROM live")
                    db.executemany("INSERT INTO live VALUES (?)", ((k,) for k in live_bodies))
                    db.execute("DELETE FROM bodies WHERE key NOT IN (SELECT key FROM live)")
                shards = db.execute("SELECT count(*) FROM shards").fetchone()[0]
                if self.live_shards and trees <= 1 and shards > GARBAGE_FACTOR * len(self.live_shards) + 10:
                    db.execute("CREATE TEMP TABLE IF NOT EXISTS live_shards (key TEXT PRIMARY KEY)")
                    db.execute("DELETE FROM live_shards")
                    db.executemany("INSERT INTO live_shards VALUES (?)", ((k,) for k in sorted(self.live_shards)))
                    db.execute("DELETE FROM shards WHERE key NOT IN (SELECT key FROM live_shards)")
                self._restamp()

        self._write(save)
        self.parses, self._next_parses = parses, ""
        if self.memo is not None:
            for (content, name), folder in self.new_folders.items():
                self.memo.folders.setdefault(content, {})[name] = folder
            for content, name in self.gone_folders:
                self.memo.folders.get(content, {}).pop(name, None)
        self.new_folders.clear()
        self.gone_folders.clear()
        self.new_bodies.clear()


def _body(column: object, key: str) -> str | None:
    """Return a body's HTML from its row, or None when the row is damaged."""
    try:
        return str(unwrap(column, key), "utf-8")
    except (StoreError, UnicodeDecodeError):
        return None


def _stamp(db: sqlite3.Connection) -> str:
    """Return the stamp of the last write of a cache file ("" for none)."""
    return _meta(db, "stamp")


def _unusable(db: sqlite3.Connection, path: Path) -> str:
    """Say why a cache file cannot be read as this program's ("" when it can), as a build would find it."""
    schema = _meta(db, "schema")
    if schema != str(SCHEMA):
        return f"schema {schema}, this program uses {SCHEMA}" if schema else "no schema version"
    return "" if sealed(path) else intact(db)


def _meta(db: sqlite3.Connection, key: str) -> str:
    """Return a value of the cache file's meta table ("" for none)."""
    row = db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
    return str(row[0]) if row else ""
