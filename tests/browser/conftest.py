"""The browser suite: one headless Debian Chromium per session, the sample site served on 127.0.0.1.

The site is served with the security headers of deploy/nginx.conf (Content-Security-Policy,
Referrer-Policy, ...), so a page that needed an inline script or a third-party request would break
here as it would in production. Every page a test opens is watched: a script error, a console error
or a request to another origin fails the test.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers.served import ServedSite, served_site
from helpers.site import ROOT, SAMPLE
from helpers.tools import missing, require_tool
from playwright.sync_api import Browser, BrowserContext, Page, Request, Response, expect, sync_playwright

CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
NGINX_CONF = ROOT / "deploy" / "nginx.conf"
AXE = ROOT / "tests" / "node_modules" / "axe-core" / "axe.min.js"
ARTIFACTS = ROOT / "tests" / "artifacts"
ADD_HEADER = re.compile(r'^add_header\s+(\S+)\s+("([^"]*)"|([^\s;$]+))(\s+always)?;', re.MULTILINE)


def deployed_headers() -> dict[str, str]:
    """Return the constant response headers deploy/nginx.conf adds at server level (CSP and the like)."""
    found = {
        m.group(1): m.group(3) if m.group(3) is not None else m.group(4)
        for m in ADD_HEADER.finditer(NGINX_CONF.read_text(encoding="utf-8"))
    }
    assert "Content-Security-Policy" in found, f"{NGINX_CONF} sets no Content-Security-Policy"
    return found


@pytest.fixture(scope="session", autouse=True)
def patient_assertions() -> None:
    """Let assertions wait up to 15 s for a page (not 5): CI shares two cores with other work."""
    expect.set_options(timeout=15_000)


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    """Start Debian's Chromium headless, once for the whole session (never a downloaded browser)."""
    chromium = require_tool("chromium", "Chromium not installed: apt-get install chromium")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture(scope="session")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServedSite]:
    """The sample site, built for its address on 127.0.0.1 and served with the deployed headers."""
    with served_site(tmp_path_factory.mktemp("browser-site"), headers=deployed_headers()) as site:
        yield site


# The sample item with photos in its text as well, and a gallery of nine (tests/browser/test_pictures.py).
PHOTO_ITEM = Path("csto-news/2024/2024-07-25-international-school-of-diplomacy/index.md")
BODY_PHOTOS = '\n![The graduates in the hall](sample-hall.jpg)\n\n<img src="sample-meeting.jpg" alt="The meeting">\n'
GALLERY_ENTRY = "  - file: sample-hall.jpg\n    alt: A drawing of nine figures behind a table in a hall\n"


@pytest.fixture(scope="session")
def photo_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServedSite]:
    """The sample site whose item with photos shows two in its text too, and nine in its gallery."""
    content = tmp_path_factory.mktemp("photo-content") / "content"
    shutil.copytree(SAMPLE, content)
    item = content / PHOTO_ITEM
    text = item.read_text(encoding="utf-8").replace("\n---\n", "\n" + GALLERY_ENTRY * 8 + "---\n", 1)
    assert text.count(GALLERY_ENTRY) == 9, "the sample item shows one photo in its gallery, then eight more"
    item.write_text(text + BODY_PHOTOS, encoding="utf-8")
    with served_site(tmp_path_factory.mktemp("photo-site"), content, headers=deployed_headers()) as site:
        yield site


class Watch:
    """What went wrong while a test's pages were open."""

    def __init__(self, origin: str) -> None:
        self.origin = origin
        self.problems: list[str] = []

    def attach(self, context: BrowserContext) -> BrowserContext:
        """Watch every page and request of a browser context."""
        context.on("page", self.watch_page)
        context.on("request", self.request)
        context.on("response", self.response)
        return context

    def watch_page(self, page: Page) -> None:
        """Record a page's script errors and console errors."""
        page.on("pageerror", lambda error: self.problems.append(f"{page.url}: script error: {error}"))
        page.on(
            "console",
            lambda message: (
                message.type == "error" and self.problems.append(f"{page.url}: console error: {message.text}")
            ),
        )

    def response(self, response: Response) -> None:
        """Record a failed fetch of a resource (a page's own address may answer 404 on purpose)."""
        if response.status >= 400 and response.request.resource_type != "document":
            self.problems.append(f"{response.url}: HTTP {response.status} for a {response.request.resource_type}")

    def request(self, request: Request) -> None:
        """Record a request that leaves the site (a third-party request)."""
        if not request.url.startswith((self.origin + "/", "data:")):
            self.problems.append(f"request to another origin: {request.url}")


def watched_context(browser: Browser, served: ServedSite, **options: object) -> Iterator[BrowserContext]:
    """Open a browser context; fail the test if anything went wrong in it."""
    watch = Watch(served.origin)
    context = watch.attach(browser.new_context(**options))
    yield context
    context.close()
    assert watch.problems == []


@pytest.fixture
def context(browser: Browser, served: ServedSite) -> Iterator[BrowserContext]:
    """A fresh browser context with JavaScript, as most readers have it."""
    yield from watched_context(browser, served)


@pytest.fixture
def page(context: BrowserContext) -> Page:
    """A fresh page with JavaScript."""
    return context.new_page()


@pytest.fixture
def nojs_page(browser: Browser, served: ServedSite) -> Iterator[Page]:
    """A fresh page with JavaScript turned off."""
    for context in watched_context(browser, served, java_script_enabled=False):
        yield context.new_page()


@pytest.fixture(scope="session")
def axe_source() -> str:
    """Return axe-core's script, installed from npm by `npm ci --prefix tests`."""
    if not AXE.is_file():
        missing(f"{AXE.relative_to(ROOT)} not found: run `npm ci --prefix tests`")
    return AXE.read_text(encoding="utf-8")


@pytest.fixture(scope="session")
def artifacts() -> Path:
    """Return the folder CI keeps as artifacts (ignored by git)."""
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS
