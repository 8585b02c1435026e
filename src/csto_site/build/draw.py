"""Draw outputs on every core: each page or feed with its compressed copies, settled into a sink as it is drawn."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Protocol

from ..output.compress import compressed
from ..output.search import MARKER, index_key
from ..output.spec import Output
from ..site.queries import Recorder
from ..util.parallel import chunked, fork_map
from .options import Progress
from .plan import Draw
from .state import Files

# Below this many outputs to draw, forking workers costs more than it saves.
PARALLEL_FROM = 200
CHUNK = 40


class Sink(Protocol):
    """Where drawn files go: the publisher's standby copy of the site."""

    def settle(self, path: str, data: bytes, indexed: bool) -> tuple[str, bool]:
        """Keep a file's bytes unless the published site holds the same; return their digest and whether written."""
        ...


@dataclass(frozen=True)
class Drawn:
    """One output as drawn: its files (itself and its compressed copies) with digests, and what it read."""

    path: str
    partition: str
    files: Files
    deps: dict[str, str]
    written: tuple[str, ...]
    index_key: str  # what search indexes of the page, digested (output/search.py `index_key`), or "" if nothing


Make = Callable[[Draw, Recorder], bytes]


def draw_all(
    draws: Sequence[Draw], make: Make, sink: Sink | None, jobs: int, progress: Progress | None, stage: str = "render"
) -> list[Drawn]:
    """Draw every scheduled output (in worker processes when there are many); return them in order."""
    total = len(draws)
    done = [0]

    def arrived(found: list[Drawn]) -> list[Drawn]:
        done[0] = min(total, done[0] + len(found))
        if progress:
            progress(stage, done[0], total)
        return found

    if progress and total:
        progress(stage, 0, total)
    workers = jobs if total >= PARALLEL_FROM else 1
    return [
        d
        for chunk in fork_map(partial(_draw_chunk, make, sink), chunked(draws, CHUNK), workers, arrived)
        for d in chunk
    ]


def _draw_chunk(make: Make, sink: Sink | None, chunk: Sequence[Draw]) -> list[Drawn]:
    """Draw a run of outputs, settling each file into the sink."""
    found = []
    for job in chunk:
        recorder = Recorder()
        data = make(job, recorder)
        output = Output(job.spec.path, data, job.spec.source)
        files, written = [], []
        key = index_key(data) if job.spec.path.endswith(".html") and MARKER in data else ""
        for copy in (output, *compressed(output)):
            if sink is None:
                files.append((copy.path, ""))
                continue
            file_digest, changed = sink.settle(copy.path, copy.data, bool(key) and copy is output)
            files.append((copy.path, file_digest))
            if changed:
                written.append(copy.path)
        found.append(Drawn(job.spec.path, job.partition, tuple(files), recorder.deps, tuple(written), key))
    return found
