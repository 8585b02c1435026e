"""The `csto-site` command: parse arguments, run, map problems to exit codes."""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import sqlite3
import sys
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import NoReturn
from zoneinfo import ZoneInfo

from .build.options import Options
from .publish.place import refused_cache, refused_out
from .publish.run import build
from .publish.trees import stopped_by
from .reporter import Reporter
from .util.errors import ContentError, Problem, WorkerDied, io_problem, missing_folder
from .util.stopping import StopReported, stopped_as_by_ctrl_c

EXIT_OK, EXIT_CONTENT, EXIT_USAGE = 0, 1, 2
# A command stopped by a signal ends with 128 + its number, as shells report it: 130 for Ctrl+C (SIGINT),
# 143 for SIGTERM, 129 for SIGHUP.
EXIT_SIGNALLED = 128


def parser() -> argparse.ArgumentParser:
    """Describe the commands and their options."""
    paths = argparse.ArgumentParser(add_help=False)
    paths.add_argument("--content", type=Path, default=Path("content"), help="content folder (default: content)")
    paths.add_argument(
        "--templates", type=Path, default=Path("templates"), help="templates folder (default: templates)"
    )
    common = argparse.ArgumentParser(add_help=False, parents=[paths])
    common.add_argument("--out", type=Path, default=Path("public"), help="output folder (default: public)")
    common.add_argument("--static", type=Path, default=Path("static"), help="static files folder (default: static)")
    common.add_argument("--drafts", action="store_true", help="include items with `draft: true`")
    common.add_argument("--future", action="store_true", help="include items dated in the future")
    common.add_argument(
        "--no-search", dest="search", action="store_false", help="skip the search index (quicker local builds)"
    )
    common.add_argument(
        "--jobs",
        type=partial(_whole, low=1),
        default=None,
        metavar="N",
        help="processes for parsing and rendering (default: one per core)",
    )
    common.add_argument(
        "--cache",
        type=Path,
        default=Path(".csto-cache"),
        metavar="DIR",
        help="build cache folder (default: .csto-cache)",
    )
    common.add_argument("--quiet", action="store_true", help="print only the summary line, warnings and problems")
    main = argparse.ArgumentParser(prog="csto-site", description="Build the CSTO news archive.")
    commands = main.add_subparsers(dest="command", metavar="COMMAND")
    clean = "ignore the cache and re-render everything (unchanged files are left alone)"
    build = commands.add_parser("build", parents=[common], help="check all content, then build it into public/")
    build.add_argument("--clean", action="store_true", help=clean)
    check = commands.add_parser("check", parents=[common], help="check all content and templates; write nothing")
    check.add_argument("--clean", action="store_true", help=clean)
    check.add_argument(
        "--external",
        action="store_true",
        help="also fetch every link to another site (concurrently, answers kept a day) and warn of dead ones",
    )
    check.add_argument(
        "--timeout",
        type=_seconds,
        default=10.0,
        metavar="S",
        help="seconds another site may take to answer --external (default: 10)",
    )
    new = commands.add_parser("new", parents=[paths], help="create a news item file with today's date, print its path")
    new.add_argument("title", metavar="TITLE", help="the headline, in quotes")
    new.add_argument("--section", metavar="S", help="the section folder, e.g. csto-news")
    new.add_argument(
        "--official",
        action="append",
        default=[],
        metavar="X",
        help="an official named in the item: id, name or alias (repeat for more)",
    )
    new.add_argument(
        "--organization",
        action="append",
        default=[],
        metavar="Y",
        help="an organization named in the item: id, name or alias (repeat for more)",
    )
    new.add_argument("--lang", metavar="L", help="the item's language (default: the site's first)")
    new.add_argument("--date", metavar="D", help="2024-06-22 or '2024-06-22 14:30' (default: now, site time zone)")
    new.add_argument(
        "--translation-of",
        type=Path,
        metavar="PATH",
        help="write the translation of this item: same folder, date and people",
    )
    new.add_argument(
        "--bundle", action="store_true", help="make the item a folder (index.md) for its photos and documents"
    )
    new.add_argument(
        "--photo",
        action="append",
        default=[],
        type=Path,
        metavar="FILE",
        help="copy a photo into the item's folder and name it in the front matter (repeat for more; the first leads)",
    )
    new.set_defaults(quiet=False)
    serve = commands.add_parser("serve", parents=[common], help="build, serve on 127.0.0.1, rebuild on change")
    serve.add_argument("--clean", action="store_true", help=f"{clean}, in serve's first build only")
    serve.add_argument(
        "--port", type=partial(_whole, low=0, high=65535), default=8000, help="port on 127.0.0.1 (default: 8000)"
    )
    return main


def options_from(args: argparse.Namespace) -> Options:
    """Turn parsed arguments into build options."""
    return Options(
        content=args.content,
        out=args.out,
        templates=args.templates,
        static=args.static,
        drafts=args.drafts,
        future=args.future,
        search=args.search,
        cache=args.cache,
        jobs=args.jobs,
        clean=args.clean,
    )


def _whole(text: str, low: int, high: int | None = None) -> int:
    """Parse a whole number from `low` to `high` (or of `low` or more) for argparse, which words the error."""
    with contextlib.suppress(ValueError):
        if (value := int(text)) >= low and (high is None or value <= high):
            return value
    bounds = f"of {low} or more" if high is None else f"from {low} to {high}"
    raise argparse.ArgumentTypeError(f"{text!r} is not a whole number {bounds}")


def _seconds(text: str) -> float:
    """Parse a time-out, a number of seconds from 0.1 to 600, for argparse, which words the error."""
    with contextlib.suppress(ValueError):
        if 0.1 <= (value := float(text)) <= 600:
            return value
    raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds from 0.1 to 600")


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit status."""
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        args = parser().parse_args(argv or ["build"])
    except SystemExit as exc:
        return EXIT_OK if exc.code == 0 else EXIT_USAGE
    reporter = Reporter(quiet=args.quiet)
    left = (
        "no item was written"
        if args.command == "new"
        else "nothing was written"
        if args.command == "check"
        else f"{args.out} was left as it was"
    )
    # The build raises what stopped it, precisely; here, and only here, that becomes a message and a status.
    with stopped_as_by_ctrl_c() as received:
        try:
            return run_command(args, reporter)
        except KeyboardInterrupt as stop:
            if not isinstance(stop, StopReported):  # serve says itself what its stop left
                reporter.interrupted(left)
            return EXIT_SIGNALLED + (received[0] if received else signal.SIGINT)
        except (OSError, sqlite3.OperationalError) as exc:
            problem = (
                io_problem(exc, str(args.content)) if args.command == "new" else stopped_by(exc, args.out, args.cache)
            )
            reporter.stopped(problem, left)
            return EXIT_CONTENT
        except WorkerDied as exc:  # a worker killed outright (out of memory) before the swap: nothing was published
            reporter.stopped(exc.problem(str(args.out)), left)
            return EXIT_CONTENT


def run_command(args: argparse.Namespace, reporter: Reporter) -> int:
    """Run the command the arguments name; return the exit status."""
    missing = missing_folders(args)
    if missing:  # run outside the project folder: said first, before anything is read, made or served
        reporter.problems(missing)
        return EXIT_CONTENT
    now = datetime.now(ZoneInfo("UTC"))
    if args.command == "new":
        return new_item(args, reporter, now)
    options = options_from(args)
    # A folder of the user's that a build would swap away, or a cache that would be published: said first.
    refused = [problem for problem in (refused_out(options, Path.cwd()), refused_cache(options)) if problem]
    if refused:
        reporter.problems(refused)
        return EXIT_USAGE
    # Each command imports what only it needs: a build with nothing to do starts in a fraction of a second.
    if args.command == "serve":
        from .serve.server import serve

        return serve(replace(options, record=False), args.port, reporter)
    try:
        if args.command == "check":
            from .publish.run import check

            reporter.checked(check(options, now, args.timeout if args.external else None))
        else:
            report = build(options, now, progress=reporter.progress)
            reporter.problems(report.warnings)
            reporter.built(report, str(options.out))
    except ContentError as exc:
        reporter.problems(exc.problems)
        return EXIT_CONTENT
    return EXIT_OK


def missing_folders(args: argparse.Namespace) -> list[Problem]:
    """Return a problem for each folder the command reads that is not there: content, templates, static."""
    names = ("content", "templates") if args.command == "new" else ("content", "templates", "static")
    found = (missing_folder(getattr(args, name), f"--{name}") for name in names)
    return [problem for problem in found if problem is not None]


def new_item(args: argparse.Namespace, reporter: Reporter, now: datetime) -> int:
    """Create a news item file (or a translation) and print where it is and the address it will have."""
    if args.section is None and args.translation_of is None:
        reporter.usage("new", "give the section: --section S (or --translation-of PATH)")
        return EXIT_USAGE
    from .build.media import photo_problem
    from .build.read import recorded_owners, recorded_slugs
    from .content.scaffold import Request, Rules, create_item

    request = Request(
        title=args.title,
        section=args.section,
        officials=tuple(args.official),
        organizations=tuple(args.organization),
        lang=args.lang,
        date=args.date,
        translation_of=args.translation_of,
        bundle=args.bundle,
        photos=tuple(args.photo),
    )
    try:
        rules = Rules(recorded_slugs, recorded_owners, photo_problem)
        created = create_item(request, args.content, args.templates, now, rules)
    except ContentError as exc:
        reporter.problems(exc.problems)
        return EXIT_CONTENT
    from .site.urls import Urls

    urls = Urls(created.config.default_language, created.config.base_url)
    reporter.created(created, urls.absolute(urls.item_at(created.lang, created.published.date(), created.slug)), now)
    return EXIT_OK


def run(argv: Sequence[str] | None = None) -> NoReturn:
    """Entry point of the console script and build.py: run the command, then end the process at once.

    Ending as Python does would first free every object of the site model one by one (0.04 to 0.07 s
    of each build, of any size). By then every file is written and closed and every worker joined: what
    is left is to hand the output to the terminal. Under a profiler or a debugger the process ends as
    Python does, so that they can report.
    """
    status = main(argv)
    if sys.getprofile() is not None or sys.gettrace() is not None:
        sys.exit(status)
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError):  # its reader is gone (`| head`): there is no one left to tell
            stream.flush()
    os._exit(status)
