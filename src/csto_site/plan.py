"""Every output of the site, what each is made from, and how to make it, without making it.

A build compares each output's signature (a digest of everything the output is made from: the
templates it uses, the configuration, and the items it shows) with the signature recorded when the
published file was made, and renders only the outputs whose signature changed. Items enter a
signature by digests computed once when they were parsed: their "head" (every field but the body)
for listings, feeds and neighbours, and the body key for their own page.

The page list mirrors `Views.edition_pages`, in the same order; tests/test_incremental.py checks
that the pages this plan builds equal `Views.pages()`, and that incremental builds equal clean ones.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import replace
from datetime import datetime
from functools import partial
from typing import NamedTuple

import jinja2
import jinja2.meta

from .cache import digest
from .inputs import digest_text
from .model import Edition, Item, Site, Year
from .sitemap import NEWS_WINDOW
from .urls import Urls, output_path
from .views import Page, Views

Body = Callable[[Item], str]


class Version(NamedTuple):
    """A page in one language, as the sitemap's alternates list it."""

    lang: str
    url: str
    absolute: str


class PlannedPage(NamedTuple):
    """A page of the site before it is built: where it goes, what it is made from, how to make it.

    A named tuple, not a dataclass: a 10,000-item archive has 25,000 pages, planned on every build.
    """

    url: str
    path: str
    template: str
    lang: str
    key: str
    in_sitemap: bool
    signature: str
    build: Callable[[], Page]
    alternates: tuple[Version, ...]
    render: Callable[[Page], bytes]
    views: Views

    @property
    def source(self) -> str:
        """Name what produces the page, for problems."""
        return self.template

    def make(self) -> bytes:
        """Build the page with its language versions and render it."""
        versions = [Page(url=v.url, template=self.template, lang=v.lang, key=self.key, title="", description="",
                         context={}, canonical=v.absolute) for v in self.alternates]
        return self.render(self.views.with_alternates(self.build(), versions))


class _Draft(NamedTuple):
    """A page as first listed, before its language versions are known."""

    url: str
    template: str
    lang: str
    key: str
    in_sitemap: bool
    deps: tuple[str, ...]
    build: Callable[[], Page]


def template_digests(env: jinja2.Environment, sources: Mapping[str, str]) -> dict[str, str]:
    """Digest each template (name -> source) together with every template it extends, includes or imports."""
    refs: dict[str, set[str | None]] = {}
    for name, source in sources.items():
        try:
            refs[name] = set(jinja2.meta.find_referenced_templates(env.parse(source)))
        except jinja2.TemplateSyntaxError:
            refs[name] = {None}
    everything = digest(*(f"{n}\x1e{s}" for n, s in sorted(sources.items())))
    digests = {}
    for name in sources:
        seen: set[str] = set()
        stack = [name]
        dynamic = False
        while stack:
            current = stack.pop()
            if current in seen:
                continue
            seen.add(current)
            for ref in refs.get(current, ()):
                if ref is None:
                    dynamic = True
                else:
                    stack.append(ref)
        # A template that names another only at run time may use any of them.
        digests[name] = everything if dynamic else digest(*(f"{n}\x1e{sources.get(n, '')}" for n in sorted(seen)))
    return digests


class Planner:
    """Enumerate the outputs of a site with their signatures; render any of them on demand."""

    def __init__(self, site: Site, views: Views, urls: Urls, heads: Mapping[str, str], body_keys: Mapping[str, str],
                 body: Body, base: str, templates: Mapping[str, str], render: Callable[[Page], bytes]) -> None:
        self.site = site
        self.views = views
        self.render = render
        self.urls = urls
        self.heads = heads
        self.body_keys = body_keys
        self.body = body
        self.base = base
        self.templates = templates

    def head(self, item: Item) -> str:
        """Return what listings show of an item, as a digest."""
        return self.heads[item.path]

    def heads_of(self, items: Sequence[Item]) -> str:
        """Return the heads of a run of items, joined."""
        heads = self.heads
        return ",".join([heads[i.path] for i in items])

    # -- the pages, in Views.pages() order ---------------------------------------------------------

    def pages(self) -> list[PlannedPage]:
        """List every page of every language, with its language versions and its signature."""
        drafts = [page for lang in self.site.config.languages
                  for page in self.edition_pages(self.site.editions[lang])]
        by_key: dict[str, list[Version]] = {}
        base_url = self.urls.base_url
        for page in drafts:
            url = page.url
            by_key.setdefault(page.key, []).append(Version(page.lang, url, base_url + url))
        versions = {key: (tuple(found), ",".join([f"{v.lang}:{v.url}" for v in found]) if len(found) > 1
                          else f"{found[0].lang}:{found[0].url}") for key, found in by_key.items()}
        base, templates, render, views = self.base, self.templates, self.render, self.views
        pages = []
        append = pages.append
        for url, template, lang, key, in_sitemap, deps, build in drafts:
            alternates, names = versions[key]
            # digest_text, not cache.digest: every part is text, and this runs for every page of the site.
            signature = digest_text(base, templates.get(template, ""), url, names, *deps)
            append(PlannedPage(url, output_path(url), template, lang, key, in_sitemap, signature, build, alternates,
                               render, views))
        return pages

    def _page(self, url: str, template: str, lang: str, deps: tuple[str, ...], build: Callable[[], Page],
              key: str | None = None, in_sitemap: bool = True) -> _Draft:
        """Describe one page; its key defaults to the URL without the language prefix."""
        return _Draft(url, template, lang, key or url[len(self.urls.prefix(lang)):], in_sitemap, deps, build)

    def edition_pages(self, edition: Edition) -> Iterator[_Draft]:
        """Describe every page of one language (Views.edition_pages)."""
        views, urls, lang = self.views, self.urls, edition.lang
        labels = self.site.config.labels[lang]
        latest = self.heads_of(edition.items[:labels["home_items"]])
        yield self._page(urls.home(lang), "home.html", lang, ("home", latest), partial(views.home, edition))
        yield self._page(urls.not_found(lang), "404.html", lang, ("404",), partial(views.not_found, lang),
                         in_sitemap=False)
        yield self._page(urls.search(lang), "search.html", lang, ("search",), partial(views.search, lang),
                         in_sitemap=False)
        yield self._page(urls.news(lang), "archive.html", lang,
                         ("news", self.heads_of(edition.items[:labels["listing_items"]]), _counts(edition.archive)),
                         partial(_first, views.news_pages, edition))
        yield from self.archive(edition, edition.archive, None)
        for section in self.site.sections:
            items = edition.sections[section.id]
            archive = edition.section_archives[section.id]
            yield self._page(urls.section(lang, section.id), "archive.html", lang,
                             ("section", self.heads_of(items[:labels["listing_items"]]), _counts(archive)),
                             partial(_first, views.section_pages, edition, section.id))
            yield from self.archive(edition, archive, section.id)
        for kind, entries in (("officials", self.site.officials), ("organizations", self.site.organizations)):
            listed = getattr(edition, kind)
            url = urls.officials(lang) if kind == "officials" else urls.organizations(lang)
            counts = ",".join(f"{e.id}:{len(listed[e.id])}" for e in entries)
            yield self._page(url, "registry.html", lang, (kind, counts),
                             partial(views.registry_index, edition, kind, entries))
        for official in self.site.officials:
            yield self._page(urls.official(lang, official.id), "taxonomy.html", lang,
                             ("official", self.heads_of(edition.officials[official.id])),
                             partial(views.official_page, edition, official))
        for organization in self.site.organizations:
            yield self._page(urls.organization(lang, organization.id), "taxonomy.html", lang,
                             ("organization", self.heads_of(edition.organizations[organization.id])),
                             partial(views.organization_page, edition, organization))
        translations = self.site.translations
        heads, bodies = self.heads, self.body_keys
        older_of, newer_of, item_url, item_page = edition.older.get, edition.newer.get, urls.item, self._item_page
        for item in edition.items:
            key = item.key
            older, newer = older_of(key), newer_of(key)
            others = translations.get(key)
            deps = ("item", heads[item.path], bodies[item.path], heads[older.path] if older else "",
                    heads[newer.path] if newer else "",
                    ",".join([heads[t.path] for t in others.values()]) if others else "")
            yield _Draft(item_url(item), "item.html", lang, f"item:{key}", True, deps,
                         partial(item_page, edition, item))

    def _item_page(self, edition: Edition, item: Item) -> Page:
        """Build an item's page with its body, which the model does not carry."""
        return self.views.item_page(edition, replace(item, body_html=self.body(item)))

    def archive(self, edition: Edition, archive: Sequence[Year], section: str | None) -> Iterator[_Draft]:
        """Describe the year, month and (for all news) day pages of an archive (Views.archive_pages)."""
        urls, lang, heads = self.urls, edition.lang, self.heads
        cut = len(urls.prefix(lang))
        page_of = urls.archive
        for year in archive:
            build = _YearPages(self.views, edition, year, section).page
            url = page_of(lang, year.year, section=section)
            yield _Draft(url, "archive.html", lang, url[cut:], True, ("year", _months(year)), partial(build, 0))
            index = 1
            for month in year.months:
                days = [(day, ",".join([heads[i.path] for i in items])) for day, items in month.days]
                url = page_of(lang, month.year, month.month, section=section)
                yield _Draft(url, "archive.html", lang, url[cut:], True, ("month", ",".join([h for _, h in days])),
                             partial(build, index))
                index += 1
                if section:
                    continue
                for day, day_heads in days:
                    url = page_of(lang, day.year, day.month, day.day)
                    yield _Draft(url, "archive.html", lang, url[cut:], True, ("day", day_heads), partial(build, index))
                    index += 1

    # -- other outputs --------------------------------------------------------------------------

    def sitemap_signature(self, pages: Sequence[PlannedPage]) -> str:
        """Digest what one sitemap lists: its pages, with their language versions."""
        return digest(self.base, "sitemap", *(f"{p.url}|{'|'.join(v.url for v in p.alternates)}" for p in pages))

    def news_sitemap_items(self, now: datetime) -> list[Item]:
        """Return the items the news sitemap lists (those of the last two days), in model order."""
        return [i for e in self.site.editions.values() for i in e.items
                if now - NEWS_WINDOW <= i.published <= now]


def _first(make: Callable[..., Iterator[Page]], *args: object) -> Page:
    """Return the first page a page generator yields, without building the rest."""
    return next(make(*args))


def _counts(archive: Sequence[Year]) -> str:
    """Describe an archive's years and their item counts."""
    return ",".join(f"{y.year}:{sum(len(items) for m in y.months for _, items in m.days)}" for y in archive)


def _months(year: Year) -> str:
    """Describe a year's months and their item counts."""
    return ",".join(f"{m.month}:{sum(len(items) for _, items in m.days)}" for m in year.months)


class _YearPages:
    """Build the pages of one archive year on first demand, hand them out by position, then let them go."""

    def __init__(self, views: Views, edition: Edition, year: Year, section: str | None) -> None:
        self.views = views
        self.edition = edition
        self.year = year
        self.section = section
        self.built: dict[int, Page] = {}

    def page(self, index: int) -> Page:
        """Return the year's page at `index` (0: the year itself, then months and days in order)."""
        if not self.built:
            # The index page of the archive gives its scope (heading) and feed, as Views passes them on.
            if self.section:
                index_page = _first(self.views.section_pages, self.edition, self.section)
            else:
                index_page = _first(self.views.news_pages, self.edition)
            assert index_page.feed is not None
            pages = self.views.archive_pages((self.year,), self.edition.lang, self.section,
                                             index_page.context["heading"], index_page.feed)
            self.built = dict(enumerate(pages))
        return self.built.pop(index)
