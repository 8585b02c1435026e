"""Run Debian's nginx with the shipped deploy/nginx.conf on a loopback port, and talk to it over HTTP.

The wrapper holds only what a user writes around the shipped file: the listen address, the root and the
two includes (the build's nginx-redirects.conf and deploy/nginx.conf), as the comment atop that file shows.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from email.message import Message
from pathlib import Path

import pytest

from helpers.site import ROOT
from helpers.tools import require_tool

SHIPPED = ROOT / "deploy" / "nginx.conf"
BROTLI_MODULE = "ngx_http_brotli_static_module.so"

WRAPPER = """\
daemon off;
{user}
worker_processes 1;
pid {work}/nginx.pid;
error_log {work}/error.log warn;
{load_brotli}
events {{ worker_connections 64; }}
http {{
    include {mime_types};
    default_type application/octet-stream;
    access_log off;
    gzip on;
    client_body_temp_path {work}/body;
    proxy_temp_path {work}/proxy;
    fastcgi_temp_path {work}/fastcgi;
    uwsgi_temp_path {work}/uwsgi;
    scgi_temp_path {work}/scgi;
    server {{
        listen 127.0.0.1:{port};
        server_name localhost;
        root {root};
        include {root}/nginx-redirects*.conf;
        include {shipped};
        {brotli_static}
    }}
}}
"""


@dataclass(frozen=True)
class Response:
    """What the server answered."""

    status: int
    headers: Message
    body: bytes

    @property
    def type(self) -> str:
        """Return the media type without its parameters."""
        return self.headers.get("Content-Type", "").split(";")[0]


class NoRedirects(urllib.request.HTTPRedirectHandler):
    """Hand redirects back to the caller instead of following them."""

    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None


@dataclass(frozen=True)
class Nginx:
    """A running nginx: its address, its command line and whether it serves .br files."""

    origin: str
    command: tuple[str, ...]
    process: subprocess.Popen[bytes]
    brotli: bool

    def get(self, path: str, **headers: str) -> Response:
        """Request a path (headers as Accept_Encoding="gzip") without following redirects."""
        request = urllib.request.Request(
            self.origin + path, headers={k.replace("_", "-"): v for k, v in headers.items()}
        )
        try:
            with urllib.request.build_opener(NoRedirects).open(request, timeout=10) as answer:
                return Response(answer.status, answer.headers, answer.read())
        except urllib.error.HTTPError as error:
            return Response(error.code, error.headers, error.read())

    @property
    def test_command(self) -> str:
        """Return the shell command that checks this nginx's configuration (`nginx -t`)."""
        return " ".join((self.command[0], "-t", "-q", *self.command[1:]))


def debian_paths(nginx: str) -> tuple[Path, Path]:
    """Return the mime.types file and the modules folder that `nginx -V` reports."""
    options = subprocess.run([nginx, "-V"], capture_output=True, text=True, check=True).stderr
    conf = re.search(r"--conf-path=(\S+)", options)
    modules = re.search(r"--modules-path=(\S+)", options)
    return (
        (Path(conf.group(1)).parent if conf else Path("/etc/nginx")) / "mime.types",
        Path(modules.group(1)) if modules else Path("/usr/lib/nginx/modules"),
    )


def free_port() -> int:
    """Return a loopback port nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_until_listening(port: int, process: subprocess.Popen[bytes], log: Path) -> None:
    """Wait until nginx accepts connections; fail with its error log if it exits instead."""
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"nginx exited with status {process.returncode}:\n{log.read_text()}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.05)
    pytest.fail(f"nginx did not listen on port {port}:\n{log.read_text()}")


@contextmanager
def running_nginx(work: Path, root: Path) -> Iterator[Nginx]:
    """Serve `root` (a built site) with nginx and the shipped config in the foreground; stop it afterwards."""
    nginx = require_tool("nginx", "the nginx tests need Debian's nginx (apt-get install nginx)")
    mime_types, modules = debian_paths(nginx)
    brotli = (modules / BROTLI_MODULE).is_file()
    port = free_port()
    config = work / "nginx.conf"
    config.write_text(
        WRAPPER.format(
            work=work,
            port=port,
            root=root,
            shipped=SHIPPED,
            mime_types=mime_types,
            # Run as root, workers would switch to `nobody`, who cannot read pytest's private folders.
            user="user root;" if os.geteuid() == 0 else "",
            load_brotli=f"load_module {modules / BROTLI_MODULE};" if brotli else "",
            brotli_static="brotli_static on;" if brotli else "",
        ),
        encoding="utf-8",
    )
    log = work / "error.log"
    command = (nginx, "-p", str(work), "-c", str(config), "-e", str(log))
    checked = subprocess.run([command[0], "-t", *command[1:]], capture_output=True, text=True)
    assert checked.returncode == 0, f"nginx -t refused the configuration:\n{checked.stderr}"
    process = subprocess.Popen(command)
    try:
        wait_until_listening(port, process, log)
        yield Nginx(f"http://127.0.0.1:{port}", command, process, brotli)
    finally:
        process.terminate()
        process.wait(timeout=10)
