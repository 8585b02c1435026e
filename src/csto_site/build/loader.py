"""Read and check the content, parsing only the files that changed since the last build, on every core.

Items come back without their bodies (`body_html` is empty): a body is needed only by its item page,
and is fetched from the cache by its key when that page is drawn. This keeps a rebuild from reading
every body, and the memory of a 100,000-item build bounded.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import cache
from pathlib import Path
from typing import NamedTuple

from ..content.config import SiteConfig
from ..content.frontmatter import split
from ..content.items import ParsedItem, parse_item
from ..content.markup import Markup
from ..content.media import bundle_of
from ..content.model import Item
from ..content.registry import Registry
from ..content.sources import OWN_FILES, REGISTRY_FILES, SourceFile, is_section_index, read_source
from ..util.digest import digest
from ..util.errors import Problem
from ..util.files import RACY_NS, Listing
from ..util.parallel import chunked, fork_map
from .cache import Cache, Entry, Folder, Record
from .inputs import file_digest, library_stamps
from .media import Seen, Stat, resolve

CHUNK = 64
# Below this many files to parse, starting worker processes costs more than it saves.
PARALLEL_FROM = 48


class Found(NamedTuple):
    """A file found in the content folder, with its stat."""

    path: str
    rel: str
    mtime_ns: int
    size: int
    ctime_ns: int


@dataclass(frozen=True)
class Scan:
    """The content folder's files: section indexes and items (as `sources.discover` sorts them), ignored, misplaced.

    `bundles` lists the other files of each item that is a folder, by the folder's path.
    """

    sections: tuple[Found, ...]
    items: tuple[Found, ...]
    ignored: tuple[str, ...]
    problems: tuple[Problem, ...]
    bundles: Mapping[str, Mapping[str, Stat]] = field(default_factory=dict)


@dataclass(frozen=True)
class Parsed:
    """The items of the content, without bodies, with what the cache knows of each."""

    items: tuple[ParsedItem, ...]
    heads: Mapping[str, str]
    bodies: Mapping[str, str]
    problems: tuple[Problem, ...]
    changed: tuple[tuple[Item | None, Item | None], ...] = ()  # (old, new) of every file parsed again or gone


def scan(listing: Listing) -> Scan:
    """Sort the content folder's files into section indexes, items, ignored files and misplaced ones."""
    sections: list[Found] = []
    items: list[Found] = []
    ignored: list[str] = []
    problems: list[Problem] = []
    folders = {rel.rpartition("/")[0]: path.rpartition("/")[0] for path, rel, _ in listing if bundle_of(rel)}
    bundles: dict[str, dict[str, Stat]] = {}
    for path, rel, stat in listing:
        folder = _bundle_above(rel, folders) if folders else None
        if folder is not None and not bundle_of(rel):
            if path.endswith(".md"):
                problems.append(
                    Problem(
                        path,
                        1,
                        "a Markdown file inside an item's folder is neither the item nor its translation",
                        "name the item index.md and its translation index.ru.md, or move this file out of the folder",
                    )
                )
            else:
                name = rel[len(folder) + 1 :]
                stats = Stat(path, stat.st_mtime_ns, stat.st_size, stat.st_ctime_ns)
                bundles.setdefault(folders[folder], {})[name] = stats
            continue
        if not path.endswith(".md"):
            if rel not in OWN_FILES:
                ignored.append(path)
            continue
        if "/" not in rel:
            problems.append(
                Problem(
                    path, 1, "a news item must be inside a section folder", "move it into a folder such as csto-news/"
                )
            )
            continue
        found = Found(path, rel, stat.st_mtime_ns, stat.st_size, stat.st_ctime_ns)
        if is_section_index(rel):
            sections.append(found)
        else:
            items.append(found)
    return Scan(tuple(sections), tuple(items), tuple(ignored), tuple(problems), bundles)


def _bundle_above(rel: str, folders: Mapping[str, str]) -> str | None:
    """Return the item folder a content file lies in (its relative path), or None."""
    folder = rel.rpartition("/")[0]
    while folder:
        if folder in folders:
            return folder
        folder = folder.rpartition("/")[0]
    return None


@cache
def code_fingerprint() -> str:
    """Digest this program's source and the installed libraries, so a new version rebuilds everything.

    Once per process: the code a process runs does not change while it runs.
    """
    package = Path(__file__).parent.parent
    parts: list[str | bytes] = [sys.version]
    for path in sorted(package.rglob("*.py")):
        parts += [path.relative_to(package).as_posix(), path.read_bytes()]
    return digest(*parts, *library_stamps())


def markup_fingerprint() -> str:
    """Digest what turns Markdown into HTML: markup.py and the versions of Python-Markdown and nh3."""
    import markdown
    import nh3

    markup = Path(__file__).parent.parent / "content" / "markup.py"
    return digest(markup.read_bytes(), str(getattr(markdown, "__version__", "")), str(getattr(nh3, "__version__", "")))


def backlink_titles(config: SiteConfig) -> dict[str, str]:
    """Return each language's title for a footnote's link back to the text (the `footnote_back` label)."""
    return {lang: str(labels["footnote_back"]) for lang, labels in config.labels.items() if "footnote_back" in labels}


def registry_fingerprint(content: Path, sections: Iterable[SourceFile]) -> str:
    """Digest what an item's parse depends on besides its own file: the registries and the section list."""
    parts: list[str | bytes] = []
    for name in REGISTRY_FILES[1:]:
        try:
            parts.append((content / name).read_bytes())
        except OSError:
            parts.append(b"")
    parts += sorted(s.rel.split("/")[0] for s in sections)
    return digest(*parts)


@dataclass(frozen=True)
class _Result:
    """What a worker learned about one item file."""

    found: Found
    file_digest: str | None
    record: Record | None
    problems: tuple[Problem, ...]
    body: tuple[str, str] | None
    media: tuple[tuple[str, Seen], ...] = ()


class _BodyRenderer:
    """Render Markdown bodies, reusing the HTML the cache already holds for the same text."""

    def __init__(self, fingerprint: str, lookup: Callable[[str], str | None], titles: Mapping[str, str]) -> None:
        self.fingerprint = fingerprint
        self.lookup = lookup
        self.titles = titles
        self.markup: Markup | None = None
        self.last: tuple[str, str, bool] = ("", "", False)

    def render(self, text: str, lang: str) -> str:
        """Return the body's HTML: from the cache when known, else freshly converted."""
        # A footnote's back-link title is the one thing of the language the HTML can hold, and only
        # a text with a footnote mark ("[^") has one: other texts share their HTML across languages.
        key = digest(self.fingerprint, self.titles.get(lang, "") if "[^" in text else "", text)
        html = self.lookup(key)
        fresh = html is None
        if html is None:
            if self.markup is None:
                self.markup = Markup(self.titles)
            html = self.markup.render(text, lang)
        self.last = (key, html, fresh)
        return html


@dataclass(frozen=True)
class _Folders:
    """What parsing an item file needs to know of the item folders: their files now, and as last seen."""

    content: str
    bundles: Mapping[str, Mapping[str, Stat]]
    known: Mapping[str, Folder]


def _parse_chunk(
    files: Iterable[Found], registry: Registry, config: SiteConfig, bodies: _BodyRenderer, folders: _Folders
) -> list[_Result]:
    """Read and parse item files, and check the files of their folders they name; return records or problems."""
    results = []
    for found in files:
        source = read_source(Path(found.path), found.rel)
        if isinstance(source, Problem):
            results.append(_Result(found, None, None, (source,), None))
            continue
        bodies.last = ("", "", False)
        parsed, problems = parse_item(source, registry, config, bodies.render)
        media: dict[str, Seen] = {}
        if parsed is not None and parsed.item.bundle:
            before = _entry(folders.known, found.rel)
            known = dict(before.media) if before is not None else {}
            bundle = folders.bundles.get(parsed.item.bundle, {})
            named, media, unusable = resolve(parsed.item, bundle, folders.content, known)
            problems += unusable
            parsed = replace(parsed, item=replace(parsed.item, files=named))
        if parsed is None or problems:
            results.append(_Result(found, source.digest, None, tuple(problems), None))
            continue
        body_key, html, fresh = bodies.last
        lean = replace(parsed, item=replace(parsed.item, body_html=""))
        record = Record(lean, head_digest(lean.item), body_key)
        results.append(
            _Result(
                found,
                source.digest,
                record,
                tuple(problems),
                (body_key, html) if fresh else None,
                tuple(sorted(media.items())),
            )
        )
    return results


def _same(known: Mapping[str, Entry], entries: Mapping[str, Entry]) -> bool:
    """Tell whether a folder holds exactly the cached entries (reused ones are the cache's own objects)."""
    return known.keys() == entries.keys() and all(entry is known[rel] for rel, entry in entries.items())


def head_digest(item: Item) -> str:
    """Digest every field of an item except its body: what listings, feeds and neighbours show of it."""
    return digest(repr(replace(item, body_html="", digest="")))


def parse_items(
    found: Iterable[Found],
    registry: Registry,
    config: SiteConfig,
    context: str,
    cache: Cache,
    jobs: int,
    content: str,
    progress: Callable[[str, int, int], None] | None = None,
    bundles: Mapping[str, Mapping[str, Stat]] | None = None,
) -> Parsed:
    """Parse every item file, reusing cached results for unchanged files and spreading the rest over `jobs`.

    An item that is a folder is parsed again when a file of it that it names changed (`bundles`: the
    files of every item folder, by its path).
    """
    known = cache.folders(content)
    found = list(found)
    bundles = bundles or {}
    started_ns = time.time_ns()
    reused, pending = _triage(found, known, context, started_ns, bundles)
    fingerprint = markup_fingerprint()
    total = len(pending)
    if progress and total:
        progress("parse", 0, total)
    done = [0]

    def arrived(results: list[_Result]) -> list[_Result]:
        # The bodies go to the cache now, not into memory until the end: 100,000 of them are 1 GB.
        cache.add_bodies({r.body[0]: r.body[1] for r in results if r.body is not None})
        done[0] += len(results)
        if progress:
            progress("parse", min(done[0], total), total)
        return [replace(r, body=None) for r in results]

    lookup = cache.body_lookup()

    def work(chunk: Sequence[Found]) -> list[_Result]:
        renderer = _BodyRenderer(fingerprint, lookup, backlink_titles(config))
        return _parse_chunk(chunk, registry, config, renderer, _Folders(content, bundles, known))

    workers = jobs if total >= PARALLEL_FROM else 1
    results = {r.found.rel: r for rs in fork_map(work, chunked(pending, CHUNK), workers, arrived) for r in rs}
    items: list[ParsedItem] = []
    heads: dict[str, str] = {}
    bodies: dict[str, str] = {}
    problems: list[Problem] = []
    folders: dict[str, dict[str, Entry]] = {}
    changed: list[tuple[Item | None, Item | None]] = []
    for f in found:
        if f.rel in reused:
            entry: Entry | None = reused[f.rel]
        else:
            result = results[f.rel]
            changed += _change(_entry(known, f.rel), result)
            problems += result.problems
            entry = (
                _restat(
                    Entry(
                        f.mtime_ns, f.size, result.file_digest, result.record, media=_settled(result.media, started_ns)
                    ),
                    f,
                    started_ns,
                )
                if result.record is not None and result.file_digest is not None
                else None
            )
        if entry is None:
            continue
        folders.setdefault(f.rel.rpartition("/")[0], {})[f.rel] = entry
        item = entry.record.parsed.item
        items.append(entry.record.parsed)
        heads[item.path] = entry.record.head
        bodies[item.path] = entry.record.body
    seen = {f.rel for f in found}
    changed += [
        (entry.record.parsed.item, None)
        for folder in known.values()
        for rel, entry in folder.entries.items()
        if rel not in seen
    ]
    remake = _BodyRemaker(fingerprint, backlink_titles(config))
    cache.remember(
        content,
        {
            name: Folder(context, entries)
            for name, entries in folders.items()
            if name not in known or known[name].context != context or not _same(known[name].entries, entries)
        },
        set(known) - set(folders),
        remake.remake,
    )
    return Parsed(tuple(items), heads, bodies, tuple(problems), tuple(changed))


def _settled(media: Sequence[tuple[str, Seen]], started_ns: int) -> tuple[tuple[str, Seen], ...]:
    """Keep what was found in an item folder's files; a racy file's stat is not trusted next time (see _restat)."""
    return tuple(
        (name, seen._replace(mtime_ns=-1) if max(seen.mtime_ns, seen.ctime_ns) >= started_ns - RACY_NS else seen)
        for name, seen in media
    )


def _media_stands(entry: Entry, bundle: Mapping[str, Stat]) -> bool:
    """Tell whether every file of its folder an item named is there with the stat it had when it was read."""
    for name, seen in entry.media:
        stat = bundle.get(name)
        if stat is None or (stat.mtime_ns, stat.size, stat.ctime_ns) != (seen.mtime_ns, seen.size, seen.ctime_ns):
            return False
    return True


def _triage(
    found: Sequence[Found],
    known: Mapping[str, Folder],
    context: str,
    started_ns: int,
    bundles: Mapping[str, Mapping[str, Stat]],
) -> tuple[dict[str, Entry], list[Found]]:
    """Sort the files into those whose cached parse stands (under their current stat) and those to parse."""
    reused: dict[str, Entry] = {}
    pending: list[Found] = []
    for f in found:
        folder = known.get(f.rel.rpartition("/")[0])
        entry = folder.entries.get(f.rel) if folder is not None and folder.context == context else None
        if entry is None or entry.size != f.size:
            pending.append(f)
        elif entry.media and not _media_stands(entry, bundles.get(f.path.rpartition("/")[0], {})):
            pending.append(f)  # a photo or document it names changed: it is checked, and its pages drawn, again
        elif entry.mtime_ns == f.mtime_ns and entry.ctime_ns == f.ctime_ns:
            reused[f.rel] = entry
        elif file_digest(Path(f.path)) == entry.digest:
            # The stat moved, the bytes did not (a touch, a fresh checkout): the parse stands, under the new stat.
            reused[f.rel] = _restat(entry, f, started_ns)
        else:
            # The ctime moved and the bytes changed, though the mtime may say otherwise (`cp -p`, `touch -r`).
            pending.append(f)
    return reused, pending


def _change(before: Entry | None, result: _Result) -> list[tuple[Item | None, Item | None]]:
    """Return the (old, new) item of a file parsed again, unless it parsed to the same head and body."""
    old, new = before.record if before is not None else None, result.record
    # Parsed again (a touched file, a new registry) to the same head and body: nothing changed.
    if old is not None and new is not None and (old.head, old.body) == (new.head, new.body):
        return []
    return [(old.parsed.item if old is not None else None, new.parsed.item if new is not None else None)]


def _entry(known: Mapping[str, Folder], rel: str) -> Entry | None:
    """Return what the cache knew of a file, whatever context it was parsed in."""
    folder = known.get(rel.rpartition("/")[0])
    return folder.entries.get(rel) if folder is not None else None


def _restat(entry: Entry, found: Found, started_ns: int) -> Entry:
    """Give an entry the file's current stat; a racy one (changed just before the build) is never trusted.

    A file changed within the clock's resolution of the moment it was read may change again without
    its mtime or ctime moving: its mtime is kept as -1, so its bytes are digested again next time.
    """
    racy = max(found.mtime_ns, found.ctime_ns) >= started_ns - RACY_NS
    if (entry.mtime_ns, entry.size, entry.ctime_ns) == (-1 if racy else found.mtime_ns, found.size, found.ctime_ns):
        return entry
    return entry._replace(mtime_ns=-1 if racy else found.mtime_ns, size=found.size, ctime_ns=found.ctime_ns)


class _BodyRemaker:
    """Make the HTML of an item's body again from its file, when the cache lost it after the item was parsed."""

    def __init__(self, fingerprint: str, titles: Mapping[str, str]) -> None:
        self.renderer = _BodyRenderer(fingerprint, lambda key: None, titles)

    def remake(self, item: Item, key: str) -> str | None:
        """Return the body's HTML, or None when the file no longer holds the text that made `key`."""
        source = read_source(Path(item.path), "")
        if isinstance(source, Problem):
            return None
        front, _ = split(source.text, source.path)
        if front is None:
            return None
        html = self.renderer.render(front.body, item.lang)
        return html if self.renderer.last[0] == key else None
