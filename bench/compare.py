"""Compare the one-item rebuilds of two checkouts of csto-site on the same archive, the two in turn.

    git worktree add --detach ../before <rev>
    python bench/compare.py ../before --search --n 10000 --rounds 8 --serve 5

The other program is this checkout's. Each program gets its own copy of one seeded archive
(bench/generate.py) and builds it clean first, so that each starts from the cache and the build state
it writes itself (a state written by the other program could make it do work it would not). Then each
round adds the same new item to both copies, and each program builds its copy as a whole process (as
users build, with the search index, given --search; else `--no-search`), with its own templates and
static files; the order of the two alternates from round to round, so that a machine growing busier
weighs on both alike. With --serve R, each program then runs three processes that add R items one at a
time inside one process, as `csto-site serve` builds (bench/serve.py, with that checkout's src/), again
in turn. It prints the median seconds of each.

A change to what the program parses or writes is compared as well as any other: each copy is built by
its own program only. The clean builds take a while (one to one and a half minutes each at 10,000 items,
ten to fifteen at 100,000) and are not timed.
"""

from __future__ import annotations

import argparse
import os
import statistics
from collections.abc import Sequence
from pathlib import Path

from generate import added_item, generate
from run import ROOT, build_command, compile_bytecode, own_program, remove, serve_runs, timed

SERVE_PROCESSES = 3


class Copy:
    """One program's copy of the archive, with the folders it builds it in."""

    def __init__(self, program: Path, work: Path, search: bool) -> None:
        self.program = program.resolve()
        self.search = search
        self.content = work / "content"
        self.out = work / "public"
        self.cache = work / "cache"
        self.templates = self.program / "templates"

    def build(self) -> float:
        """Build the copy as a whole process; return the wall seconds."""
        os.sync()  # as bench/run.py does: no build waits on the disk writing back another's files
        command = build_command(self.program, self.content, self.out, self.templates, self.cache, self.search)
        return timed(command, env=own_program(self.program)).seconds

    def serve(self, first: int, runs: int) -> list[float]:
        """Add `runs` items one at a time inside one process (bench/serve.py); return the seconds of each."""
        done = serve_runs(self.program, self.content, self.out, self.templates, self.cache, first, runs, self.search)
        return [run.seconds for run in done]


def median(values: Sequence[float]) -> str:
    """Format the median of some seconds."""
    return f"{statistics.median(values):.2f} s"


def main(argv: Sequence[str] | None = None) -> None:
    """Parse the command line, build both copies clean, then time the rounds and print the medians."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("before", type=Path, help="the other checkout of the program (the one before)")
    parser.add_argument("--n", type=int, default=10_000, help="archive size (default 10,000)")
    parser.add_argument("--rounds", type=int, default=8, help="one-item builds of each program (default 8)")
    parser.add_argument("--serve", type=int, default=0, metavar="R", help="also R builds in each serve process")
    parser.add_argument("--search", action="store_true", help="build with the search index, as users do")
    parser.add_argument("--work", type=Path, default=ROOT / "bench" / "out" / "compare", help="working folder")
    args = parser.parse_args(argv)
    copies = {
        name: Copy(program, args.work / name, args.search)
        for name, program in (("before", args.before), ("after", ROOT))
    }
    remove(args.work)
    for copy in copies.values():
        compile_bytecode(copy.program)
        generate(copy.content, args.n, seed=1)
        copy.build()
    order = list(copies)
    whole: dict[str, list[float]] = {name: [] for name in copies}
    for number in range(1, args.rounds + 1):
        for name in order:
            added_item(copies[name].content, number)
            whole[name].append(copies[name].build())
        order.reverse()
    serve: dict[str, list[str]] = {name: [] for name in copies}
    for process in range(SERVE_PROCESSES if args.serve else 0):
        first = args.rounds + 1 + process * (args.serve + 1)
        for name in order:
            serve[name].append(median(copies[name].serve(first, args.serve)))
        order.reverse()
    print(f"| {args.n:,} items{', with search' if args.search else ''} | before ({args.before}) | after |")
    print("| --- | ---: | ---: |")
    label = f"one new item, whole process (median of {args.rounds})"
    print(f"| {label} | {median(whole['before'])} | {median(whole['after'])} |")
    if args.serve:
        label = f"one new item inside one process ({SERVE_PROCESSES} processes, medians of {args.serve})"
        print(f"| {label} | {', '.join(serve['before'])} | {', '.join(serve['after'])} |")


if __name__ == "__main__":
    main()
