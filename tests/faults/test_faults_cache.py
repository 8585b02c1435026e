"""Faults in what a build keeps between runs: the build cache, the publish manifest, file stats.

A damaged cache or manifest (random bytes, a torn page, a truncated file, a left-over write-ahead
log, a crafted row) is discarded with a warning naming it, and the site equals a clean build's,
file for file. An edit that keeps a file's size and sets its modification time back is published.
"""

from __future__ import annotations

import os
import pickle
import random
import runpy
import shutil
import sqlite3
import subprocess
import sys
import time
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import msgspec
import pytest
from helpers.site import MINI, ROOT, STATIC, TEMPLATES

from csto_site import cli
from csto_site.build import loader
from csto_site.build.cache import Cache, Folder, decode_folder, encode_folder
from csto_site.build.options import Options
from csto_site.build.read import read_content
from csto_site.util.store import wrap

PAGE = 4096


def generate(content: Path, n: int) -> None:
    """Write a synthetic archive with the benchmark's generator (bench/generate.py, a script)."""
    runpy.run_path(str(ROOT / "bench" / "generate.py"), run_name="bench_generate")["generate"](content, n, 3)


class Site:
    """A content folder with its own templates, static files, output, cache and publish record."""

    def __init__(self, root: Path, content: Path) -> None:
        self.root = root
        self.content = content
        self.templates = Path(shutil.copytree(TEMPLATES, root / "templates"))
        self.static = Path(shutil.copytree(STATIC, root / "static"))
        self.out = root / "public"
        self.cache = root / "cache" / "cache.sqlite"
        self.manifest = root / ".public.publish" / "manifest.sqlite"

    def args(self, command: str, out: Path | None = None, cache: Path | None = None, *extra: str) -> list[str]:
        """Return the command line of `command` on this site."""
        return [
            command,
            "--quiet",
            "--no-search",
            "--content",
            str(self.content),
            "--templates",
            str(self.templates),
            "--static",
            str(self.static),
            "--out",
            str(out or self.out),
            "--cache",
            str(cache or self.cache.parent),
            *extra,
        ]

    def build(self, capsys: pytest.CaptureFixture[str], *extra: str) -> str:
        """Build; assert it succeeded; return what it printed."""
        code = cli.main(self.args("build", None, None, *extra))
        printed = capsys.readouterr()
        assert code == 0, printed.err
        assert "Traceback" not in printed.err + printed.out
        return printed.err + printed.out

    def check(self, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
        """Run `check`; return its exit status and what it printed."""
        code = cli.main(self.args("check"))
        printed = capsys.readouterr()
        assert "Traceback" not in printed.err + printed.out
        return code, printed.err + printed.out

    def assert_like_a_clean_build(self, capsys: pytest.CaptureFixture[str]) -> None:
        """Build the same inputs afresh, into another folder and without a cache; compare every file."""
        fresh = self.root / "fresh" / "public"
        shutil.rmtree(fresh.parent, ignore_errors=True)
        assert cli.main(self.args("build", fresh, self.root / "fresh" / "cache")) == 0
        capsys.readouterr()
        actual, expected = tree(self.out), tree(fresh)
        assert actual.keys() == expected.keys()
        assert [p for p in expected if actual[p] != expected[p]] == []


def tree(folder: Path) -> dict[str, bytes]:
    """Read every file below a folder."""
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture
def mini(tmp_path: Path) -> Site:
    """The mini fixture in a private copy."""
    return Site(tmp_path, Path(shutil.copytree(MINI, tmp_path / "content")))


@pytest.fixture
def archive(tmp_path: Path) -> Site:
    """A generated archive large enough for parsing and rendering to run in forked workers."""
    generate(tmp_path / "content", 120)
    return Site(tmp_path, tmp_path / "content")


def damage(path: Path, how: str) -> None:
    """Damage a file the way a disk, a bad restore or a careless script would."""
    rng = random.Random(f"{path.name}:{how}")
    size = path.stat().st_size
    if how == "whole":
        path.write_bytes(rng.randbytes(size))
    elif how == "page":
        assert size >= 3 * PAGE
        with path.open("r+b") as handle:
            handle.seek(size // PAGE // 2 * PAGE)
            handle.write(rng.randbytes(PAGE))
    elif how == "truncated":
        os.truncate(path, size // 3)
    elif how in ("wal", "random wal"):
        leave_wal(path, garbage=how == "random wal")
    else:
        raise AssertionError(how)


def leave_wal(path: Path, garbage: bool) -> None:
    """Leave a write-ahead log behind, as a writer killed before its checkpoint does (`garbage`: then trample it)."""
    script = (
        "import os, sqlite3, sys\n"
        "db = sqlite3.connect(sys.argv[1])\n"
        "db.execute('PRAGMA wal_autocheckpoint=0')\n"
        "db.execute(\"UPDATE meta SET value = value WHERE key = 'schema'\")\n"
        "db.execute(\"INSERT OR REPLACE INTO meta VALUES ('left', X'00')\")\n"
        "db.commit()\n"
        "os._exit(0)\n"
    )
    subprocess.run([sys.executable, "-c", script, str(path)], check=True)
    wal = path.with_name(path.name + "-wal")
    assert wal.stat().st_size > 0
    if garbage:
        rng = random.Random(7)
        with wal.open("r+b") as handle:
            handle.seek(32)  # past the log's header: its frames
            handle.write(rng.randbytes(wal.stat().st_size - 32))
        path.with_name(path.name + "-shm").write_bytes(rng.randbytes(32768))


def touch_up(path: Path, old: str, new: str) -> None:
    """Edit a file without changing its size, then set its times back, as `cp -p` or `touch -r` does."""
    assert len(old.encode()) == len(new.encode())
    stat = path.stat()
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert (path.stat().st_size, path.stat().st_mtime_ns) == (stat.st_size, stat.st_mtime_ns)


def age(*folders: Path) -> None:
    """Wait until every file below the folders is older than the build's two-second "racy" window.

    A file changed just before a build is digested again by the next one whatever its stat says;
    these tests are about files whose stat is trusted.
    """
    newest = max(p.stat().st_ctime_ns for folder in folders for p in folder.rglob("*"))
    time.sleep(max(0.0, (newest + 2_200_000_000 - time.time_ns()) / 1e9))


# -- a damaged file -------------------------------------------------------------------------------


@pytest.mark.parametrize("how", ["whole", "page", "truncated", "wal", "random wal"])
@pytest.mark.parametrize("which", ["cache", "manifest"])
def test_a_damaged_file_is_discarded_with_a_warning_and_the_site_is_right(
    archive: Site, capsys, which: str, how: str
) -> None:
    archive.build(capsys, "--jobs", "2")
    path = archive.cache if which == "cache" else archive.manifest
    damage(path, how)
    edit_newest_item(archive)
    code, printed = archive.check(capsys)
    assert code == 0, printed
    printed = archive.build(capsys, "--jobs", "2")
    # SQLite replays a log left by a killed writer, and ignores one whose frames fail their checksums.
    if "wal" not in how:
        assert f"{path}: warning: discarded" in printed, printed
    archive.assert_like_a_clean_build(capsys)
    assert "warning" not in archive.build(capsys), "the file was replaced by a sound one"


# -- rows that are not what this program wrote ------------------------------------------------------


class Planted:
    """A pickle that creates a file when loaded: what an attacker would put into a restored CI cache."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[object, tuple[str, str]]:
        return open, (str(self.marker), "w")


def edit_newest_item(site: Site) -> None:
    """Add a paragraph to the newest item: the build reads the parses, the template check and its year's record."""
    item = max((p for p in site.content.rglob("*.md") if not p.name.startswith("_")), key=lambda p: p.name)
    item.write_text(item.read_text(encoding="utf-8") + "\nOne more paragraph.\n", encoding="utf-8")


# The rows an edit of the newest item reads (the other rows of the outputs' record are read when needed,
# and checked against their digests then, as tests/test_incremental.py shows for a damaged partition).
CACHE_ROWS = {
    "folders": "UPDATE folders SET entries = ?",
    "partitions": "UPDATE partitions SET specs = ?",
    "checked": "UPDATE checked SET value = ?",
}
MANIFEST_ROWS = ("fast", "ids", "dirty")


@pytest.mark.parametrize("row", [*CACHE_ROWS, *MANIFEST_ROWS])
def test_a_planted_pickle_runs_nothing(mini: Site, capsys, row: str, tmp_path: Path) -> None:
    marker = tmp_path / "planted"
    planted = pickle.dumps(Planted(marker))
    mini.build(capsys)
    if row in CACHE_ROWS:
        path = mini.cache
        with sqlite3.connect(path) as db:
            assert db.execute(CACHE_ROWS[row], (planted,)).rowcount > 0
    else:
        path = mini.manifest
        with sqlite3.connect(path) as db:
            assert db.execute("UPDATE meta SET value = ? WHERE key = ?", (planted, row)).rowcount == 1
    edit_newest_item(mini)
    printed = mini.build(capsys)
    assert not marker.exists()
    assert f"{path}: warning: discarded a damaged" in printed, printed
    mini.assert_like_a_clean_build(capsys)
    assert not marker.exists()


def test_the_cache_folder_holds_no_code(mini: Site, capsys) -> None:
    # Jinja2's bytecode cache would keep the templates there as marshalled code, which it runs when it
    # loads them: a crafted file in a restored CI cache would run in the next build.
    mini.build(capsys)
    edit_newest_item(mini)
    mini.build(capsys)
    kept = sorted(p.name for p in mini.cache.parent.rglob("*") if p.is_file())
    assert kept and all(name.startswith("cache.sqlite") for name in kept), kept


@pytest.mark.parametrize("row", list(CACHE_ROWS))
def test_a_row_of_another_shape_is_a_warning_and_is_made_again(mini: Site, capsys, row: str) -> None:
    mini.build(capsys)
    table, column = CACHE_ROWS[row].split()[1], CACHE_ROWS[row].split()[3]
    keys = {"folders": "content, folder", "partitions": "target, id", "checked": "key"}[row]
    with sqlite3.connect(mini.cache) as db:
        for found in db.execute(f"SELECT {keys}, rowid FROM {table}").fetchall():
            # Sound bytes with a sound digest, in the shape another version of the program might write.
            value = wrap(msgspec.msgpack.encode({"version": 99, "rows": [1, 2, 3]}), *found[:-1])
            db.execute(f"UPDATE {table} SET {column} = ? WHERE rowid = ?", (value, found[-1]))
    edit_newest_item(mini)
    printed = mini.build(capsys)
    assert f"{mini.cache}: warning: discarded a damaged" in printed
    mini.assert_like_a_clean_build(capsys)


# -- a damaged row read by a forked worker ---------------------------------------------------------


def trample_bodies(cache: Path) -> int:
    """Overwrite a few bytes in the HTML of every body the cache holds; return how many."""
    with sqlite3.connect(cache) as db:
        rows = db.execute("SELECT key, html FROM bodies").fetchall()
        for key, html in rows:
            db.execute("UPDATE bodies SET html = ? WHERE key = ?", (html[:-3] + b"<b>", key))
    return len(rows)


def test_a_damaged_body_read_by_a_parsing_worker_is_converted_again(archive: Site, capsys) -> None:
    archive.build(capsys, "--jobs", "2")
    assert trample_bodies(archive.cache) > 100
    officials = archive.content / "officials.yaml"
    # A registry change parses every item again, in two workers, each looking up its body's HTML.
    officials.write_text(officials.read_text(encoding="utf-8") + "\n# reviewed\n", encoding="utf-8")
    printed = archive.build(capsys, "--jobs", "2")
    assert f"{archive.cache}: warning: discarded damaged bodies" in printed
    archive.assert_like_a_clean_build(capsys)
    assert "warning" not in archive.build(capsys, "--jobs", "2")


def test_a_damaged_body_read_by_a_rendering_worker_is_made_again_from_its_file(archive: Site, capsys) -> None:
    archive.build(capsys, "--jobs", "2")
    assert trample_bodies(archive.cache) > 100
    # A change of the item template draws every item page again, in two workers, each reading its body.
    item = archive.templates / "item.html"
    item.write_text(item.read_text(encoding="utf-8") + "\n", encoding="utf-8")
    printed = archive.build(capsys, "--jobs", "2")
    assert f"{archive.cache}: warning: discarded damaged bodies" in printed
    archive.assert_like_a_clean_build(capsys)


# -- an edit that sets the modification time back ---------------------------------------------------


def test_an_item_edited_with_its_mtime_set_back_is_published_and_checked(mini: Site, capsys) -> None:
    item = next(p for p in sorted(mini.content.rglob("*.md")) if not p.name.startswith("_"))
    text = item.read_text(encoding="utf-8")
    title = next(line for line in text.splitlines() if line.startswith("title: "))
    age(mini.content, mini.templates, mini.static)
    mini.build(capsys)
    touch_up(item, title, title[:-1] + ("Q" if title[-1] != "Q" else "R"))
    mini.build(capsys)
    mini.assert_like_a_clean_build(capsys)
    touch_up(item, "title:", "titel:")
    code, printed = mini.check(capsys)
    assert code == 1 and "titel" in printed, printed
    assert cli.main(mini.args("build")) == 1


@pytest.mark.parametrize("where", ["templates", "static"])
def test_a_template_or_static_file_edited_with_its_mtime_set_back_is_published(mini: Site, capsys, where: str) -> None:
    if where == "templates":
        path, old, new = mini.templates / "base.html", "</body>", "</BODY>"
    else:
        path, old, new = mini.static / "style.css", "no framework", "NO FRAMEWORK"
    age(mini.content, mini.templates, mini.static)
    mini.build(capsys)
    touch_up(path, old, new)
    mini.build(capsys)
    mini.assert_like_a_clean_build(capsys)


def test_files_with_new_times_and_the_same_bytes_are_not_parsed_again(mini: Site, capsys, monkeypatch) -> None:
    mini.build(capsys, "--jobs", "1")
    with sqlite3.connect(mini.cache) as db:
        parses = db.execute("SELECT folder, entries FROM folders").fetchall()
    parsed: list[str] = []
    real = loader.parse_item
    monkeypatch.setattr(loader, "parse_item", lambda source, *rest: parsed.append(source.path) or real(source, *rest))
    for path in mini.content.rglob("*.md"):
        path.touch()  # what a fresh checkout or a restored CI cache looks like: every time new, no byte changed
    assert mini.build(capsys, "--jobs", "1") is not None
    assert parsed == []
    with sqlite3.connect(mini.cache) as db:
        again = db.execute("SELECT folder, entries FROM folders").fetchall()
    assert [folder for folder, _ in again] == [folder for folder, _ in parses]
    mini.assert_like_a_clean_build(capsys)


# -- what the cache gives back ----------------------------------------------------------------------


def test_the_cache_gives_back_exactly_what_was_parsed(mini: Site, capsys) -> None:
    mini.build(capsys)
    with Cache.open(mini.cache.parent, read_only=True) as cache:
        kept = cache.folders(str(mini.content))
    fresh = read_content(
        Options(content=mini.content, templates=mini.templates, static=mini.static, cache=None), Cache.open(None), 1
    )
    items = {e.record.parsed.item.path: e.record.parsed.item for f in kept.values() for e in f.entries.values()}
    assert len(items) == len(fresh.items) > 0
    for item in fresh.items:
        if item.lang != fresh.config.default_language:
            continue  # a translation takes its original's slug after parsing, which the cache does not keep
        lean = replace(item, body_html="")
        assert repr(items[item.path]) == repr(lean) and items[item.path] == lean
        assert items[item.path].day == item.day and items[item.path].published.tzinfo is item.published.tzinfo
    # A repeated hour (its second reading) and an hour a clock change skips come back as they were.
    berlin = ZoneInfo("Europe/Berlin")
    entry = next(iter(next(iter(kept.values())).entries.values()))
    for moment in (datetime(2024, 10, 27, 2, 30, tzinfo=berlin, fold=1), datetime(2024, 3, 31, 2, 30, tzinfo=berlin)):
        item = replace(entry.record.parsed.item, published=moment, updated=moment)
        folder = Folder(
            "context",
            {"a/b.md": entry._replace(record=entry.record._replace(parsed=replace(entry.record.parsed, item=item)))},
        )
        again = decode_folder(encode_folder(folder)).entries["a/b.md"].record.parsed.item
        assert (again.published.fold, again.published.utcoffset(), again.day, repr(again)) == (
            moment.fold,
            moment.utcoffset(),
            moment.date(),
            repr(item),
        )
