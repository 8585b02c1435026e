"""`csto-site check --external`: the links to other sites, fetched concurrently, cached, as warnings.

Other sites come and go by themselves, so a dead link there is a warning, never an error, and no
build fetches anything. Each address is asked once (HEAD, then GET where HEAD is refused), with a
time-out; the answers are kept for a day in the build cache, so checking again is quick.
"""

from __future__ import annotations

import json
import re
import socket
import time
import urllib.error
import urllib.request
from collections.abc import Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from http.client import HTTPException
from pathlib import Path

from ..util.errors import Problem

# A link to another site as a Markdown body writes it: up to a space, quote, bracket or angle bracket.
EXTERNAL = re.compile(r"https?://[^\s<>()\[\]\"'`]+")
TIMEOUT = 10.0  # seconds a site may take to answer
WORKERS = 8  # addresses asked at once: the time is spent waiting on other sites, not on the cores
KEEP = 24 * 3600  # seconds an answer is trusted before the address is asked again
CACHE_FILE = "external-links.json"
AGENT = "csto-site link check"


def external_links(lines: Iterable[tuple[str, int, str]]) -> dict[str, list[tuple[str, int]]]:
    """Return each address of another site the (file, line number, text) lines link, with where it is linked."""
    found: dict[str, list[tuple[str, int]]] = {}
    for path, number, text in lines:
        for match in EXTERNAL.finditer(text):
            found.setdefault(match.group().rstrip(".,;:!?"), []).append((path, number))
    return found


def ask(url: str, timeout: float) -> str:
    """Fetch an address; return "" when it answers, else why it does not."""
    for method in ("HEAD", "GET"):
        request = urllib.request.Request(url, method=method, headers={"User-Agent": AGENT})
        try:
            with urllib.request.urlopen(request, timeout=timeout):
                return ""
        except urllib.error.HTTPError as exc:
            if method == "HEAD" and exc.code in (403, 405, 501):
                continue  # some servers refuse HEAD only
            return f"answers {exc.code} {exc.reason}"
        except (urllib.error.URLError, HTTPException, OSError, ValueError) as exc:
            reason = getattr(exc, "reason", exc)
            if isinstance(reason, (TimeoutError, socket.timeout)):
                return f"did not answer within {timeout:g} s"
            return f"cannot be reached ({reason})"
    return "cannot be reached"


def check_external(
    links: Mapping[str, list[tuple[str, int]]], cache: Path | None, now: float, timeout: float = TIMEOUT
) -> list[Problem]:
    """Ask every address not answered in the last day, keep the answers; return a warning per dead link."""
    known = _read(cache)
    fresh = {url: entry for url, entry in known.items() if now - float(entry[0]) < KEEP}
    asked = [url for url in sorted(links) if url not in fresh]
    with ThreadPoolExecutor(max_workers=WORKERS) as pool:
        for url, reason in zip(asked, pool.map(lambda u: ask(u, timeout), asked), strict=True):
            fresh[url] = (now, reason)
    _write(cache, fresh)
    return [
        Problem(path, line, f"the link {url} {fresh[url][1]}", "check the address, or link an archived copy", True)
        for url in sorted(links)
        if fresh[url][1]
        for path, line in links[url]
    ]


def _read(cache: Path | None) -> dict[str, tuple[float, str]]:
    """Read the kept answers (none when there is no cache or it cannot be read)."""
    if cache is None:
        return {}
    try:
        data = json.loads((cache / CACHE_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(data, dict):
        return {}
    return {
        str(url): (float(entry[0]), str(entry[1]))
        for url, entry in data.items()
        if isinstance(entry, list) and len(entry) == 2 and isinstance(entry[0], (int, float))
    }


def _write(cache: Path | None, answers: Mapping[str, tuple[float, str]]) -> None:
    """Keep the answers for the next check (a cache that cannot be written is only slower next time)."""
    if cache is None:
        return
    try:
        cache.mkdir(parents=True, exist_ok=True)
        temporary = cache / f".{CACHE_FILE}.{time.monotonic_ns()}.tmp"
        temporary.write_text(json.dumps(answers, sort_keys=True), encoding="utf-8")
        temporary.replace(cache / CACHE_FILE)
    except OSError:
        return
