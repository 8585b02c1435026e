"""Full-text search: index the item pages with Pagefind, in shards by language and time, under /pagefind/.

A shard is one Pagefind bundle, /pagefind/<lang>/<period>/: the item pages of one language tree and one
year, or (for the newest year of that language) one month, and the indexed pages that are not items in
<lang>/pages. /pagefind/shards.json lists each language's shards, newest first; the search page loads the
first as Pagefind's primary index and merges the others (Pagefind's `mergeIndex`). A shard changes only
when one of its pages does, so a build indexes again only the shards of the pages it changed.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import itertools
import json
import os
import re
import select
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

import cbor2

from ..site.model import Site
from ..site.urls import SEARCH_BUNDLE, Urls, item_month, language_of
from ..util.digest import bytes_digest, digest
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
# The list of shards the search page reads, at the root of the bundle.
SHARDS = "shards.json"
# Years before last year go to shards of this many, aligned to the calendar (2004-2006, 2007-2009, ...):
# the fewest years whose shards keep a reader's first search under 600 kB on the 10,000-item archive
# (docs/reference.md, "Search").
BLOCK_YEARS = 3
# A block holding more pages than this is cut into its years. Pagefind holds a whole index in memory,
# about 180 kB a page (12,000 pages of a three-year block of a 100,000-item archive took 2 GB, the
# 4,011 pages of one of its years 740 MB), so one of its runs stays under about 1 GB up to some
# 5,000 items a year.
SHARD_PAGES = 4000
# The bucket (and shard) of a language's indexed pages that are not items (none, with the project's templates).
UNDATED_BUCKET = "pages"
# Fields of a language's .pf_meta file (a CBOR array) that list the filter files as [name, hash] pairs.
META_FILTERS = 3


# An element whose content Pagefind indexes, and any tag with a Pagefind attribute (with the text after it).
BODY_TAG = re.compile(rb"<([a-zA-Z][a-zA-Z0-9-]*)\b[^>]*\bdata-pagefind-body\b[^>]*>")
PAGEFIND_TAG = re.compile(rb"<[^>]*\bdata-pagefind-[^>]*>[^<]*")


def index_key(data: bytes) -> str:
    """Digest what Pagefind reads of an indexed page: all of it up to its indexed elements' end, and after
    that every tag with a Pagefind attribute and the text that follows it.

    What comes after the indexed element (an item's links to its neighbours, its related news) does not
    count: a page whose only change is there keeps its key, and its shard is not indexed again for it.
    A page whose structure the key cannot follow is keyed by all its bytes.
    """
    ends = [_element_end(data, m.group(1), m.end()) for m in BODY_TAG.finditer(data)]
    if not ends or None in ends:
        return bytes_digest(data)
    end = max(e for e in ends if e is not None)
    after = b"".join(m.group(0) for m in PAGEFIND_TAG.finditer(data, end))
    return bytes_digest(data[:end] + b"\0" + after)


def _element_end(data: bytes, name: bytes, start: int) -> int | None:
    """Return where the element `name` opened just before `start` ends (after its closing tag), or None."""
    depth = 1
    for found in re.compile(rb"<(/?)" + re.escape(name) + rb"\b[^>]*>", re.IGNORECASE).finditer(data, start):
        depth += -1 if found.group(1) else 1
        if depth == 0:
            return found.end()
    return None


def indexed_pages(outputs: Iterable[Output]) -> list[Output]:
    """Pick the HTML pages Pagefind indexes: those whose content is marked `data-pagefind-body`."""
    return [o for o in outputs if o.path.endswith(".html") and MARKER in o.data]


def page_language(site: Site) -> Callable[[str], str]:
    """Return the language of an output path of `site`: the language tree its address lies in."""
    config = site.config
    urls = Urls(config.default_language, config.base_url)
    return lambda path: language_of(f"/{path}", config.languages, urls)


class Bucket(NamedTuple):
    """The indexed pages of one bucket (bucket_of) as a build keeps them: where they lie, a digest, how many."""

    folder: str  # the month's folder they all lie in (`news/2025/01/`); "" for pages that may lie anywhere
    digest: str  # of their paths and index keys (bucket_digest)
    pages: int


def bucket_digest(pages: Iterable[tuple[str, str]]) -> str:
    """Digest the pages of a bucket: each one's path and index key."""
    return digest(*(f"{path}:{key}" for path, key in sorted(pages)))


def bucket_of(path: str, language: Callable[[str], str]) -> str:
    """Name the bucket of an indexed page: `<lang>/<YYYY-MM>` for an item's page, `<lang>/pages` for another.

    Shards are unions of buckets (shard_buckets): a page's bucket never changes, its shard may.
    """
    when = item_month(path)
    return f"{language(path)}/{UNDATED_BUCKET if when is None else f'{when[0]:04d}-{when[1]:02d}'}"


def shards_of(paths: Iterable[str], language: Callable[[str], str], most: int = SHARD_PAGES) -> dict[str, list[str]]:
    """Group indexed pages into shards (shard_buckets), each shard's pages sorted."""
    buckets: dict[str, list[str]] = {}
    for path in paths:
        buckets.setdefault(bucket_of(path, language), []).append(path)
    shards = shard_buckets({name: len(pages) for name, pages in buckets.items()}, most)
    return {name: sorted(path for bucket in members for path in buckets[bucket]) for name, members in shards.items()}


def shard_buckets(pages: Mapping[str, int], most: int = SHARD_PAGES) -> dict[str, list[str]]:
    """Group buckets (bucket_of: each with its number of pages) into shards named <lang>/<period>, sorted.

    Per language: the month of its newest item alone (`2025-01`, where a new item goes), the other months of
    that year (`2025`), the year before (`2024`: a new year's first item changes the page of the last one
    before it), and each older year in its calendar block of BLOCK_YEARS (`2019-2021`, `2022-2023`), or
    alone (`2019`) when its block holds more than `most` pages. The cut is a pure function of the pages:
    the same pages give the same shards, whatever was built before, and a new item moves no page between
    the older years' blocks.
    """
    dated: dict[str, list[tuple[tuple[int, int], str]]] = {}
    found: dict[str, list[str]] = {}
    for bucket in sorted(pages):
        lang, _, period = bucket.rpartition("/")
        if period == UNDATED_BUCKET:
            found[bucket] = [bucket]
        else:
            year, month = period.split("-")
            dated.setdefault(lang, []).append(((int(year), int(month)), bucket))
    for lang, months in dated.items():
        newest = max(when for when, _ in months)
        periods: dict[str, list[tuple[tuple[int, int], str]]] = {}
        for when, bucket in months:
            periods.setdefault(_period(when, newest), []).append((when, bucket))
        for period, members in periods.items():
            years = sum(pages[bucket] for _, bucket in members) > most and _is_block(period)
            for when, bucket in members:
                found.setdefault(f"{lang}/{when[0]:04d}" if years else f"{lang}/{period}", []).append(bucket)
    return {name: found[name] for name in sorted(found)}


def _is_block(period: str) -> bool:
    """Tell whether a period names a block of years (2019-2021), not a year (2019) or a month (2019-05)."""
    return len(period) == len("2019-2021")


def _period(when: tuple[int, int], newest: tuple[int, int]) -> str:
    """Name the shard of a page of year and month `when`, in a language whose newest page is of `newest`."""
    year, month = when
    if when == newest:
        return f"{year:04d}-{month:02d}"
    if year >= newest[0] - 1:
        return f"{year:04d}"
    first = year - year % BLOCK_YEARS
    last = min(first + BLOCK_YEARS - 1, newest[0] - 2)
    return f"{first:04d}" if first == last else f"{first:04d}-{last:04d}"


def shard_list(names: Iterable[str]) -> bytes:
    """Return shards.json: each language's shards, newest first (the first is the search page's primary index)."""
    by_lang: dict[str, list[str]] = {}
    for name in names:
        lang, _, period = name.rpartition("/")
        by_lang.setdefault(lang, []).append(period)
    listing = {lang: sorted(periods, key=_newest_first, reverse=True) for lang, periods in sorted(by_lang.items())}
    return json.dumps(listing, ensure_ascii=False, separators=(",", ":")).encode()


def _newest_first(period: str) -> tuple[bool, str]:
    """Order periods for shards.json (reversed): the latest month first, the undated pages last."""
    return period != UNDATED_BUCKET, period


def index_outputs(pages: Sequence[Output], language: Callable[[str], str], jobs: int = 1) -> list[Output]:
    """Index `pages` (every indexed page of the site) with Pagefind, shard by shard; return the bundles as outputs."""
    if not pages:
        return []
    shards = shards_of((p.path for p in pages), language)
    data = {page.path: page.data for page in pages}
    with tempfile.TemporaryDirectory(prefix="csto-search-") as tmp:
        folders = {}
        for number, (name, paths) in enumerate(sorted(shards.items())):
            folder = folders[name] = Path(tmp) / str(number) / "site"
            for path in paths:
                target = folder / path
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(data[path])
        bundles = index_shards(folders, jobs)
    outputs = [Output(f"{BUNDLE}/{SHARDS}", shard_list(shards), SOURCE)]
    for name, files in sorted(bundles.items()):
        outputs += [Output(f"{BUNDLE}/{name}/{file}", data, SOURCE) for file, data in sorted(files.items())]
    return outputs


def index_shards(folders: Mapping[str, Path], jobs: int) -> dict[str, dict[str, bytes]]:
    """Index each shard's pages (laid out in its folder at their paths) with its own Pagefind, `jobs` at a time."""
    # Each Pagefind is a process of its own: threads only wait for them.
    with ThreadPoolExecutor(max_workers=max(1, min(jobs, len(folders)))) as pool:
        return dict(zip(folders, pool.map(bundle_files, folders.values()), strict=True))


def bundle_files(site: Path) -> dict[str, bytes]:
    """Index the HTML pages under `site` with Pagefind; return the bundle by path, same pages giving same bytes."""
    # Pagefind numbers the pages in the order it gets them: handed over sorted by path, not in the order a
    # walk of the folder finds them, which depends on the file system (ext4 by hash, tmpfs newest first).
    pages = sorted(path.relative_to(site).as_posix() for path in site.rglob("*.html") if path.is_file())
    return stable_bundle(runtime(run_pagefind(site, pages)))


def runtime(files: dict[str, bytes]) -> dict[str, bytes]:
    """Keep the bundle files the search page loads; leave out Pagefind's own interfaces."""
    return {
        name: data
        for name, data in files.items()
        if name in RUNTIME or name.startswith(RUNTIME_FOLDERS) or name.endswith(RUNTIME_SUFFIXES)
    }


def run_pagefind(site: Path, pages: Iterable[str]) -> dict[str, bytes]:
    """Index `pages` (paths under `site`) in this order with a Pagefind service; return the bundle by path."""
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
    # Hermetic: before it serves, Pagefind reads a pagefind.yml of its working folder (here the pages' parent,
    # which holds only them) and PAGEFIND_* variables; none reach it.
    environment = {name: value for name, value in os.environ.items() if not name.startswith("PAGEFIND_")}
    with (
        tempfile.TemporaryFile() as errors,
        subprocess.Popen(
            [str(executable), "--service"],
            bufsize=0,  # unbuffered: a Pagefind that stopped leaves no request to flush when its pipe closes
            cwd=site.parent,
            env=environment,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=errors,
        ) as process,
    ):
        try:
            service = Service(process, answers(process, time.monotonic() + PAGEFIND_SECONDS), itertools.count(1))
            index = service.ask({"type": "NewIndex", "config": None})["index_id"]
            for path in pages:
                text = (site / path).read_text(encoding="utf-8")
                service.ask({"type": "AddFile", "index_id": index, "file_path": path, "file_contents": text})
            files = service.ask({"type": "GetFiles", "index_id": index})["files"]
        except TimeoutError:
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
        except (BrokenPipeError, PagefindError) as exc:
            errors.seek(0)
            message = ": ".join(filter(None, [str(exc), errors.read().decode(errors="replace").strip()]))
            raise ContentError(
                [Problem(BUNDLE, 0, f"Pagefind failed: {message}", "build with --no-search to skip it")]
            ) from exc
        finally:
            process.kill()  # it waits for more requests, or is stuck
    return {file["path"]: base64.b64decode(file["content"]) for file in files}


class PagefindError(Exception):
    """Pagefind answered a request with an error, or stopped before it answered."""


@dataclass(frozen=True)
class Service:
    """A Pagefind running as a service (`pagefind --service`), answering one request after another."""

    process: subprocess.Popen[bytes]
    answers: Iterator[dict[str, Any]]
    ids: Iterator[int]

    def ask(self, payload: dict[str, Any]) -> dict[str, Any]:
        """Send a request, wait for its answer and return the answer's payload; PagefindError if it is an error."""
        assert self.process.stdin is not None
        number = next(self.ids)
        request = json.dumps({"message_id": number, "payload": payload}, ensure_ascii=False).encode()
        unsent = memoryview(base64.b64encode(request) + b",")
        while unsent:
            unsent = unsent[self.process.stdin.write(unsent) or 0 :]
        answer = next(self.answers)
        found: dict[str, Any] = answer["payload"]
        if found["type"] == "Error":
            raise PagefindError(found["message"])
        if answer["message_id"] != number:
            raise PagefindError(f"the answer to request {answer['message_id']} came where {number} was expected")
        return found


def answers(process: subprocess.Popen[bytes], deadline: float) -> Iterator[dict[str, Any]]:
    """Yield what a Pagefind service answers (base64 JSON, each ending in a comma); TimeoutError after `deadline`."""
    assert process.stdout is not None
    stream = process.stdout.fileno()
    pending = bytearray()
    while True:
        searched = 0
        while (end := pending.find(b",", searched)) < 0:
            searched = len(pending)
            if not select.select([stream], [], [], max(0.0, deadline - time.monotonic()))[0]:
                raise TimeoutError
            chunk = os.read(stream, 1 << 20)
            if not chunk:
                raise PagefindError(f"it stopped (exit status {process.wait()})")
            pending += chunk
        yield json.loads(base64.b64decode(pending[:end]))
        del pending[: end + 1]


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
