"""Measure what a reader downloads for a first and a second search on a built site, in Chromium.

    python bench/search_download.py OUT [--path /search/] [--words delegation nuclear]

OUT is a built site (with its search index). It is served on 127.0.0.1 as plain files, uncompressed (nginx
would compress the scripts), and opened in a fresh Chromium profile at PATH. The reader types each word and
presses Enter; each search is counted until its results are drawn and the network is idle. The first
search counts the page, its styles and scripts too. Prints one line per search: the bytes of the response
bodies, the requests, and the part of both under /pagefind/.

Chromium is the system's (/usr/bin/chromium), driven by Playwright; nothing is downloaded.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from playwright.sync_api import Page, Response, expect, sync_playwright

# The static server the browser tests use (plain files, the site's 404 pages), rather than a second one.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from helpers.served import serve

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]


def settled(page: Page, responses: list[Response]) -> tuple[int, int, int, int]:
    """Wait for the network to rest; return bytes and requests, all and under /pagefind/, then forget them."""
    page.wait_for_load_state("networkidle")
    sizes = [(len(r.body()), "/pagefind/" in r.url) for r in responses if r.ok]
    responses.clear()
    return (
        sum(size for size, _ in sizes),
        len(sizes),
        sum(size for size, bundle in sizes if bundle),
        sum(1 for _, bundle in sizes if bundle),
    )


def measure(out: Path, path: str, words: list[str]) -> list[tuple[int, int, int, int]]:
    """Search each of `words` in turn on the served site; return what each search downloaded."""
    measured = []
    with serve(out) as origin, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_context().new_page()
        responses: list[Response] = []
        page.on("response", lambda response: responses.append(response))
        page.goto(origin + path)
        expect(page.locator("#search")).to_have_attribute("data-ready", "true", timeout=60_000)
        for word in words:
            page.fill("#search-query", word)
            page.press("#search-query", "Enter")
            expect(page.locator("#search-status")).to_contain_text(word, timeout=60_000)
            measured.append(settled(page, responses))
        browser.close()
    return measured


def main() -> None:
    """Parse the command line, measure, print a line per search."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--path", default="/search/")
    parser.add_argument("--words", nargs="+", default=["delegation", "nuclear"])
    args = parser.parse_args()
    for word, (size, requests, bundle, bundle_requests) in zip(
        args.words, measure(args.out, args.path, args.words), strict=True
    ):
        print(
            f"{word}: {size / 1000:.0f} kB in {requests} requests"
            f" (of which /pagefind/: {bundle / 1000:.0f} kB in {bundle_requests})"
        )


if __name__ == "__main__":
    main()
