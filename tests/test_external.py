"""`check --external`: links to other sites fetched concurrently, with a time-out and a cache, as warnings."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from helpers.site import cli_args

from csto_site import cli

VISIT = "alpha/2024/2024-03-12-working-visit.md"
BRIEFING_RU = "alpha/2024/2024-03-12-morning-briefing.ru.md"
HINT = " (check the address, or link an archived copy)"  # docs/guide.md, `check --external`


class Handler(BaseHTTPRequestHandler):
    """/ok answers, /gone is 404, /slow answers too late, /head-refused refuses HEAD only."""

    asked: list[str] = []  # noqa: RUF012 - the requests of all handlers, for the test to read

    def answer(self, body: bool) -> None:
        Handler.asked.append(f"{self.command} {self.path}")
        if self.path == "/slow":
            time.sleep(2)
        if self.path == "/gone" or (self.path == "/head-refused" and not body):
            self.send_error(404 if self.path == "/gone" else 405)
            return
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        if body:
            self.wfile.write(b"ok")

    def do_HEAD(self) -> None:
        self.answer(False)

    def do_GET(self) -> None:
        self.answer(True)

    def log_message(self, format: str, *args: object) -> None:
        return


@pytest.fixture
def other_site() -> Iterator[str]:
    """A web server on the loopback interface standing in for other sites."""
    Handler.asked = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def add_line(path: Path, text: str) -> int:
    """Append a paragraph to an item; return its line."""
    body = path.read_text(encoding="utf-8").rstrip("\n") + "\n\n"
    path.write_text(body + text + "\n", encoding="utf-8")
    return body.count("\n") + 1


def check(content: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], *extra: str) -> str:
    """Run `csto-site check` with a cache beside the output; expect success; return what it printed."""
    capsys.readouterr()
    args = cli_args("check", content, tmp_path / "public", "--cache", str(tmp_path / "cache"), *extra)
    assert cli.main(args) == 0
    printed = capsys.readouterr()
    return printed.out + printed.err


def test_dead_and_slow_links_are_warnings_at_their_lines(
    other_site: str, mini_copy: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    visit = mini_copy / VISIT
    ok = add_line(visit, f"See [the page]({other_site}/ok) and [the form]({other_site}/head-refused).")
    gone = add_line(visit, f"See [the old page]({other_site}/gone).")
    briefing = mini_copy / BRIEFING_RU
    slow = add_line(briefing, f"См. <{other_site}/slow>.")

    printed = check(mini_copy, tmp_path, capsys, "--external", "--timeout", "0.5")

    dead = f"{visit}:{gone}: warning: the link {other_site}/gone answers 404 Not Found{HINT}"
    assert dead in printed.splitlines(), printed  # the whole line, as docs/guide.md shows it
    assert f"{briefing}:{slow}: warning: the link {other_site}/slow did not answer within 0.5 s" in printed
    assert f"{visit}:{ok}:" not in printed
    assert "GET /head-refused" in Handler.asked  # a server refusing HEAD is asked with GET


def test_answers_are_kept_so_a_second_check_asks_nothing(
    other_site: str, mini_copy: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    line = add_line(mini_copy / VISIT, f"See [the old page]({other_site}/gone) and [this]({other_site}/ok).")
    first = check(mini_copy, tmp_path, capsys, "--external")
    asked = len(Handler.asked)

    second = check(mini_copy, tmp_path, capsys, "--external")

    assert len(Handler.asked) == asked == 2
    dead = f"{mini_copy / VISIT}:{line}: warning: the link {other_site}/gone answers 404 Not Found{HINT}"
    assert dead in first.splitlines(), first
    assert dead in second.splitlines(), second


def test_without_external_nothing_is_fetched(
    other_site: str, mini_copy: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    add_line(mini_copy / VISIT, f"See [the old page]({other_site}/gone).")

    assert "/gone" not in check(mini_copy, tmp_path, capsys)
    assert Handler.asked == []
