"""`csto-site check`: every check of a build without writing, plus editorial warnings.

The warnings are things a careful editor wants to know, none of them an error; each is a pure
function of the site model, the items' source texts and `now`.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from pathlib import Path

from ..content.frontmatter import split
from ..content.model import Item
from ..content.scripts import folded
from ..content.sources import ignored_files
from ..site.model import Site
from ..util.errors import Problem
from ..util.parallel import chunked, default_jobs, fork_map
from .editorial import model_warnings
from .media import small_leads
from .options import Options

# A body longer than this is "long": readers of a listing need a written summary, not its first paragraph.
LONG_ITEM_WORDS = 600
# Items whose texts one worker reads and scans at a time.
WARNING_CHUNK = 500
# A translation may follow its original by this much before check mentions it.
TRANSLATION_GRACE = timedelta(days=1)
# Missing translations are listed one by one for this long; older ones are counted in one line, so
# that twenty years of archive do not bury this week's warnings.
TRANSLATION_RECENT = timedelta(days=30)
# What in a Markdown line is an address or markup, not prose: link targets, bare URLs, HTML tags.
# Each part stops at the character that would start another try of it ("]" for a link target, "<"
# for a tag), so a long run of "](" or "<" is read once, not once per character.
NOT_PROSE = re.compile(r"\]\([^)\]]*\)|<[^<>]*>|https?://\S+|^\s*\[[^\]]+\]:\s*\S+")
WORD = re.compile(r"\w+")
WORD_CHAR = re.compile(r"\w")


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
    """Every name and alias of the registries, filed under their first word (any letter case) and length.

    Under each first word, (length, {spelling: owner}) longest first: a word of the text is compared
    once per length, not once per name (a registry may hold hundreds of Ivans).
    """

    by_first_word: Mapping[str, tuple[tuple[int, Mapping[str, tuple[str, str]]], ...]]

    def find(self, prose: str) -> Iterator[tuple[str, tuple[str, str]]]:
        """Yield each name in a line of prose, as written, with its (kind, id); whole words only."""
        if self.by_first_word.keys().isdisjoint(WORD.findall(folded(prose))):
            return  # most lines name nobody: one set test in C instead of a loop over their words
        for word in WORD.finditer(prose):
            for length, spellings in self.by_first_word.get(folded(word.group()), ()):
                end = word.start() + length
                written = prose[word.start() : end]
                owner = spellings.get(folded(written))
                if owner is not None and not WORD_CHAR.match(prose, end):
                    yield written, owner
                    break


def check_site(options: Options, now: datetime, published: str, external: float | None = None) -> Checked:
    """Check content and templates as a build does, draw the pages in memory, and collect warnings.

    `published` is the generation of the build state the live site was published with ("" if unknown):
    what that build drew from the very same inputs is not drawn again. With `external` (a time-out in
    seconds), the links to other sites are fetched too.
    """
    from .pipeline import check_outputs  # the pipeline imports Jinja2, Python-Markdown and the rest

    site, unrecorded = check_outputs(options, now, published)
    # Reading and scanning every item's text is most of a check after a build: spread over the cores.
    found = fork_map(
        partial(_chunk_warnings, registry_names(site)),
        chunked(every_item(site), WARNING_CHUNK),
        options.jobs or default_jobs(),
    )
    warnings = sorted(
        [
            *(w for chunk in found for w in chunk),
            *site_warnings(site, unnamed(site, ignored_files(options.content)), now, str(options.content)),
            *(external_warnings(site, options.cache, external) if external is not None else ()),
            *unrecorded,
        ]
    )
    return Checked(sum(len(e.items) for e in site.editions.values()), tuple(warnings))


def external_warnings(site: Site, cache: Path | None, timeout: float) -> list[Problem]:
    """Fetch every address of another site the published items link; warn of each that does not answer."""
    from .external import check_external, external_links

    items = [item for edition in site.editions.values() for item in edition.items]
    bodies = read_bodies(items)
    lines = ((path, body.first_line + n, text) for path, body in bodies.items() for n, text in enumerate(body.lines))
    return check_external(external_links(lines), cache, time.time(), timeout)


def unnamed(site: Site, ignored: Sequence[str]) -> list[str]:
    """Leave out of the ignored files those an item that is a folder names: its photos and documents."""
    named = {f"{item.bundle}/{file.name}" for item in every_item(site) for file in item.files}
    return [path for path in ignored if path not in named]


def _chunk_warnings(names: Names, items: Sequence[Item]) -> list[Problem]:
    """Read a run of items' texts and return their warnings."""
    return item_warnings(items, names, read_bodies(items))


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


def item_warnings(items: Sequence[Item], names: Names, bodies: Mapping[str, Body]) -> list[Problem]:
    """Return the warnings about what items say: registered names their lists lack, long texts without a summary."""
    return [*mention_warnings(items, names, bodies), *summary_warnings(items, bodies)]


def site_warnings(site: Site, ignored: Sequence[str], now: datetime, content: str) -> list[Problem]:
    """Return the warnings about the content as a whole: missing translations, files the build ignores."""
    return [
        *translation_warnings(site, now, content),
        *model_warnings(site, Path(content)),
        *small_leads(every_item(site)),  # as every build says
        *(
            Problem(
                path,
                0,
                "not a Markdown file, nor a photo or document an item names, so the build ignores it",
                "name it under `image:`, `gallery:` or `attachments:` of the item in its folder (see docs/guide.md,"
                " Photos and documents); name news items <name>.md",
                warning=True,
            )
            for path in ignored
        ),
    ]


def registry_names(site: Site) -> Names:
    """Collect every spelling of every official and organization, longest first under each first word.

    The organization that publishes the site (its name is the site's title) is left out: nearly every
    item names it, and listing it on every item would say nothing.
    """
    owners: dict[str, tuple[str, str]] = {}
    for official in site.officials:
        for spelling in (*official.name.values(), *official.aliases):
            owners.setdefault(folded(spelling), ("official", official.id))
    publisher = {folded(title) for title in site.config.title.values()}
    for organization in site.organizations:
        if publisher & {folded(name) for name in organization.name.values()}:
            continue
        for spelling in (*organization.short.values(), *organization.name.values(), *organization.aliases):
            owners.setdefault(folded(spelling), ("organization", organization.id))
    by_first_word: dict[str, dict[int, dict[str, tuple[str, str]]]] = {}
    for spelling, owner in owners.items():
        words = WORD.findall(spelling)
        if words and spelling.startswith(words[0]):
            by_first_word.setdefault(words[0], {}).setdefault(len(spelling), {})[spelling] = owner
    return Names({word: tuple(sorted(lengths.items(), reverse=True)) for word, lengths in by_first_word.items()})


def mention_warnings(items: Iterable[Item], names: Names, bodies: Mapping[str, Body]) -> list[Problem]:
    """Warn where a body names a registered official or organization its front matter does not list."""
    problems = []
    for item in items:
        body = bodies.get(item.path)
        if body is None:
            continue
        listed = {("official", o) for o in item.officials} | {("organization", o) for o in item.organizations}
        for number, line in enumerate(body.lines, start=body.first_line):
            for written, owner in names.find(NOT_PROSE.sub(" ", line)):
                if owner in listed:
                    continue
                listed.add(owner)
                kind, ident = owner
                problems.append(
                    Problem(
                        item.path,
                        number,
                        f'the text names "{written}" ({kind} `{ident}`), but `{kind}s` does not list it',
                        f"add {ident} to `{kind}s:` if the item is about them",
                        warning=True,
                    )
                )
    return problems


def translation_warnings(site: Site, now: datetime, content: str) -> list[Problem]:
    """Warn about published items older than a day that lack a version in another language; count old ones."""
    problems = []
    older = 0
    for edition in site.editions.values():
        for item in edition.items:
            age = now - item.published
            missing = missing_languages(site, item)
            if age <= TRANSLATION_GRACE or not missing:
                continue
            if age > TRANSLATION_RECENT:
                older += 1
            else:
                problems += [translation_warning(site, item, lang, now) for lang in missing]
    if older:
        problems.append(
            Problem(
                content,
                0,
                f"{older} item{'s' * (older != 1)} published more than "
                f"{TRANSLATION_RECENT.days} days ago lack{'s' * (older == 1)} a translation",
                f"only the last {TRANSLATION_RECENT.days} days are listed one by one",
                warning=True,
            )
        )
    return problems


def missing_languages(site: Site, item: Item) -> tuple[str, ...]:
    """Return the languages an item lacks: every other one for an original, the default for a translation."""
    default = site.config.default_language
    versions = site.versions[item.key]
    if item.lang != default:
        return () if default in versions else (default,)
    return tuple(lang for lang in site.config.languages if lang not in versions)


def translation_warning(site: Site, item: Item, lang: str, now: datetime) -> Problem:
    """Describe one missing version of an item and how to add it."""
    days = (now - item.published).days
    age = f"{days} day{'s' * (days != 1)} after publication"
    if item.lang == site.config.default_language:
        return Problem(
            item.path,
            1,
            f"no {lang!r} translation yet, {age}",
            f'create it: csto-site new "<title>" --lang {lang} --translation-of {item.path}',
            warning=True,
        )
    return Problem(
        item.path,
        1,
        f"no {lang!r} version of this item, {age}",
        f"if it needs one, write {_original_name(item)}",
        warning=True,
    )


def summary_warnings(items: Iterable[Item], bodies: Mapping[str, Body]) -> list[Problem]:
    """Warn about long items without a written summary: listings and feeds would show the first paragraph."""
    problems = []
    for item in items:
        body = bodies.get(item.path)
        if body is None or str(body.meta.get("summary") or "").strip():
            continue
        words = body.words
        if words > LONG_ITEM_WORDS:
            problems.append(
                Problem(
                    item.path,
                    body.first_line - 1,
                    f"a long item ({words} words) with no summary",
                    "add `summary:` with one or two sentences above this line",
                    warning=True,
                )
            )
    return problems


def _original_name(item: Item) -> str:
    """Return the file name the default-language version of an item would have."""
    name = Path(item.path).name
    return name.removesuffix(f".{item.lang}.md") + ".md"
