"""Every internal link resolves; a reader can walk from the home page to every item and back."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
from helpers.dom import read_html
from helpers.links import check_links, page_path, reachable, target_file
from helpers.site import NOW, build_into

from csto_site.output.pages import YEAR_PAGE_ITEMS

BACK = {
    "en": ("Back to the section: ", "Back to all news", "Go back"),
    "ru": ("Вернуться в раздел: ", "Вернуться ко всем новостям", "Вернуться назад"),
}


def test_every_internal_link_resolves(site):
    assert check_links(site.out, site.base_url) == []


def test_the_checker_sees_html_xml_and_robots(site):
    """Guard against a checker that silently checks nothing: it follows internal references in every kind of file."""
    visited: Counter[str] = Counter()
    assert check_links(site.out, site.base_url, visited) == []
    assert set(visited) == {".html", ".xml", "robots.txt"}, visited
    pages = list(site.out.rglob("*.html"))
    assert visited[".html"] > 10 * len(pages), "every page has its navigation, its language switch, its styles"
    assert visited[".xml"] >= len(site.items), "the feeds and sitemaps name every item"
    assert visited["robots.txt"] >= 1, "robots.txt names the sitemap"


def test_every_item_page_is_reachable_from_the_home_page(site):
    found = reachable(site.out, site.base_url)
    expected = {site.expected.url(e) for e in site.items}
    assert expected, "the fixture has items"
    assert sorted(expected - found) == []
    on_disk = {page_path(site.out, p) for p in site.out.glob("**/news/*/*/*/*/index.html")}
    assert on_disk == expected


def test_every_listing_is_reachable_from_the_home_page(site):
    found = reachable(site.out, site.base_url)
    for lang, kind, ident in site.expected.listings(NOW):
        assert site.expected.listing_path(lang, kind, ident) in found
    for lang in site.expected.languages:
        prefix = site.expected.prefix(lang)
        assert {f"{prefix}/", f"{prefix}/officials/", f"{prefix}/organizations/"} <= found


def test_item_pages_lead_back_to_the_section_and_all_news(site):
    expected = site.expected
    for entry in site.items:
        page = read_html(target_file(site.out, expected.url(entry)))
        section_url = f"{expected.prefix(entry.lang)}/sections/{entry.section}/"
        news_url = f"{expected.prefix(entry.lang)}/news/"
        to_section, to_news, go_back = BACK[entry.lang]
        links = {a.text: a for a in page.find_all("a", href=None)}
        title = expected.sections[entry.section][entry.lang]
        where = expected.url(entry)
        assert links[to_section + title].get("href") == section_url, where
        assert links[to_news].get("href") == news_url, where
        back = page.find_all("a", data_go_back=None)
        assert len(back) == 1, where
        assert back[0].get("href") == section_url, where
        assert back[0].text == go_back, where


# -- the checker itself ------------------------------------------------------------------------


def _write(root: Path, rel: str, text: str) -> None:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


@pytest.fixture
def broken(tmp_path: Path) -> Path:
    """A tiny output folder with one good and several broken references of each kind."""
    _write(
        tmp_path,
        "index.html",
        """<!DOCTYPE html><title>t</title>
<a href="/news/">ok</a> <a href="news/">ok relative</a> <a href="#top" id="top">ok self</a>
<a href="/news/#item">ok fragment</a> <a href="https://example.org/news/">ok absolute</a>
<a href="https://elsewhere.example/">external</a> <a href="mailto:a@b.c">mail</a>
<a href="/missing/">bad</a> <a href="/news/#nowhere">bad fragment</a> <img src="/static/none.png" alt="">
<a href="https://example.org/gone/">bad absolute</a> <a href="/news">no slash</a>
<link rel="stylesheet" href="../../outside.css">""",
    )
    _write(tmp_path, "news/index.html", '<!DOCTYPE html><title>n</title><p id="item">x</p>')
    _write(
        tmp_path,
        "news/rss.xml",
        """<?xml version="1.0"?><rss version="2.0"><channel>
<link>https://example.org/news/</link><item><link>https://example.org/news/lost/</link></item></channel></rss>""",
    )
    _write(tmp_path, "robots.txt", "Sitemap: https://example.org/sitemap.xml\n")
    return tmp_path


def test_the_checker_reports_each_broken_reference(broken: Path):
    problems = check_links(broken, "https://example.org/")
    text = "\n".join(problems)
    for bad in (
        "'/missing/'",
        "'/news/#nowhere'",
        "'/static/none.png'",
        "'https://example.org/gone/'",
        "'/news'",
        "'../../outside.css'",
        "'https://example.org/news/lost/'",
        "'https://example.org/sitemap.xml'",
    ):
        assert bad in text
    assert len(problems) == 8, text
    assert problems[0].startswith("index.html:")


def test_reachable_follows_links_breadth_first(broken: Path):
    assert reachable(broken, "https://example.org") == {"/", "/news/"}


def test_a_new_section_without_items_says_so_and_the_home_page_links_it_at_once(mini_copy: Path, tmp_path: Path):
    """docs/guide.md, Sections: a new section's page says "No items yet.", and the home page links it at once."""
    section = mini_copy / "press-releases"
    section.mkdir()
    (section / "_index.md").write_text(
        "---\ntitle: Press releases\ndescription: Short announcements of the Secretariat.\n---\n", encoding="utf-8"
    )
    (section / "_index.ru.md").write_text("---\ntitle: Пресс-релизы\n---\n", encoding="utf-8")
    out = tmp_path / "public"
    build_into(mini_copy, out, search=False)
    for prefix, title, nothing in (
        ("", "Press releases", "No items yet."),
        ("/ru", "Пресс-релизы", "Пока нет новостей."),
    ):
        page = read_html(target_file(out, f"{prefix}/sections/press-releases/"))
        assert [h.text for h in page.find_all("h1")] == [title], prefix
        assert nothing in [p.text for p in page.find_all("p")], prefix
        home = read_html(target_file(out, f"{prefix}/"))
        assert f"{prefix}/sections/press-releases/" in [a.get("href") for a in home.find_all("a", href=None)], prefix
        older = read_html(target_file(out, f"{prefix}/sections/alpha/"))
        assert nothing not in [p.text for p in older.find_all("p")], "a section with items lists them"
    # Its dated archive and its feed appear with its first item.
    assert {p.name for p in (out / "sections/press-releases").iterdir()} <= {
        "index.html",
        "index.html.gz",
        "index.html.br",
    }


def test_an_organization_s_long_year_is_listed_a_month_a_page_a_short_one_on_its_own(mini_copy: Path, tmp_path: Path):
    """The first page shows the newest items; a year of more items than one page holds links its months."""
    for n in range(YEAR_PAGE_ITEMS + 1):  # 2022: one item more than a year's page lists
        item = mini_copy / "alpha" / "2022" / f"2022-{n % 12 + 1:02d}-{n % 28 + 1:02d}-note-{n}.md"
        item.parent.mkdir(parents=True, exist_ok=True)
        day = f"2022-{n % 12 + 1:02d}-{n % 28 + 1:02d} {n % 24:02d}:00"
        item.write_text(f"---\ntitle: Note {n}\ndate: {day}\norganizations: [river-commission]\n---\nText {n}.\n")
    build_into(mini_copy, tmp_path / "out", record=False)
    pages = tmp_path / "out" / "organizations" / "river-commission"
    assert len(read_html(pages / "index.html").find_all("li", **{"class": "teaser"})) == 20, "the newest items"

    long = read_html(pages / "2022" / "index.html")
    assert long.find_all("li", **{"class": "teaser"}) == [], "a long year lists its months, not its items"
    months = sorted(pages.glob("2022/[0-9][0-9]/index.html"))
    assert len(months) == 12
    listed: Counter[str] = Counter()
    for month in months:
        prefix = f"/news/2022/{month.parent.name}/"
        links = [a.get("href") or "" for a in read_html(month).find_all("a")]
        items = [h for h in links if h.startswith(prefix) and h.count("/") == 6]
        assert items and len(items) == len(read_html(month).find_all("li", **{"class": "teaser"})), month
        listed.update(items)
    assert len(listed) == YEAR_PAGE_ITEMS + 1 and set(listed.values()) == {1}, "each item on its month's page"

    short = read_html(pages / "2024" / "index.html")
    assert short.find_all("li", **{"class": "teaser"}), "a short year lists its items on its own page"
    assert not list(pages.glob("2024/[0-9][0-9]")), "and has no month pages"
