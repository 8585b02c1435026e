"""Sitemaps, the news sitemap and robots.txt for crawlers, declared from the other outputs and the site."""

from __future__ import annotations

import functools
from collections.abc import Iterable, Sequence
from datetime import datetime

from ..content.model import Item
from ..site.queries import NEWS_WINDOW, Queries
from ..site.urls import NEWS_SITEMAP, ROBOTS, SITEMAP, UNDATED, Urls, output_path, sitemap_url
from .spec import Declared, Partition, Spec, later


def escape(text: str) -> str:
    """Escape text for an XML element (xml.sax.saxutils would import urllib.request: 25 ms per build)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def quoteattr(text: str) -> str:
    """Quote and escape text for an XML attribute value."""
    escaped = escape(text).replace('"', "&quot;").replace("\n", "&#10;").replace("\r", "&#13;").replace("\t", "&#9;")
    return f'"{escaped}"'


def _urls(q: Queries) -> Urls:
    """Return the URL rules of the site."""
    return Urls(q.config.default_language, q.config.base_url)


def ordered_sitemaps(names: Iterable[str]) -> list[str]:
    """Order the sitemaps: the undated pages first, then one per year, newest first."""
    return sorted(names, key=lambda name: (name != UNDATED, -int(name) if name.isdigit() else 0, name))


class Sitemaps:
    """One sitemap per year and one for the undated pages, and the index naming them all.

    One file per year keeps each far below the protocol's 50,000 addresses, and a new item changes
    only the sitemap of its year.
    """

    name = "sitemap"

    def partitions(self, q: Queries, declared: Declared) -> Iterable[Partition]:
        """One partition per sitemap, then the index."""
        return [
            *(Partition(self.name, (name,)) for name in ordered_sitemaps(declared.sitemaps())),
            Partition(self.name, ()),
        ]

    def specs(self, q: Queries, declared: Declared, part: Partition) -> Iterable[Spec]:
        """Describe one sitemap, or the index."""
        url = sitemap_url(part.args[0]) if part.args else SITEMAP
        return [Spec(output_path(url), url, q.config.default_language, url, part.args, source="sitemap")]

    def draw(self, q: Queries, declared: Declared, spec: Spec) -> bytes:
        """List the pages of one sitemap with their language versions, or name every sitemap in the index."""
        urls = _urls(q)
        sitemaps = declared.sitemaps()
        if not spec.args:
            names = ordered_sitemaps(sitemaps)
            return render_sitemap_index([(name, latest(declared, sitemaps, name)) for name in names], urls)
        return render_sitemap(listed(q, declared, sitemaps, spec.args[0]), urls, q.config.default_language)


def listed(q: Queries, declared: Declared, sitemaps: dict[str, list[Partition]], name: str) -> list[Spec]:
    """Return the pages one sitemap lists: by language, then in catalogue order."""
    languages = {lang: i for i, lang in enumerate(q.languages)}
    found = [
        (languages[s.lang], p, i, s)
        for p, part in enumerate(sitemaps.get(name, ()))
        for i, s in enumerate(declared.listed(part, name))
    ]
    return [s for *_, s in sorted(found, key=lambda entry: entry[:3])]


def latest(declared: Declared, sitemaps: dict[str, list[Partition]], name: str) -> str:
    """Return the latest `lastmod` of the pages one sitemap lists, or "" when none has one."""
    return functools.reduce(later, (declared.lastmod(part, name) for part in sitemaps.get(name, ())), "")


class NewsSitemap:
    """The Google News sitemap: the items of the last two days.

    Written only while there are such items: the sitemaps.org schema requires a <url> in every <urlset>,
    so an empty news sitemap would be invalid. robots.txt names it only while it is written.
    """

    name = "news-sitemap"

    def partitions(self, q: Queries) -> Iterable[Partition]:
        """One partition, one file."""
        return [Partition(self.name)]

    def specs(self, q: Queries, part: Partition) -> Iterable[Spec]:
        """Describe the news sitemap, when there is news."""
        if not q.news_window():
            return []
        return [
            Spec(
                output_path(NEWS_SITEMAP), NEWS_SITEMAP, q.config.default_language, NEWS_SITEMAP, source="news sitemap"
            )
        ]

    def draw(self, q: Queries, spec: Spec) -> bytes:
        """List the items of the last two days."""
        return render_news_sitemap(q.news_window(), _urls(q), dict(q.config.title), q.now)


class Robots:
    """robots.txt: everything allowed, both sitemaps named."""

    name = "robots"

    def partitions(self, q: Queries) -> Iterable[Partition]:
        """One partition, one file."""
        return [Partition(self.name)]

    def specs(self, q: Queries, part: Partition) -> Iterable[Spec]:
        """Describe robots.txt."""
        return [Spec(output_path(ROBOTS), ROBOTS, q.config.default_language, ROBOTS, source="robots")]

    def draw(self, q: Queries, spec: Spec) -> bytes:
        """Allow everything and point crawlers at the sitemap index, and at the news sitemap while there is news."""
        urls = _urls(q)
        news = f"Sitemap: {urls.absolute(NEWS_SITEMAP)}\n" if q.news_window() else ""
        return f"User-agent: *\nAllow: /\n\nSitemap: {urls.absolute(SITEMAP)}\n{news}".encode()


def render_sitemap_index(sitemaps: Iterable[tuple[str, str]], urls: Urls) -> bytes:
    """Name every sitemap of the site with the latest `lastmod` of its pages (sitemap index 0.9)."""
    lines = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        '<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">',
    ]
    lines += [
        f"  <sitemap><loc>{escape(urls.absolute(sitemap_url(name)))}</loc>"
        + (f"<lastmod>{lastmod}</lastmod>" if lastmod else "")
        + "</sitemap>"
        for name, lastmod in sitemaps
    ]
    lines.append("</sitemapindex>")
    return ("\n".join(lines) + "\n").encode()


def render_sitemap(pages: Sequence[Spec], urls: Urls, default_language: str) -> bytes:
    """List pages with their last change and language versions (sitemap 0.9 + xhtml:link), as the pages do.

    Like a page's own hreflang links, the alternates end with x-default: the default language's version.
    """
    lines = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" xmlns:xhtml="http://www.w3.org/1999/xhtml">',
    ]
    for page in pages:
        lines.append(f"  <url><loc>{escape(urls.absolute(page.url))}</loc>")
        if page.lastmod:
            lines.append(f"    <lastmod>{page.lastmod}</lastmod>")
        if len(page.alternates) > 1:
            versions = [
                *page.alternates,
                *(("x-default", url) for lang, url in page.alternates if lang == default_language),
            ]
            for lang, url in versions:
                lines.append(
                    f'    <xhtml:link rel="alternate" hreflang="{lang}" href={quoteattr(urls.absolute(url))}/>'
                )
        lines.append("  </url>")
    lines.append("</urlset>")
    return ("\n".join(lines) + "\n").encode()


def render_news_sitemap(items: Iterable[Item], urls: Urls, publication: dict[str, str], now: datetime) -> bytes:
    """List the items of the last two days in the Google News sitemap format."""
    lines = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" '
        'xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">',
    ]
    for item in items:
        if not now - NEWS_WINDOW <= item.published <= now:
            continue
        lines += [
            f"  <url><loc>{escape(urls.absolute(urls.item(item)))}</loc>",
            "    <news:news><news:publication>"
            f"<news:name>{escape(publication[item.lang])}</news:name>"
            f"<news:language>{item.lang}</news:language></news:publication>",
            f"    <news:publication_date>{item.published.isoformat()}</news:publication_date>",
            f"    <news:title>{escape(item.title)}</news:title></news:news>",
            "  </url>",
        ]
    lines.append("</urlset>")
    return ("\n".join(lines) + "\n").encode()
