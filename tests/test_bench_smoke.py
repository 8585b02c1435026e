"""The benchmark runs end to end on a tiny archive (bench/run.py; a smoke test, nothing is timed)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from importlib.util import cache_from_source
from pathlib import Path

import pytest
from helpers.site import ROOT
from helpers.tools import require_tool

N = 24


def script(name: str, *args: str, root: Path = ROOT, env: dict[str, str] | None = None) -> str:
    """Run a script of a checkout's bench/ (this one's) to completion, expecting success; return what it printed."""
    done = subprocess.run(
        [sys.executable, str(root / "bench" / name), *args],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
        env=env,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def bench(
    work: Path, *tools: str, extra: tuple[str, ...] = (), root: Path = ROOT, env: dict[str, str] | None = None
) -> str:
    """Run the benchmark for a few items and the given tools; return what it printed."""
    only = [arg for tool in tools for arg in ("--only", tool)]
    return script("run.py", "--n", str(N), "--runs", "1", "--work", str(work), *only, *extra, root=root, env=env)


def checkout_without_bytecode(dest: Path) -> Path:
    """Copy what the benchmark runs of this checkout (bench/, src/, templates/, static/, build.py), without bytecode."""
    for folder in ("bench", "src", "templates", "static"):
        shutil.copytree(ROOT / folder, dest / folder, ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "out"))
    shutil.copy(ROOT / "build.py", dest / "build.py")
    assert not list(dest.rglob("*.pyc"))
    return dest


def row(output: str, tool: str) -> list[str]:
    """Return the cells of a tool's row in the printed table."""
    lines = [line for line in output.splitlines() if line.startswith(f"| {N} | {tool} |")]
    assert len(lines) == 1, output
    return [cell.strip() for cell in lines[0].strip("|").split("|")]


def test_the_benchmark_times_every_scenario_of_a_build(tmp_path):
    # A copy of the checkout, run with bytecode writing off: a .pyc found below is the benchmark's own compiling.
    checkout = checkout_without_bytecode(tmp_path / "checkout")
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1", "PYTHONPATH": str(checkout / "src")}
    output = bench(tmp_path, "csto-site", root=checkout, env=env)
    # The default build (with the search index) is csto-site's row; a build with --no-search the second.
    for tool in ("csto-site", "csto-site --no-search"):
        cells = row(output, tool)
        assert all(cell.endswith(" s") for cell in cells[2:8]), cells
        assert cells[8].endswith(" MiB") and int(cells[8].split()[0]) > 0
    assert output.index("| csto-site |") < output.index("| csto-site --no-search |")
    archive = tmp_path / f"n{N}"
    items = [p for p in (archive / "content").rglob("*.md") if not p.name.startswith("_")]
    assert len(items) == N + 6, "for each row: the item added for a build, and two added in the serve process"
    assert (archive / "public" / "news" / "rss.xml").is_file()
    # The program was timed as installed, from bytecode compiled before the first run.
    assert Path(cache_from_source(str(checkout / "src" / "csto_site" / "build" / "pipeline.py"))).is_file()


def test_the_benchmark_times_only_the_scenarios_asked_for_after_a_clean_build(tmp_path):
    output = bench(tmp_path, "csto-site", extra=("--no-search-row", "--scenario", "one new item"))
    cells = row(output, "csto-site")
    assert [cell.endswith(" s") for cell in cells[2:8]] == [True, False, True, False, False, False], cells
    assert "--no-search |" not in output


def test_hugo_and_pelican_build_the_same_archive(tmp_path):
    require_tool("hugo", "Hugo is missing: apt-get install hugo")
    require_tool("pelican", "Pelican is missing: pip install -e '.[bench]'")
    output = bench(tmp_path, "csto-site", "hugo", "pelican")
    for tool in ("Hugo", "Pelican"):
        assert row(output, tool)[2].endswith(" s")
        assert f"{tool}'s time" in output
    archive = tmp_path / f"n{N}"
    for tool, output in (("hugo", "public"), ("pelican", "output")):
        english = [
            p for p in (archive / tool / "content").rglob("*.md") if not p.name.startswith("_") and ".ru." not in p.name
        ]
        pages = list((archive / tool / output / "news").glob("*/*/*/*/index.html"))
        assert len(pages) == len(english) > N // 2, f"{tool}: every English item has its page"


def test_the_floors_of_a_build_are_measured():
    output = script("floors.py", "--runs", "1", "--bodies", "3", "--files", "20")
    rows = {
        cells[0]: cells[1]
        for line in output.splitlines()[2:]
        if len(cells := [c.strip() for c in line.strip("|").split("|")]) == 2
    }
    assert len(rows) == 5, output
    values = [float(value.split()[0]) for value in rows.values()]
    assert all(value > 0 for value in values), output
    start, libraries, pipeline = values[:3]
    assert start < libraries <= pipeline * 1.5, "importing the libraries costs more than starting Python"


@pytest.mark.parametrize("search", [[], ["--search"]], ids=["no search", "search"])
def test_the_comparison_of_two_checkouts_times_both_in_turn(tmp_path, search):
    """bench/compare.py, with this checkout against itself: each copy built, each round timed for both."""
    work = ["--work", str(tmp_path)]
    output = script("compare.py", str(ROOT), "--n", str(N), "--rounds", "2", "--serve", "1", *search, *work)
    lines = output.splitlines()
    assert lines[2].startswith("| one new item, whole process (median of 2) |") and lines[2].count(" s |") == 2
    assert lines[3].startswith("| one new item inside one process (3 processes, medians of 1) |")
    assert lines[3].count(" s") == 6
    for copy in ("before", "after"):
        items = [p for p in (tmp_path / copy / "content").rglob("*.md") if not p.name.startswith("_")]
        assert len(items) == N + 2 + 3 * 2, "the two rounds' items, and two in each serve process"
        assert (tmp_path / copy / "public" / "news" / "rss.xml").is_file()
        assert (tmp_path / copy / "public" / "pagefind" / "shards.json").is_file() == bool(search)
