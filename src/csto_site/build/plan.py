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

from ..content.model import Edition, Item, Site, Year
from ..output.sitemaps import NEWS_WINDOW
from ..output.views import Page, Views
from ..site.urls import SITEMAP_PAGES, Urls, output_path
from .cache import digest
from .inputs import digest_text

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


# The runs of dated pages in a language's page list: all news' archive, a section's, the items' pages.
NEWS = "news"
SECTION = "section:"
ITEMS = "items"


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


# A page as a plan keeps it between builds: all but how to build it (url, path, template, lang, key,
# in_sitemap, signature, alternates).
Stored = tuple[str, str, str, str, str, bool, str, tuple[Version, ...]]
# One year's dated pages, by language and segment ("news", "section:<id>", "items").
Segments = dict[tuple[str, str], tuple[Stored, ...]]


class Plan(NamedTuple):
    """Every page of the site in Views.pages() order, and what each sitemap lists with its signature.

    The planner keeps neither: a page can lead back to the planner (to be described again), and a
    planner holding its pages would make a cycle that keeps the whole model alive until collected.
    """

    pages: list[PlannedPage]
    sitemaps: dict[str, tuple[list[PlannedPage], str]]  # as sitemap.sitemap_parts orders them


class Partition(NamedTuple):
    """The dated pages of one year in every language, with the digest of everything they are made from."""

    key: str
    segments: Segments
    sitemap: str  # the signature of the year's sitemap


class Planner:
    """Enumerate the outputs of a site with their signatures; render any of them on demand.

    The dated pages of a year (its archive pages, all news' and each section's, and its items' pages)
    are made only from that year's items and their neighbours. They are planned as one partition,
    whose key digests all of that: a partition that `stored(year, key)` still has (the last plan's)
    is taken from there as it is, so a new item plans its own year and the undated pages, not every page.
    """

    def __init__(self, site: Site, views: Views, urls: Urls, heads: Mapping[str, str], body_keys: Mapping[str, str],
                 body: Body, base: str, templates: Mapping[str, str], render: Callable[[Page], bytes],
                 stored: Callable[[int, str], object] | None = None) -> None:
        self.site = site
        self.views = views
        self.render = render
        self.urls = urls
        self.heads = heads
        self.body_keys = body_keys
        self.body = body
        self.base = base
        self.templates = templates
        self.stored = stored or (lambda year, key: None)
        self.partitions: dict[int, Partition] = {}
        self.taken: set[int] = set()  # the years taken from the last plan
        self.years = _YearIndex(site)

    def head(self, item: Item) -> str:
        """Return what listings show of an item, as a digest."""
        return self.heads[item.path]

    def heads_of(self, items: Sequence[Item]) -> str:
        """Return the heads of a run of items, joined."""
        heads = self.heads
        return ",".join([heads[i.path] for i in items])

    # -- the pages, in Views.pages() order ---------------------------------------------------------

    def plan(self) -> Plan:
        """List every page of every language, with its language versions and its signature, and the sitemaps."""
        layouts = {lang: list(self.edition_pages(self.site.editions[lang])) for lang in self.site.config.languages}
        undated = self._complete([d for layout in layouts.values() for d in layout if isinstance(d, _Draft)])
        dated = {year: self._partition(year) for year in self.years.all}
        listed = [p for p in undated if p.in_sitemap]
        sitemaps = {SITEMAP_PAGES: (listed, self.sitemap_signature(listed))} if listed else {}
        for year, segments in dated.items():
            sitemaps[str(year)] = ([p for run in segments.values() for p in run if p.in_sitemap],
                                   self.partitions[year].sitemap)
        pages: list[PlannedPage] = []
        index = 0
        for lang, layout in layouts.items():
            for entry in layout:
                if isinstance(entry, _Draft):
                    pages.append(undated[index])
                    index += 1
                else:
                    for year in self.years.of(lang, entry):
                        pages += dated[year][(lang, entry)]
        return Plan(pages, sitemaps)

    def _partition(self, year: int) -> dict[tuple[str, str], list[PlannedPage]]:
        """Plan one year's dated pages, or take them from the last plan when made from the same inputs."""
        key = self.year_key(year)
        known = self.stored(year, key)
        if isinstance(known, Partition) and known.key == key:
            self.partitions[year] = known
            self.taken.add(year)
            later = _StoredYear(self, year).page
            render, views = self.render, self.views
            return {segment: [PlannedPage(url, path, template, lang, page_key, in_sitemap, signature,
                                          partial(later, url), alternates, render, views)
                              for url, path, template, lang, page_key, in_sitemap, signature, alternates in stored]
                    for segment, stored in known.segments.items()}
        drafts = self.year_drafts(year)
        planned = self._complete([d for run in drafts.values() for d in run])
        segments: dict[tuple[str, str], list[PlannedPage]] = {}
        position = 0
        for segment, run in drafts.items():
            segments[segment] = planned[position:position + len(run)]
            position += len(run)
        listed = [p for p in planned if p.in_sitemap]
        self.partitions[year] = Partition(key, {segment: tuple((*p[:7], p.alternates) for p in run)
                                                for segment, run in segments.items()}, self.sitemap_signature(listed))
        return segments

    def year_key(self, year: int) -> str:
        """Digest everything one year's dated pages are made from: each language's items and their neighbours."""
        heads, bodies = self.heads, self.body_keys
        parts = [self.base, self.templates.get("archive.html", ""), self.templates.get("item.html", ""), str(year)]
        for edition in self.site.editions.values():
            older_of, newer_of = edition.older.get, edition.newer.get
            parts.append(edition.lang)
            for item in self.years.items(edition.lang, year):
                older, newer = older_of(item.key), newer_of(item.key)
                parts += (heads[item.path], bodies[item.path], heads[older.path] if older else "",
                          heads[newer.path] if newer else "")
        return digest_text(*parts)

    def year_drafts(self, year: int) -> dict[tuple[str, str], list[_Draft]]:
        """Describe one year's dated pages in every language, by segment."""
        drafts: dict[tuple[str, str], list[_Draft]] = {}
        for lang, edition in self.site.editions.items():
            found = self.years.news(lang, year)
            if found is not None:
                drafts[(lang, NEWS)] = list(self.archive(edition, (found,), None))
            for section in self.site.sections:
                found = self.years.section(lang, section.id, year)
                if found is not None:
                    drafts[(lang, f"{SECTION}{section.id}")] = list(self.archive(edition, (found,), section.id))
            items = self.years.items(lang, year)
            if items:
                drafts[(lang, ITEMS)] = list(self.item_drafts(edition, items))
        return drafts

    def _complete(self, drafts: Sequence[_Draft]) -> list[PlannedPage]:
        """Give each page its language versions (the pages of the same key) and its signature."""
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

    def edition_pages(self, edition: Edition) -> Iterator[_Draft | str]:
        """Describe the undated pages of one language, naming the runs of dated pages between them."""
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
        yield NEWS
        for section in self.site.sections:
            items = edition.sections[section.id]
            archive = edition.section_archives[section.id]
            yield self._page(urls.section(lang, section.id), "archive.html", lang,
                             ("section", self.heads_of(items[:labels["listing_items"]]), _counts(archive)),
                             partial(_first, views.section_pages, edition, section.id))
            yield f"{SECTION}{section.id}"
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
        yield ITEMS

    def item_drafts(self, edition: Edition, items: Sequence[Item]) -> Iterator[_Draft]:
        """Describe the pages of a run of one language's items."""
        translations = self.site.translations
        heads, bodies, lang = self.heads, self.body_keys, edition.lang
        older_of, newer_of, item_url, item_page = edition.older.get, edition.newer.get, self.urls.item, self._item_page
        for item in items:
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
        listed = []
        for edition in self.site.editions.values():
            for item in edition.items:  # newest first
                if item.published < now - NEWS_WINDOW:
                    break
                if item.published <= now:
                    listed.append(item)
        return listed


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


class _YearIndex:
    """Find each language's archive years (of all news and of each section) and their items."""

    def __init__(self, site: Site) -> None:
        self.archives: dict[tuple[str, str], dict[int, Year]] = {}
        for lang, edition in site.editions.items():
            self.archives[(lang, NEWS)] = {y.year: y for y in edition.archive}
            for section, archive in edition.section_archives.items():
                self.archives[(lang, f"{SECTION}{section}")] = {y.year: y for y in archive}
        self.all = sorted({year for (_, segment), years in self.archives.items() if segment == NEWS
                           for year in years}, reverse=True)

    def of(self, lang: str, segment: str) -> Iterator[int]:
        """Return the years of one run of dated pages, newest first (the items' are all news' years)."""
        return iter(self.archives[(lang, NEWS if segment == ITEMS else segment)])

    def news(self, lang: str, year: int) -> Year | None:
        """Return a year of all news' archive."""
        return self.archives[(lang, NEWS)].get(year)

    def section(self, lang: str, section: str, year: int) -> Year | None:
        """Return a year of a section's archive."""
        return self.archives[(lang, f"{SECTION}{section}")].get(year)

    def items(self, lang: str, year: int) -> tuple[Item, ...]:
        """Return a language's items of one year, newest first."""
        found = self.news(lang, year)
        return found.items if found is not None else ()


class _StoredYear:
    """Build the pages of a year taken from the last plan: the year is described again on first demand."""

    def __init__(self, planner: Planner, year: int) -> None:
        self.planner = planner
        self.year = year
        self.builds: dict[str, Callable[[], Page]] | None = None

    def page(self, url: str) -> Page:
        """Build the page at `url`."""
        if self.builds is None:
            self.builds = {d.url: d.build for run in self.planner.year_drafts(self.year).values() for d in run}
        return self.builds[url]()
