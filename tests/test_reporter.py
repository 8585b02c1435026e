"""The terminal output: a progress bar only on a terminal, one summary line everywhere."""

from __future__ import annotations

import io
from datetime import datetime
from zoneinfo import ZoneInfo

from csto_site.build.options import Report
from csto_site.reporter import PROGRESS_AFTER_SECONDS, Reporter

REPORT = Report(
    items=12,
    pages=98,
    written=3,
    held_back=2,
    next_due=datetime(2026, 12, 1, 15, 0, tzinfo=ZoneInfo("Europe/Moscow")),
    seconds=0.4321,
    unchanged=406,
    removed=1,
)


class Terminal(io.StringIO):
    """A stream that says it is a terminal."""

    def isatty(self) -> bool:
        """Claim to be a terminal."""
        return True


def slow_reporter(stream: io.StringIO, quiet: bool = False) -> Reporter:
    """Return a reporter whose build has already run long enough to show progress."""
    reporter = Reporter(out=stream, err=stream, quiet=quiet)
    reporter.started -= PROGRESS_AFTER_SECONDS + 1
    return reporter


def test_a_long_build_on_a_terminal_draws_a_bar_then_one_line() -> None:
    terminal = Terminal()
    reporter = slow_reporter(terminal)

    for done in range(0, 101, 10):
        reporter.progress("render", done, 100)
    drawn = terminal.getvalue()
    reporter.built(REPORT, "public")

    assert "Writing pages" in drawn
    assert "100/100" in terminal.getvalue()
    assert terminal.getvalue().endswith(
        "built 12 items, 98 pages: 3 files written, 406 unchanged, 1 removed; "
        "2 held back, next due 2026-12-01 15:00 MSK; 0.43 s → public\n"
    )


def test_no_bar_when_piped_quiet_or_quick() -> None:
    piped, quiet, quick = io.StringIO(), Terminal(), Terminal()
    reporters = [slow_reporter(piped), slow_reporter(quiet, quiet=True), Reporter(out=quick, err=quick)]

    for reporter in reporters:
        reporter.progress("parse", 5, 10)
        reporter.built(REPORT, "public")

    for stream in (piped, quiet, quick):
        assert stream.getvalue().count("\n") == 1
        assert stream.getvalue().startswith("built 12 items")


def test_nothing_held_back_is_said_too() -> None:
    stream = io.StringIO()

    Reporter(out=stream).built(Report(items=1, pages=9, written=9, held_back=0, next_due=None, seconds=0.1), "public")

    assert stream.getvalue() == "built 1 items, 9 pages: 9 files written, 0 unchanged; 0 held back; 0.10 s → public\n"
