"""Where a build may write: an output folder that holds nothing of the user's but what they placed there by hand,
and a cache folder outside every folder that is published, committed or read.

A build takes its output folder for its own: it swaps the whole folder for the new site (the old one
becomes the twin, in the hidden folder beside it) and removes every file it finds where the site
writes. So `--out` naming the project, a folder the build reads, the home folder, a git repository or
a folder of files no build made would swap away or delete the user's files; such a folder is refused
before anything is read or written.
"""

from __future__ import annotations

from pathlib import Path

from ..build.options import Options
from ..site.urls import FOLDER_INDEX
from ..util.errors import Problem
from .manifest import FILE, home
from .scan import marked_file

# What makes the working folder the project's: the build script, the package's settings, a repository.
PROJECT_MARKS = ("build.py", "pyproject.toml", ".git")
HINT = "give --out a folder of its own, such as public"


def refused_out(options: Options, cwd: Path) -> Problem | None:
    """Return why the build must not publish into `options.out` (run in `cwd`), or None when it may."""
    found = _reason(options, cwd)
    if found is None:
        return None
    reason, hint = found
    return Problem(
        str(options.out),
        0,
        f"--out {reason}: a build swaps its output folder whole for the new site, "
        "and removes what it finds where the site writes",
        hint,
    )


def refused_cache(options: Options) -> Problem | None:
    """Return why the build must not keep its cache in `options.cache`, or None when it may (see refused_out too)."""
    if options.cache is None:
        return None
    cache = options.cache.resolve()
    for folder, name, why in (
        (options.static, "the static files folder", "what is in it is published (the cache holds drafts' text)"),
        (options.content, "the content folder", "what is in it is committed with the content"),
        (options.templates, "the templates folder", "it holds only templates"),
    ):
        place = folder.resolve()
        if place == cache or place in cache.parents:
            where = "is" if place == cache else "lies inside"
            return Problem(
                str(options.cache),
                0,
                f"--cache {where} {name} ({folder}): {why}",
                "leave --cache out, to keep it in .csto-cache",
            )
    return None


def _reason(options: Options, cwd: Path) -> tuple[str, str] | None:
    """Say what the output folder is that a build must not publish into, and what to do; or return None."""
    out = options.out.resolve()  # the folder itself may not be there yet: its nearest parent that is is resolved
    if out.parent == out:
        return "is the root of the file system", HINT
    # Each folder the build must leave alone, and whether a folder inside it is refused too (one the build reads).
    kept = [
        *([(cwd, "the project folder", False)] if any((cwd / mark).exists() for mark in PROJECT_MARKS) else []),
        *([(user, "your home folder", False)] if (user := _home()) is not None else []),
        (options.content, "the content folder", True),
        (options.templates, "the templates folder", True),
        (options.static, "the static files folder", True),
        *([(options.cache, "the build cache", True)] if options.cache is not None else []),
    ]
    for folder, name, read in kept:
        place = folder.resolve()
        if place == out:
            return f"is {name}", HINT
        if out in place.parents:
            return f"holds {name} ({folder})", HINT
        if read and place in out.parents:
            return f"lies inside {name} ({folder})", HINT
    if not out.is_dir():
        return None
    if (out / ".git").exists():
        return "holds a git repository (.git)", HINT
    if any(out.iterdir()) and not (home(out) / FILE).exists() and not marked_file(out / FOLDER_INDEX):
        # The default folder itself may be one: files were put into public/ before its first build.
        return (
            "holds files, and is not a site this program built (no record of a build beside it, no home page of ours)",
            "give --out a new or empty folder, or move these files out of it; "
            "files to publish as they are go into it after its first build",
        )
    return None


def _home() -> Path | None:
    """Return the user's home folder, resolved, or None when the system does not say which it is."""
    try:
        return Path.home().resolve()
    except RuntimeError:
        return None
