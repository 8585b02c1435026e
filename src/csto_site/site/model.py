"""The site model: every language's listings of the published items, derived from the content (pure)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date

from ..content.config import SiteConfig
from ..content.model import Item, Official, Organization, Section
from ..content.record import Record
from ..util.errors import Problem

# The kinds of listing scopes: all news, a section, an official, an organization.
NEWS, SECTION, OFFICIAL, ORGANIZATION = "news", "section", "official", "organization"


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

    @property
    def count(self) -> int:
        """Return the number of items in the month (without gathering them)."""
        return sum(len(items) for _, items in self.days)


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
        return sum(m.count for m in self.months)


@dataclass(frozen=True)
class Edition:
    """One language's share of the site: its items and every listing of them."""

    lang: str
    items: tuple[Item, ...]
    sections: Mapping[str, tuple[Item, ...]]
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
    versions: Mapping[str, Mapping[str, Item]]  # every published item's language versions, by translation key
    held_back: tuple[Item, ...]
    # Every address the site has published (content/addresses.txt): each is kept, redirected or retracted.
    record: Record = field(default_factory=lambda: Record("", {}, ""))
    # The registries' warnings: names missing in a language or written in another's letters.
    registry_warnings: tuple[Problem, ...] = ()


@dataclass(frozen=True)
class Scope:
    """A listing of one language's items: all news, a section, an official or an organization, maybe one period."""

    kind: str
    lang: str
    id: str = ""
    year: int | None = None
    month: int | None = None
    day: int | None = None

    @property
    def key(self) -> str:
        """Name the scope: kind|lang|id, then the year, month and day it is narrowed to."""
        parts = [self.kind, self.lang, self.id]
        parts += [f"{n:02d}" if i else str(n) for i, n in enumerate((self.year, self.month, self.day)) if n is not None]
        return "|".join(parts)

    def at(self, year: int, month: int | None = None, day: int | None = None) -> Scope:
        """Narrow the scope to a year, month or day."""
        return Scope(self.kind, self.lang, self.id, year, month, day)

    @property
    def whole(self) -> Scope:
        """Return the scope without its period."""
        return Scope(self.kind, self.lang, self.id)
