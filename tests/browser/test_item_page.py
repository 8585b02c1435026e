"""What a reader sees of the newsroom parts in Chromium: teasers cut at three lines, the emblem, the trail."""

from __future__ import annotations

import pytest
from helpers.served import ServedSite
from helpers.site import NOW
from playwright.sync_api import Page, expect

# Lines of summary a teaser shows at most (static/style.css, `.teaser .summary`).
LINES = 3


@pytest.mark.parametrize("width", [375, 1280])
def test_a_teaser_shows_at_most_three_lines_of_summary_and_keeps_the_whole_text(
    page: Page, served: ServedSite, width: int
):
    page.set_viewport_size({"width": width, "height": 800})
    page.goto(served.url("/"))
    summaries = page.locator(".teaser .summary")
    expect(summaries.first).to_be_visible()
    found = summaries.evaluate_all(
        """els => els.map(e => ({
            text: e.textContent,
            height: e.getBoundingClientRect().height,
            full: e.scrollHeight,
            line: parseFloat(getComputedStyle(e).lineHeight),
        }))"""
    )
    assert found
    for s in found:
        assert s["height"] <= LINES * s["line"] + 1, s
    if width == 375:
        # On a phone the sample's long summaries need more than three lines: the cut is real.
        assert any(s["full"] > s["height"] + 1 for s in found), found
    # The page still holds every summary whole, for screen readers and search engines.
    expected = {e.summary for e in served.expected.published(NOW) if e.lang == "en" and e.summary}
    assert {" ".join(s["text"].split()) for s in found} <= {" ".join(t.split()) for t in expected}


def test_the_emblem_loads_in_its_box_before_the_title(page: Page, served: ServedSite):
    page.goto(served.url("/"))
    emblem = page.locator(".brand img.emblem")
    expect(emblem).to_be_visible()
    box = emblem.bounding_box()
    assert box is not None and (round(box["width"]), round(box["height"])) == (48, 48)
    assert emblem.evaluate("img => img.complete && img.naturalWidth > 0"), "the emblem's file loads under the CSP"
    expect(page.locator(".brand")).to_have_text(served.expected.site_title["en"])


def test_the_trail_leads_to_the_year_of_the_section(page: Page, served: ServedSite):
    entry = next(e for e in served.expected.published(NOW) if e.lang == "ru")
    page.goto(served.url(served.expected.url(entry)))
    trail = page.get_by_role("navigation", name="Вы здесь")
    trail.get_by_role("link", name=str(entry.published.year), exact=True).click()
    expect(page).to_have_url(served.url(f"/ru/sections/{entry.section}/{entry.published.year}/"))
