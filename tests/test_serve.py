"""`csto-site serve`: a real server on a free port, real file edits, pages and build events over HTTP."""

from __future__ import annotations

import gzip
import http.client
import io
import shutil
import signal
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from helpers.site import NOW, options

from csto_site.build.options import Options
from csto_site.output import pages
from csto_site.publish.trees import Trees
from csto_site.reporter import Reporter
from csto_site.serve import server
from csto_site.serve.server import CATCH_UP_MS, RELOAD_TAG, DevServer, with_reload
from csto_site.util.errors import WorkerDied

# Generous: the watcher waits 0.3 s for more changes, then a build of the mini site takes about a second.
PATIENCE_SECONDS = 60
ITEM = "alpha/2024/2024-03-12-working-visit.md"
ITEM_URL = "/news/2024/03/12/working-visit-to-the-river-commission/"


@dataclass(frozen=True)
class Served:
    """A running dev server over a private copy of the mini fixture."""

    content: Path
    out: Path
    port: int
    log: io.StringIO

    def get(self, path: str) -> tuple[int, bytes]:
        """Send a GET with the path exactly as given (no client-side normalising)."""
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        try:
            connection.request("GET", path)
            response = connection.getresponse()
            return response.status, response.read()
        finally:
            connection.close()

    def answer(self, path: str) -> tuple[int, str | None]:
        """Send a GET; return the status and the address it redirects to, if any."""
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        try:
            connection.request("GET", path)
            response = connection.getresponse()
            response.read()
            return response.status, response.getheader("Location")
        finally:
            connection.close()


def wait_for(condition: Callable[[], bool], what: str) -> None:
    """Poll until `condition` holds; fail with `what` if it never does."""
    deadline = time.monotonic() + PATIENCE_SECONDS
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"gave up waiting for {what}")
        time.sleep(0.1)


@pytest.fixture
def served(mini_copy: Path, tmp_path: Path) -> Iterator[Served]:
    """Start `serve` on a free port, watching the copy; stop it afterwards."""
    yield from serving(options(mini_copy, tmp_path / "public", search=False))


@pytest.fixture
def previewed(mini_copy: Path, tmp_path: Path) -> Iterator[Served]:
    """Start `serve` as the command line does, recording no address; stop it afterwards."""
    yield from serving(replace(options(mini_copy, tmp_path / "public", search=False), record=False))


def serving(flags: Options) -> Iterator[Served]:
    """Start `serve` on a free port with these options; stop it afterwards."""
    log = io.StringIO()
    server = DevServer(flags, Reporter(out=log, err=log), clock=lambda: NOW)
    port = server.start(0)
    watcher = threading.Thread(target=server.watch, daemon=True)
    watcher.start()
    try:
        yield Served(flags.content, flags.out, port, log)
    finally:
        server.stop()
        watcher.join(timeout=PATIENCE_SECONDS)
        assert not watcher.is_alive(), "the watcher did not stop"


def test_pages_are_served_with_the_reload_script_the_files_do_not_have(served: Served) -> None:
    status, body = served.get("/")

    assert status == 200
    assert body.count(RELOAD_TAG) == 1
    assert body.index(RELOAD_TAG) < body.rindex(b"</body>")
    assert RELOAD_TAG not in (served.out / "index.html").read_bytes()
    status, script = served.get("/__csto/reload.js")
    assert status == 200 and b"EventSource" in script


def test_an_edit_is_rebuilt_and_announced_to_open_tabs(served: Served, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(served.content.parent)  # the project folder, as in the guide: the file shows as content/...
    events = http.client.HTTPConnection("127.0.0.1", served.port, timeout=PATIENCE_SECONDS)
    events.request("GET", "/__csto/events")
    stream = events.getresponse()
    assert stream.status == 200
    assert stream.getheader("Content-Type") == "text/event-stream"
    name, first = read_event(stream)
    assert name == "build" and first.endswith("-1")

    path = served.content / ITEM
    path.write_text(path.read_text(encoding="utf-8").replace("Working visit to", "Second visit to"), encoding="utf-8")

    assert read_event(stream) == ("build", first.removesuffix("-1") + "-2")
    status, body = served.get(ITEM_URL)  # a published item keeps its address through a title edit
    assert status == 200 and b"<h1>Second visit to the River Commission</h1>" in body
    assert f"changed content/{ITEM}" in served.log.getvalue().splitlines()  # docs/guide.md: `changed content/...md`
    events.close()


def test_a_content_error_shows_in_the_browser_and_the_server_keeps_going(served: Served) -> None:
    path = served.content / ITEM
    good = path.read_text(encoding="utf-8")
    path.write_text(good.replace("date: 2024-03-12 10:00", "date: 2024-03-32"), encoding="utf-8")

    wait_for(lambda: served.get(ITEM_URL)[0] == 500, "the error page")
    body = served.get(ITEM_URL)[1]
    assert f"{path}:3: &#x27;2024-03-32&#x27; is not a valid date".encode() in body
    assert RELOAD_TAG in body
    assert f"{path}:3: '2024-03-32' is not a valid date" in served.log.getvalue()
    assert served.get("/static/favicon.svg")[0] == 200, "files other than pages are still served"

    path.write_text(good, encoding="utf-8")
    wait_for(lambda: served.get(ITEM_URL)[0] == 200, "the page after the fix")


def test_a_worker_killed_in_a_rebuild_shows_in_the_browser_and_the_next_save_builds(
    served: Served, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = server.build
    deaths = [WorkerDied(-signal.SIGKILL)]

    def build_once_killed(*args: Any, **kwargs: Any) -> Any:
        if deaths:
            raise deaths.pop()
        return real(*args, **kwargs)

    monkeypatch.setattr(server, "build", build_once_killed)
    path = served.content / ITEM
    good = path.read_text(encoding="utf-8")
    path.write_text(good.replace("title: ", "title: Killed ", 1), encoding="utf-8")
    wait_for(lambda: served.get(ITEM_URL)[0] == 500, "the error page")
    assert b"a worker process was killed (signal 9: out of memory?)" in served.get(ITEM_URL)[1]

    path.write_text(good, encoding="utf-8")
    wait_for(lambda: served.get(ITEM_URL)[0] == 200, "the page after the next save")


def test_a_save_while_another_build_holds_the_output_waits_for_it_then_builds(served: Served) -> None:
    page = served.out / ITEM_URL.strip("/") / "index.html"
    path = served.content / ITEM
    with Trees(served.out) as other:
        other.lock()  # another build (`csto-site build`, a second serve) is writing the output folder
        path.write_text(path.read_text(encoding="utf-8") + "\nSaved while another build ran.\n", encoding="utf-8")
        wait_for(lambda: f"waiting for another build of {served.out} to finish" in served.log.getvalue(), "the wait")
        status, body = served.get(ITEM_URL)
        assert status == 200 and b"Saved while another build ran." not in body, "the last good build, not a 500"
    wait_for(lambda: "Saved while another build ran." in page.read_text(encoding="utf-8"), "the build after the wait")
    assert served.get(ITEM_URL)[0] == 200
    assert "build again" not in served.log.getvalue()
    assert served.log.getvalue().count("waiting for another build") == 1


def test_a_content_folder_replaced_whole_is_still_watched(served: Served) -> None:
    page = served.out / ITEM_URL.strip("/") / "index.html"
    path = served.content / ITEM
    path.write_text(path.read_text(encoding="utf-8") + "\nWatched.\n", encoding="utf-8")
    wait_for(lambda: "Watched." in page.read_text(encoding="utf-8"), "the watcher to be watching")
    # What a checkout of another branch, or a restore from a backup, may do: the folder itself is a new one.
    served.content.rename(served.content.with_name("content-old"))
    shutil.copytree(served.content.with_name("content-old"), served.content)
    path.write_text(path.read_text(encoding="utf-8") + "\nSaved into the folder put back.\n", encoding="utf-8")
    wait_for(lambda: "Saved into the folder put back." in page.read_text(encoding="utf-8"), "the first rebuild")

    path.write_text(path.read_text(encoding="utf-8") + "\nA later save.\n", encoding="utf-8")

    wait_for(lambda: "A later save." in page.read_text(encoding="utf-8"), "the rebuild of a later save")
    assert served.get(ITEM_URL)[0] == 200
    assert f"changed {served.content}" in served.log.getvalue().splitlines()


def test_an_editorial_warning_is_printed_by_serve_and_the_page_still_built(served: Served) -> None:
    path = served.content / ITEM
    path.write_text(
        path.read_text(encoding="utf-8").replace(
            "title: Working visit to the River Commission", "title: Рабочий визит"
        ),
        encoding="utf-8",
    )
    warning = f'{path}:2: warning: the title "Рабочий визит" is in Cyrillic letters, but this is the English file'
    wait_for(lambda: warning in served.log.getvalue(), "the warning")
    status, body = served.get(ITEM_URL)  # the published item keeps its address through the title edit
    assert status == 200 and "Рабочий визит" in body.decode()


TRAVERSALS = (
    "/../secret.txt",
    "/../../secret.txt",
    "/%2e%2e/secret.txt",
    "/%2E%2E/%2e%2e/secret.txt",
    "/static/..%2f..%2fsecret.txt",
    "/static%2F..%2F..%2Fsecret.txt",
    "/..%5csecret.txt",
    "/news/../../secret.txt",
    "/%00/secret.txt",
)


def test_nothing_outside_the_output_folder_is_served(served: Served) -> None:
    (served.out.parent / "secret.txt").write_text("the secret", encoding="utf-8")

    answers = {path: served.get(path) for path in TRAVERSALS}

    assert {path: status for path, (status, _) in answers.items() if status not in (403, 404)} == {}
    assert [path for path, (_, body) in answers.items() if b"the secret" in body] == []


def test_a_link_out_of_the_output_folder_is_refused(served: Served) -> None:
    (served.out.parent / "secret.txt").write_text("the secret", encoding="utf-8")
    (served.out / "leak.txt").symlink_to(served.out.parent / "secret.txt")

    status, body = served.get("/leak.txt")

    assert status == 403 and b"the secret" not in body


def test_a_missing_page_gets_the_site_404_of_its_language(served: Served) -> None:
    status, body = served.get("/ru/no-such-page/")

    assert status == 404
    assert body.startswith(with_reload((served.out / "ru/404.html").read_bytes())[:200])
    assert served.get("/news")[0] == 301


def first_event(port: int) -> tuple[str, str]:
    """Open the build events of a server, as a tab's reload script does, and return the first."""
    events = http.client.HTTPConnection("127.0.0.1", port, timeout=PATIENCE_SECONDS)
    try:
        events.request("GET", "/__csto/events")
        return read_event(events.getresponse())
    finally:
        events.close()


def test_a_tab_open_while_serve_restarts_is_told_to_reload(mini_copy: Path, tmp_path: Path) -> None:
    # The reload script reloads when a build event differs from the last one it saw; it keeps the last one
    # while serve is stopped. Counting builds alone, serve's first build after a restart looked like the last one.
    out = tmp_path / "public"
    log = io.StringIO()
    seen = []
    for _ in range(2):
        server = DevServer(options(mini_copy, out, search=False), Reporter(out=log, err=log), clock=lambda: NOW)
        try:
            seen.append(first_event(server.start(0)))
        finally:
            server.stop()

    assert [name for name, _ in seen] == ["build", "build"]
    assert seen[0] != seen[1]


def read_event(stream: http.client.HTTPResponse) -> tuple[str, str]:
    """Read server-sent events until one with a name arrives; return (name, data)."""
    name = data = ""
    while True:
        line = stream.readline().decode().rstrip("\n")
        if line.startswith("event: "):
            name = line.removeprefix("event: ")
        elif line.startswith("data: "):
            data = line.removeprefix("data: ")
        elif not line and name:
            return name, data


def test_serve_keeps_what_it_read_of_the_build_cache_between_its_builds(mini_copy: Path, tmp_path: Path) -> None:
    out = tmp_path / "public"
    log = io.StringIO()
    server = DevServer(options(mini_copy, out, search=False), Reporter(out=log, err=log), clock=lambda: NOW)
    assert server.rebuild().problems == ()
    kept = server.memo.folders[str(mini_copy)]
    assert set(kept) == {"alpha/2023", "alpha/2024", "beta/2024"}
    item = mini_copy / ITEM
    item.write_text(item.read_text(encoding="utf-8") + "\nA paragraph added while serving.\n", encoding="utf-8")
    assert server.rebuild().problems == ()
    # The memo follows what the build wrote: the edited file's new parse.
    assert server.memo.folders[str(mini_copy)]["alpha/2024"].entries[ITEM].size == item.stat().st_size
    assert "A paragraph added while serving." in (out / ITEM_URL.strip("/") / "index.html").read_text(encoding="utf-8")


def test_a_file_saved_while_the_first_build_runs_is_built_once_watching_starts(mini_copy: Path, tmp_path: Path) -> None:
    out = tmp_path / "public"
    log = io.StringIO()
    server = DevServer(options(mini_copy, out, search=False), Reporter(out=log, err=log), clock=lambda: NOW)
    server.start(0)
    # Saved after the first build read the content, before the watcher runs: no watcher ever sees it.
    item = mini_copy / ITEM
    item.write_text(item.read_text(encoding="utf-8") + "\nSaved during the first build.\n", encoding="utf-8")
    watcher = threading.Thread(target=server.watch, daemon=True)
    watcher.start()
    try:
        page = out / ITEM_URL.strip("/") / "index.html"
        wait_for(lambda: "Saved during the first build." in page.read_text(encoding="utf-8"), "the rebuild")
    finally:
        server.stop()
        watcher.join(timeout=PATIENCE_SECONDS)
    assert log.getvalue().count("built ") == 2, log.getvalue()


def test_a_saved_edit_is_findable_in_the_preview_search(mini_copy: Path, tmp_path: Path) -> None:
    log = io.StringIO()
    out = tmp_path / "public"
    server = DevServer(options(mini_copy, out), Reporter(out=log, err=log), clock=lambda: NOW)
    port = server.start(0)
    watcher = threading.Thread(target=server.watch, daemon=True)
    watcher.start()
    try:
        site = Served(mini_copy, out, port, log)
        events = http.client.HTTPConnection("127.0.0.1", port, timeout=PATIENCE_SECONDS)
        events.request("GET", "/__csto/events")
        stream = events.getresponse()
        first = read_event(stream)
        shard = "/pagefind/en/2024/"  # the month of ITEM, not the newest: with the other months of 2024
        status, listing = site.get("/pagefind/shards.json")
        assert status == 200 and b'"2024"' in listing
        before = site.get(shard + "pagefind-entry.json")[1]
        path = mini_copy / ITEM
        path.write_text(path.read_text(encoding="utf-8") + "\nA zanzibarite delegation arrived.\n", encoding="utf-8")
        assert read_event(stream) != first
        events.close()
        # The shard of the edited item was indexed again, and serves the new word's page.
        assert site.get(shard + "pagefind-entry.json")[1] != before
        fragments = [p for p in (out / shard.strip("/") / "fragment").iterdir()]
        assert any(b"zanzibarite" in gzip.decompress(site.get(f"{shard}fragment/{p.name}")[1]) for p in fragments)
    finally:
        server.stop()
        watcher.join(timeout=PATIENCE_SECONDS)


def test_a_scheduled_item_is_built_when_its_time_comes_without_a_save(mini_copy: Path, tmp_path: Path) -> None:
    clock = [NOW]
    out = tmp_path / "public"
    log = io.StringIO()
    server = DevServer(options(mini_copy, out, search=False), Reporter(out=log, err=log), clock=lambda: clock[0])
    site = Served(mini_copy, out, server.start(0), log)
    watcher = threading.Thread(target=server.watch, daemon=True)
    watcher.start()
    try:
        (mini_copy / "alpha/2026").mkdir()
        (mini_copy / "alpha/2026/2026-11-29-scheduled-soon.md").write_text(
            "---\ntitle: Scheduled soon\ndate: 2026-11-29 12:30\n---\nIts time comes half an hour after NOW.\n",
            encoding="utf-8",
        )
        wait_for(lambda: "1 held back, next due 2026-11-29 12:30 MSK" in log.getvalue(), "the item held back")
        assert site.get("/news/2026/11/29/scheduled-soon/")[0] == 404
        clock[0] = NOW + timedelta(minutes=31)  # no file changes: only the clock moves on

        wait_for(lambda: site.get("/news/2026/11/29/scheduled-soon/")[0] == 200, "the item to appear")
    finally:
        server.stop()
        watcher.join(timeout=PATIENCE_SECONDS)
    assert "due 2026-11-29 12:30 MSK: building the items held back until then" in log.getvalue().splitlines()
    assert "0 held back" in log.getvalue().splitlines()[-1]


def test_clean_redraws_every_page_on_the_first_build_only(
    mini_copy: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    drawn: list[str] = []
    draw = pages._Pages.draw
    monkeypatch.setattr(pages._Pages, "draw", lambda self, q, spec: drawn.append(spec.url) or draw(self, q, spec))
    out = tmp_path / "public"
    log = io.StringIO()
    flags = options(mini_copy, out, search=False, clean=True)
    server = DevServer(replace(flags, jobs=1), Reporter(out=log, err=log), clock=lambda: NOW)  # drawn in this process
    assert server.rebuild().problems == ()
    every = len(drawn)
    drawn.clear()
    item = mini_copy / ITEM
    item.write_text(item.read_text(encoding="utf-8") + "\nA paragraph added while serving.\n", encoding="utf-8")

    assert server.rebuild().problems == ()

    assert ITEM_URL in drawn
    assert len(drawn) < every / 4, f"a save redrew {len(drawn)} of {every} pages"


def changed_lines(log: io.StringIO) -> list[str]:
    """Return the `changed` lines serve printed."""
    return [line for line in log.getvalue().splitlines() if line.startswith("changed ")]


def test_a_new_item_in_a_new_folder_is_named_not_its_folder(served: Served, monkeypatch: pytest.MonkeyPatch) -> None:
    # It printed `changed content/alpha/2025 and 1 more`: the folder `new` made, not the item.
    monkeypatch.chdir(served.content.parent)
    text = (served.content / ITEM).read_text(encoding="utf-8")
    new = served.content / "alpha/2025/2025-01-02-a-new-item.md"
    new.parent.mkdir()
    new.write_text(text.replace("Working visit", "A new item").replace("2024-03-12", "2025-01-02"), encoding="utf-8")

    wait_for(lambda: served.get("/news/2025/01/02/a-new-item-to-the-river-commission/")[0] == 200, "the new item")
    assert changed_lines(served.log) == ["changed content/alpha/2025/2025-01-02-a-new-item.md"]


def test_files_editors_write_beside_an_item_neither_rebuild_nor_are_named(
    served: Served, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Emacs's auto-save `#x#` and Vim's test file `4913` rebuilt the site, and were named instead of the item.
    monkeypatch.chdir(served.content.parent)
    path = served.content / ITEM
    time.sleep(CATCH_UP_MS / 1000 + 0.5)  # the watcher watches: it has looked for files saved during the first build
    before = served.log.getvalue()
    for name in (f"#{path.name}#", f".#{path.name}", f"{path.name}~", f".{path.name}.swp", "4913"):
        (path.parent / name).write_text("an editor's file", encoding="utf-8")
    time.sleep(1.5)  # more than the watcher waits for more changes: they would have been built by now
    assert served.log.getvalue() == before

    path.write_text(path.read_text(encoding="utf-8").replace("Working visit to", "Second visit to"), encoding="utf-8")

    wait_for(lambda: b"Second visit to" in served.get(ITEM_URL)[1], "the rebuild")
    assert changed_lines(served.log) == [f"changed content/{ITEM}"]


def test_a_tab_on_a_new_item_follows_it_when_its_title_and_so_its_address_changes(previewed: Served) -> None:
    # A new item's address follows its title on every save: the tab reloaded onto "Page not found".
    text = (previewed.content / ITEM).read_text(encoding="utf-8")
    new = previewed.content / "alpha/2024/2024-06-01-new.md"
    new.write_text(text.replace("Working visit to", "Draft visit to").replace("2024-03-12", "2024-06-01"), "utf-8")
    first = "/news/2024/06/01/draft-visit-to-the-river-commission/"
    wait_for(lambda: previewed.get(first)[0] == 200, "the new item")

    new.write_text(new.read_text(encoding="utf-8").replace("Draft visit to", "Final visit to"), encoding="utf-8")
    final = "/news/2024/06/01/final-visit-to-the-river-commission/"
    wait_for(lambda: previewed.get(final)[0] == 200, "the item at its new address")

    assert previewed.answer(first) == (307, final)
    assert previewed.answer(ITEM_URL) == (200, None)  # a page that did not move is previewed as it is
    new.write_text(new.read_text(encoding="utf-8").replace("Final visit to", "Draft visit to"), encoding="utf-8")
    wait_for(lambda: previewed.get(first)[0] == 200, "the item back at its first address")
    assert previewed.answer(final) == (307, first)
