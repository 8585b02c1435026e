"""Time one-item rebuilds inside one long-running process, as `csto-site serve` runs them.

    python bench/serve.py CONTENT OUT TEMPLATES STATIC CACHE --first K --runs R [--search]

bench/run.py calls this for its "one new item (serve)" column. It builds once (the imports, and the
memo of the build cache that serve keeps between its builds), then R times adds one item with
bench/generate.py's `added_item` and times `csto_site.publish.run.build` with the same memo, as serve's watcher
calls it after a save (its 0.3 s wait for more changes not counted). It prints one line per run:
the seconds, and the peak resident memory so far in KiB of the largest of this process and the
processes it ran (Pagefind, forked workers).

The first item (number K) is added and built untimed: serve's first build after a change is when
it imports the rest of the program, which a build with nothing to do does not.
"""

from __future__ import annotations

import argparse
import os
import resource
import time
from datetime import UTC, datetime
from pathlib import Path

from generate import added_item

from csto_site.build.cache import Memo
from csto_site.build.options import Options
from csto_site.publish.run import build


def main() -> None:
    """Parse the command line, warm up, then time each one-item rebuild."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    for name in ("content", "out", "templates", "static", "cache"):
        parser.add_argument(name, type=Path)
    parser.add_argument("--first", type=int, required=True, help="number of the first item to add")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--search", action="store_true", help="also build the search index")
    args = parser.parse_args()
    options = Options(
        content=args.content,
        out=args.out,
        templates=args.templates,
        static=args.static,
        cache=args.cache,
        search=args.search,
        record=False,  # as serve builds: a preview adds nothing to the record of published addresses
    )
    memo = Memo()
    added_item(args.content, args.first)
    build(options, datetime.now(UTC), memo=memo)
    for number in range(args.first + 1, args.first + 1 + args.runs):
        added_item(args.content, number)
        os.sync()  # as bench/run.py does before each timed run
        started = time.perf_counter()
        build(options, datetime.now(UTC), memo=memo)
        seconds = time.perf_counter() - started
        peak = max(resource.getrusage(who).ru_maxrss for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN))
        print(f"{seconds:.4f} {peak}", flush=True)


if __name__ == "__main__":
    main()
