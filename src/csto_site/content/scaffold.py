"""`csto-site new`: create a news item file, or the translation of one, ready to edit."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from functools import partial
from pathlib import Path

import yaml

from ..util.errors import ContentError, Problem
from ..util.files import unreadable
from .config import SiteConfig, load_config, text_error
from .items import (
    FALLBACK_SLUG,
    DateError,
    ParsedItem,
    item_language,
    link_translations,
    make_slug,
    parse_item,
    read_moment,
    several_names,
    unknown_name_hint,
)
from .labels import load_labels
from .record import item_root
from .registry import Registry, load_registry
from .scripts import language_name
from .sources import read_sections, read_source

# The slug the build takes for each of some item files from the record of published addresses (content/,
# the items, the site's configuration): the build's own rule, given by the command line (it sits above).
Published = Callable[[Path, Sequence[ParsedItem], SiteConfig], Mapping[str, str]]
# The item file the record of published addresses names for the address of a language, day and slug ("" for
# an address of no item), or None when the record has no such address: the build's rule, like Published.
Owners = Callable[[Path, SiteConfig], Callable[[str, date, str], str | None]]
# Why a file (its bytes and name) cannot be published as a photo, as (message, hint), or None: the build's
# own check, given by the command line (it sits above).
PhotoCheck = Callable[[bytes, str], tuple[str, str] | None]


@dataclass(frozen=True)
class Rules:
    """The build's own rules `new` follows, given by the command line (it sits above)."""

    published: Published
    owners: Owners
    check_photo: PhotoCheck


@dataclass(frozen=True)
class Request:
    """What the editor asked `new` for."""

    title: str
    section: str | None = None
    officials: tuple[str, ...] = ()
    organizations: tuple[str, ...] = ()
    lang: str | None = None
    date: str | None = None
    translation_of: Path | None = None
    bundle: bool = False  # make the item a folder (index.md), ready for its photos and documents
    photos: tuple[Path, ...] = ()  # photos to copy into the item's folder; the first is the lead photo


@dataclass(frozen=True)
class Plan:
    """The file to write, its text, and what decides the item's address."""

    path: Path
    text: str
    lang: str
    published: datetime
    slug: str
    taken: str = ""  # see Created


@dataclass(frozen=True)
class Created:
    """The file `new` wrote and the address the item will have."""

    path: Path
    lang: str
    published: datetime
    slug: str
    config: SiteConfig
    taken: str = ""  # the item file that has the address the title gives (this item takes another slug), if any


def create_item(request: Request, content: Path, templates: Path, now: datetime, rules: Rules) -> Created:
    """Write a new item file with its front matter filled in; raise ContentError, never overwrite.

    A translation's address is the one the build gives it: its original's slug as `rules.published` says.
    An original whose title gives the address of another item (in the record, or a file of another section
    not built yet) takes the next free one, `<slug>-2` and so on, by a `slug:` line. Each photo to copy
    must pass `rules.check_photo`, the build's check, before anything is written.
    """
    labels, label_problems = load_labels(templates)
    if label_problems:
        raise ContentError(label_problems)
    config = load_config(content, labels, str(templates / "labels.yaml"))
    sections, problems = read_sections(content)
    registry = load_registry(content, config, sections)
    if problems:
        raise ContentError(problems)
    title = " ".join(request.title.split())
    if not title:
        raise ContentError([Problem("TITLE", 0, "the title is empty", 'write it in quotes: new "The title"')])
    reason, _ = text_error(title)
    if reason:
        raise ContentError([Problem("TITLE", 0, f"the title {reason}", "type the title again without it")])
    if request.translation_of is not None:
        plan = _translation(request, title, content, config, registry, rules.published)
    else:
        plan = _original(request, title, content, config, registry, now, rules.owners(content, config))
    _check_photos(request, rules.check_photo)
    folder = plan.path.parent
    made = not folder.exists()
    try:
        folder.mkdir(parents=True, exist_ok=True)
        file = plan.path.open("x", encoding="utf-8")
    except FileExistsError:
        raise ContentError([_exists(plan.path, request.translation_of is not None)]) from None
    except OSError as exc:
        raise ContentError(
            [
                Problem(
                    str(plan.path),
                    0,
                    f"cannot write the file: {exc.strerror}",
                    "check that the folder can be written to",
                )
            ]
        ) from None
    try:
        with file:
            file.write(plan.text)
        for photo in request.photos:
            shutil.copyfile(photo, folder / photo.name)
    except BaseException:
        # A full disk or Ctrl+C must not leave an empty item (or the year's folder made for it) behind.
        plan.path.unlink(missing_ok=True)
        for photo in request.photos:
            (folder / photo.name).unlink(missing_ok=True)
        if made:
            folder.rmdir()
        raise
    return Created(plan.path, plan.lang, plan.published, plan.slug, config, plan.taken)


def _exists(path: Path, translation: bool) -> Problem:
    """Refuse to overwrite a file: an original's name comes from its title, a translation's from its original."""
    if translation:
        return Problem(
            str(path),
            0,
            "this translation already exists",
            f"edit {path.name}: a translation is named after its original, whatever its title",
        )
    return Problem(str(path), 0, "this file already exists", "edit it, or choose another title")


def _original(
    request: Request,
    title: str,
    content: Path,
    config: SiteConfig,
    registry: Registry,
    now: datetime,
    owner: Callable[[str, date, str], str | None],
) -> Plan:
    """Plan a new item in its section's folder for its year."""
    problems: list[Problem] = []
    lang = _language(request.lang, config, problems)
    section = request.section or ""
    if section not in {s.id for s in registry.sections}:
        problems.append(
            Problem(
                "--section",
                0,
                f'unknown section "{section}"',
                registry.section_hint(section) or f"create {section}/_index.md with a `title:` line",
            )
        )
    officials, organizations = _people(request, content, config, registry, lang, problems)
    published = now.astimezone(config.tz).replace(second=0, microsecond=0)
    if request.date is not None:
        try:
            published = read_moment(request.date, config.tz)
        except DateError as exc:
            problems.append(Problem("--date", 0, str(exc), exc.hint))
    if problems:
        raise ContentError(problems)
    titled = make_slug(title) or FALLBACK_SLUG
    suffix = "" if lang == config.default_language else f".{lang}"
    year = f"{published:%Y}"
    folder = request.bundle or bool(request.photos)

    def place(section: str, slug: str) -> Path:
        """Return the file of an item of this day and slug in a section."""
        name = f"{published:%Y-%m-%d}-{slug}"
        return (
            content / section / year / name / f"index{suffix}.md"
            if folder
            else content / section / year / f"{name}{suffix}.md"
        )

    def holder(slug: str) -> str | None:
        """Return the item that has this slug's address: in the record, or a file of another section."""
        recorded = owner(lang, published.date(), slug)
        if recorded is not None and Path(recorded) != place(section, slug):
            return recorded or "an address the site has published"
        others = (place(s.id, slug) for s in registry.sections if s.id != section)
        return next((str(p) for p in others if p.exists()), None)

    slug, number, taken = titled, 1, holder(titled)
    found = taken
    while found is not None:
        number += 1
        slug = f"{titled}-{number}"
        found = holder(slug)
    written = request.date.strip() if request.date else f"{published:%Y-%m-%d %H:%M}"
    text = front_matter(
        title,
        written,
        [_official_name(registry, o, lang) for o in officials],
        [_organization_name(registry, o, lang) for o in organizations],
        [p.name for p in request.photos],
        slug if slug != titled else "",
    )
    return Plan(place(section, slug), text, lang, published, slug, taken or "")


def _translation(
    request: Request, title: str, content: Path, config: SiteConfig, registry: Registry, published: Published
) -> Plan:
    """Plan the translation of an existing item: same folder, date, people and slug, the language's suffix."""
    parsed = _read_original(request.translation_of or Path(), content, config, registry)
    # The original's slug is the one it was published under (a title edited since keeps it), as the build says.
    [original], _ = link_translations([parsed], config, published(content, [parsed], config))
    problems: list[Problem] = []
    others = config.languages[1:]
    lang = _language(request.lang or (others[0] if others else None), config, problems)
    if lang == config.default_language:
        problems.append(
            Problem("--lang", 0, f"{lang!r} is the language of the original", f"choose one of: {', '.join(others)}")
        )
    if request.section not in (None, original.section):
        problems.append(
            Problem(
                "--section",
                0,
                f"the original is in the section {original.section!r}",
                "leave out --section: a translation stays beside its original",
            )
        )
    if request.date is not None:
        problems.append(Problem("--date", 0, "a translation carries its original's date", "leave out --date"))
    officials, organizations = _people(request, content, config, registry, lang, problems)
    if problems:
        raise ContentError(problems)
    source = Path(original.path)
    path = source.with_name(source.name.removesuffix(".md") + f".{lang}.md")
    text = front_matter(
        title,
        f"{original.published:%Y-%m-%d %H:%M}",
        [_official_name(registry, o, lang) for o in officials or original.officials],
        [_organization_name(registry, o, lang) for o in organizations or original.organizations],
    )
    return Plan(path, text, lang, original.published, original.slug)


def _read_original(given: Path, content: Path, config: SiteConfig, registry: Registry) -> ParsedItem:
    """Read and check the item a translation is made of, with the build's own rules; a folder item is its index.md.

    The item file is named as the build names it (below `content`), whatever path was given.
    """
    path = given / "index.md" if given.is_dir() else given
    if not path.exists():
        raise ContentError([_missing(given, path)])
    try:
        rel = path.resolve().relative_to(content.resolve()).as_posix()
    except ValueError:
        raise ContentError(
            [
                Problem(
                    str(path),
                    0,
                    f"the file is not inside the content folder {content}",
                    "give the path of an item under the content folder",
                )
            ]
        ) from None
    source = read_source(Path(item_root(content) + rel), rel)
    if isinstance(source, Problem):
        raise ContentError([source])
    language = item_language(rel, config)
    if language != (rel.removesuffix(".md"), config.default_language):
        raise ContentError([_not_an_original(path, language, config)])
    parsed, problems = parse_item(source, registry, config, lambda body, lang: "", need_text=False)
    if parsed is None or problems:
        raise ContentError(problems)
    return parsed


def _not_an_original(path: Path, language: tuple[str, str] | str, config: SiteConfig) -> Problem:
    """Say that a file given as an original is a translation: give its original, or write one by hand."""
    message = f"this file is not an original in the default language ({language_name(config.default_language)})"
    if isinstance(language, str):
        return Problem(str(path), 0, message, language)
    original = path.with_name(Path(language[0]).name + ".md")
    if original.is_file():
        return Problem(str(path), 0, message, f"give its original, {original}")
    return Problem(
        str(path),
        0,
        f"{message}, and there is none: new makes translations of originals only",
        f"to add the {language_name(config.default_language)} version, copy this file to {original} and "
        "translate it, keeping its `date:`",
    )


def _missing(given: Path, path: Path) -> Problem:
    """Say that the original a translation is asked for does not exist, and where to copy its path from."""
    if path != given:
        return Problem(
            str(given),
            0,
            "this folder is not an item: it holds no index.md",
            "give the item's .md file, or the folder of an item with an index.md",
        )
    shown = next(folder for folder in path.parents if folder.is_dir())
    return Problem(
        str(given),
        0,
        "there is no such file",
        f"check the path: copy it from the list of the files there, e.g. `ls {shown}`",
    )


def _language(lang: str | None, config: SiteConfig, problems: list[Problem]) -> str:
    """Return the language asked for (default: the site's first), recording a problem if unknown."""
    if lang is None:
        return config.default_language
    if lang not in config.languages:
        problems.append(
            Problem("--lang", 0, f"unknown language {lang!r}", f"languages in site.yaml: {', '.join(config.languages)}")
        )
        return config.default_language
    return lang


def _people(
    request: Request, content: Path, config: SiteConfig, registry: Registry, lang: str, problems: list[Problem]
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Return the registry ids of the officials and organizations a `lang` item names, collecting unknown names."""
    hint = partial(unknown_name_hint, registry, f"{content}/", config, lang)  # the build's hint
    officials = _resolve(request.officials, registry.official, hint, "official", problems)
    organizations = _resolve(request.organizations, registry.organization, hint, "organization", problems)
    return officials, organizations


def _resolve(
    names: Sequence[str],
    resolve: Callable[[str], str | None],
    hint: Callable[[str, str], str],
    kind: str,
    problems: list[Problem],
) -> tuple[str, ...]:
    """Return the ids of registry names, recording the build's error and hint for unknown ones and for lists in one."""
    ids: list[str] = []
    for given in names:
        parts = several_names(given) if resolve(given) is None else []
        if parts:
            each = " ".join(f'--{kind} "{part}"' for part in parts)
            problems.append(Problem(f"--{kind}", 0, f'"{given}" looks like several names', f"give each one: {each}"))
        for name in parts or [given]:
            found = resolve(name)
            if found is None:
                problems.append(Problem(f"--{kind}", 0, f'unknown {kind} "{name}"', hint(name, kind)))
            elif found not in ids:
                ids.append(found)
    return tuple(ids)


def _official_name(registry: Registry, official: str, lang: str) -> str:
    """Return an official's name in a language, as the front matter lists it."""
    return next(o.name[lang] for o in registry.officials if o.id == official)


def _organization_name(registry: Registry, organization: str, lang: str) -> str:
    """Return an organization's short name in a language, as the front matter lists it."""
    return next(o.short[lang] for o in registry.organizations if o.id == organization)


def front_matter(
    title: str,
    date: str,
    officials: Sequence[str],
    organizations: Sequence[str],
    photos: Sequence[str] = (),
    slug: str = "",
) -> str:
    """Write the front matter of a new item, with the optional keys shown as comments.

    Each commented key becomes valid front matter once its `# ` is deleted; what it does stays a comment.
    Each photo's alt text is left empty: the build refuses it until someone says what the photo shows.
    """
    lines = ["---", f"title: {_yaml(title)}", f"date: {date}"]
    if slug:
        lines.append(f"slug: {slug}   # the title's address is another item's")
    if officials:
        lines.append(f"officials: {_yaml(list(officials))}")
    if organizations:
        lines.append(f"organizations: {_yaml(list(organizations))}")
    for number, photo in enumerate(photos):
        if number == 0:
            lines += [
                "image:",
                f"  file: {_yaml(photo)}",
                '  alt: ""',
                '  # caption: ""   # a sentence shown under the photo',
                '  # credit: ""   # who took the photo',
            ]
        else:
            lines += ["gallery:"] if number == 1 else []
            lines += [f"  - file: {_yaml(photo)}", '    alt: ""']
    lines += [
        '# summary: ""   # one or two sentences for listings and feeds (without it, they show the first paragraph)',
        "# draft: true   # keeps the item off the site until you delete this line",
        "---",
        "",
        "",
    ]
    return "\n".join(lines)


def _check_photos(request: Request, check_photo: PhotoCheck) -> None:
    """Refuse photos that are not files, two of one name, or one the build would refuse, before anything is written."""
    problems = []
    names: set[str] = set()
    for photo in request.photos:
        if not photo.is_file():
            problems.append(Problem(str(photo), 0, "there is no such file", "give the path of the photo to copy"))
        elif photo.name in names or photo.name.startswith("index."):
            problems.append(Problem(str(photo), 0, "another photo has this name", "rename one of them"))
        else:
            problems += _refused_photo(photo, check_photo)
        names.add(photo.name)
    if request.photos and request.translation_of is not None:
        problems.append(
            Problem("--photo", 0, "a translation shows its original's photos", "copy the photo into the item's folder")
        )
    if problems:
        raise ContentError(problems)


def _refused_photo(photo: Path, check_photo: PhotoCheck) -> list[Problem]:
    """Return the build's problem with a photo to copy (none if it would publish it)."""
    try:
        data = photo.read_bytes()
    except OSError as exc:
        return [unreadable(str(photo), exc)]
    refused = check_photo(data, photo.name)
    return [Problem(str(photo), 0, *refused)] if refused is not None else []


def _yaml(value: str | list[str]) -> str:
    """Write text or a list of texts as one line of YAML, quoted where plain text would be misread."""
    text = yaml.safe_dump(
        value if isinstance(value, list) else [value], allow_unicode=True, default_flow_style=True, width=2**31
    ).strip()
    return text if isinstance(value, list) else text[1:-1]
