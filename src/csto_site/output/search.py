"""Full-text search: index the item pages with Pagefind into a bundle of outputs under /pagefind/."""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import subprocess
import tempfile
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import cbor2

from ..site.urls import SEARCH_BUNDLE
from ..util.errors import ContentError, Problem
from .spec import Output

BUNDLE = SEARCH_BUNDLE.strip("/")
MARKER = b"data-pagefind-body"
ENTRY = "pagefind-entry.json"
SOURCE = "search index"
# Pagefind's binary files: gzip around this tag and a CBOR value.
TAG = b"pagefind_dcd"
# What static/search.js loads: Pagefind's search API, its worker, its WebAssembly per language and the
# index. Pagefind's ready-made interfaces (pagefind-ui.js, ...) stay out: the page draws its own.
RUNTIME = ("pagefind.js", "pagefind-worker.js", ENTRY)
RUNTIME_FOLDERS = ("index/", "fragment/", "filter/")
RUNTIME_SUFFIXES = (".pf_meta", ".pagefind")
# Pagefind indexes 10,000 items in about a minute: one that runs for an hour is stuck.
PAGEFIND_SECONDS = 3600
# Fields of a language's .pf_meta file (a CBOR array) that list the filter files as [name, hash] pairs.
META_FILTERS = 3


def indexed_pages(outputs: Iterable[Output]) -> list[Output]:
    """Pick the HTML pages Pagefind indexes: those whose content is marked `data-pagefind-body`."""
    return [o for o in outputs if o.path.endswith(".html") and MARKER in o.data]


def index_outputs(pages: Sequence[Output]) -> list[Output]:
    """Index `pages` (every indexed page of the site) with Pagefind; return its bundle as outputs."""
    if not pages:
        return []
    with tempfile.TemporaryDirectory(prefix="csto-search-") as tmp:
        site = Path(tmp)
        for page in pages:
            target = site / page.path
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(page.data)
        files = bundle_files(site)
    return [Output(f"{BUNDLE}/{name}", data, SOURCE) for name, data in sorted(files.items())]


def bundle_files(site: Path) -> dict[str, bytes]:
    """Index the HTML pages under `site` with Pagefind; return the bundle by path, same pages giving same bytes."""
    # Beside the pages, on their file system (a build lays them out beside its output, not in TMPDIR).
    with tempfile.TemporaryDirectory(prefix="csto-search-bundle-", dir=site.parent) as tmp:
        bundle = Path(tmp)
        run_pagefind(site, bundle)
        files = {path.relative_to(bundle).as_posix(): path.read_bytes() for path in bundle.rglob("*") if path.is_file()}
    return stable_bundle(runtime(files))


def runtime(files: dict[str, bytes]) -> dict[str, bytes]:
    """Keep the bundle files the search page loads; leave out Pagefind's own interfaces."""
    return {
        name: data
        for name, data in files.items()
        if name in RUNTIME or name.startswith(RUNTIME_FOLDERS) or name.endswith(RUNTIME_SUFFIXES)
    }


def run_pagefind(site: Path, bundle: Path) -> None:
    """Run the Pagefind binary shipped by the pagefind-bin package over `site`, writing `bundle`."""
    try:
        from pagefind_bin import get_executable

        executable = get_executable()
    except (ImportError, FileNotFoundError) as exc:
        raise ContentError(
            [
                Problem(
                    BUNDLE,
                    0,
                    f"the Pagefind binary is missing: {exc}",
                    "install the project again (pip install -e .) or build with --no-search",
                )
            ]
        ) from exc
    # Hermetic: no pagefind.yml from the working folder and no PAGEFIND_* variables change the index.
    environment = {name: value for name, value in os.environ.items() if not name.startswith("PAGEFIND_")}
    try:
        done = subprocess.run(
            [str(executable), "--site", str(site.resolve()), "--output-path", str(bundle.resolve()), "--silent"],
            cwd=bundle,
            env=environment,
            capture_output=True,
            text=True,
            check=False,
            timeout=PAGEFIND_SECONDS,
        )
    except subprocess.TimeoutExpired:
        raise ContentError(
            [
                Problem(
                    BUNDLE,
                    0,
                    f"Pagefind did not finish within {PAGEFIND_SECONDS // 60} minutes and was stopped",
                    "build with --no-search to skip it",
                )
            ]
        ) from None
    if done.returncode != 0:
        message = (done.stderr or done.stdout).strip() or f"exit status {done.returncode}"
        raise ContentError([Problem(BUNDLE, 0, f"Pagefind failed: {message}", "build with --no-search to skip it")])


def stable_bundle(files: dict[str, bytes]) -> dict[str, bytes]:
    """Rewrite what Pagefind writes in hash-map order (filters, their list, the languages) sorted, named by content."""
    files = dict(files)
    try:
        entry = json.loads(files.pop(ENTRY))
        languages = {}
        for lang, info in sorted(entry["languages"].items()):
            meta = unpack(files.pop(f"pagefind.{info['hash']}.pf_meta"))
            filters = []
            for name, digest in sorted(meta[META_FILTERS]):
                filter_name, values = unpack(files.pop(f"filter/{digest}.pf_filter"))
                data = pack([filter_name, sorted(values)])
                renamed = f"{lang}_{content_hash(data, 7)}"
                files[f"filter/{renamed}.pf_filter"] = data
                filters.append([name, renamed])
            meta[META_FILTERS] = filters
            data = pack(meta)
            languages[lang] = {**info, "hash": f"{lang}_{content_hash(data, 10)}"}
            files[f"pagefind.{languages[lang]['hash']}.pf_meta"] = data
    except (KeyError, IndexError, TypeError, ValueError) as exc:
        raise ContentError(
            [
                Problem(
                    BUNDLE,
                    0,
                    f"the Pagefind bundle has an unexpected layout ({exc!r})",
                    "install the pagefind-bin version pyproject.toml names",
                )
            ]
        ) from exc
    entry["languages"] = languages
    files[ENTRY] = json.dumps(entry, ensure_ascii=False, separators=(",", ":")).encode()
    return files


def unpack(data: bytes) -> Any:
    """Decode one of Pagefind's binary index files."""
    raw = gzip.decompress(data)
    if not raw.startswith(TAG):
        raise ValueError("not a Pagefind index file")
    return cbor2.loads(raw[len(TAG) :])


def pack(value: Any) -> bytes:
    """Encode a value the way Pagefind stores its binary index files, with a fixed gzip header."""
    return gzip.compress(TAG + cbor2.dumps(value), mtime=0)


def content_hash(data: bytes, length: int) -> str:
    """Name a file by its content, as Pagefind does: a short hex digest."""
    return hashlib.sha256(data).hexdigest()[:length]
