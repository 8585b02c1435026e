"""RSS 2.0 feeds of all news, each section, each official and each organization, written with feedgen."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from html import escape

from ..content.model import Item
from ..site.model import NEWS, OFFICIAL, ORGANIZATION, SECTION, Scope
from ..site.queries import Queries
from ..site.urls import GENERATOR, Urls, output_path
from .media import VariantSource, enclosure
from .spec import Partition, Spec


@dataclass(frozen=True)
class Channel:
    """One feed as a reader sees it: its address, the page it describes, its title and newest items."""

    url: str
    page_url: str
    lang: str
    title: str
    description: str
    items: tuple[Item, ...]


class Feeds:
    """One RSS feed per language of all news, of each section, each official and each organization."""

    name = "feed"

    def __init__(self, variant: VariantSource) -> None:
        self.variant = variant

    def partitions(self, q: Queries) -> Iterable[Partition]:
        """One partition per listing: all news, then each section, official and organization."""
        return [
            Partition(self.name, (NEWS, "")),
            *(Partition(self.name, (SECTION, s.id)) for s in q.sections),
            *(Partition(self.name, (OFFICIAL, o.id)) for o in q.officials),
            *(Partition(self.name, (ORGANIZATION, o.id)) for o in q.organizations),
        ]

    def specs(self, q: Queries, part: Partition) -> Iterable[Spec]:
        """Describe the listing's feed in every language it has items in (an empty feed would say nothing)."""
        urls = Urls(q.config.default_language, q.config.base_url)
        for lang in q.languages:
            scope = Scope(part.args[0], lang, part.args[1])
            if not q.has_items(scope):
                continue
            page = urls.listing(scope)
            url = urls.feed(page)
            yield Spec(output_path(url), url, lang, urls.unprefixed(lang, url), part.args, source=page)

    def draw(self, q: Queries, spec: Spec) -> bytes:
        """Render one feed."""
        urls = Urls(q.config.default_language, q.config.base_url)
        return render_feed(
            channel(q, urls, Scope(spec.args[0], spec.lang, spec.args[1])),
            urls,
            lambda item: categories(q, urls, item),
            lambda item: enclosure(urls, item, self.variant),
        )


def channel(q: Queries, urls: Urls, scope: Scope) -> Channel:
    """Describe the feed of a listing: its title, description and newest items."""
    config, lang = q.config, scope.lang
    labels = q.labels(lang)
    site_title = config.title[lang]
    if scope.kind == NEWS:
        title, description = labels["all_news"], config.description[lang] or labels["all_news"]
    elif scope.kind == SECTION:
        section = q.section(scope.id)
        title, description = section.title[lang], section.description[lang] or section.title[lang]
    elif scope.kind == OFFICIAL:
        title = description = q.official(scope.id).name[lang]
    else:
        organization = q.organization(scope.id)
        title, description = organization.short[lang], organization.name[lang]
    page = urls.listing(scope)
    return Channel(
        urls.feed(page), page, lang, f"{site_title}: {title}", str(description), q.latest(scope, config.feed_length)
    )


def categories(q: Queries, urls: Urls, item: Item) -> tuple[tuple[str, str], ...]:
    """Return (name, absolute URL) of the section, officials and organizations of an item."""
    lang = item.lang
    section = q.section(item.section)
    return (
        (section.title[lang], urls.absolute(urls.section(lang, section.id))),
        *((o.name[lang], urls.absolute(urls.official(lang, o.id))) for o in q.officials_of(item)),
        *((o.short[lang], urls.absolute(urls.organization(lang, o.id))) for o in q.organizations_of(item)),
    )


def render_feed(
    feed: Channel,
    urls: Urls,
    categories_of: Callable[[Item], Sequence[tuple[str, str]]],
    enclosure_of: Callable[[Item], tuple[str, int, str] | None] = lambda item: None,
) -> bytes:
    """Render one RSS 2.0 feed: absolute links, permalink guids, one category per taxonomy, the lead photo."""
    # Imported here, with lxml: a build that renders no feed (a body edited past its summary) does not load them.
    from feedgen.feed import FeedGenerator

    fg = FeedGenerator()
    fg.title(feed.title)
    # feedgen writes the last link given as the channel <link>: the page the feed describes comes last.
    fg.link(href=urls.absolute(feed.url), rel="self", type="application/rss+xml")
    fg.link(href=urls.absolute(feed.page_url), rel="alternate")
    # Feed readers read the channel's <description> as HTML too (titles and categories are plain text).
    fg.description(escape(feed.description))
    fg.language(feed.lang)
    fg.generator(GENERATOR)
    fg.docs("https://www.rssboard.org/rss-specification")
    # The newest item's time, not the clock: same content, same bytes. A feed has items (see Feeds.specs).
    fg.lastBuildDate(max(i.updated or i.published for i in feed.items))
    for item in reversed(feed.items):
        entry = fg.add_entry()
        link = urls.absolute(urls.item(item))
        entry.title(item.title)
        entry.link(href=link)
        entry.guid(link, permalink=True)
        entry.pubDate(item.published)
        # Feed readers read <description> as HTML; the summary is plain text.
        entry.description(escape(item.summary or item.title))
        # All at once: feedgen rebuilds an entry's whole category list on every call.
        entry.category([{"term": name, "scheme": domain} for name, domain in categories_of(item)])
        if photo := enclosure_of(item):
            entry.enclosure(*(str(v) for v in photo))
    rss: bytes = fg.rss_str(pretty=True)
    return rss
