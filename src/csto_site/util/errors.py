"""Problems found in the content, reported all at once with a place and a hint."""

from __future__ import annotations

import errno
import re
import signal
import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

# Characters that would break a problem's one line, or that no terminal can print (a file name that is
# not UTF-8): shown as escapes.
UNPRINTABLE = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff]")


@dataclass(frozen=True, order=True)
class Problem:
    """One mistake in one file: where, what, and how to fix it."""

    path: str
    line: int
    message: str
    hint: str = ""
    warning: bool = False

    def __str__(self) -> str:
        """Format as `path:line: message (hint)`, the form editors jump to."""
        place = f"{self.path}:{self.line}" if self.line else self.path
        kind = "warning: " if self.warning else ""
        hint = f" ({self.hint})" if self.hint else ""
        return printable(f"{place}: {kind}{self.message}{hint}")


def printable(text: str) -> str:
    """Return text as one printable line: control characters and undecodable bytes of names as escapes."""
    return UNPRINTABLE.sub(_escaped, text)


def _escaped(match: re.Match[str]) -> str:
    """Write one unprintable character as its Python escape (\\n, \\x1b, \\udcff)."""
    return match.group().encode("unicode_escape").decode("ascii")


class ContentError(Exception):
    """Raised with every problem found, when the content cannot be built."""

    def __init__(self, problems: Iterable[Problem]) -> None:
        self.problems = tuple(sorted(problems))
        super().__init__("\n".join(str(p) for p in self.problems))

    def __reduce__(self) -> tuple[type[ContentError], tuple[tuple[Problem, ...]]]:
        """Pickle with the problems, so an error raised in a worker process arrives whole."""
        return ContentError, (self.problems,)


class WorkerDied(RuntimeError):
    """A worker process (util/parallel.py) that ended before finishing its work: killed (out of memory), or exited."""

    def __init__(self, exitcode: int | None) -> None:
        super().__init__(f"a worker process died before finishing its chunks (exit code {exitcode})")
        self.exitcode = exitcode

    def problem(self, path: str) -> Problem:
        """Describe the death for the person who ran the command: how the worker ended, and what to do."""
        code = self.exitcode or 0
        if code == -signal.SIGKILL:  # what the out-of-memory killer sends
            how, hint = "was killed (signal 9: out of memory?)", "build again, or with --jobs 1 to use less memory"
        elif code < 0:
            how, hint = f"was killed (signal {-code}: {signal.strsignal(-code) or 'unknown'})", "build again"
        else:
            how, hint = f"ended before finishing its work (exit status {code})", "build again"
        return Problem(path, 0, f"a worker process {how}", hint)


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """Return a 'did you mean' hint for the closest choice, or list a few choices."""
    import difflib  # only a build with a mistake needs it; every build imports this module

    pool = sorted(set(choices))
    close = difflib.get_close_matches(word, pool, n=1, cutoff=0.6)
    if not close:
        lowered = {c.lower(): c for c in pool}
        close = [lowered[m] for m in difflib.get_close_matches(word.lower(), lowered, n=1)]
    if close:
        return f'did you mean "{close[0]}"?'
    if not pool:
        return ""
    shown = ", ".join(f'"{c}"' for c in pool[:6])
    more = ", ..." if len(pool) > 6 else ""
    return f"known: {shown}{more}"


def missing_folder(folder: Path, option: str) -> Problem | None:
    """Say that a folder a command reads is not there (it was run outside the project folder), or return None."""
    if folder.is_dir():
        return None
    hint = f"run this in the project folder, the one with content/, templates/ and static/, or give {option} DIR"
    return Problem(str(folder), 0, "there is no such folder", hint)


# What to do about a file the build could not write, by the system's reason.
HINTS = {
    errno.ENOSPC: "free some space on that disk, then build again",
    errno.EDQUOT: "free some space (the disk quota is used up), then build again",
    errno.EACCES: "make the folder writable, or choose another --out or --cache",
    errno.EPERM: "make the folder writable, or choose another --out or --cache",
    errno.EROFS: "the disk is read-only: choose another --out or --cache",
    errno.ENOTDIR: "a file stands where a folder must be: move it, or choose another --out or --cache",
}
# SQLite names its errors, not the system's: by the prefix of the name (SQLITE_IOERR_WRITE is an SQLITE_IOERR).
SQLITE_HINTS = (
    ("SQLITE_FULL", HINTS[errno.ENOSPC]),
    ("SQLITE_IOERR", "the disk may be full or failing: free some space on it, then build again"),
    (
        "SQLITE_READONLY",
        "the folder or its database is read-only: make it writable, or choose another --out or --cache",
    ),
    (
        "SQLITE_CANTOPEN",
        "the folder cannot be written (read-only, or not yours): make it writable, or choose another --out or --cache",
    ),
)


def io_problem(exc: OSError | sqlite3.OperationalError, records: str) -> Problem:
    """Describe a file the system could not read or write: its path, the system's reason, what to do.

    SQLite does not say which database failed; `records` names the databases the command uses instead.
    """
    if isinstance(exc, OSError):
        return Problem(str(exc.filename or records), 0, exc.strerror or str(exc), HINTS.get(exc.errno or 0, ""))
    name = getattr(exc, "sqlite_errorname", "")
    hint = next((hint for prefix, hint in SQLITE_HINTS if name.startswith(prefix)), "")
    return Problem(records, 0, str(exc), hint)
