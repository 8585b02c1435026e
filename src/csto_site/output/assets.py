"""The static files under /static/: CSS and JavaScript named after their content, so no cache serves a stale one."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from ..site.queries import Queries
from ..site.urls import Urls, output_path
from ..util.digest import bytes_digest
from ..util.errors import ContentError, Problem, did_you_mean
from ..util.files import checked_walk, read_listed
from .spec import Partition, Spec

FINGERPRINTED = (".css", ".js")
# 8 hex digits (32 bits): a new version of one file colliding with an old one is a 1 in 4 billion chance.
HASH_LENGTH = 8
# The static files the templates link: the build refuses to start without them.
REQUIRED = ("style.css", "nav.js", "search.css", "search.js")
# The emblem (site.yaml's `logo`): what every browser shows as an icon and in an <img>, and search engines
# take as a publisher's logo. It is on every page, so it stays small.
LOGO_TYPES = {".svg": "image/svg+xml", ".png": "image/png"}
LOGO_BYTES = 256 * 1024
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
# An SVG file: an optional XML declaration, comments and a doctype without an internal subset, then <svg>.
SVG_START = re.compile(r"\A\s*(?:<\?xml[^>]*\?>\s*)?(?:<!--.*?-->\s*|<!DOCTYPE[^>\[]*>\s*)*<svg[\s>/]", re.S)
# What would run if a reader opened the file itself: the same things the Markdown bodies lose.
SVG_ACTIVE = re.compile(r"<script|<foreignObject|\son[a-z]+\s*=|javascript:", re.I)


@dataclass(frozen=True)
class StaticFile:
    """A file of the static folder: its name there, its published name and the digest of its bytes."""

    name: str
    published: str
    digest: str


def fingerprinted_name(name: str, data: bytes) -> str:
    """Put the content hash of `data` before the extension of `name`: style.css → style.3f9a1c2b.css."""
    stem, _, extension = name.rpartition(".")
    return f"{stem}.{hashlib.sha256(data).hexdigest()[:HASH_LENGTH]}.{extension}"


def static_files(files: Mapping[str, bytes], required: Iterable[str] = REQUIRED) -> dict[str, StaticFile]:
    """Name the static folder's files as published: CSS and JS after their content, others as they are."""
    found = {}
    for name, data in sorted(files.items()):
        published = fingerprinted_name(name, data) if name.endswith(FINGERPRINTED) else name
        found[name] = StaticFile(name, published, bytes_digest(data))
    missing = [
        Problem(
            output_path(Urls.static(name)),
            0,
            "the templates need this file but the static folder has none",
            "restore it from the csto_site repository, or pass --static DIR",
        )
        for name in required
        if name not in found
    ]
    if missing:
        raise ContentError(missing)
    return found


class Static:
    """Every file of the static folder, published under /static/."""

    name = "static"

    def __init__(self, read: Callable[[str], bytes], folder: str) -> None:
        self.read = read
        self.folder = folder

    def partitions(self, q: Queries) -> Iterable[Partition]:
        """One partition: the whole folder."""
        return [Partition(self.name)]

    def specs(self, q: Queries, part: Partition) -> Iterable[Spec]:
        """Describe each file at its published name."""
        lang = q.config.default_language
        for name in q.static_names():
            url = Urls.static(q.asset(name))
            yield Spec(output_path(url), url, lang, url, (name,), source=f"{self.folder}/{name}")

    def draw(self, q: Queries, spec: Spec) -> bytes:
        """Copy the file's bytes."""
        q.static_digest(spec.args[0])
        return self.read(spec.args[0])


def logo_error(static: Path) -> Callable[[str], tuple[str, str]]:
    """Return the check of site.yaml's `logo`: why a name is not an SVG or PNG file of `static`, and a hint."""

    def error(name: str) -> tuple[str, str]:
        """Say why `name` cannot be the emblem, with a hint; ("", "") when it can."""
        suffix = Path(name).suffix.lower()
        if suffix not in LOGO_TYPES:
            return f"{name!r} is not an SVG or PNG image", "draw the emblem as SVG, or save it as PNG"
        files = {rel: path for path, rel, _ in checked_walk(static, [])}
        if name not in files:
            images = [rel for rel in files if Path(rel).suffix.lower() in LOGO_TYPES]
            shown = f"{static}/{name}"
            return f"{shown} does not exist", did_you_mean(name, images) or f"put the emblem's file in {static}/"
        data = read_listed(files[name], static)
        if isinstance(data, Problem):
            return data.message, data.hint
        return _image_error(f"{static}/{name}", suffix, data)

    return error


def _image_error(shown: str, suffix: str, data: bytes) -> tuple[str, str]:
    """Say why a file's bytes are not a small image of the type its name says, with a hint; or ("", "")."""
    if len(data) > LOGO_BYTES:
        return (
            f"{shown} has {len(data):,} bytes, more than the {LOGO_BYTES:,} an emblem on every page may have",
            "simplify the drawing, or save it smaller",
        )
    if suffix == ".png":
        if not data.startswith(PNG_SIGNATURE):
            return f"{shown} is not a PNG image", "save the emblem as PNG, or name it after its type"
        return "", ""
    text = data.decode("utf-8", errors="replace").removeprefix("\ufeff")
    if not SVG_START.match(text):
        return f"{shown} is not an SVG image (it does not start with an <svg> element)", "save the emblem as SVG"
    if SVG_ACTIVE.search(text):
        return (
            f"{shown} holds a script, an event handler or a javascript: link",
            "remove it: an emblem is a picture, and a script in it would run on the site's address",
        )
    return "", ""
