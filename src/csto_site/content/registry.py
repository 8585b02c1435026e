"""The registries: officials, organizations and sections, with name lookup and hints."""

from __future__ import annotations

import posixpath
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any, TypeVar

from ..util.errors import ContentError, Problem, did_you_mean
from ..util.files import NAME_BYTES, read_text
from .config import FieldChecker, SiteConfig, text_error, year_error
from .frontmatter import load_yaml, split
from .model import Official, Organization, Role, Section
from .scripts import folded, foreign_script, language_name
from .sources import SourceFile

IDENTIFIER = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
RESERVED_SECTIONS = frozenset({"static", "news", "sections", "officials", "organizations", "search"})
# An entry of a registry file: an official or an organization.
Entry = TypeVar("Entry", bound=Official | Organization)


@dataclass(frozen=True)
class Registry:
    """Officials, organizations and sections, and the names that point to them."""

    officials: tuple[Official, ...]
    organizations: tuple[Organization, ...]
    sections: tuple[Section, ...]
    official_names: Mapping[str, str]
    organization_names: Mapping[str, str]
    # Every folder with a section index (_index.md), right or not: a wrong one is its index's problem alone.
    indexed: frozenset[str] = frozenset()
    # What the press secretary should fix but the build can live with: names missing or in another's letters.
    warnings: tuple[Problem, ...] = ()
    # The kinds ("official", "organization") whose registry file could not be read as a whole: its problem
    # is the one to tell, not a name of every item it makes unknown.
    unread: frozenset[str] = frozenset()

    def official(self, name: str) -> str | None:
        """Return the id of the official with this id, name or alias."""
        return self.official_names.get(folded(name))

    def organization(self, name: str) -> str | None:
        """Return the id of the organization with this id, name or alias."""
        return self.organization_names.get(folded(name))

    def known(self, kind: str) -> bool:
        """Say whether the registry of a kind ("official" or "organization") was read, so a name it lacks is unknown."""
        return kind not in self.unread

    def entries(self, kind: str) -> tuple[Official, ...] | tuple[Organization, ...]:
        """Return the entries of a kind: "official" or "organization"."""
        return self.officials if kind == "official" else self.organizations

    def closest(self, kind: str, name: str) -> str:
        """Suggest the official or organization (`kind`) the editor probably meant."""
        if kind == "official":
            return did_you_mean(name, _spellings(self.officials, lambda o: o.name.values()))
        return did_you_mean(name, _spellings(self.organizations, lambda o: [*o.short.values(), *o.name.values()]))

    def section_hint(self, name: str) -> str:
        """Suggest the section the editor probably meant."""
        return did_you_mean(name, [s.id for s in self.sections])


def _spellings(entries: Iterable[Entry], names: Callable[[Entry], Iterable[str]]) -> list[str]:
    """List every id, name and alias of the entries, for hints."""
    return [spelling for e in entries for spelling in (e.id, *names(e), *e.aliases)]


def load_registry(content: Path, config: SiteConfig, section_sources: Iterable[SourceFile]) -> Registry:
    """Read officials.yaml, organizations.yaml and the section indexes; raise on problems."""
    registry, problems = read_registry(content, config, section_sources)
    if problems:
        raise ContentError(problems)
    return registry


def read_registry(
    content: Path, config: SiteConfig, section_sources: Iterable[SourceFile]
) -> tuple[Registry, list[Problem]]:
    """Read the registries and section indexes: the entries that are right, and the problems of the others."""
    problems: list[Problem] = []
    warnings: list[Problem] = []
    unread: set[str] = set()
    officials, official_lines = _load_entries(content, "official", config, problems, warnings, _official, unread)
    organizations, organization_lines = _load_entries(
        content, "organization", config, problems, warnings, _organization, unread
    )
    section_sources = tuple(section_sources)
    sections = _load_sections(section_sources, config, problems)
    official_names = _name_index(
        officials, lambda o: o.name.values(), content / "officials.yaml", problems, official_lines
    )
    organization_names = _name_index(
        organizations,
        lambda o: [*o.short.values(), *o.name.values()],
        content / "organizations.yaml",
        problems,
        organization_lines,
    )
    indexed = frozenset(source.rel.split("/")[0] for source in section_sources)
    registry = Registry(
        officials,
        organizations,
        sections,
        official_names,
        organization_names,
        indexed,
        tuple(warnings),
        frozenset(unread),
    )
    return registry, problems


def _load_entries(
    content: Path,
    kind: str,
    config: SiteConfig,
    problems: list[Problem],
    warnings: list[Problem],
    make: Callable[[str, Mapping[str, Any], FieldChecker, tuple[str, ...]], Entry],
    unread: set[str],
) -> tuple[tuple[Entry, ...], dict[str, int]]:
    """Read the registry of a kind ("official"): its entries and each id's line; an unusable file adds it to unread."""
    path = content / f"{kind}s.yaml"
    shown = str(path)
    if not path.exists():
        return (), {}
    read = _read_mapping(shown)
    if isinstance(read, list):
        problems.extend(read)
        unread.add(kind)
        return (), {}
    text, data, lines = read
    entries: list[Entry] = []
    for key, value in data.items():
        check = FieldChecker(
            shown,
            {k: lines.get(str(key), 1) for k in ("id", *(value or {}))}
            if isinstance(value, dict)
            else {"id": lines.get(str(key), 1)},
            text,
            (str(key),),
        )
        if not isinstance(key, str) or not IDENTIFIER.match(key):
            check.fail("id", f"{key!r} is not a valid id", "use lowercase letters, digits and hyphens")
        elif len(key) > NAME_BYTES:
            check.fail(
                "id",
                f"the id is {len(key)} characters long, more than the {NAME_BYTES} an address part may have",
                "shorten it: it is the address of the entry's page",
            )
        if not isinstance(value, dict):
            if not check.problems:
                check.fail("id", f"`{key}` must have indented `key: value` lines", "")
        else:
            entry = make(str(key), value, check, config.languages)  # its fields are checked whatever its id
            if not check.problems:
                entries.append(entry)
                warnings.extend(_name_warnings(value, check, config.languages))
        problems.extend(check.problems)
    return tuple(entries), {str(key): line for key, line in lines.items()}


def _name_warnings(value: Mapping[str, Any], check: FieldChecker, languages: tuple[str, ...]) -> list[Problem]:
    """Warn about names missing in a language, or written in another's letters (`en: Иван Петров`)."""
    warnings: list[Problem] = []
    for key in ("name", "short"):
        given = value.get(key)
        if isinstance(given, dict):
            warnings.extend(
                Problem(
                    check.path,
                    check.line_at((key,)),
                    f"`{key}` has no {language_name(lang)} text: the {language_name(lang)} pages show the "
                    f'{language_name(languages[0])} "{given[languages[0]]}"',
                    f"add `{lang}: ...` beside `{languages[0]}:`",
                    warning=True,
                )
                for lang in languages[1:]
                if lang not in given
            )
        names = given if isinstance(given, dict) else dict.fromkeys(languages, given) if given else {}
        for lang, text in names.items():
            script = foreign_script(text, lang)
            if script:
                at = (key, lang) if isinstance(given, dict) else (key,)
                warnings.append(
                    Problem(
                        check.path,
                        check.line_at(at),
                        f'the {language_name(lang)} {key} "{text}" is in {script} letters',
                        f"write it in {language_name(lang)} under `{lang}:`: the {language_name(lang)} pages show it",
                        warning=True,
                    )
                )
    return warnings


def _read_mapping(shown: str) -> tuple[str, dict[Any, Any], dict[str, int]] | list[Problem]:
    """Read a registry file's text, its mapping and the line of each key; or the problems that make it unusable."""
    text = read_text(shown)
    if isinstance(text, Problem):
        return [text]
    data, lines, _, problems = load_yaml(text, shown)
    if problems:
        return problems
    if data is not None and not isinstance(data, dict):
        return [Problem(shown, 1, "the file must map ids to entries", "e.g. `stanislav-zas:` then indented lines")]
    return text, data or {}, lines


def _aliases(value: Mapping[str, Any], check: FieldChecker) -> tuple[str, ...]:
    """Read the optional list of aliases: names, each with some text."""
    aliases = value.get("aliases") or []
    if not isinstance(aliases, list) or not all(isinstance(a, str) for a in aliases):
        check.fail_at(("aliases",), "`aliases` must be a list of names", 'e.g. `aliases: ["S. Zas"]`')
        return ()
    for index, alias in enumerate(aliases):
        reason, hint = text_error(alias)
        if reason:
            check.fail_at(("aliases", index), f"the alias {alias!r} {reason}", hint)
            return ()
    return tuple(aliases)


def _unknown_keys(
    value: Mapping[str, Any], allowed: tuple[str, ...], check: FieldChecker, at: tuple[str | int, ...] = ()
) -> None:
    """Report keys the entry (or the mapping `at` leads to in it) does not know."""
    for key in value:
        if key not in allowed:
            check.fail_at((*at, key), f"unknown key `{key}`", did_you_mean(str(key), allowed))


def _official(key: str, value: Mapping[str, Any], check: FieldChecker, languages: tuple[str, ...]) -> Official:
    """Build one official from its registry entry."""
    _unknown_keys(value, ("name", "aliases", "roles"), check)
    roles = []
    listed = value.get("roles") or []
    if not isinstance(listed, list):
        check.fail_at(
            ("roles",),
            "`roles` must be a list of roles",
            "write each as `- {title: ..., from: 2020-01-01, to: 2022-12-31}`",
        )
        listed = []
    for index, role in enumerate(listed):
        at = ("roles", index)
        if not isinstance(role, dict):
            check.fail_at(at, "each role needs `title`, `from` and `to`", "")
            continue
        _unknown_keys(role, ("title", "from", "to"), check, at)
        start, end = (_day(role.get(k), check, (*at, k)) for k in ("from", "to"))
        if start is not None and end is not None and end < start:
            check.fail_at(
                (*at, "to"),
                f"the role ends ({end}) before it begins ({start})",
                "swap `from` and `to`, or correct the year",
            )
        roles.append(Role(check.localized(role, "title", languages, at=at), start, end))
    name = check.localized(value, "name", languages)
    return Official(key, name, _aliases(value, check), tuple(roles), _untranslated(value, languages))


def _day(value: Any, check: FieldChecker, at: tuple[str | int, ...]) -> date | None:
    """Read an optional YYYY-MM-DD date of a role."""
    if value is None:
        return None
    try:
        day = date.fromisoformat(str(value))
    except ValueError:
        check.fail_at(at, f"{value!r} is not a date", "write dates as YYYY-MM-DD")
        return None
    reason = year_error(day.year)
    if reason:
        check.fail_at(at, f"{value!r}: {reason}", "check the year")
        return None
    return day


def _organization(key: str, value: Mapping[str, Any], check: FieldChecker, languages: tuple[str, ...]) -> Organization:
    """Build one organization from its registry entry."""
    _unknown_keys(value, ("short", "name", "aliases"), check)
    name = check.localized(value, "name", languages)
    short = check.localized(value, "short", languages, required=False) or name
    return Organization(key, short, name, _aliases(value, check), _untranslated(value, languages))


def _untranslated(value: Mapping[str, Any], languages: tuple[str, ...]) -> frozenset[str]:
    """Return the languages an entry's `name:` or `short:` gives no text in (one plain text serves them all)."""
    given = [value[key] for key in ("name", "short") if isinstance(value.get(key), dict)]
    return frozenset(lang for lang in languages for names in given if lang not in names)


def _name_index(
    entries: tuple[Entry, ...],
    names: Callable[[Entry], Iterable[str]],
    path: Path,
    problems: list[Problem],
    lines: Mapping[str, int],
) -> dict[str, str]:
    """Map every id, name and alias (any letter case, ё as е) to its entry; report clashes at the later entry."""
    index: dict[str, str] = {}
    for entry in entries:
        for spelling in {folded(s) for s in (entry.id, *names(entry), *entry.aliases)}:
            owner = index.setdefault(spelling, entry.id)
            if owner != entry.id:
                problems.append(
                    Problem(
                        str(path),
                        lines.get(entry.id, 0),
                        f'"{spelling}" names both `{owner}` (line {lines.get(owner, 0)}) and `{entry.id}`',
                        "remove it from one of them",
                    )
                )
    return index


def _load_sections(sources: Iterable[SourceFile], config: SiteConfig, problems: list[Problem]) -> tuple[Section, ...]:
    """Read each section's _index.md (and _index.<lang>.md) for its titles."""
    titles: dict[str, dict[str, str]] = {}
    descriptions: dict[str, dict[str, str]] = {}
    sources = tuple(sources)
    for source in sources:
        folder, name = source.rel.split("/")
        parts = name.split(".")
        lang = parts[1] if len(parts) == 3 else config.default_language
        if not IDENTIFIER.match(folder) or folder in RESERVED_SECTIONS:
            problems.append(
                Problem(
                    source.path,
                    0,
                    f"{folder!r} cannot be a section name",
                    "use lowercase letters, digits and hyphens, not " + ", ".join(sorted(RESERVED_SECTIONS)),
                )
            )
            continue
        if lang not in config.languages or (len(parts) == 3 and lang == config.default_language):
            problems.append(
                Problem(
                    source.path,
                    0,
                    f"unknown language suffix {parts[1]!r}",
                    f"name it _index.md or _index.<{'|'.join(config.languages[1:])}>.md",
                )
            )
            continue
        front, found = split(source.text, source.path)
        problems.extend(found)
        if front is None:
            continue
        check = FieldChecker(source.path, front.lines)
        _unknown_keys(front.meta, ("title", "description"), check)
        if len(folder) > NAME_BYTES:
            check.fail(
                "",
                f"the folder name is {len(folder)} characters long, more than the {NAME_BYTES} an "
                "address part may have",
                "shorten it: it is the section's address",
            )
        for key in ("title", "description"):
            text = front.meta.get(key, "")
            if not isinstance(text, str) or (key == "title" and not text.strip()):
                check.fail(key, f"`{key}` must be text", f"e.g. `{key}: CSTO news`")
                text = ""
            reason, hint = text_error(text, required=False)
            if reason:
                check.fail(key, f"`{key}` {reason}", hint)
                text = ""
            (titles if key == "title" else descriptions).setdefault(folder, {})[lang] = text.strip()
        problems.extend(check.problems)
    # A section without an _index.md: one that is there but wrong is its own problem.
    places = {source.rel.split("/")[0]: posixpath.dirname(source.path) for source in sources}
    indexed = {source.rel.split("/")[0] for source in sources if source.rel.endswith("/_index.md")}
    problems += [
        Problem(
            f"{places[folder]}/_index.md", 0, f"section {folder!r} has no _index.md", "create it with a `title:` line"
        )
        for folder in sorted(titles)
        if folder not in indexed
    ]
    sections = []
    for folder in sorted(titles):
        title = titles[folder]
        if config.default_language not in title:
            continue
        default = title[config.default_language]
        sections.append(
            Section(
                folder,
                {lang: title.get(lang) or default for lang in config.languages},
                {lang: descriptions.get(folder, {}).get(lang, "") for lang in config.languages},
                frozenset(lang for lang in config.languages if not title.get(lang)),
            )
        )
    return tuple(sections)
