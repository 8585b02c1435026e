"""An item's photos and documents as its file names them: `image`, `gallery`, `attachments` and the text's photos.

Only what the item file says is read here: which files of the item's folder it names, with their
words and lines. Whether each file is there, and is a photo or a document the site can publish, is
the build's to find out (build/media.py), as it reads the files.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from html import unescape
from typing import Any

from ..util.errors import Problem, did_you_mean
from ..util.links import is_external
from .config import text_error
from .model import Attachment, Photo

BUNDLE_INDEX = "index"  # an item that is a folder is that folder's index.md (and index.<lang>.md)
PHOTO_KEYS = ("file", "alt", "caption", "credit")
ATTACHMENT_KEYS = ("file", "title")
# A gallery of a summit has a few dozen photos; each is a dozen published files and a share of a rebuild.
MAX_GALLERY = 100
MAX_ATTACHMENTS = 50
IMG = re.compile(r"<img\b([^>]*)>")
ATTRIBUTE = re.compile(r'([a-zA-Z_:][-a-zA-Z0-9_:.]*)="([^"]*)"')
# Alt text is required: the words that stand for the photo for readers who cannot see it.
ALT_HINT = "write what the photo shows, for readers who cannot see it, e.g. `alt: The Secretary General at the podium`"
FOLDER_HINT = "make the item a folder: move it to <its name>/index.md, and put the file beside it"


@dataclass(frozen=True)
class Media:
    """What an item file says of its folder's files."""

    image: Photo | None
    gallery: tuple[Photo, ...]
    attachments: tuple[Attachment, ...]


def bundle_of(rel: str) -> str:
    """Return the folder of an item that is a folder (its index.md, index.<lang>.md), relative to content/, or ""."""
    folder, _, name = rel.rpartition("/")
    # A section's own folder is never an item: its index.md is an item file like any other.
    if name.split(".")[0] != BUNDLE_INDEX or folder.count("/") < 1:
        return ""
    return folder


def file_error(name: str) -> tuple[str, str]:
    """Return why a name cannot be a file of the item's folder, and a hint; ("", "") when it can."""
    if is_external(name):
        return (
            "is an address, not a file of the item's folder",
            "copy the file into the item's folder and give its name",
        )
    parts = name.replace("\\", "/").split("/")
    if name.startswith(("/", "\\")) or ".." in parts:
        return (
            "leads out of the item's folder",
            "copy the file into this item's folder (each item keeps its own photos and documents) and give its name",
        )
    if "\\" in name or "" in parts or "." in parts or any(p.startswith(".") for p in parts):
        return "is not a plain file name", "give the file's name as it is in the item's folder, e.g. group.jpg"
    return "", ""


class MediaFields:
    """Read `image`, `gallery` and `attachments` of one item file, collecting a problem for each mistake."""

    def __init__(
        self, path: str, meta: Mapping[str, Any], lines: Mapping[str, int], item_lines: Mapping[str, tuple[int, ...]]
    ) -> None:
        self.path = path
        self.meta = meta
        self.lines = lines
        self.item_lines = item_lines
        self.problems: list[Problem] = []

    def read(self, lang: str, bundle: str, translation: bool) -> Media:
        """Read the three keys; a translation may leave out its lead photo's `file` to show its original's."""
        image = None
        if self.meta.get("image") is not None:
            entry = self._entry(
                "image", self.meta["image"], PHOTO_KEYS, self._lines("image"), optional_file=translation
            )
            image = self._photo(entry, lang) if entry is not None else None
        gallery = tuple(
            photo
            for entry in self._list("gallery", PHOTO_KEYS, MAX_GALLERY, "photos")
            if (photo := self._photo(entry, lang)) is not None
        )
        attachments = tuple(
            attachment
            for entry in self._list("attachments", ATTACHMENT_KEYS, MAX_ATTACHMENTS, "documents")
            if (attachment := self._attachment(entry, lang)) is not None
        )
        if not bundle:
            for key, named in (("image", image), ("gallery", gallery), ("attachments", attachments)):
                if named:
                    self.fail(
                        key,
                        f"`{key}` names files of the item's folder, but this item is a single file",
                        FOLDER_HINT,
                    )
        return Media(image, gallery, attachments)

    def fail(self, key: str, message: str, hint: str, line: int | None = None) -> None:
        """Record a problem at a line (default: the key's)."""
        self.problems.append(Problem(self.path, line or self.lines.get(key, 1), message, hint))

    def _lines(self, key: str) -> dict[str, int]:
        """Return the line of each key of a mapping value (YAML keeps their order)."""
        value = self.meta.get(key)
        lines = self.item_lines.get(key, ())
        return dict(zip(value, lines, strict=False)) if isinstance(value, dict) else {}

    def _list(self, key: str, keys: Sequence[str], most: int, what: str) -> list[_Entry]:
        """Read a list of entries, each a mapping with `file`."""
        value = self.meta.get(key)
        if value is None:
            return []
        if not isinstance(value, list):
            self.fail(key, f"`{key}` must be a list", "write each entry on its own line: `  - file: ...`")
            return []
        if len(value) > most:
            self.fail(key, f"`{key}` lists {len(value):,} {what}; at most {most} in one item", "split the item")
            return []
        starts = self.item_lines.get(key, ())
        found = []
        for index, entry in enumerate(value):
            line = starts[index] if index < len(starts) else self.lines.get(key, 1)
            read = self._entry(key, entry, keys, {}, line=line, place=f"the {ordinal(index + 1)} {what[:-1]} of ")
            if read is not None:
                found.append(read)
        return found

    def _entry(
        self,
        key: str,
        value: object,
        keys: Sequence[str],
        lines: Mapping[str, int],
        line: int | None = None,
        optional_file: bool = False,
        place: str = "",
    ) -> _Entry | None:
        """Read one entry: a mapping of known keys with text values, and a file name that stays in the folder.

        `place` says which entry of a list it is ("the 2nd photo of "); a key's own entry has none.
        """
        name = f"{place}`{key}`"
        at = line or self.lines.get(key, 1)
        example = "file: group.jpg" if "title" not in keys else "file: statement.pdf"
        if not isinstance(value, dict):
            self.fail(key, f"{name} must give `file:` and its words", f"write `{example}` on its own line", at)
            return None
        ok = True
        texts: dict[str, str] = {}
        for field, text in value.items():
            where = lines.get(field, at)
            if field not in keys:
                self.fail(key, f"unknown key `{field}` in {name}", did_you_mean(str(field), keys), where)
                ok = False
            elif not isinstance(text, (str, int)) or isinstance(text, bool):
                self.fail(key, f"{_part(place, key, field)} must be text", f'put it in quotes: `{field}: "..."`', where)
                ok = False
            else:
                reason, hint = text_error(str(text))
                if reason:
                    hint = ALT_HINT if field == "alt" and not str(text).strip() else hint
                    self.fail(key, f"{_part(place, key, field)} {reason}", hint, where)
                    ok = False
                texts[field] = " ".join(str(text).split())
        required = [k for k in keys if k != "caption" and k != "credit" and not (k == "file" and optional_file)]
        for field in required:
            if field not in value:
                what = {"alt": "its alt text", "title": "its title", "file": "the file's name"}[field]
                hint = {
                    "alt": ALT_HINT,
                    "title": "add `title:`, the name readers see in the list of documents",
                    "file": f"add `{example}`",
                }[field]
                self.fail(key, f"{name} gives no `{field}` ({what})", hint, at)
                ok = False
        file = texts.get("file", "")
        if file:
            reason, hint = file_error(file)
            if reason:
                self.fail(key, f"{file} {reason}", hint, lines.get("file", at))
                ok = False
        return _Entry(texts, lines.get("file", at)) if ok else None

    def _photo(self, entry: _Entry, lang: str) -> Photo:
        """Make a photo of an entry read without a problem."""
        texts = entry.texts
        return Photo(
            texts.get("file", ""), texts["alt"], texts.get("caption", ""), texts.get("credit", ""), entry.line, lang
        )

    def _attachment(self, entry: _Entry, lang: str) -> Attachment:
        """Make an attachment of an entry read without a problem."""
        return Attachment(entry.texts["file"], entry.texts["title"], entry.line, lang)


def ordinal(number: int) -> str:
    """Return a number as a position in English words' order: 1st, 2nd, 3rd, 4th, 11th, 22nd."""
    if number % 100 in (11, 12, 13):
        return f"{number}th"
    suffix = {1: "st", 2: "nd", 3: "rd"}.get(number % 10, "th")
    return f"{number}{suffix}"


def _part(place: str, key: str, field: str) -> str:
    """Name one key of an entry: `image.alt`, or the `alt` of the 2nd photo of `gallery`."""
    return f"the `{field}` of {place}`{key}`" if place else f"`{key}.{field}`"


@dataclass(frozen=True)
class _Entry:
    """One entry's texts and the line of its file."""

    texts: Mapping[str, str]
    line: int


def figures(
    html: str, body: str, body_line: int, lang: str, path: str, folder: bool = True
) -> tuple[tuple[Photo, ...], list[Problem]]:
    """Find the photos of the item's folder a body shows (`<img>` with a relative `src`), with their lines.

    An item that is a single file (`folder` false) has no folder: a relative path there (`../../static/x.svg`)
    is an address of the site, which the reference check follows; only a bare file name is taken for a photo.
    """
    found: list[Photo] = []
    problems: list[Problem] = []
    searched: dict[str, int] = {}  # where the next search for each src starts: a photo shown twice has two lines
    for match in IMG.finditer(html):
        src, alt = img_words(match.group(1))
        if not src or src.startswith(("/", "#")) or is_external(src) or (not folder and "/" in src):
            continue  # a file under /static/, or an address: not a file of the folder
        start = searched.get(src, 0)
        at = body.find(f"({src}", start)
        at = at if at >= 0 else body.find(src, start)
        searched[src] = at + 1 if at >= 0 else start
        line = body_line + body.count("\n", 0, max(at, 0))
        reason, hint = file_error(src)
        if reason:
            problems.append(Problem(path, line, f"the photo {src} in the text {reason}", hint))
            continue
        if not alt:
            problems.append(
                Problem(
                    path,
                    line,
                    f"the photo {src} in the text has no alt text",
                    f"write what it shows between the brackets: ![The delegations at the table]({src})",
                )
            )
        found.append(Photo(src, alt, "", "", line, lang))  # without alt text too: its file is checked all the same
    return tuple(found), problems


def img_words(attributes: str) -> tuple[str, str]:
    """Return the `src` and the alt text (its spaces collapsed) of an <img>'s attributes, unescaped."""
    values = {k: unescape(v) for k, v in ATTRIBUTE.findall(attributes)}
    return values.get("src", ""), " ".join(values.get("alt", "").split())
