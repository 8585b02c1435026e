"""Find and check the files of its folder that an item names: each there, and a photo or document the site publishes.

A photo is opened and decoded once (output/photos.inspect) to learn its upright size and to refuse a
damaged one, a decompression bomb or a format the site cannot read; a document is known by its content.
What was found is kept with the item's parse in the build cache, with each file's stat: a file whose
stat and bytes are unchanged is not read again.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import NamedTuple

from ..content.model import Attachment, BundleFile, Item, Photo
from ..output.photos import DOCUMENT_TYPES, FileProblem, document_info, inspect
from ..site.urls import document_name, file_stem
from ..util.digest import bytes_digest
from ..util.errors import Problem, did_you_mean
from ..util.files import read_listed

PHOTO = "photo"
# A lead photo is shown up to 800 CSS pixels wide, twice that on a sharp screen, and Google and
# social networks ask for at least 1200 pixels: a smaller one is published, with a warning.
LEAD_WIDTH = 1200


class Stat(NamedTuple):
    """A file of an item's folder as the build listed it: its path, modification time, size and change time."""

    path: str
    mtime_ns: int
    size: int
    ctime_ns: int


class Seen(NamedTuple):
    """A file an item named, as its stat was when the build read it, and what the build found in it."""

    mtime_ns: int
    size: int
    ctime_ns: int
    file: BundleFile


def references(item: Item) -> list[tuple[Photo | Attachment, str]]:
    """List what an item file names of its folder, in its order, each with what it must be ("photo" or "document")."""
    photos = [p for p in (item.image, *item.gallery, *item.figures) if p is not None and p.file]
    return [*((p, PHOTO) for p in photos), *((a, "document") for a in item.attachments)]


def resolve(
    item: Item, folder: Mapping[str, Stat], content: str, known: Mapping[str, Seen]
) -> tuple[tuple[BundleFile, ...], dict[str, Seen], list[Problem]]:
    """Find and check each file an item names; return them, what to remember of each, and the problems.

    `folder` lists the item's folder (names relative to it), `known` what the last build found.
    """
    files: dict[str, BundleFile] = {}
    seen: dict[str, Seen] = {}
    problems: list[Problem] = []
    for ref, kind in references(item):
        name = ref.file
        if name in files:
            if (files[name].kind == PHOTO) != (kind == PHOTO):
                problems.append(Problem(item.path, ref.line, f"{name} is named both as a photo and as a document"))
            continue
        stat = folder.get(name)
        if stat is None:
            others = sorted(n for n in folder if not n.startswith("index."))
            hint = did_you_mean(name, others) if others else ""
            problems.append(
                Problem(
                    item.path,
                    ref.line,
                    f"{name}: there is no such file in the item's folder",
                    hint or f"copy the file into {item.bundle}/",
                )
            )
            continue
        found = _check(name, kind, stat, content, known.get(name))
        if isinstance(found, FileProblem):
            problems.append(Problem(item.path, ref.line, found.message, found.hint))
            continue
        files[name] = found.file
        seen[name] = found
    problems += _clashes(item, files.values())
    return tuple(files.values()), seen, problems


def photo_problem(data: bytes, name: str) -> tuple[str, str] | None:
    """Say why a file cannot be published as a photo, as (message, hint), or None: the check `_check` makes."""
    found = inspect(data, name)
    return (found.message, found.hint) if isinstance(found, FileProblem) else None


def _check(name: str, kind: str, stat: Stat, content: str, known: Seen | None) -> Seen | FileProblem:
    """Read and check one file, unless its stat is what the last build saw."""
    same_kind = known is not None and (known.file.kind == PHOTO) == (kind == PHOTO)
    if known is not None and same_kind and known[:3] == (stat.mtime_ns, stat.size, stat.ctime_ns):
        return known
    extension = name.rpartition(".")[2].lower() if "." in name else ""
    if kind != PHOTO and extension not in DOCUMENT_TYPES:
        # Refused by name, before a photo or a film of gigabytes is read to find out what it is.
        refused = document_info(b"", name)
        assert isinstance(refused, FileProblem)  # no document of an unknown type is accepted
        return refused
    data = read_listed(stat.path, content)
    if isinstance(data, Problem):
        return FileProblem(f"{name}: {data.message}", data.hint)
    digest = bytes_digest(data)
    if known is not None and same_kind and known.file.digest == digest:
        file = known.file
    elif kind == PHOTO:
        info = inspect(data, name)
        if isinstance(info, FileProblem):
            return info
        file = BundleFile(name, digest, len(data), PHOTO, info.width, info.height)
    else:
        document = document_info(data, name)
        if isinstance(document, FileProblem):
            return document
        file = BundleFile(name, digest, len(data), document.extension)
    return Seen(stat.mtime_ns, stat.size, stat.ctime_ns, file)


def _clashes(item: Item, files: Iterable[BundleFile]) -> list[Problem]:
    """Report two files an item names that would be published under one name."""
    lines = {ref.file: ref.line for ref, _ in reversed(references(item))}
    owners: dict[str, str] = {}
    problems = []
    for file in files:
        published = file_stem(file.name) if file.kind == PHOTO else document_name(file.name)
        other = owners.setdefault(published, file.name)
        if other != file.name:
            problems.append(
                Problem(
                    item.path,
                    lines.get(file.name, 1),
                    f"{other} and {file.name} would be published under one name ({published})",
                    "rename one of the two files",
                )
            )
    return problems


def small_leads(items: Iterable[Item]) -> list[Problem]:
    """Warn of each lead photo narrower than LEAD_WIDTH: published, but blurred on large screens and when shared."""
    found = []
    seen = set()  # once per file: a translation shows its original's lead photo
    leads = [(item, photo) for item in items if (photo := item.image) is not None]  # most items have none
    for item, photo in sorted(leads, key=lambda lead: lead[0].path):
        file = next((f for f in item.files if f.name == photo.file), None)
        if file is None or (item.bundle, file.name) in seen:
            continue
        seen.add((item.bundle, file.name))
        if file.kind == PHOTO and file.width < LEAD_WIDTH:
            found.append(
                Problem(
                    item.path,
                    photo.line,
                    f"the lead photo {file.name} is {file.width} pixels wide, under {LEAD_WIDTH}",
                    "use the camera's original file: social networks and search engines ask for 1200 pixels",
                    warning=True,
                )
            )
    return found
