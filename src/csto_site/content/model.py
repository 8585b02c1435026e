"""The content model: news items and the registries they name, as the files say (no I/O, templates or clock)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime


@dataclass(frozen=True)
class Role:
    """A position an official held between two dates."""

    title: Mapping[str, str]
    start: date | None
    end: date | None


@dataclass(frozen=True)
class Official:
    """A person named in the news, from officials.yaml."""

    id: str
    name: Mapping[str, str]
    aliases: tuple[str, ...]
    roles: tuple[Role, ...]
    # The languages it has no name (title) in: their pages show the default language's, marked as such.
    untranslated: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Organization:
    """An organization named in the news, from organizations.yaml."""

    id: str
    short: Mapping[str, str]
    name: Mapping[str, str]
    aliases: tuple[str, ...]
    # The languages it has no name (title) in: their pages show the default language's, marked as such.
    untranslated: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Section:
    """A section folder of content/, with its title per language."""

    id: str
    title: Mapping[str, str]
    description: Mapping[str, str]
    # The languages it has no name (title) in: their pages show the default language's, marked as such.
    untranslated: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Alias:
    """An old address of an item, and the front-matter line that gives it."""

    url: str
    line: int


@dataclass(frozen=True)
class Update:
    """A change made after publication, as the item's public log of updates states it."""

    when: datetime
    note: str


@dataclass(frozen=True)
class Photo:
    """A photo an item shows (its lead photo, one of its gallery, or one in its text), with its words.

    `file` is the file's name in the item's folder; `lang` the language its words are in: a translation
    that names no photos of its own shows its original's, in the original's words.
    """

    file: str
    alt: str
    caption: str
    credit: str
    line: int
    lang: str


@dataclass(frozen=True)
class Attachment:
    """A document an item offers for download, with its title in `lang`."""

    file: str
    title: str
    line: int
    lang: str


@dataclass(frozen=True)
class BundleFile:
    """A file of an item's folder that the item names, as the build found it.

    `kind` is "photo", or a document's type by extension ("pdf", "docx", ...); a photo's width and
    height are those of the picture turned upright, a document's are 0.
    """

    name: str
    digest: str
    size: int
    kind: str
    width: int = 0
    height: int = 0


@dataclass(frozen=True)
class Item:
    """One news item in one language."""

    key: str
    lang: str
    path: str
    section: str
    title: str
    published: datetime
    updated: datetime | None
    slug: str
    summary: str
    body_html: str
    officials: tuple[str, ...]
    organizations: tuple[str, ...]
    draft: bool
    aliases: tuple[Alias, ...]
    digest: str
    # Where the item was reported from (its dateline), in its own language; "" when not given.
    place: str = ""
    # The public log of changes, oldest first; `updated` is the latest of its dates and the `updated:` key.
    updates: tuple[Update, ...] = ()
    # An item that is a folder (a bundle) names files of that folder: `bundle` is the folder's path.
    bundle: str = ""
    image: Photo | None = None
    gallery: tuple[Photo, ...] = ()
    attachments: tuple[Attachment, ...] = ()
    figures: tuple[Photo, ...] = ()  # the photos of the folder its text shows: ![alt](group.jpg)
    files: tuple[BundleFile, ...] = ()  # every file of the folder it names, found and checked by the build
    # The site-local day the item is filed under: derived, kept because every listing groups by it.
    day: date = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        """Derive the filing day."""
        object.__setattr__(self, "day", self.published.date())
