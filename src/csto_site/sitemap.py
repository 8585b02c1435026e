"""Sitemaps and robots.txt for crawlers: pure functions of the pages and items."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import Protocol, TypeVar

from .model import Item
from .urls import NEWS_SITEMAP, SITEMAP, SITEMAP_PAGES, Urls, sitemap_part, sitemap_url

NEWS_WINDOW = timedelta(days=2)


def escape(text: str) -> str:
    """Escape text for an XML element (xml.sax.saxutils would import urllib.request: 25 ms per build)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def quoteattr(text: str) -> str:
    """Quote and escape text for an XML attribute value."""
    escaped = escape(text).replace('"', "&quot;").replace("\n", "&#10;").replace("\r", "&#13;").replace("\t", "&#9;")
    return f'"{escaped}"'


class Alternate(Protocol):
    """A language version of a page, as the sitemap names it."""

    @property
    def lang(self) -> str: ...

    @property
    def absolute(self) -> str: ...


class Listed(Protocol):
    """A page as the sitemap sees it."""

    @property
    def url(self) -> str: ...

    @property
    def in_sitemap(self) -> bool: ...

    @property
    def alternates(self) -> Sequence[Alternate]: ...


P = TypeVar("P", bound=Listed)


def sitemap_parts(pages: Iterable[P]) -> dict[str, list[P]]:
    """Group the pages a sitemap lists: the other pages first, then one group per year, newest first.

    One file per year keeps each under the protocol's 50,000 addresses, and a new item changes only
    the sitemap of its year.
    """
    parts: dict[str, list[P]] = {}
    for page in pages:
        if page.in_sitemap:
            parts.setdefault(sitemap_part(page.url), []).append(page)
    order = sorted(parts, key=lambda part: (part != SITEMAP_PAGES, -int(part) if part.isdigit() else 0))
    return {part: parts[part] for part in order}


def render_sitemap_index(parts: Iterable[str], urls: Urls) -> bytes:
    """Name every sitemap of the site (sitemap index 0.9)."""
    lines = ['<?xml version="1.0" encoding="UTF-8"?>',
             '<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">']
    lines += [f"  <sitemap><loc>{escape(urls.absolute(sitemap_url(part)))}</loc></sitemap>" for part in parts]
    lines.append("</sitemapindex>")
    return ("\n".join(lines) + "\n").encode()


def render_sitemap(pages: Iterable[Listed], urls: Urls) -> bytes:
    """List pages with their language alternates (sitemap 0.9 + xhtml:link)."""
    lines = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" '
        'xmlns:xhtml="http://www.w3.org/1999/xhtml">',
    ]
    for page in pages:
        if not page.in_sitemap:
            continue
        lines.append(f"  <url><loc>{escape(urls.absolute(page.url))}</loc>")
        if len(page.alternates) > 1:
            for alt in page.alternates:
                lines.append(f'    <xhtml:link rel="alternate" hreflang="{alt.lang}" href={quoteattr(alt.absolute)}/>')
        lines.append("  </url>")
    lines.append("</urlset>")
    return ("\n".join(lines) + "\n").encode()


def render_news_sitemap(items: Iterable[Item], urls: Urls, publication: dict[str, str],
                        now: datetime) -> bytes:
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


def render_robots(urls: Urls) -> bytes:
    """Allow everything and point crawlers at both sitemaps."""
    return (
        "User-agent: *\nAllow: /\n\n"
        f"Sitemap: {urls.absolute(SITEMAP)}\nSitemap: {urls.absolute(NEWS_SITEMAP)}\n"
    ).encode()
