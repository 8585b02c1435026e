"""`csto-site serve`: build, serve the output on 127.0.0.1, rebuild on change, reload open tabs.

The server keeps no site model: every rebuild is the same `builder.build` the command line runs,
and pages are read from the output folder at each request. It hands each build the same memo of
the build cache, so that what the last build read or wrote there is not read from the file again.
It only remembers how the last build went (to show its problems in the browser), the item pages its
builds moved (a new item's address follows its title: the old one redirects, so an open tab follows) and counts builds,
so open tabs know when to reload: the count, after a mark of this run of serve, since a tab left open
while serve restarts must reload too.
The reload script is added to HTML responses on their way out; built files never contain it.
"""

from __future__ import annotations

import html
import mimetypes
import re
import secrets
import sqlite3
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from functools import partial
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import MappingProxyType
from typing import Any
from urllib.parse import quote, unquote, urlsplit
from zoneinfo import ZoneInfo

from watchfiles import Change, DefaultFilter, watch

from ..build.cache import Memo
from ..build.inputs import read_inputs
from ..build.options import Options, Report
from ..publish.run import build
from ..publish.trees import OutputBusy, held_by_another, stopped_by
from ..reporter import Reporter
from ..site.urls import FEED_NAME, FOLDER_INDEX
from ..util.errors import ContentError, Problem, WorkerDied
from ..util.stopping import StopReported

HOST = "127.0.0.1"
PREFIX = "/__csto/"
RELOAD_SCRIPT_URL = PREFIX + "reload.js"
EVENTS_URL = PREFIX + "events"
RELOAD_TAG = f'<script src="{RELOAD_SCRIPT_URL}"></script>'.encode()
RELOAD_SCRIPT = f"""// csto-site serve: reload this tab when the site has been rebuilt.
(function () {{
  var seen = null;
  var events = new EventSource("{EVENTS_URL}");
  events.addEventListener("build", function (event) {{
    if (seen !== null && event.data !== seen) {{
      window.location.reload();
    }}
    seen = event.data;
  }});
}})();
""".encode()
BODY_END = re.compile(rb"</body\s*>", re.IGNORECASE)
# Encoded slashes, backslashes and NUL bytes have no place in a site path; refuse them outright.
FORBIDDEN = re.compile(r"%2f|%5c|%00|\\", re.IGNORECASE)
# Characters a Location header keeps as they are: those of a path (RFC 3986); every other is percent-encoded.
LOCATION_SAFE = "/!$&'()*+,;=:@-._~"
# How long an events connection waits for a build before it sends a keep-alive comment.
HEARTBEAT_SECONDS = 15.0
# How long the watcher waits for more changes after the first before it rebuilds.
DEBOUNCE_MS = 300
# How long the serving thread gets to end once told to (it checks every half second).
STOP_SECONDS = 5.0
# How soon after the watcher starts it looks for files saved during the first build.
CATCH_UP_MS = 1000
# How often a rebuild looks whether another build (a `build`, a second `serve`) has let go of the output folder.
LOCK_POLL_SECONDS = 0.2
# Files editors write beside the one being edited, which no build reads: besides those watchfiles ignores
# already (Vim's `.x.swp` and `x~`, Emacs's lock `.#x`), Emacs's auto-save `#x#` and the file Vim makes
# and deletes to test that a folder is writable, `4913`.
EDITOR_FILES = (*DefaultFilter.ignore_entity_patterns, r"^#.*#$", r"^4913$")


@dataclass(frozen=True)
class Status:
    """How the latest build went: its number and, when it failed, its problems; every page address moved so far."""

    generation: int
    problems: tuple[Problem, ...] = ()
    moved: Mapping[str, str] = field(default_factory=dict)  # an address moved by a build of this run -> its page's


class BuildStatus:
    """The latest build's status, shared by the watcher and the request threads."""

    def __init__(self) -> None:
        self._status = Status(0)
        self._changed = threading.Condition()
        self._closed = False
        self.session = secrets.token_hex(4)  # the builds of another run of serve are told apart by this

    def token(self, status: Status) -> str:
        """Return what tells a build apart from every other, of this run of serve or another."""
        return f"{self.session}-{status.generation}"

    @property
    def current(self) -> Status:
        """Return the latest status."""
        with self._changed:
            return self._status

    def publish(self, problems: tuple[Problem, ...], moved: tuple[tuple[str, str], ...] = ()) -> Status:
        """Record a finished build and the addresses it moved, and wake every open events connection."""
        with self._changed:
            now = dict(self._status.moved)
            for old, new in moved:
                # An address moved before now leads to the newest one; an address back in use leads nowhere.
                now = {first: new if then == old else then for first, then in now.items()}
                now[old] = new
                now.pop(new, None)
            self._status = Status(self._status.generation + 1, problems, MappingProxyType(now))
            self._changed.notify_all()
            return self._status

    def wait_after(self, generation: int, timeout: float) -> Status | None:
        """Wait for a build newer than `generation`; return None when closing."""
        with self._changed:
            self._changed.wait_for(lambda: self._closed or self._status.generation != generation, timeout)
            return None if self._closed else self._status

    def close(self) -> None:
        """Release every waiting events connection."""
        with self._changed:
            self._closed = True
            self._changed.notify_all()


class DevServer:
    """Build the site, serve its output folder and rebuild it when the sources change."""

    def __init__(
        self,
        options: Options,
        reporter: Reporter,
        clock: Callable[[], datetime] = lambda: datetime.now(ZoneInfo("UTC")),
    ) -> None:
        self.options = options
        self.reporter = reporter
        self.clock = clock
        self.status = BuildStatus()
        self.stopping = threading.Event()
        self.memo = Memo()
        self.httpd: ThreadingHTTPServer | None = None
        self.thread: threading.Thread | None = None
        self.first: str | None = None  # the digest of what the first build read
        self.next_due: datetime | None = None  # when the next held-back item falls due, as the last build said
        self.building = False  # a build is running
        self.previewed = False  # a build of serve's finished: the output folder holds it

    def start(self, port: int) -> int:
        """Take the port, build once, then serve on 127.0.0.1 in a background thread; return the port."""
        # The port first: one in use is said at once, not after a build of the whole site.
        self.httpd = ThreadingHTTPServer((HOST, port), partial(Handler, root=self.options.out, status=self.status))
        self.httpd.daemon_threads = True
        self.first = read_inputs(self.options).digest
        self.rebuild()
        self.thread = threading.Thread(target=self.httpd.serve_forever, name="csto-serve", daemon=True)
        self.thread.start()
        return int(self.httpd.server_address[1])

    def rebuild(self) -> Status:
        """Run the build the command line runs; report it in the terminal and to open tabs."""
        self.building = True  # left set by a stop that ends the build half-way: serve says so
        try:
            report = self.build_when_free()
        except ContentError as exc:
            return self.failed(exc.problems)
        except (OSError, sqlite3.OperationalError) as exc:  # a full disk: said like a content problem, and retried
            return self.failed((stopped_by(exc, self.options.out, self.options.cache),))
        except WorkerDied as exc:  # a worker killed (out of memory): said in the browser, and the next save retries
            return self.failed((exc.problem(str(self.options.out)),))
        self.building = False
        if report is None:  # stopped while waiting: the browser keeps the last build
            return self.status.current
        self.previewed = True
        self.next_due = report.next_due
        self.reporter.problems(report.warnings)  # the editorial warnings, as build prints them
        self.reporter.built(report, str(self.options.out))
        # --clean is for the first build: a save after it redraws only what it changed.
        self.options = replace(self.options, clean=False)
        return self.status.publish((), report.moved)

    def failed(self, problems: tuple[Problem, ...]) -> Status:
        """Report a build that stopped at problems, in the terminal and to open tabs."""
        self.building = False
        self.next_due = None  # not known: the build that fixes the problem says it again
        self.reporter.problems(problems)
        return self.status.publish(problems)

    def build_when_free(self) -> Report | None:
        """Build; while another build holds the output folder, wait for it (said once), then build; None if stopped."""
        said = False
        while True:
            try:
                return build(self.options, self.clock(), memo=self.memo)
            except OutputBusy:
                if not said:
                    self.reporter.waiting(str(self.options.out))
                    said = True
            while held_by_another(self.options.out):
                if self.stopping.wait(LOCK_POLL_SECONDS):
                    return None

    def watch(self) -> None:
        """Rebuild when content/, templates/ or static/ change or a held-back item falls due; follow folders by name."""
        folders = (self.options.content, self.options.templates, self.options.static)
        caught_up = self.first is None
        replaced = False
        read = DefaultFilter(ignore_entity_patterns=EDITOR_FILES)
        while (watched := self.wait_for_folders(folders)) is not None:
            for changes in watch(
                *folders,
                watch_filter=read,
                stop_event=self.stopping,
                debounce=DEBOUNCE_MS,
                rust_timeout=CATCH_UP_MS,
                yield_on_timeout=True,
            ):
                moved = [folder for folder in folders if identity(folder) != watched[folder]]
                if moved:
                    # Moved away and put back (a restore, a copy): the watch follows the old folder; watch anew.
                    self.reporter.changed([str(folder) for folder in moved])
                    replaced = True
                    break
                if not changes:
                    # Watching now: a file saved before (while the first build ran, or while a folder was being
                    # put back) was not seen, and is built now.
                    if replaced or (not caught_up and read_inputs(self.options).digest != self.first):
                        self.rebuild()
                    elif self.next_due is not None and self.clock() >= self.next_due:
                        self.reporter.due(self.next_due)  # a scheduled item's time has come: nothing else builds it
                        self.rebuild()
                    caught_up, replaced = True, False
                    continue
                caught_up, replaced = True, False
                self.reporter.changed(files_first({path for _, path in changes}, read))
                self.rebuild()

    def wait_for_folders(self, folders: tuple[Path, ...]) -> dict[Path, tuple[int, int] | None] | None:
        """Wait until every watched folder is there; return what each one is, or None once stopped."""
        while not self.stopping.is_set():
            found = {folder: identity(folder) for folder in folders}
            if None not in found.values():
                return found
            self.stopping.wait(CATCH_UP_MS / 1000)
        return None

    def held(self) -> str:
        """Say what the output folder holds: a build stopped half-way leaves it as the last finished build left it."""
        out = self.options.out
        return f"{out} holds the last preview build" if self.previewed else f"{out} was left as it was"

    def stop(self) -> None:
        """Stop watching and serving, and close the events connections."""
        self.stopping.set()
        self.status.close()
        if self.httpd is not None:
            self.httpd.shutdown()
            self.httpd.server_close()
        if self.thread is not None:
            self.thread.join(STOP_SECONDS)


def serve(options: Options, port: int, reporter: Reporter) -> int:
    """Run `csto-site serve` until Ctrl+C; return the exit status."""
    server = DevServer(options, reporter)
    try:
        try:
            port = server.start(port)
        except OSError as exc:
            reporter.usage("serve", f"cannot listen on {HOST}:{port}: {exc.strerror}; try another --port")
            return 2
        reporter.serving(f"http://{HOST}:{port}/")
        server.watch()  # until Ctrl+C (or SIGTERM, SIGHUP): the way serve stops
    except KeyboardInterrupt:
        reporter.stopped_serving(server.held(), server.building)
        raise StopReported from None  # the command line gives the exit status of the signal
    finally:
        server.stop()
    return 0


class Handler(BaseHTTPRequestHandler):
    """Answer GET and HEAD from the output folder, plus the reload script and the build events."""

    server_version = "csto-site"

    def __init__(self, *args: Any, root: Path, status: BuildStatus, **kwargs: Any) -> None:
        self.root = root
        self.status = status
        super().__init__(*args, **kwargs)

    def do_GET(self) -> None:
        """Answer a GET request."""
        self.answer(head=False)

    def do_HEAD(self) -> None:
        """Answer a HEAD request."""
        self.answer(head=True)

    def log_message(self, format: str, *args: object) -> None:
        """Keep the terminal for build reports, not one line per request."""

    def answer(self, head: bool) -> None:
        """Route a request: the dev-server endpoints, else a file of the site."""
        raw = urlsplit(self.path).path
        if raw == RELOAD_SCRIPT_URL:
            self.send(HTTPStatus.OK, "text/javascript; charset=utf-8", RELOAD_SCRIPT, head)
        elif raw == EVENTS_URL:
            self.stream_events()
        elif FORBIDDEN.search(raw) or ".." in unquote(raw).split("/"):
            self.send(HTTPStatus.FORBIDDEN, "text/plain; charset=utf-8", b"403 forbidden\n", head)
        else:
            self.send_site_file(unquote(raw), head)

    def send_site_file(self, path: str, head: bool) -> None:
        """Send a file of the output folder; folders get their index.html, misses the site's 404 page."""
        status = self.status.current
        root = self.root.resolve()
        target = (root / path.lstrip("/")).resolve()
        if not target.is_relative_to(root):
            self.send(HTTPStatus.FORBIDDEN, "text/plain; charset=utf-8", b"403 forbidden\n", head)
            return
        if target.is_dir():
            if not path.endswith("/"):
                self.redirect(path + "/")
                return
            target = target / FOLDER_INDEX
        is_page = target.suffix == ".html" or not target.suffix
        if status.problems and is_page:
            self.send(HTTPStatus.INTERNAL_SERVER_ERROR, "text/html; charset=utf-8", error_page(status), head)
        elif target.is_file():
            self.send(HTTPStatus.OK, content_type(target), self.page_bytes(target), head)
        elif path in status.moved:  # a tab on a page whose address a rebuild moved follows it
            self.redirect(status.moved[path], HTTPStatus.TEMPORARY_REDIRECT)
        else:
            self.send(HTTPStatus.NOT_FOUND, "text/html; charset=utf-8", self.not_found(root, path), head)

    def page_bytes(self, target: Path) -> bytes:
        """Read a file; an HTML page gets the reload script before </body>."""
        data = target.read_bytes()
        return with_reload(data) if target.suffix == ".html" else data

    def not_found(self, root: Path, path: str) -> bytes:
        """Return the site's 404 page of the language asked for (or a plain one before the first build)."""
        first = path.lstrip("/").split("/", 1)[0]
        for page in ([root / first / "404.html"] if first else []) + [root / "404.html"]:
            if page.is_file():
                return with_reload(page.read_bytes())
        return with_reload(b"<!DOCTYPE html><title>Not found</title><p>Not found.</p></body>")

    def stream_events(self) -> None:
        """Send a `build` event now and after every build, until the tab or the server goes away."""
        self.send_response(HTTPStatus.OK)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        generation = -1
        try:
            self.wfile.write(b"retry: 1000\n\n")
            while (status := self.status.wait_after(generation, HEARTBEAT_SECONDS)) is not None:
                if status.generation == generation:
                    self.wfile.write(b": still here\n\n")  # a comment: finds out whether the tab is gone
                else:
                    generation = status.generation
                    self.wfile.write(f"event: build\ndata: {self.status.token(status)}\n\n".encode())
                self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):
            return

    def redirect(self, location: str, code: HTTPStatus = HTTPStatus.MOVED_PERMANENTLY) -> None:
        """Send a folder address without its slash to the address with it, or a moved page to its new address."""
        self.send_response(code)
        # The path may come from the request (and name a folder): percent-encoded, no character of it can
        # end the header or start another.
        self.send_header("Location", quote(location, safe=LOCATION_SAFE))
        self.send_header("Cache-Control", "no-store")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def send(self, code: HTTPStatus, kind: str, body: bytes, head: bool) -> None:
        """Send a complete response that no browser caches."""
        self.send_response(code)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        if not head:
            self.wfile.write(body)


def identity(folder: Path) -> tuple[int, int] | None:
    """Return the device and inode of a folder (which stay while it is edited, not when it is replaced), or None."""
    try:
        found = folder.stat()
    except OSError:
        return None
    return found.st_dev, found.st_ino


def files_first(paths: set[str], read: DefaultFilter) -> list[str]:
    """Order changed paths to name the right one first: files that are there, then deleted ones.

    A new folder (`new` may make a year's) stands for the files in it that `read` keeps: the watcher may
    not see a file made in a folder it did not watch yet. A save may delete a temporary file.
    """
    found = {
        str(file)
        for path in paths
        for file in (Path(path).rglob("*") if Path(path).is_dir() else [Path(path)])
        if not file.is_dir() and read(Change.added, str(file))
    }
    return sorted(found or paths, key=lambda p: (not Path(p).exists(), p))


def with_reload(page: bytes) -> bytes:
    """Add the reload script to an HTML page, before its last </body> (or at its end)."""
    ends = list(BODY_END.finditer(page))
    if not ends:
        return page + RELOAD_TAG
    at = ends[-1].start()
    return page[:at] + RELOAD_TAG + b"\n" + page[at:]


def content_type(path: Path) -> str:
    """Return the Content-Type of a file of the site."""
    if path.name == FEED_NAME:
        return "application/rss+xml; charset=utf-8"
    kind = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    return f"{kind}; charset=utf-8" if kind.startswith("text/") or kind.endswith(("xml", "javascript")) else kind


def error_page(status: Status) -> bytes:
    """Draw the problems of a failed build as a page, so the browser shows what the terminal shows."""
    items = "\n".join(f"<li><code>{html.escape(str(p))}</code></li>" for p in status.problems)
    count = len(status.problems)
    return with_reload(
        f"""<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><title>Build failed: {count} problem{"s" * (count != 1)}</title>
<style>body{{font:16px/1.5 system-ui,sans-serif;margin:2rem;max-width:60rem}}code{{white-space:pre-wrap}}
li{{margin:.5rem 0}}h1{{color:#a00}}</style></head>
<body>
<h1>The site could not be built</h1>
<p>Fix these problems and save; this page reloads by itself. The output folder still holds the last good build.</p>
<ol>
{items}
</ol>
</body>
</html>
""".encode()
    )
