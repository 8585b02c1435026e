"""No forgotten dependency: each field of each kind of input, changed in turn, reaches every output it shows.

Every case builds the mini fixture, changes one thing, builds again incrementally, and compares the
output with the reference build of the changed content (tests/helpers/reference.py): every output
whose bytes a clean build would change must have been drawn again. The cases walk every key of an
item's front matter, its body, its translation, every field of the registries and sections, every
key of site.yaml, the labels, each template and each static file.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from helpers.photos import add_bundle
from helpers.reference import reference
from helpers.site import MINI, NOW, STATIC, TEMPLATES

from csto_site.build.options import Options
from csto_site.publish.run import build

ITEM = Path("alpha/2024/2024-03-12-morning-briefing.md")
RU_ITEM = Path("alpha/2024/2024-03-12-morning-briefing.ru.md")
OTHER = Path("alpha/2024/2024-03-12-working-visit.md")


def edit(path: str, old: str, new: str) -> Callable[[Path], None]:
    """Replace text in one file of the copied site (content, templates or static)."""

    def change(root: Path) -> None:
        target = root / path
        text = target.read_text(encoding="utf-8")
        assert old in text, f"{path} no longer holds {old!r}: update this case"
        target.write_text(text.replace(old, new, 1), encoding="utf-8")

    return change


def front(path: Path, line: str) -> Callable[[Path], None]:
    """Add a front-matter line to an item of the copied content."""
    return edit(f"content/{path}", "\n---\n", f"\n{line}\n---\n")


def remove(path: str) -> Callable[[Path], None]:
    """Delete one file of the copied site."""
    return lambda root: (root / path).unlink()


def gone(address: str) -> Callable[[Path], None]:
    """Retract a published address in site.yaml: an item taken off the site must say so."""
    return edit("content/site.yaml", "gone:\n", f'gone:\n  "{address}": Withdrawn.\n')


def both(*changes: Callable[[Path], None]) -> Callable[[Path], None]:
    """Make several changes at once."""
    return lambda root: [change(root) for change in changes] and None


CASES: dict[str, Callable[[Path], None]] = {
    # An item's front matter, key by key.
    "title": edit(f"content/{ITEM}", "title: Morning briefing held", "title: Morning briefing held again"),
    "date, same day": edit(f"content/{ITEM}", "date: 2024-03-12 10:00", "date: 2024-03-12 07:00"),
    "date, another month": edit(f"content/{OTHER}", "date: 2024-03-12", "date: 2024-04-02"),
    "date, another year": edit(f"content/{OTHER}", "date: 2024-03-12", "date: 2022-03-12"),
    "updated": edit(f"content/{ITEM}", "updated: 2024-03-15", "updated: 2024-03-20"),
    "officials, one more": edit(f"content/{ITEM}", "officials: [Ivan Orlov]", "officials: [Ivan Orlov, A. Petrova]"),
    "officials, none": edit(f"content/{ITEM}", "officials: [Ivan Orlov]\n", ""),
    "organizations": edit(f"content/{ITEM}", "organizations: [river-commission]", "organizations: [northern-council]"),
    "summary": front(ITEM, "summary: A summary written by hand."),
    "slug": front(ITEM, "slug: briefing"),
    "draft": both(  # its translation waits for it: off the site too
        front(ITEM, "draft: true"),
        gone("/news/2024/03/12/morning-briefing-held/"),
        gone("/ru/news/2024/03/12/morning-briefing-held/"),
    ),
    "aliases": front(ITEM, 'aliases: ["/old/briefing/"]'),
    "aliases, changed": edit(f"content/{OTHER}", "/old/visit/", "/old/visit.html"),
    "body, first paragraph": edit(f"content/{ITEM}", "A morning briefing", "An early morning briefing"),
    "body, later paragraph": edit(f"content/{ITEM}", "the coming month", "the coming weeks"),
    "translation, title": edit(f"content/{RU_ITEM}", "title: ", "title: Снова "),
    "translation, deleted": both(remove(f"content/{RU_ITEM}"), gone("/ru/news/2024/03/12/morning-briefing-held/")),
    "original, deleted": both(
        remove(f"content/{OTHER}"),
        gone("/news/2024/03/12/working-visit-to-the-river-commission/"),
        gone("/old/visit/"),  # its alias went with it
    ),
    "original, deleted, its translation kept": both(
        remove(f"content/{ITEM}"), gone("/news/2024/03/12/morning-briefing-held/")
    ),
    # The registries and sections, field by field.
    "official, name": edit("content/officials.yaml", "{en: Anna Petrova,", "{en: Anna S. Petrova,"),
    "official, role": edit(
        "content/officials.yaml", "{en: Adviser, ru: Советник}", "{en: Senior adviser, ru: Советник}"
    ),
    "organization, short name": edit("content/organizations.yaml", "{en: NC, ru: СС}", "{en: NC, ru: ССв}"),
    "organization, name": edit("content/organizations.yaml", "ru: Речная комиссия}", "ru: Речная комиссия бассейна}"),
    "section, title": edit("content/alpha/_index.md", "title: Alpha", "title: Alpha news"),
    "section, description": edit("content/alpha/_index.md", "The first test section.", "The first section."),
    "section, Russian title": edit("content/alpha/_index.ru.md", "title: ", "title: Раздел "),
    # site.yaml, key by key.
    "site title": edit("content/site.yaml", "{en: Mini Test Site,", "{en: Mini Site,"),
    "site description": edit("content/site.yaml", "A small fixture site", "A tiny fixture site"),
    "base_url": edit("content/site.yaml", "base_url: https://example.org", "base_url: https://example.net"),
    "feed_length": edit("content/site.yaml", "feed_length: 3", "feed_length: 2"),
    "press contact": edit("content/site.yaml", "+7 495-000-00-00", "+7 495-000-00-01"),
    "label override": edit("content/site.yaml", "feed_length: 3", "feed_length: 3\nlabels: {en: {go_back: Return}}"),
    "redirects": edit(
        "content/site.yaml", "feed_length: 3", 'feed_length: 3\nredirects: {"/old-alpha/": /sections/alpha/}'
    ),
    # The theme: labels, every template, every static file.
    "labels.yaml": edit("templates/labels.yaml", "all_news: All news", "all_news: Every news item"),
    **{
        f"template {name}": edit(f"templates/{name}", "</", "<!-- changed --></")
        for name in sorted(p.name for p in TEMPLATES.glob("*.html"))
    },
    **{
        f"static {name}": edit(f"static/{name}", "", "/* changed */" if name.endswith((".css", ".js")) else " ")
        for name in sorted(p.name for p in STATIC.iterdir() if p.suffix in (".css", ".js", ".svg"))
    },
}


@pytest.mark.parametrize("change", sorted(CASES), ids=lambda name: re.sub(r"\W+", "-", name))
def test_a_change_reaches_every_output_it_shows(change: str, tmp_path: Path) -> None:
    shutil.copytree(MINI, tmp_path / "content")
    front(OTHER, 'aliases: ["/old/visit/"]')(tmp_path)  # so that the site has a redirect page to draw
    # ... and a withdrawn page
    edit("content/site.yaml", "feed_length: 3", "feed_length: 3\ngone:\n  /old/retracted/: Withdrawn long ago.")(
        tmp_path
    )
    add_bundle(tmp_path / "content")  # so that the site has photos and a document to show
    shutil.copytree(TEMPLATES, tmp_path / "templates")
    shutil.copytree(STATIC, tmp_path / "static")
    options = Options(
        content=tmp_path / "content",
        out=tmp_path / "public",
        templates=tmp_path / "templates",
        static=tmp_path / "static",
        cache=tmp_path / "cache",
        search=False,
    )
    build(options, NOW)
    before = tree(options.out)
    CASES[change](tmp_path)
    build(options, NOW)
    after = tree(options.out)
    expected = reference(options.content, options.templates, static=options.static)
    assert sorted(after) == sorted(expected), "the incremental build publishes other files than a clean one"
    differ = sorted(p for p in expected if after[p] != expected[p])
    assert differ == [], f"outputs not drawn again after {change!r}: {differ[:6]}"
    assert before != after, "the case changed nothing a reader sees: make it change something"


def tree(folder: Path) -> dict[str, bytes]:
    """Read every file below a folder."""
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}
