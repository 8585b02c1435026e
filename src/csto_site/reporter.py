"""Everything the command line prints: problems, warnings, progress and the one-line summaries."""

from __future__ import annotations

import sys
import time
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from .util.errors import Problem, printable

if TYPE_CHECKING:  # imported for their names only: a build with nothing to do starts without them
    from rich.progress import Progress, TaskID

    from .build.checks import Checked
    from .build.options import Report
    from .content.scaffold import Created

# A build quicker than this never shows a bar: it would only flicker.
PROGRESS_AFTER_SECONDS = 0.5
STAGES = {
    "parse": "Reading content",
    "photos": "Making photo variants",
    "render": "Writing pages",
    "search": "Indexing for search",
}


class Reporter:
    """Print to the terminal; the builder never prints."""

    def __init__(self, out: TextIO | None = None, err: TextIO | None = None, quiet: bool = False) -> None:
        # Look the streams up now, not at import: redirect_stdout and test capture replace them.
        self.out = out or sys.stdout
        self.err = err or sys.stderr
        self.quiet = quiet
        self.started = time.monotonic()
        self.bar: Progress | None = None
        self.tasks: dict[str, TaskID] = {}

    def problems(self, problems: Iterable[Problem]) -> None:
        """Print each problem on its own line, then how many there were."""
        self.end_progress()
        problems = list(problems)
        for problem in problems:
            print(problem, file=self.err)
        errors = sum(1 for p in problems if not p.warning)
        if errors:
            noun = "problem" if errors == 1 else "problems"
            print(f"{errors} {noun} found; nothing was written.", file=self.err)

    def progress(self, stage: str, done: int, total: int) -> None:
        """Draw the progress of a build stage on a terminal; draw nothing elsewhere or with --quiet."""
        if self.quiet or not self.err.isatty():
            return
        if self.bar is None:
            if time.monotonic() - self.started < PROGRESS_AFTER_SECONDS:
                return
            from rich.console import Console
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

            self.bar = Progress(
                TextColumn("{task.description:<20}"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeRemainingColumn(),
                console=Console(file=self.err),
                transient=True,
            )
            self.bar.start()
        if stage not in self.tasks:
            self.tasks[stage] = self.bar.add_task(STAGES.get(stage, stage), total=total)
        self.bar.update(self.tasks[stage], completed=done, total=total)

    def end_progress(self) -> None:
        """Take the progress bar off the terminal."""
        if self.bar is not None:
            self.bar.stop()
        self.bar = None
        self.tasks = {}
        self.started = time.monotonic()

    def built(self, report: Report, out: str) -> None:
        """Print the one-line summary of a build: items, pages written and unchanged, held back, time."""
        self.end_progress()
        due = f", next due {report.next_due:%Y-%m-%d %H:%M %Z}" if report.next_due else ""
        removed = f", {report.removed} removed" if report.removed else ""
        print(
            f"built {report.items} items, {report.pages} pages: {report.written} files written, "
            f"{report.unchanged} unchanged{removed}; {report.held_back} held back{due}; "
            f"{report.seconds:.2f} s → {out}",
            file=self.out,
        )

    def checked(self, checked: Checked) -> None:
        """Print the warnings of a check, then its result."""
        self.problems(checked.warnings)
        count = len(checked.warnings)
        warnings = f", {count} warning{'s' * (count != 1)}" if count else ""
        print(f"checked {checked.items} items and every page: no problems{warnings}", file=self.out)

    def created(self, created: Created, url: str, now: datetime) -> None:
        """Print the file `new` wrote and the address the item will have."""
        print(f"created {created.path}", file=self.out)
        print(f"address {url}", file=self.out)
        if created.taken:
            print(
                f"note: the title's address is already {created.taken}'s,"
                f" so this item has `slug: {created.slug}` (edit it as you like)",
                file=self.out,
            )
        if created.published > now:
            print(
                f"scheduled: it appears with the first build after {created.published:%Y-%m-%d %H:%M %Z}", file=self.out
            )

    def serving(self, url: str) -> None:
        """Say where the site is served."""
        print(f"serving {url} (rebuilds on every change; Ctrl+C stops)", file=self.out, flush=True)

    def changed(self, paths: Iterable[str]) -> None:
        """Say which files changed before a rebuild."""
        shown = [printable(_relative(path)) for path in paths]
        more = f" and {len(shown) - 1} more" if len(shown) > 1 else ""
        print(f"changed {shown[0]}{more}", file=self.out, flush=True)

    def due(self, when: datetime) -> None:
        """Say that a rebuild is for the held-back items whose time has come."""
        print(f"due {when:%Y-%m-%d %H:%M %Z}: building the items held back until then", file=self.out, flush=True)

    def waiting(self, out: str) -> None:
        """Say that a rebuild waits for another build that holds the output folder."""
        print(f"waiting for another build of {printable(out)} to finish", file=self.out, flush=True)

    def interrupted(self, left: str) -> None:
        """Say that Ctrl+C (or SIGTERM, SIGHUP) stopped the command, and in what state it left the files."""
        self.end_progress()
        print(f"interrupted: {left}", file=self.err, flush=True)

    def stopped_serving(self, held: str, building: bool) -> None:
        """Say that serve was stopped (Ctrl+C, SIGTERM, SIGHUP), idle or in a build, and what its output holds."""
        self.end_progress()
        if building:
            print(f"interrupted the build: {held}", file=self.err, flush=True)
        else:
            print(f"stopped serving; {held}", file=self.out, flush=True)

    def stopped(self, problem: Problem, left: str) -> None:
        """Print a file the system could not read or write (a full disk), and in what state the files are."""
        self.end_progress()
        print(problem, file=self.err)
        print(f"the command stopped; {left}.", file=self.err, flush=True)

    def usage(self, command: str, message: str) -> None:
        """Print a mistake in the command line itself."""
        print(f"csto-site {command}: error: {message}", file=self.err)


def _relative(path: str) -> str:
    """Show a path relative to the working folder when it is inside it."""
    try:
        return str(Path(path).relative_to(Path.cwd()))
    except ValueError:
        return path
