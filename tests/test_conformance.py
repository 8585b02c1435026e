"""Feeds and sitemaps as the standard tools see them.

The sitemaps are validated with xmllint against the official schemas, strict as published (sitemaps.org's
sitemap and sitemap index XSDs, Google's news extension, XHTML for the alternates: tests/schemas/), on
the sample site and a generated archive of a few hundred items, and by sitemap-verify's Google profile;
every feed is held to the RSS Advisory Board's profile rules; newsboat, a real feed reader, reloads every
feed over HTTP into its cache; LinkChecker crawls the served site and finds no broken link or missing anchor.
"""

from __future__ import annotations

import csv
import json
import re
import sqlite3
import subprocess
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from datetime import timedelta
from email.utils import parsedate_to_datetime
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from helpers.links import page_path
from helpers.served import ServedSite, served_site
from helpers.site import NOW, SAMPLE, build_into, copy_fixture, sitemap_files, sitemap_urls
from helpers.tools import require_tool

ATOM = "{http://www.w3.org/2005/Atom}"
RFC_822 = re.compile(
    r"^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d{2} (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) "
    r"\d{4} \d{2}:\d{2}:\d{2} [+-]\d{4}$"
)
URL_IN_MARKUP = re.compile(r"""\b(?:href|src)\s*=\s*["']([^"']*)["']""", re.IGNORECASE)
TOOL_TIMEOUT = 300
SCHEMAS = Path(__file__).parent / "schemas"  # the official sitemap schemas, where they come from: README.md there
NEWS_NS = "http://www.google.com/schemas/sitemap-news/0.9"
NEWS_WITHOUT_TITLE = (
    "<url><loc>https://example.org/news/a/</loc><news:news><news:publication><news:name>CSTO</news:name>"
    "<news:language>en</news:language></news:publication><news:publication_date>2024-07-25"
    "</news:publication_date></news:news></url>"
)


# -- fixtures ------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServedSite]:
    """The sample site, built for and served at an address on 127.0.0.1."""
    with served_site(tmp_path_factory.mktemp("served")) as site:
        yield site


@pytest.fixture(scope="module")
def news_day(tmp_path_factory: pytest.TempPathFactory, sample) -> Path:
    """The sample site built a day after its newest item, so the news sitemap lists items."""
    work = tmp_path_factory.mktemp("news-day")
    out = work / "public"
    build_into(copy_fixture(work / "content", SAMPLE), out, sample.items[0].published + timedelta(days=1))
    return out


def sitemaps(out: Path, base_url: str) -> list[Path]:
    """Return every sitemap of a built site that lists pages: those the index names, and the news sitemap."""
    return [*sitemap_files(out, base_url), out / "news-sitemap.xml"]


def run(args: list[str], cwd: Path | None = None, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    """Run a tool and capture its output as text."""
    return subprocess.run(args, capture_output=True, text=True, timeout=TOOL_TIMEOUT, cwd=cwd, env=env, check=False)


# -- sitemaps --------------------------------------------------------------------------------------------------


def xmllint_schema(files_: list[Path], xsd: str = "sitemaps.xsd") -> subprocess.CompletedProcess:
    """Validate XML files with xmllint, offline, against one of the official schemas in tests/schemas/."""
    xmllint = require_tool("xmllint", "xmllint not installed: apt-get install libxml2-utils")
    return run([xmllint, "--noout", "--nonet", "--schema", str(SCHEMAS / xsd), *map(str, files_)])


@pytest.mark.parametrize("name", ["mini", "sample", "archive"])
def test_sitemaps_validate_against_the_official_schemas(name, request):
    site = request.getfixturevalue(name)
    checked = sitemap_files(site.out, site.expected.base_url)
    assert len(checked) > 1
    result = xmllint_schema(checked)
    assert result.returncode == 0, result.stderr
    assert result.stderr.count(" validates") == len(checked), result.stderr


def test_the_news_sitemap_validates_against_the_official_schemas(news_day):
    result = xmllint_schema([news_day / "news-sitemap.xml"])
    assert result.returncode == 0, result.stderr
    assert " validates" in result.stderr


@pytest.mark.parametrize("name", ["mini", "sample", "archive"])
def test_the_sitemap_index_validates_against_the_sitemap_index_xsd(name, request):
    result = xmllint_schema([request.getfixturevalue(name).out / "sitemap.xml"], "siteindex.xsd")
    assert result.returncode == 0, result.stderr
    assert " validates" in result.stderr


@pytest.mark.parametrize(
    ("what", "urlset"),
    [
        ("a <url> without <loc>", "<url><lastmod>2024-07-25</lastmod></url>"),
        ("an empty <urlset>", ""),
        ("an xhtml:link with an unknown attribute", '<url><loc>https://example.org/</loc><xhtml:link hraf="x"/></url>'),
        ("a date that is not W3C's", "<url><loc>https://example.org/</loc><lastmod>25.07.2024</lastmod></url>"),
        ("a news entry without its title", NEWS_WITHOUT_TITLE),
    ],
)
def test_the_xsd_check_rejects_a_broken_sitemap(tmp_path, what, urlset):
    """Guard: the schemas are the strict ones, so a pass above means something."""
    broken = tmp_path / "sitemap.xml"
    broken.write_text(
        '<?xml version="1.0" encoding="UTF-8"?>\n<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"'
        f' xmlns:xhtml="http://www.w3.org/1999/xhtml" xmlns:news="{NEWS_NS}">{urlset}</urlset>\n',
        encoding="utf-8",
    )
    result = xmllint_schema([broken])
    assert result.returncode != 0, what
    assert "Schemas validity error" in result.stderr, what  # the document, not the schema, failed


def sitemap_verify(sitemap: Path, work: Path) -> dict:
    """Run `sitemap-verify check --engine google` offline and return its JSON report."""
    tool = require_tool("sitemap-verify", "sitemap-verify not installed: pip install -e '.[test]'")
    report = work / f"{sitemap.stem}.json"
    result = run(
        [
            tool,
            "check",
            str(sitemap),
            "--mode",
            "path",
            "--engine",
            "google",
            "--no-check-reachability",
            "--no-show-progress",
            "--format",
            "json",
            "--output",
            str(report),
            "--store",
            str(work / f"{sitemap.stem}.sqlite3"),
        ],
        cwd=work,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return json.loads(report.read_text(encoding="utf-8"))


def test_sitemap_verify_finds_no_error_in_any_sitemap(news_day, sample, tmp_path):
    for sitemap in sitemaps(news_day, sample.expected.base_url):
        report = sitemap_verify(sitemap, tmp_path)
        errors = [d for d in report["diagnostics"] if d["level"] == "error"]
        assert errors == [], sitemap.name
        assert report["summary"]["urls_discovered"] == len(ET.parse(sitemap).getroot()) > 0, sitemap.name


def test_the_sitemap_lists_every_content_page_once_and_nothing_else(site):
    """Homes, archives, sections, officials, organizations and items are listed; 404 and the like are not."""
    ns = {"sm": "http://www.sitemaps.org/schemas/sitemap/0.9"}
    locs = [url.findtext("sm:loc", namespaces=ns) for url in sitemap_urls(site.out, site.expected.base_url)]
    assert len(locs) == len(set(locs))
    pages = {page_path(site.out, p) for p in site.out.rglob("index.html")}
    assert {urlsplit(loc).path for loc in locs} <= pages
    homes = {site.expected.prefix(lang) + "/" for lang in site.expected.languages}
    content = {p for p in pages if p in homes or re.match(r"^(/\w+)?/(news|sections|officials|organizations)/", p)}
    assert content - {urlsplit(loc).path for loc in locs} == set()
    assert {site.expected.url(e) for e in site.items} <= content


# -- feeds: the RSS profile ------------------------------------------------------------------------------------


def is_absolute(url: str | None) -> bool:
    """Tell whether a URL is absolute: http(s) with a host."""
    parts = urlsplit(url or "")
    return parts.scheme in ("http", "https") and bool(parts.netloc)


def rss_profile_problems(data: bytes, feed_url: str) -> list[str]:
    """Return the RSS profile rules a feed breaks; empty when it keeps them all."""
    try:
        root = ET.fromstring(data)
    except ET.ParseError as exc:
        return [f"not well-formed XML: {exc}"]
    problems = []
    channel = root.find("channel")
    if root.tag != "rss" or root.get("version") != "2.0" or channel is None:
        return ["not an RSS 2.0 document with a <channel>"]
    for name in ("title", "link", "description"):
        if not (channel.findtext(name) or "").strip():
            problems.append(f"channel has no <{name}>")
    if channel.findtext("link") == feed_url:
        problems.append("channel <link> is the feed itself, not the web page it describes")
    selves = [a.get("href") for a in channel.findall(f"{ATOM}link") if a.get("rel") == "self"]
    if selves != [feed_url]:
        problems.append(f"atom:link rel=self is {selves}, not [{feed_url!r}]")
    # The RSS Advisory Board's profile: the self link says what it links to.
    kinds = [a.get("type") for a in channel.findall(f"{ATOM}link") if a.get("rel") == "self"]
    if kinds != ["application/rss+xml"]:
        problems.append(f"atom:link rel=self has the type {kinds}, not application/rss+xml")
    dates = [("channel lastBuildDate", channel.findtext("lastBuildDate"))]
    urls = [("channel link", channel.findtext("link")), ("docs", channel.findtext("docs"))]
    urls += [("atom:link", a.get("href")) for a in channel.findall(f"{ATOM}link")]
    items = channel.findall("item")
    for n, item in enumerate(items, 1):
        where = f"item {n}"
        for name in ("title", "link", "guid", "pubDate"):
            if not (item.findtext(name) or "").strip():
                problems.append(f"{where} has no <{name}>")
        guid = item.find("guid")
        if guid is not None and guid.get("isPermaLink", "true") == "true":
            urls.append((f"{where} guid", guid.text))
        dates.append((f"{where} pubDate", item.findtext("pubDate")))
        urls += [(f"{where} link", item.findtext("link"))]
        urls += [(f"{where} category domain", c.get("domain")) for c in item.findall("category") if c.get("domain")]
        urls += [(f"{where} enclosure", e.get("url")) for e in item.findall("enclosure")]
        urls += [(f"{where} description", u) for u in URL_IN_MARKUP.findall(item.findtext("description") or "")]
    for what, value in dates:
        if value is not None and not RFC_822.match(value):
            problems.append(f"{what} {value!r} is not an RFC 822 date with a four-digit year")
        elif value is not None and parsedate_to_datetime(value).tzinfo is None:
            problems.append(f"{what} {value!r} has no time zone")
    problems += [f"{what} {url!r} is not an absolute URL" for what, url in urls if url and not is_absolute(url)]
    return problems


def feed_files(out: Path) -> list[Path]:
    """Return every feed of a built site."""
    return sorted(out.rglob("rss.xml"))


def test_every_feed_keeps_the_rss_profile(site):
    feeds = feed_files(site.out)
    assert len(feeds) == len(site.expected.listings(NOW))
    for feed in feeds:
        url = site.expected.absolute(page_path(site.out, feed))
        assert rss_profile_problems(feed.read_bytes(), url) == [], feed.relative_to(site.out).as_posix()


def test_the_rss_profile_check_catches_broken_feeds():
    """Guard: each rule of the checker can fail."""
    url = "https://example.org/news/rss.xml"
    good = (
        '<rss version="2.0" xmlns:atom="http://www.w3.org/2005/Atom"><channel><title>T</title>'
        "<link>https://example.org/news/</link><description>D</description>"
        f'<atom:link href="{url}" rel="self" type="application/rss+xml"/><item><title>A</title><link>https://example.org/a/</link>'
        "<guid>https://example.org/a/</guid><pubDate>Thu, 25 Jul 2024 14:00:00 +0300</pubDate></item>"
        "</channel></rss>"
    )
    assert rss_profile_problems(good.encode(), url) == []
    broken = {
        "<title>A</title>": "",
        "2024 14:00": "24 14:00",
        "<link>https://example.org/a/</link>": "<link>/a/</link>",
        "<link>https://example.org/news/</link>": f"<link>{url}</link>",
        f'href="{url}"': 'href="/news/rss.xml"',
        ' type="application/rss+xml"': "",
        "</channel>": "",
    }
    for old, new in broken.items():
        assert rss_profile_problems(good.replace(old, new).encode(), url), f"{old!r} -> {new!r} passed"


# -- newsboat --------------------------------------------------------------------------------------------------


def newsboat_reload(feed_urls: list[str], work: Path) -> sqlite3.Connection:
    """Let newsboat fetch the feeds into a fresh cache; return the cache (SQLite)."""
    newsboat = require_tool("newsboat", "newsboat not installed: apt-get install newsboat")
    work.mkdir()
    (work / "urls").write_text("".join(f"{url}\n" for url in feed_urls), encoding="utf-8")
    (work / "config").write_text("reload-threads 4\n", encoding="utf-8")
    cache = work / "cache.db"
    env = {
        "HOME": str(work),
        "XDG_CONFIG_HOME": str(work / "config.d"),
        "XDG_DATA_HOME": str(work / "data.d"),
        "PATH": "/usr/bin:/bin",
        "LANG": "C.UTF-8",
    }
    result = run(
        [newsboat, "-u", str(work / "urls"), "-c", str(cache), "-C", str(work / "config"), "-x", "reload"],
        cwd=work,
        env=env,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return sqlite3.connect(cache)


def test_newsboat_stores_every_item_with_its_title_link_and_date(served, tmp_path):
    expected = served.expected
    listings = expected.listings(NOW)
    feed_urls = [served.url(expected.listing_path(*listing) + "rss.xml") for listing in listings]
    db = newsboat_reload(feed_urls, tmp_path / "newsboat")
    feeds = {row[0]: row[1:] for row in db.execute("SELECT rssurl, url, title FROM rss_feed")}
    items = {row[0]: row[1:] for row in db.execute("SELECT guid, title, url, pubDate FROM rss_item")}
    wanted_items = {}
    for listing, feed_url in zip(listings, feed_urls, strict=True):
        page = served.url(expected.listing_path(*listing))
        channel = ET.parse(served.out / urlsplit(feed_url).path.lstrip("/")).getroot().find("channel")
        assert feeds.get(feed_url) == (page, channel.findtext("title")), feed_url
        for entry in expected.listing(NOW, *listing)[: expected.feed_length]:
            url = served.url(expected.url(entry))
            wanted_items[url] = (entry.title, url, int(entry.published.timestamp()))
    assert wanted_items, "the sample feeds have items"
    assert items == wanted_items


# -- LinkChecker -----------------------------------------------------------------------------------------------

LINKCHECKER_CONFIG = """\
[checking]
# The test server answers with a `LinkChecker` header, which lets this rate apply to it.
maxrequestspersecond=1000
threads=4
[filtering]
checkextern=0
[AnchorCheck]
"""


def linkchecker(start: str, origin: str, work: Path) -> list[dict[str, str]]:
    """Crawl the site from `start` with LinkChecker (pages, CSS, sitemaps, anchors); return every URL's row."""
    tool = require_tool("linkchecker", "LinkChecker not installed: pip install -e '.[test]'")
    work.mkdir()
    config = work / "linkcheckerrc"
    config.write_text(LINKCHECKER_CONFIG, encoding="utf-8")
    # Anything not on the test server is only syntax-checked: the test never leaves this machine.
    result = run(
        [
            tool,
            "--no-status",
            "--verbose",
            "--config",
            str(config),
            "--output",
            "csv/utf-8",
            "--ignore-url",
            f"^(?!{re.escape(origin)}/)",
            start,
        ],
        cwd=work,
        env={"HOME": str(work), "PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"},
    )
    rows = [line for line in result.stdout.splitlines() if line and not line.startswith("#")]
    checked = list(csv.DictReader(rows, delimiter=";"))
    assert result.returncode in (0, 1), result.stderr
    return checked


def test_linkchecker_finds_no_broken_link(served, tmp_path):
    rows = linkchecker(served.url("/"), served.origin, tmp_path / "linkchecker")
    broken = [
        f"{r['parentname']}:{r['line']}: {r['urlname']} -> {r['result']} {r['warningstring']}".strip()
        for r in rows
        if r["valid"] != "True" or r["warningstring"]
    ]
    assert broken == []
    reached = {r["url"].split("#")[0] for r in rows}
    pages = {served.url(page_path(served.out, p)) for p in served.out.rglob("index.html")}
    assert pages - reached == set(), "LinkChecker did not reach every page"
    parents = {r["parentname"] for r in rows}
    assert {served.url("/sitemap.xml"), served.url("/news-sitemap.xml")} & parents, "sitemaps were not crawled"
