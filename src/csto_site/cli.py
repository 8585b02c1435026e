"""The `csto-site` command: parse arguments, run, map problems to exit codes."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from .builder import Options, build, load
from .errors import ContentError
from .reporter import Reporter

EXIT_OK, EXIT_CONTENT, EXIT_USAGE = 0, 1, 2


def parser() -> argparse.ArgumentParser:
    """Describe the commands and their options."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--content", type=Path, default=Path("content"), help="content folder (default: content)")
    common.add_argument("--out", type=Path, default=Path("public"), help="output folder (default: public)")
    common.add_argument("--templates", type=Path, default=Path("templates"), help="templates folder")
    common.add_argument("--static", type=Path, default=Path("static"), help="static files folder")
    common.add_argument("--drafts", action="store_true", help="include items with `draft: true`")
    common.add_argument("--future", action="store_true", help="include items dated in the future")
    common.add_argument("--no-search", dest="search", action="store_false",
                        help="skip the search index (quicker local builds)")
    common.add_argument("--quiet", action="store_true", help="print only the summary line and problems")
    main = argparse.ArgumentParser(prog="csto-site", description="Build the CSTO news archive.")
    commands = main.add_subparsers(dest="command", metavar="COMMAND")
    commands.add_parser("build", parents=[common], help="check all content, then build it into public/")
    commands.add_parser("check", parents=[common], help="check all content and templates; write nothing")
    return main


def options_from(args: argparse.Namespace) -> Options:
    """Turn parsed arguments into build options."""
    return Options(content=args.content, out=args.out, templates=args.templates, static=args.static,
                   drafts=args.drafts, future=args.future, search=args.search)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit status."""
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        args = parser().parse_args(argv or ["build"])
    except SystemExit as exc:
        return EXIT_OK if exc.code == 0 else EXIT_USAGE
    reporter = Reporter(quiet=args.quiet)
    options = options_from(args)
    now = datetime.now(ZoneInfo("UTC"))
    try:
        if args.command == "check":
            loaded = load(options, now)
            reporter.checked(sum(len(e.items) for e in loaded.site.editions.values()))
        else:
            reporter.built(build(options, now), str(options.out))
    except ContentError as exc:
        reporter.problems(exc.problems)
        return EXIT_CONTENT
    return EXIT_OK


def run() -> None:
    """Entry point of the console script and build.py."""
    sys.exit(main())
