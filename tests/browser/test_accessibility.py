"""Accessibility as axe-core sees it in Chromium, and the keyboard path into the content."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import yaml
from helpers.served import ServedSite, served_site
from helpers.site import MINI, NOW, ROOT
from playwright.sync_api import Browser, Page, expect

LABELS = yaml.safe_load((ROOT / "templates" / "labels.yaml").read_text(encoding="utf-8"))
KINDS = ("home", "archive month", "section", "item", "official", "404")


def path_of(served: ServedSite, kind: str, lang: str) -> str:
    """Return the site path of one kind of page in one language, taken from the sample content."""
    expected = served.expected
    prefix = expected.prefix(lang)
    entry = next(e for e in expected.published(NOW) if e.lang == lang and e.officials)
    return {
        "home": f"{prefix}/",
        "archive month": f"{prefix}/news/{entry.published:%Y/%m}/",
        "section": f"{prefix}/sections/{entry.section}/",
        "item": expected.url(entry),
        "official": f"{prefix}/officials/{entry.officials[0]}/",
        "404": f"{prefix}/404.html",
    }[kind]


@pytest.fixture(scope="module")
def audit_page(browser: Browser) -> Iterator[Page]:
    """One page for every audit: axe is injected as a script, which the site's CSP rightly forbids."""
    context = browser.new_context(bypass_csp=True)
    yield context.new_page()
    context.close()


def violations(page: Page, axe_source: str) -> list[str]:
    """Run axe-core on the open page; return one line per violation and element."""
    page.add_script_tag(content=axe_source)
    found = page.evaluate("async () => (await axe.run(document)).violations")
    return [
        f"{v['id']} ({v['impact']}): {v['help']} at {' '.join(map(str, n['target']))}"
        for v in found
        for n in v["nodes"]
    ]


@pytest.mark.parametrize("lang", ["en", "ru"])
@pytest.mark.parametrize("kind", KINDS)
def test_axe_finds_no_violation(audit_page: Page, served: ServedSite, axe_source: str, kind: str, lang: str):
    audit_page.goto(served.url(path_of(served, kind, lang)))
    expect(audit_page.locator("html")).to_have_attribute("lang", lang)
    assert violations(audit_page, axe_source) == []


@pytest.fixture(scope="module")
def served_mini(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServedSite]:
    """The mini fixture served: its annual report has a dateline, a log of updates and related news."""
    with served_site(tmp_path_factory.mktemp("browser-mini"), content=MINI) as site:
        yield site


@pytest.mark.parametrize("path", ["/news/2023/11/14/annual-report-published/", "/ru/news/2024/05/20/joint-statement/"])
def test_axe_finds_no_violation_in_dateline_updates_and_related_news(
    audit_page: Page, served_mini: ServedSite, axe_source: str, path: str
):
    audit_page.goto(served_mini.url(path))
    for part in (".trail", ".related"):
        expect(audit_page.locator(part)).to_be_visible()
    if path.startswith("/news/"):
        for part in (".dateline .place", "#updates"):
            expect(audit_page.locator(part)).to_be_visible()
    assert violations(audit_page, axe_source) == []


def test_axe_reports_what_it_should(audit_page: Page, served: ServedSite, axe_source: str):
    """Guard: the same audit reports an image without alt text and a link without a name."""
    audit_page.goto(served.url("/"))
    audit_page.evaluate("""() => {
        const main = document.querySelector('main');
        main.insertAdjacentHTML('beforeend', '<img src="/static/favicon.svg"><a href="/news/"></a>');
    }""")
    found = " ".join(violations(audit_page, axe_source))
    assert "image-alt" in found
    assert "link-name" in found


@pytest.mark.parametrize("lang", ["en", "ru"])
@pytest.mark.parametrize("kind", ["home", "item"])
def test_the_skip_link_is_the_first_tab_stop_and_moves_focus_to_main(
    page: Page, served: ServedSite, kind: str, lang: str
):
    url = served.url(path_of(served, kind, lang))
    page.goto(url)
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name=LABELS[lang]["skip"], exact=True)
    expect(skip).to_be_focused()
    expect(skip).to_be_in_viewport()
    page.keyboard.press("Enter")
    expect(page).to_have_url(url + "#main")
    expect(page.locator("main")).to_be_focused()
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.closest('main') !== null"), "the next tab stop is in <main>"
