"""Editorial warnings the site model shows at once, printed by check, build and serve alike.

A title in the other language's letters, a section without an index in a language: each costs a
pass over the titles or the sections, so every build can afford them (check adds those that read texts).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path

from ..content.model import Item
from ..content.scripts import SCRIPT_OF, foreign_script, language_name
from ..site.model import Site
from ..util.errors import Problem


def model_warnings(site: Site, content: Path) -> list[Problem]:
    """Return the warnings the site model shows at once, which build and serve print too: titles, sections, names."""
    items = (*(item for edition in site.editions.values() for item in edition.items), *site.held_back)
    return [*title_warnings(items, site.config.languages), *section_warnings(site, content), *site.registry_warnings]


def title_warnings(items: Iterable[Item], languages: Sequence[str]) -> list[Problem]:
    """Warn about titles with no letter of their language's script, only another's (Cyrillic in an English file).

    A Latin name or acronym inside a Russian title is fine: the title has Cyrillic letters too.
    """
    problems = []
    for item in items:
        written = foreign_script(item.title, item.lang)
        if not written:
            continue  # the usual case, one search per title: a build runs this over every item
        lang = language_name(item.lang)
        meant = next((other for other in languages if SCRIPT_OF.get(other) == written), "")
        hint = f"write the {lang} title here"
        if meant:
            name = Path(item.path).name.removesuffix(f".{item.lang}.md").removesuffix(".md")
            hint += (
                f"; the {language_name(meant)} version goes in {name}{'' if meant == languages[0] else '.' + meant}.md"
            )
        problems.append(
            Problem(
                item.path,
                _title_line(item.path),
                f'the title "{item.title}" is in {written} letters, but this is the {lang} file',
                hint,
                warning=True,
            )
        )
    return problems


def _title_line(path: str) -> int:
    """Return the line of an item's `title:` (1 when the file cannot be read again)."""
    try:
        lines = Path(path).read_text(encoding="utf-8-sig").split("\n")
    except (OSError, UnicodeDecodeError):
        return 1
    return next((n for n, line in enumerate(lines, start=1) if line.startswith("title:")), 1)


def section_warnings(site: Site, content: Path) -> list[Problem]:
    """Warn about sections without an index in a language: their pages in it show the default language's title."""
    default = site.config.default_language
    return [
        Problem(
            str(content / section.id / "_index.md"),
            0,
            f"the section has no _index.{lang}.md: its {language_name(lang)} pages show the "
            f'{language_name(default)} title "{section.title[default]}"',
            f"create {content / section.id / f'_index.{lang}.md'} with `title:` and `description:` lines "
            f"in {language_name(lang)}",
            warning=True,
        )
        for section in site.sections
        for lang in site.config.languages[1:]
        if lang in section.untranslated
    ]
