"""Precompressed copies of text outputs (page.html.gz, page.html.br) that web servers send as they are."""

from __future__ import annotations

import gzip

import brotli

from .spec import Output

COMPRESSIBLE = (".html", ".css", ".js", ".xml", ".txt", ".json", ".svg")
# Below about a kilobyte a response fits a few packets either way; the copies would only take room.
MIN_SIZE = 1024
# Measured on the sample site's pages: level 9 is under 1% smaller than zlib's default 6, and up to
# twice as slow on long pages.
GZIP_LEVEL = 6
# Measured on the sample site's pages: quality 5 is 12% smaller than gzip 6 in twice its time;
# quality 11 a further 12% smaller but about 50 times slower (docs/publishing.md), which rebuilding thousands
# of pages cannot afford.
BROTLI_QUALITY = 5


def compressed(output: Output) -> list[Output]:
    """Return the .gz and .br copies of a text output; none for small files or where a copy is no smaller."""
    if len(output.data) < MIN_SIZE or not output.path.endswith(COMPRESSIBLE):
        return []
    # mtime=0 and no file name in the header: the same bytes always give the same .gz.
    copies = {
        ".gz": gzip.compress(output.data, GZIP_LEVEL, mtime=0),
        ".br": brotli.compress(output.data, quality=BROTLI_QUALITY),
    }
    return [
        Output(output.path + suffix, data, output.source)
        for suffix, data in copies.items()
        if len(data) < len(output.data)
    ]
