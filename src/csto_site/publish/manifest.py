"""The publish manifest, `.public.publish/manifest.sqlite`: what the live folder and its standby twin hold.

Its tables: `files` (each file of the site with its output group, folder, digest and whether it is
indexed for search), `groups` (each output group's signature), `stale` (files the standby still holds
from before the last swap), `stamps` (each folder's ctime, per folder tree by its inode),
`foreign_entries` (entries placed by hand, per tree) and `meta`: values as JSON with a digest each
(the schema, the two folders' inodes, the mark of an unfinished build, the generation of the build
state the live site was published with, and the quick answer of a build that finds nothing changed).
Only a build holding the lock writes it; `published_generation` reads it without the lock.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from ..build.inputs import FastState, Summary
from ..build.outbox import Published
from ..util.errors import Problem
from ..util.fs import inode
from ..util.store import StoreError, damaged, discard, intact, open_store, seal, sealed, unwrap, wrap

SCHEMA = 4
TABLES = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS groups (grp TEXT PRIMARY KEY, signature TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS files (path TEXT PRIMARY KEY, grp TEXT NOT NULL, dir TEXT NOT NULL, digest TEXT NOT NULL,
                                  index_key TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS files_grp ON files (grp);
CREATE INDEX IF NOT EXISTS files_dir ON files (dir);
CREATE TABLE IF NOT EXISTS stale (path TEXT PRIMARY KEY);
CREATE TABLE IF NOT EXISTS stamps (tree INTEGER NOT NULL, dir TEXT NOT NULL, ctime_ns INTEGER NOT NULL,
                                   PRIMARY KEY (tree, dir));
-- The few folders left unstamped (made a moment before their tree was recorded), found without a scan of them all.
CREATE INDEX IF NOT EXISTS stamps_unstamped ON stamps (tree) WHERE ctime_ns = 0;
CREATE TABLE IF NOT EXISTS foreign_entries (tree INTEGER NOT NULL, path TEXT NOT NULL, PRIMARY KEY (tree, path));
"""
FILE = "manifest.sqlite"
CHECKED_BY_FILE = "nothing to do: the output is checked file by file this time"
T = TypeVar("T")


def home(out: Path) -> Path:
    """Return the folder beside an output folder that holds its standby twin and its manifest."""
    live = out.resolve()
    return live.with_name(f".{live.name}.publish")


class Manifest:
    """The manifest file, opened when first used (by a build holding the lock); its warnings go to `warnings`."""

    def __init__(self, path: Path, warnings: list[Problem]) -> None:
        self.path = path
        self.warnings = warnings
        self._db: sqlite3.Connection | None = None

    @property
    def db(self) -> sqlite3.Connection:
        """Return the open manifest, opening it first if need be."""
        return self._db if self._db is not None else self._connect()

    def _connect(self) -> sqlite3.Connection:
        """Open the manifest; one damaged or of another schema is discarded with a warning, and made anew."""
        self._db, warnings = open_store(self.path, SCHEMA, TABLES, "publish manifest", CHECKED_BY_FILE)
        self.warnings.extend(warnings)
        return self._db

    def close(self) -> None:
        """Close the manifest, and seal it as this program leaves it."""
        if self._db is not None:
            self._db.close()
            self._db = None
            seal(self.path)

    # -- meta values -----------------------------------------------------------------------------

    def meta(self, key: str) -> Any:
        """Read one value of the meta table as JSON data, or None; raise StoreError or ValueError when damaged."""
        row = self.db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return json.loads(bytes(unwrap(row[0], key))) if row else None

    def put(self, key: str, value: FastState | tuple[int, int] | bool | str | None) -> None:
        """Write one value of the meta table, as JSON data with its digest (inside the caller's transaction)."""
        data = _fast_data(value) if isinstance(value, FastState) else value
        self.db.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, wrap(json.dumps(data).encode(), key)))

    def fast_state(self, live: Path, standby: Path) -> FastState | None:
        """Return the last build's quick-answer state if both folders are still as it left them."""
        try:
            state, ids, dirty = self.meta("fast"), self.meta("ids"), self.meta("dirty")
            fast = _fast_state(state)
            if state is not None and fast is None:
                raise StoreError("a quick-answer state of another shape")
        except (StoreError, ValueError) as exc:
            # Only this answer is lost (the rest has digests of its own): the build goes on.
            self.warnings.append(
                Problem(
                    str(self.path),
                    0,
                    f"discarded a damaged value of the publish manifest ({exc})",
                    "nothing to do: the build looks at everything",
                    warning=True,
                )
            )
            return None
        except sqlite3.DatabaseError:
            return None  # the build goes on, and `read` discards a damaged manifest
        if dirty is not False or fast is None or _ids(ids) != (inode(live), inode(standby)):
            return None
        return fast

    def read(self) -> tuple[dict[str, str], tuple[int, int] | None, Any]:
        """Return each output group's signature, the folders' recorded inodes and the unfinished mark.

        A damaged manifest is discarded with a warning: then nothing is recorded, and the mark is set.
        """
        db = self.db
        try:
            signatures = dict(db.execute("SELECT grp, signature FROM groups"))
            return signatures, _ids(self.meta("ids")), self.meta("dirty")
        except (sqlite3.DatabaseError, StoreError, ValueError) as exc:
            if isinstance(exc, sqlite3.DatabaseError) and not damaged(exc):
                raise
            self.warnings.append(
                Problem(
                    str(self.path),
                    0,
                    f"discarded a damaged publish manifest ({exc})",
                    CHECKED_BY_FILE,
                    warning=True,
                )
            )
            db.close()
            self._db = None
            discard(self.path)
            self._connect()
            return {}, None, True

    def generation(self) -> str:
        """Return the generation of the build state the live site was published with ("" when unknown)."""
        try:
            found = self.meta("generation")
        except (sqlite3.DatabaseError, StoreError, ValueError):
            return ""
        return found if isinstance(found, str) else ""

    def mark_unfinished(self) -> None:
        """Mark the standby as being changed by a build, until `finished`."""
        with self.db:
            self.put("dirty", True)

    def save_fast(self, fast: FastState) -> None:
        """Store what a later build that finds nothing changed may answer."""
        with self.db:
            self.put("fast", fast)

    # -- files and groups ------------------------------------------------------------------------

    def _in(self, query: str, values: Iterable[str]) -> list[tuple[Any, ...]]:
        """Run `query ... (values)` over many values (groups, paths, folders) at once, through a temporary table."""
        db = self.db
        db.execute("CREATE TEMP TABLE IF NOT EXISTS wanted (value TEXT PRIMARY KEY)")
        db.execute("DELETE FROM wanted")
        db.executemany("INSERT OR IGNORE INTO wanted VALUES (?)", ((v,) for v in values))
        return db.execute(f"{query} (SELECT value FROM wanted)").fetchall()

    def commit(self) -> None:
        """End the transaction the temporary table of a query began."""
        self.db.commit()

    def paths(self) -> set[str]:
        """Return every file of the site."""
        return {p for (p,) in self.db.execute("SELECT path FROM files")}

    def paths_of(self, groups: Iterable[str]) -> set[str]:
        """Return the files of these output groups."""
        return {p for p, _ in self._in("SELECT path, grp FROM files WHERE grp IN", groups)}

    def digests_of(self, groups: Iterable[str]) -> dict[str, str]:
        """Return the digest of each file of these output groups, by path."""
        return dict(self._in("SELECT path, digest FROM files WHERE grp IN", groups))

    def files_in(self, folders: Iterable[str]) -> list[tuple[str, str]]:
        """Return (folder, path) of every file directly in these folders."""
        return [(folder, path) for folder, path in self._in("SELECT dir, path FROM files WHERE dir IN", folders)]

    def paths_under(self, folder: str) -> set[str]:
        """Return the files below a folder (`folder` ends with a slash)."""
        rows = self.db.execute("SELECT path FROM files WHERE path LIKE ? ESCAPE '\\'", (_like_prefix(folder),))
        return {p for (p,) in rows}

    def groups_holding(self, paths: Iterable[str]) -> set[str]:
        """Return the output groups these files belong to."""
        return {g for (g,) in self._in("SELECT DISTINCT grp FROM files WHERE path IN", paths)}

    def groups_of(self, paths: Iterable[str]) -> dict[str, str]:
        """Return the output group each of the published paths belongs to."""
        db = self.db
        return {
            path: group for path in paths for (group,) in db.execute("SELECT grp FROM files WHERE path = ?", (path,))
        }

    def published(self, path: str) -> bool:
        """Tell whether the manifest lists `path` as a file of the site."""
        return self.db.execute("SELECT 1 FROM files WHERE path = ?", (path,)).fetchone() is not None

    def indexed(self) -> list[tuple[str, str, str]]:
        """Return (path, index key, group) of every file indexed for search."""
        return self.db.execute("SELECT path, index_key, grp FROM files WHERE index_key != ''").fetchall()

    def indexed_of(self, groups: Iterable[str]) -> list[tuple[str, str]]:
        """Return (path, index key) of every file of these output groups indexed for search."""
        rows = self._in("SELECT path, index_key FROM files WHERE index_key != '' AND grp IN", groups)
        return [(path, key) for path, key in rows]

    def indexed_under(self, folder: str) -> list[tuple[str, str, str]]:
        """Return (path, index key, group) of every file below a folder (ending with a slash) indexed for search."""
        # A range of the paths' own index: the files of a month's folder, not a scan of the site's.
        rows = self.db.execute(
            "SELECT path, index_key, grp FROM files WHERE path >= ? AND path < ? AND index_key != ''",
            (folder, folder[:-1] + chr(ord("/") + 1)),
        )
        return rows.fetchall()

    def stale(self) -> set[str]:
        """Return the files the standby may still hold from before the last swap."""
        return {p for (p,) in self.db.execute("SELECT path FROM stale")}

    def count(self) -> int:
        """Return how many files the site has."""
        count: int = self.db.execute("SELECT count(*) FROM files").fetchone()[0]
        return count

    def replace_files(
        self, rendered: Mapping[str, tuple[str, list[Published]]], dropped: Iterable[str], old: Iterable[str] | None
    ) -> None:
        """Record the output groups a build rendered, instead of `old` files and `dropped` groups (all, for None)."""
        db = self.db
        if old is None:
            db.execute("DELETE FROM files")
            db.execute("DELETE FROM groups")
        else:
            db.executemany("DELETE FROM files WHERE path = ?", ((p,) for p in sorted(old)))
            db.executemany("DELETE FROM groups WHERE grp = ?", ((g,) for g in sorted(dropped)))
        db.executemany("INSERT OR REPLACE INTO groups VALUES (?, ?)", [(g, sig) for g, (sig, _) in rendered.items()])
        db.executemany(
            "INSERT OR REPLACE INTO files VALUES (?, ?, ?, ?, ?)",
            [
                (f.path, g, f.path.rpartition("/")[0], f.digest, f.index_key)
                for g, (_, files) in rendered.items()
                for f in files
            ],
        )

    def replace_stale(self, paths: Iterable[str]) -> None:
        """Record the files the standby holds from before this swap (none, after a build that emptied it)."""
        self.db.execute("DELETE FROM stale")
        self.db.executemany("INSERT OR REPLACE INTO stale VALUES (?)", ((p,) for p in sorted(paths)))

    # -- folder stamps and hand-placed entries -----------------------------------------------------

    def recorded_stamps(self, tree_id: int) -> list[tuple[str, int]]:
        """Return each folder of a tree with the ctime recorded for it."""
        return recorded_stamps(self.db, tree_id)

    def unstamped(self, tree_id: int) -> set[str]:
        """Return the folders of a tree whose ctime was too recent to record when it was last written."""
        return {d for (d,) in self.db.execute("SELECT dir FROM stamps WHERE tree = ? AND ctime_ns = 0", (tree_id,))}

    def restamp(self, tree_id: int, stamps: Mapping[str, int]) -> None:
        """Record new ctimes of folders of a tree that already have a row each (updated in place)."""
        self.db.executemany(
            "UPDATE stamps SET ctime_ns = ? WHERE tree = ? AND dir = ?", [(c, tree_id, d) for d, c in stamps.items()]
        )

    def replace_stamps(
        self, ids: tuple[int, int], live: Mapping[str, int], standby: Mapping[str, int], gone: Iterable[str] | None
    ) -> None:
        """Record the stamps of the two trees, forgetting other trees' and the `gone` folders' (all, for None)."""
        db = self.db
        if gone is None:
            db.execute("DELETE FROM stamps")
        else:
            db.execute("DELETE FROM stamps WHERE tree NOT IN (?, ?)", ids)
            db.executemany("DELETE FROM stamps WHERE dir = ?", ((d,) for d in sorted(gone)))
        live_id, standby_id = ids
        db.executemany(
            "INSERT OR REPLACE INTO stamps VALUES (?, ?, ?)",
            [(live_id, d, c) for d, c in live.items()] + [(standby_id, d, c) for d, c in standby.items()],
        )

    def foreign(self, tree_id: int) -> set[str]:
        """Return the entries placed by hand that a tree holds, as recorded."""
        return {p for (p,) in self.db.execute("SELECT path FROM foreign_entries WHERE tree = ?", (tree_id,))}

    def replace_foreign(self, ids: tuple[int, int], live: Iterable[str], standby: Iterable[str]) -> None:
        """Record the entries placed by hand that each of the two trees holds."""
        live_id, standby_id = ids
        self.db.execute("DELETE FROM foreign_entries")
        self.db.executemany(
            "INSERT INTO foreign_entries VALUES (?, ?)",
            [(live_id, p) for p in sorted(live)] + [(standby_id, p) for p in sorted(standby)],
        )

    def reset_standby(self, ids: tuple[int, int], folders: Iterable[str]) -> None:
        """Record a standby made again a copy of the live folder: nothing stale or placed by hand, no stamp."""
        live_id, standby_id = ids
        with self.db as db:
            db.execute("DELETE FROM stale")
            db.execute("DELETE FROM stamps WHERE tree != ?", (live_id,))
            db.execute("DELETE FROM foreign_entries WHERE tree != ?", (live_id,))
            db.executemany("INSERT INTO stamps VALUES (?, ?, 0)", [(standby_id, folder) for folder in sorted(folders)])
            self.put("ids", ids)

    def finished(self, ids: tuple[int, int], generation: str) -> None:
        """Record the two folders as a finished build left them, published from this generation of the state."""
        self.put("ids", ids)
        self.put("dirty", False)
        self.put("generation", generation)
        self.put("fast", None)


def recorded_stamps(db: sqlite3.Connection, tree_id: int) -> list[tuple[str, int]]:
    """Return each folder of a tree with the ctime the manifest recorded for it."""
    # A plain scan of the table beats its (tree, dir) index here: the index would send every one of
    # the tree's rows to a second lookup for its ctime, and the table holds only the two trees.
    rows: list[tuple[str, int]] = db.execute(
        "SELECT dir, ctime_ns FROM stamps NOT INDEXED WHERE tree = ?", (tree_id,)
    ).fetchall()
    return rows


def published_generation(out: Path) -> str:
    """Return the generation of the build state the last finished build published ("" when unknown).

    Read without the build lock (a check may run beside a build); "" when there is no such build, or
    its manifest is of another version or cannot be read: then everything is checked.
    """
    manifest = home(out) / FILE
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


def _like_prefix(prefix: str) -> str:
    """Return a LIKE pattern matching every path that starts with `prefix`."""
    return prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
