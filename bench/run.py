"""Benchmark csto-site against Hugo and Pelican on the same synthetic archive.

    python bench/run.py                 # N = 1,000 and 10,000
    python bench/run.py --n 1000        # one size
    python bench/run.py --large         # also N = 100,000
    python bench/run.py --n 100000 --scenario "one new item"   # the clean build, then only that scenario

For each N: a seeded archive (bench/generate.py) is built by csto-site as a whole process (as a user
runs it), first as published, with the search index (the row "csto-site"), then with --no-search
(the row "csto-site --no-search", a quick local build). Each is timed clean (no cache, no output),
again with nothing changed, after adding one item, after editing one item's body and after changing
the item template; then one item is added at a time inside one long-running process, as
`csto-site serve` rebuilds after a save (bench/serve.py); each time is the median of --runs runs.
Where `hugo` and `pelican` are installed, the same archive converted to their formats
(bench/convert.py) is built by them in the same run, and the ratios to csto-site's default build are
printed. Peak memory is the largest resident set of any process of the build, Pagefind's included
(os.wait4), in MiB.
Before each timed run the disk is given time to write back what earlier runs wrote (os.sync, not
timed): a clean build at 100,000 items writes about 4 GB, and the next run's first fsync would
otherwise wait for all of it.

Before timing, the program's bytecode is compiled once (python -m compileall over src/csto_site), so
that the timed processes start as an installed program does: an installed package ships its .pyc
files, and a checkout whose environment sets PYTHONDONTWRITEBYTECODE would otherwise compile every
module from source in every run (Python still reads .pyc files that exist). __pycache__/ is
git-ignored, and the build digests only the program's .py files, so this changes no output. The
timed processes run this checkout's src/ (PYTHONPATH), whatever copy of the program is installed.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from convert import to_hugo, to_pelican, write_hugo_item, write_pelican_item
from generate import added_item, generate

ROOT = Path(__file__).resolve().parent.parent
SCENARIOS = ("clean", "no-op", "one new item", "one edited item", "template change", "one new item (serve)")


@dataclass(frozen=True)
class Run:
    """One timed process: wall seconds and the peak resident memory of its largest process (KiB)."""

    seconds: float
    peak_kib: int


@dataclass
class Row:
    """One tool's results at one N: runs per scenario."""

    tool: str
    n: int
    runs: dict[str, list[Run]] = field(default_factory=dict)

    def median(self, scenario: str) -> float | None:
        """Return the median seconds of a scenario, or None if it was not run."""
        runs = self.runs.get(scenario)
        return statistics.median(r.seconds for r in runs) if runs else None

    def peak_mib(self) -> float:
        """Return the largest peak memory of any run, in MiB."""
        return max((r.peak_kib for runs in self.runs.values() for r in runs), default=0) / 1024


def own_program(root: Path = ROOT) -> dict[str, str]:
    """Return the environment that runs a checkout's program (this one's), whatever copy of it is installed."""
    return {**os.environ, "PYTHONPATH": str(root / "src")}


def timed(command: Sequence[str], cwd: Path | None = None, env: Mapping[str, str] | None = None) -> Run:
    """Run a command to completion; return its wall time and peak memory; fail loudly on errors."""
    started = time.perf_counter()
    process = subprocess.Popen(command, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    errors = process.stderr.read().decode(errors="replace") if process.stderr else ""
    if process.returncode != 0:
        raise SystemExit(f"{' '.join(map(str, command))} failed ({process.returncode}):\n{errors}")
    return Run(seconds, usage.ru_maxrss)


def compile_bytecode(root: Path = ROOT) -> None:
    """Write the .pyc files of a checkout's program (this one's), as installing it would (see the module docstring)."""
    subprocess.run(
        [sys.executable, "-m", "compileall", "-q", str(root / "src" / "csto_site")],
        check=True,
        stdout=subprocess.DEVNULL,
    )


def build_command(root: Path, content: Path, out: Path, templates: Path, cache: Path, search: bool) -> list[str]:
    """Return the build a user runs, as a whole process: a checkout's build.py (this one's), its static files."""
    return [
        sys.executable,
        str(root / "build.py"),
        "build",
        *("--content", str(content), "--out", str(out), "--templates", str(templates)),
        *("--static", str(root / "static"), "--cache", str(cache), "--quiet"),
        *(() if search else ("--no-search",)),
    ]


def serve_runs(
    root: Path, content: Path, out: Path, templates: Path, cache: Path, first: int, runs: int, search: bool
) -> list[Run]:
    """Add `runs` items one at a time inside one process, as serve builds (bench/serve.py, a checkout's program)."""
    command = [
        sys.executable,
        str(Path(__file__).with_name("serve.py")),
        *(str(path) for path in (content, out, templates, root / "static", cache)),
        *("--first", str(first), "--runs", str(runs)),
        *(("--search",) if search else ()),
    ]
    done = subprocess.run(command, capture_output=True, text=True, check=False, env=own_program(root))
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed ({done.returncode}):\n{done.stderr}")
    return [Run(float(seconds), int(peak)) for seconds, peak in (line.split() for line in done.stdout.splitlines())]


def remove(*paths: Path) -> None:
    """Delete files or folders if they exist."""
    for path in paths:
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        elif path.exists() or path.is_symlink():
            path.unlink()


class Bench:
    """One archive of N items and the folders each tool builds it in."""

    def __init__(self, work: Path, n: int, runs: int, scenarios: Sequence[str] = SCENARIOS) -> None:
        self.work = work / f"n{n}"
        self.n = n
        self.runs = runs
        self.scenarios = frozenset(scenarios)
        self.content = self.work / "content"
        self.templates = self.work / "templates"
        self.added = 0

    def prepare(self) -> None:
        """(Re)generate the archive and a private copy of the templates."""
        remove(self.work)
        self.work.mkdir(parents=True)
        generate(self.content, self.n, seed=1)
        shutil.copytree(ROOT / "templates", self.templates)

    def add_item(self) -> Path:
        """Add one new item, the newest of the archive."""
        self.added += 1
        return added_item(self.content, self.added)

    def edit_item(self, run: int) -> None:
        """Append a paragraph to one existing item (its summary stays the same)."""
        items = sorted(p for p in self.content.rglob("*.md") if not p.name.startswith("_") and "-new-" not in p.name)
        path = items[len(items) // 2]
        with path.open("a", encoding="utf-8") as handle:
            handle.write(f"\nA closing paragraph added by run {run}.\n")

    def edit_template(self, run: int) -> None:
        """Change the item template: every item page changes, no other page does."""
        path = self.templates / "item.html"
        marker = "{% block main %}"
        text = path.read_text(encoding="utf-8")
        path.write_text(text.replace(marker, f"{marker}<!-- template change {run} -->", 1), encoding="utf-8")

    # -- csto-site ---------------------------------------------------------------------------------

    def csto(self, search: bool) -> Row:
        """Time csto-site in every scenario: the default build (`search`), or one with --no-search."""
        out, cache = self.work / "public", self.work / ".csto-cache"
        command = build_command(ROOT, self.content, out, self.templates, cache, search)
        row = Row("csto-site" + ("" if search else " --no-search"), self.n)

        def clean() -> None:
            remove(out, out.with_name(f".{out.name}.publish"), cache)

        env = own_program()  # the bytecode compiled above, not another copy of the program installed
        steps: dict[str, Callable[[], list[Run]]] = {
            "clean": lambda: self.repeat(command, before=clean, env=env),
            "no-op": lambda: self.repeat(command, env=env),
            "one new item": lambda: self.repeat(command, before=self.add_item, env=env),
            "one edited item": lambda: self.repeat(command, before_run=self.edit_item, env=env),
            "template change": lambda: self.repeat(command, before_run=self.edit_template, env=env),
            "one new item (serve)": lambda: self.serve(out, cache, search),
        }
        for scenario, step in steps.items():
            if scenario == "clean" or scenario in self.scenarios:  # every other scenario starts from a clean build
                row.runs[scenario] = step()
        return row

    def serve(self, out: Path, cache: Path, search: bool) -> list[Run]:
        """Time one-item rebuilds inside one long-running process (bench/serve.py), as csto-site serve does."""
        runs = serve_runs(ROOT, self.content, out, self.templates, cache, self.added + 1, self.runs, search)
        self.added += self.runs + 1
        return runs

    def repeat(
        self,
        command: Sequence[str],
        before: Callable[[], object] | None = None,
        before_run: Callable[[int], object] | None = None,
        cwd: Path | None = None,
        env: Mapping[str, str] | None = None,
    ) -> list[Run]:
        """Run a command `runs` times, preparing each run."""
        runs = []
        for run in range(self.runs):
            if before:
                before()
            if before_run:
                before_run(run)
            os.sync()  # the disk has written back earlier runs' files: no run waits on another's writes
            runs.append(timed(command, cwd, env))
        return runs

    # -- Hugo and Pelican -------------------------------------------------------------------------

    def hugo(self) -> Row:
        """Time Hugo: clean, again, and after adding an item (it keeps no state between runs)."""
        site = self.work / "hugo"
        to_hugo(self.content, site)
        command = ["hugo", "--quiet", "--source", str(site), "--destination", str(site / "public")]
        row = Row("Hugo", self.n)
        row.runs["clean"] = self.repeat(command, before=lambda: remove(site / "public", site / "resources"))
        row.runs["no-op"] = self.repeat(command)
        originals: dict[str, str] = {}

        def add() -> None:
            path = self.add_item()
            write_hugo_item(site, self.content, path, *self.meta(path), originals)

        row.runs["one new item"] = self.repeat(command, before=add)
        return row

    def pelican(self) -> Row:
        """Time Pelican: clean without its cache, then with its content cache."""
        project = self.work / "pelican"
        to_pelican(self.content, project)
        out = project / "output"
        base = [
            "pelican",
            str(project / "content"),
            "--output",
            str(out),
            "--settings",
            str(project / "pelicanconf.py"),
            "--quiet",
            "--extra-settings",
        ]
        cold = [*base, "CACHE_CONTENT=false", "LOAD_CONTENT_CACHE=false"]
        warm = [*base, "CACHE_CONTENT=true", "LOAD_CONTENT_CACHE=true", f'CACHE_PATH="{project / "cache"}"']
        row = Row("Pelican", self.n)
        row.runs["clean"] = self.repeat(cold, before=lambda: remove(out), cwd=project)
        timed(warm, project)  # fill the content cache
        row.runs["no-op"] = self.repeat(warm, cwd=project)
        originals: dict[str, str] = {}

        def add() -> None:
            path = self.add_item()
            write_pelican_item(project, self.content, path, *self.meta(path), originals)

        row.runs["one new item"] = self.repeat(warm, before=add, cwd=project)
        return row

    def meta(self, path: Path) -> tuple[dict[str, object], str]:
        """Read an item's front matter and body."""
        from convert import split

        return split(path.read_text(encoding="utf-8"))


def seconds(value: float | None) -> str:
    """Format a time for the table."""
    return "–" if value is None else f"{value:.2f} s"


def table(rows: Sequence[Row]) -> str:
    """Format the results as a Markdown table with the ratios measured in the same run."""
    lines = [
        "| N | tool | " + " | ".join(SCENARIOS) + " | peak memory |",
        "| --- | --- | " + " | ".join("---:" for _ in SCENARIOS) + " | ---: |",
    ]
    for row in rows:
        cells = [seconds(row.median(s)) for s in SCENARIOS]
        lines.append(f"| {row.n:,} | {row.tool} | " + " | ".join(cells) + f" | {row.peak_mib():.0f} MiB |")
    lines.append("")
    for n in sorted({r.n for r in rows}):
        ours = next((r for r in rows if r.n == n and r.tool == "csto-site"), None)
        if ours is None:
            continue
        for other in (r for r in rows if r.n == n and not r.tool.startswith("csto-site")):
            clean, added = other.median("clean"), other.median("one new item")
            ratio_clean = (ours.median("clean") or 0) / clean if clean else 0
            ratio_added = added / (ours.median("one new item") or 1) if added else 0
            lines.append(
                f"- N = {n:,}: clean build {ratio_clean:.2f}× {other.tool}'s time; "
                f"one new item {ratio_added:.1f}× faster than {other.tool}"
            )
    return "\n".join(lines)


def conditions() -> str:
    """Describe the machine and tools the numbers were measured on."""
    tools = []
    for command in (["hugo", "version"], ["pelican", "--version"]):
        if shutil.which(command[0]):
            done = subprocess.run(command, capture_output=True, text=True, check=False)
            tools.append(f"{command[0]} {(done.stdout or done.stderr).split()[1 if command[0] == 'hugo' else 0]}")
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    return (
        f"{datetime.now():%Y-%m-%d %H:%M}, {platform.machine()}, {os.cpu_count()} cores, Python "
        f"{platform.python_version()}, {', '.join(tools) or 'no Hugo, no Pelican'}; load average {load}"
    )


def main(argv: Sequence[str] | None = None) -> None:
    """Parse the command line, run every size and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, action="append", help="archive size (repeatable; default 1000 and 10000)")
    parser.add_argument("--large", action="store_true", help="also N = 100,000")
    parser.add_argument("--runs", type=int, default=3, help="runs per scenario, the median is shown (default 3)")
    parser.add_argument("--work", type=Path, default=ROOT / "bench" / "out", help="working folder (default bench/out)")
    parser.add_argument(
        "--no-search-row", dest="quick", action="store_false", help="leave out the --no-search row of csto-site"
    )
    parser.add_argument(
        "--only", choices=("csto-site", "hugo", "pelican"), action="append", help="run only these tools (repeatable)"
    )
    parser.add_argument(
        "--scenario",
        choices=SCENARIOS,
        action="append",
        help="time csto-site only in these scenarios (repeatable; the clean build always runs first)",
    )
    args = parser.parse_args(argv)
    sizes = args.n or [1000, 10000]
    if args.large:
        sizes.append(100_000)
    tools = args.only or ["csto-site", "hugo", "pelican"]
    rows: list[Row] = []
    if "csto-site" in tools:
        compile_bytecode()
    print(f"# conditions at start: {conditions()}", flush=True)
    for n in sizes:
        bench = Bench(args.work, n, args.runs, args.scenario or SCENARIOS)
        bench.prepare()
        if "csto-site" in tools:
            rows.append(bench.csto(search=True))
            if args.quick:
                rows.append(bench.csto(search=False))
        if "hugo" in tools and shutil.which("hugo"):
            rows.append(bench.hugo())
        if "pelican" in tools and shutil.which("pelican"):
            rows.append(bench.pelican())
        print(f"# N = {n:,} done", flush=True)
    print(f"# conditions at end: {conditions()}")
    print(table(rows))


if __name__ == "__main__":
    main()
