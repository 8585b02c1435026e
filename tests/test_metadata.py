"""What search engines and social networks read: OpenGraph, NewsArticle JSON-LD, hreflang, the news sitemap.

Every value is compared with the page itself (headline, <time>, canonical, <html lang>) and with the
content files (helpers.content), so metadata that drifts from what readers see fails.
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from datetime import datetime, timedelta
from pathlib import Path

import pytest
import yaml
from helpers.content import Entry
from helpers.dom import Document, read_html
from helpers.links import page_path, target_file
from helpers.site import ROOT, SAMPLE, build_into, copy_fixture, sitemap_urls

SITEMAP_NS = "http://www.sitemaps.org/schemas/sitemap/0.9"
NEWS_NS = "http://www.google.com/schemas/sitemap-news/0.9"
XHTML_NS = "http://www.w3.org/1999/xhtml"
W3C_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?[+-]\d{2}:\d{2}$")
LOCALES = {
    lang: labels["locale"]
    for lang, labels in yaml.safe_load((ROOT / "templates" / "labels.yaml").read_text("utf-8")).items()
}


def item_page(site, entry: Entry) -> Document:
    """Parse the page of an item."""
    return read_html(target_file(site.out, site.expected.url(entry)))


def meta(doc: Document, prop: str) -> list[str]:
    """Return the contents of every <meta property=...> with this property, in order."""
    return [m.get("content") for m in doc.find_all("meta", property=prop)]


def one(values: list[str], what: str) -> str:
    """Return the only value of a list, failing with `what` when there are none or several."""
    assert len(values) == 1, f"{what}: expected one, found {values}"
    return values[0]


def canonical(doc: Document) -> str:
    """Return the page's canonical URL."""
    return one([link.get("href") for link in doc.find_all("link", rel="canonical")], "canonical")


def json_ld(doc: Document, kind: str = "NewsArticle") -> dict:
    """Parse the page's only JSON-LD block of this @type (an item page also has its BreadcrumbList)."""
    blocks = []
    for block in doc.find_all("script", type="application/ld+json"):
        raw = "".join(block.parts)
        assert "<" not in raw, "markup characters inside the data block are escaped"
        blocks.append(json.loads(raw))
    assert len({b["@type"] for b in blocks}) == len(blocks), "one block per @type"
    found = [b for b in blocks if b["@type"] == kind]
    assert len(found) == 1, f"{kind}: expected one JSON-LD block, found {len(found)}"
    return found[0]


def header_times(doc: Document) -> list[str]:
    """Return the datetimes of the <time> elements in the item's header (before its body)."""
    body = doc.find("div", **{"class": "item-body"})
    assert body is not None
    return [t.get("datetime") for t in doc.find_all("time") if t.line < body.line]


def twins(site, entry: Entry) -> list[Entry]:
    """Return the translations of an item (same key, other languages)."""
    return [e for e in site.items if e.key == entry.key and e.lang != entry.lang]


def expected_tags(site, entry: Entry) -> list[str]:
    """Return the names the item page shows for its officials and organizations."""
    e = site.expected
    return sorted(
        [e.official_names[o][entry.lang] for o in entry.officials]
        + [e.organization_short[o][entry.lang] for o in entry.organizations]
    )


def test_every_page_has_a_title_of_its_own(site):
    """SPEC §3, docs/reference.md: every page has a unique <title> (listings, archives, people, redirects, 404)."""
    pages: dict[str, list[str]] = {}
    for file in sorted(site.out.rglob("*.html")):
        titles = [t.text for t in read_html(file).find_all("title")]
        assert len(titles) == 1 and titles[0], f"{file}: {titles}"
        pages.setdefault(titles[0], []).append(page_path(site.out, file))
    assert sum(map(len, pages.values())) > 50, "every kind of page of the site is read"
    assert {title: paths for title, paths in pages.items() if len(paths) > 1} == {}


def test_every_item_page_carries_opengraph_article_tags(site):
    expected = site.expected
    for entry in site.items:
        doc = item_page(site, entry)
        where = expected.url(entry)
        url = canonical(doc)
        assert url == expected.absolute(where)
        assert one(meta(doc, "og:type"), "og:type") == "article", where
        assert one(meta(doc, "og:title"), "og:title") == entry.title == doc.find("h1").text, where
        description = one([m.get("content") for m in doc.find_all("meta", name="description")], "description")
        assert one(meta(doc, "og:description"), "og:description") == description, where
        if entry.summary:
            assert description == " ".join(entry.summary.split()), where
        assert description, where
        assert one(meta(doc, "og:url"), "og:url") == url, where
        assert one(meta(doc, "og:site_name"), "og:site_name") == expected.site_title[entry.lang], where
        assert one(meta(doc, "og:locale"), "og:locale") == LOCALES[entry.lang], where
        assert sorted(meta(doc, "og:locale:alternate")) == sorted(LOCALES[t.lang] for t in twins(site, entry)), where
        published = one(meta(doc, "article:published_time"), "article:published_time")
        assert published == doc.find("time").get("datetime") == entry.published.isoformat(), where
        assert one(meta(doc, "article:section"), "article:section") == expected.sections[entry.section][entry.lang]
        assert sorted(meta(doc, "article:tag")) == expected_tags(site, entry), where


def test_opengraph_locales_are_language_and_territory():
    assert set(LOCALES) >= {"en", "ru"}
    for lang, locale in LOCALES.items():
        assert re.fullmatch(rf"{lang}_[A-Z]{{2}}", locale), locale


def test_every_item_page_describes_itself_as_a_news_article(site):
    expected = site.expected
    for entry in site.items:
        doc = item_page(site, entry)
        where = expected.url(entry)
        data = json_ld(doc)
        url = canonical(doc)
        assert data["@context"] == "https://schema.org", where
        assert data["@type"] == "NewsArticle", where
        assert data["headline"] == entry.title == doc.find("h1").text, where
        assert data["description"] == one([m.get("content") for m in doc.find_all("meta", name="description")], "")
        assert data["inLanguage"] == entry.lang == doc.find("html").get("lang"), where
        assert data["mainEntityOfPage"] == {"@type": "WebPage", "@id": url}, where
        assert data["url"] == url, where
        assert data["articleSection"] == expected.sections[entry.section][entry.lang], where
        for key in ("datePublished", "dateModified"):
            assert W3C_DATETIME.match(data[key]), (where, key, data[key])
        assert datetime.fromisoformat(data["datePublished"]) == entry.published, where
        assert data["datePublished"] == doc.find("time").get("datetime"), where
        assert data["dateModified"] == header_times(doc)[-1], "dateModified is the update shown, else the publication"
        assert datetime.fromisoformat(data["dateModified"]) >= entry.published, where
        organization = {
            "@type": "Organization",
            "name": expected.site_title[entry.lang],
            "url": expected.absolute(expected.prefix(entry.lang) + "/"),
        }
        if expected.logo:
            organization["logo"] = {"@type": "ImageObject", "url": expected.absolute(f"/static/{expected.logo}")}
        assert data["author"] == organization, where
        assert data["publisher"] == organization, where


def test_an_updated_item_reports_its_update_as_date_modified(tmp_path):
    """An `updated:` date becomes dateModified and article:modified_time, with the site's offset."""
    content = copy_fixture(tmp_path / "content", SAMPLE)
    item = next(content.glob("csto-news/2024/*school-of-diplomacy/index.md"))
    text = item.read_text(encoding="utf-8")
    item.write_text(text.replace("\ndate:", "\nupdated: 2024-07-26 09:15\ndate:", 1), encoding="utf-8")
    out = tmp_path / "public"
    build_into(content, out)
    page = next(out.glob("news/2024/07/25/*/index.html"))
    doc = read_html(page)
    data = json_ld(doc)
    assert data["dateModified"] == "2024-07-26T09:15:00+03:00"
    assert data["datePublished"] == "2024-07-25T14:00:00+03:00"
    assert one(meta(doc, "article:modified_time"), "article:modified_time") == "2024-07-26T09:15:00+03:00"


def hreflang(doc: Document) -> dict[str, str]:
    """Return {hreflang: href} of the page's language alternates."""
    links = [link for link in doc.find_all("link", rel="alternate") if link.get("hreflang")]
    found = {link.get("hreflang"): link.get("href") for link in links}
    assert len(found) == len(links), "one alternate per language"
    return found


def test_hreflang_alternates_are_complete_and_reciprocal(site):
    """Each page names itself and every translation, with x-default = the default language's version."""
    expected = site.expected
    base = expected.base_url
    for file in sorted(site.out.rglob("*.html")):
        path = page_path(site.out, file)
        doc = read_html(file)
        if doc.find("meta", http_equiv="refresh"):
            continue  # a redirect from an old address, not a page
        alternates = hreflang(doc)
        noindex = bool(doc.find("meta", content="noindex"))
        # Not-found and search pages are kept out of search engines; and only search pages of those have
        # their one address (a server sends the not-found page at any address): no canonical, no alternates.
        assert noindex == path.endswith(("/404.html", "/search/")), path
        if path.endswith("/404.html"):
            assert not alternates and not doc.find_all("link", rel="canonical"), path
            continue
        lang = doc.find("html").get("lang")
        assert alternates.get(lang) == canonical(doc) == base + path, path
        languages = {k for k in alternates if k != "x-default"}
        assert languages <= set(expected.languages), path
        if expected.default in languages:
            assert alternates.get("x-default") == alternates[expected.default], path
        else:
            assert "x-default" not in alternates, path
        for other, href in alternates.items():
            assert href.startswith(base + "/"), (path, href)
            twin = read_html(target_file(site.out, href[len(base) :]))
            assert hreflang(twin) == alternates, f"{path} and {href} disagree on their alternates"
            if other != "x-default":
                assert twin.find("html").get("lang") == other, (path, href)


def test_translated_items_name_both_languages(site):
    translated = [e for e in site.items if twins(site, e)]
    assert translated, "the fixture has translated items"
    for entry in translated:
        alternates = hreflang(item_page(site, entry))
        assert set(alternates) == {*site.expected.languages, "x-default"}, site.expected.url(entry)


def test_the_sitemap_alternates_match_the_pages(site):
    ns = {"sm": SITEMAP_NS, "xhtml": XHTML_NS}
    base = site.expected.base_url
    for url in sitemap_urls(site.out, base):
        loc = url.findtext("sm:loc", namespaces=ns)
        listed = {link.get("hreflang"): link.get("href") for link in url.findall("xhtml:link", ns)}
        on_page = hreflang(read_html(target_file(site.out, loc[len(base) :])))
        languages = set(on_page) - {"x-default"}
        assert listed == (on_page if len(languages) > 1 else {}), loc  # x-default included, as on the page


def test_sitemaps_date_each_page_by_its_items(site):
    """<lastmod> is an item's `updated:` (else its date); a listing's is its newest item's; the index's the latest."""
    ns = {"sm": SITEMAP_NS}
    base, front = site.expected.base_url, {}
    for entry in site.items:
        text = (site.content / entry.rel).read_text(encoding="utf-8")
        front[site.expected.absolute(site.expected.url(entry))] = (entry, yaml.safe_load(text.split("---")[1]))
    dated = {
        url.findtext("sm:loc", namespaces=ns): url.findtext("sm:lastmod", namespaces=ns)
        for url in sitemap_urls(site.out, base)
    }
    assert front.keys() <= dated.keys()
    for loc, (entry, matter) in front.items():
        when = datetime.fromisoformat(dated[loc])
        changes = [str(matter["updated"])] if "updated" in matter else []
        changes += [str(update["date"]) for update in matter.get("updates", ())]
        if changes:  # the last change: the `updated:` key or the newest entry of the log of updates
            assert when.strftime("%Y-%m-%d %H:%M").startswith(max(changes)), loc
        else:
            assert when == entry.published, loc
    assert any("updated" in m or "updates" in m for _, m in front.values()) or site.name != "mini", "mini has an update"
    assert all(W3C_DATETIME.match(d) for d in dated.values() if d), dated
    news = datetime.fromisoformat(dated[base + site.expected.listing_path(site.expected.default)])
    assert news == max(datetime.fromisoformat(dated[loc]) for loc in front if "/ru/" not in loc)
    index = ET.parse(site.out / "sitemap.xml").getroot().findall("sm:sitemap", ns)
    assert index and all(W3C_DATETIME.match(s.findtext("sm:lastmod", "", ns)) for s in index)


def test_robots_txt_names_the_sitemap_and_no_news_sitemap_without_news(site):
    lines = (site.out / "robots.txt").read_text(encoding="utf-8").splitlines()
    base = site.expected.base_url
    assert f"Sitemap: {base}/sitemap.xml" in lines
    assert f"Sitemap: {base}/news-sitemap.xml" not in lines  # the fixtures' items are older than two days
    assert not (site.out / "news-sitemap.xml").exists()


def test_robots_txt_names_the_news_sitemap_while_there_is_news(sample, tmp_path):
    out = tmp_path / "public"
    build_into(copy_fixture(tmp_path / "content", SAMPLE), out, sample.items[0].published + timedelta(days=1))
    lines = (out / "robots.txt").read_text(encoding="utf-8").splitlines()
    assert f"Sitemap: {sample.expected.base_url}/news-sitemap.xml" in lines
    assert news_entries(out)


# -- the Google News sitemap -----------------------------------------------------------------------------------


def news_entries(out: Path) -> list[dict[str, str]]:
    """Read every <url> of a news sitemap (none when there is no news sitemap: it is written only with news)."""
    ns = {"sm": SITEMAP_NS, "news": NEWS_NS}
    rows: list[dict[str, str]] = []
    if not (out / "news-sitemap.xml").exists():
        return rows
    for url in ET.parse(out / "news-sitemap.xml").getroot().findall("sm:url", ns):
        news = url.find("news:news", ns)
        rows.append(
            {
                "loc": url.findtext("sm:loc", namespaces=ns),
                "name": news.findtext("news:publication/news:name", namespaces=ns),
                "language": news.findtext("news:publication/news:language", namespaces=ns),
                "date": news.findtext("news:publication_date", namespaces=ns),
                "title": news.findtext("news:title", namespaces=ns),
            }
        )
    return rows


def news_sitemap_at(sample, tmp_path: Path, now: datetime) -> list[dict[str, str]]:
    """Build the sample site at `now` and read its news sitemap."""
    work = tmp_path / f"at-{now:%Y%m%d%H%M%S}"
    out = work / "public"
    build_into(copy_fixture(work / "content", SAMPLE), out, now)
    return news_entries(out)


def test_the_news_sitemap_lists_the_last_two_days(sample, tmp_path):
    expected = sample.expected
    newest = sample.items[0]
    now = newest.published + timedelta(days=1)
    window = [e for e in sample.items if now - timedelta(days=2) <= e.published <= now]
    assert window and len(window) < len(sample.items), "the window holds some items, not all"
    rows = news_sitemap_at(sample, tmp_path, now)
    assert [r["loc"] for r in rows] == [expected.absolute(expected.url(e)) for e in window]
    for row, entry in zip(rows, window, strict=True):
        assert row["name"] == expected.site_title[entry.lang]
        assert row["language"] == entry.lang
        assert W3C_DATETIME.match(row["date"]), row["date"]
        assert datetime.fromisoformat(row["date"]) == entry.published
        assert row["title"] == entry.title


@pytest.mark.parametrize(
    ("after", "listed"), [(timedelta(days=2), True), (timedelta(days=2, seconds=1), False), (timedelta(0), True)]
)
def test_the_news_window_is_two_days_to_the_second(sample, tmp_path, after, listed):
    newest = sample.items[0]
    rows = news_sitemap_at(sample, tmp_path, newest.published + after)
    assert (sample.expected.absolute(sample.expected.url(newest)) in [r["loc"] for r in rows]) is listed


def test_an_old_site_has_no_news_sitemap(sample):
    """An empty <urlset> is invalid (sitemaps.org requires a <url>): without news there is no news sitemap."""
    assert not (sample.out / "news-sitemap.xml").exists()
    assert "news-sitemap" not in (sample.out / "sitemap.xml").read_text(encoding="utf-8")


def test_names_and_titles_not_translated_are_warned_about_and_marked_as_english(tmp_path):
    content = copy_fixture(tmp_path / "content")
    officials = content / "officials.yaml"
    officials.write_text(
        officials.read_text(encoding="utf-8")
        .replace("{en: Ivan Orlov, ru: Иван Орлов}", "{en: Ivan Orlov}")
        .replace('["I. Orlov"]', '["I. Orlov", "Иван Орлов"]'),
        encoding="utf-8",
    )
    (content / "beta" / "_index.ru.md").unlink()
    report = build_into(content, tmp_path / "out")

    line = next(
        n for n, text in enumerate(officials.read_text(encoding="utf-8").splitlines(), 1) if "{en: Ivan Orlov}" in text
    )
    assert [str(w) for w in report.warnings if "Ivan Orlov" in w.message or "_index" in w.message] == [
        f"{content / 'beta' / '_index.md'}: warning: the section has no _index.ru.md: its Russian pages show the "
        f'English title "Beta" (create {content / "beta" / "_index.ru.md"} with `title:` and `description:` lines '
        "in Russian)",
        f"{officials}:{line}: warning: `name` has no Russian text: the Russian pages show the English "
        '"Ivan Orlov" (add `ru: ...` beside `en:`)',
    ]
    out = tmp_path / "out"
    item = (out / "ru/news/2024/05/20/joint-statement/index.html").read_text(encoding="utf-8")
    assert 'data-pagefind-filter="official" lang="en">Ivan Orlov</a>' in item
    assert 'data-pagefind-filter="official">Анна Петрова</a>' in item
    assert 'data-pagefind-meta="section, section_url[href]" lang="en">Beta</a>' in item
    assert '<span lang="en">Beta</span></a>' in item
    assert '<a href="/ru/sections/beta/" lang="en">Beta</a>' in (out / "ru/index.html").read_text(encoding="utf-8")
    assert '<h1 lang="en">Beta</h1>' in (out / "ru/sections/beta/index.html").read_text(encoding="utf-8")
    assert '<h1 lang="en">Ivan Orlov</h1>' in (out / "ru/officials/ivan-orlov/index.html").read_text(encoding="utf-8")
    listing = (out / "ru/officials/index.html").read_text(encoding="utf-8")
    assert '<a href="/ru/officials/ivan-orlov/" lang="en">Ivan Orlov</a>' in listing
    english = (out / "news/2024/05/20/joint-statement/index.html").read_text(encoding="utf-8")
    assert 'lang="en"' not in english.split("<main", 1)[1]  # on English pages nothing is marked


def test_officials_are_listed_in_russian_alphabetical_order_and_the_search_filter_follows_it(tmp_path):
    content = copy_fixture(tmp_path / "content")
    names = {
        "john-smith": "{en: John Smith, ru: John Smith}",
        "edgor-yokubov": "{en: Edgor Yokubov, ru: Ёдгор Ёкубов}",
        "evgeny-zhukov": "{en: Evgeny Zhukov, ru: Евгений Жуков}",
        "yury-yakovlev": "{en: Yury Yakovlev, ru: Юрий Яковлев}",
        "elena-ershova": "{en: Elena Ershova, ru: Елена Ершова}",
    }
    officials = content / "officials.yaml"
    entries = "".join(f"\n{key}: {{name: {name}}}\n" for key, name in names.items())
    officials.write_text(officials.read_text(encoding="utf-8") + entries, encoding="utf-8")
    item = content / "beta/2024/only-ru.ru.md"
    text = item.read_text(encoding="utf-8")
    item.write_text(text.replace("officials: [", f"officials: [{', '.join(names)}, ", 1), encoding="utf-8")
    build_into(content, tmp_path / "out")

    listing = (tmp_path / "out/ru/officials/index.html").read_text(encoding="utf-8")
    shown = re.findall(r'<a href="/ru/officials/[^/]+/"[^>]*>([^<]+)</a>', listing)
    expected = ["Анна Петрова", "Евгений Жуков", "Ёдгор Ёкубов", "Елена Ершова", "Иван Орлов", "Юрий Яковлев"]
    expected.append("John Smith")  # Latin after Cyrillic in the Russian edition
    assert shown == expected
    search = (tmp_path / "out/ru/search/index.html").read_text(encoding="utf-8")
    order = json.loads(re.search(r"data-order='([^']*)'", search).group(1))
    assert [name for name in order["official"] if name in shown] == expected


def test_the_any_choice_of_every_russian_search_filter_agrees_with_its_label(mini_site):
    page = (mini_site / "ru/search/index.html").read_text(encoding="utf-8")
    chosen = re.findall(r'<label for="search-\w+">([^<]+)</label>\s*<select[^>]*>\s*<option value="">([^<]+)<', page)
    # One word for the section, the year, the official and the organization: «Все» agrees with each.
    assert chosen == [("Раздел", "Все"), ("Год", "Все"), ("Официальное лицо", "Все"), ("Организация", "Все")]
