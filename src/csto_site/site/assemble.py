"""Assemble the immutable site model from parsed items: pure, `now` passed in."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, date, datetime
from itertools import groupby, pairwise
from operator import attrgetter
from zoneinfo import ZoneInfo

from ..content.config import SiteConfig
from ..content.model import Item
from ..content.record import Record
from ..content.registry import Registry
from ..util.errors import Problem
from .model import Edition, Month, Site, Year
from .urls import Urls

_DAY = attrgetter("day")
_PATH = attrgetter("path")
_PUBLISHED = attrgetter("published")


def newest_first(items: Iterable[Item]) -> tuple[Item, ...]:
    """Sort items newest first; equal times keep a stable order by file path."""
    # Two stable sorts: by path, then by time (aware datetimes compare as instants), newest first.
    return tuple(sorted(sorted(items, key=_PATH), key=_PUBLISHED, reverse=True))


def is_published(item: Item, now: datetime, drafts: bool = False, future: bool = False) -> bool:
    """Tell whether an item belongs in this build."""
    return (drafts or not item.draft) and (future or item.published <= now)


def _site_local(now: datetime, tz: ZoneInfo) -> datetime:
    """Return `now` in the site time zone, unless it falls in an hour the zone's clocks repeat.

    Items' dates are in the site time zone, and two datetimes of one zone compare by their clock
    readings without converting them: the same order as the instants, except inside a repeated hour.
    """
    local = now.astimezone(tz)
    return local if local.replace(fold=1 - local.fold).utcoffset() == local.utcoffset() else now


def dated_between(items: Iterable[Item], start: float, end: float, tz: ZoneInfo) -> list[Item]:
    """Return the items dated after the instant `start` and up to `end` (POSIX timestamps, either order)."""
    # Bounds in the site time zone, as items are dated: each item's date is compared without converting it.
    low, high = (_site_local(datetime.fromtimestamp(t, UTC), tz) for t in sorted((start, end)))
    return [i for i in items if low < i.published <= high]


def build_archive(items: Sequence[Item]) -> tuple[Year, ...]:
    """Group newest-first items into years, months and days."""
    days = [(day, tuple(of_day)) for day, of_day in groupby(items, key=_DAY)]
    years = []
    for year, in_year in groupby(days, key=lambda d: d[0].year):
        months = groupby(in_year, key=lambda d: d[0].month)
        years.append(Year(year, tuple(Month(year, month, tuple(in_month)) for month, in_month in months)))
    return tuple(years)


def find_duplicate_urls(
    items: Iterable[Item], urls: Urls, slug_line: Callable[[Item], tuple[int, bool]], record: Record
) -> list[Problem]:
    """Report items of one language that would be written to the same URL.

    `slug_line` gives the line an item's slug comes from, and whether that is an explicit `slug:`. Of
    two items on one address, the one the record names keeps it (its page is published): the other is
    reported; else the later by path.
    """
    owners: dict[tuple[str, date, str], Item] = {}
    problems = []
    for item in sorted(items, key=_PATH):
        place = urls.item_place(item)  # not the URL itself: formatted only when shared
        first = owners.setdefault(place, item)
        if first is item:
            continue
        url = urls.item(item)
        recorded = record.entries.get(url)
        owner, other = (item, first) if recorded is not None and recorded.source == item.path else (first, item)
        owners[place] = owner
        line, explicit = slug_line(other)
        if recorded is not None and recorded.source == owner.path:
            message = f"{url} is already the address of {owner.path}, published"
            hint = (
                "give this item another `slug:`" if explicit else "give this item another title or an explicit `slug:`"
            ) + ": a published item keeps its address"
        else:
            message = f"{url} is already the address of {owner.path}"
            hint = (
                "give one of them another `slug:`"
                if explicit
                else "give one of them another title or an explicit `slug:`"
            )
        problems.append(Problem(other.path, line, message, hint))
    return problems


def build_edition(lang: str, items: tuple[Item, ...], registry: Registry) -> Edition:
    """Build one language's listings from its newest-first items."""
    sections: dict[str, list[Item]] = {s.id: [] for s in registry.sections}
    officials: dict[str, list[Item]] = {o.id: [] for o in registry.officials}
    organizations: dict[str, list[Item]] = {o.id: [] for o in registry.organizations}
    for item in items:
        sections[item.section].append(item)
        for official in item.officials:
            officials[official].append(item)
        for organization in item.organizations:
            organizations[organization].append(item)
    older: dict[str, Item] = {}
    newer: dict[str, Item] = {}
    for in_section in sections.values():
        for new, old in pairwise(in_section):
            older[new.key] = old
            newer[old.key] = new
    return Edition(
        lang=lang,
        items=items,
        sections=_freeze(sections),
        officials=_freeze(officials),
        organizations=_freeze(organizations),
        older=older,
        newer=newer,
    )


def _freeze(groups: Mapping[str, list[Item]]) -> dict[str, tuple[Item, ...]]:
    """Turn lists into tuples."""
    return {key: tuple(items) for key, items in groups.items()}


def build_site(
    items: Iterable[Item],
    registry: Registry,
    config: SiteConfig,
    now: datetime,
    drafts: bool = False,
    future: bool = False,
    record: Record | None = None,
) -> Site:
    """Build the site model: editions per language, the language versions of each item, held-back items."""
    shown_list: list[Item] = []
    held_list: list[Item] = []
    now = _site_local(now, config.tz)
    ordered = newest_first(items)
    # A translation waits for its original: published alone, it would take the draft's working title for good.
    drafted = set() if drafts else {i.key for i in ordered if i.draft and i.lang == config.default_language}
    for item in ordered:
        (shown_list if is_published(item, now, drafts, future) and item.key not in drafted else held_list).append(item)
    shown, held_back = tuple(shown_list), tuple(held_list)
    by_lang: dict[str, list[Item]] = defaultdict(list)
    versions: dict[str, dict[str, Item]] = defaultdict(dict)
    for item in shown:
        by_lang[item.lang].append(item)
        versions[item.key][item.lang] = item
    return Site(
        config=config,
        sections=registry.sections,
        officials=registry.officials,
        organizations=registry.organizations,
        editions={lang: build_edition(lang, tuple(by_lang[lang]), registry) for lang in config.languages},
        versions=dict(versions),
        held_back=held_back,
        record=record or Record("", {}, ""),
        registry_warnings=registry.warnings,
    )
