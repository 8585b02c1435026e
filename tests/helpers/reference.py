"""The reference build the tests compare every build with: the whole catalogue drawn in memory, nothing cached.

No engine, no recorded dependencies, no publisher: every producer lists its partitions, describes
them and draws every output; post-producers read what was declared from a plain in-memory list. An
incremental build must publish exactly these bytes.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from pathlib import Path

from csto_site.build.cache import Cache
from csto_site.build.options import Options
from csto_site.build.pipeline import prepare, static_folder
from csto_site.build.read import read_content
from csto_site.content.record import Record
from csto_site.output.catalogue import Catalogue, catalogue
from csto_site.output.compress import compressed
from csto_site.output.render import Renderer, template_digests
from csto_site.output.search import index_outputs, indexed_pages, page_language
from csto_site.output.spec import Output, Partition, Spec
from csto_site.site.model import Site
from csto_site.site.queries import Queries
from csto_site.site.urls import place_of
from csto_site.util.digest import bytes_digest, digest
from csto_site.util.errors import ContentError, Problem
from helpers.site import NOW, STATIC, TEMPLATES


class Declared:
    """What the producers declared, in the order they declared it."""

    def __init__(self, record: Record) -> None:
        self.record = record
        self.order: list[Partition] = []
        self.by_id: dict[str, list[Spec]] = {}
        self.digests: dict[str, str] = {}

    def add(self, part: Partition, specs: list[Spec]) -> None:
        """Keep a partition's specs."""
        self.order.append(part)
        self.by_id[part.id] = specs

    def partitions(self, producer: str | None = None) -> Sequence[Partition]:
        """Return the partitions of one producer, or all."""
        return [p for p in self.order if producer is None or p.producer == producer]

    def specs(self, part: Partition) -> Sequence[Spec]:
        """Return a partition's specs."""
        return self.by_id[part.id]

    def sitemaps(self) -> dict[str, list[Partition]]:
        """Return the partitions whose pages each sitemap lists."""
        found: dict[str, list[Partition]] = {}
        for part in self.order:
            for name in sorted({s.sitemap for s in self.by_id[part.id]} - {""}):
                found.setdefault(name, []).append(part)
        return found

    def listed(self, part: Partition, sitemap: str) -> Sequence[Spec]:
        """Return a partition's specs that one sitemap lists."""
        return [s for s in self.by_id[part.id] if s.sitemap == sitemap]

    def lastmod(self, part: Partition, sitemap: str) -> str:
        """Return the latest `lastmod` of a partition's specs that one sitemap lists."""
        return max((s.lastmod for s in self.listed(part, sitemap) if s.lastmod), key=datetime.fromisoformat, default="")

    def owners(self, paths: Iterable[str]) -> dict[str, str]:
        """Return the source of the spec that writes each path."""
        wanted = set(paths)
        return {s.path: s.source for specs in self.by_id.values() for s in specs if s.path in wanted}

    def drawn(self, path: str) -> str:
        """Return the digest of a drawn output."""
        return self.digests.get(path, "")

    def unkept(self) -> Record:
        """Return the record less the addresses an output declared so far writes."""
        written = {s.path for specs in self.by_id.values() for s in specs}
        left = {a: e for a, e in self.record.entries.items() if place_of(a) not in written}
        return Record(self.record.path, left, "")


def reference_site(
    content: Path, templates: Path = TEMPLATES, static: Path = STATIC, now: datetime = NOW
) -> tuple[Site, list[Output]]:
    """Draw every output of the site in memory, with no cache; return the model and the outputs."""
    options = Options(content=content, templates=templates, static=static, cache=None, jobs=1)
    with Cache.open(None) as cache:
        setting = prepare(options, now, cache, read_content(options, cache, 1))
        return setting.site, draw_catalogue(setting.q, setting.catalogue)[0]


def draw_site(site: Site, renderer: Renderer, now: datetime = NOW, static: Path = STATIC) -> list[Output]:
    """Draw every output of a site model whose items carry their bodies (built in memory by a test)."""
    items = [i for e in site.editions.values() for i in e.items]
    files, read_static = static_folder(static)
    q = Queries(
        site,
        {i.path: digest(repr(i)) for i in items},
        {i.path: digest(i.body_html) for i in items},
        lambda item: item.body_html,
        now,
        {n: (f.published, f.digest) for n, f in files.items()},
        template_digests(renderer.env, renderer.sources()[0]),
    )
    return draw_catalogue(q, catalogue(renderer, read_static, str(static), _no_photos))[0]


def _no_photos(key: str, path: str, name: str) -> bytes:
    """Refuse to make variants: a site built in memory has no item folders."""
    raise AssertionError(f"a site built in memory has no photo {path}")


def reference_declared(
    content: Path, templates: Path = TEMPLATES, static: Path = STATIC, now: datetime = NOW
) -> Declared:
    """Return everything the catalogue of a site declares."""
    options = Options(content=content, templates=templates, static=static, cache=None, jobs=1)
    with Cache.open(None) as cache:
        setting = prepare(options, now, cache, read_content(options, cache, 1))
        return draw_catalogue(setting.q, setting.catalogue)[1]


def draw_catalogue(q: Queries, every: Catalogue) -> tuple[list[Output], Declared]:
    """Describe and draw every output of a catalogue; refuse two outputs at one path."""
    declared, outputs = Declared(q.site.record), []
    for producer in every.producers:
        for part in producer.partitions(q):
            specs = list(producer.specs(q, part))
            declared.add(part, specs)
            outputs += [Output(s.path, producer.draw(q, s), s.source) for s in specs if s.path]
    declared.digests = {o.path: bytes_digest(o.data) for o in outputs}
    for post in every.post:
        for part in post.partitions(q, declared):
            specs = list(post.specs(q, declared, part))
            declared.add(part, specs)
            outputs += [Output(s.path, post.draw(q, declared, s), s.source) for s in specs if s.path]
    owners: dict[str, str] = {}
    problems = []
    for output in outputs:
        if output.path in owners:
            problems.append(Problem(output.source, 0, f"{output.path} is also written by {owners[output.path]}"))
        owners.setdefault(output.path, output.source)
    if problems:
        raise ContentError(problems)
    return outputs, declared


def reference(
    content: Path, templates: Path = TEMPLATES, search: bool = False, now: datetime = NOW, static: Path = STATIC
) -> dict[str, bytes]:
    """Return every file a build of `content` must publish, by path: outputs, search index, compressed copies."""
    site, outputs = reference_site(content, templates, static, now)
    if search:
        outputs += index_outputs(indexed_pages(outputs), page_language(site))
    return {o.path: o.data for output in outputs for o in (output, *compressed(output))}
