"""Golden pages: whole pages of the mini fixture site compared byte for byte with tests/golden/mini/.

Regenerate after an intended change with `python -m pytest tests/test_golden.py --update-golden`,
then read the diff (`git diff tests/golden`) before committing it.
"""

from __future__ import annotations

import difflib
import re

import pytest
from helpers.site import GOLDEN, build_into, copy_fixture

GOLDEN_MINI = GOLDEN / "mini"

PAGES = (
    "index.html",  # home
    "ru/index.html",  # Russian home
    "news/index.html",  # all news
    "news/2024/index.html",  # a year
    "news/2024/05/index.html",  # a month
    "news/2024/05/20/index.html",  # a day
    "news/2024/05/20/joint-statement/index.html",  # an item with a translation
    "ru/news/2024/05/20/joint-statement/index.html",  # its Russian twin
    "ru/news/2024/05/21/zasedanie-rabochei-gruppy/index.html",  # a Russian-only item
    "news/2023/11/14/annual-report-published/index.html",  # footnotes and a table
    "sections/alpha/index.html",  # a section
    "sections/alpha/2024/03/index.html",  # a section's month
    "officials/anna-petrova/index.html",  # an official: newest items, year links
    "officials/anna-petrova/2023/index.html",  # one year of an official: its items by month
    "organizations/river-commission/index.html",  # an organization
    "officials/index.html",  # all officials
    "404.html",
    "news/rss.xml",
    "ru/news/rss.xml",
    "sitemap.xml",  # the sitemap index
    "sitemap-pages.xml",  # the undated pages
    "sitemap-2024.xml",  # one year's pages
)

MAX_DIFF_LINES = 200

# Fingerprinted asset names (style.3f9a1c2b.css) change with every stylesheet edit; the golden pages are
# about the HTML, so they show the name with the hash replaced. test_links checks the real names resolve.
FINGERPRINT = re.compile(r"(/static/[\w.-]+?)\.[0-9a-f]{8,64}\.(css|js|svg|png|ico|woff2?)\b")


def normalise(text: str) -> str:
    """Return a page with fingerprinted asset names written as name.HASH.ext."""
    return FINGERPRINT.sub(r"\1.HASH.\2", text)


@pytest.mark.parametrize("rel", PAGES)
def test_page_matches_golden(rel, mini_site, update_golden):
    actual = normalise((mini_site / rel).read_text(encoding="utf-8"))
    golden = GOLDEN_MINI / rel
    if update_golden:
        golden.parent.mkdir(parents=True, exist_ok=True)
        golden.write_text(actual, encoding="utf-8")
        return
    assert golden.is_file(), f"no golden file {golden}: run pytest --update-golden"
    expected = golden.read_text(encoding="utf-8")
    if actual != expected:
        diff = list(
            difflib.unified_diff(
                expected.splitlines(), actual.splitlines(), f"golden/mini/{rel}", f"built/{rel}", lineterm=""
            )
        )
        shown = "\n".join(diff[:MAX_DIFF_LINES])
        more = f"\n... {len(diff) - MAX_DIFF_LINES} more lines" if len(diff) > MAX_DIFF_LINES else ""
        pytest.fail(
            f"{rel} differs from its golden file (pytest --update-golden rewrites it):\n{shown}{more}", pytrace=False
        )


def test_no_stale_golden_files(update_golden):
    stale = sorted(
        p.relative_to(GOLDEN_MINI).as_posix()
        for p in GOLDEN_MINI.rglob("*")
        if p.is_file() and p.relative_to(GOLDEN_MINI).as_posix() not in PAGES
    )
    if update_golden:
        for rel in stale:
            (GOLDEN_MINI / rel).unlink()
        return
    assert stale == [], "golden files no test compares: remove them or add them to PAGES"


def test_normalise_hides_only_the_hash():
    assert normalise('<link href="/static/style.3f9a1c2b.css"><script src="/static/nav.0123456789abcdef.js">') == (
        '<link href="/static/style.HASH.css"><script src="/static/nav.HASH.js">'
    )
    assert normalise('<link href="/static/style.css">') == '<link href="/static/style.css">'


def test_golden_build_is_deterministic(mini_site, tmp_path):
    """Two builds of the same content are byte-identical, so golden files are stable."""
    build_into(copy_fixture(tmp_path / "content"), tmp_path / "again")
    for rel in PAGES:
        assert (tmp_path / "again" / rel).read_bytes() == (mini_site / rel).read_bytes(), rel
