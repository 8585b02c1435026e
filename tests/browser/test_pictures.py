"""Photos in Chromium: the lead photo loads in the best format, nothing shifts, the gallery works by keyboard alone."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from helpers.served import ServedSite
from playwright.sync_api import Browser, Page, expect
from test_accessibility import violations

ITEM = "/news/2024/07/25/secretariat-meets-international-school-of-diplomacy/"
GALLERY_ALT = "A drawing of nine figures behind a table in a hall"
# Sum the layout shifts of the page so far (none may come from photos: each has width and height).
LAYOUT_SHIFT = """() => new Promise(resolve => {
  let total = 0;
  new PerformanceObserver(list => { for (const e of list.getEntries()) total += e.value; })
    .observe({type: "layout-shift", buffered: true});
  setTimeout(() => resolve(total), 500);
})"""


def test_the_lead_photo_loads_as_avif_and_nothing_shifts(page: Page, served: ServedSite):
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(served.url(ITEM))
    lead = page.locator(".lead-photo img")
    expect(lead).to_be_visible()
    page.wait_for_load_state("load")
    assert lead.evaluate("img => img.complete && img.naturalWidth > 0")
    assert lead.evaluate("img => img.currentSrc").endswith(".avif")
    assert page.evaluate(LAYOUT_SHIFT) == 0


def test_the_gallery_opens_the_large_photo_by_keyboard_without_javascript(browser: Browser, served: ServedSite):
    # Not the watched page: Chromium's own viewer of an opened JPEG breaks the site's CSP and asks for
    # /favicon.ico, which the watch would count as the site's faults.
    context = browser.new_context(java_script_enabled=False)
    nojs_page = context.new_page()
    nojs_page.goto(served.url(ITEM))
    link = nojs_page.get_by_role("link", name=GALLERY_ALT)
    for _ in range(60):
        nojs_page.keyboard.press("Tab")
        if link.evaluate("a => a === document.activeElement"):
            break
    else:
        pytest.fail("the gallery's link is never reached by Tab")
    with nojs_page.expect_response(served.url(ITEM + "sample-hall.1200.jpg")) as response:
        nojs_page.keyboard.press("Enter")
    assert response.value.ok and response.value.headers["content-type"] == "image/jpeg"
    context.close()


@pytest.fixture
def audit_page(browser: Browser) -> Iterator[Page]:
    """A page where axe may be injected (the site's CSP rightly forbids it)."""
    context = browser.new_context(bypass_csp=True)
    yield context.new_page()
    context.close()


@pytest.mark.parametrize("prefix", ["", "/ru"])
def test_axe_finds_no_violation_on_an_item_with_photos_and_a_document(
    audit_page: Page, served: ServedSite, axe_source: str, prefix: str
):
    for path in (ITEM, "/news/2024/07/19/statement-at-the-un-security-council/"):
        audit_page.goto(served.url(prefix + path))
        assert violations(audit_page, axe_source) == []
