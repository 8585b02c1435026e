"""The whole build as one readable flow: sources → model → plan → render what changed → publish.

`build()` first lists what it reads (inputs.py): when nothing changed since the last build it answers
at once, without loading the rest of the program. Otherwise the pipeline (pipeline.py) parses only the
content files that changed (cache.py, loader.py), lists every output with a digest of what it is made
from (plan.py), renders only the outputs whose digest changed, on every core (parallel.py), and
publishes by swapping a standby copy of the site in (publish.py).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from .errors import ContentError, Problem
from .inputs import fast_path_holds, publishable, read_inputs, read_listed
from .publish import Output, Trees

if TYPE_CHECKING:
    from .cache import Memo
    from .model import Site
    from .render import Renderer
    from .urls import Urls

ASSETS = ("style.css", "nav.js", "search.css", "search.js")
Progress = Callable[[str, int, int], None]


@dataclass(frozen=True)
class Options:
    """Where the build reads and writes, and what it includes."""

    content: Path = Path("content")
    out: Path = Path("public")
    templates: Path = Path("templates")
    static: Path = Path("static")
    drafts: bool = False
    future: bool = False
    search: bool = True
    cache: Path | None = Path(".csto-cache")
    jobs: int | None = None
    clean: bool = False
    # False (serve): a search index made from older pages stays until a build remakes it, as indexing
    # every page again after each edit takes as long as a clean build's indexing.
    reindex: bool = True


@dataclass(frozen=True)
class Report:
    """What a build did, for the one-line summary."""

    items: int
    pages: int
    written: int
    held_back: int
    next_due: datetime | None
    seconds: float
    unchanged: int = 0
    removed: int = 0
    warnings: tuple[Problem, ...] = ()


@dataclass(frozen=True)
class Loaded:
    """A checked site model and the renderer that will draw it."""

    site: Site
    renderer: Renderer
    urls: Urls


# The pipeline imports Jinja2, Python-Markdown, feedgen and the rest of the program; the functions
# below import it when called, so that a build which finds nothing changed does not pay for it.


def load(options: Options, now: datetime) -> Loaded:
    """Read and check all content and templates; raise ContentError with every problem."""
    from .pipeline import load_site

    return load_site(options, now)


def render_outputs(loaded: Loaded, static: Path, now: datetime) -> list[Output]:
    """Render every page, feed, sitemap and static file of the site, in memory (the reference build)."""
    from .pipeline import render_site

    return render_site(loaded, static, now)


def check_outputs(options: Options, now: datetime) -> Site:
    """Check what a build checks, drawing in memory what the last build did not publish as it is; write nothing."""
    from .pipeline import check_outputs as check

    return check(options, now)


def static_outputs(static: Path) -> list[Output]:
    """Copy every file `publishable` lists under static/ to /static/ (never a hidden one, nor one outside)."""
    if not static.is_dir():
        raise ContentError([Problem(str(static), 0, "the static folder is missing", "pass --static DIR")])
    outputs = []
    problems = []
    for path, rel, _ in publishable(static):
        data = read_listed(path, static)
        if isinstance(data, Problem):
            problems.append(data)
        else:
            outputs.append(Output(f"static/{rel}", data, path))
    if problems:
        raise ContentError(problems)
    return outputs


def build(options: Options, now: datetime, progress: Progress | None = None, memo: Memo | None = None) -> Report:
    """Check everything, render what changed and publish it atomically; refuse while another build runs.

    A process that builds again and again (csto-site serve) passes the same `memo` each time: what it
    read of the build cache stays in memory instead of being read from the file again.
    """
    started = time.perf_counter()
    with Trees(options.out) as trees:
        inputs = read_inputs(options)
        if trees.lock_if_known() and not options.clean:
            fast = trees.fast_state()
            if fast is not None and fast_path_holds(fast, inputs.digest, now):
                summary = fast.summary
                return Report(items=summary.items, pages=summary.pages, written=0, held_back=summary.held_back,
                              next_due=summary.next_due, seconds=time.perf_counter() - started,
                              unchanged=summary.files, warnings=tuple(trees.warnings))
        from .pipeline import rebuild

        return rebuild(options, now, progress, trees, inputs, started, memo)
