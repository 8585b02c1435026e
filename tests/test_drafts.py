"""Drafts and scheduled items: held back from every page, feed and sitemap until released, and reported."""

from __future__ import annotations

import io
import re
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from helpers.site import NOW, build_into, cli_args

from csto_site import cli
from csto_site.reporter import Reporter

MOSCOW = ZoneInfo("Europe/Moscow")
DUE = NOW + timedelta(days=2, hours=3)
# Both sit between the annual report (2023-11-14) and the working visit (2024-03-12) of section alpha,
# so prev/next would link them if they were not held back.
DRAFT = (
    "alpha/2024/2024-01-10-draft-statement.md",
    "---\ntitle: Draft statement\ndate: 2024-01-10 10:00\ndraft: true\nofficials: [Anna Petrova]\n"
    "organizations: [NC]\naliases: [/old/draft/]\n---\nNot ready.\n",
)
SCHEDULED = (
    "alpha/2026/2026-12-01-scheduled-summit.md",
    f"---\ntitle: Scheduled summit\ndate: {DUE:%Y-%m-%d %H:%M}\nofficials: [Anna Petrova]\n"
    "organizations: [NC]\n---\nTo be announced.\n",
)
HELD = ("draft-statement", "scheduled-summit")


@pytest.fixture
def content(mini_copy: Path) -> Path:
    """The mini fixture with one draft and one scheduled item."""
    for rel, text in (DRAFT, SCHEDULED):
        path = mini_copy / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return mini_copy


def mentions(out: Path, slug: str) -> list[str]:
    """List the output files that mention a slug (pages, feeds, sitemaps, redirects)."""
    return sorted(
        p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file() and slug.encode() in p.read_bytes()
    )


def test_held_back_items_are_nowhere_and_counted(content: Path, tmp_path: Path) -> None:
    out = tmp_path / "public"

    report = build_into(content, out, search=False)

    assert [mentions(out, slug) for slug in HELD] == [[], []]
    assert not (out / "old").exists()
    assert report.held_back == 2
    assert report.next_due == DUE
    annual = (out / "news/2023/11/14/annual-report-published/index.html").read_text(encoding="utf-8")
    assert 'href="/news/2024/03/12/working-visit-to-the-river-commission/" rel="next"' in annual


def test_the_summary_says_how_many_are_held_back_and_when_the_next_is_due(content: Path, tmp_path: Path) -> None:
    printed = io.StringIO()

    Reporter(out=printed).built(build_into(content, tmp_path / "public", search=False), "public")

    line = printed.getvalue()
    assert line.count("\n") == 1
    assert "; 2 held back, next due 2026-12-01 15:00 MSK; " in line


def test_drafts_and_future_are_included_on_request(content: Path, tmp_path: Path) -> None:
    with_drafts = tmp_path / "drafts"
    with_future = tmp_path / "future"

    drafts = build_into(content, with_drafts, search=False, drafts=True)
    future = build_into(content, with_future, search=False, future=True)

    assert (drafts.held_back, future.held_back) == (1, 1)
    assert "news/2024/01/10/draft-statement/index.html" in mentions(with_drafts, "draft-statement")
    assert (with_drafts / "old/draft/index.html").is_file()
    assert mentions(with_drafts, "scheduled-summit") == []
    assert "news/rss.xml" in mentions(with_future, "scheduled-summit")
    assert mentions(with_future, "draft-statement") == []


def test_a_scheduled_item_is_released_when_its_time_has_come(content: Path, tmp_path: Path) -> None:
    out = tmp_path / "public"
    before = build_into(content, out, now=DUE - timedelta(minutes=1), search=False)

    after = build_into(content, out, now=DUE, search=False)

    assert (before.held_back, after.held_back) == (2, 1)
    assert after.next_due is None
    released = mentions(out, "scheduled-summit")
    for place in (
        "index.html",
        "news/2026/12/01/index.html",
        "sections/alpha/index.html",
        "news/rss.xml",
        "sections/alpha/rss.xml",
        "officials/anna-petrova/index.html",
        "organizations/northern-council/rss.xml",
        "sitemap-2026.xml",
        "news-sitemap.xml",
        "news/2026/12/01/scheduled-summit/index.html",
    ):
        assert place in released, place
    assert mentions(out, "draft-statement") == []


def test_a_naive_date_is_due_in_the_site_time_zone(content: Path, tmp_path: Path) -> None:
    # 15:00 in Moscow is 12:00 UTC: a minute before, the item is still held back.
    utc = ZoneInfo("UTC")
    early = build_into(content, tmp_path / "early", now=datetime(2026, 12, 1, 11, 59, tzinfo=utc), search=False)
    due = build_into(content, tmp_path / "due", now=datetime(2026, 12, 1, 12, 0, tzinfo=utc), search=False)

    assert (early.held_back, due.held_back) == (2, 1)
    assert datetime(2026, 12, 1, 15, 0, tzinfo=MOSCOW) == DUE


def test_the_command_line_summary_is_one_line(
    content: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = content / "alpha/2099/2099-01-01-far.md"
    path.parent.mkdir()
    path.write_text("---\ntitle: Far\ndate: 2099-01-01 09:00\n---\nLater.\n", encoding="utf-8")

    status = cli.main(cli_args("build", content, tmp_path / "public", "--no-search", "--quiet"))

    out = capsys.readouterr().out
    assert status == 0
    assert out.count("\n") == 1
    assert re.search(
        r"^built \d+ items, \d+ pages: \d+ files written, \d+ unchanged; [23] held back, "
        r"next due \d{4}-\d\d-\d\d \d\d:\d\d MSK; \d+\.\d\d s → ",
        out,
    ), out


def test_a_translation_waits_for_its_draft_original_and_then_takes_its_final_address(
    content: Path, tmp_path: Path
) -> None:
    translation = content / "alpha/2024/2024-01-10-draft-statement.ru.md"
    translation.write_text("---\ntitle: Заявление\ndate: 2024-01-10 10:00\n---\nТекст.\n", encoding="utf-8")
    out = tmp_path / "public"

    report = build_into(content, out, search=False)

    assert mentions(out, "draft-statement") == []
    assert report.held_back == 3

    original = content / DRAFT[0]
    text = original.read_text(encoding="utf-8")
    original.write_text(text.replace("Draft statement", "Final statement").replace("draft: true\n", ""), "utf-8")
    build_into(content, out, search=False)

    assert mentions(out, "draft-statement") == []
    assert (out / "ru/news/2024/01/10/final-statement/index.html").is_file()
