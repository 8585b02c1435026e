"""Where a build puts what it draws: the publisher's standby copy of the site, seen only through this protocol.

The build never imports the publisher (publish/ comes after build/): the publisher hands the build an
Outbox, and takes back the `Changes` the build reports once drawing is done.
"""

from __future__ import annotations

from collections.abc import Container, Iterable, Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple, Protocol

from ..site.urls import OwnPaths


class Published(NamedTuple):
    """One file of an output group as a build made it."""

    path: str
    digest: str
    index_key: str  # for a page search indexes, the digest of what it indexes (output/search.py); else ""


@dataclass
class Changes:
    """What one build did: the output groups it rendered, and the files it wrote, removed and kept."""

    rendered: dict[str, tuple[str, list[Published]]] = field(default_factory=dict)
    written: set[str] = field(default_factory=set)
    removed: set[str] = field(default_factory=set)
    files: int = 0

    @property
    def unchanged(self) -> int:
        """Return how many published files were left as they were."""
        return self.files - len(self.written)


class Outbox(Protocol):
    """The publisher as a build sees it: what the live site holds, and where changed files go."""

    verify: bool  # the live site's record cannot be trusted: every output is drawn and compared
    missing: set[str]  # files of the live site deleted by hand
    signatures: dict[str, str]  # the groups of files the live site holds, with their signatures

    def lock(self) -> None:
        """Refuse other builds of this output folder from now on."""
        ...

    def open(self, verify: bool) -> None:
        """Read the record of the live site (`verify`: trust none of it)."""
        ...

    def generation(self) -> str:
        """Return the generation of the build state the live site was published with."""
        ...

    def begin(self, rendering: Iterable[str], own: OwnPaths) -> None:
        """Get ready for the files of these outputs (`own`: the paths only this program writes)."""
        ...

    def settle(self, path: str, data: bytes, indexed: bool = False) -> tuple[str, bool]:
        """Keep a file unless the live site holds the same bytes; return its digest and whether it was written."""
        ...

    def reusable(self, group: str, signature: str) -> bool:
        """Tell whether a group of files was published from this signature and is all there."""
        ...

    def intact(self, group: str) -> bool:
        """Tell whether a group of files is all there, whatever it was made from."""
        ...

    def indexed(self, dropped: set[str], changes: Changes) -> list[tuple[str, str]]:
        """Return (path, index key) of every page of the new site to index for search."""
        ...

    def indexed_of(self, groups: Iterable[str]) -> list[tuple[str, str]]:
        """Return (path, index key) of the pages of these groups the live site has indexed for search."""
        ...

    def indexed_under(self, folder: str) -> list[tuple[str, str, str]]:
        """Return (path, index key, group) of the pages below a folder the live site has indexed for search."""
        ...

    def laid_out(
        self, groups: Mapping[str, Iterable[str]], written: Container[str]
    ) -> AbstractContextManager[dict[str, Path]]:
        """Lay out each group of files of the new site as they will be published, in a scratch folder each."""
        ...
