"""The search index as a step of the build: the shards whose pages changed are indexed again, the others kept.

Which pages a shard holds follows from their buckets (output/search.py: a language's month, or its pages
that are not items'). The build state keeps, per bucket, where its pages lie, a digest of them and their
number, as the last build left the site; a build reads again only the buckets of the pages it drew or
dropped (each a month's folder of the live site, plus what it drew), so its bookkeeping follows the
change, not the archive. A build that trusts no stored state, or that changed a page no month's folder
holds, reads every indexed page, as a clean build does.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from ..output.compress import compressed
from ..output.search import (
    BUNDLE,
    SHARDS,
    SOURCE,
    Bucket,
    bucket_digest,
    bucket_of,
    index_shards,
    shard_buckets,
    shard_list,
)
from ..output.spec import Output
from ..site.urls import OwnPaths, item_folder
from ..util.digest import digest
from ..util.errors import Problem
from .cache import Cache
from .options import Progress
from .outbox import Changes, Outbox, Published


@dataclass(frozen=True)
class SearchJob:
    """What indexing for search works with: the outbox, the cache of shards, the language of a page, the code.

    `known` is the buckets of the live site, as the last build stored them (None: not known or not trusted).
    """

    trees: Outbox
    cache: Cache
    language: Callable[[str], str]
    own: OwnPaths
    base: str
    jobs: int
    progress: Progress | None
    known: Mapping[str, Bucket] | None


class IndexedPages:
    """The pages the new site indexes for search, by bucket, read from the outbox only as far as asked.

    They are the live site's, but those of the groups this build drew or dropped, and the ones it drew.
    """

    def __init__(self, trees: Outbox, dropped: set[str], changes: Changes, language: Callable[[str], str]) -> None:
        self.trees = trees
        self.dropped = dropped
        self.changes = changes
        self.language = language
        self.renewed = set(changes.rendered) | dropped
        self.drawn = {f.path: f.index_key for _, files in changes.rendered.values() for f in files if f.index_key}
        self.read: dict[str, dict[str, str]] = {}  # bucket -> path -> index key, of the buckets read
        self.whole = False  # every bucket was read

    def buckets(self, known: Mapping[str, Bucket] | None) -> dict[str, Bucket]:
        """Return the new site's buckets: the known ones, with those this build changed read again, or all read."""
        touched = self._touched() if known is not None else None
        if known is None or touched is None or any(known[b].folder != f for b, f in touched.items() if b in known):
            return {name: _bucket(pages) for name, pages in self._everything().items()}
        found = dict(known)
        for name, folder in touched.items():
            pages = self.pages(name, folder)
            if pages:
                found[name] = Bucket(folder, bucket_digest(pages.items()), len(pages))
            else:
                found.pop(name, None)
        return found

    def pages(self, name: str, folder: str) -> dict[str, str]:
        """Return the pages of a bucket whose pages lie in `folder` ("": anywhere), by path, with their index keys."""
        if name not in self.read and not self.whole:
            if not folder:
                return self._everything().get(name, {})
            found = {path: key for path, key, group in self.trees.indexed_under(folder) if group not in self.renewed}
            found.update((path, key) for path, key in self.drawn.items() if path.startswith(folder))
            self.read[name] = {path: key for path, key in found.items() if bucket_of(path, self.language) == name}
        return self.read.get(name, {})

    def _touched(self) -> dict[str, str] | None:
        """Return the buckets of the pages this build drew, or dropped or drew again, with their month's folder.

        None when one of those pages is not an item's, or two of a bucket lie in two folders: then no month's
        folder holds all of its bucket.
        """
        changed = [*self.drawn, *(path for path, _ in self.trees.indexed_of(self.renewed))]
        found: dict[str, str] = {}
        for path in changed:
            folder = item_folder(path)
            if folder is None or found.setdefault(bucket_of(path, self.language), folder) != folder:
                return None
        return found

    def _everything(self) -> dict[str, dict[str, str]]:
        """Read every indexed page of the new site, by bucket."""
        if not self.whole:
            self.read = {}
            for path, key in self.trees.indexed(self.dropped, self.changes):
                self.read.setdefault(bucket_of(path, self.language), {})[path] = key
            self.whole = True
        return self.read


def _bucket(pages: Mapping[str, str]) -> Bucket:
    """Describe a bucket read whole: its pages' month folder ("" when they do not share one), digest and count."""
    folders = {item_folder(path) for path in pages}
    folder = folders.pop() if len(folders) == 1 else None
    return Bucket(folder or "", bucket_digest(pages.items()), len(pages))


def search_job(job: SearchJob, dropped: set[str], changes: Changes) -> tuple[set[str], dict[str, Bucket]]:
    """Index again the search shards whose pages changed, reuse the others; return the shards no longer made.

    A shard the live site holds, made from the same pages, is left as it is (its files keep their inode
    and time); one the cache holds is published from there; only the rest are indexed, on every core.
    Also returns the new site's buckets, for the build state.
    """
    trees, cache = job.trees, job.cache
    pages = IndexedPages(trees, dropped, changes, job.language)
    buckets = pages.buckets(job.known)
    shards = shard_buckets({name: bucket.pages for name, bucket in buckets.items()})
    signatures = {
        name: digest(job.base, "pagefind", name, *(buckets[b].digest for b in members))
        for name, members in shards.items()
    }
    cache.live_shards |= set(signatures.values())
    groups = {f"{BUNDLE}/{name}/": name for name in shards}
    gone = {g for g in trees.signatures if g.startswith(f"{BUNDLE}/") and g not in groups and g != f"{BUNDLE}/"}
    todo = [name for group, name in groups.items() if not trees.reusable(group, signatures[name])]
    for name in todo:
        group = f"{BUNDLE}/{name}/"
        if not trees.verify and trees.signatures.get(group) == signatures[name]:  # trusted, yet not all there
            cache.warnings.append(
                Problem(group, 0, "files of this search shard were missing from the site: made again", "", warning=True)
            )
    bundles = {name: found for name in todo if (found := cache.shard(signatures[name])) is not None}
    missing = [name for name in todo if name not in bundles]
    if missing:
        if job.progress:
            job.progress("search", 0, len(missing))
        # The pages as they will be published: written into the standby now, or unchanged in the live folder.
        laid = {name: sorted(p for b in shards[name] for p in pages.pages(b, buckets[b].folder)) for name in missing}
        with trees.laid_out(laid, changes.written) as folders:
            made = index_shards(folders, job.jobs)
        for name, files in made.items():
            cache.add_shard(signatures[name], files)
        bundles |= made
        if job.progress:
            job.progress("search", len(missing), len(missing))
    # The digests the live site holds of these shards: a file indexed again to the same bytes is kept.
    trees.begin([f"{BUNDLE}/{name}/" for name in bundles] + [f"{BUNDLE}/"], job.own)
    for name, files in sorted(bundles.items()):
        _publish(trees, changes, f"{BUNDLE}/{name}/", signatures[name], files)
    listing = shard_list(shards)
    if shards and not trees.reusable(f"{BUNDLE}/", digest(listing.decode())):
        _publish(trees, changes, f"{BUNDLE}/", digest(listing.decode()), {SHARDS: listing})
    gone |= {f"{BUNDLE}/"} if not shards and f"{BUNDLE}/" in trees.signatures else set()
    return gone, buckets


def _publish(trees: Outbox, changes: Changes, group: str, signature: str, files: Mapping[str, bytes]) -> None:
    """Settle a group of search files (and their compressed copies) into the outbox as made from `signature`."""
    published = []
    for name, data in sorted(files.items()):
        output = Output(f"{group}{name}", data, SOURCE)
        for copy in (output, *compressed(output)):
            file_digest, changed = trees.settle(copy.path, copy.data)
            published.append(Published(copy.path, file_digest, ""))
            if changed:
                changes.written.add(copy.path)
    changes.rendered[group] = (signature, published)
