"""What the catalogue is made of: outputs, their specs and partitions, and what a producer is.

A producer splits its outputs into partitions (a year's item pages, one official's pages), describes
the outputs of a partition as `Spec`s, and draws one output from its spec. It reads the site only
through `Queries`, so what it read while describing or drawing is recorded as it goes: the build
(build/plan.py) keeps those records, and describes or draws again only what a change touched.

Post-producers (sitemaps, the redirects file, the search index) describe and draw from what the
other producers declared, read through `Declared`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from ..content.record import Record
from ..site.queries import Queries


@dataclass(frozen=True)
class Output:
    """One file of the built site and what produced it."""

    path: str
    data: bytes
    source: str


@dataclass(frozen=True)
class Partition:
    """A run of one producer's outputs that are described together (their `args` say which)."""

    producer: str
    args: tuple[str, ...] = ()

    @property
    def id(self) -> str:
        """Name the partition uniquely: producer|arg|arg."""
        return "|".join((self.producer, *self.args))


def producer_of(pid: str) -> str:
    """Return the producer a partition id (Partition.id) names."""
    return pid.partition("|")[0]


@dataclass(frozen=True)
class Spec:
    """One output as its producer describes it, before it is drawn.

    `key` is the page's identity across languages (its versions share it); `alternates` lists every
    language version as (language, URL), itself included; `sitemap` names the sitemap that lists the
    page ("" for none); `args` is what the producer needs to draw it again; `lastmod` is when what the
    page shows last changed (ISO 8601: an item's `updated` or date, the latest of a listing's), or "".
    """

    path: str
    url: str
    lang: str
    key: str
    args: tuple[str, ...] = ()
    alternates: tuple[tuple[str, str], ...] = ()
    sitemap: str = ""
    source: str = ""
    lastmod: str = ""


def later(first: str, second: str) -> str:
    """Return the later of two `lastmod` values, compared as times (offsets may differ); "" comes before any."""
    if not first or not second:
        return first or second
    return max(first, second, key=lambda value: (datetime.fromisoformat(value), value))


class Producer(Protocol):
    """Declare one kind of output: its partitions, the outputs of each, and how to draw one."""

    name: str

    def partitions(self, q: Queries) -> Iterable[Partition]:
        """List the partitions of this kind of output (run by every build: keep it cheap)."""
        ...

    def specs(self, q: Queries, part: Partition) -> Iterable[Spec]:
        """Describe the outputs of one partition."""
        ...

    def draw(self, q: Queries, spec: Spec) -> bytes:
        """Draw one output."""
        ...


class Declared(Protocol):
    """What the producers declared, as post-producers read it (each read is recorded)."""

    def partitions(self, producer: str | None = None) -> Sequence[Partition]:
        """Return the partitions of one producer (or of all), in catalogue order."""
        ...

    def specs(self, part: Partition) -> Sequence[Spec]:
        """Return the outputs of a partition."""
        ...

    def sitemaps(self) -> dict[str, list[Partition]]:
        """Return the partitions whose pages each sitemap lists, in catalogue order."""
        ...

    def listed(self, part: Partition, sitemap: str) -> Sequence[Spec]:
        """Return the outputs of a partition that one sitemap lists."""
        ...

    def lastmod(self, part: Partition, sitemap: str) -> str:
        """Return the latest `lastmod` of the outputs of a partition that one sitemap lists ("" if none)."""
        ...

    def owners(self, paths: Iterable[str]) -> dict[str, str]:
        """Return what writes each of `paths` that an output of the site has (its spec's source)."""
        ...

    def drawn(self, path: str) -> str:
        """Return the digest of an output's drawn bytes."""
        ...

    def unkept(self) -> Record:
        """Return the record of published addresses, less those an output of the site writes."""
        ...


class PostProducer(Protocol):
    """Declare a kind of output made from the other outputs: sitemaps, the redirects file, the search index."""

    name: str

    def partitions(self, q: Queries, catalogue: Declared) -> Iterable[Partition]:
        """List the partitions of this kind of output."""
        ...

    def specs(self, q: Queries, catalogue: Declared, part: Partition) -> Iterable[Spec]:
        """Describe the outputs of one partition."""
        ...

    def draw(self, q: Queries, catalogue: Declared, spec: Spec) -> bytes:
        """Draw one output."""
        ...
