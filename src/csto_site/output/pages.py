"""The HTML pages of the site, one producer per kind: what each page shows, read through recorded queries."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import replace
from datetime import date, datetime
from functools import partial

from ..content.model import Item, Official, Organization
from ..content.scripts import collation_key
from ..site.model import NEWS, OFFICIAL, ORGANIZATION, SECTION, Scope
from ..site.queries import Queries
from ..site.urls import SEARCH_BUNDLE, UNDATED, Urls, output_path
from .media import documents, gallery, image_data, lead, with_file_links, with_pictures
from .render import Renderer
from .spec import Partition, Spec
from .views import Change, Kit, Link, Page, TeaserGroup, entry_name


def _alternates(kit: Kit, url_of: dict[str, str]) -> tuple[tuple[str, str], ...]:
    """List a page's language versions in the site's language order."""
    return tuple((lang, url_of[lang]) for lang in kit.config.languages if lang in url_of)


def _spec(
    kit: Kit,
    url: str,
    lang: str,
    url_of: dict[str, str],
    sitemap: str,
    source: str,
    args: tuple[str, ...] = (),
    key: str = "",
    lastmod: datetime | None = None,
) -> Spec:
    """Describe one page."""
    return Spec(
        output_path(url),
        url,
        lang,
        key or kit.urls.unprefixed(lang, url),
        args,
        _alternates(kit, url_of),
        sitemap,
        source,
        lastmod.isoformat() if lastmod is not None else "",
    )


class _Pages:
    """What every page producer shares: drawing a described page through its template."""

    name = ""
    template = ""

    def __init__(self, renderer: Renderer) -> None:
        self.renderer = renderer

    def draw(self, q: Queries, spec: Spec) -> bytes:
        """Build the page a spec describes, give it its language versions, and render it."""
        kit = Kit(q)
        page = self.page(kit, spec)
        alternates, switch = kit.versions(spec.alternates)
        return self.renderer.render(
            q, replace(page, alternates=alternates, switch=switch, in_sitemap=bool(spec.sitemap))
        )

    def page(self, kit: Kit, spec: Spec) -> Page:
        """Build the page a spec describes (without its language versions)."""
        raise NotImplementedError

    def every_language(
        self,
        q: Queries,
        url_of: dict[str, str],
        sitemap: str,
        args: tuple[str, ...] = (),
        listing: Callable[[str], Scope] | None = None,
    ) -> Iterator[Spec]:
        """Describe one page in each language of `url_of`; it last changed with its `listing`'s items."""
        kit = Kit(q)
        for lang, url in url_of.items():
            lastmod = q.last_change(listing(lang)) if listing is not None and sitemap else None
            yield _spec(kit, url, lang, url_of, sitemap, self.template, args, lastmod=lastmod)


class _EachLanguage(_Pages):
    """A page each language has one of (home, all news, search, 404): one partition holds them all.

    Listed in a sitemap (`sitemap`), such a page last changed with its language's news.
    """

    sitemap = ""

    def address(self, urls: Urls, lang: str) -> str:
        """Return the page's address in a language."""
        raise NotImplementedError

    def partitions(self, q: Queries) -> Iterable[Partition]:
        """One partition: the page in every language."""
        return [Partition(self.name)]

    def specs(self, q: Queries, part: Partition) -> Iterable[Spec]:
        """Describe the page in each language."""
        urls = Kit(q).urls
        url_of = {lang: self.address(urls, lang) for lang in q.languages}
        return self.every_language(q, url_of, self.sitemap, listing=lambda lang: Scope(NEWS, lang))


class Home(_EachLanguage):
    """The home page: newest items, sections, press contact."""

    name = "home"
    template = "home.html"
    sitemap = UNDATED

    def address(self, urls: Urls, lang: str) -> str:
        """Return a language's home page."""
        return urls.home(lang)

    def page(self, kit: Kit, spec: Spec) -> Page:
        """Build the home page of a language."""
        q, urls, lang = kit.q, kit.urls, spec.lang
        labels = kit.labels(lang)
        return kit.page(
            spec.url,
            self.template,
            lang,
            "",
            feed=news_feed_link(kit, lang),
            latest=kit.teasers(q.latest(Scope(NEWS, lang), labels["home_items"])),
            sections=tuple(
                Link(urls.section(lang, s.id), s.title[lang], s.description[lang], kit.shown_in(s, lang))
                for s in q.sections
            ),
            news=Link(urls.news(lang), labels["all_news"]),
        )


class NotFound(_EachLanguage):
    """The page a web server sends for an address the site does not have (not listed in a sitemap)."""

    name = "404"
    template = "404.html"

    def address(self, urls: Urls, lang: str) -> str:
        """Return a language's 404 page."""
        return urls.not_found(lang)

    def page(self, kit: Kit, spec: Spec) -> Page:
        """Build the 404 page of a language: served at any missing address, it has no canonical one."""
        return replace(kit.page(spec.url, self.template, spec.lang, kit.labels(spec.lang)["not_found"]), canonical="")


class SearchPage(_EachLanguage):
    """The search page, not listed in a sitemap: the form is drawn by static/search.js."""

    name = "search"
    template = "search.html"

    def address(self, urls: Urls, lang: str) -> str:
        """Return a language's search page."""
        return urls.search(lang)

    def page(self, kit: Kit, spec: Spec) -> Page:
        """Build the search page of a language."""
        q, urls, lang = kit.q, kit.urls, spec.lang
        labels = kit.labels(lang)
        return kit.page(
            spec.url,
            self.template,
            lang,
            labels["search"],
            stylesheet=urls.static(q.asset("search.css")),
            script=urls.static(q.asset("search.js")),
            bundle=SEARCH_BUNDLE,
            news=Link(urls.news(lang), labels["all_news"]),
            # The order of the filters' choices, as the pages list them (not the browser's).
            order={
                "section": [s.title[lang] for s in q.sections],
                "official": sorted((o.name[lang] for o in q.officials), key=lambda n: collation_key(n, lang)),
                "organization": sorted((o.short[lang] for o in q.organizations), key=lambda n: collation_key(n, lang)),
            },
        )


def news_feed_link(kit: Kit, lang: str) -> Link | None:
    """Link the all-news feed of a language (none without items: an empty feed is not written)."""
    if not kit.q.has_items(Scope(NEWS, lang)):
        return None
    return Link(kit.urls.feed(kit.urls.news(lang)), kit.labels(lang)["feed_all"])


def section_feed_link(kit: Kit, lang: str, section: str) -> Link | None:
    """Link a section's feed (none while the section has no item in the language)."""
    if not kit.q.has_items(Scope(SECTION, lang, section)):
        return None
    return Link(
        kit.urls.feed(kit.urls.section(lang, section)),
        f"{kit.labels(lang)['feed']}: {kit.q.section(section).title[lang]}",
    )


def year_links(kit: Kit, scope: Scope) -> tuple[Link, ...]:
    """Link every year of a listing, with its item count."""
    return tuple(
        Link(kit.urls.listing(scope.at(year)), str(year), kit.count_text(count, scope.lang))
        for year, count in kit.q.periods(scope)
    )


def month_links(kit: Kit, scope: Scope) -> tuple[Link, ...]:
    """Link every month of a listing's year, with its item count."""
    assert scope.year is not None
    return tuple(
        Link(
            kit.urls.listing(scope.at(scope.year, month)),
            kit.month_text(scope.year, month, scope.lang),
            kit.count_text(count, scope.lang),
        )
        for month, count in kit.q.periods(scope)
    )


class NewsIndex(_EachLanguage):
    """All news: the newest items and the years of the archive."""

    name = "news"
    template = "archive.html"
    sitemap = UNDATED

    def address(self, urls: Urls, lang: str) -> str:
        """Return a language's all-news page."""
        return urls.news(lang)

    def page(self, kit: Kit, spec: Spec) -> Page:
        """Build the all-news page of a language."""
        lang = spec.lang
        labels = kit.labels(lang)
        scope = Scope(NEWS, lang)
        return kit.page(
            spec.url,
            self.template,
            lang,
            labels["all_news"],
            feed=news_feed_link(kit, lang),
            groups=(TeaserGroup(labels["latest"], kit.teasers(kit.q.latest(scope, labels["listing_items"]))),),
            periods=year_links(kit, scope),
            periods_heading=labels["by_year"],
            up=None,
        )


class SectionIndex(_Pages):
    """A section's page: its newest items and the years of its archive."""

    name = "section"
    template = "archive.html"

    def partitions(self, q: Queries) -> Iterable[Partition]:
        """One partition per section."""
        return [Partition(self.name, (s.id,)) for s in q.sections]

    def specs(self, q: Queries, part: Partition) -> Iterable[Spec]:
        """Describe the section's page in every language."""
        kit = Kit(q)
        section = part.args[0]
        return self.every_language(
            q,
            {lang: kit.urls.section(lang, section) for lang in q.languages},
            UNDATED,
            part.args,
            lambda lang: Scope(SECTION, lang, section),
        )

    def page(self, kit: Kit, spec: Spec) -> Page:
        """Build a section's page in a language."""
        lang, section_id = spec.lang, spec.args[0]
        labels = kit.labels(lang)
        section = kit.q.section(section_id)
        scope = Scope(SECTION, lang, section_id)
        return kit.page(
            spec.url,
            self.template,
            lang,
            section.title[lang],
            heading_lang=kit.shown_in(section, lang),
            description=section.description[lang],
            feed=section_feed_link(kit, lang, section_id),
            groups=(TeaserGroup(labels["latest"], kit.teasers(kit.q.latest(scope, labels["listing_items"]))),),
            periods=year_links(kit, scope),
            periods_heading=labels["by_year"],
            up=Link(kit.urls.news(lang), labels["all_news"]),
        )


class _NewsYears(_Pages):
    """Pages filed by the year of all news they belong to (the archive's, the items'): a partition a year."""

    def partitions(self, q: Queries) -> Iterable[Partition]:
        """One partition per year of all news (in any language), newest first."""
        years = sorted({year for lang in q.languages for year, _ in q.periods(Scope(NEWS, lang))}, reverse=True)
        return [Partition(self.name, (str(year),)) for year in years]


class Archive(_NewsYears):
    """The dated archive of one year: all news' year, month and day pages, and each section's year and months."""

    name = "archive"
    template = "archive.html"

    def specs(self, q: Queries, part: Partition) -> Iterable[Spec]:
        """Describe the year's pages in every language: all news' first, then each section's."""
        kit = Kit(q)
        year = int(part.args[0])
        found: list[tuple[str, str, Scope]] = []  # (lang, url, dated scope)
        for lang in q.languages:
            for scope in (Scope(NEWS, lang), *(Scope(SECTION, lang, s.id) for s in q.sections)):
                if q.periods(scope.at(year)):  # the year has months with items
                    found += [(lang, kit.urls.listing(s), s) for s in self.dated(q, scope.at(year))]
        url_of: dict[str, dict[str, str]] = {}
        for lang, url, _ in found:
            url_of.setdefault(kit.urls.unprefixed(lang, url), {})[lang] = url
        return [
            _spec(
                kit,
                url,
                lang,
                url_of[kit.urls.unprefixed(lang, url)],
                str(year),
                self.template,
                _scope_args(scope),
                lastmod=q.last_change(scope),
            )
            for lang, url, scope in found
        ]

    def dated(self, q: Queries, year: Scope) -> Iterator[Scope]:
        """List a listing's dated pages of a year: the year, then each month (and for all news each day)."""
        yield year
        assert year.year is not None
        for month, _ in q.periods(year):
            yield year.at(year.year, month)
            if year.kind == NEWS:
                for day, _ in q.periods(year.at(year.year, month)):
                    yield year.at(year.year, month, day)

    def page(self, kit: Kit, spec: Spec) -> Page:
        """Build one dated archive page."""
        q, urls = kit.q, kit.urls
        scope = _scope_of(spec.lang, spec.args)
        lang = scope.lang
        labels = kit.labels(lang)
        if scope.kind == NEWS:
            up, feed = Link(urls.news(lang), labels["all_news"]), news_feed_link(kit, lang)
        else:
            up, feed = kit.section_link(scope.id, lang), section_feed_link(kit, lang, scope.id)
        name = up.text
        assert scope.year is not None
        if scope.month is None:
            return kit.page(
                spec.url,
                self.template,
                lang,
                f"{name}: {scope.year}",
                heading_lang=up.lang,
                feed=feed,
                groups=(),
                periods=month_links(kit, scope),
                periods_heading=labels["by_month"],
                up=up,
            )
        if scope.day is None:
            groups = day_groups(kit, scope)
            return kit.page(
                spec.url,
                self.template,
                lang,
                f"{name}: {kit.month_text(scope.year, scope.month, lang)}",
                feed=feed,
                groups=groups,
                periods=(),
                periods_heading="",
                up=Link(urls.listing(scope.at(scope.year)), str(scope.year)),
            )
        items = q.items(scope)
        day_text = kit.day_text(items[0].day, lang)
        return kit.page(
            spec.url,
            self.template,
            lang,
            f"{name}: {day_text}",
            feed=feed,
            groups=(TeaserGroup(day_text, kit.teasers(items)),),
            periods=(),
            periods_heading="",
            up=Link(urls.listing(scope.at(scope.year, scope.month)), kit.month_text(scope.year, scope.month, lang)),
        )


def day_groups(kit: Kit, month: Scope) -> tuple[TeaserGroup, ...]:
    """Group a month's items by day, newest first, each day headed by a link to its page of all news."""
    assert month.year is not None and month.month is not None
    year, number = month.year, month.month
    return tuple(
        TeaserGroup(
            kit.day_text(items[0].day, month.lang),
            kit.teasers(items),
            kit.urls.listing(Scope(NEWS, month.lang).at(year, number, items[0].day.day)),
        )
        for items in runs(kit.q.items(month), lambda item: item.day)
    )


def month_groups(kit: Kit, year: Scope) -> tuple[TeaserGroup, ...]:
    """Group a year's items by month, newest first."""
    assert year.year is not None
    return tuple(
        TeaserGroup(kit.month_text(items[0].day.year, items[0].day.month, year.lang), kit.teasers(items))
        for items in runs(kit.q.items(year), lambda item: item.day.month)
    )


def runs(items: tuple[Item, ...], key: Callable[[Item], object]) -> Iterator[tuple[Item, ...]]:
    """Split items into the runs of neighbours that share a key."""
    start = 0
    for index in range(1, len(items) + 1):
        if index == len(items) or key(items[index]) != key(items[start]):
            yield items[start:index]
            start = index


def month_pages(q: Queries, year: Scope) -> list[int]:
    """Return the months of an official's or organization's year that have pages: all of a long year's, else none."""
    periods = q.periods(year)
    return [month for month, _ in periods] if sum(n for _, n in periods) > YEAR_PAGE_ITEMS else []


def _scope_args(scope: Scope) -> tuple[str, ...]:
    """Write a dated listing scope as a spec's args: kind, id, year, month, day."""
    return (scope.kind, scope.id, *(str(n) for n in (scope.year, scope.month, scope.day) if n is not None))


def _scope_of(lang: str, args: Sequence[str]) -> Scope:
    """Read a dated listing scope back from a spec's args."""
    kind, ident, *numbers = args
    return Scope(kind, lang, ident, *(int(n) for n in numbers))


class RegistryIndex(_Pages):
    """The lists of all officials and of all organizations."""

    name = "registry"
    template = "registry.html"

    def partitions(self, q: Queries) -> Iterable[Partition]:
        """One partition per list."""
        return [Partition(self.name, ("officials",)), Partition(self.name, ("organizations",))]

    def specs(self, q: Queries, part: Partition) -> Iterable[Spec]:
        """Describe the list in every language."""
        kit = Kit(q)
        kind = part.args[0]
        url = kit.urls.officials if kind == "officials" else kit.urls.organizations
        for spec in self.every_language(q, {lang: url(lang) for lang in q.languages}, UNDATED, part.args):
            changes = [q.last_change(scope) for scope in _registry_scopes(q, kind, spec.lang)]
            latest = max((c for c in changes if c is not None), default=None)
            yield replace(spec, lastmod=latest.isoformat() if latest is not None else "")

    def page(self, kit: Kit, spec: Spec) -> Page:
        """Build the list of all officials or all organizations in a language: those with items in it."""
        q, lang, kind = kit.q, spec.lang, spec.args[0]
        entries: Sequence[Official | Organization] = q.officials if kind == "officials" else q.organizations
        scope_kind = OFFICIAL if kind == "officials" else ORGANIZATION
        url_of = kit.urls.official if kind == "officials" else kit.urls.organization
        counts = {e.id: q.count(Scope(scope_kind, lang, e.id)) for e in entries}
        links = tuple(
            Link(url_of(lang, e.id), entry_name(e, lang), kit.count_text(counts[e.id], lang), kit.shown_in(e, lang))
            for e in sorted(entries, key=lambda e: collation_key(entry_name(e, lang), lang))
            if counts[e.id]  # one with nothing in this language has no page in it
        )
        return kit.page(spec.url, self.template, lang, kit.labels(lang)[kind], entries=links)


def _registry_scopes(q: Queries, kind: str, lang: str) -> list[Scope]:
    """List the listings of every official (or organization) in a language."""
    if kind == "officials":
        return [Scope(OFFICIAL, lang, e.id) for e in q.officials]
    return [Scope(ORGANIZATION, lang, e.id) for e in q.organizations]


# A year of an official or organization with more items than this lists its months, each a page of its own
# (the CSTO, named by nearly every item, has thousands a year in a deep archive); a shorter year lists its items.
YEAR_PAGE_ITEMS = 100


class People(_Pages):
    """One official's or one organization's pages: the newest items and the years, a page a year.

    The first page shows the newest items and links every year; a year's page lists its items by month,
    unless it has more than YEAR_PAGE_ITEMS: then it links its months, and each month's page lists that
    month's items by day, so that no page of the CSTO, named by nearly every item, lists a year of
    thousands. A language in which they have no item has none of their pages (nor a feed): an empty page
    says nothing.
    """

    template = "taxonomy.html"

    def __init__(self, renderer: Renderer, kind: str) -> None:
        super().__init__(renderer)
        self.kind = kind
        self.name = kind

    def partitions(self, q: Queries) -> Iterable[Partition]:
        """One partition per official (or organization), in registry order."""
        entries: Sequence[Official | Organization] = q.officials if self.kind == OFFICIAL else q.organizations
        return [Partition(self.name, (e.id,)) for e in entries]

    def specs(self, q: Queries, part: Partition) -> Iterable[Spec]:
        """Describe the first page in every language, then each year's page and the months of a long year."""
        kit = Kit(q)
        ident = part.args[0]
        years = {lang: [year for year, _ in q.periods(Scope(self.kind, lang, ident))] for lang in q.languages}
        scopes = {lang: Scope(self.kind, lang, ident) for lang in q.languages if years[lang]}
        yield from self.every_language(
            q, {lang: kit.urls.listing(s) for lang, s in scopes.items()}, UNDATED, part.args, scopes.__getitem__
        )
        months = {(lang, year): month_pages(q, scopes[lang].at(year)) for lang in scopes for year in years[lang]}
        for lang in scopes:
            for year in years[lang]:
                for month in (None, *months[lang, year]):
                    url_of = {
                        other: kit.urls.listing(scopes[other].at(year, month))
                        for other in scopes
                        if (other, year) in months and month in (None, *months[other, year])
                    }
                    yield _spec(
                        kit,
                        url_of[lang],
                        lang,
                        url_of,
                        str(year),
                        self.template,
                        _scope_args(scopes[lang].at(year, month)),
                        lastmod=q.last_change(scopes[lang].at(year, month)),
                    )

    def page(self, kit: Kit, spec: Spec) -> Page:
        """Build the first page, a year's or a month's page of an official or organization in a language."""
        q, lang = kit.q, spec.lang
        labels = kit.labels(lang)
        scope = _scope_of(lang, spec.args) if len(spec.args) > 1 else Scope(self.kind, lang, spec.args[0])
        whole = scope.whole
        entry: Official | Organization
        if self.kind == OFFICIAL:
            entry = official = q.official(scope.id)
            name, feed_name, subtitle = official.name[lang], official.name[lang], ""
            roles = tuple(
                Link("", role.title[lang], period_text(kit, role.start, role.end, lang)) for role in official.roles
            )
            top = Link(kit.urls.officials(lang), labels["officials"])
        else:
            entry = organization = q.organization(scope.id)
            name, feed_name = organization.name[lang], organization.short[lang]
            subtitle = feed_name if feed_name != name else ""
            roles = ()
            top = Link(kit.urls.organizations(lang), labels["organizations"])
        shown_in = kit.shown_in(entry, lang)
        page = partial(
            kit.page,
            spec.url,
            self.template,
            lang,
            heading_lang=shown_in,
            feed=Link(kit.urls.feed(kit.urls.listing(whole)), f"{labels['feed']}: {feed_name}"),
        )
        if scope.year is None:
            periods = q.periods(scope)
            return page(
                name,
                subtitle=subtitle,
                roles=roles,
                groups=(TeaserGroup(labels["latest"], kit.teasers(q.latest(scope, labels["listing_items"]))),),
                count=kit.count_text(sum(n for _, n in periods), lang),
                periods=year_links(kit, scope),
                periods_heading=labels["by_year"],
                up=top,
            )
        up = Link(kit.urls.listing(whole), name, lang=shown_in)
        if scope.month is None:
            long = bool(month_pages(q, scope))
            return page(
                f"{name}: {scope.year}",
                subtitle="",
                roles=(),
                groups=() if long else month_groups(kit, scope),
                count=kit.count_text(q.count(scope), lang),
                periods=month_links(kit, scope) if long else (),
                periods_heading=labels["by_month"] if long else "",
                up=up,
            )
        month_text = kit.month_text(scope.year, scope.month, lang)
        return page(
            f"{name}: {month_text}",
            subtitle="",
            roles=(),
            groups=day_groups(kit, scope),
            count=kit.count_text(q.count(scope), lang),
            periods=(),
            periods_heading="",
            up=Link(kit.urls.listing(scope.at(scope.year)), str(scope.year), lang=shown_in),
        )


def period_text(kit: Kit, start: date | None, end: date | None, lang: str) -> str:
    """Format the years a role was held: 2020–2022, since 2023."""
    if start and end:
        return f"{start.year}–{end.year}" if start.year != end.year else str(start.year)
    if start:
        return f"{kit.labels(lang)['since']} {start.year}"
    return ""


class ItemPages(_NewsYears):
    """The page of each news item: text, people, translations, neighbours and the way back."""

    name = "item"
    template = "item.html"

    def specs(self, q: Queries, part: Partition) -> Iterable[Spec]:
        """Describe the item pages of one year, every language, newest first."""
        kit = Kit(q)
        year = part.args[0]
        found = []
        for lang in q.languages:
            for item in q.items(Scope(NEWS, lang, "", int(year))):
                url_of = {v.lang: kit.urls.item(v) for v in q.versions(item).values()}
                found.append(
                    _spec(
                        kit,
                        kit.urls.item(item),
                        lang,
                        url_of,
                        year,
                        item.path,
                        (item.path,),
                        key=f"item:{item.key}",
                        lastmod=item.updated or item.published,
                    )
                )
        return found

    def page(self, kit: Kit, spec: Spec) -> Page:
        """Build an item's page."""
        q, urls = kit.q, kit.urls
        item = q.item(spec.args[0])
        item = replace(item, body_html=with_file_links(with_pictures(q.body(item), urls, item), urls, item))
        lang = item.lang
        labels = kit.labels(lang)
        section = q.section(item.section)
        section_link = kit.section_link(section.id, lang)
        versions = q.versions(item)
        older, newer = q.older(item), q.newer(item)
        crumbs = (
            Link(urls.home(lang), labels["home"]),
            section_link,
            Link(urls.listing(Scope(SECTION, lang, section.id).at(item.day.year)), str(item.day.year)),
        )
        officials = tuple(
            Link(urls.official(lang, o.id), o.name[lang], lang=kit.shown_in(o, lang)) for o in q.officials_of(item)
        )
        organizations = tuple(
            Link(urls.organization(lang, o.id), o.short[lang], o.name[lang], kit.shown_in(o, lang))
            for o in q.organizations_of(item)
        )
        return kit.page(
            spec.url,
            self.template,
            lang,
            item.title,
            key=spec.key,
            nav_url=section_link.url,
            description=item.summary,
            feed=Link(urls.feed(section_link.url), f"{labels['feed']}: {section.title[lang]}"),
            item=item,
            published=item.published.isoformat(),
            date_text=kit.day_text(item.day, lang),
            updated=item.updated.isoformat() if item.updated else "",
            updated_text=kit.day_text(item.updated.date(), lang) if item.updated else "",
            updates=tuple(Change(u.when.isoformat(), kit.day_text(u.when.date(), lang), u.note) for u in item.updates),
            crumbs=crumbs,
            breadcrumbs_ld=breadcrumb_list(kit, crumbs),
            related=kit.teasers(q.related(item)),
            section=section_link,
            officials=officials,
            organizations=organizations,
            tags=tuple(link.text for link in (*officials, *organizations)),
            locales=tuple(kit.labels(t)["locale"] for t in versions if t != lang),
            json_ld=news_article(kit, item, section.title[lang]),
            translations=tuple(
                Link(urls.item(t), kit.labels(t.lang)["read_in"], t.lang)
                for t_lang, t in versions.items()
                if t_lang != lang
            ),
            older=Link(urls.item(older), older.title) if older else None,
            newer=Link(urls.item(newer), newer.title) if newer else None,
            news=Link(urls.news(lang), labels["back_to_news"]),
            lead=lead(urls, item),
            gallery=gallery(urls, item),
            documents=documents(urls, item),
        )


def news_article(kit: Kit, item: Item, section: str) -> str:
    """Describe an item as schema.org NewsArticle JSON-LD, safe inside a script element."""
    urls = kit.urls
    url = urls.absolute(urls.item(item))
    publisher: dict[str, object] = {
        "@type": "Organization",
        "name": kit.config.title[item.lang],
        "url": urls.absolute(urls.home(item.lang)),
    }
    if kit.config.logo:
        publisher["logo"] = {"@type": "ImageObject", "url": urls.absolute(urls.static(kit.config.logo))}
    data: dict[str, object] = {
        "@context": "https://schema.org",
        "@type": "NewsArticle",
        "headline": item.title,
        "description": item.summary,
        "datePublished": item.published.isoformat(),
        "dateModified": (item.updated or item.published).isoformat(),
        "inLanguage": item.lang,
        "articleSection": section,
        "mainEntityOfPage": {"@type": "WebPage", "@id": url},
        "url": url,
        "author": publisher,
        "publisher": publisher,
    }
    if images := image_data(urls, item):
        data["image"] = images
    return json_ld(data)


def breadcrumb_list(kit: Kit, crumbs: Sequence[Link]) -> str:
    """Describe a page's breadcrumbs (home, section, year) as schema.org BreadcrumbList JSON-LD."""
    return json_ld(
        {
            "@context": "https://schema.org",
            "@type": "BreadcrumbList",
            "itemListElement": [
                {"@type": "ListItem", "position": n, "name": crumb.text, "item": kit.urls.absolute(crumb.url)}
                for n, crumb in enumerate(crumbs, start=1)
            ],
        }
    )


def json_ld(data: Mapping[str, object]) -> str:
    """Write JSON-LD that is safe inside a script element: no markup characters."""
    text = json.dumps(data, ensure_ascii=False, sort_keys=True)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
