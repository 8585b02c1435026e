"""The docs' examples are what the program prints: each one runs on a copy of the sample site and is compared.

An example is a fenced block whose first line starts with `$ `: each `$` line is a command, the lines
after it are what it prints. The examples of one page run in order on one copy of the project (content,
templates, static files), as a reader following the page would; `<!-- then: NAME -->` before an
example first does to that copy what the page tells the reader to do (the function NAME below, such
as writing the item's text). An example preceded by `<!-- setup: NAME -->` runs on a fresh copy
prepared by NAME instead: the broken input a page shows a message for. Times in seconds are masked.
`pytest --update-golden` writes what the commands print back into the pages.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from helpers.site import ROOT, copy_project
from helpers.tools import interruptible

DOCS = [*sorted((ROOT / "docs").glob("*.md")), ROOT / "README.md"]
EXAMPLE = re.compile(r"(?:<!-- (?P<kind>setup|then): (?P<setup>[\w-]+) -->\n)?```[a-z]*\n(?P<body>\$ .*?)```", re.S)
SECONDS = re.compile(r"\b\d+(?:\.\d+)? s\b")
PORT = re.compile(r"127\.0\.0\.1:\d+")
TIMEOUT = 120


@dataclass(frozen=True)
class Command:
    """One `$` line of an example and the lines the page says it prints."""

    line: str
    expected: list[str]


@dataclass(frozen=True)
class Example:
    """One example block: where its body starts in the page, its setup, its commands."""

    start: int
    end: int
    kind: str | None
    setup: str | None
    commands: list[Command]


def examples(text: str) -> list[Example]:
    """Return the examples of a page, in order."""
    found = []
    for match in EXAMPLE.finditer(text):
        commands: list[Command] = []
        for line in match["body"].rstrip("\n").split("\n"):
            if line.startswith("$ "):
                commands.append(Command(line[2:], []))
            else:
                commands[-1].expected.append(line)
        found.append(Example(match.start("body"), match.end("body"), match["kind"], match["setup"], commands))
    return found


def free_port() -> int:
    """Return a loopback port nothing listens on."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def argv(line: str) -> list[str]:
    """Return the process a documented command line runs: `csto-site` is this checkout's build.py."""
    words = shlex.split(line)
    if words[0] == "csto-site":
        return [sys.executable, "build.py", *words[1:]]
    if words[:2] == ["python", "build.py"]:
        return [sys.executable, *words[1:]]
    raise AssertionError(f"the docs show a command the test does not know how to run: {line}")


def environment() -> dict[str, str]:
    """Return the environment of a documented command: this checkout's code, no colours, no terminal."""
    return {**os.environ, "PYTHONPATH": str(ROOT / "src"), "PYTHONUNBUFFERED": "1", "NO_COLOR": "1", "COLUMNS": "200"}


def streams(cwd: Path) -> dict[str, Any]:
    """Return how a documented command runs: in `cwd`, its output and errors read together as text."""
    return {"cwd": cwd, "env": environment(), "stdout": subprocess.PIPE, "stderr": subprocess.STDOUT, "text": True}


def run(line: str, cwd: Path, expected: int) -> list[str]:
    """Run one documented command in `cwd` and return the lines it printed, in the order a terminal shows them."""
    command = argv(line)
    if command[2:3] == ["serve"]:
        return serve([*command, "--port", str(free_port())], cwd, expected)
    done = subprocess.run(command, **streams(cwd), timeout=TIMEOUT)
    return done.stdout.rstrip("\n").split("\n") if done.stdout.strip() else []


def serve(command: list[str], cwd: Path, expected: int) -> list[str]:
    """Start `serve`, read as many lines as the page shows, and stop it with Ctrl+C."""
    process = subprocess.Popen(command, **streams(cwd), preexec_fn=interruptible)
    assert process.stdout is not None
    lines = []
    try:
        while len(lines) < expected:
            line = process.stdout.readline()
            if not line:
                break
            lines.append(line.rstrip("\n"))
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=TIMEOUT)
    return lines


def masked(lines: list[str]) -> list[str]:
    """Return lines with what changes from run to run (seconds, the port) masked."""
    return [PORT.sub("127.0.0.1:PORT", SECONDS.sub("N s", line)) for line in lines]


def write_the_item(root: Path) -> None:
    """Write the text of the item the guide starts, as its step 1 tells the reader to."""
    (item,) = root.glob("content/csto-news/2021/*-helga-schmid-addresses-*[!u].md")
    text = (
        "On 22 June 2021 the OSCE Secretary General Helga Schmid, on her first visit to the CSTO Secretariat,"
        " addressed an enlarged meeting of the CSTO Permanent Council. Earlier that day she met"
        " the CSTO Secretary General Stanislav Zas.\n"
    )
    item.write_text(item.read_text(encoding="utf-8") + text, encoding="utf-8")


def write_the_translation(root: Path) -> None:
    """Write the text of the translation the guide starts, as the guide tells the reader to."""
    (item,) = root.glob("content/csto-news/2021/*-helga-schmid-addresses-*.ru.md")
    text = (
        "22 июня 2021 года Генеральный секретарь ОБСЕ Хельга Шмид, впервые посетившая Секретариат ОДКБ,"
        " выступила на расширенном заседании Постоянного совета ОДКБ. Ранее в тот же день она встретилась"
        " с Генеральным секретарём ОДКБ Станиславом Засем.\n"
    )
    item.write_text(item.read_text(encoding="utf-8") + text, encoding="utf-8")


def break_names(root: Path) -> None:
    """Misspell a key and an official in one sample item."""
    item = root / "content/csto-news/2024/2024-07-19-un-security-council-debate.md"
    text = item.read_text(encoding="utf-8")
    item.write_text(
        text.replace("title:", "titel:", 1).replace("[Imangali Tasmagambetov]", "[Imangali Tasmagambetow]", 1),
        encoding="utf-8",
    )


def link_a_secret(root: Path) -> None:
    """Commit by mistake a symbolic link to the build machine's environment."""
    (root / "static" / "secrets").symlink_to("/proc/self/environ")


def break_addresses(root: Path) -> None:
    """Give old addresses that clash with a page, with each other, and a redirect to no page."""
    first = root / "content/csto-news/2021/2021-06-22-zas-meets-schmid/index.md"
    second = root / "content/csto-news/2024/2024-07-25-international-school-of-diplomacy/index.md"
    for item, aliases in ((first, '["/old/zas-osce/"]'), (second, '["/news/2021/", "/old/zas-osce/"]')):
        text = item.read_text(encoding="utf-8")
        item.write_text(text.replace("\ndate:", f"\naliases: {aliases}\ndate:", 1), encoding="utf-8")
    config = root / "content/site.yaml"
    config.write_text(
        config.read_text(encoding="utf-8") + 'redirects:\n  "/sections/old-news/": /sections/csto-newz/\n',
        encoding="utf-8",
    )


def unknown_name_and_no_text(root: Path) -> None:
    """Name someone the registry lacks in one item, and start another with no text."""
    item = root / "content/csto-news/2024/2024-07-19-un-security-council-debate.md"
    text = item.read_text(encoding="utf-8")
    item.write_text(
        text.replace("[Imangali Tasmagambetov]", "[Imangali Tasmagambetov, Ivan Ivanov]", 1), encoding="utf-8"
    )
    empty = root / "content/csto-news/2026/2026-11-29-press-briefing.md"
    empty.parent.mkdir(parents=True)
    empty.write_text("---\ntitle: Press briefing\ndate: 2026-11-29 10:00\n---\n", encoding="utf-8")


def break_references(root: Path) -> None:
    """Add to one item a link to a day with no news, a misspelt static file and a heading that does not exist."""
    item = root / "content/csto-news/2024/2024-07-19-un-security-council-debate.md"
    paragraph = "\nSee [the next day](/news/2024/07/20/), ![the chart](/static/styl.css) and [the annex](#annex).\n"
    item.write_text(item.read_text(encoding="utf-8") + paragraph, encoding="utf-8")


def delete_an_item(root: Path) -> None:
    """Delete a published item and its translation, as if by mistake."""
    for name in ("2024-07-19-un-security-council-debate.md", "2024-07-19-un-security-council-debate.ru.md"):
        (root / "content/csto-news/2024" / name).unlink()


def leave_the_project_folder(root: Path) -> None:
    """Make the folder one that is not the project's: no content, templates or static files."""
    for folder in ("content", "templates", "static"):
        shutil.rmtree(root / folder)


SETUPS: dict[str, Callable[[Path], None]] = {
    "write-the-item": write_the_item,
    "write-the-translation": write_the_translation,
    "break-names": break_names,
    "link-a-secret": link_a_secret,
    "break-addresses": break_addresses,
    "unknown-name-and-no-text": unknown_name_and_no_text,
    "break-references": break_references,
    "delete-an-item": delete_an_item,
    "leave-the-project-folder": leave_the_project_folder,
}


def outputs(page: Path, workspace: Path) -> tuple[str, list[str]]:
    """Run every example of a page; return the page with what was printed, and the mismatches."""
    text = page.read_text(encoding="utf-8")
    session = copy_project(workspace / "session")
    pieces, last, mismatches = [], 0, []
    for number, example in enumerate(examples(text)):
        cwd = session
        if example.setup is not None:
            assert example.setup in SETUPS, f"{page.name}: no setup called {example.setup!r} in {__file__}"
            if example.kind == "setup":
                cwd = copy_project(workspace / f"setup-{number}")
            SETUPS[example.setup](cwd)
        body = []
        for command in example.commands:
            printed = run(command.line, cwd, len(command.expected))
            if masked(printed) != masked(command.expected):
                mismatches.append(
                    f"{page.name}: $ {command.line}\n  the page shows:\n    "
                    + "\n    ".join(command.expected)
                    + "\n  the command printed:\n    "
                    + "\n    ".join(printed)
                )
            body += [f"$ {command.line}", *printed]
        pieces += [text[last : example.start], "\n".join(body) + "\n"]
        last = example.end
    return "".join(pieces) + text[last:], mismatches


@pytest.mark.parametrize("page", DOCS, ids=[page.name for page in DOCS])
def test_every_output_the_docs_show_is_what_the_commands_print(page: Path, tmp_path: Path, update_golden: bool) -> None:
    rewritten, mismatches = outputs(page, tmp_path)
    if update_golden:
        page.write_text(rewritten, encoding="utf-8")
        return
    assert not mismatches, "\n\n".join(mismatches) + "\n\n(pytest --update-golden tests/test_docs.py rewrites them)"


def test_an_example_whose_output_differs_is_found(tmp_path: Path) -> None:
    page = tmp_path / "page.md"
    page.write_text("Run:\n\n```\n$ csto-site build --no-search\nbuilt nothing at all\n```\n", encoding="utf-8")
    _, mismatches = outputs(page, tmp_path)
    assert len(mismatches) == 1 and "built nothing at all" in mismatches[0]


def test_the_readme_is_short_and_the_docs_hold_the_rest() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert len(readme.splitlines()) < 150
    for name in ("guide.md", "reference.md", "publishing.md", "development.md"):
        assert f"docs/{name}" in readme, f"the README does not lead to docs/{name}"


def anchors(page: Path) -> set[str]:
    """Return the anchors GitHub gives the headings of a page."""
    headings = re.findall(r"^#+ (.+)$", page.read_text(encoding="utf-8"), re.M)
    return {re.sub(r"[^\w\- ]", "", heading.lower()).replace(" ", "-") for heading in headings}


@pytest.mark.parametrize("page", DOCS, ids=[page.name for page in DOCS])
def test_every_link_between_the_docs_leads_to_a_file_and_heading(page: Path) -> None:
    text = re.sub(r"```.*?```|`[^`\n]*`", "", page.read_text(encoding="utf-8"), flags=re.S)
    for target in re.findall(r"\]\(([^)\s]+)\)", text):
        if re.match(r"[a-z]+:", target):
            continue
        name, _, anchor = target.partition("#")
        linked = (page.parent / name).resolve() if name else page
        assert linked.exists(), f"{page.name}: the link {target} leads to no file"
        if anchor and linked.suffix == ".md":
            assert anchor in anchors(linked), f"{page.name}: the link {target} leads to no heading of {linked.name}"
