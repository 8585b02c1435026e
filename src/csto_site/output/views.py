"""What templates see: plain views of the site, and the pieces every page shares, read through Queries."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import PurePosixPath
from typing import Any

from ..content.model import Item, Official, Organization, Section
from ..site.queries import Queries
from ..site.urls import Urls, output_path
from .assets import LOGO_TYPES
from .media import THUMB_SIZES, Picture, lead

# The site's icon in static/; without one, browsers ask for /favicon.ico on every visit and get a 404.
ICON = "favicon.svg"


@dataclass(frozen=True)
class Link:
    """A labelled URL."""

    url: str
    text: str
    note: str = ""
    lang: str = ""  # the language of `text` where it is not the page's: a name not translated into it


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
    photo: Picture | None = None  # the lead photo, as a thumbnail


@dataclass(frozen=True)
class Change:
    """An entry of an item's public log of updates, as its page shows it."""

    when: str  # ISO 8601, for <time datetime>
    date_text: str
    note: str


@dataclass(frozen=True)
class TeaserGroup:
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
    icon_type: str
    logo: str  # the emblem in the masthead, or "" when site.yaml names none


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


def entry_name(entry: Official | Organization, lang: str) -> str:
    """Return the display name of a registry entry."""
    return entry.name[lang]


class Kit:
    """Build the views every page kind shares (chrome, teasers, dates, alternates) from recorded queries."""

    def __init__(self, q: Queries) -> None:
        self.q = q
        config = q.config
        self.config = config
        self.urls = Urls(config.default_language, config.base_url)

    def labels(self, lang: str) -> Mapping[str, Any]:
        """Return the interface labels of a language."""
        return self.q.labels(lang)

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
        urls, q = self.urls, self.q
        return Chrome(
            lang=lang,
            site_title=self.config.title[lang],
            home=urls.home(lang),
            nav=(
                Link(urls.news(lang), labels["all_news"]),
                *(Link(urls.section(lang, s.id), s.title[lang], lang=self.shown_in(s, lang)) for s in q.sections),
                Link(urls.officials(lang), labels["officials"]),
                Link(urls.organizations(lang), labels["organizations"]),
                Link(urls.search(lang), labels["search"]),
            ),
            labels=labels,
            contact_name=self.config.contact.name.get(lang, ""),
            phones=self.config.contact.phones,
            email=self.config.contact.email,
            stylesheet=urls.static(q.asset("style.css")),
            script=urls.static(q.asset("nav.js")),
            # The office's emblem, where site.yaml names one, is also the icon browsers show.
            icon=urls.static(self.config.logo or ICON),
            icon_type=LOGO_TYPES[PurePosixPath(self.config.logo or ICON).suffix.lower()],
            logo=urls.static(self.config.logo) if self.config.logo else "",
        )

    def section_link(self, section_id: str, lang: str) -> Link:
        """Link a section's page, titled in a language."""
        section = self.q.section(section_id)
        return Link(self.urls.section(lang, section_id), section.title[lang], lang=self.shown_in(section, lang))

    def shown_in(self, entry: Official | Organization | Section, lang: str) -> str:
        """Return the language an entry's name is shown in on a `lang` page when not `lang` itself, else ""."""
        return self.config.default_language if lang in entry.untranslated else ""

    def teaser(self, item: Item) -> Teaser:
        """Build the listing view of an item."""
        return Teaser(
            url=self.urls.item(item),
            title=item.title,
            published=item.published.isoformat(),
            date_text=self.day_text(item.day, item.lang),
            section=self.section_link(item.section, item.lang),
            summary=item.summary,
            photo=lead(self.urls, item, THUMB_SIZES),
        )

    def teasers(self, items: Sequence[Item]) -> tuple[Teaser, ...]:
        """Build the listing views of items."""
        return tuple(self.teaser(i) for i in items)

    def page(
        self,
        url: str,
        template: str,
        lang: str,
        title: str,
        key: str | None = None,
        description: str = "",
        feed: Link | None = None,
        nav_url: str = "",
        heading_lang: str = "",
        **context: Any,
    ) -> Page:
        """Build a page with the chrome and title of its language; `nav_url` marks its menu entry.

        `heading_lang` is the language of the title where it is not the page's (a name not translated into it).
        """
        full_title = f"{title} — {self.config.title[lang]}" if title else self.config.title[lang]
        chrome = self.chrome(lang)
        nav_current = nav_url or max((link.url for link in chrome.nav if url.startswith(link.url)), key=len, default="")
        return Page(
            url=url,
            template=template,
            lang=lang,
            key=key or self.urls.unprefixed(lang, url),
            title=full_title,
            description=description or self.config.description[lang],
            canonical=self.urls.absolute(url),
            feed=feed,
            context={
                "chrome": chrome,
                "heading": title,
                "heading_lang": heading_lang,
                "nav_current": nav_current,
                **context,
            },
        )

    def versions(self, alternates: Sequence[tuple[str, str]]) -> tuple[tuple[Alternate, ...], tuple[Alternate, ...]]:
        """Return a page's language versions, and its language switch (each language's version, else its home)."""
        names = {lang: self.labels(lang)["language_name"] for lang in self.config.languages}
        found = {lang: Alternate(lang, url, self.urls.absolute(url), names[lang]) for lang, url in alternates}
        switch = tuple(
            found.get(lang)
            or Alternate(lang, self.urls.home(lang), self.urls.absolute(self.urls.home(lang)), names[lang])
            for lang in self.config.languages
        )
        return tuple(found.values()), switch
