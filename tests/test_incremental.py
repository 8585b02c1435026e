"""Incremental builds are proven, not trusted: equal to a clean build byte for byte, after any edits.

The oracle is `helpers.reference` (plus the search index and compressed copies): every output of the
catalogue drawn in memory from a model loaded without any cache, the simplest build there is.
"""

from __future__ import annotations

import gc
import re
import runpy
import shutil
import sqlite3
import tempfile
from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest
from helpers.photos import drawn_pdf, drawn_photo
from helpers.reference import reference
from helpers.site import MINI, NOW, ROOT, SAMPLE, STATIC, TEMPLATES, cache_of, retract, tree
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from csto_site.build import cache as cache_module
from csto_site.build import loader, pipeline, read, search
from csto_site.build.cache import Memo
from csto_site.build.inputs import walk
from csto_site.build.loader import scan
from csto_site.build.options import Options, Report
from csto_site.build.pipeline import draw_site
from csto_site.build.plan import Planner
from csto_site.build.state import OutputState
from csto_site.content import markup
from csto_site.content.model import Item
from csto_site.content.sources import discover, ignored_files
from csto_site.publish.run import build
from csto_site.site.model import Site
from csto_site.site.queries import Queries
from csto_site.site.urls import place_of


def generate(content: Path, n: int, seed: int) -> None:
    """Write a synthetic archive with the benchmark's generator (bench/generate.py, a script)."""
    runpy.run_path(str(ROOT / "bench" / "generate.py"), run_name="bench_generate")["generate"](content, n, seed)


def options(content: Path, out: Path, templates: Path = TEMPLATES, jobs: int = 1, clean: bool = False) -> Options:
    """Return options building `content` into `out` with its own cache (no search index: Pagefind is slow)."""
    return Options(
        content=content,
        out=out,
        templates=templates,
        static=STATIC,
        cache=cache_of(out),
        search=False,
        jobs=jobs,
        clean=clean,
    )


def stamps(folder: Path) -> dict[str, tuple[int, int, int]]:
    """Describe every file and folder below `folder` by inode, size and mtime, to prove nothing was touched."""
    entries = {p.relative_to(folder).as_posix(): p.stat() for p in folder.rglob("*")}
    entries["."] = folder.stat()
    return {rel: (s.st_ino, s.st_size, s.st_mtime_ns) for rel, s in sorted(entries.items())}


def assert_same(actual: dict[str, bytes], expected: dict[str, bytes]) -> None:
    """Assert two sets of files are identical, naming the first differences."""
    missing = sorted(set(expected) - set(actual))
    extra = sorted(set(actual) - set(expected))
    differ = sorted(p for p in set(actual) & set(expected) if actual[p] != expected[p])
    assert not (missing or extra or differ), f"missing {missing[:5]}, extra {extra[:5]}, differ {differ[:5]}"


def write_item(path: Path, title: str, date: str, body: str) -> None:
    """Write an item file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    head = f"title: {title}\ndate: {date}\n"
    path.write_text(f"---\n{head}---\n{body}\n", encoding="utf-8")


def append(path: Path, text: str) -> None:
    """Add text at the end of a file (a paragraph to an item's body)."""
    path.write_text(path.read_text(encoding="utf-8") + text, encoding="utf-8")


NIGHT_SESSION = Path("beta", "2024", "2024-05-20-night-session.md")  # an item of 2024, the newest year


@pytest.fixture
def site(tmp_path: Path) -> tuple[Path, Path]:
    """A private copy of the mini fixture and an output folder for it."""
    content = tmp_path / "content"
    shutil.copytree(MINI, content)
    return content, tmp_path / "public"


# -- a second build writes nothing ---------------------------------------------------------------


def test_a_second_build_writes_nothing(site):
    content, out = site
    first = build(options(content, out), NOW)
    assert first.written > 0
    before = stamps(out)
    again = build(options(content, out), NOW)
    assert (again.written, again.removed) == (0, 0)
    assert again.unchanged == first.written
    assert stamps(out) == before, "a build with nothing to do touched the output"
    # New mtimes, the same bytes: the quick answer does not apply, and still nothing is written.
    for path in (content / "alpha").rglob("*.md"):
        path.touch()
    (content / "site.yaml").touch()
    touched = build(options(content, out), NOW)
    assert (touched.written, touched.removed) == (0, 0)
    assert stamps(out) == before


@pytest.mark.parametrize("library", ["pillow", "pi_heif"])
def test_a_new_version_of_a_photo_library_is_seen_by_the_quick_answer(site, monkeypatch, tmp_path, library):
    content, out = site
    packages = tmp_path / "site-packages"  # installed libraries, as the quick answer lists them
    (packages / f"{library}-1.0.dist-info").mkdir(parents=True)
    monkeypatch.syspath_prepend(packages)
    build(options(content, out), NOW)
    drawn = []
    monkeypatch.setattr(pipeline, "draw_site", lambda *args: drawn.append(args) or draw_site(*args))
    build(options(content, out), NOW)
    assert drawn == [], "nothing changed, yet the quick answer did not apply"
    (packages / f"{library}-1.0.dist-info").rename(packages / f"{library}-2.0.dist-info")
    build(options(content, out), NOW)
    assert len(drawn) == 1, f"an upgrade of {library} was not seen"


def test_a_clean_build_of_unchanged_content_writes_nothing_either(site):
    content, out = site
    build(options(content, out), NOW)
    before = stamps(out)
    (content / "alpha" / "_index.md").touch()  # a new mtime, the same bytes
    report = build(options(content, out, clean=True), NOW)
    assert report.written == 0
    assert stamps(out) == before
    assert_same(tree(out), reference(content))


def test_the_content_folder_named_another_way_builds_the_same_site(site, monkeypatch, tmp_path):
    content, out = site
    templates = tmp_path / "templates"
    shutil.copytree(TEMPLATES, templates)
    build(options(content, out, templates), NOW)
    monkeypatch.chdir(content.parent)
    relative = options(Path("content"), out, templates)  # as `python build.py` names it, from its parent
    append(content / NIGHT_SESSION, "\nOne more closing paragraph.\n")
    build(relative, NOW)
    # Item pages drawn again from plans stored by a build that named the items the other way (and
    # before the edit): the build must find them all the same, never stop with a traceback.
    append(templates / "item.html", "\n")
    build(options(content, out, templates), NOW)
    assert_same(tree(out), reference(content, templates))
    write_item(content / "alpha" / "2024" / "2024-06-02-new.md", "A June statement", "2024-06-02 10:00", "Text.")
    build(relative, NOW)

    assert_same(tree(out), reference(content, templates))


def test_a_change_another_output_folder_was_built_with_is_still_drawn_here(site, tmp_path):
    # One cache, one content, two output folders (`build --out elsewhere`, then a plain build): a build finds
    # the changes since the cache last saved its parses, whichever build saved them, so the other folder's
    # build must not hide an edit from this folder's next one.
    content, out = site
    here = replace(options(content, out), cache=tmp_path / "shared-cache")
    build(here, NOW)
    append(content / NIGHT_SESSION, "\nA paragraph the other folder's build parsed first.\n")
    build(replace(here, out=tmp_path / "elsewhere"), NOW)
    report = build(here, NOW)
    assert report.written > 0
    assert_same(tree(out), reference(content))


def test_an_edit_rewrites_only_what_shows_it(site):
    content, out = site
    build(options(content, out), NOW)
    item = content / "alpha" / "2023" / "2023-11-14-annual-report.md"
    append(item, "\nOne more closing paragraph.\n")
    report = build(options(content, out), NOW)
    written = {p for p in tree(out) if not p.endswith((".gz", ".br"))}
    assert 0 < report.written <= 3, "the item page and its compressed copies"
    assert "news/2023/11/14/annual-report-published/index.html" in written
    assert_same(tree(out), reference(content))


def test_a_new_item_rewrites_the_sitemap_of_its_year_and_the_dates_it_moves_only(site):
    """Its year's sitemap lists it; the newest item dates the listings (sitemap-pages) and the index; 2023 stays."""
    content, out = site
    build(options(content, out), NOW)
    before = stamps(out)
    write_item(content / "alpha" / "2024" / "2024-06-01-a-new-item.md", "A new item", "2024-06-01 10:00", "Its body.")
    build(options(content, out), NOW)
    after = stamps(out)
    sitemaps = sorted(p for p in after if p.startswith("sitemap"))
    assert {"sitemap.xml", "sitemap-pages.xml", "sitemap-2023.xml", "sitemap-2024.xml"} <= set(sitemaps)
    changed = [p for p in sitemaps if after[p] != before.get(p)]
    rewritten = ["sitemap-2024.xml", "sitemap-pages.xml", "sitemap.xml"]
    compressed = [f"{name}.{ext}" for name in rewritten for ext in ("br", "gz") if f"{name}.gz" in after]
    assert changed == sorted(rewritten + compressed)
    assert_same(tree(out), reference(content))


def test_a_new_item_describes_again_only_the_partitions_it_touches(site, monkeypatch):
    content, out = site
    build(options(content, out), NOW)
    described: list[str] = []
    real = Planner._describe
    monkeypatch.setattr(Planner, "_describe", lambda self, part, *a: described.append(part.id) or real(self, part, *a))
    write_item(content / "alpha" / "2024" / "2024-06-01-a-new-item.md", "A new item", "2024-06-01 10:00", "Its body.")
    build(options(content, out), NOW)
    assert {"archive|2024", "item|2024"} <= set(described)
    assert not {"archive|2023", "item|2023", "section|beta", "official|anna-petrova"} & set(described)
    assert_same(tree(out), reference(content))


def test_an_item_of_today_looks_up_the_consumers_of_its_own_keys_not_of_every_global_one(site, monkeypatch):
    """Its organization's count and the news window are keys of their own scopes, found through the index.

    Were either a global key, every output's global keys would be decoded and looked at: every page of
    the archive reads some (the configuration, the labels, its template).
    """
    content, out = site
    build(options(content, out), NOW)
    wide: list[str] = []
    real = OutputState.consumers
    monkeypatch.setattr(OutputState, "consumers", lambda self, keys, w=(): wide.extend(w) or real(self, keys, w))
    (content / "beta" / "2026").mkdir()
    (content / "beta" / "2026" / "today.md").write_text(
        "---\ntitle: Today's session\ndate: 2026-11-29 10:00\norganizations: [northern-council]\n---\nIt met.\n",
        encoding="utf-8",
    )
    build(options(content, out), NOW)
    assert wide == []
    assert_same(tree(out), reference(content))


def test_a_neighbour_in_another_year_plans_that_year_again(site):
    content, out = site
    build(options(content, out), NOW)
    # The 2023 item's page links the next item of its section, in 2024, by its title.
    for name in ("2024-03-12-morning-briefing.md", "2024-03-12-working-visit.md"):
        item = content / "alpha" / "2024" / name
        item.write_text(item.read_text(encoding="utf-8").replace("title: ", "title: Retitled — ", 1), encoding="utf-8")
    build(options(content, out), NOW)
    assert_same(tree(out), reference(content))


def test_a_damaged_state_is_discarded_with_a_warning_and_everything_drawn_again(site):
    content, out = site
    build(options(content, out), NOW)
    with sqlite3.connect(cache_of(out) / cache_module.FILE) as db:
        assert db.execute("UPDATE partitions SET specs = X'00010203' WHERE id = 'archive|2023'").rowcount == 1
    (out / "news" / "2023" / "11" / "index.html").unlink()  # drawn again
    append(content / NIGHT_SESSION, "\nA new paragraph.\n")
    report = build(options(content, out), NOW)
    assert [w.message for w in report.warnings if "damaged" in w.message] == [
        "discarded a damaged record of the last build (archive|2023), drawing every output again"
    ]
    assert_same(tree(out), reference(content))


def test_a_page_of_an_unchanged_partition_is_drawn_again_when_its_file_is_gone(site):
    content, out = site
    build(options(content, out), NOW)
    page = out / "news" / "2023" / "11" / "index.html"
    page.unlink()
    # An edit of 2024 makes the build look at the output again; 2023's partition is not described again.
    append(content / NIGHT_SESSION, "\nA new paragraph.\n")
    build(options(content, out), NOW)
    assert page.exists()
    assert_same(tree(out), reference(content))


def test_a_build_leaves_its_model_to_reference_counting_not_to_the_cycle_collector(site):
    content, out = site
    build(options(content, out), NOW)
    append(content / NIGHT_SESSION, "\nA new paragraph.\n")
    (out / "news" / "2023" / "11" / "index.html").unlink()  # a page of an unchanged partition is drawn too
    gc.collect()
    gc.disable()
    gc.set_debug(gc.DEBUG_SAVEALL)
    try:
        build(options(content, out), NOW)
        gc.collect()
        left = [type(o).__name__ for o in gc.garbage if isinstance(o, (Item, Site, Planner, Queries))]
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
        gc.enable()
    # A cycle through the model would keep all of it until a collection walks it: at 10,000 items, 0.16 s.
    assert left == []


def test_a_long_running_process_keeps_the_cache_in_memory_while_no_other_process_writes_it(site, monkeypatch):
    content, out = site
    loads: list[str] = []  # what the cache decodes from its file

    def spy(decode: Callable[[bytes], object]) -> Callable[[bytes], object]:
        def decoded(data: bytes) -> object:
            loaded = decode(data)
            loads.append(type(loaded).__name__)
            return loaded

        return decoded

    monkeypatch.setattr(cache_module, "decode_folder", spy(cache_module.decode_folder))
    memo = Memo()
    build(options(content, out), NOW, memo=memo)
    edit = content / NIGHT_SESSION
    write_item(content / "alpha" / "2024" / "2024-06-01-a-new-item.md", "A new item", "2024-06-01 10:00", "Body.")
    loads.clear()
    build(options(content, out), NOW, memo=memo)
    assert "Folder" not in loads, "the parses came from memory"
    assert_same(tree(out), reference(content))
    # Another process builds: the memo is out of date, and the next build reads the file again.
    append(edit, "\nA new paragraph.\n")
    build(options(content, out), NOW)
    append(edit, "\nAnother paragraph.\n")
    loads.clear()
    build(options(content, out), NOW, memo=memo)
    assert "Folder" in loads
    assert_same(tree(out), reference(content))


def test_a_long_running_process_compiles_the_templates_again_only_when_they_changed(site, tmp_path):
    content, out = site
    templates = tmp_path / "templates"
    shutil.copytree(TEMPLATES, templates)
    memo = Memo()
    preview = replace(options(content, out), templates=templates)
    build(preview, NOW, memo=memo)
    assert memo.renderer is not None
    first = memo.renderer[1]
    write_item(content / "alpha" / "2024" / "2024-06-01-a-new-item.md", "A new item", "2024-06-01 10:00", "Body.")
    build(preview, NOW, memo=memo)
    assert memo.renderer[1] is first, "the same templates, compiled once"
    append(templates / "item.html", "{# a comment #}\n")
    build(preview, NOW, memo=memo)
    assert memo.renderer[1] is not first
    assert_same(tree(out), reference(content, templates=templates))


def test_a_build_pauses_the_cycle_collector_and_gives_it_back(site, monkeypatch):
    content, out = site
    seen = []
    real = pipeline.build_site
    monkeypatch.setattr(pipeline, "build_site", lambda *a, **k: seen.append(gc.isenabled()) or real(*a, **k))
    assert gc.isenabled()
    build(options(content, out), NOW)
    assert seen == [False] and gc.isenabled()
    gc.disable()
    try:
        (content / "site.yaml").write_text((content / "site.yaml").read_text(encoding="utf-8") + "\n", encoding="utf-8")
        build(options(content, out), NOW)
        assert seen == [False, False] and not gc.isenabled(), "a caller's own choice is kept"
    finally:
        gc.enable()


def test_a_corrupt_cache_is_discarded_with_a_warning(site):
    content, out = site
    build(options(content, out), NOW)
    database = cache_of(out) / cache_module.FILE
    database.write_bytes(b"this is not a database" * 100)
    for suffix in ("-wal", "-shm"):
        database.with_name(database.name + suffix).unlink(missing_ok=True)
    write_item(content / "beta" / "2024" / "fresh.md", "Fresh item", "2024-06-02 10:00", "Fresh body.")
    report = build(options(content, out), NOW)
    assert any("discarded an unusable cache" in w.message and w.warning for w in report.warnings), report.warnings
    assert_same(tree(out), reference(content))


def test_a_cache_from_another_version_is_discarded(site):
    content, out = site
    build(options(content, out), NOW)
    with sqlite3.connect(cache_of(out) / cache_module.FILE) as db:
        db.execute("UPDATE meta SET value = '0' WHERE key = 'schema'")
    retract(content, content / "alpha" / "2024" / "2024-03-12-working-visit.md")
    report = build(options(content, out), NOW)
    assert any("schema 0" in w.message for w in report.warnings), report.warnings
    assert_same(tree(out), reference(content))


def test_a_damaged_cache_entry_is_not_trusted(site):
    content, out = site
    build(options(content, out), NOW)
    with sqlite3.connect(cache_of(out) / cache_module.FILE) as db:
        db.execute("UPDATE folders SET entries = X'00010203'")
    append(content / NIGHT_SESSION, "\nA new paragraph.\n")
    report = build(options(content, out), NOW)
    assert any("damaged cache" in w.message for w in report.warnings), report.warnings
    assert_same(tree(out), reference(content))


@pytest.fixture
def converted(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every Markdown text converted from now on, in order."""
    texts: list[str] = []
    original = markup.Markup.render
    monkeypatch.setattr(
        markup.Markup, "render", lambda self, text, lang="": texts.append(text) or original(self, text, lang)
    )
    return texts


def test_the_same_text_is_never_converted_twice(site, converted):
    content, out = site
    build(options(content, out), NOW)
    converted.clear()
    # A registry change makes every item be parsed again: their bodies come from the cache.
    append(content / "officials.yaml", "\n# a comment\n")
    build(options(content, out), NOW)
    assert converted == []
    append(content / NIGHT_SESSION, "\nNew text.\n")
    build(options(content, out), NOW)
    assert len(converted) == 1
    assert_same(tree(out), reference(content))


def test_the_search_index_follows_the_item_pages(site):
    content, out = site
    with_search = replace(options(content, out), search=True)
    build(with_search, NOW)
    write_item(content / "beta" / "2024" / "found.md", "Findable item", "2024-06-02 10:00", "Searchable words.")
    retract(content, content / "alpha" / "2024" / "2024-03-12-working-visit.md")
    report = build(with_search, NOW)
    assert any(p.startswith("pagefind/") for p in tree(out))
    assert_same(tree(out), reference(content, search=True))
    assert report.written > 0
    (content / "site.yaml").touch()
    assert build(with_search, NOW).written == 0, "the index is not rebuilt when no indexed page changed"


def test_search_shards_follow_every_kind_of_edit(site, monkeypatch):
    content, out = site
    with_search = replace(options(content, out), search=True)
    build(with_search, NOW)
    indexed: list[list[str]] = []
    real = search.index_shards
    monkeypatch.setattr(search, "index_shards", lambda folders, j: indexed.append(sorted(folders)) or real(folders, j))
    before = stamps(out)
    old = [p for p in before if p.startswith("pagefind/ru/2023/")]  # no edit below touches it
    assert old
    edits = [
        lambda: append(content / "alpha" / "2023" / "2023-11-14-annual-report.md", "\nAn old year's edit.\n"),
        lambda: write_item(content / "beta" / "2024" / "today.md", "Today", "2024-05-21 08:30", "Today's news."),
        lambda: retract(content, content / "alpha" / "2024" / "2024-03-12-working-visit.md"),
        lambda: write_item(content / "beta" / "2024" / "today.md", "Today", "2022-07-04 12:00", "Moved back."),
        lambda: write_item(content / "beta" / "2024" / "today.ru.md", "Сегодня", "2022-07-04 12:00", "Перевод."),
    ]
    for number, edit in enumerate(edits):
        edit()
        build(with_search, NOW)
        assert_same(tree(out), reference(content, search=True))
        if number == 0:
            # Indexed again, the shard keeps every file whose bytes are the same: its scripts, its WebAssembly.
            after = stamps(out)
            runtime = [p for p in before if p.startswith("pagefind/en/2023/") and ("wasm." in p or p.endswith(".js"))]
            assert runtime and all(after[p] == before[p] for p in runtime)
        if number == 1:
            assert indexed[-1] == ["en/2024-05"], "a new item today indexes only its month again"
            after = stamps(out)
            assert all(after[p] == before[p] for p in old), "the files of an unchanged shard keep inode and time"
    # Each build indexes the shards of the pages whose indexed part it changed: the item's, and its
    # translation's (which links it inside the article); not those of pages whose only change is after the
    # article (their links to neighbours, their related news). An edit of 2023; a new item today; a
    # retraction (its month is now in the shard of 2024's other months); a date moved from 2024 to 2022
    # (a new shard: the block 2022-2024, up to 2022); a translation (its page and its English twin).
    assert indexed == [["en/2023"], ["en/2024-05"], ["en/2024"], ["en/2022"], ["en/2022", "ru/2022"]], indexed


def stored_buckets(built: Options) -> dict[str, tuple[str, str, int]]:
    """Read the search index's buckets the last build with these options stored (none: {})."""
    assert built.cache is not None
    with sqlite3.connect(built.cache / cache_module.FILE) as db:
        found = OutputState(db, pipeline.target(built), trusted=True).search_buckets()
    return {name: tuple(bucket) for name, bucket in (found or {}).items()}


def test_the_search_bookkeeping_reads_the_months_of_the_pages_a_build_changed(site, monkeypatch):
    content, out = site
    with_search = replace(options(content, out), search=True)
    build(with_search, NOW)
    read_whole: list[int] = []
    real = search.IndexedPages._everything
    monkeypatch.setattr(search.IndexedPages, "_everything", lambda pages: read_whole.append(1) or real(pages))
    edits = [
        lambda: write_item(content / "beta" / "2024" / "today.md", "Today", "2024-05-21 08:30", "Today's news."),
        lambda: append(content / "alpha" / "2023" / "2023-11-14-annual-report.md", "\nAn old year's edit.\n"),
        lambda: write_item(content / "beta" / "2024" / "today.md", "Today", "2024-04-30 08:30", "Moved a month."),
        lambda: write_item(content / "beta" / "2024" / "back.md", "Back", "2019-02-03 12:00", "Far back."),
        lambda: retract(content, content / "beta" / "2024" / "back.md"),  # its month, alone, is emptied
    ]
    for edit in edits:
        edit()
        build(with_search, NOW)
        assert_same(tree(out), reference(content, search=True))
    assert read_whole == [], "every build read only the buckets of its changed pages"
    # What those builds kept, bucket by bucket, is what a build reading every page from scratch finds.
    fresh = replace(options(content, out.parent / "fresh" / "public"), search=True)
    build(fresh, NOW)
    assert read_whole == [1]
    assert stored_buckets(with_search) == stored_buckets(fresh) != {}


def test_a_build_without_search_leaves_no_buckets_for_the_next_to_trust(site):
    content, out = site
    with_search = replace(options(content, out), search=True)
    build(with_search, NOW)
    assert stored_buckets(with_search)
    # Pages change while no index is kept: the next index must not be made from the buckets of before.
    append(content / NIGHT_SESSION, "\nWords no index has seen.\n")
    build(options(content, out), NOW)
    assert stored_buckets(with_search) == {}
    build(with_search, NOW)
    assert_same(tree(out), reference(content, search=True))


def test_damaged_search_buckets_are_discarded_with_a_warning_and_every_indexed_page_read(site, monkeypatch):
    content, out = site
    with_search = replace(options(content, out), search=True)
    build(with_search, NOW)
    with sqlite3.connect(cache_of(out) / cache_module.FILE) as db:
        assert db.execute("UPDATE search SET buckets = X'00010203'").rowcount == 1
    read_whole: list[int] = []
    real = search.IndexedPages._everything
    monkeypatch.setattr(search.IndexedPages, "_everything", lambda pages: read_whole.append(1) or real(pages))
    append(content / NIGHT_SESSION, "\nA new paragraph.\n")
    report = build(with_search, NOW)
    assert [w.message for w in report.warnings if "damaged" in w.message] == [
        "discarded a damaged record of the last build (search), reading every page the search indexes again"
    ]
    assert read_whole == [1]
    assert_same(tree(out), reference(content, search=True))
    assert stored_buckets(with_search), "sound again for the next build"


def test_search_shards_do_not_depend_on_jobs(site):
    content, out = site
    trees = []
    for jobs in (1, 2):
        target = out.parent / f"jobs{jobs}" / "public"
        build(replace(options(content, target, jobs=jobs), search=True), NOW)
        trees.append(tree(target))
    assert_same(trees[0], trees[1])


def test_cached_bodies_are_not_used_by_another_markdown(site, monkeypatch, converted):
    content, out = site
    build(options(content, out), NOW)
    converted.clear()
    # As when markup.py, Python-Markdown or nh3 change: every body is converted again.
    fingerprint = loader.markup_fingerprint()
    for module in (loader, read):
        monkeypatch.setattr(module, "markup_fingerprint", lambda: "another " + fingerprint)
    (content / "site.yaml").touch()
    build(options(content, out), NOW)
    assert len(converted) == len(reference_items(content))


def backlinks(out: Path, page: str) -> list[str]:
    """Return the titles of the footnote back-links of a page."""
    return re.findall(r'class="footnote-backref" href="[^"]*" title="([^"]*)"', (out / page).read_text("utf-8"))


def test_a_footnote_links_back_in_the_language_of_its_item(site, converted):
    content, out = site
    text = "A claim.[^1]\n\n[^1]: Its source."
    write_item(content / "beta" / "2024" / "2024-06-03-sources.md", "Sources", "2024-06-03 10:00", text)
    write_item(content / "beta" / "2024" / "2024-06-03-sources.ru.md", "Источники", "2024-06-03 10:00", text)
    build(options(content, out), NOW)
    english, russian = "news/2024/06/03/sources/index.html", "ru/news/2024/06/03/sources/index.html"
    assert backlinks(out, english) == ["Jump back to footnote 1 in the text"]
    assert backlinks(out, russian) == ["Вернуться к сноске 1 в тексте"]
    # With a footnote, the same text in two languages is two bodies; a new Russian title converts them again.
    converted.clear()
    site_yaml = content / "site.yaml"
    site_yaml.write_text(
        site_yaml.read_text("utf-8") + "labels: {ru: {footnote_back: 'К сноске %d {и тексту}'}}\n", encoding="utf-8"
    )
    build(options(content, out), NOW)
    assert backlinks(out, russian) == ["К сноске 1 {и тексту}"]
    assert backlinks(out, english) == ["Jump back to footnote 1 in the text"]
    # Only the Russian texts with a footnote: this one, and the fixture's annual report.
    assert len(converted) == 2 and text + "\n" in converted and all("[^" in t for t in converted)
    assert_same(tree(out), reference(content))


def reference_items(content: Path) -> list[Path]:
    """List the item files of a content folder."""
    return [p for p in content.rglob("*.md") if not p.name.startswith("_")]


# -- parallel builds -----------------------------------------------------------------------------


def test_jobs_do_not_change_a_single_byte(tmp_path):
    content = tmp_path / "content"
    generate(content, 120, seed=7)
    outputs = []
    for jobs in (1, 2):
        out = tmp_path / f"out{jobs}" / "public"
        report = build(options(content, out, jobs=jobs), NOW)
        assert report.items == 120
        outputs.append(tree(out))
    assert_same(outputs[1], outputs[0])
    assert_same(outputs[0], reference(content))


# -- the stored catalogue is what a fresh description gives ---------------------------------------


@pytest.mark.parametrize("source", [MINI, SAMPLE], ids=["mini", "sample"])
def test_the_stored_catalogue_is_what_a_fresh_description_gives(source, tmp_path):
    content = tmp_path / "content"
    shutil.copytree(source, content)
    out = tmp_path / "public"
    build(options(content, out), NOW)
    write_item(
        content / sorted(p.name for p in content.iterdir() if (p / "_index.md").exists())[0] / "x.md",
        "One more item",
        "2024-07-01 10:00",
        "Its body.",
    )
    build(options(content, out), NOW)
    fresh_out = tmp_path / "fresh" / "public"
    build(options(content, fresh_out, clean=True), NOW)
    # Each row begins with a digest of its key, which names its target (its output folder): compare what follows.
    stored = [
        [
            (pid, specs[16:])
            for pid, specs in sqlite3.connect(cache_of(o) / cache_module.FILE).execute(
                "SELECT id, specs FROM partitions ORDER BY id"
            )
        ]
        for o in (out, fresh_out)
    ]
    assert stored[0] == stored[1]
    assert_same(tree(out), tree(fresh_out))


def test_the_file_scan_sorts_files_as_discover_does(tmp_path):
    content = tmp_path / "content"
    shutil.copytree(MINI, content)
    (content / "stray.md").write_text("---\ntitle: Stray\n---\n", encoding="utf-8")
    (content / "alpha" / "photo.jpg").write_bytes(b"\xff\xd8")
    (content / "alpha" / ".hidden.md").write_text("hidden", encoding="utf-8")
    (content / ".git").mkdir()
    (content / ".git" / "x.md").write_text("x", encoding="utf-8")
    (content / "alpha" / "2024" / "deep").mkdir()
    (content / "alpha" / "2024" / "deep" / "_index.md").write_text(
        "---\ntitle: D\ndate: 2024-01-01\n---\n", encoding="utf-8"
    )
    tree_ = discover(content)
    found = scan(walk(content))
    assert [f.path for f in found.sections] == [s.path for s in tree_.sections]
    assert [f.path for f in found.items] == [s.path for s in tree_.items]
    assert list(found.ignored) == list(ignored_files(content))
    assert [p.path for p in found.problems] == [p.path for p in tree_.problems]


# -- random edit sequences -----------------------------------------------------------------------

SECTIONS = ("alpha", "beta")
OFFICIALS = ("anna-petrova", "ivan-orlov")
DATES = st.sampled_from(
    [
        "2023-11-14 10:00",
        "2023-12-31 23:30",
        "2024-01-01 00:30",
        "2024-03-12 09:00",
        "2024-05-20 18:00",
        "2024-05-21 08:00",
        "2022-07-04 12:00",
    ]
)


ATTACHMENT = "attachments:\n  - file: doc.pdf\n    title: A document\n"


class EditSequences(RuleBasedStateMachine):
    """Edit a copy of the mini site at random, building incrementally after every edit.

    The builds are those of one long-running process (csto-site serve), passing the same memo of the
    cache each time; now and then another process builds in between, leaving that memo out of date.
    """

    def __init__(self) -> None:
        super().__init__()
        self.root = Path(tempfile.mkdtemp(prefix="csto-edits-"))
        self.content = self.root / "content"
        self.templates = self.root / "templates"
        self.out = self.root / "public"
        self.count = 0
        self.items: dict[str, str] = {}  # path of each original we made -> its date
        self.years: list[Path] = []  # items that gave an official a year of their own
        self.gone: list[str] = []  # the addresses retracted so far
        self.bundles: list[Path] = []  # items that are folders, with a photo and maybe a document
        self.memo = Memo()

    @initialize()
    def first_build(self) -> None:
        shutil.copytree(MINI, self.content)
        shutil.copytree(TEMPLATES, self.templates)
        self.build()

    def build(self) -> Report:
        return build(options(self.content, self.out, self.templates), NOW, memo=self.memo)

    def fresh(self) -> int:
        self.count += 1
        return self.count

    @rule(section=st.sampled_from(SECTIONS), date=DATES)
    def add_item(self, section: str, date: str) -> None:
        n = self.fresh()
        path = self.content / section / "2024" / f"added-{n}.md"
        write_item(path, f"Added item number {n}", date, f"First paragraph {n}.\n\nSecond paragraph.")
        self.items[str(path)] = date

    @rule(section=st.sampled_from(SECTIONS), date=DATES)
    def add_item_with_photos(self, section: str, date: str) -> None:
        n = self.fresh()
        folder = self.content / section / "2024" / f"folder-{n}"
        folder.mkdir(parents=True)
        (folder / "photo.jpg").write_bytes(drawn_photo(320, 200, seed=n))
        (folder / "doc.pdf").write_bytes(drawn_pdf(f"Document {n}"))
        media = "image:\n  file: photo.jpg\n  alt: A drawn photo\n" + ATTACHMENT
        write_item(folder / "index.md", f"Item with photos {n}", date, f"Text {n}.\n\n![A drawn photo](photo.jpg)")
        index = folder / "index.md"
        index.write_text(index.read_text(encoding="utf-8").replace("\n---\n", f"\n{media}---\n", 1), encoding="utf-8")
        self.bundles.append(folder)

    @precondition(lambda self: self.bundles)
    @rule(data=st.data(), size=st.sampled_from([(320, 200), (200, 320), (500, 300)]))
    def replace_photo(self, data: st.DataObject, size: tuple[int, int]) -> None:
        folder = data.draw(st.sampled_from(self.bundles))
        (folder / "photo.jpg").write_bytes(drawn_photo(*size, seed=self.fresh()))

    @precondition(lambda self: self.bundles)
    @rule(data=st.data())
    def add_or_remove_document(self, data: st.DataObject) -> None:
        index = data.draw(st.sampled_from(self.bundles)) / "index.md"
        text = index.read_text(encoding="utf-8")
        changed = (
            text.replace(ATTACHMENT, "") if ATTACHMENT in text else text.replace("\n---\n", f"\n{ATTACHMENT}---\n", 1)
        )
        index.write_text(changed, encoding="utf-8")

    @precondition(lambda self: self.bundles)
    @rule(data=st.data())
    def delete_item_with_photos(self, data: st.DataObject) -> None:
        folder = data.draw(st.sampled_from(self.bundles))
        self.retract(folder / "index.md")  # as a press secretary must: a published address is never just lost
        shutil.rmtree(folder)
        self.bundles.remove(folder)

    @precondition(lambda self: self.items)
    @rule(data=st.data())
    def edit_body(self, data: st.DataObject) -> None:
        path = Path(data.draw(st.sampled_from(sorted(self.items))))
        path.write_text(path.read_text(encoding="utf-8") + f"\nAnother paragraph {self.fresh()}.\n", encoding="utf-8")

    @precondition(lambda self: self.items)
    @rule(data=st.data())
    def edit_title(self, data: st.DataObject) -> None:
        path = Path(data.draw(st.sampled_from(sorted(self.items))))
        text = path.read_text(encoding="utf-8")
        start = text.index("title: ")
        end = text.index("\n", start)
        path.write_text(f"{text[:start]}title: Retitled item {self.fresh()}{text[end:]}", encoding="utf-8")

    @precondition(lambda self: self.items)
    @rule(data=st.data(), date=DATES)
    def change_date(self, data: st.DataObject, date: str) -> None:
        key = data.draw(st.sampled_from(sorted(self.items)))
        for path in (Path(key), translation_of(Path(key))):
            if path.exists():
                text = path.read_text(encoding="utf-8")
                path.write_text(text.replace(f"date: {self.items[key]}", f"date: {date}"), encoding="utf-8")
        self.items[key] = date

    @precondition(lambda self: self.items)
    @rule(data=st.data())
    def move_section(self, data: st.DataObject) -> None:
        key = data.draw(st.sampled_from(sorted(self.items)))
        path = Path(key)
        other = "beta" if path.parent.parent.name == "alpha" else "alpha"
        target = self.content / other / "2024" / path.name
        target.parent.mkdir(parents=True, exist_ok=True)
        for old, new in ((path, target), (translation_of(path), translation_of(target))):
            if old.exists():
                old.rename(new)
        self.items[str(target)] = self.items.pop(key)

    @precondition(lambda self: self.items)
    @rule(data=st.data(), official=st.sampled_from(OFFICIALS))
    def toggle_official(self, data: st.DataObject, official: str) -> None:
        path = Path(data.draw(st.sampled_from(sorted(self.items))))
        text = path.read_text(encoding="utf-8")
        if "officials:" in text:
            start = text.index("officials:")
            text = text[:start] + text[text.index("\n", start) + 1 :]
        else:
            text = text.replace("\n---\n", f"\nofficials: [{official}]\n---\n", 1)
        path.write_text(text, encoding="utf-8")

    @precondition(lambda self: self.items)
    @rule(data=st.data())
    def retract_item(self, data: st.DataObject) -> None:
        key = data.draw(st.sampled_from(sorted(self.items)))
        self.retract(Path(key), translation_of(Path(key)))
        del self.items[key]

    def retract(self, *paths: Path) -> None:
        """Delete item files and retract every address the record gives them, in site.yaml's `gone:`."""
        files = {path.relative_to(self.content).as_posix() for path in paths if path.exists()}
        for path in paths:
            path.unlink(missing_ok=True)
        self.gone += [address for address, source in recorded(self.content).items() if source in files]
        site = self.content / "site.yaml"
        lines = [line for line in site.read_text(encoding="utf-8").splitlines() if not line.startswith("gone:")]
        entries = ", ".join(f'"{address}": Withdrawn by the editors.' for address in self.gone)
        site.write_text("\n".join([*lines, f"gone: {{{entries}}}"]) + "\n", encoding="utf-8")

    @precondition(lambda self: any(not translation_of(Path(p)).exists() for p in self.items))
    @rule(data=st.data())
    def add_translation(self, data: st.DataObject) -> None:
        key = data.draw(st.sampled_from(sorted(p for p in self.items if not translation_of(Path(p)).exists())))
        write_item(translation_of(Path(key)), f"Перевод {self.fresh()}", self.items[key], "Текст перевода.")

    @rule(template=st.sampled_from(["item.html", "base.html"]))
    def change_template(self, template: str) -> None:
        path = self.templates / template
        text = path.read_text(encoding="utf-8")
        marker = "{% block main %}"
        assert marker in text, f"{template} has no {marker}: update this test"
        path.write_text(text.replace(marker, f"{marker}<!-- edit {self.fresh()} -->", 1), encoding="utf-8")

    @rule(feed_length=st.sampled_from([2, 3, 4]))
    def change_site_yaml(self, feed_length: int) -> None:
        path = self.content / "site.yaml"
        lines = [line for line in path.read_text(encoding="utf-8").splitlines() if not line.startswith("feed_length")]
        path.write_text("\n".join([*lines, f"feed_length: {feed_length}"]) + "\n", encoding="utf-8")

    @rule(name=st.sampled_from(["Anna Petrova", "Anna S. Petrova", "Anna Sergeevna Petrova"]))
    def rename_official(self, name: str) -> None:
        path = self.content / "officials.yaml"
        text = path.read_text(encoding="utf-8")
        start = text.index("name: {en: ") + len("name: {en: ")
        path.write_text(text[:start] + name + text[text.index(",", start) :], encoding="utf-8")

    @rule(label=st.sampled_from(["Return", "Back", "Go back"]))
    def change_label(self, label: str) -> None:
        path = self.content / "site.yaml"
        lines = [line for line in path.read_text(encoding="utf-8").splitlines() if not line.startswith("labels:")]
        path.write_text(
            "\n".join([*lines, f"labels: {{en: {{go_back: {label}, latest: {label} news}}}}"]) + "\n", encoding="utf-8"
        )

    @rule(section=st.sampled_from(SECTIONS), title=st.sampled_from(["First", "Second", "Third"]))
    def retitle_section(self, section: str, title: str) -> None:
        path = self.content / section / "_index.md"
        text = path.read_text(encoding="utf-8")
        start = text.index("title: ")
        path.write_text(f"{text[:start]}title: {title} {section}{text[text.index(chr(10), start) :]}", encoding="utf-8")

    @rule(official=st.sampled_from(OFFICIALS), year=st.sampled_from(["2019", "2021"]))
    def add_a_year_of_an_official(self, official: str, year: str) -> None:
        n = self.fresh()
        path = self.content / "alpha" / year / f"{year}-02-0{n % 9 + 1}-year-{n}.md"
        write_item(path, f"An item of {year} number {n}", f"{year}-02-0{n % 9 + 1} 10:00", f"Body {n}.")
        path.write_text(
            path.read_text(encoding="utf-8").replace("\n---\n", f"\nofficials: [{official}]\n---\n", 1),
            encoding="utf-8",
        )
        self.years.append(path)

    @precondition(lambda self: self.years)
    @rule(data=st.data())
    def remove_a_year_of_an_official(self, data: st.DataObject) -> None:
        path = data.draw(st.sampled_from(self.years))
        self.retract(path)
        self.years.remove(path)

    @rule()
    def build_in_another_process(self) -> None:
        if self.out.exists():
            build(options(self.content, self.out, self.templates), NOW)

    @invariant()
    def incremental_equals_clean(self) -> None:
        if not self.out.exists():
            return
        self.build()
        assert_same(tree(self.out), reference(self.content, self.templates))

    @invariant()
    def every_recorded_address_is_kept(self) -> None:
        if not self.out.exists():
            return
        conf = (self.out / "nginx-redirects.conf").read_text(encoding="utf-8")
        for address in recorded(self.content):
            assert (self.out / place_of(address)).is_file() or f'location = "{address}" ' in conf, address

    def teardown(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)


def recorded(content: Path) -> dict[str, str]:
    """Read the record of published addresses: address -> item file."""
    lines = (content / "addresses.txt").read_text(encoding="utf-8").splitlines()
    pairs = (line.partition(" ") for line in lines if line and not line.startswith("#"))
    return {address: source for address, _, source in pairs}


def translation_of(path: Path) -> Path:
    """Return the Russian twin of an English item file."""
    return path.with_name(path.name.removesuffix(".md") + ".ru.md")


EditSequences.TestCase.settings = settings(
    max_examples=5, stateful_step_count=7, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
test_random_edits_keep_incremental_equal_to_clean = EditSequences.TestCase


class SearchEditSequences(EditSequences):
    """The same edits, built with the search index: its shards too equal a clean build's.

    The dates cross years (2022 to 2024), so an edit moves items between shards, and a build without
    search in between (another process) drops the index, which the next build takes from the cache.
    """

    def build(self) -> Report:
        return build(replace(options(self.content, self.out, self.templates), search=True), NOW, memo=self.memo)

    @invariant()
    def incremental_equals_clean(self) -> None:
        if not self.out.exists():
            return
        self.build()
        assert_same(tree(self.out), reference(self.content, self.templates, search=True))


SearchEditSequences.TestCase.settings = settings(
    max_examples=3, stateful_step_count=6, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
test_random_edits_keep_the_search_index_equal_to_clean = SearchEditSequences.TestCase


def test_items_scheduled_for_later_appear_when_their_time_comes(site):
    content, out = site
    write_item(content / "alpha" / "2024" / "later.md", "Scheduled item", "2026-11-30 09:00", "Due tomorrow.")
    first = build(options(content, out), NOW)
    assert first.held_back == 1
    later = NOW + timedelta(days=1)
    report = build(options(content, out), later)
    assert report.held_back == 0 and report.written > 0
    expected = reference(content, now=later)
    assert_same(tree(out), expected)
    assert report.items == first.items + 1
    # The clock alone, with no file changed, also ends a build's quick answer: the news sitemap moves on.
    much_later = NOW + timedelta(days=10)
    build(options(content, out), much_later)
    expected = reference(content, now=much_later)
    assert_same(tree(out), expected)
