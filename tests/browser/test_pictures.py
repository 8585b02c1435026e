"""Photos in Chromium: the lead photo loads in the best format, nothing shifts, the gallery works by keyboard alone."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from helpers.served import ServedSite
from playwright.sync_api import Browser, Page, Route, expect
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


# The width of the variant the browser chose (its name says it: hall.480.avif), the widest one of the srcset
# ("hall.480.jpg 480w, hall.800.jpg 800w"), and the photo's drawn width in device pixels.
SHARPNESS = """img => ({
  chosen: parseInt(img.currentSrc.match(/\\.(\\d+)\\.\\w+$/)[1]),
  widest: Math.max(...img.srcset.split(",").map(c => parseInt(c.trim().split(" ")[1]))),
  needed: Math.round(img.getBoundingClientRect().width * devicePixelRatio),
})"""


@pytest.mark.parametrize("width", [320, 390, 600, 700, 1280])
def test_the_gallery_thumbnails_are_never_drawn_larger_than_the_variant_chosen(
    browser: Browser, served: ServedSite, width
):
    # The browser picks a variant by the `sizes` it is told: too small a size there, and a phone scales up a
    # small variant into a blurred photo.
    context = browser.new_context(viewport={"width": width, "height": 800}, device_scale_factor=2)
    page = context.new_page()
    try:
        page.goto(served.url(ITEM))
        thumbnails = page.locator(".gallery-grid img")
        assert thumbnails.count() > 0
        for i in range(thumbnails.count()):
            thumbnail = thumbnails.nth(i)
            thumbnail.scroll_into_view_if_needed()
            expect(thumbnail).to_have_js_property("complete", True)
            found = thumbnail.evaluate(SHARPNESS)
            assert found["chosen"] >= min(found["needed"], found["widest"]), (width, found)
    finally:
        context.close()


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


# Each <img> of the page: its height as laid out, and whether its file has arrived.
HEIGHTS = "imgs => imgs.map(img => ({src: img.getAttribute('src'), height: img.getBoundingClientRect().height, "
HEIGHTS += "loaded: img.naturalWidth > 0}))"


# The photos of each page tested, by where they are shown: how many.
SHOWN = {
    ITEM: {".lead-photo img": 1, ".item-body picture img": 2, ".gallery-grid img": 9},
    "/": {".teaser-photo img": 2},
}


@pytest.mark.parametrize("width", [320, 1280])
@pytest.mark.parametrize("path", list(SHOWN))
def test_every_photo_has_its_height_before_its_file_arrives(browser: Browser, photo_site: ServedSite, width, path):
    # The photos' files are held back until the page is laid out: a photo without its height (width and
    # height attributes, not cancelled by the stylesheet) would be 0 pixels tall and push the text down when
    # it arrives.
    held: list[Route] = []
    released: list[bool] = []

    def hold(route: Route) -> None:
        if route.request.resource_type == "image" and not released:
            held.append(route)
        else:
            route.continue_()

    context = browser.new_context(viewport={"width": width, "height": 640})
    page = context.new_page()
    page.route("**/*", hold)
    try:
        page.goto(photo_site.url(path), wait_until="domcontentloaded")
        images = page.locator("main img")
        assert {selector: page.locator(selector).count() for selector in SHOWN[path]} == SHOWN[path]
        before = images.evaluate_all(HEIGHTS)
        assert not any(i["loaded"] for i in before), before
        released.append(True)
        for route in held:
            route.continue_()
        for i in range(images.count()):
            images.nth(i).scroll_into_view_if_needed()
            expect(images.nth(i)).to_have_js_property("complete", True)
        after = images.evaluate_all(HEIGHTS)
        assert all(i["loaded"] for i in after), after
        assert [round(i["height"]) for i in before] == [round(i["height"]) for i in after], (before, after)
        assert page.evaluate(LAYOUT_SHIFT) == 0
    finally:
        context.close()
