"""What a build is asked to do, and what it reports."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from ..util.errors import Problem

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
    # False (serve): a preview adds nothing to the record of published addresses (content/addresses.txt).
    record: bool = True


@dataclass(frozen=True)
class Report:
    """What a build did, for the one-line summary (and the addresses it moved, which serve redirects)."""

    items: int
    pages: int
    written: int
    held_back: int
    next_due: datetime | None
    seconds: float
    unchanged: int = 0
    removed: int = 0
    warnings: tuple[Problem, ...] = ()
    moved: tuple[tuple[str, str], ...] = ()  # (old address, new address) of each item page this build moved
