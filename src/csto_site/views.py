"""What templates see: plain, language-specific views built from the site model."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any

from .model import Edition, Item, Month, Official, Organization, Site, Year
from .redirects import Redirect, collect_redirects
from .urls import SEARCH_BUNDLE, Urls, output_path

# The site's icon in static/; without one, browsers ask for /favicon.ico on every visit and get a 404.
ICON = "favicon.svg"


@dataclass(frozen=True)
class Link:
    """A labelled URL."""

    url: str
    text: str
    note: str = ""


@dataclass(frozen=True)
class Alternate:
    """The same page in another language."""

    lang: str
    url: str
    absolute: str
    name: str


@dataclass(frozen=True)
class Teaser:
    """An item as a listing shows it."""

    url: str
    title: str
    published: str
    date_text: str
    section: Link
    summary: str


@dataclass(frozen=True)
class Group:
    """A titled run of teasers: a day, a month or a year."""

    heading: str
    teasers: tuple[Teaser, ...]
    url: str = ""


@dataclass(frozen=True)
class Chrome:
    """What every page of one language shares: header, footer, labels."""

    lang: str
    site_title: str
    home: str
    nav: tuple[Link, ...]
    labels: Mapping[str, Any]
    contact_name: str
    phones: tuple[str, ...]
    email: str
    stylesheet: str
    script: str
    icon: str


@dataclass(frozen=True)
class Page:
    """One HTML page to render: where it goes, its template and what the template sees."""

    url: str
    template: str
    lang: str
    key: str
    title: str
    description: str
    context: Mapping[str, Any]
    canonical: str = ""
    feed: Link | None = None
    alternates: tuple[Alternate, ...] = field(default=())
    switch: tuple[Alternate, ...] = field(default=())
    in_sitemap: bool = True

    @property
    def path(self) -> str:
        """Return the output file of the page."""
        return output_path(self.url)


@dataclass(frozen=True)
class FeedSpec:
    """One RSS feed to write: its URL, the page it describes and its items."""

    url: str
    page_url: str
    lang: str
    title: str
    description: str
    items: tuple[Item, ...]


def plural(n: int, forms: Sequence[str], lang: str) -> str:
    """Return `n` with the right plural form: English two forms, Russian three."""
    if lang == "ru" and len(forms) == 3:
        if n % 10 == 1 and n % 100 != 11:
            form = forms[0]
        elif 2 <= n % 10 <= 4 and not 12 <= n % 100 <= 14:
            form = forms[1]
        else:
            form = forms[2]
    else:
        form = forms[0] if n == 1 else forms[-1]
    return f"{n} {form}"


class Views:
    """Turn the site model into pages and feeds for every language."""

    def __init__(self, site: Site, urls: Urls, assets: Mapping[str, str]) -> None:
        self.site = site
        self.urls = urls
        self.assets = assets
        self.config = site.config
        self.section_by_id = {s.id: s for s in site.sections}
        # Registry order, by id: an item's officials and organizations are listed in it without
        # scanning the whole registry for each (that made a feed of an item naming many officials cubic).
        self.official_rank = {o.id: i for i, o in enumerate(site.officials)}
        self.organization_rank = {o.id: i for i, o in enumerate(site.organizations)}
        self.chromes = {lang: self.chrome(lang) for lang in self.config.languages}

    # -- shared pieces -------------------------------------------------------------

    def labels(self, lang: str) -> Mapping[str, Any]:
        """Return the interface labels of a language."""
        return self.config.labels[lang]

    def day_text(self, day: date, lang: str) -> str:
        """Format a day as readers of the language write it: 22 June 2021, 22 июня 2021."""
        months = self.labels(lang)["months_of"]
        return f"{day.day} {months[day.month - 1]} {day.year}"

    def month_text(self, year: int, month: int, lang: str) -> str:
        """Format a month heading: June 2021, Июнь 2021."""
        return f"{self.labels(lang)['months'][month - 1]} {year}"

    def count_text(self, n: int, lang: str) -> str:
        """Format a number of items."""
        return plural(n, self.labels(lang)["items"], lang)

    def chrome(self, lang: str) -> Chrome:
        """Build the header and footer of a language."""
        labels = self.labels(lang)
        urls = self.urls
        return Chrome(
            lang=lang,
            site_title=self.config.title[lang],
            home=urls.home(lang),
            nav=(
                Link(urls.news(lang), labels["all_news"]),
                *(Link(urls.section(lang, s.id), s.title[lang]) for s in self.site.sections),
                Link(urls.officials(lang), labels["officials"]),
                Link(urls.organizations(lang), labels["organizations"]),
                Link(urls.search(lang), labels["search"]),
            ),
            labels=labels,
            contact_name=self.config.contact.name.get(lang, ""),
            phones=self.config.contact.phones,
            email=self.config.contact.email,
            stylesheet=self.urls.static(self.assets["style.css"]),
            script=self.urls.static(self.assets["nav.js"]),
            icon=self.urls.static(ICON),
        )

    def teaser(self, item: Item) -> Teaser:
        """Build the listing view of an item."""
        section = self.section_by_id[item.section]
        return Teaser(
            url=self.urls.item(item),
            title=item.title,
            published=item.published.isoformat(),
            date_text=self.day_text(item.day, item.lang),
            section=Link(self.urls.section(item.lang, section.id), section.title[item.lang]),
            summary=item.summary,
        )

    def teasers(self, items: Sequence[Item]) -> tuple[Teaser, ...]:
        """Build the listing views of items."""
        return tuple(self.teaser(i) for i in items)

    def by_day(self, month: Month) -> tuple[Group, ...]:
        """Group a month's teasers by day."""
        return tuple(Group(self.day_text(day, items[0].lang), self.teasers(items),
                           self.urls.archive(items[0].lang, day.year, day.month, day.day))
                     for day, items in month.days)

    def by_year(self, items: Sequence[Item], lang: str) -> tuple[Group, ...]:
        """Group teasers by year, newest first."""
        years: dict[int, list[Item]] = {}
        for item in items:
            years.setdefault(item.published.year, []).append(item)
        return tuple(Group(str(year), self.teasers(of_year)) for year, of_year in years.items())

    def year_links(self, archive: Sequence[Year], lang: str, section: str | None = None) -> tuple[Link, ...]:
        """Link every year of an archive, with its item count."""
        return tuple(Link(self.urls.archive(lang, y.year, section=section), str(y.year),
                          self.count_text(y.count, lang)) for y in archive)

    def month_links(self, year: Year, lang: str, section: str | None = None) -> tuple[Link, ...]:
        """Link every month of a year, with its item count."""
        return tuple(Link(self.urls.archive(lang, m.year, m.month, section=section),
                          self.month_text(m.year, m.month, lang), self.count_text(len(m.items), lang))
                     for m in year.months)

    def page(self, url: str, template: str, lang: str, title: str, key: str | None = None,
             description: str = "", feed: Link | None = None, nav_url: str = "", **context: Any) -> Page:
        """Build a page with the chrome and title of its language; `nav_url` marks its menu entry."""
        full_title = f"{title} — {self.config.title[lang]}" if title else self.config.title[lang]
        chrome = self.chromes[lang]
        nav_current = nav_url or max((link.url for link in chrome.nav if url.startswith(link.url)), key=len, default="")
        return Page(url=url, template=template, lang=lang, key=key or url[len(self.urls.prefix(lang)):],
                    title=full_title, description=description or self.config.description[lang],
                    canonical=self.urls.absolute(url), feed=feed,
                    context={"chrome": chrome, "heading": title, "nav_current": nav_current, **context})

    # -- pages ---------------------------------------------------------------------

    def pages(self) -> list[Page]:
        """Build every page of every language, with hreflang alternates filled in."""
        pages = [page for lang in self.config.languages for page in self.edition_pages(self.site.editions[lang])]
        by_key: dict[str, list[Page]] = {}
        for page in pages:
            by_key.setdefault(page.key, []).append(page)
        return [self.with_alternates(page, by_key[page.key]) for page in pages]

    def with_alternates(self, page: Page, versions: Sequence[Page]) -> Page:
        """Attach a page's language versions and its language switch (a version, else that home)."""
        names = {lang: self.labels(lang)["language_name"] for lang in self.config.languages}
        alternates = tuple(Alternate(p.lang, p.url, p.canonical, names[p.lang]) for p in versions)
        found = {a.lang: a for a in alternates}
        switch = tuple(found.get(lang) or Alternate(lang, self.urls.home(lang),
                                                    self.urls.absolute(self.urls.home(lang)), names[lang])
                       for lang in self.config.languages)
        return replace(page, alternates=alternates, switch=switch)

    def edition_pages(self, edition: Edition) -> Iterator[Page]:
        """Build every page of one language."""
        yield self.home(edition)
        yield self.not_found(edition.lang)
        yield self.search(edition.lang)
        yield from self.news_pages(edition)
        for section in self.site.sections:
            yield from self.section_pages(edition, section.id)
        yield self.registry_index(edition, "officials", self.site.officials)
        yield self.registry_index(edition, "organizations", self.site.organizations)
        for official in self.site.officials:
            yield self.official_page(edition, official)
        for organization in self.site.organizations:
            yield self.organization_page(edition, organization)
        for item in edition.items:
            yield self.item_page(edition, item)

    def home(self, edition: Edition) -> Page:
        """Build the home page: newest items, sections, press contact."""
        lang = edition.lang
        labels = self.labels(lang)
        return self.page(
            self.urls.home(lang), "home.html", lang, "", feed=self.news_feed_link(lang),
            latest=self.teasers(edition.items[: labels["home_items"]]),
            sections=tuple(Link(self.urls.section(lang, s.id), s.title[lang], s.description[lang])
                           for s in self.site.sections),
            news=Link(self.urls.news(lang), labels["all_news"]),
        )

    def redirects(self, pages: Sequence[Page]) -> tuple[Redirect, ...]:
        """List every old address and where it leads now (for redirect pages and web-server rules)."""
        return collect_redirects(self.site, self.urls, [page.url for page in pages if page.in_sitemap])

    def redirect_page(self, redirect: Redirect) -> Page:
        """Build the page left at an old address: a link to the new one, followed at once."""
        labels = self.labels(redirect.lang)
        page = self.page(redirect.old, "redirect.html", redirect.lang, labels["moved"], key=f"redirect:{redirect.old}",
                         target=Link(redirect.new, redirect.title or self.urls.absolute(redirect.new)))
        return replace(page, canonical=self.urls.absolute(redirect.new), in_sitemap=False)

    def not_found(self, lang: str) -> Page:
        """Build the 404 page of a language."""
        page = self.page(self.urls.not_found(lang), "404.html", lang, self.labels(lang)["not_found"])
        return replace(page, in_sitemap=False)

    def search(self, lang: str) -> Page:
        """Build the search page of a language: the form is drawn by static/search.js."""
        labels = self.labels(lang)
        page = self.page(self.urls.search(lang), "search.html", lang, labels["search"],
                         stylesheet=self.urls.static(self.assets["search.css"]),
                         script=self.urls.static(self.assets["search.js"]), bundle=SEARCH_BUNDLE,
                         news=Link(self.urls.news(lang), labels["all_news"]))
        return replace(page, in_sitemap=False)

    def news_feed_link(self, lang: str) -> Link:
        """Link the all-news feed of a language."""
        return Link(self.urls.feed(self.urls.news(lang)), self.labels(lang)["feed_all"])

    def news_pages(self, edition: Edition) -> Iterator[Page]:
        """Build the all-news page and its dated archive."""
        lang = edition.lang
        labels = self.labels(lang)
        feed = self.news_feed_link(lang)
        yield self.page(
            self.urls.news(lang), "archive.html", lang, labels["all_news"], feed=feed,
            groups=(Group(labels["latest"], self.teasers(edition.items[: labels["listing_items"]])),),
            periods=self.year_links(edition.archive, lang), periods_heading=labels["by_year"], up=None,
        )
        yield from self.archive_pages(edition.archive, lang, None, labels["all_news"], feed)

    def archive_pages(self, archive: Sequence[Year], lang: str, section: str | None, scope: str,
                      feed: Link) -> Iterator[Page]:
        """Build year, month and (for all news) day pages of an archive."""
        labels = self.labels(lang)
        urls = self.urls
        top = Link(urls.section(lang, section) if section else urls.news(lang), scope)
        for year in archive:
            year_url = urls.archive(lang, year.year, section=section)
            yield self.page(
                year_url, "archive.html", lang, f"{scope}: {year.year}", feed=feed,
                groups=(), periods=self.month_links(year, lang, section), periods_heading=labels["by_month"],
                up=top,
            )
            for month in year.months:
                yield self.page(
                    urls.archive(lang, month.year, month.month, section=section), "archive.html", lang,
                    f"{scope}: {self.month_text(month.year, month.month, lang)}", feed=feed,
                    groups=self.by_day(month), periods=(), periods_heading="", up=Link(year_url, str(year.year)),
                )
                if section:
                    continue
                for day, items in month.days:
                    yield self.page(
                        urls.archive(lang, day.year, day.month, day.day), "archive.html", lang,
                        f"{scope}: {self.day_text(day, lang)}", feed=feed,
                        groups=(Group(self.day_text(day, lang), self.teasers(items)),), periods=(),
                        periods_heading="",
                        up=Link(urls.archive(lang, day.year, day.month), self.month_text(day.year, day.month, lang)),
                    )

    def section_pages(self, edition: Edition, section_id: str) -> Iterator[Page]:
        """Build a section's page and its dated archive."""
        lang = edition.lang
        labels = self.labels(lang)
        section = self.section_by_id[section_id]
        url = self.urls.section(lang, section_id)
        feed = Link(self.urls.feed(url), f"{labels['feed']}: {section.title[lang]}")
        archive = edition.section_archives[section_id]
        yield self.page(
            url, "archive.html", lang, section.title[lang], description=section.description[lang], feed=feed,
            groups=(Group(labels["latest"], self.teasers(edition.sections[section_id][: labels["listing_items"]])),),
            periods=self.year_links(archive, lang, section_id), periods_heading=labels["by_year"],
            up=Link(self.urls.news(lang), labels["all_news"]),
        )
        yield from self.archive_pages(archive, lang, section_id, section.title[lang], feed)

    def registry_index(self, edition: Edition, kind: str, entries: Sequence[Official | Organization]) -> Page:
        """Build the list of all officials or all organizations."""
        lang = edition.lang
        listed = getattr(edition, kind)
        url_of = self.urls.official if kind == "officials" else self.urls.organization
        links = tuple(Link(url_of(lang, e.id), _entry_name(e, lang), self.count_text(len(listed[e.id]), lang))
                      for e in sorted(entries, key=lambda e: _entry_name(e, lang).casefold()))
        url = self.urls.officials(lang) if kind == "officials" else self.urls.organizations(lang)
        return self.page(url, "registry.html", lang, self.labels(lang)[kind], entries=links)

    def official_page(self, edition: Edition, official: Official) -> Page:
        """Build one official's page: roles and items, newest first."""
        lang = edition.lang
        labels = self.labels(lang)
        url = self.urls.official(lang, official.id)
        roles = tuple(
            Link("", role.title[lang], self.period_text(role.start, role.end, lang)) for role in official.roles
        )
        items = edition.officials[official.id]
        return self.page(
            url, "taxonomy.html", lang, official.name[lang],
            feed=Link(self.urls.feed(url), f"{labels['feed']}: {official.name[lang]}"),
            subtitle="", roles=roles, groups=self.by_year(items, lang), count=self.count_text(len(items), lang),
            up=Link(self.urls.officials(lang), labels["officials"]),
        )

    def organization_page(self, edition: Edition, organization: Organization) -> Page:
        """Build one organization's page: its items, newest first."""
        lang = edition.lang
        labels = self.labels(lang)
        url = self.urls.organization(lang, organization.id)
        name = organization.name[lang]
        short = organization.short[lang]
        items = edition.organizations[organization.id]
        return self.page(
            url, "taxonomy.html", lang, name,
            feed=Link(self.urls.feed(url), f"{labels['feed']}: {short}"),
            subtitle=short if short != name else "", roles=(), groups=self.by_year(items, lang),
            count=self.count_text(len(items), lang),
            up=Link(self.urls.organizations(lang), labels["organizations"]),
        )

    def period_text(self, start: date | None, end: date | None, lang: str) -> str:
        """Format the years a role was held: 2020–2022, since 2023."""
        if start and end:
            return f"{start.year}–{end.year}" if start.year != end.year else str(start.year)
        if start:
            return f"{self.labels(lang)['since']} {start.year}"
        return ""

    def item_page(self, edition: Edition, item: Item) -> Page:
        """Build an item's page with its navigation, people and translations."""
        lang = item.lang
        labels = self.labels(lang)
        urls = self.urls
        section = self.section_by_id[item.section]
        section_link = Link(urls.section(lang, section.id), section.title[lang])
        translations = self.site.translations.get(item.key, {})
        older, newer = edition.older.get(item.key), edition.newer.get(item.key)
        officials = tuple(Link(urls.official(lang, o.id), o.name[lang]) for o in self.officials_of(item))
        organizations = tuple(Link(urls.organization(lang, o.id), o.short[lang], o.name[lang])
                              for o in self.organizations_of(item))
        return self.page(
            urls.item(item), "item.html", lang, item.title, key=f"item:{item.key}", nav_url=section_link.url,
            description=item.summary,
            feed=Link(urls.feed(section_link.url), f"{labels['feed']}: {section.title[lang]}"),
            item=item,
            published=item.published.isoformat(),
            date_text=self.day_text(item.day, lang),
            updated=item.updated.isoformat() if item.updated else "",
            updated_text=self.day_text(item.updated.date(), lang) if item.updated else "",
            section=section_link,
            officials=officials,
            organizations=organizations,
            tags=tuple(link.text for link in (*officials, *organizations)),
            locales=tuple(self.labels(t)["locale"] for t in translations if t != lang),
            json_ld=self.news_article(item, section.title[lang]),
            translations=tuple(Link(urls.item(t), self.labels(t.lang)["read_in"], t.lang)
                               for t_lang, t in translations.items() if t_lang != lang),
            older=Link(urls.item(older), older.title) if older else None,
            newer=Link(urls.item(newer), newer.title) if newer else None,
            news=Link(urls.news(lang), labels["back_to_news"]),
        )

    def news_article(self, item: Item, section: str) -> str:
        """Describe an item as schema.org NewsArticle JSON-LD, safe inside a script element."""
        url = self.urls.absolute(self.urls.item(item))
        publisher = {
            "@type": "Organization",
            "name": self.config.title[item.lang],
            "url": self.urls.absolute(self.urls.home(item.lang)),
        }
        data = {
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
        text = json.dumps(data, ensure_ascii=False, sort_keys=True)
        return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")

    # -- feeds ---------------------------------------------------------------------

    def feeds(self) -> list[FeedSpec]:
        """List every feed of every language with its newest items."""
        feeds = []
        n = self.config.feed_length
        for lang in self.config.languages:
            edition = self.site.editions[lang]
            labels = self.labels(lang)
            site_title = self.config.title[lang]
            news = self.urls.news(lang)
            feeds.append(FeedSpec(self.urls.feed(news), news, lang, f"{site_title}: {labels['all_news']}",
                                  self.config.description[lang] or labels["all_news"], edition.items[:n]))
            for section in self.site.sections:
                url = self.urls.section(lang, section.id)
                feeds.append(FeedSpec(self.urls.feed(url), url, lang, f"{site_title}: {section.title[lang]}",
                                      section.description[lang] or section.title[lang],
                                      edition.sections[section.id][:n]))
            for official in self.site.officials:
                url = self.urls.official(lang, official.id)
                feeds.append(FeedSpec(self.urls.feed(url), url, lang, f"{site_title}: {official.name[lang]}",
                                      official.name[lang], edition.officials[official.id][:n]))
            for organization in self.site.organizations:
                url = self.urls.organization(lang, organization.id)
                feeds.append(FeedSpec(self.urls.feed(url), url, lang, f"{site_title}: {organization.short[lang]}",
                                      organization.name[lang], edition.organizations[organization.id][:n]))
        return feeds

    def categories(self, item: Item) -> tuple[tuple[str, str], ...]:
        """Return (name, absolute URL) of the section, officials and organizations of an item."""
        lang = item.lang
        section = self.section_by_id[item.section]
        urls = self.urls
        return (
            (section.title[lang], urls.absolute(urls.section(lang, section.id))),
            *((o.name[lang], urls.absolute(urls.official(lang, o.id))) for o in self.officials_of(item)),
            *((o.short[lang], urls.absolute(urls.organization(lang, o.id))) for o in self.organizations_of(item)),
        )

    def officials_of(self, item: Item) -> list[Official]:
        """Return the officials an item names, in the registry's order."""
        rank = self.official_rank
        return [self.site.officials[i] for i in sorted(rank[o] for o in item.officials if o in rank)]

    def organizations_of(self, item: Item) -> list[Organization]:
        """Return the organizations an item names, in the registry's order."""
        rank = self.organization_rank
        return [self.site.organizations[i] for i in sorted(rank[o] for o in item.organizations if o in rank)]


def _entry_name(entry: Official | Organization, lang: str) -> str:
    """Return the display name of a registry entry."""
    return entry.name[lang]


