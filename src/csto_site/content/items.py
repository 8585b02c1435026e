"""Parse one news item: front matter checked field by field, body rendered once."""

from __future__ import annotations

import posixpath
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime, tzinfo
from html import unescape

from slugify import slugify

from ..util.errors import Problem, did_you_mean
from ..util.files import name_error
from .bounds import body_problems
from .config import SiteConfig, text_error, year_error
from .frontmatter import FrontMatter, split
from .markup import MarkupError
from .media import FOLDER_HINT, MediaFields, bundle_of, figures
from .model import Alias, Item
from .registry import IDENTIFIER, Registry
from .sources import SourceFile

ITEM_KEYS = (
    "title",
    "date",
    "officials",
    "organizations",
    "summary",
    "slug",
    "draft",
    "aliases",
    "updated",
    "image",
    "gallery",
    "attachments",
)
SLUG_LENGTH = 100
# Officials (and organizations) one item may name: a summit names a few dozen.
MAX_NAMES = 200
FALLBACK_SLUG = "item"  # the slug of a title with no letters or digits
FIRST_PARAGRAPH = re.compile(r"<p>(.*?)</p>", re.S)
FOOTNOTE_REF = re.compile(r"<sup[^>]*>.*?</sup>", re.S)
TAG = re.compile(r"<[^>]+>")
DATE_HINT = "write `date: 2021-06-22`, `date: 2021-06-22 14:30` or ISO 8601 with an offset"


class DateError(ValueError):
    """A date the site cannot use, and the hint that fixes it."""

    def __init__(self, message: str, hint: str) -> None:
        super().__init__(message)
        self.hint = hint


@dataclass(frozen=True)
class ParsedItem:
    """An item as its own file says, before translations are linked."""

    item: Item
    explicit_slug: bool
    lines: Mapping[str, int]


def item_language(rel: str, config: SiteConfig) -> tuple[str, str] | str:
    """Return (translation key, language) of an item path, or a problem message."""
    stem = rel.removesuffix(".md")
    head, dot, suffix = stem.rpartition(".")
    if dot and re.fullmatch(r"[a-z]{2,3}", suffix):
        if suffix in config.languages[1:]:
            return head, suffix
        return f"unknown language suffix {suffix!r}"
    return stem, config.default_language


def parse_item(
    source: SourceFile, registry: Registry, config: SiteConfig, render: Callable[[str, str], str]
) -> tuple[ParsedItem | None, list[Problem]]:
    """Check one item file's front matter and render its body (render(text, language))."""
    language = item_language(source.rel, config)
    if isinstance(language, str):
        hint = f"translations are named name.{config.languages[-1]}.md" if len(config.languages) > 1 else ""
        return None, [Problem(source.path, 0, language, hint)]
    key, lang = language
    reason = name_error(source.rel)
    if reason:
        return None, [
            Problem(
                source.path,
                0,
                f"the file cannot be an item: {reason}",
                "rename it: a short name of letters, digits and hyphens",
            )
        ]
    front, problems = split(source.text, source.path)
    if front is None:
        return None, problems
    field = _Fields(source.path, front)
    for name in front.meta:
        if name not in ITEM_KEYS:
            field.fail(
                str(name),
                f"unknown front-matter key `{name}`",
                did_you_mean(str(name), ITEM_KEYS) or "allowed: " + ", ".join(ITEM_KEYS),
            )
    title = field.text("title", required=True)
    published = field.moment("date", config, required=True)
    updated = field.moment("updated", config)
    if published is not None and updated is not None and updated < published:
        field.fail(
            "updated",
            f"the item is updated ({updated:%Y-%m-%d %H:%M}) before it is published ({published:%Y-%m-%d %H:%M})",
            "`updated` is the date of a later change; correct or remove it",
        )
    officials = field.names("officials", registry.official, registry.official_hint, "official")
    organizations = field.names("organizations", registry.organization, registry.organization_hint, "organization")
    summary = field.text("summary")
    slug = field.slug()
    draft = field.flag("draft")
    aliases = field.aliases()
    section = source.rel.split("/")[0]
    if section not in {s.id for s in registry.sections}:
        field.fail(
            "",
            f"the folder {section!r} has no _index.md, so it is not a section",
            f"create {section}/_index.md with a `title:` line",
        )
    bundle = posixpath.dirname(source.path) if bundle_of(source.rel) else ""
    media_fields = MediaFields(source.path, front.meta, front.lines, front.item_lines)
    media = media_fields.read(lang, bundle, translation=lang != config.default_language)
    # Bodies Python-Markdown would take minutes on, or crash on, are refused before it runs.
    refused = body_problems(front.body, source.path, front.body_line)
    if field.problems or media_fields.problems or refused or published is None:
        return None, [*field.problems, *media_fields.problems, *refused]
    try:
        body_html = render(front.body, lang)
    except MarkupError as exc:
        return None, [Problem(source.path, front.body_line + exc.line - 1, exc.message, exc.hint)]
    shown, problems = figures(body_html, front.body, front.body_line, lang, source.path)
    if shown and not bundle:
        problems += [
            Problem(
                source.path, p.line, f"the photo {p.file} is not on the site: this item is a single file", FOLDER_HINT
            )
            for p in shown
        ]
    if problems:
        return None, problems
    item = Item(
        key=key,
        lang=lang,
        path=source.path,
        section=section,
        title=title,
        published=published,
        updated=updated,
        slug=slug or make_slug(title) or FALLBACK_SLUG,
        summary=summary or first_paragraph(body_html),
        body_html=body_html,
        officials=officials,
        organizations=organizations,
        draft=draft,
        aliases=aliases,
        digest=source.digest,
        bundle=bundle,
        image=media.image,
        gallery=media.gallery,
        attachments=media.attachments,
        figures=shown,
    )
    return ParsedItem(item, bool(slug), front.lines), []


def make_slug(title: str) -> str:
    """Return the URL slug of a title: transliterated, at most 100 characters, whole words."""
    return slugify(title, max_length=SLUG_LENGTH, word_boundary=True, save_order=True)


def read_moment(text: str, tz: tzinfo) -> datetime:
    """Read a date or date-time in the site time zone (naive) or with an offset; raise DateError saying why not."""
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise DateError(f"{text!r} is not a valid date", DATE_HINT) from None
    # Checked before the time zone moves it: near the years 1 and 9999 that would overflow.
    reason = year_error(moment.year)
    if reason:
        raise DateError(f"{text!r}: {reason}", "check the year")
    if moment.tzinfo is None:
        return moment.replace(tzinfo=tz)
    return moment.astimezone(tz)


def first_paragraph(body_html: str) -> str:
    """Return the body's first paragraph as plain text."""
    match = FIRST_PARAGRAPH.search(body_html)
    if not match:
        return ""
    return " ".join(unescape(TAG.sub("", FOOTNOTE_REF.sub("", match.group(1)))).split())


def link_translations(parsed: Iterable[ParsedItem], config: SiteConfig) -> tuple[list[Item], list[Problem]]:
    """Give translations their original's slug and check they share its date."""
    parsed = list(parsed)
    originals = {p.item.key: p.item for p in parsed if p.item.lang == config.default_language}
    items: list[Item] = []
    problems: list[Problem] = []
    for p in parsed:
        item, original = p.item, originals.get(p.item.key)
        if original is not None and item is not original:
            if item.day != original.day:
                stamp = original.published.strftime("%Y-%m-%d %H:%M")
                problems.append(
                    Problem(
                        item.path,
                        p.lines.get("date", 2),
                        f"this translation is dated {item.day}, its original {original.day}",
                        f"use the original's date: `date: {stamp}`",
                    )
                )
            if not p.explicit_slug:
                item = replace(item, slug=original.slug)
            item = _shared_media(item, original)
        if item.image is not None and not item.image.file:
            problems.append(
                Problem(
                    item.path,
                    item.image.line,
                    "`image` gives no `file`, and the original item names no lead photo (or could not be read)",
                    "add `file: group.jpg`",
                )
            )
            item = replace(item, image=None)
        items.append(item)
    return items, problems


def _shared_media(item: Item, original: Item) -> Item:
    """Give a translation its original's photos and documents where it names none of its own.

    They come in the original's words (their `lang` says so); a lead photo without `file` is the
    original's, in the translation's words.
    """
    image = item.image
    if image is None:
        image = original.image
    elif not image.file and original.image is not None:
        image = replace(image, file=original.image.file)
    gallery = item.gallery or original.gallery
    attachments = item.attachments or original.attachments
    if (image, gallery, attachments) == (item.image, item.gallery, item.attachments):
        return item
    named = {p.file for p in (image, *gallery) if p is not None} | {a.file for a in attachments}
    files = {f.name: f for f in (*item.files, *original.files) if f.name in named or f in item.files}
    return replace(item, image=image, gallery=gallery, attachments=attachments, files=tuple(files.values()))


class _Fields:
    """Read front-matter fields by type, collecting a problem for each mistake."""

    def __init__(self, path: str, front: FrontMatter) -> None:
        self.path = path
        self.meta = front.meta
        self.lines = front.lines
        self.item_lines = front.item_lines
        self.problems: list[Problem] = []

    def fail(self, key: str, message: str, hint: str = "", line: int | None = None) -> None:
        """Record a problem at the line of `key`."""
        self.problems.append(Problem(self.path, line or self.lines.get(key, 1), message, hint))

    def text(self, key: str, required: bool = False) -> str:
        """Read plain text."""
        value = self.meta.get(key)
        if value is None or (isinstance(value, str) and not value.strip()):
            if required:
                self.fail(key, f"missing `{key}`", f"add a line `{key}: ...` to the front matter")
            return ""
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            value = str(value)
        if not isinstance(value, str):
            self.fail(key, f"`{key}` must be text", f'put it in quotes: `{key}: "..."`')
            return ""
        reason, hint = text_error(value)
        if reason:
            self.fail(key, f"`{key}` {reason}", hint)
            return ""
        return " ".join(value.split())

    def moment(self, key: str, config: SiteConfig, required: bool = False) -> datetime | None:
        """Read a date or date-time; naive ones are in the site time zone."""
        value = self.meta.get(key)
        if value is None:
            if required:
                self.fail(key, f"missing `{key}`", DATE_HINT)
            return None
        try:
            return read_moment(str(value), config.tz)
        except DateError as exc:
            self.fail(key, str(exc), exc.hint)
            return None

    def names(
        self, key: str, resolve: Callable[[str], str | None], hint: Callable[[str], str], kind: str
    ) -> tuple[str, ...]:
        """Resolve a list of registry names to ids."""
        value = self.meta.get(key)
        if value is None:
            return ()
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list):
            self.fail(key, f"`{key}` must be a list", f"write `{key}: [name, other name]`")
            return ()
        if len(value) > MAX_NAMES:
            # Each one lists the item in its own feed with every name as a category: the output grows
            # as the square of the number, and no news item is about this many.
            self.fail(
                key,
                f"`{key}` names {len(value):,} {kind}s; at most {MAX_NAMES} in one item",
                f"list only the {kind}s the item is about",
            )
            return ()
        ids: dict[str, None] = {}  # in the order given, without repeats
        hints: dict[str, str] = {}  # one search of the registry per misspelling, however often it recurs
        lines = self.item_lines.get(key, ())
        for i, name in enumerate(value):
            line = lines[i] if i < len(lines) else None
            found = resolve(name) if isinstance(name, str) else None
            if found is None:
                shown = str(name)
                if shown not in hints:
                    hints[shown] = hint(shown) or f"add it to {kind}s.yaml"
                self.fail(key, f'unknown {kind} "{shown}"', hints[shown], line)
            else:
                ids.setdefault(found)
        return tuple(ids)

    def slug(self) -> str:
        """Read an explicit slug: lowercase letters, digits, hyphens."""
        value = self.meta.get("slug")
        if value is None:
            return ""
        if not isinstance(value, str) or not IDENTIFIER.match(value) or len(value) > SLUG_LENGTH:
            self.fail(
                "slug",
                f"{value!r} is not a valid slug",
                f"use lowercase letters, digits and hyphens, e.g. {make_slug(str(value)) or 'zas-meets'!r}",
            )
            return ""
        return value

    def flag(self, key: str) -> bool:
        """Read a yes/no value."""
        value = self.meta.get(key, False)
        if not isinstance(value, bool):
            self.fail(key, f"`{key}` must be true or false", f"write `{key}: true`")
            return False
        return value

    def aliases(self) -> tuple[Alias, ...]:
        """Read old URLs: paths on this site, each with its line."""
        value = self.meta.get("aliases")
        if value is None:
            return ()
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            self.fail("aliases", "`aliases` must be a list of old addresses", 'e.g. `aliases: ["/old/page/"]`')
            return ()
        lines = self.item_lines.get("aliases") or (self.lines.get("aliases", 1),) * len(value)
        # Written as given: whether each is an address of the site is the site's rule (site/addresses.py).
        return tuple(Alias(url.strip(), line) for url, line in zip(value, lines, strict=True))
