"""Parse one news item: front matter checked field by field, body rendered once."""

from __future__ import annotations

import json
import posixpath
import re
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, tzinfo
from functools import partial
from html import unescape

from slugify import slugify

from ..util.errors import Problem, did_you_mean
from ..util.files import name_error
from .bounds import body_problems
from .config import SiteConfig, text_error, year_error
from .frontmatter import FrontMatter, split
from .markup import MarkupError
from .media import BUNDLE_INDEX, FOLDER_HINT, MediaFields, bundle_of, figures
from .model import Alias, Item, Photo, Update
from .registry import IDENTIFIER, Registry
from .scripts import language_name
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
    "place",
    "updates",
    "image",
    "gallery",
    "attachments",
)
UPDATE_KEYS = ("date", "note")
# A dateline names a city or a venue: a longer text is a sentence that belongs in the body.
PLACE_LENGTH = 100
SLUG_LENGTH = 100
# Officials (and organizations) one item may name: a summit names a few dozen.
MAX_NAMES = 200
FALLBACK_SLUG = "item"  # the slug of a title with no letters or digits
FIRST_PARAGRAPH = re.compile(r"<p>(.*?)</p>", re.S)
FOOTNOTE_REF = re.compile(r"<sup[^>]*>.*?</sup>", re.S)
TAG = re.compile(r"<[^>]+>")
# A name that YAML would not read back as written in a one-line entry is quoted (JSON's quotes are YAML's).
YAML_SPECIAL = re.compile(r"""^[\s!&*%@`'"|>?#-]|[:#{}\[\],]|\s$""")
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


def split_items(files: Iterable[tuple[str, str]], config: SiteConfig) -> list[Problem]:
    """Report item files beside a folder of the same name: a version as name.md, another as name/index.<lang>.md.

    `files` holds each item file's (path, path relative to content/): each would be an item of its own, unlinked.
    """
    folders: dict[str, str] = {}
    singles: list[tuple[str, str, str]] = []
    for path, rel in files:
        language = item_language(rel, config)
        if isinstance(language, str):
            continue  # its own problem
        folder = bundle_of(rel)
        if folder:
            folders[folder] = path.removesuffix(rel) + folder
        else:
            singles.append((path, *language))
    return [
        Problem(
            path,
            0,
            f"this item is also a folder, {folders[key]}/: the two would be published as unrelated items",
            f"move this file into that folder as {folders[key]}/{BUNDLE_INDEX}"
            f"{'' if lang == config.default_language else '.' + lang}.md: an item with photos or documents keeps "
            "each language version in its folder",
        )
        for path, key, lang in singles
        if key in folders
    ]


def parse_item(
    source: SourceFile,
    registry: Registry,
    config: SiteConfig,
    render: Callable[[str, str], str],
    need_text: bool = True,
) -> tuple[ParsedItem | None, list[Problem]]:
    """Check one item file's front matter and render its body (render(text, language)).

    An item to publish needs a text; `new` reads an original (`need_text=False`) that may not have one yet.
    An item whose only problems are with the files it names (`image`, `gallery`, `attachments`, its text's
    photos) comes back with them, so that the build checks the other files it names in the same run and
    reports every file problem at once: an item returned with problems is never published.
    """
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
    place = field.place()
    updates = field.updates(config, published)
    content = source.path.removesuffix(source.rel)  # the content folder, as the editor named it
    unknown = partial(unknown_name_hint, registry, content, config, lang)
    officials = field.names("officials", registry.official, unknown, "official", registry.known("official"))
    organizations = field.names(
        "organizations", registry.organization, unknown, "organization", registry.known("organization")
    )
    summary = field.text("summary")
    slug = field.slug()
    draft = field.flag("draft")
    aliases = field.aliases()
    section = source.rel.split("/")[0]
    if section not in {s.id for s in registry.sections} and section not in registry.indexed:
        field.fail(
            "",
            f"the folder {section!r} has no _index.md, so it is not a section",
            f"create {section}/_index.md with a `title:` line",
        )
    if need_text and not draft:
        field.problems += _no_text(source.path, front.body, front.body_line)
    bundle = posixpath.dirname(source.path) if bundle_of(source.rel) else ""
    media_fields = MediaFields(source.path, front.meta, front.lines, front.item_lines)
    media = media_fields.read(lang, bundle, translation=lang != config.default_language)
    # Bodies Python-Markdown would take minutes on, or crash on, are refused before it runs.
    refused = body_problems(front.body, source.path, front.body_line)
    if field.problems or refused or published is None:
        return None, [*field.problems, *media_fields.problems, *refused]
    try:
        body_html = render(front.body, lang)
    except MarkupError as exc:
        unreadable = Problem(source.path, front.body_line + exc.line - 1, exc.message, exc.hint)
        return None, [*media_fields.problems, unreadable]
    shown, problems = figures(body_html, front.body, front.body_line, lang, source.path, folder=bool(bundle))
    problems = [*media_fields.problems, *problems, *([] if bundle else _not_on_the_site(source.path, shown))]
    item = Item(
        key=key,
        lang=lang,
        path=source.path,
        section=section,
        title=title,
        published=published,
        # One notion of the last change: the latest of `updated` and the dates of the public log.
        updated=max([*(u.when for u in updates), *([updated] if updated else [])], default=None),
        slug=slug or make_slug(title) or FALLBACK_SLUG,
        summary=summary or first_paragraph(body_html),
        body_html=body_html,
        officials=officials,
        organizations=organizations,
        draft=draft,
        aliases=aliases,
        digest=source.digest,
        place=place,
        updates=updates,
        bundle=bundle,
        image=media.image,
        gallery=media.gallery,
        attachments=media.attachments,
        figures=shown,
    )
    return ParsedItem(item, bool(slug), front.lines), problems


def _not_on_the_site(path: str, shown: Sequence[Photo]) -> list[Problem]:
    """Refuse the photos a single-file item's text shows: only an item that is a folder has files."""
    return [
        Problem(path, photo.line, f"the photo {photo.file} is not on the site: this item is a single file", FOLDER_HINT)
        for photo in shown
    ]


def _no_text(path: str, body: str, line: int) -> list[Problem]:
    """Refuse an item to publish whose body is empty, saying what to write."""
    if body.strip():
        return []
    return [
        Problem(
            path,
            line,
            "the item has no text",
            'write it below the second "---": who did what, where and when first, then the details; '
            "or, to keep the item off the site meanwhile, add the line `draft: true` to the front matter "
            "or delete the `# ` before the one `new` wrote",
        )
    ]


def several_names(text: str) -> list[str]:
    """Return the names a text separated by commas lists, or none if it names one."""
    parts = [part.strip() for part in text.split(",")]
    return parts if len(parts) > 1 and all(parts) else []


def yaml_name(name: str) -> str:
    """Write a name as an entry of a one-line YAML list or mapping, quoted where YAML would misread it."""
    return json.dumps(name, ensure_ascii=False) if YAML_SPECIAL.search(name) else name


def _not_a_name(key: str, value: object) -> tuple[str, str]:
    """Say why an entry of `officials:` or `organizations:` that YAML read as no text is not a name, and what to do."""
    if value is None:
        return f"an entry of `{key}` is empty: each must be a name", "write the name, or delete the empty entry"
    if isinstance(value, bool):
        return f"an entry of `{key}` is read as yes or no, not as a name", 'put the name in quotes: `- "..."`'
    kind = "a list" if isinstance(value, list) else "a map"
    example = "Stanislav Zas" if key == "officials" else "OSCE"
    return f"an entry of `{key}` is {kind}, not a name", f"write each name as text, e.g. `{key}: [{example}, ...]`"


def unknown_name_hint(registry: Registry, content: str, config: SiteConfig, lang: str, name: str, kind: str) -> str:
    """Say what to do about a name the registry lacks: the registered name it resembles, and the entry to add.

    `kind` is "official" or "organization"; `lang` is the language of the file that names it, the one the entry
    gives the name in (the others are to be added). When the id that entry would have is taken (that entry's name
    was changed), the name is one more of its aliases.
    """
    new_id = make_slug(name)
    taken = next((entry for entry in registry.entries(kind) if new_id and entry.id == new_id), None)
    if taken is not None:
        aliases = ", ".join(map(yaml_name, (*taken.aliases, name)))
        return f'add "{name}" to the aliases of {taken.id} in {content}{kind}s.yaml: aliases: [{aliases}]'
    add = f"add a line to {content}{kind}s.yaml: {new_id or 'new-id'}: {{name: {{{lang}: {yaml_name(name)}}}}}"
    others = [other for other in config.languages if other != lang]
    if others:
        missing = ", ".join(f"{other}: ..." for other in others)
        add += f", then add the name in {' and '.join(map(language_name, others))} beside it ({missing})"
    suggestion = registry.closest(kind, name)
    if suggestion.startswith("did you mean"):
        return f"{suggestion} If not, {add}"
    return f"if this is a new {kind}, {add}"


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


def link_translations(
    parsed: Iterable[ParsedItem],
    config: SiteConfig,
    published: Mapping[str, str] | None = None,
    unread: Collection[str] = (),
) -> tuple[list[Item], list[Problem]]:
    """Give translations their original's slug and check they share its date.

    `published` maps an item file to the slug it was first published under: an item without an
    explicit `slug:` keeps it, whatever its title or its original become later. `unread` holds the
    translation keys of the originals that could not be read: their own problems are reported, and
    what their translations would take from them is not a problem of the translations.
    """
    published = published or {}
    parsed = [
        ParsedItem(replace(p.item, slug=published[p.item.path]), p.explicit_slug, p.lines)
        if not p.explicit_slug and published.get(p.item.path, p.item.slug) != p.item.slug
        else p
        for p in parsed
    ]
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
            if not p.explicit_slug and item.path not in published:
                item = replace(item, slug=original.slug)
            item = _shared_media(item, original)
        if item.image is not None and not item.image.file:
            if item.key not in unread:
                lacks = "the original item names no lead photo" if original else "there is no original item"
                problems.append(
                    Problem(
                        item.path,
                        item.image.line,
                        f"`image` gives no `file`, and {lacks} to take it from",
                        "name the photo file with `file:`",
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
        if isinstance(value, int) and not isinstance(value, bool):
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
        self, key: str, resolve: Callable[[str], str | None], hint: Callable[[str, str], str], kind: str, known: bool
    ) -> tuple[str, ...]:
        """Resolve a list of registry names to ids; with the registry unread (not `known`), none is called unknown."""
        value = self.meta.get(key)
        if value is None:
            return ()
        if isinstance(value, str):
            parts = several_names(value) if known and resolve(value) is None else []
            if parts:
                listed = ", ".join(map(yaml_name, parts))
                self.fail(key, f"`{key}: {value}` looks like several names", f"write a list: `{key}: [{listed}]`")
            value = parts or [value]
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
            if isinstance(name, int) and not isinstance(name, bool):
                name = str(name)  # digits as written: an id may be one
            if not isinstance(name, str):
                self.fail(key, *_not_a_name(key, name), line)
                continue
            found = resolve(name)
            if found is None and known:
                shown = str(name)
                if shown not in hints:
                    hints[shown] = hint(shown, kind)
                self.fail(key, f'unknown {kind} "{shown}"', hints[shown], line)
            elif found is not None:
                ids.setdefault(found)
        return tuple(ids)

    def slug(self) -> str:
        """Read an explicit slug: lowercase letters, digits, hyphens."""
        value = self.meta.get("slug")
        if value is None:
            return ""
        if isinstance(value, int) and not isinstance(value, bool):
            value = str(value)  # digits as written
        if not isinstance(value, str) or not IDENTIFIER.match(value) or len(value) > SLUG_LENGTH:
            self.fail(
                "slug",
                f"{value!r} is not a valid slug",
                f"use lowercase letters, digits and hyphens, e.g. {make_slug(str(value)) or 'zas-meets'!r}",
            )
            return ""
        return value

    def place(self) -> str:
        """Read the place of the dateline: a short text in the file's own language."""
        value = self.meta.get("place")
        if value is None:
            return ""
        if not isinstance(value, str):
            self.fail(
                "place",
                "`place` must be text: the city or venue the item is reported from",
                "write it in this file's language, e.g. `place: Moscow` (a translation's file gives its own)",
            )
            return ""
        place = self.text("place")
        if len(place) > PLACE_LENGTH:
            self.fail(
                "place",
                f"`place` has {len(place)} characters; a dateline's place has at most {PLACE_LENGTH}",
                "name the city or venue only, e.g. `place: Moscow`; say more in the text",
            )
            return ""
        return place

    def updates(self, config: SiteConfig, published: datetime | None) -> tuple[Update, ...]:
        """Read the public log of updates: a list of changes, each with a date and a note, oldest first."""
        value = self.meta.get("updates")
        if value is None:
            return ()
        example = "e.g. `- {date: 2024-07-03, note: Corrected the name of the Deputy Foreign Minister}`"
        if not isinstance(value, list):
            self.fail("updates", "`updates` must be a list of changes, each with a `date` and a `note`", example)
            return ()
        lines = self.item_lines.get("updates", ())
        found: list[Update] = []
        for i, entry in enumerate(value):
            line = lines[i] if i < len(lines) else self.lines.get("updates", 1)
            update = self._update(entry, line, config, published, example)
            if update is not None:
                found.append(update)
        return tuple(sorted(found, key=lambda u: u.when))

    def _update(
        self, entry: object, line: int, config: SiteConfig, published: datetime | None, example: str
    ) -> Update | None:
        """Read one entry of `updates`, reporting its mistakes at its line."""
        if not isinstance(entry, dict):
            self.fail("updates", "an entry of `updates` must have a `date` and a `note`", example, line)
            return None
        for key in entry:
            if key not in UPDATE_KEYS:
                self.fail(
                    "updates",
                    f"unknown key `{key}` in an entry of `updates`",
                    did_you_mean(str(key), UPDATE_KEYS) or "an update has a `date` and a `note`",
                    line,
                )
        when = None
        if entry.get("date") is None:
            self.fail("updates", "this update has no `date`", "add the day of the change: `date: 2024-07-03`", line)
        else:
            try:
                when = read_moment(str(entry["date"]), config.tz)
            except DateError as exc:
                self.fail("updates", f"the update's date {exc}", exc.hint, line)
        if when is not None and published is not None and when < published:
            self.fail(
                "updates",
                f"the update of {when:%Y-%m-%d %H:%M} comes before the item's date ({published:%Y-%m-%d %H:%M})",
                "an update is a change made after publication: correct its date",
                line,
            )
            when = None
        note = entry.get("note")
        if isinstance(note, int) and not isinstance(note, bool):
            note = str(note)
        if note is None or (isinstance(note, str) and not note.strip()):
            self.fail(
                "updates",
                "this update has no `note`",
                "say what changed, e.g. `note: Corrected the name of the Deputy Foreign Minister`",
                line,
            )
            return None
        if not isinstance(note, str):
            self.fail("updates", "the update's `note` must be text", 'put it in quotes: `note: "..."`', line)
            return None
        reason, hint = text_error(note)
        if reason:
            self.fail("updates", f"the update's `note` {reason}", hint, line)
            return None
        return Update(when, " ".join(note.split())) if when is not None else None

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
