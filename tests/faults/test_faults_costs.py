"""Inputs whose cost explodes: each is refused with a clear `path:line` error or built, promptly.

Each case writes one item (or a registry) into a copy of the mini fixture and runs the real command
line in a subprocess with a timeout, so a regression fails instead of hanging the suite. Before the
fix, each of the refused bodies kept Python-Markdown busy for minutes (or for ever, or crashed it
with a RecursionError), the item naming 2,000 officials took minutes to build, and `check` scanned
long runs of "<" or "](" in quadratic time. A Hypothesis property then throws random runs of Markdown
syntax at the converter: each converts in bounded time or is refused, never a crash.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from helpers.site import MINI, ROOT, cli_args
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from csto_site import cli
from csto_site.content import bounds, markup
from csto_site.content.markup import Markup, MarkupError

HEAD = "---\ntitle: Costly item\ndate: 2024-06-01 10:00\n---\nA first paragraph.\n\n"
BODY_LINE = 7  # the line the costly part of the body starts on, after HEAD
PAGE = "news/2024/06/01/costly-item/index.html"
# A whole command in a fresh process: start-up, the mini site and one large item take a few seconds;
# the bound leaves room for a busy machine. Before the fix these took minutes.
SECONDS = 20.0
TIMEOUT = 180.0


@dataclass(frozen=True)
class Case:
    """One costly item and what the build must make of it: refuse it at `line` with `message`, or build it."""

    name: str
    body: Callable[[], str]
    line: int = 0  # 0: the build succeeds
    message: str = ""
    officials: int = 0  # officials added to the registry; the item names `named` of them
    named: int = 0


def nested_lines(prefix: Callable[[int], str], levels: int) -> str:
    """Return `levels` lines, each nested one level deeper than the one before."""
    return "\n".join(prefix(level) + "x" for level in range(levels))


ESTIMATE = "Markdown would take"
DEEP = "nested more than 32 levels deep in lists and quotes"
CASES = [
    # One long run of a syntax character: Python-Markdown reads the paragraph again for each.
    Case("a line of [", lambda: "[" * 600_000, BODY_LINE, ESTIMATE),
    Case("a line of ![", lambda: "![" * 300_000, BODY_LINE, ESTIMATE),
    Case("a line of [a](", lambda: "[a](" * 150_000, BODY_LINE, ESTIMATE),
    Case("a line of [^", lambda: "[^" * 300_000, BODY_LINE, ESTIMATE),
    Case("a line of \\", lambda: "\\" * 600_000, BODY_LINE, ESTIMATE),
    Case("lines of [ and words", lambda: "\n".join(["[ word " * 11] * 8_000), BODY_LINE, ESTIMATE),
    Case("3,000 links in one paragraph", lambda: "[a link](https://example.org/) " * 3_000, BODY_LINE, ESTIMATE),
    Case("a line of <a", lambda: "<a" * 300_000, BODY_LINE, "HTML reader"),
    Case("a line of <http://", lambda: "<http://x " * 60_000, BODY_LINE, "HTML reader"),
    Case("unclosed fences", lambda: "\n".join("`" * (3 + i) for i in range(1_000)), BODY_LINE, "never closed"),
    Case("100,000 short paragraphs", lambda: "a\n\n" * 100_000, BODY_LINE - 2, "100,002 paragraphs or blank lines"),
    Case(
        "8,000 headings in one block",
        lambda: ("# Heading\n" + "text " * 20 + "\n") * 8_000,
        BODY_LINE,
        "reads the rest of the block",
    ),
    Case(
        "a table of 300,000 cells",
        lambda: "|a" * 100 + "|\n" + "|-" * 100 + "|\n" + ("|a" * 100 + "|\n") * 3_000,
        BODY_LINE - 2,
        "table cells",
    ),
    Case(
        "5,000 abbreviations",
        lambda: "".join(f"*[AB{i}]: abbreviation {i}\n" for i in range(5_000)) + "\nAB1 AB2 " * 20_000,
        BODY_LINE,
        "abbreviations",
    ),
    # Nesting: Python-Markdown recurses per level, and the HTML sanitiser's time grows as its square.
    Case(
        "a loose list nested 600 levels",
        lambda: "\n\n".join("    " * d + "- x" for d in range(600)),
        BODY_LINE + 64,
        DEEP,
    ),
    Case(
        "a list nested 1,000 levels by tabs",
        lambda: nested_lines(lambda d: "\t" * d + "1. ", 1_000),
        BODY_LINE + 32,
        DEEP,
    ),
    Case("list markers 500,000 deep on one line", lambda: "- " * 500_000 + "x", BODY_LINE, DEEP),
    Case("quotes 1,000,000 deep on one line", lambda: ">" * 1_000_000 + " x", BODY_LINE, DEEP),
    Case("quotes nested 500 levels", lambda: "\n>\n".join(">" * d + " x" for d in range(1, 500)), BODY_LINE + 64, DEEP),
    Case("quotes and lists 250,000 deep", lambda: "> - " * 250_000 + "x", BODY_LINE, DEEP),
    Case("HTML elements left open", lambda: "<div>\n" * 100_000, BODY_LINE + 32, "HTML elements are open"),
    Case(
        "Markdown HTML nested",
        lambda: '<div markdown="1">\n' * 500 + "x\n" + "</div>\n" * 500,
        BODY_LINE + 32,
        "HTML elements are open",
    ),
    Case("emphasis nested 3,000 levels", lambda: "*a " * 3_000 + " b*" * 3_000, BODY_LINE - 2, "too deeply"),
    # Officials: each lists the item in its own feed with every name: the output grows as the square.
    Case(
        "an item naming 2,000 officials",
        lambda: "",
        4,
        "`officials` names 2,000 officials; at most 200",
        officials=2_000,
        named=2_000,
    ),
    # Shapes that cost Python-Markdown little: they build, and check scans them in linear time.
    Case("a line of ](", lambda: "](" * 300_000),
    Case("a line of < in code", lambda: "```\n" + "<" * 600_000 + "\n```"),
    Case("a line of ]( and <a in code", lambda: "```\n" + "](<a" * 150_000 + "\n```"),
    Case(
        "a long ordinary text",
        lambda: (
            (
                "The Secretary General met the delegation and discussed regional "
                "security with *all* its members. " * 8 + "The [statement](https://example.org/) is online.\n\n"
            )
            * 1_000
        ),
    ),
    Case(
        "lists and quotes 30 deep", lambda: nested_lines(lambda d: "> " * min(d, 15) + "    " * min(d, 14) + "- ", 30)
    ),
    Case(
        "JSON indented 200 deep in a code fence",
        lambda: "```\n" + nested_lines(lambda d: "  " * d + '{"a": ', 200) + "\n```",
    ),
    Case(
        "300 citations in a 50 KB paragraph",
        lambda: "The treaty was signed by the parties [12]. " * 300 + "Each party keeps its reservations. " * 1_100,
    ),
    Case(
        "an HTML table of 2,000 rows",
        lambda: "<table>\n" + "<tr><td>Article</td><td>Text</td></tr>\n" * 2_000 + "</table>",
    ),
    Case("an item naming 200 of 300 officials", lambda: "", officials=300, named=200),
]


def write_case(case: Case, tmp_path: Path) -> tuple[Path, Path]:
    """Copy the mini fixture, add the case's item (and officials); return the content folder and the item."""
    content = Path(shutil.copytree(MINI, tmp_path / "content"))
    head = HEAD
    if case.officials:
        with (content / "officials.yaml").open("a", encoding="utf-8") as registry:
            registry.writelines(
                f"official-{i}:\n  name: {{en: Official Number {i}, ru: Чиновник {i}}}\n" for i in range(case.officials)
            )
        names = "".join(f"  - Official Number {i}\n" for i in range(case.named))
        head = HEAD.replace("date: 2024-06-01 10:00\n", f"date: 2024-06-01 10:00\nofficials:\n{names}")
    item = content / "alpha" / "2024" / "2024-06-01-costly-item.md"
    item.write_text(head + case.body() + "\n", encoding="utf-8")
    return content, item


def run_cli(command: str, content: Path, out: Path) -> tuple[int, str, float]:
    """Run the command line in a fresh process; return its exit status, everything it printed and its seconds."""
    args = cli_args(command, content, out, "--no-search", "--quiet")
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-c", "import sys; from csto_site.cli import main; sys.exit(main())", *args],
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        env=env,
        check=False,
    )
    return done.returncode, done.stdout + done.stderr, time.monotonic() - started


@pytest.mark.parametrize("command", ["build", "check"])
@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_costly_input_is_refused_or_built_promptly(case: Case, command: str, tmp_path: Path) -> None:
    content, item = write_case(case, tmp_path)
    out = tmp_path / "public"

    status, printed, seconds = run_cli(command, content, out)

    assert "Traceback" not in printed
    assert seconds < SECONDS, f"{command} took {seconds:.1f} s"
    if case.line:
        assert status == 1, printed
        assert f"{item}:{case.line}: " in printed, printed[:2000]
        assert case.message in printed, printed[:2000]
        assert not out.exists()
    else:
        assert status == 0, printed[:2000]
        assert command == "check" or (out / PAGE).is_file()


def test_time_limit_stops_a_conversion_and_leaves_no_timer(monkeypatch: pytest.MonkeyPatch) -> None:
    """A conversion the estimates let through but that runs too long is stopped with a problem, cleanly."""
    monkeypatch.setattr(markup, "TIME_LIMIT_SECONDS", 0.05)
    body = "The delegation discussed regional security in detail.\n\n" * 6_000
    outer_handler = signal.getsignal(signal.SIGALRM)

    with pytest.raises(MarkupError, match="stopped after") as raised:
        Markup().render(body)

    assert raised.value.line == 1
    assert signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)
    assert signal.getsignal(signal.SIGALRM) is outer_handler


def test_time_limit_keeps_an_enclosing_timer() -> None:
    """A timer set around the conversion (a test runner's) keeps its handler and, roughly, its deadline."""
    fired: list[int] = []
    previous = signal.signal(signal.SIGALRM, lambda signum, frame: fired.append(signum))
    try:
        signal.setitimer(signal.ITIMER_REAL, 100.0)
        Markup().render("Some *text* with a [link](https://example.org/).")
        remaining = signal.getitimer(signal.ITIMER_REAL)[0]
        signal.setitimer(signal.ITIMER_REAL, 0)
        assert 90.0 < remaining <= 100.0
        assert not fired
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def test_time_limit_works_in_forked_workers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Parsing spread over worker processes stops each runaway conversion there and reports it."""
    monkeypatch.setattr(markup, "TIME_LIMIT_SECONDS", 0.05)
    content = Path(shutil.copytree(MINI, tmp_path / "content"))
    folder = content / "alpha" / "2023"
    for i in range(130):
        (folder / f"2023-05-{i % 28 + 1:02d}-filler-{i}.md").write_text(
            f"---\ntitle: Filler {i}\ndate: 2023-05-{i % 28 + 1:02d} 10:00\n---\nShort.\n", encoding="utf-8"
        )
    slow = "The delegation discussed regional security in detail.\n\n" * 6_000
    heavy = [folder / "2023-01-01-heavy-one.md", folder / "2023-12-31-heavy-two.md"]
    for path in heavy:
        path.write_text(f"---\ntitle: {path.stem}\ndate: {path.stem[:10]} 10:00\n---\n{slow}", encoding="utf-8")

    status = cli.main(cli_args("build", content, tmp_path / "public", "--no-search", "--quiet", "--jobs", "2"))
    printed = capsys.readouterr()

    assert status == 1
    assert "Traceback" not in printed.out + printed.err
    for path in heavy:
        assert f"{path}:5: Markdown was stopped after" in printed.err + printed.out
    assert signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)


# Runs of syntax, alone or mixed with words, in one line or over lines: the shapes that cost most.
PIECES = [
    "[",
    "]",
    "(",
    ")",
    "](",
    "![",
    "[^",
    "<",
    ">",
    "</",
    "<a ",
    "<!--",
    "-->",
    "&",
    "&#",
    "*",
    "**",
    "_",
    "`",
    "```",
    "~~~",
    "\\",
    "|",
    "-",
    "#",
    "=",
    "{:",
    "*[",
    "]:",
    "http://",
    "<http://",
    "'",
    '"',
    "=",
    "[TOC]",
    "    ",
    "\t",
    "> ",
    "- ",
    "1. ",
    ": ",
    "word ",
    " ",
    "\n",
    "\n\n",
]


@settings(max_examples=60, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(
        st.tuples(
            st.lists(st.sampled_from(PIECES), min_size=1, max_size=6).map("".join),
            st.integers(min_value=1, max_value=8_000),
        ),
        min_size=1,
        max_size=4,
    )
)
def test_random_syntax_converts_in_bounded_time_or_is_refused(runs: list[tuple[str, int]]) -> None:
    """Random runs of Markdown syntax, up to tens of kilobytes: converted quickly, or refused with a line."""
    body = "".join(piece * count for piece, count in runs)[:60_000]
    started = time.monotonic()
    if not bounds.body_problems(body, "body.md", 1):
        try:
            Markup().render(body)
        except MarkupError as exc:
            assert exc.line >= 1
    assert time.monotonic() - started < SECONDS
