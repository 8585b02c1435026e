"""The immutable site model: what the content says, with no I/O, templates or clock."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime

from .config import SiteConfig


@dataclass(frozen=True)
class Role:
    """A position an official held between two dates."""

    title: Mapping[str, str]
    start: date | None
    end: date | None


@dataclass(frozen=True)
class Official:
    """A person named in the news, from officials.yaml."""

    id: str
    name: Mapping[str, str]
    aliases: tuple[str, ...]
    roles: tuple[Role, ...]


@dataclass(frozen=True)
class Organization:
    """An organization named in the news, from organizations.yaml."""

    id: str
    short: Mapping[str, str]
    name: Mapping[str, str]
    aliases: tuple[str, ...]


@dataclass(frozen=True)
class Section:
    """A section folder of content/, with its title per language."""

    id: str
    title: Mapping[str, str]
    description: Mapping[str, str]


@dataclass(frozen=True)
class Alias:
    """An old address of an item, and the front-matter line that gives it."""

    url: str
    line: int


@dataclass(frozen=True)
class Item:
    """One news item in one language."""

    key: str
    lang: str
    path: str
    section: str
    title: str
    published: datetime
    updated: datetime | None
    slug: str
    summary: str
    body_html: str
    officials: tuple[str, ...]
    organizations: tuple[str, ...]
    draft: bool
    aliases: tuple[Alias, ...]
    digest: str
    # The site-local day the item is filed under: derived, kept because every listing groups by it.
    day: date = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        """Derive the filing day."""
        object.__setattr__(self, "day", self.published.date())


@dataclass(frozen=True)
class Month:
    """The items of one month, grouped by day, newest first."""

    year: int
    month: int
    days: tuple[tuple[date, tuple[Item, ...]], ...]

    @property
    def items(self) -> tuple[Item, ...]:
        """Return every item of the month, newest first."""
        return tuple(item for _, items in self.days for item in items)


@dataclass(frozen=True)
class Year:
    """The months of one year that have items, newest first."""

    year: int
    months: tuple[Month, ...]

    @property
    def items(self) -> tuple[Item, ...]:
        """Return every item of the year, newest first."""
        return tuple(item for month in self.months for item in month.items)

    @property
    def count(self) -> int:
        """Return the number of items in the year."""
        return sum(len(m.items) for m in self.months)


@dataclass(frozen=True)
class Edition:
    """One language's share of the site: its items and every listing of them."""

    lang: str
    items: tuple[Item, ...]
    archive: tuple[Year, ...]
    sections: Mapping[str, tuple[Item, ...]]
    section_archives: Mapping[str, tuple[Year, ...]]
    officials: Mapping[str, tuple[Item, ...]]
    organizations: Mapping[str, tuple[Item, ...]]
    older: Mapping[str, Item]
    newer: Mapping[str, Item]


@dataclass(frozen=True)
class Site:
    """The whole site: configuration, registries, and one edition per language."""

    config: SiteConfig
    sections: tuple[Section, ...]
    officials: tuple[Official, ...]
    organizations: tuple[Organization, ...]
    editions: Mapping[str, Edition]
    translations: Mapping[str, Mapping[str, Item]]
    held_back: tuple[Item, ...]
