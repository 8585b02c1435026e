"""Screenshots of the home and an item page on a phone and a desktop, kept in tests/artifacts/ for people to see.

The tests also prove what a screenshot can: nothing is wider than the screen (no sideways scrolling), on
those pages and, at the narrowest width WCAG asks pages to reflow to (320 CSS pixels), on every page.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers.served import ServedSite
from helpers.site import NOW
from playwright.sync_api import Browser

WIDTHS = (375, 1280)
REFLOW = 320  # WCAG 1.4.10: content reflows at 320 CSS pixels without scrolling sideways


def pages(served: ServedSite) -> dict[str, str]:
    """Return {name: site path} of the pages to photograph: home and the newest item, in each language."""
    shots = {}
    for lang in served.expected.languages:
        newest = next(e for e in served.expected.published(NOW) if e.lang == lang)
        shots[f"home-{lang}"] = served.expected.prefix(lang) + "/"
        shots[f"item-{lang}"] = served.expected.url(newest)
    return shots


@pytest.mark.parametrize("width", WIDTHS)
def test_screenshots_fit_the_screen(browser: Browser, served: ServedSite, artifacts: Path, width: int):
    context = browser.new_context(viewport={"width": width, "height": 800})
    page = context.new_page()
    try:
        for name, path in pages(served).items():
            page.goto(served.url(path))
            shot = artifacts / f"{name}-{width}.png"
            page.screenshot(path=shot, full_page=True)
            assert shot.stat().st_size > 10_000, f"{shot} looks empty"
            overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
            assert overflow <= 0, f"{path} at {width} px scrolls sideways by {overflow} px"
    finally:
        context.close()


def test_every_page_reflows_at_320_pixels(browser: Browser, served: ServedSite):
    context = browser.new_context(viewport={"width": REFLOW, "height": 640})
    page = context.new_page()
    wide = {}
    try:
        for file in sorted(served.out.rglob("*.html")):
            path = "/" + file.relative_to(served.out).as_posix().removesuffix("index.html")
            page.goto(served.url(path))
            overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
            if overflow > 0:
                wide[path] = overflow
    finally:
        context.close()
    assert not wide, f"pages that scroll sideways at {REFLOW} px (by px): {wide}"
