"""Fingerprinted static assets: CSS and JavaScript named after their content, so no cache serves a stale one."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from ..publish.trees import Output
from ..util.errors import ContentError, Problem

STATIC = "static/"
FINGERPRINTED = (".css", ".js")
# 8 hex digits (32 bits): a new version of one file colliding with an old one is a 1 in 4 billion chance.
HASH_LENGTH = 8


@dataclass(frozen=True)
class Assets:
    """The static outputs as published, and each file's published name, both relative to static/."""

    outputs: tuple[Output, ...]
    names: Mapping[str, str]


def fingerprinted_name(name: str, data: bytes) -> str:
    """Put the content hash of `data` before the extension of `name`: style.css → style.3f9a1c2b.css."""
    stem, _, extension = name.rpartition(".")
    return f"{stem}.{hashlib.sha256(data).hexdigest()[:HASH_LENGTH]}.{extension}"


def fingerprint(static: Iterable[Output], required: Iterable[str]) -> Assets:
    """Rename the CSS and JS files among the static/ outputs after their content; other files keep their names."""
    published: list[Output] = []
    names: dict[str, str] = {}
    for output in static:
        name = output.path.removeprefix(STATIC)
        names[name] = fingerprinted_name(name, output.data) if name.endswith(FINGERPRINTED) else name
        published.append(Output(STATIC + names[name], output.data, output.source))
    missing = [Problem(STATIC + name, 0, "the templates need this file but the static folder has none",
                       "restore it from the csto_site repository, or pass --static DIR")
               for name in required if name not in names]
    if missing:
        raise ContentError(missing)
    return Assets(tuple(published), names)
