"""Measure what no whole-process build can go below on this machine, and what each item costs.

    python bench/floors.py               # medians of 5 (processes) and of 300 bodies or 20,000 files
    python bench/floors.py --runs 1 --bodies 10 --files 100     # a quick look

It times, each in a fresh process as a build runs: starting Python; starting Python and importing
the libraries a build that renders anything needs (Jinja2, Python-Markdown with the extensions the
program uses, feedgen with lxml, PyYAML, nh3, python-slugify, brotli); starting Python and importing
the program's build pipeline. Then, in this process: converting one seeded synthetic body (as
bench/generate.py writes them) to safe HTML as the program does (csto_site.content.markup), and listing
source files as the build's first step does (csto_site.util.files.walk), per file. The README's Speed
section reads the targets of issue 4 against these numbers.
"""

from __future__ import annotations

import argparse
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from generate import WORDS_EN, body

from csto_site.content.markup import Markup
from csto_site.util.files import walk

LIBRARIES = (
    "import jinja2, markdown, markdown.extensions.extra, markdown.extensions.toc, feedgen.feed, yaml, "
    "nh3, slugify, brotli"
)
PROCESSES = (
    ("start Python", "pass"),
    ("start Python, import the libraries", LIBRARIES),
    ("start Python, import the build pipeline", "import csto_site.build.pipeline"),
)


def process_seconds(code: str, runs: int) -> float:
    """Return the median wall time of a fresh `python -c code`."""
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run([sys.executable, "-c", code], check=True)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def per_call(action: Callable[[], object], count: int) -> float:
    """Return the seconds one of `count` calls of `action` takes, on average."""
    started = time.perf_counter()
    action()
    return (time.perf_counter() - started) / count


def markdown_seconds(bodies: int) -> float:
    """Return the seconds one synthetic body takes to become safe HTML (the parser built beforehand)."""
    rng = random.Random(1)
    texts = [body(rng, list(WORDS_EN), ["The Secretary General"]) for _ in range(bodies)]
    markup = Markup()
    markup.render(texts[0])
    return per_call(lambda: [markup.render(text) for text in texts], bodies)


def listing_seconds(files: int) -> float:
    """Return the seconds the build's listing takes per source file (100 files a folder)."""
    with tempfile.TemporaryDirectory(prefix="csto-floors-") as tmp:
        for i in range(files):
            folder = Path(tmp, f"{i // 100:04d}")
            folder.mkdir(exist_ok=True)
            (folder / f"{i:06d}.md").write_text("---\ntitle: x\n---\n", encoding="utf-8")
        walk(tmp, ".md")
        return per_call(lambda: walk(tmp, ".md"), files)


def main() -> None:
    """Print the table."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5, help="fresh processes per row, the median is shown")
    parser.add_argument("--bodies", type=int, default=300, help="synthetic bodies to convert")
    parser.add_argument("--files", type=int, default=20_000, help="source files to list")
    args = parser.parse_args()
    print("| what | time |")
    print("| --- | ---: |")
    for label, code in PROCESSES:
        print(f"| {label} | {process_seconds(code, args.runs) * 1000:.0f} ms |")
    print(f"| one body to safe HTML (Python-Markdown and nh3) | {markdown_seconds(args.bodies) * 1000:.2f} ms |")
    print(f"| one source file listed (name, size, mtime) | {listing_seconds(args.files) * 1e6:.1f} µs |")


if __name__ == "__main__":
    main()
