"""A build from start to finish: the quick answer when nothing changed, else draw what changed, then publish.

The build (build/) draws into the publisher's standby and reports what it did; publishing (trees.py)
comes last: it completes the standby, writes the record of addresses, swaps the standby in and records
what the live site holds.
"""

from __future__ import annotations

import time
from dataclasses import replace
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from ..build.inputs import Inputs, fast_path_holds, fast_state, read_inputs, restamped
from ..build.options import Options, Progress, Report
from ..content.record import RECORD_FILE, remove_stale_temporaries, write_record
from ..util.errors import Problem
from .manifest import published_generation
from .trees import Trees

if TYPE_CHECKING:
    from ..build.cache import Memo
    from ..build.checks import Checked


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
                return Report(
                    items=summary.items,
                    pages=summary.pages,
                    written=0,
                    held_back=summary.held_back,
                    next_due=summary.next_due,
                    seconds=time.perf_counter() - started,
                    unchanged=summary.files,
                    warnings=tuple(trees.warnings),
                )
        from ..build.pipeline import draw_site  # not loaded by a build that finds nothing changed

        if not options.clean:
            trees.read_stamps_early()
        done = draw_site(options, now, progress, trees, inputs, memo)
        # The record is written before the swap, never after: it names every address the swap publishes, so
        # no build stopped in between (killed, a power cut) leaves a published address unrecorded.
        unrecorded = trees.complete(
            done.changes, done.dropped, done.generation, partial(record_problem, options.content, done.record)
        )
        if unrecorded is not None:
            done = replace(done, warnings=(*done.warnings, unrecorded))
        elif done.record:
            inputs = with_record(inputs, options)
        trees.record_fast(fast_state(inputs, done.moments, now, replace(done.summary, files=done.changes.files)))
    summary = done.summary
    return Report(
        items=summary.items,
        pages=summary.pages,
        written=len(done.changes.written),
        held_back=summary.held_back,
        next_due=summary.next_due,
        seconds=time.perf_counter() - started,
        unchanged=done.changes.unchanged,
        removed=len(done.changes.removed),
        warnings=(*done.warnings, *trees.warnings),
        moved=done.moved,
    )


def with_record(inputs: Inputs, options: Options) -> Inputs:
    """Return the inputs with the record as the build wrote it, and every other file as the build listed it.

    The record the build wrote adds only addresses this site now publishes, so the build's output is what a
    build of the new record would make: the next build with nothing else changed may take the quick answer.
    """
    return restamped(inputs, options, RECORD_FILE)


def record_problem(content: Path, text: str) -> Problem | None:
    """Write the address record (unless `text` is ""), after removing stale temporary files of it; warn on failure.

    The site is published all the same: the next build that can write the record adds what this one published.
    """
    try:
        remove_stale_temporaries(content)
        if text:
            write_record(content, text)
    except OSError as exc:
        return Problem(
            str(content / RECORD_FILE),
            0,
            f"cannot write the record of published addresses: {exc.strerror or exc}",
            "make the content folder writable and build again: the next build records them",
            warning=True,
        )
    return None


def check(options: Options, now: datetime, external: float | None = None) -> Checked:
    """Check everything a build checks, drawing what the last published build did not draw as it is; write nothing.

    With `external` (a time-out in seconds), the links to other sites are fetched too, and reported as warnings.
    """
    from ..build.checks import check_site

    return check_site(options, now, published_generation(options.out), external)
