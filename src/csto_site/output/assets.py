"""The static files under /static/: CSS and JavaScript named after their content, so no cache serves a stale one."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

from ..site.queries import Queries
from ..site.urls import output_path
from ..util.errors import ContentError, Problem
from .spec import Partition, Spec

STATIC = "static/"
FINGERPRINTED = (".css", ".js")
# 8 hex digits (32 bits): a new version of one file colliding with an old one is a 1 in 4 billion chance.
HASH_LENGTH = 8
# The static files the templates link: the build refuses to start without them.
REQUIRED = ("style.css", "nav.js", "search.css", "search.js")


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
        found[name] = StaticFile(name, published, hashlib.blake2b(data, digest_size=16).hexdigest())
    missing = [
        Problem(
            STATIC + name,
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
            url = f"/{STATIC}{q.asset(name)}"
            yield Spec(output_path(url), url, lang, url, (name,), source=f"{self.folder}/{name}")

    def draw(self, q: Queries, spec: Spec) -> bytes:
        """Copy the file's bytes."""
        q.static_digest(spec.args[0])
        return self.read(spec.args[0])
