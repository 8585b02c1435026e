"""Search in a real browser: the sample site served on 127.0.0.1 with the CSP of deploy/nginx.conf."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from helpers.site import ROOT
from playwright.sync_api import Browser, ConsoleMessage, Page, expect

NGINX_CONF = ROOT / "deploy" / "nginx.conf"
SCHMID_2021 = "/news/2021/06/22/zas-meets-osce-secretary-general-schmid/"


def deployed_csp() -> str:
    """Return the Content-Security-Policy that deploy/nginx.conf sends with every response."""
    found = re.search(r'add_header Content-Security-Policy "([^"]+)"', NGINX_CONF.read_text(encoding="utf-8"))
    assert found, f"{NGINX_CONF} sets no Content-Security-Policy"
    return found.group(1)


class SiteHandler(SimpleHTTPRequestHandler):
    """Serve the built site as nginx does for these tests: files, index.html for folders, the CSP header."""

    csp = ""

    def end_headers(self) -> None:
        """Add the deployed security headers to every response."""
        self.send_header("Content-Security-Policy", self.csp)
        self.send_header("X-Content-Type-Options", "nosniff")
        super().end_headers()

    def log_message(self, format: str, *args: object) -> None:
        """Keep the test output quiet."""


@pytest.fixture(scope="module")
def server(sample_site: Path) -> Iterator[str]:
    """Serve the sample site on a free port of 127.0.0.1; return its origin."""
    handler = type("Handler", (SiteHandler,), {"csp": deployed_csp()})
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), partial(handler, directory=str(sample_site)))
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()
    thread.join()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    """Open a fresh page; fail the test on any script error or blocked resource (CSP)."""
    context = browser.new_context()
    opened = context.new_page()
    errors: list[str] = []
    opened.on("pageerror", lambda error: errors.append(f"page error: {error}"))
    opened.on("console", lambda message: _collect(message, errors))
    yield opened
    context.close()
    assert not errors, "\n".join(errors)


def _collect(message: ConsoleMessage, errors: list[str]) -> None:
    """Keep console errors, except the browser asking for a favicon the site does not have."""
    if message.type == "error" and "favicon" not in (message.location.get("url") or ""):
        errors.append(f"console: {message.text}")


def search(page: Page, origin: str, path: str, words: str) -> None:
    """Open a search page, type the words and submit them as a reader would."""
    page.goto(origin + path)
    expect(page.locator("#search")).to_have_attribute("data-ready", "true")
    page.fill("#search-query", words)
    page.press("#search-query", "Enter")


def result_urls(page: Page) -> list[str]:
    """Return the item addresses of the shown results, in order."""
    return page.locator("#search-results li h2 a").evaluate_all("links => links.map(a => a.getAttribute('href'))")


def test_schmid_finds_the_2021_osce_item_first(page: Page, server: str) -> None:
    search(page, server, "/search/", "Schmid")
    first = page.locator("#search-results li").first
    expect(first.locator("h2 a")).to_have_attribute("href", SCHMID_2021)
    expect(first.locator("h2 a")).to_contain_text("Helga Schmid")
    expect(first.locator(".meta time")).to_have_text("22 June 2021")
    expect(first.locator(".meta time")).to_have_attribute("datetime", re.compile(r"^2021-06-22T"))
    expect(first.locator(".meta a")).to_have_text("CSTO news")
    expect(first.locator(".search-excerpt mark").first).to_have_text(re.compile(r"^Schmid"))
    expect(page.locator("#search-status")).to_have_text(re.compile(r"^\d+ results? for “Schmid”$"))
    assert all(not url.startswith("/ru/") for url in result_urls(page))
    first.locator("h2 a").click()
    expect(page).to_have_url(server + SCHMID_2021)


def test_russian_query_finds_the_russian_item_through_stemming(page: Page, server: str) -> None:
    # "Афганистаном" is in no item: only the Russian stemmer relates it to "Афганистане", "Афганистану".
    search(page, server, "/ru/search/", "Афганистаном")
    expect(page.locator("#search-results li")).to_have_count(1)
    assert result_urls(page) == ["/ru" + SCHMID_2021]
    expect(page.locator("#search-results .meta time")).to_have_text("22 июня 2021")
    expect(page.locator("#search-results .search-excerpt mark").first).to_have_text(re.compile(r"^Афганистан"))
    expect(page.locator("#search-status")).to_have_text("1 результат по запросу «Афганистаном»")


def test_each_language_searches_only_its_own_index(page: Page, server: str) -> None:
    search(page, server, "/search/", "Шмид")
    expect(page.locator("#search-status")).to_have_text(re.compile(r"^Nothing found"))
    expect(page.locator("#search-results li")).to_have_count(0)


def test_a_nonsense_word_finds_nothing(page: Page, server: str) -> None:
    search(page, server, "/search/", "xqzvtplwk")
    expect(page.locator("#search-status")).to_have_text(re.compile(r"^Nothing found"))
    expect(page.locator("#search-results li")).to_have_count(0)


def test_a_section_filter_narrows_the_results(page: Page, server: str, sample: Any) -> None:
    interviews = {sample.expected.url(e) for e in sample.items if e.lang == "en" and e.section == "interviews"}
    everything = {sample.expected.url(e) for e in sample.items if e.lang == "en"}
    assert 0 < len(interviews) < len(everything)
    search(page, server, "/search/", "CSTO")
    expect(page.locator("#search-results li")).to_have_count(len(everything))
    page.select_option("#search-section", sample.expected.sections["interviews"]["en"])
    expect(page.locator("#search-results li")).to_have_count(len(interviews))
    assert set(result_urls(page)) == interviews
    expect(page.locator("#search-results .meta a")).to_have_text(
        [sample.expected.sections["interviews"]["en"]] * len(interviews))
    assert "section=" in page.url
    page.reload()
    expect(page.locator("#search-results li")).to_have_count(len(interviews))


def test_without_javascript_the_page_says_so_and_links_the_archive(browser: Browser, server: str) -> None:
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(server + "/ru/search/")
    expect(page.locator("#search")).to_be_hidden()
    expect(page.locator("#search-fallback")).to_contain_text("JavaScript")
    expect(page.locator("#search-fallback a")).to_have_attribute("href", "/ru/news/")
    context.close()


def test_the_search_page_is_linked_from_the_header(page: Page, server: str) -> None:
    page.goto(server + SCHMID_2021)
    page.locator("header").get_by_role("link", name="Search").click()
    expect(page).to_have_url(server + "/search/")
