"""The Pagefind search index: what it holds, that it is stable, and that rebuilds keep it current."""

from __future__ import annotations

import gzip
import json
import os
import shutil
import sqlite3
import tempfile
import time
from pathlib import Path
from typing import Any

import pagefind_bin
import pytest
from helpers.site import build_into, cache_of, retract
from helpers.tools import missing
from hypothesis import given, settings
from hypothesis import strategies as st

from csto_site.build import cache, search
from csto_site.build.outbox import Changes, Published
from csto_site.output import search as output_search
from csto_site.output.search import bundle_files, index_key, index_outputs, shards_of
from csto_site.util.errors import ContentError

TAG = b"pagefind_dcd"


def shard_list(out: Path) -> dict[str, list[str]]:
    """Read the list of shards, by language."""
    return json.loads((out / "pagefind" / "shards.json").read_text(encoding="utf-8"))


def shard_folders(out: Path) -> list[Path]:
    """Return the folder of every shard the list names."""
    return [out / "pagefind" / lang / name for lang, names in shard_list(out).items() for name in names]


def entry(shard: Path) -> dict[str, Any]:
    """Read a shard's entry file."""
    return json.loads((shard / "pagefind-entry.json").read_text(encoding="utf-8"))


def fragments(out: Path) -> dict[str, dict[str, Any]]:
    """Read every indexed page of every shard, by URL."""
    pages = {}
    for shard in shard_folders(out):
        for path in sorted((shard / "fragment").iterdir()):
            raw = gzip.decompress(path.read_bytes())
            assert raw.startswith(TAG), path
            page = json.loads(raw[len(TAG) :])
            assert page["url"] not in pages, page["url"]
            pages[page["url"]] = page
    return pages


def bundle(out: Path) -> dict[str, bytes]:
    """Read every file of the search index, by path."""
    root = out / "pagefind"
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_every_item_is_indexed_in_a_shard_of_its_language_and_year(site: Any) -> None:
    items = site.items
    listed = shard_list(site.out)
    assert sorted(listed) == sorted({e.lang for e in items})
    for lang, names in listed.items():
        assert names == sorted(names, reverse=True), "newest first: the first is the primary index"
        count = 0
        for name in names:
            shard = site.out / "pagefind" / lang / name
            languages = entry(shard)["languages"]
            assert list(languages) == [lang]
            count += languages[lang]["page_count"]
            assert (shard / f"wasm.{lang}.pagefind").is_file() and (shard / "pagefind.js").is_file()
            assert not (shard / "pagefind-ui.js").exists()  # the search page draws its own
        assert count == sum(1 for e in items if e.lang == lang)
    assert set(fragments(site.out)) == {site.expected.url(e) for e in items}
    for url, page in fragments(site.out).items():
        lang = "ru" if url.startswith("/ru/") else "en"
        year = page["filters"]["year"][0]
        assert any(
            url in {f["url"] for f in _shard_pages(site.out / "pagefind" / lang / n)}
            for n in listed[lang]
            if _covers(n, year)
        ), url


def _covers(name: str, year: str) -> bool:
    """Tell whether the shard `name` (2024-05, 2024, 2019-2021) holds pages of `year`."""
    first, _, last = name.partition("-")
    return first == year if len(last) == 2 else first <= year <= (last or first)


def _item(lang: str, year: int, month: int, slug: str = "item") -> str:
    """Return the output path of an item page of that language and month."""
    return f"{'ru/' if lang == 'ru' else ''}news/{year}/{month:02d}/01/{slug}/index.html"


def _language(path: str) -> str:
    """Return the language of an output path: Russian under ru/, else English."""
    return "ru" if path.startswith("ru/") else "en"


def test_the_cut_is_the_newest_month_the_rest_of_its_year_last_year_and_calendar_blocks_of_three_years() -> None:
    paths = [_item("en", year, month) for year in range(2004, 2025) for month in (1, 7)]
    paths += [_item("en", 2024, 9), _item("ru", 2012, 3), _item("ru", 2023, 2), "about/index.html"]
    shards = shards_of(reversed(paths), _language)
    assert shards == shards_of(paths, _language), "a function of the paths, not of their order"
    assert {name: len(found) for name, found in shards.items()} == {
        "en/2004-2006": 6,
        "en/2007-2009": 6,
        "en/2010-2012": 6,
        "en/2013-2015": 6,
        "en/2016-2018": 6,
        "en/2019-2021": 6,
        "en/2022": 2,
        "en/2023": 2,
        "en/2024": 2,
        "en/2024-09": 1,
        "en/pages": 1,
        "ru/2010-2012": 1,
        "ru/2023-02": 1,
    }
    # A new item in a new month moves only the last month into its year's shard.
    month = shards_of([*paths, _item("en", 2024, 11)], _language)
    assert {n: f for n, f in month.items() if f != shards.get(n)} == {
        "en/2024": sorted(_item("en", 2024, m) for m in (1, 7, 9)),
        "en/2024-11": [_item("en", 2024, 11)],
    }
    # A new year makes last year's months one shard and the year before joins its block; older blocks stay.
    year = shards_of([*paths, _item("en", 2025, 1)], _language)
    assert {n: f for n, f in year.items() if f != shards.get(n)} == {
        "en/2022-2023": sorted(_item("en", y, m) for y in (2022, 2023) for m in (1, 7)),
        "en/2024": sorted(_item("en", 2024, m) for m in (1, 7, 9)),
        "en/2025-01": [_item("en", 2025, 1)],
    }
    assert all(year[n] == shards[n] for n in ("en/2004-2006", "en/2016-2018", "en/2019-2021", "ru/2010-2012"))


def _shard_pages(shard: Path) -> list[dict[str, Any]]:
    """Read the pages of one shard."""
    return [json.loads(gzip.decompress(p.read_bytes())[len(TAG) :]) for p in sorted((shard / "fragment").iterdir())]


def test_only_the_item_article_is_indexed_with_its_metadata_and_filters(sample: Any) -> None:
    pages = fragments(sample.out)
    content = sample.expected
    for e in sample.items:
        page = pages[content.url(e)]
        assert page["meta"]["title"] == e.title
        assert page["meta"]["published"] == e.published.isoformat()
        assert page["meta"]["section"] == content.sections[e.section][e.lang]
        assert page["filters"]["section"] == [content.sections[e.section][e.lang]]
        assert page["filters"]["year"] == [str(e.published.year)]
        assert sorted(page["filters"].get("official", [])) == sorted(
            content.official_names[o][e.lang] for o in e.officials
        )
        assert sorted(page["filters"].get("organization", [])) == sorted(
            content.organization_short[o][e.lang] for o in e.organizations
        )
        text = page["content"]
        assert e.title in text
        for chrome in (
            "495-795-27-10",
            "Skip to main content",
            "Перейти к основному содержанию",
            "Back to the section",
            "Вернуться в раздел",
            "Previous item",
            "Предыдущая новость",
            "Read in English",
            "Читать на русском",
        ):
            assert chrome not in text, (content.url(e), chrome)


def test_the_same_content_gives_the_same_index(mini_copy: Path, tmp_path: Path) -> None:
    build_into(mini_copy, tmp_path / "one")
    build_into(mini_copy, tmp_path / "two")
    assert bundle(tmp_path / "one") == bundle(tmp_path / "two")


def test_a_rebuild_reindexes_changed_and_removed_items(mini_copy: Path, tmp_path: Path) -> None:
    out = tmp_path / "public"
    build_into(mini_copy, out)
    items = sorted(p for p in mini_copy.rglob("*.md") if not p.name.startswith("_"))
    changed, removed = items[0], items[1]
    before = fragments(out)
    changed.write_text(changed.read_text(encoding="utf-8") + "\nA zanzibarite delegation arrived.\n", encoding="utf-8")
    retract(mini_copy, removed)
    build_into(mini_copy, out)
    after = fragments(out)
    assert len(after) == len(before) - 1
    found = [url for url, page in after.items() if "zanzibarite" in page["content"]]
    assert len(found) == 1
    assert all("zanzibarite" not in page["content"] for page in before.values())


def test_a_rebuild_indexes_again_only_the_shard_of_the_changed_page(mini_copy: Path, tmp_path: Path) -> None:
    out = tmp_path / "public"
    build_into(mini_copy, out)
    stats = {p: (p.stat().st_ino, p.stat().st_mtime_ns) for p in (out / "pagefind").rglob("*") if p.is_file()}
    old = [f for f in shard_folders(out) if not f.name.startswith(max(f.name[:4] for f in shard_folders(out)))]
    assert old, "the fixture has items in more than one year"
    item = next(p for p in sorted(mini_copy.rglob("*.md")) if "2024" in p.read_text(encoding="utf-8").split("---")[1])
    item.write_text(item.read_text(encoding="utf-8") + "\nA zanzibarite delegation arrived.\n", encoding="utf-8")
    build_into(mini_copy, out)
    assert any("zanzibarite" in page["content"] for page in fragments(out).values())
    kept = [p for p in stats if any(p.is_relative_to(f) for f in old)]
    assert kept and all((p.stat().st_ino, p.stat().st_mtime_ns) == stats[p] for p in kept), "old shards untouched"
    build_into(mini_copy, tmp_path / "clean")
    assert bundle(out) == bundle(tmp_path / "clean")


def _lay_out(site: Path, pages: dict[str, bytes], order: list[str]) -> Path:
    """Write `pages` under `site`, creating their files and folders in `order`."""
    for path in order:
        target = site / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(pages[path])
    return site


def test_the_index_does_not_depend_on_the_order_the_file_system_lists_the_pages(tmp_path: Path) -> None:
    # A tmpfs lists a folder newest first, ext4 by a hash of the names: the same pages laid out in
    # opposite orders on a tmpfs, and on tmp_path's file system, are listed in different orders.
    memory = Path("/dev/shm")
    if not memory.is_dir() or not os.access(memory, os.W_OK):
        missing("no writable tmpfs at /dev/shm: the test lays the pages out on one")
    body = '<main data-pagefind-body><h1>Item {n}</h1><p data-pagefind-filter="year">2024</p><p>Summit {n}.</p></main>'
    pages = {
        _item(lang, 2024, 7, f"item-{n}"): f'<html lang="{lang}"><body>{body.format(n=n)}</body></html>'.encode()
        for lang in ("en", "ru")
        for n in range(6)
    }
    paths = sorted(pages)
    with tempfile.TemporaryDirectory(dir=memory) as scratch:
        forward = _lay_out(Path(scratch) / "forward" / "site", pages, paths)
        backward = _lay_out(Path(scratch) / "backward" / "site", pages, paths[::-1])
        disk = _lay_out(tmp_path / "disk" / "site", pages, paths)
        month = Path("news/2024/07/01")
        if os.listdir(forward / month) == os.listdir(backward / month):
            missing("/dev/shm lists a folder in the same order, whatever the order its files were made in")
        bundles = [bundle_files(site) for site in (forward, backward, disk)]
    assert bundles[0] == bundles[1] == bundles[2]
    assert json.loads(bundles[0]["pagefind-entry.json"])["languages"]["en"]["page_count"] == 6


@pytest.mark.parametrize(
    ("script", "told"),
    [
        ("echo 'out of memory' >&2; exit 3", "Pagefind failed: .*out of memory"),
        ("exec sleep 60", "Pagefind did not finish within"),
    ],
)
def test_a_pagefind_that_stops_or_hangs_is_reported_and_stopped(
    script: str, told: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake = tmp_path / "pagefind"
    fake.write_text(f"#!/bin/sh\n{script}\n", encoding="utf-8")
    fake.chmod(0o755)
    monkeypatch.setattr(pagefind_bin, "get_executable", lambda: fake)
    monkeypatch.setattr(output_search, "PAGEFIND_SECONDS", 1)
    site = _lay_out(
        tmp_path / "site", {"news/index.html": b'<html lang="en"><body>Summit.</body></html>'}, ["news/index.html"]
    )
    started = time.monotonic()
    with pytest.raises(ContentError, match=told):
        bundle_files(site)
    assert time.monotonic() - started < 30


def test_pagefind_settings_around_the_build_do_not_change_the_index(
    mini_copy: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    build_into(mini_copy, tmp_path / "plain")
    workdir = tmp_path / "work"
    workdir.mkdir()
    (workdir / "pagefind.yml").write_text("force_language: fr\nexclude_selectors: ['h1']\n", encoding="utf-8")
    monkeypatch.chdir(workdir)
    monkeypatch.setenv("PAGEFIND_FORCE_LANGUAGE", "fr")
    build_into(mini_copy, tmp_path / "configured")
    assert bundle(tmp_path / "configured") == bundle(tmp_path / "plain")


def test_no_search_writes_no_index_but_keeps_the_search_page(mini_copy: Path, tmp_path: Path) -> None:
    out = tmp_path / "public"
    build_into(mini_copy, out, search=False)
    assert not (out / "pagefind").exists()
    page = (out / "search" / "index.html").read_text(encoding="utf-8")
    assert 'id="search-fallback"' in page and 'href="/news/"' in page


def test_a_site_without_items_has_no_index() -> None:
    assert index_outputs([], lambda path: "en") == []


def test_every_page_links_the_search_page_of_its_language(mini: Any) -> None:
    pages = [p for p in mini.out.rglob("*.html") if "<main" in p.read_text(encoding="utf-8")]
    assert len(pages) > 20
    for path in pages:
        lang_prefix = "/ru" if path.relative_to(mini.out).parts[0] == "ru" else ""
        html = path.read_text(encoding="utf-8")
        header = html[html.index('<header class="site-header">') : html.index("</header>")]
        assert f'href="{lang_prefix}/search/"' in header, path


def test_a_shard_missing_from_the_site_comes_back_from_the_cache_with_a_warning(
    mini_copy: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "public"
    build_into(mini_copy, out)
    expected = bundle(out)
    indexed: list[str] = []
    real = search.index_shards
    monkeypatch.setattr(search, "index_shards", lambda folders, j: indexed.extend(folders) or real(folders, j))
    next((out / "pagefind" / "en" / "2023").glob("*.pf_meta")).unlink()
    # A build finds files deleted by hand when it has something to do (here: an item of another year).
    item = next(p for p in sorted(mini_copy.rglob("*.md")) if "date: 2024" in p.read_text(encoding="utf-8"))
    item.write_text(item.read_text(encoding="utf-8") + "\nA zanzibarite delegation arrived.\n", encoding="utf-8")
    report = build_into(mini_copy, out)
    assert [(w.path, w.message) for w in report.warnings] == [
        ("pagefind/en/2023/", "files of this search shard were missing from the site: made again")
    ]
    assert all(not name.endswith("2023") for name in indexed), "taken from the build cache, not indexed again"
    build_into(mini_copy, tmp_path / "clean")
    assert bundle(out) == bundle(tmp_path / "clean")
    assert {p: d for p, d in bundle(out).items() if p.startswith("en/2023/")} == {
        p: d for p, d in expected.items() if p.startswith("en/2023/")
    }


def test_a_damaged_cached_shard_is_indexed_again_with_a_warning(
    mini_copy: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "public"
    build_into(mini_copy, out)
    expected = bundle(out)
    with sqlite3.connect(cache_of(out) / cache.FILE) as db:
        assert db.execute("UPDATE shards SET files = X'00010203'").rowcount == len(shard_folders(out))
    indexed: list[str] = []
    real = search.index_shards
    monkeypatch.setattr(search, "index_shards", lambda folders, j: indexed.extend(folders) or real(folders, j))
    # A build that cannot trust the output folder takes every shard from the cache: none is sound.
    shutil.rmtree(out)
    report = build_into(mini_copy, out)
    damaged = [w.message for w in report.warnings if "search shard" in w.message]
    assert len(damaged) == len(shard_folders(out)) and all(
        m.startswith("discarded a damaged search shard") for m in damaged
    )
    assert sorted(indexed) == sorted(f"{lang}/{name}" for lang, names in shard_list(out).items() for name in names)
    assert bundle(out) == expected
    # Indexed again, the shards are sound in the cache: the next build without the site uses them.
    indexed.clear()
    shutil.rmtree(out)
    assert not build_into(mini_copy, out).warnings and indexed == []
    assert bundle(out) == expected


PAGE = (
    '<!doctype html><html lang="en"><head><title>T</title></head><body><header>Site</header>'
    '<article class="item" data-pagefind-body><h1>Title</h1><article>Quoted</article><p>{body}</p></article>'
    '<nav class="item-nav"><a href="/older/">{older}</a></nav>{after}<footer>F</footer></body></html>'
)


def key(body: str = "Text.", older: str = "Older item", after: str = "", lang: str = "en") -> str:
    """The index key of a page drawn like an item's."""
    page = PAGE.format(body=body, older=older, after=after).replace('lang="en"', f'lang="{lang}"')
    return index_key(page.encode())


def test_the_index_key_leaves_out_only_what_follows_the_indexed_element() -> None:
    assert key(older="A renamed older item") == key()  # a neighbour's new title: no shard indexed again
    assert key(body="Edited text.") != key()
    assert key(lang="ru") != key()
    assert key(after='<span data-pagefind-filter="year">2024</span>') != key()
    assert key(after='<span data-pagefind-filter="year">2025</span>') != key(
        after='<span data-pagefind-filter="year">2024</span>'
    )
    # A page whose indexed element never closes is keyed by all its bytes.
    broken = PAGE.format(body="Text.", older="Older", after="").replace("</p></article>", "</p>").encode()
    assert index_key(broken) != index_key(broken.replace(b"Older", b"Newer"))


def test_a_block_holding_more_pages_than_pagefind_should_hold_at_once_is_cut_into_its_years() -> None:
    paths = [_item("en", year, month, f"i{n}") for year in (2016, 2017, 2018) for month in (1, 7) for n in range(2)]
    paths += [_item("en", 2010, 3), _item("en", 2011, 3), _item("en", 2025, 5)]
    shards = shards_of(paths, _language, most=11)
    assert {name: len(found) for name, found in shards.items()} == {
        "en/2010-2012": 2,  # within the limit: one block
        "en/2016": 4,
        "en/2017": 4,
        "en/2018": 4,
        "en/2025-05": 1,
    }
    assert shards_of(paths, _language, most=12)["en/2016-2018"] == sorted(paths[:12])


class LiveSite:
    """The publisher as the search step sees it, over a dict of the live site's indexed pages: path -> (key, group)."""

    def __init__(self, pages: dict[str, tuple[str, str]]) -> None:
        self.pages = pages
        self.verify = False

    def indexed(self, dropped: set[str], changes: Changes) -> list[tuple[str, str]]:
        """Every indexed page of the new site (as publish/trees.py answers)."""
        renewed = set(changes.rendered) | dropped
        found = {path: key for path, (key, group) in self.pages.items() if group not in renewed}
        found.update((f.path, f.index_key) for _, files in changes.rendered.values() for f in files if f.index_key)
        return sorted(found.items())

    def indexed_of(self, groups: set[str]) -> list[tuple[str, str]]:
        """The live pages of some groups."""
        return [(path, key) for path, (key, group) in self.pages.items() if group in groups]

    def indexed_under(self, folder: str) -> list[tuple[str, str, str]]:
        """The live pages below a folder."""
        return [(path, key, group) for path, (key, group) in self.pages.items() if path.startswith(folder)]


def _page_language(path: str) -> str:
    """The language of an output path of a site in English and Russian."""
    return "ru" if path.startswith("ru/") else "en"


def _buckets(pages: dict[str, tuple[str, str]]) -> dict[str, search.Bucket]:
    """The buckets of a site, every page read."""
    return search.IndexedPages(LiveSite(pages), set(), Changes(), _page_language).buckets(None)  # type: ignore[arg-type]


# Pages of two languages, a few months, and a folder that is not the news (an item page elsewhere: the
# bucket of its month then lies in two folders) and a page that is not an item's.
PAGE_PATHS = st.builds(
    "{}{}{}/{:02d}/{:02d}/{}/index.html".format,
    st.sampled_from(["", "ru/"]),
    st.sampled_from(["news/", "news/", "elsewhere/"]),
    st.sampled_from([2023, 2024]),
    st.integers(1, 3),
    st.integers(1, 2),
    st.sampled_from(["a", "b"]),
) | st.just("about/index.html")
KEYS = st.sampled_from(["k1", "k2"])


@settings(max_examples=300, deadline=None)
@given(
    live=st.dictionaries(PAGE_PATHS, KEYS, max_size=12),
    dropped=st.sets(PAGE_PATHS, max_size=3),
    drawn=st.dictionaries(PAGE_PATHS, st.sampled_from(["k1", "k3", ""]), max_size=4),
)
def test_the_buckets_read_again_around_a_change_are_those_of_the_whole_new_site(live, dropped, drawn):
    """Whatever a build draws or drops, the buckets it keeps are the ones every page of its new site gives.

    Each page is its own output group; a drawn page without an index key is one search no longer indexes.
    """
    site = {path: (key, path) for path, key in live.items()}
    changes = Changes(rendered={path: ("", [Published(path, "", key)]) for path, key in drawn.items()})
    gone = dropped - set(drawn)
    after = {path: value for path, value in site.items() if path not in gone and path not in drawn}
    after |= {path: (key, path) for path, key in drawn.items() if key}
    pages = search.IndexedPages(LiveSite(site), gone, changes, _page_language)  # type: ignore[arg-type]
    assert pages.buckets(_buckets(site)) == _buckets(after)
