"""A reader's ways through the sample site in Chromium: clicks, not URLs typed in, with and without JavaScript."""

from __future__ import annotations

from urllib.parse import urljoin

import pytest
import yaml
from helpers.content import Entry
from helpers.served import ServedSite
from helpers.site import NOW, ROOT
from playwright.sync_api import Page, expect

LABELS = yaml.safe_load((ROOT / "templates" / "labels.yaml").read_text(encoding="utf-8"))
MONTHS = {lang: labels["months"] for lang, labels in LABELS.items()}


def section_items(served: ServedSite, section: str, lang: str = "en") -> list[Entry]:
    """Return a section's items in one language, newest first."""
    return served.expected.listing(NOW, lang, "sections", section)


def subject(served: ServedSite, lang: str = "en") -> Entry:
    """Return the item most tests walk to: one with a newer and an older neighbour, officials and organizations."""
    for section in sorted(served.expected.sections):
        items = section_items(served, section, lang)
        for entry in items[1:-1]:
            if entry.officials and entry.organizations:
                return entry
    raise AssertionError("the sample site needs a section with three items, the middle one tagged")


def at(served: ServedSite, path: str) -> str:
    """Return the served URL of a site path."""
    return served.url(path)


def month_name(entry: Entry) -> str:
    """Return the archive's name for the month of an item: July 2024."""
    return f"{MONTHS[entry.lang][entry.published.month - 1]} {entry.published.year}"


def open_item_from(page: Page, entry: Entry) -> None:
    """Click the item's headline on the current listing page."""
    page.get_by_role("link", name=entry.title, exact=True).first.click()


def test_home_section_year_month_item(page: Page, served: ServedSite):
    entry = subject(served)
    section = served.expected.sections[entry.section]["en"]
    page.goto(at(served, "/"))
    page.get_by_role("region", name=LABELS["en"]["sections"]).get_by_role("link", name=section, exact=True).click()
    expect(page).to_have_url(at(served, f"/sections/{entry.section}/"))
    expect(page.locator("h1")).to_have_text(section)
    page.get_by_role("link", name=str(entry.published.year), exact=True).click()
    expect(page).to_have_url(at(served, f"/sections/{entry.section}/{entry.published:%Y}/"))
    page.get_by_role("link", name=month_name(entry), exact=True).click()
    expect(page).to_have_url(at(served, f"/sections/{entry.section}/{entry.published:%Y/%m}/"))
    open_item_from(page, entry)
    expect(page).to_have_url(at(served, served.expected.url(entry)))
    expect(page.locator("h1")).to_have_text(entry.title)


def test_home_all_news_year_month_item(page: Page, served: ServedSite):
    entry = subject(served)
    page.goto(at(served, "/"))
    page.get_by_role("main").get_by_role("link", name=LABELS["en"]["all_news"], exact=True).click()
    expect(page).to_have_url(at(served, "/news/"))
    page.get_by_role("link", name=str(entry.published.year), exact=True).click()
    expect(page).to_have_url(at(served, f"/news/{entry.published:%Y}/"))
    page.get_by_role("link", name=month_name(entry), exact=True).click()
    expect(page).to_have_url(at(served, f"/news/{entry.published:%Y/%m}/"))
    open_item_from(page, entry)
    expect(page).to_have_url(at(served, served.expected.url(entry)))


@pytest.mark.parametrize("lang", ["en", "ru"])
def test_back_to_the_section_and_to_all_news(page: Page, served: ServedSite, lang: str):
    entry = subject(served, lang)
    prefix = served.expected.prefix(lang)
    section = served.expected.sections[entry.section][lang]
    item = at(served, served.expected.url(entry))
    page.goto(item)
    page.get_by_role("link", name=f"{LABELS[lang]['back_to_section']} {section}", exact=True).click()
    expect(page).to_have_url(at(served, f"{prefix}/sections/{entry.section}/"))
    page.goto(item)
    page.get_by_role("link", name=LABELS[lang]["back_to_news"], exact=True).click()
    expect(page).to_have_url(at(served, f"{prefix}/news/"))


def go_back(page: Page, lang: str = "en") -> None:
    """Click the item page's "Go back" link."""
    page.get_by_role("link", name=LABELS[lang]["go_back"], exact=True).click()


@pytest.mark.parametrize("start", ["home", "month", "section month", "official", "organization"])
def test_go_back_returns_to_the_page_the_reader_came_from(page: Page, served: ServedSite, start: str):
    entry = subject(served)
    path = {
        "home": "/",
        "month": f"/news/{entry.published:%Y/%m}/",
        "section month": f"/sections/{entry.section}/{entry.published:%Y/%m}/",
        "official": f"/officials/{entry.officials[0]}/",
        "organization": f"/organizations/{entry.organizations[-1]}/",
    }[start]
    page.goto(at(served, path))
    open_item_from(page, entry)
    expect(page).to_have_url(at(served, served.expected.url(entry)))
    go_back(page)
    expect(page).to_have_url(at(served, path))


def test_go_back_leads_to_the_section_when_the_item_is_opened_directly(page: Page, served: ServedSite):
    entry = subject(served)
    page.goto(at(served, served.expected.url(entry)))
    go_back(page)
    expect(page).to_have_url(at(served, f"/sections/{entry.section}/"))


def test_go_back_leads_to_the_section_without_javascript(nojs_page: Page, served: ServedSite):
    entry = subject(served)
    nojs_page.goto(at(served, "/"))
    open_item_from(nojs_page, entry)
    expect(nojs_page).to_have_url(at(served, served.expected.url(entry)))
    go_back(nojs_page)
    expect(nojs_page).to_have_url(at(served, f"/sections/{entry.section}/"))


def test_the_language_switch_lands_on_the_translation(page: Page, served: ServedSite):
    entry = subject(served)
    twin = next(e for e in served.expected.published(NOW) if e.key == entry.key and e.lang == "ru")
    page.goto(at(served, served.expected.url(entry)))
    switch = page.get_by_role("navigation", name=LABELS["en"]["languages"])
    switch.get_by_role("link", name=LABELS["ru"]["language_name"], exact=True).click()
    expect(page).to_have_url(at(served, served.expected.url(twin)))
    expect(page.locator("html")).to_have_attribute("lang", "ru")
    expect(page.locator("h1")).to_have_text(twin.title)
    switch = page.get_by_role("navigation", name=LABELS["ru"]["languages"])
    switch.get_by_role("link", name=LABELS["en"]["language_name"], exact=True).click()
    expect(page).to_have_url(at(served, served.expected.url(entry)))
    page.get_by_role("link", name=LABELS["ru"]["read_in"], exact=True).click()
    expect(page).to_have_url(at(served, served.expected.url(twin)))


def test_the_language_switch_on_an_archive_page(page: Page, served: ServedSite):
    entry = subject(served)
    page.goto(at(served, f"/news/{entry.published:%Y/%m}/"))
    page.get_by_role("link", name=LABELS["ru"]["language_name"], exact=True).click()
    expect(page).to_have_url(at(served, f"/ru/news/{entry.published:%Y/%m}/"))


@pytest.mark.parametrize("lang", ["en", "ru"])
def test_previous_and_next_walk_the_section(page: Page, served: ServedSite, lang: str):
    entry = subject(served, lang)
    items = section_items(served, entry.section, lang)
    urls = [at(served, served.expected.url(e)) for e in items]
    page.goto(urls[0])
    expect(page.locator('a[rel="next"]')).to_have_count(0)
    for url in urls[1:]:
        page.locator('a[rel="prev"]').click()
        expect(page).to_have_url(url)
    expect(page.locator('a[rel="prev"]')).to_have_count(0)
    for url in reversed(urls[:-1]):
        page.locator('a[rel="next"]').click()
        expect(page).to_have_url(url)


def test_officials_and_organizations_list_the_item(page: Page, served: ServedSite):
    entry = subject(served)
    item = at(served, served.expected.url(entry))
    names = [served.expected.official_names[o]["en"] for o in entry.officials] + [
        served.expected.organization_short[o]["en"] for o in entry.organizations
    ]
    for ident, name in zip([*entry.officials, *entry.organizations], names, strict=True):
        page.goto(item)
        page.locator("article").get_by_role("link", name=name, exact=True).click()
        kind = "officials" if ident in entry.officials else "organizations"
        expect(page).to_have_url(at(served, f"/{kind}/{ident}/"))
        listed = page.get_by_role("main").get_by_role("link", name=entry.title, exact=True)
        expect(listed).to_have_attribute("href", served.expected.url(entry))


def internal_links(page: Page, origin: str) -> list[str]:
    """Return the absolute URLs of the page's links to pages of the site (no feeds, phones or fragments)."""
    hrefs = page.locator("a[href]").evaluate_all("links => links.map(a => a.href)")
    return [h for h in dict.fromkeys(hrefs) if h.startswith(origin + "/") and "#" not in h and not h.endswith(".xml")]


@pytest.mark.parametrize("where", ["home", "item"])
def test_every_link_works_without_javascript(nojs_page: Page, served: ServedSite, where: str):
    start = at(served, "/" if where == "home" else served.expected.url(subject(served)))
    nojs_page.goto(start)
    links = internal_links(nojs_page, served.origin)
    assert len(links) > 10
    for fragment in nojs_page.locator('a[href^="#"]').evaluate_all("links => links.map(a => a.hash.slice(1))"):
        expect(nojs_page.locator(f"#{fragment}")).to_have_count(1)
    anchors = nojs_page.locator("a[href]")
    hrefs = [urljoin(start, h) for h in anchors.evaluate_all("links => links.map(a => a.getAttribute('href'))")]
    for n, href in enumerate(hrefs):
        if href not in links or href in hrefs[:n]:
            continue
        with nojs_page.expect_navigation() as navigation:
            anchors.nth(n).click()
        assert navigation.value is not None and navigation.value.status == 200, href
        expect(nojs_page).to_have_url(href)
        if href != start:  # a link to the page itself replaces the history entry instead of adding one
            nojs_page.go_back()
        expect(nojs_page).to_have_url(start)
