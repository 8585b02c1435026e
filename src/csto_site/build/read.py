"""Read and check everything a build is made from: templates, site.yaml, the registries and the items."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import jinja2

from ..content.config import SiteConfig, load_config
from ..content.items import ParsedItem, item_language, link_translations, split_items
from ..content.labels import load_labels
from ..content.media import BUNDLE_INDEX, bundle_of
from ..content.model import Item
from ..content.record import Record, Recorded, item_root, read_record
from ..content.registry import Registry, read_registry
from ..content.sources import SourceFile, read_source
from ..output.assets import logo_error
from ..output.render import Renderer, template_digests
from ..site.addresses import address_problems
from ..site.assemble import find_duplicate_urls
from ..site.urls import Urls, redirect_error
from ..util.digest import digest, digest_text
from ..util.errors import ContentError, Problem
from ..util.files import Listing, publishable
from .cache import Cache
from .loader import (
    Found,
    Parsed,
    backlink_titles,
    code_fingerprint,
    markup_fingerprint,
    parse_items,
    registry_fingerprint,
    scan,
)
from .options import Options, Progress


@dataclass(frozen=True)
class Content:
    """Everything read from content/ and templates/: items without bodies, and what the cache knows of them."""

    items: tuple[Item, ...]
    registry: Registry
    config: SiteConfig
    renderer: Renderer
    heads: Mapping[str, str]
    body_keys: Mapping[str, str]
    registry_digest: str
    templates: Mapping[str, str]
    changed: tuple[tuple[Item | None, Item | None], ...]
    record: Record


def read_content(
    options: Options, cache: Cache, jobs: int, progress: Progress | None = None, listing: Listing | None = None
) -> Content:
    """Check templates, configuration, registries and items, parsing only what changed; raise on problems."""
    # Listed first: a link out of content/ is refused before site.yaml or any other file is read through it.
    listing = publishable(options.content) if listing is None else listing
    renderer = Renderer(options.templates)
    labels, problems = load_labels(options.templates)
    templates, found_problems, key = check_templates(renderer, cache)
    problems += found_problems
    if problems:
        raise ContentError(problems)
    memo = cache.memo
    if memo is not None:  # serve: the templates its last build compiled, while their sources are the same
        if memo.renderer is not None and memo.renderer[0] == key:
            renderer = memo.renderer[1]
        else:
            memo.renderer = (key, renderer)
    config = load_config(
        options.content, labels, str(options.templates / "labels.yaml"), redirect_error, logo_error(options.static)
    )
    found = scan(listing)
    problems = [*found.problems, *split_items(((f.path, f.rel) for f in found.items), config)]
    sections: list[SourceFile] = []
    for entry in found.sections:
        source = read_source(Path(entry.path), entry.rel)
        if isinstance(source, Problem):
            problems.append(source)
        else:
            sections.append(source)
    # A mistake in a registry must not hide the items' own: items are checked against what is right.
    registry, found_problems = read_registry(options.content, config, sections)
    problems += found_problems
    registry_digest = digest(registry_fingerprint(options.content, sections), *(s.digest for s in sections))
    context = digest(
        code_fingerprint(),
        markup_fingerprint(),
        config.digest,
        registry_digest,
        *(f"{lang}:{title}" for lang, title in sorted(backlink_titles(config).items())),
    )
    parsed = parse_items(
        found.items, registry, config, context, cache, jobs, str(options.content), progress, found.bundles
    )
    problems += parsed.problems
    record, found_problems = read_record(options.content, cache.memo.records if cache.memo is not None else None)
    problems += found_problems
    record = with_moves(record, [p.item.path for p in parsed.items], item_root(options.content))
    urls = Urls(config.default_language, config.base_url)
    items, found_problems = link_translations(
        parsed.items, config, published_slugs(record, parsed.items, urls), unread_originals(found.items, parsed, config)
    )
    problems += found_problems
    problems += address_problems(items)
    problems += find_duplicate_urls(items, urls, slug_line(parsed.items), record)
    if problems:
        raise ContentError(problems)
    heads: dict[str, str] = {}
    for item, parsed_item in zip(items, parsed.items, strict=True):
        head = parsed.heads[item.path]
        # A translation that takes its original's slug, photos or documents changed after parsing: then its
        # head must say so (those are the only fields linking changes).
        heads[item.path] = head if item is parsed_item.item else digest(head, linked_fields(item))
    return Content(
        tuple(items),
        registry,
        config,
        renderer,
        heads,
        parsed.bodies,
        registry_digest,
        templates,
        _with_versions(parsed.changed, items),
        record,
    )


def unread_originals(found: Sequence[Found], parsed: Parsed, config: SiteConfig) -> set[str]:
    """Return the translation keys of the original item files that could not be read (they have problems)."""
    if not parsed.problems:  # the usual build: every item file was read (no pass over the archive)
        return set()
    read = {p.item.path for p in parsed.items}
    keys = (item_language(f.rel, config) for f in found if f.path not in read)
    return {key[0] for key in keys if isinstance(key, tuple) and key[1] == config.default_language}


def slug_line(parsed: Sequence[ParsedItem]) -> Callable[[Item], tuple[int, bool]]:
    """Say where an item's slug comes from: the line of its `slug:` (True), else of its title (False)."""

    def line(item: Item) -> tuple[int, bool]:
        """Find the item's parse (only for a problem: a pass over the items)."""
        found = next(p for p in parsed if p.item.path == item.path)
        if found.explicit_slug:
            return found.lines.get("slug", 1), True
        return found.lines.get("title", 1), False

    return line


def linked_fields(item: Item) -> str:
    """Describe the fields of an item that linking translations may set: its slug, photos and documents."""
    return repr((item.slug, item.image, item.gallery, item.attachments, item.files))


def with_moves(record: Record, items: Sequence[str], root: str) -> Record:
    """Give the record's addresses of item files that moved to the files they moved to.

    An item file moved to another folder under the same name (to another section), or made an item
    that is a folder (`x.md` to `x/index.md`) or back, is the same item: the addresses recorded for its
    old place are its own. Only a file the record does not name yet can be such a move; item files
    are named below `root`, the content folder.
    """
    named = {entry.source for entry in record.entries.values()}
    present = set(items)
    by_name: dict[str, list[str]] = {}
    for path in present.difference(named):
        by_name.setdefault(item_name(path.removeprefix(root)), []).append(path)
    moved = {
        path: found[0]
        for path in named - present - {""}
        if len(found := by_name.get(item_name(path.removeprefix(root)), [])) == 1
    }
    if not moved:
        return record
    return Record(
        record.path,
        {
            address: Recorded(address, moved[entry.source], entry.line) if entry.source in moved else entry
            for address, entry in record.entries.items()
        },
        # What the record says changes with the moves too: its readers must see them.
        digest_text(record.digest + repr(sorted(moved.items()))),
    )


def item_name(rel: str) -> str:
    """Name an item file (below content/) as a move keeps it: its file name, a folder's `x/index.md` as `x.md`."""
    folder = bundle_of(rel)
    name = rel.rpartition("/")[2]
    return folder.rpartition("/")[2] + name.removeprefix(BUNDLE_INDEX) if folder else name


def published_slugs(record: Record, parsed: Sequence[ParsedItem], urls: Urls) -> dict[str, str]:
    """Return the slug each item file was published under, by the record (the one of its current day first)."""
    recorded = record.by_source
    found: dict[str, str] = {}
    for p in parsed:
        addresses = recorded.get(p.item.path)
        if addresses and (slug := _first_slug(p.item, addresses, urls)):
            found[p.item.path] = slug
    return found


def recorded_slugs(content: Path, parsed: Sequence[ParsedItem], config: SiteConfig) -> dict[str, str]:
    """Return the slug each of some item files was published under, as a build would read the record (for `new`)."""
    record, _ = read_record(content)  # a line that is no address is the build's to report: the others still say
    moved = with_moves(record, [f.path for f in scan(publishable(content)).items], item_root(content))
    return published_slugs(moved, parsed, Urls(config.default_language, config.base_url))


def recorded_owners(content: Path, config: SiteConfig) -> Callable[[str, date, str], str | None]:
    """Return who has an item address by the record (for `new`): the item file, "" for none, None if unrecorded."""
    record, _ = read_record(content)  # a line that is no address is the build's to report
    urls = Urls(config.default_language, config.base_url)

    def owner(lang: str, day: date, slug: str) -> str | None:
        """Return the item file the record names for this address."""
        entry = record.entries.get(urls.item_at(lang, day, slug))
        return None if entry is None else entry.source

    return owner


def _first_slug(item: Item, addresses: Sequence[str], urls: Urls) -> str:
    """Return the slug of an item's recorded addresses it keeps: the one of its current day first, then by name."""
    if len(addresses) == 1:  # the usual item: its page's address alone
        return urls.slug_at(item.lang, addresses[0])
    slugs = [slug for address in addresses if (slug := urls.slug_at(item.lang, address))]
    if len(slugs) > 1:
        slugs.sort(key=lambda slug: (urls.item_at(item.lang, item.day, slug) not in addresses, slug))
    return slugs[0] if slugs else ""


def _with_versions(
    changed: tuple[tuple[Item | None, Item | None], ...], items: list[Item]
) -> tuple[tuple[Item | None, Item | None], ...]:
    """Count every language version of a changed item as changed: a translation takes its original's slug."""
    keys = {i.key for pair in changed for i in pair if i is not None}
    if not keys:
        return changed
    return (*changed, *((i, i) for i in items if i.key in keys))


def check_templates(renderer: Renderer, cache: Cache) -> tuple[dict[str, str], list[Problem], str]:
    """Compile every template, unless this very set passed before; return each one's digest or problems, and a key.

    The key is a digest of every template's source (and Jinja2's version).
    """
    sources, unreadable = renderer.sources()
    if unreadable:
        return {}, unreadable, ""
    key = digest("templates", jinja2.__version__, *(f"{n}\x1e{s}" for n, s in sorted(sources.items())))
    known = cache.checked(key)
    if isinstance(known, dict):
        return known, [], key
    problems = renderer.check()
    if problems:
        return {}, problems, key
    digests = template_digests(renderer.env, sources)
    cache.record_check(key, digests)
    return digests, [], key
