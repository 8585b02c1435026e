"""Make the variants of the photos a build publishes, once per source and settings, on every core.

Before drawing, every photo whose variants an output to draw needs and the build cache lacks is made
(output/photos.variants), one photo per task, and kept in the cache under its key (a digest of its
bytes, the settings and the libraries' versions). Drawing a variant then only fetches its bytes: a
photo whose bytes are unchanged is never made again, whatever else of its item changed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

from ..output.photos import FileProblem, photo_digest, variants
from ..util.errors import ContentError, Problem
from ..util.files import read_listed
from ..util.parallel import fork_map
from .cache import Cache
from .options import Progress

STAGE = "photos"


class VariantStore:
    """The variants of the site's photos: made before drawing, fetched while drawing (in worker processes too)."""

    def __init__(self, cache: Cache) -> None:
        self.cache = cache
        self.lookup = cache.variant_lookup()

    def make(self, photos: Mapping[str, str], jobs: int, progress: Progress | None) -> None:
        """Make the variants of each photo (key -> source file) the cache lacks, spread over `jobs` processes."""
        known = self.cache.variant_keys()
        pending = sorted((key, path) for key, path in photos.items() if key not in known)
        if not pending:
            return
        total, done = len(pending), [0]
        if progress:
            progress(STAGE, 0, total)

        def arrived(found: list[tuple[str, dict[str, bytes]]]) -> list[tuple[str, dict[str, bytes]]]:
            for key, made in found:
                self.cache.add_variants(key, made)  # kept at once: a build stopped later keeps them
            done[0] += len(found)
            if progress:
                progress(STAGE, done[0], total)
            return []  # stored: not kept in memory until every photo is made

        # One photo per task: a 24 MP photo takes about a second, and its variants a few megabytes.
        chunks = [[job] for job in pending]
        for _ in fork_map(_make_chunk, chunks, jobs, arrived):
            pass

    def variant(self, key: str, path: str, name: str) -> bytes:
        """Return one variant's bytes; make the photo's variants again if the cache lost them."""
        data = self.lookup(key, name)
        if data is None:
            made = dict(_make_one(key, path))
            self.cache.new_variants.update({(key, n): d for n, d in made.items()})
            data = made.get(name)
        if data is None:
            raise ContentError([Problem(path, 0, "the file changed while the site was built", "build again")])
        return data


def _make_chunk(chunk: Sequence[tuple[str, str]]) -> list[tuple[str, dict[str, bytes]]]:
    """Make the variants of a run of photos."""
    return [(key, _make_one(key, path)) for key, path in chunk]


def _make_one(key: str, path: str) -> dict[str, bytes]:
    """Read one photo and make its variants, by name; a photo whose bytes changed since it was checked is a problem."""
    data = read_listed(path, str(Path(path).parent))
    if isinstance(data, Problem):
        raise ContentError([data])
    if photo_digest(data) != key:
        raise ContentError([Problem(path, 0, "the file changed while the site was built", "build again")])
    made = variants(data, path.rpartition("/")[2], share=True)
    if isinstance(made, FileProblem):
        raise ContentError([Problem(path, 0, made.message, made.hint)])
    return {v.name: v.data for v in made}
