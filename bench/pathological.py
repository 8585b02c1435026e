"""Time Markdown conversion and check's prose scan on pathological bodies of growing size.

    python bench/pathological.py                      # every shape, 1 KB to 1 MB, 10 s cap per run
    python bench/pathological.py --only '[' --max 262144 --cap 5
    python bench/pathological.py --stage check        # check's prose scan instead of Markdown
    python bench/pathological.py --stage bounds       # the pre-check alone (it must be linear)

Each shape is a function of a size in characters that writes a body of about that size: runs of one
inline syntax character or pair, alone and mixed with words, on one line and spread over lines,
nested lists and quotes, tables, footnotes, abbreviations and so on. For each shape and size it
prints the seconds one conversion takes (`>cap` when it was stopped) and the growth exponent between
the last two sizes (1 is linear, 2 quadratic). A shape is "super-linear" when the exponent between
the two largest measured sizes is over 1.4 and the larger run took over 0.2 s; those are listed at
the end. The pre-check (csto_site.content.bounds) refuses a body before Markdown sees it: with `--stage
markdown` (the default) a refused body is timed as the pre-check only and shown as `refused`.
"""

from __future__ import annotations

import argparse
import math
import signal
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import partial

from csto_site.build.checks import Body
from csto_site.content import bounds
from csto_site.content.markup import Markup, MarkupError

SIZES = (1024, 4096, 16384, 65536, 262144, 1048576)
WORDS = "The Secretary General met the delegation and discussed regional security "


class Stopped(Exception):
    """A run took longer than the cap."""


@contextmanager
def cap(seconds: float) -> Iterator[None]:
    """Stop the body of the `with` after `seconds` (CPython's regex engine checks signals too)."""

    def stop(signum: int, frame: object) -> None:
        raise Stopped

    previous = signal.signal(signal.SIGALRM, stop)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def fill(unit: str, size: int) -> str:
    """Repeat `unit` to about `size` characters."""
    return unit * max(1, size // len(unit))


def lines(unit: str, size: int, width: int = 80) -> str:
    """Repeat `unit` into lines of about `width` characters, to about `size` characters."""
    line = fill(unit, width)
    return "\n".join([line] * max(1, size // (len(line) + 1)))


def paragraphs(unit: str, size: int) -> str:
    """Repeat `unit` into one-line paragraphs, to about `size` characters."""
    return lines(unit, size).replace("\n", "\n\n")


def nested(prefix: Callable[[int], str], size: int) -> str:
    """Nest lines (`prefix(depth)` before each) as deep as `size` characters allow."""
    out, total, depth = [], 0, 0
    while total < size:
        line = prefix(depth) + "x"
        out.append(line)
        total += len(line) + 1
        depth += 1
    return "\n".join(out)


RUNS = (
    "[",
    "]",
    "(",
    ")",
    "](",
    "![",
    "<",
    ">",
    "&",
    "*",
    "_",
    "`",
    "~",
    "\\",
    "[^",
    "<!--",
    "http://",
    "|",
    "-",
    "#",
    "=",
    "{:",
    "*[",
    "[a](",
    "[a]",
    "[a][",
    "<a",
    "&#",
    "**",
    "__",
    "``",
    "~~~",
    "<div>",
    "-->",
    "[[",
    "]]",
    "((",
    "))",
    ":",
    "^",
    "!",
    "'",
    '"',
    "<http://",
    "[^a]",
    "{",
    "}",
    "]:",
    "*a",
    "_a",
    "`a",
    "\\[",
    "&amp;",
    "<b>",
    "</b>",
    "<i>x",
    "< ",
    "> ",
)


def shapes() -> dict[str, Callable[[int], str]]:
    """Return every shape by name."""
    found: dict[str, Callable[[int], str]] = {}
    for run in RUNS:
        found[f"{run!r} one line"] = partial(fill, run)
        found[f"{run!r} + words, one line"] = partial(fill, run + " word ")
        found[f"{run!r}x8 + words, one line"] = partial(fill, run * 8 + " word ")
        found[f"{run!r} lines"] = partial(lines, run)
        found[f"{run!r} + words, lines"] = partial(lines, run + " word ")
        found[f"{run!r} paragraphs"] = partial(paragraphs, run)
    found.update(
        {
            "list nesting (2 spaces)": lambda n: nested(lambda d: "  " * d + "- ", n),
            "list nesting (4 spaces)": lambda n: nested(lambda d: "    " * d + "- ", n),
            "ordered list nesting": lambda n: nested(lambda d: "    " * d + "1. ", n),
            "list markers on one line": lambda n: fill("- ", n) + "x",
            "list markers '* ' on one line": lambda n: fill("* ", n) + "x",
            "ordered markers on one line": lambda n: fill("1. ", n) + "x",
            "quote nesting on one line": lambda n: fill(">", n) + " x",
            "quote nesting '> ' on one line": lambda n: fill("> ", n) + "x",
            "quote nesting by lines": lambda n: nested(lambda d: ">" * (d + 1) + " ", n),
            "quote and list nesting": lambda n: nested(lambda d: "> - " * (d + 1), n),
            "list in quote on one line": lambda n: fill("> - ", n) + "x",
            "indentation nesting": lambda n: nested(lambda d: " " * d, n),
            "indented code": lambda n: lines("    code line", n),
            "many short lines": lambda n: lines("a", n, 1),
            "blank lines": lambda n: "a" + "\n" * n + "b",
            "long single word": lambda n: fill("a", n),
            "words": lambda n: fill(WORDS, n),
            "paragraphs of words": lambda n: lines(WORDS, n, 400).replace("\n", "\n\n"),
            "table, many columns": lambda n: "\n".join(
                ["|" + "a|" * (n // 6), "|" + "-|" * (n // 6), "|" + "b|" * (n // 6)]
            ),
            "table, many rows": lambda n: "| a | b |\n| - | - |\n" + lines("| c | d |", n, 9),
            "footnote definitions": lambda n: (
                "".join(f"t[^{i}]\n" for i in range(n // 40))
                + "\n"
                + "".join(f"[^{i}]: note {i}\n" for i in range(n // 40))
            ),
            "footnote refs, one definition": lambda n: fill("[^a]", n) + "\n\n[^a]: note\n",
            "footnote refs to one, lines": lambda n: lines("x[^a] ", n) + "\n\n[^a]: note\n",
            "footnote nesting": lambda n: nested(lambda d: "    " * d + f"[^{d}]: ", n),
            "abbreviations": lambda n: (
                "".join(f"*[AB{i}]: abbr {i}\n" for i in range(n // 40)) + "\n" + fill("AB1 AB2 word ", n // 2)
            ),
            "one abbreviation, many uses": lambda n: "*[AB]: abbr\n\n" + fill("AB ", n),
            "attribute lists": lambda n: lines("word {: .c #i }", n),
            "headings, same text": lambda n: lines("# Heading", n, 1),
            "headings, distinct": lambda n: "\n".join(f"## Heading {i}" for i in range(n // 16)),
            "headings '#' run": lambda n: fill("#", n) + " x",
            "setext headings": lambda n: "\n".join(["Title", "==="] * (n // 10)),
            "setext underline run": lambda n: "Title\n" + fill("=", n),
            "html blocks": lambda n: lines("<div>x</div>", n, 1).replace("\n", "\n\n"),
            "html open blocks": lambda n: lines("<div>", n, 1),
            "html nested blocks": lambda n: fill("<div>", n // 2) + fill("</div>", n // 2),
            "html blocks markdown=1": lambda n: lines('<div markdown="1">', n, 1),
            "html comment open": lambda n: "<!--\n" + lines("x", n),
            "fenced code": lambda n: lines("```\ncode\n```", n, 1),
            "fenced open": lambda n: "```\n" + lines("code", n),
            "fence markers": lambda n: lines("```", n, 1),
            "definition lists": lambda n: lines("term\n: definition\n", n, 1),
            "reference definitions": lambda n: "".join(f"[r{i}]: http://x/{i}\n" for i in range(n // 24)),
            "reference links": lambda n: fill("[a][r] ", n) + "\n\n[r]: http://x/\n",
            "links": lambda n: fill("[a](http://x/) ", n),
            "nested brackets": lambda n: fill("[", n // 2) + fill("]", n // 2),
            "nested parens in link": lambda n: "[a](" + fill("(", n // 2) + fill(")", n // 2) + ")",
            "nested emphasis": lambda n: fill("*a ", n // 2) + fill(" b*", n // 2),
            "unclosed code spans": lambda n: fill("`a ", n),
            "tocs": lambda n: lines("[TOC]", n, 1).replace("\n", "\n\n"),
            "tiny paragraphs": lambda n: fill("a\n\n", n),
            "tiny list items": lambda n: fill("- a\n", n),
            "tiny quote lines": lambda n: fill("> a\n", n),
            "tiny table": lambda n: "|a|b|\n|-|-|\n" + fill("|a|b|\n", n),
            "headings in one block": lambda n: fill("# a\n", n),
            "rules in one block": lambda n: fill("a\n***\n", n),
            "definitions in one block": lambda n: fill("term\n: definition\n", n),
            "footnote definitions in one block": lambda n: "".join(f"[^{i}]: n\n" for i in range(n // 8)),
            "abbreviation definitions in one block": lambda n: "".join(f"*[A{i}]: a\n" for i in range(n // 10)),
            "code and text alternating": lambda n: fill("    code\ntext\n", n),
            "quote and text alternating": lambda n: fill("> quote\ntext\n", n),
            "html and text alternating": lambda n: fill("<div>x</div>\ntext\n", n),
            "unclosed fences, distinct": lambda n: "\n".join("`" * (3 + i) for i in range(int((2 * n) ** 0.5))),
            "unclosed fences, two kinds": lambda n: fill("```\n~~~~\n", n // 2) + fill("x\n", n // 2),
            "tag with a quoted >": lambda n: fill("<a b='>' ", n),
            "tags left open": lambda n: fill("<b>x ", n),
            "spans left open": lambda n: fill("<span>x ", n),
            "inline html, closed": lambda n: fill("<b>x</b> ", n),
            "strong and emphasis nesting": lambda n: fill("***a ", n // 2) + fill(" b***", n // 2),
            "links in link text": lambda n: fill("[", n // 4) + "a" + fill("](x)", n // 4 * 3),
            "images in links": lambda n: fill("[![a](b)](c) ", n),
            "autolinks": lambda n: fill("<http://x.org/> ", n),
            "emails": lambda n: fill("<a@b.org> ", n),
            "entities": lambda n: fill("&amp; &#169; &#x41; ", n),
            "line breaks": lambda n: fill("a  \n", n),
            "hard-wrapped paragraph": lambda n: lines(WORDS, n, 72),
            "code spans": lambda n: fill("`a` ", n),
            "escaped characters": lambda n: fill("\\* ", n),
        }
    )
    return found


def markdown_stage() -> Callable[[str], str]:
    """Return the stage that refuses a body by the pre-check or converts it."""
    markup = Markup()

    def run(text: str) -> str:
        if bounds.body_problems(text, "body.md", 1):
            return "refused"
        try:
            markup.render(text)
        except MarkupError:
            return "refused in conversion"
        return ""

    return run


def check_stage() -> Callable[[str], str]:
    """Return check's prose scan of a body (counting its words), as the long-item warning runs it."""

    def run(text: str) -> str:
        Body(tuple(text.split("\n")), 1, {}).words  # noqa: B018
        return ""

    return run


def bounds_stage() -> Callable[[str], str]:
    """Return the pre-check alone."""

    def run(text: str) -> str:
        return "refused" if bounds.body_problems(text, "body.md", 1) else ""

    return run


STAGES = {"markdown": markdown_stage, "check": check_stage, "bounds": bounds_stage}


def measure(
    stage: Callable[[str], str], make: Callable[[int], str], sizes: tuple[int, ...], limit: float
) -> list[tuple[int, float | None, str]]:
    """Time the stage on the shape at each size; stop after the first run over the cap."""
    results: list[tuple[int, float | None, str]] = []
    for size in sizes:
        text = make(size)
        started = time.perf_counter()
        try:
            with cap(limit):
                note = stage(text)
        except Stopped:
            results.append((len(text), None, ""))
            break
        except RecursionError:
            results.append((len(text), time.perf_counter() - started, "RecursionError"))
            break
        results.append((len(text), time.perf_counter() - started, note))
    return results


def exponent(results: list[tuple[int, float | None, str]], limit: float) -> float | None:
    """Return the growth exponent between the two largest sizes measured (a stopped run counts as the cap)."""
    timed = [(n, t if t is not None else limit) for n, t, _ in results]
    if len(timed) < 2:
        return None
    (n1, t1), (n2, t2) = timed[-2], timed[-1]
    if t1 <= 0 or n2 == n1:
        return None
    return math.log(t2 / t1) / math.log(n2 / n1)


def main() -> None:
    """Time every shape and print a table, then the super-linear shapes."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--stage", choices=sorted(STAGES), default="markdown")
    parser.add_argument("--only", action="append", default=[], help="shapes whose name contains this (repeatable)")
    parser.add_argument("--max", type=int, default=SIZES[-1], help="largest size in characters")
    parser.add_argument("--cap", type=float, default=10.0, help="seconds before a run is stopped")
    args = parser.parse_args()
    stage = STAGES[args.stage]()
    sizes = tuple(s for s in SIZES if s <= args.max)
    worst = []
    for name, make in shapes().items():
        if args.only and not any(o in name for o in args.only):
            continue
        results = measure(stage, make, sizes, args.cap)
        growth = exponent(results, args.cap)
        cells = " ".join(
            f"{n // 1024:>5}K:" + (f">{args.cap:.0f}s" if t is None else f"{t:7.3f}") + (f"({note})" if note else "")
            for n, t, note in results
        )
        flag = growth is not None and growth > 1.4 and (results[-1][1] or args.cap) > 0.2
        if flag or any(note == "RecursionError" for _, _, note in results):
            worst.append(name)
        print(
            f"{name:42} {cells}  growth {'' if growth is None else f'{growth:.2f}'}{'  SUPER-LINEAR' if flag else ''}",
            flush=True,
        )
    print("\nsuper-linear or crashing:", ", ".join(worst) or "none")


if __name__ == "__main__":
    main()
