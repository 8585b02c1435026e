"""Serve a built site over HTTP on 127.0.0.1, the way a static web server would, for real clients.

The browser, the feed reader and the link checker fetch pages over HTTP, so the site is built with
`base_url` set to the server's own address: every absolute link (canonical, hreflang, feeds,
sitemaps) then points back at the served copy and can be followed without leaving the machine.
"""

from __future__ import annotations

import re
import shutil
import sys
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from http import HTTPStatus
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from os import PathLike
from pathlib import Path
from types import MappingProxyType

from helpers.content import Content, read_content
from helpers.site import NOW, SAMPLE, build_into

BASE_URL_LINE = re.compile(r"^base_url:.*$", re.MULTILINE)


class StaticHandler(SimpleHTTPRequestHandler):
    """Serve files like the deployment notes ask: folders get index.html, misses get 404.html."""

    def guess_type(self, path: str | PathLike[str]) -> str:
        """Serve feeds as RSS and the other XML files (sitemaps) as plain XML."""
        if str(path).endswith("/rss.xml"):
            return "application/rss+xml"
        return "application/xml" if str(path).endswith(".xml") else super().guess_type(path)

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """Answer a missing file with the site's own 404 page of the language asked for."""
        page = self.not_found_page() if code == HTTPStatus.NOT_FOUND else None
        if page is None:
            super().send_error(code, message, explain)
            return
        body = page.read_bytes()
        self.send_response(HTTPStatus.NOT_FOUND)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def not_found_page(self) -> Path | None:
        """Return /<lang>/404.html for a path under a language folder, else /404.html."""
        root = Path(self.directory)
        first = self.path.split("?", 1)[0].lstrip("/").split("/", 1)[0]
        candidates = ([root / first / "404.html"] if first and first != ".." else []) + [root / "404.html"]
        return next((c for c in candidates if c.is_file()), None)

    protocol_version = "HTTP/1.1"
    extra_headers: Mapping[str, str] = MappingProxyType({})

    def end_headers(self) -> None:
        """Add the configured headers; tell LinkChecker it may check this host at its configured rate."""
        for name, value in self.headers_to_send().items():
            self.send_header(name, value)
        super().end_headers()

    def headers_to_send(self) -> Mapping[str, str]:
        """Return the extra headers of every response."""
        return {**self.extra_headers, "LinkChecker": "local test server"}

    def log_message(self, format: str, *args: object) -> None:
        """Keep the test output quiet."""


class Server(ThreadingHTTPServer):
    """A threaded HTTP server that lets clients hang up on kept-alive connections without a traceback."""

    def handle_error(self, request: object, client_address: tuple[str, int]) -> None:
        """Ignore a client that closed its connection; report any other error."""
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


@dataclass(frozen=True)
class ServedSite:
    """A site built for, and served at, an address on this machine."""

    origin: str
    content: Path
    out: Path
    expected: Content

    def url(self, path: str) -> str:
        """Return the served URL of a site path."""
        return self.origin + path


@contextmanager
def serve(folder: Path, headers: Mapping[str, str] = MappingProxyType({})) -> Iterator[str]:
    """Serve `folder` on a free port of 127.0.0.1 in a thread; yield its origin (http://127.0.0.1:PORT)."""
    handler = type("Handler", (StaticHandler,), {"extra_headers": MappingProxyType(dict(headers))})
    server = Server(("127.0.0.1", 0), partial(handler, directory=str(folder)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def rebased(content: Path, dest: Path, base_url: str) -> Path:
    """Copy a content folder to `dest` with `base_url` in site.yaml replaced."""
    shutil.copytree(content, dest)
    site_yaml = dest / "site.yaml"
    text, count = BASE_URL_LINE.subn(f"base_url: {base_url}", site_yaml.read_text(encoding="utf-8"))
    assert count == 1, f"{site_yaml}: expected exactly one base_url line"
    site_yaml.write_text(text, encoding="utf-8")
    return dest


@contextmanager
def served_site(
    workdir: Path, content: Path = SAMPLE, now: datetime = NOW, headers: Mapping[str, str] = MappingProxyType({})
) -> Iterator[ServedSite]:
    """Build `content` for the address it will be served at, serve it (with extra `headers`), and yield where."""
    out = workdir / "public"
    out.mkdir(parents=True)
    with serve(out, headers) as origin:
        copy = rebased(content, workdir / "content", origin)
        build_into(copy, out, now)
        yield ServedSite(origin, copy, out, read_content(copy))
