"""`csto-site check`: every check of a build without writing, plus editorial warnings.

The warnings are things a careful editor wants to know, none of them an error; each is a pure
function of the site model, the items' source texts and `now`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from .builder import Options, load, render_outputs
from .errors import Problem
from .frontmatter import split
from .model import Item, Site
from .sources import ignored_files

# A body longer than this is "long": readers of a listing need a written summary, not its first paragraph.
LONG_ITEM_WORDS = 600
# A translation may follow its original by this much before check mentions it.
TRANSLATION_GRACE = timedelta(days=1)
# What in a Markdown line is an address or markup, not prose: link targets, bare URLs, HTML tags.
NOT_PROSE = re.compile(r"\]\([^)]*\)|<[^>]*>|https?://\S+|^\s*\[[^\]]+\]:\s*\S+")
WORD = re.compile(r"\w+")


@dataclass(frozen=True)
class Checked:
    """The result of a check that found no errors: how many items it checked, and its warnings."""

    items: int
    warnings: tuple[Problem, ...]


@dataclass(frozen=True)
class Body:
    """An item's Markdown body as its file has it, with the line it starts on and its front matter."""

    lines: tuple[str, ...]
    first_line: int
    meta: Mapping[str, object]

    @property
    def words(self) -> int:
        """Count the words of prose in the body."""
        return sum(len(WORD.findall(NOT_PROSE.sub(" ", line))) for line in self.lines)


@dataclass(frozen=True)
class Names:
    """Every name and alias of the registries, to find in prose as whole words, any letter case."""

    pattern: re.Pattern[str] | None
    owners: Mapping[str, tuple[str, str]]


def check_site(options: Options, now: datetime) -> Checked:
    """Check content and templates as a build does, draw every page in memory, and collect warnings."""
    loaded = load(options, now)
    render_outputs(loaded, options.static, now)
    items = every_item(loaded.site)
    warnings = editorial_warnings(loaded.site, read_bodies(items), ignored_files(options.content), now)
    return Checked(sum(len(e.items) for e in loaded.site.editions.values()), tuple(warnings))


def read_bodies(items: Iterable[Item]) -> dict[str, Body]:
    """Read the bodies of items from their files (already checked by the build's rules)."""
    bodies = {}
    for item in items:
        front, _ = split(Path(item.path).read_text(encoding="utf-8-sig"), item.path)
        if front is not None:
            bodies[item.path] = Body(tuple(front.body.split("\n")), front.body_line, front.meta)
    return bodies


def every_item(site: Site) -> tuple[Item, ...]:
    """Return the published and the held-back items of a site."""
    return (*(item for edition in site.editions.values() for item in edition.items), *site.held_back)


def editorial_warnings(site: Site, bodies: Mapping[str, Body], ignored: Sequence[str], now: datetime) -> list[Problem]:
    """Return every warning about the content: unlisted people, missing translations and summaries, stray files."""
    items = every_item(site)
    return sorted([
        *mention_warnings(items, registry_names(site), bodies),
        *translation_warnings(site, now),
        *summary_warnings(items, bodies),
        *(Problem(path, 0, "not a Markdown file, so the build ignores it", "put images and documents under "
                  "static/ and link them as /static/<name>; name news items <name>.md", warning=True)
          for path in ignored),
    ])


def registry_names(site: Site) -> Names:
    """Collect every spelling of every official and organization, longest first."""
    owners: dict[str, tuple[str, str]] = {}
    for official in site.officials:
        for spelling in (*official.name.values(), *official.aliases):
            owners.setdefault(spelling.strip().casefold(), ("official", official.id))
    for organization in site.organizations:
        for spelling in (*organization.short.values(), *organization.name.values(), *organization.aliases):
            owners.setdefault(spelling.strip().casefold(), ("organization", organization.id))
    owners.pop("", None)
    if not owners:
        return Names(None, owners)
    alternatives = "|".join(re.escape(s) for s in sorted(owners, key=lambda s: (-len(s), s)))
    return Names(re.compile(rf"(?<!\w)(?:{alternatives})(?!\w)", re.IGNORECASE), owners)


def mention_warnings(items: Iterable[Item], names: Names, bodies: Mapping[str, Body]) -> list[Problem]:
    """Warn where a body names a registered official or organization its front matter does not list."""
    if names.pattern is None:
        return []
    problems = []
    for item in items:
        body = bodies.get(item.path)
        if body is None:
            continue
        listed = {("official", o) for o in item.officials} | {("organization", o) for o in item.organizations}
        for number, line in enumerate(body.lines, start=body.first_line):
            for match in names.pattern.finditer(NOT_PROSE.sub(" ", line)):
                owner = names.owners.get(match.group().casefold())
                if owner is None or owner in listed:
                    continue
                listed.add(owner)
                kind, ident = owner
                problems.append(Problem(item.path, number, f'the text names "{match.group()}" ({kind} `{ident}`), '
                                        f"but `{kind}s` does not list it",
                                        f"add {ident} to `{kind}s:` if the item is about them", warning=True))
    return problems


def translation_warnings(site: Site, now: datetime) -> list[Problem]:
    """Warn about published items older than a day that still lack a version in another language."""
    default = site.config.default_language
    problems = []
    for edition in site.editions.values():
        for item in edition.items:
            if now - item.published <= TRANSLATION_GRACE:
                continue
            versions = site.translations.get(item.key, {item.lang: item})
            if item.lang == default:
                missing = [lang for lang in site.config.languages if lang not in versions]
                for lang in missing:
                    problems.append(Problem(item.path, 1, f"no {lang!r} translation yet, {_age(item, now)} after "
                                            "publication", f'create it: csto-site new "<title>" --lang {lang} '
                                            f"--translation-of {item.path}", warning=True))
            elif default not in versions:
                problems.append(Problem(item.path, 1, f"no {default!r} version of this item, {_age(item, now)} "
                                        "after publication", f"if it needs one, write {_original_name(item)}",
                                        warning=True))
    return problems


def summary_warnings(items: Iterable[Item], bodies: Mapping[str, Body]) -> list[Problem]:
    """Warn about long items without a written summary: listings and feeds would show the first paragraph."""
    problems = []
    for item in items:
        body = bodies.get(item.path)
        if body is None or str(body.meta.get("summary") or "").strip():
            continue
        words = body.words
        if words > LONG_ITEM_WORDS:
            problems.append(Problem(item.path, body.first_line - 1, f"a long item ({words} words) with no summary",
                                    "add `summary:` with one or two sentences above this line", warning=True))
    return problems


def _age(item: Item, now: datetime) -> str:
    """Say how long ago an item was published, in days."""
    days = (now - item.published).days
    return f"{days} day" if days == 1 else f"{days} days"


def _original_name(item: Item) -> str:
    """Return the file name the default-language version of an item would have."""
    name = Path(item.path).name
    return name.removesuffix(f".{item.lang}.md") + ".md"
