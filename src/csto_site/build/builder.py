"""The build's entry points: `build()` answers "nothing changed" at once, or runs the pipeline; `check_outputs()`.

`build()` first lists what it reads (inputs.py): when nothing changed since the last build it answers
without loading the rest of the program. Otherwise the pipeline (pipeline.py) reads what changed,
plans from the catalogue, draws what changed on every core, and publishes.
"""

from __future__ import annotations

import time
from datetime import datetime
from typing import TYPE_CHECKING

from ..publish.trees import Trees
from .inputs import fast_path_holds, read_inputs
from .options import Options, Progress, Report

if TYPE_CHECKING:
    from ..site.model import Site
    from .cache import Memo

__all__ = ["Options", "Report", "build", "check_outputs"]


def check_outputs(options: Options, now: datetime) -> Site:
    """Check what a build checks, drawing in memory what the last build did not publish as it is; write nothing."""
    from .pipeline import check_outputs as check  # the pipeline imports Jinja2, Python-Markdown and the rest

    return check(options, now)


def build(options: Options, now: datetime, progress: Progress | None = None, memo: Memo | None = None) -> Report:
    """Check everything, draw what changed and publish it atomically; refuse while another build runs.

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
        from .pipeline import rebuild  # not loaded by a build that finds nothing changed

        return rebuild(options, now, progress, trees, inputs, started, memo)
