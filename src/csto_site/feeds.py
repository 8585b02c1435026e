"""RSS 2.0 feeds, written with feedgen."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from html import escape

from .model import Item
from .urls import GENERATOR, Urls
from .views import FeedSpec

# feedgen stamps the clock into a feed without a date; an empty feed gets this fixed one instead.
EMPTY_FEED_DATE = datetime(1970, 1, 1, tzinfo=UTC)


def render_feed(spec: FeedSpec, urls: Urls, categories: Callable[[Item], tuple[tuple[str, str], ...]]) -> bytes:
    """Render one RSS 2.0 feed: absolute links, permalink guids, one category per taxonomy."""
    # Imported here, with lxml: a build that renders no feed (a body edited past its summary) does not load them.
    from feedgen.feed import FeedGenerator

    fg = FeedGenerator()
    fg.title(spec.title)
    # feedgen writes the last link given as the channel <link>: the page the feed describes comes last.
    fg.link(href=urls.absolute(spec.url), rel="self")
    fg.link(href=urls.absolute(spec.page_url), rel="alternate")
    # Feed readers read the channel's <description> as HTML too (titles and categories are plain text).
    fg.description(escape(spec.description))
    fg.language(spec.lang)
    fg.generator(GENERATOR)
    fg.docs("https://www.rssboard.org/rss-specification")
    # The newest item's time, not the clock: same content, same bytes.
    fg.lastBuildDate(max((i.updated or i.published for i in spec.items), default=EMPTY_FEED_DATE))
    for item in reversed(spec.items):
        entry = fg.add_entry()
        link = urls.absolute(urls.item(item))
        entry.title(item.title)
        entry.link(href=link)
        entry.guid(link, permalink=True)
        entry.pubDate(item.published)
        # Feed readers read <description> as HTML; the summary is plain text.
        entry.description(escape(item.summary or item.title))
        # All at once: feedgen rebuilds an entry's whole category list on every call.
        entry.category([{"term": name, "scheme": domain} for name, domain in categories(item)])
    return fg.rss_str(pretty=True)
