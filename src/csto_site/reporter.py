"""Everything the command line prints: problems, warnings and the summary."""

from __future__ import annotations

import sys
from collections.abc import Iterable
from typing import TextIO

from .builder import Report
from .errors import Problem


class Reporter:
    """Print to the terminal; the builder never prints."""

    def __init__(self, out: TextIO | None = None, err: TextIO | None = None, quiet: bool = False) -> None:
        # Look the streams up now, not at import: redirect_stdout and test capture replace them.
        self.out = out or sys.stdout
        self.err = err or sys.stderr
        self.quiet = quiet

    def problems(self, problems: Iterable[Problem]) -> None:
        """Print each problem on its own line, then how many there were."""
        problems = list(problems)
        for problem in problems:
            print(problem, file=self.err)
        errors = sum(1 for p in problems if not p.warning)
        if errors:
            noun = "problem" if errors == 1 else "problems"
            print(f"{errors} {noun} found; nothing was written.", file=self.err)

    def built(self, report: Report, out: str) -> None:
        """Print the one-line summary of a build."""
        held = f", {report.held_back} held back" if report.held_back else ""
        due = f" (next due {report.next_due:%Y-%m-%d %H:%M})" if report.next_due else ""
        print(f"built {report.items} items: {report.pages} pages, {report.written} files written"
              f"{held}{due} in {report.seconds:.2f} s → {out}", file=self.out)

    def checked(self, items: int) -> None:
        """Print the result of a successful check."""
        print(f"checked {items} items: no problems", file=self.out)
