"""Published addresses are kept: the record in content/addresses.txt, fixed slugs, redirects and retractions."""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest
from helpers.site import NOW, ROOT, SAMPLE, cli_args, copy_fixture, options, retract, sitemap_urls, tree

from csto_site import cli
from csto_site.build.cache import Memo
from csto_site.build.inputs import read_inputs, restamped
from csto_site.build.plan import Reading
from csto_site.publish import run
from csto_site.publish.run import build
from csto_site.util.errors import ContentError

VISIT = "alpha/2024/2024-03-12-working-visit.md"
VISIT_URL = "/news/2024/03/12/working-visit-to-the-river-commission/"
BRIEFING = "alpha/2024/2024-03-12-morning-briefing.md"
BRIEFING_URL = "/news/2024/03/12/morning-briefing-held/"
BRIEFING_RU_URL = "/ru/news/2024/03/12/morning-briefing-held/"
BASE = "https://example.org"


def built(content: Path, out: Path) -> Path:
    """Build with the command line, expect success; return the output folder."""
    assert cli.main(cli_args("build", content, out, "--no-search", "--quiet")) == 0
    return out


def refused(content: Path, out: Path, capsys: pytest.CaptureFixture[str]) -> str:
    """Build with the command line, expect exit 1 and no traceback; return what was printed."""
    capsys.readouterr()
    status = cli.main(cli_args("build", content, out, "--no-search"))
    printed = capsys.readouterr()
    assert status == 1, printed.out
    assert "Traceback" not in printed.err
    return printed.err


def record(content: Path) -> dict[str, str]:
    """Read the record: address -> item file."""
    lines = (content / "addresses.txt").read_text(encoding="utf-8").splitlines()
    pairs = (line.partition(" ") for line in lines if line and not line.startswith("#"))
    return {address: source for address, _, source in pairs}


def edit(content: Path, rel: str, old: str, new: str) -> None:
    """Replace text in a content file."""
    path = content / rel
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def add_to_site(content: Path, text: str) -> None:
    """Append lines to site.yaml."""
    edit(content, "site.yaml", "feed_length: 3\n", f"feed_length: 3\n{text}")


def page(out: Path, url: str) -> str:
    """Read the file a folder address is served from."""
    return (out / url.lstrip("/") / "index.html").read_text(encoding="utf-8")


def redirects_to(out: Path, old: str, new: str) -> bool:
    """Tell whether an old address is a redirect page to `new` and a 301 in the nginx include."""
    conf = (out / "nginx-redirects.conf").read_text(encoding="utf-8")
    return f'content="0; url={new}"' in page(out, old) and f'location = "{old}" {{ return 301 "{new}"; }}' in conf


def test_the_first_build_records_every_page_and_feed_sorted_with_its_item(mini_copy: Path, tmp_path: Path) -> None:
    built(mini_copy, tmp_path / "public")

    found = record(mini_copy)
    assert list(found) == sorted(found)
    assert found[VISIT_URL] == VISIT
    assert found[BRIEFING_RU_URL] == "alpha/2024/2024-03-12-morning-briefing.ru.md"
    for url in ("/", "/news/", "/news/rss.xml", "/ru/sections/alpha/rss.xml", "/news/2024/03/12/", "/officials/"):
        assert found[url] == "", url
    assert not [url for url in found if url.startswith(("/static/", "/pagefind/")) or "sitemap" in url]


def test_a_second_build_leaves_the_record_as_it_is(mini_copy: Path, tmp_path: Path) -> None:
    built(mini_copy, tmp_path / "public")
    stamp = (mini_copy / "addresses.txt").stat().st_mtime_ns
    built(mini_copy, tmp_path / "public")

    assert (mini_copy / "addresses.txt").stat().st_mtime_ns == stamp


def test_a_preview_of_drafts_records_nothing(mini_copy: Path, tmp_path: Path) -> None:
    assert cli.main(cli_args("build", mini_copy, tmp_path / "public", "--no-search", "--quiet", "--drafts")) == 0

    assert not (mini_copy / "addresses.txt").exists()


def test_a_title_edit_keeps_the_address(mini_copy: Path, tmp_path: Path) -> None:
    out = built(mini_copy, tmp_path / "public")
    before = record(mini_copy)
    edit(mini_copy, VISIT, "title: Working visit to the River Commission", "title: A visit to the Danube Commission")
    built(mini_copy, out)

    assert "<h1>A visit to the Danube Commission</h1>" in page(out, VISIT_URL)
    assert not (out / "news/2024/03/12/a-visit-to-the-danube-commission").exists()
    assert record(mini_copy) == before


def test_a_title_edit_of_an_original_keeps_its_translation_in_place(mini_copy: Path, tmp_path: Path) -> None:
    out = built(mini_copy, tmp_path / "public")
    edit(mini_copy, BRIEFING, "title: Morning briefing held", "title: Evening briefing held")
    built(mini_copy, out)

    assert "Evening briefing held" in page(out, BRIEFING_URL)
    assert "Состоялся утренний брифинг" in page(out, BRIEFING_RU_URL)


def test_a_deleted_item_stops_the_build_naming_its_address_and_the_ways_out(
    mini_copy: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = built(mini_copy, tmp_path / "public")
    (mini_copy / VISIT).unlink()

    err = refused(mini_copy, out, capsys)

    lines = (mini_copy / "addresses.txt").read_text(encoding="utf-8").splitlines()
    line = next(n for n, text in enumerate(lines, start=1) if text.startswith(VISIT_URL + " "))
    assert f"{mini_copy / 'addresses.txt'}:{line}: the published address {VISIT_URL} would be lost" in err
    assert "`redirects:`" in err and "`gone:`" in err
    assert err.count("would be lost") == 1  # its emptied archives lead to the listings above them
    assert "Working visit" in page(out, VISIT_URL)  # nothing was published


def test_a_renamed_item_is_told_to_keep_its_address_by_its_old_slug_and_keeps_it_so(
    mini_copy: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = built(mini_copy, tmp_path / "public")
    edit(mini_copy, VISIT, "title: Working visit to the River Commission", "title: A visit")
    built(mini_copy, out)  # the address stays the one first published
    renamed = "beta/2024/2024-03-12-river-commission.md"  # another name: no move can be told by it
    (mini_copy / VISIT).rename(mini_copy / renamed)

    err = refused(mini_copy, out, capsys)
    slug = "`slug: working-visit-to-the-river-commission`"
    assert f"which is gone (if you renamed or moved the file, give it {slug} to keep its address; if not, keep" in err

    edit(mini_copy, renamed, "title: A visit", "title: A visit\nslug: working-visit-to-the-river-commission")
    built(mini_copy, out)
    assert "<h1>A visit</h1>" in page(out, VISIT_URL)
    assert record(mini_copy)[VISIT_URL] == renamed
    assert VISIT_URL not in (out / "nginx-redirects.conf").read_text(encoding="utf-8")  # a page, not a redirect
    assert tree(out) == tree(built(mini_copy, tmp_path / "clean"))


def test_a_lost_old_address_of_a_deleted_item_is_given_no_slug_to_keep_it(
    mini_copy: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    edit(mini_copy, VISIT, "date: 2024-03-12 10:00", 'date: 2024-03-12 10:00\naliases: ["/old/visit/"]')
    out = built(mini_copy, tmp_path / "public")
    (mini_copy / VISIT).unlink()

    err = refused(mini_copy, out, capsys)
    gone = f"it was the page of {mini_copy / VISIT}, which is gone"
    assert f"the published address /old/visit/ would be lost: {gone} (keep it: in site.yaml" in err
    assert f"{VISIT_URL} would be lost: {gone} (if you renamed or moved the file, give it `slug: " in err


@pytest.mark.parametrize(
    ("new", "became", "way_back"),
    [
        ("date: 2024-03-12 10:00\ndraft: true", "which is now a draft", "remove `draft: true` to publish it again"),
        (
            "date: 2999-03-12 10:00",
            "which is now dated 2999-03-12 10:00, in the future",
            "give it back the date it was published under (or site.yaml its old `timezone`, if that changed)",
        ),
    ],
)
def test_an_item_held_back_after_publication_is_named_as_held_back_not_gone(
    mini_copy: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], new: str, became: str, way_back: str
) -> None:
    out = built(mini_copy, tmp_path / "public")
    edit(mini_copy, VISIT, "date: 2024-03-12 10:00", new)

    err = refused(mini_copy, out, capsys)

    lost = f"the published address {VISIT_URL} would be lost: it is the page of {mini_copy / VISIT}, {became} ("
    assert lost + way_back in err, err
    assert "`redirects:`" in err and "`gone:`" in err and "which is gone" not in err


def test_a_translation_held_back_by_its_original_turned_draft_says_so(
    mini_copy: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    original = "alpha/2024/2024-03-12-morning-briefing.md"
    out = built(mini_copy, tmp_path / "public")
    edit(mini_copy, original, "\n---\n", "\ndraft: true\n---\n")

    err = refused(mini_copy, out, capsys)

    translation = mini_copy / original.replace(".md", ".ru.md")
    assert (
        f"would be lost: it is the page of {translation}, which waits for its original {mini_copy / original}, "
        f"now a draft (remove `draft: true` from {mini_copy / original} to publish both again, or keep it:"
    ) in err, err


def test_a_deleted_item_redirected_in_site_yaml_keeps_its_address(mini_copy: Path, tmp_path: Path) -> None:
    out = built(mini_copy, tmp_path / "public")
    (mini_copy / VISIT).unlink()
    add_to_site(mini_copy, f'redirects:\n  "{VISIT_URL}": {BRIEFING_URL}\n')
    built(mini_copy, out)

    assert redirects_to(out, VISIT_URL, BRIEFING_URL)


def test_a_deleted_original_leaves_its_translation_where_it_was(
    mini_copy: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = built(mini_copy, tmp_path / "public")
    (mini_copy / BRIEFING).unlink()

    err = refused(mini_copy, out, capsys)
    assert f"the published address {BRIEFING_URL} would be lost" in err
    assert BRIEFING_RU_URL not in err

    add_to_site(mini_copy, f'gone:\n  "{BRIEFING_URL}": The English text was withdrawn.\n')
    built(mini_copy, out)
    assert "Состоялся утренний брифинг" in page(out, BRIEFING_RU_URL)


def test_a_corrected_date_redirects_the_old_address_to_the_new(mini_copy: Path, tmp_path: Path) -> None:
    out = built(mini_copy, tmp_path / "public")
    edit(mini_copy, VISIT, "date: 2024-03-12 10:00", "date: 2024-03-13 10:00")
    built(mini_copy, out)

    new = VISIT_URL.replace("/12/", "/13/")
    assert "Working visit" in page(out, new)
    assert redirects_to(out, VISIT_URL, new)
    assert record(mini_copy)[new] == record(mini_copy)[VISIT_URL] == VISIT


def test_an_item_moved_to_another_section_keeps_its_address(mini_copy: Path, tmp_path: Path) -> None:
    out = built(mini_copy, tmp_path / "public")
    (mini_copy / "beta/2024/2024-03-12-working-visit.md").write_bytes((mini_copy / VISIT).read_bytes())
    (mini_copy / VISIT).unlink()
    built(mini_copy, out)

    assert "Working visit" in page(out, VISIT_URL)
    assert record(mini_copy)[VISIT_URL] == "beta/2024/2024-03-12-working-visit.md"
    # beta's new archive of that month is recorded
    assert "/sections/beta/2024/03/" in record(mini_copy)


def test_a_renamed_section_must_redirect_its_pages_and_feeds(
    mini_copy: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = built(mini_copy, tmp_path / "public")
    shutil.move(mini_copy / "alpha", mini_copy / "gamma")

    err = refused(mini_copy, out, capsys)
    for lost in ("/sections/alpha/", "/sections/alpha/rss.xml", "/ru/sections/alpha/rss.xml", "/sections/alpha/2024/"):
        assert f"the published address {lost} would be lost" in err
    # Each says the one line that keeps them all, in its language.
    losses = [line for line in err.splitlines() if "would be lost" in line]
    lines = ('`redirects: {"/sections/alpha/": /sections/<new-name>/}`', "/ru/sections/<new-name>/}`")
    assert all("the section `alpha` is gone: if it was renamed, one line keeps" in line for line in losses), losses
    assert all(any(one in line for one in lines) for line in losses), losses

    add_to_site(
        mini_copy, 'redirects:\n  "/sections/alpha/": /sections/gamma/\n  /ru/sections/alpha/: /ru/sections/gamma/\n'
    )
    built(mini_copy, out)
    assert redirects_to(out, "/sections/alpha/", "/sections/gamma/")
    assert redirects_to(out, "/ru/sections/alpha/2023/11/", "/ru/sections/gamma/2023/11/")
    conf = (out / "nginx-redirects.conf").read_text(encoding="utf-8")
    for lang in ("", "/ru"):
        feed = f'location = "{lang}/sections/alpha/rss.xml" {{ return 301 "{lang}/sections/gamma/rss.xml"; }}'
        assert feed in conf
    assert "Working visit" in page(out, VISIT_URL)


def test_a_retracted_item_leaves_a_withdrawn_page_and_every_listing(mini_copy: Path, tmp_path: Path) -> None:
    out = built(mini_copy, tmp_path / "public")
    (mini_copy / VISIT).unlink()
    add_to_site(mini_copy, f'gone:\n  "{VISIT_URL}": Withdrawn at the request of the Commission.\n')
    built(mini_copy, out)

    html = page(out, VISIT_URL)
    assert "Withdrawn at the request of the Commission." in html
    assert "This page has been withdrawn" in html
    assert '<meta name="robots" content="noindex">' in html
    assert '<link rel="canonical"' not in html and '<link rel="alternate" hreflang' not in html  # no page is it now
    assert "data-pagefind-body" not in html  # search indexes only the items' pages
    conf = (out / "nginx-redirects.conf").read_text(encoding="utf-8")
    assert f'location = "{VISIT_URL}" {{ error_page 410 @csto_withdrawn; return 410; }}' in conf
    assert not [url for url in sitemap_urls(out, BASE) if "working-visit" in (url[0].text or "")]
    for feed in out.rglob("rss.xml"):
        assert "working-visit" not in feed.read_text(encoding="utf-8"), feed
    assert VISIT_URL in record(mini_copy)


def test_a_retraction_in_russian_has_a_russian_page(mini_copy: Path, tmp_path: Path) -> None:
    out = built(mini_copy, tmp_path / "public")
    (mini_copy / "alpha/2024/2024-03-12-morning-briefing.ru.md").unlink()
    add_to_site(mini_copy, f'gone:\n  "{BRIEFING_RU_URL}": Отозван по просьбе редакции.\n')
    built(mini_copy, out)

    html = page(out, BRIEFING_RU_URL)
    assert '<html lang="ru">' in html and "Материал отозван" in html and "Отозван по просьбе редакции." in html


def test_a_retraction_of_a_live_page_is_an_error(
    mini_copy: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    add_to_site(mini_copy, f'gone:\n  "{VISIT_URL}": Withdrawn.\n')

    err = refused(mini_copy, tmp_path / "public", capsys)

    assert f"site.yaml:8: the old address {VISIT_URL} is the address of {mini_copy / VISIT}" in err


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ('"/x/": ""', "the retraction of /x/ gives no reason"),
        ('"x/": Gone.', "the retracted address 'x/' cannot be used"),
    ],
)
def test_a_retraction_without_reason_or_address_is_an_error(
    entry: str, message: str, mini_copy: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    add_to_site(mini_copy, f"gone:\n  {entry}\n")

    assert f"site.yaml:8: {message}" in refused(mini_copy, tmp_path / "public", capsys)


def test_a_merge_conflict_in_the_record_is_an_error(
    mini_copy: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (mini_copy / "addresses.txt").write_text("/a/\n<<<<<<< HEAD\n/b/\n=======\n/c/\n>>>>>>> x\n", encoding="utf-8")

    err = refused(mini_copy, tmp_path / "public", capsys)

    assert f"{mini_copy / 'addresses.txt'}:2: a merge conflict mark" in err


def test_an_emptied_archive_that_fills_again_is_a_page_again(mini_copy: Path, tmp_path: Path) -> None:
    out = built(mini_copy, tmp_path / "public")
    first, second = mini_copy / "beta/2024/added.md", mini_copy / "alpha/2024/added.md"
    first.write_text("---\ntitle: Added\ndate: 2024-03-12 09:00\n---\nBody.\n", encoding="utf-8")
    built(mini_copy, out)
    first.rename(second)
    built(mini_copy, out)
    assert redirects_to(out, "/sections/beta/2024/03/", "/sections/beta/2024/")
    second.rename(first)
    built(mini_copy, out)

    assert "http-equiv" not in page(out, "/sections/beta/2024/03/")
    assert '"/sections/beta/2024/03/"' not in (out / "nginx-redirects.conf").read_text(encoding="utf-8")


def test_the_sample_sites_committed_record_holds_every_address_it_publishes(tmp_path: Path) -> None:
    content = copy_fixture(tmp_path / "content", SAMPLE)
    committed = (content / "addresses.txt").read_text(encoding="utf-8")
    built(content, tmp_path / "public")

    assert (content / "addresses.txt").read_text(encoding="utf-8") == committed


def test_the_sample_site_keeps_its_addresses_through_a_title_edit_a_deletion_and_a_section_rename(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    content = copy_fixture(tmp_path / "content", SAMPLE)
    out = built(content, tmp_path / "public")
    item = "csto-news/2024/2024-07-19-un-security-council-debate.md"
    url = "/news/2024/07/19/tasmagambetov-at-un-security-council-debate/"
    text = (content / item).read_text(encoding="utf-8")
    (content / item).write_text(
        re.sub(r"\ntitle: .*\n", "\ntitle: A corrected headline\n", text.replace(f"\nslug: {url.split('/')[-2]}", "")),
        encoding="utf-8",
    )
    built(content, out)
    assert "<h1>A corrected headline</h1>" in page(out, url)

    (content / item).unlink()
    err = refused(content, out, capsys)
    assert f"the published address {url} would be lost" in err
    assert "/ru" + url not in err  # the translation stays where it was

    (content / item).write_text(text, encoding="utf-8")
    shutil.move(content / "interviews", content / "talks")
    err = refused(content, out, capsys)
    for lost in ("/sections/interviews/", "/sections/interviews/rss.xml", "/ru/sections/interviews/rss.xml"):
        assert f"the published address {lost} would be lost" in err


def test_check_warns_while_the_record_lacks_addresses_the_site_publishes(
    mini_copy: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    capsys.readouterr()
    assert cli.main(cli_args("check", mini_copy, tmp_path / "public")) == 0
    before = capsys.readouterr().err
    built(mini_copy, tmp_path / "public")
    assert cli.main(cli_args("check", mini_copy, tmp_path / "public")) == 0
    after = capsys.readouterr().err

    record_file = mini_copy / "addresses.txt"
    assert (
        f"{record_file}: warning: the record of published addresses lacks {len(record(mini_copy))} the site" in before
    )
    assert str(record_file) not in after  # recorded, and not taken for a stray file of content/


def test_an_item_moved_to_another_section_keeps_its_old_addresses_too(mini_copy: Path, tmp_path: Path) -> None:
    out = built(mini_copy, tmp_path / "public")
    edit(mini_copy, VISIT, "date: 2024-03-12 10:00", "date: 2024-03-13 10:00")
    built(mini_copy, out)  # the address of the 12th now leads to the 13th
    edit(mini_copy, VISIT, "title: Working visit to the River Commission", "title: A visit")
    moved = mini_copy / "beta/2024/2024-03-12-working-visit.md"
    (mini_copy / VISIT).rename(moved)
    built(mini_copy, out)

    new = VISIT_URL.replace("/12/", "/13/")
    assert "<h1>A visit</h1>" in page(out, new)  # the slug stays the one first published
    assert redirects_to(out, VISIT_URL, new)
    assert record(mini_copy)[VISIT_URL] == record(mini_copy)[new] == "beta/2024/2024-03-12-working-visit.md"


def test_a_build_for_serve_records_nothing(mini_copy: Path, tmp_path: Path) -> None:
    build(replace(options(mini_copy, tmp_path / "public"), record=False), NOW)

    assert (tmp_path / "public/index.html").exists()
    assert not (mini_copy / "addresses.txt").exists()


NEW_ITEM = "alpha/2024/2024-03-20-new-statement.md"
NEW_URL = "/news/2024/03/20/a-new-statement/"


def write_item(path: Path, title: str, date: str, body: str) -> None:
    """Write an item file."""
    path.write_text(f"---\ntitle: {title}\ndate: {date}\n---\n{body}\n", encoding="utf-8")


def test_a_record_put_back_as_it_was_gets_the_new_addresses_again(mini_copy: Path, tmp_path: Path) -> None:
    built(mini_copy, tmp_path / "public")
    before = (mini_copy / "addresses.txt").read_text(encoding="utf-8")
    write_item(mini_copy / NEW_ITEM, "A new statement", "2024-03-20 10:00", "Text.")
    built(mini_copy, tmp_path / "public")
    assert record(mini_copy)[NEW_URL] == NEW_ITEM
    # The editor discards the record's change (git checkout): the next build, with nothing else changed,
    # must not trust that the record holds what the last build published.
    (mini_copy / "addresses.txt").write_text(before, encoding="utf-8")
    built(mini_copy, tmp_path / "public")

    assert record(mini_copy)[NEW_URL] == NEW_ITEM


def test_a_build_after_serve_records_what_serve_published(mini_copy: Path, tmp_path: Path) -> None:
    kept = options(mini_copy, tmp_path / "public")
    build(kept, NOW)
    write_item(mini_copy / NEW_ITEM, "A new statement", "2024-03-20 10:00", "Text.")
    build(replace(kept, record=False), NOW)
    assert NEW_URL not in record(mini_copy)
    build(kept, NOW)  # nothing changed since serve's build: nothing is described again

    assert record(mini_copy)[NEW_URL] == NEW_ITEM


def test_the_build_after_one_that_wrote_the_record_takes_the_quick_answer(
    mini_copy: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    kept = options(mini_copy, tmp_path / "public")
    write_item(mini_copy / NEW_ITEM, "A new statement", "2024-03-20 10:00", "Text.")
    build(kept, NOW)  # writes content/addresses.txt, an input of the next build
    assert NEW_URL in record(mini_copy)

    def draw_site(*args: object, **kwargs: object) -> None:
        raise AssertionError("the build looked again at a site that had not changed")

    monkeypatch.setattr("csto_site.build.pipeline.draw_site", draw_site)
    assert build(kept, NOW).written == 0


@pytest.mark.parametrize("first", [True, False], ids=["no record before", "a record before"])
def test_the_inputs_restamped_with_the_record_are_what_a_new_listing_finds(
    mini_copy: Path, tmp_path: Path, first: bool
) -> None:
    kept = options(mini_copy, tmp_path / "public")
    (mini_copy / "addresses.txt").unlink(missing_ok=True)
    if not first:
        build(kept, NOW)
    before = read_inputs(kept)
    (mini_copy / "addresses.txt").write_text("# a record\n/news/ \n", encoding="utf-8")

    assert restamped(before, kept, "addresses.txt").digest == read_inputs(kept).digest
    (mini_copy / "addresses.txt").unlink()
    assert restamped(before, kept, "addresses.txt").digest == read_inputs(kept).digest


def test_a_file_changed_while_the_record_was_written_is_seen_by_the_next_build(
    mini_copy: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    kept = options(mini_copy, tmp_path / "public")
    write_item(mini_copy / NEW_ITEM, "A new statement", "2024-03-20 10:00", "Text.")
    real = run.write_record

    def write_record(content: Path, text: str) -> None:
        real(content, text)
        edit(mini_copy, NEW_ITEM, "title: A new statement", "title: A statement edited meanwhile")

    monkeypatch.setattr(run, "write_record", write_record)
    build(kept, NOW)  # the title changed after the build read it: its pages show the old one
    monkeypatch.undo()

    assert build(kept, NOW).written > 0
    assert "<h1>A statement edited meanwhile</h1>" in page(tmp_path / "public", NEW_URL)


def test_a_new_item_after_an_adding_build_leaves_the_recorded_addresses_unasked(
    mini_copy: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    kept = options(mini_copy, tmp_path / "public")
    build(kept, NOW)
    write_item(mini_copy / NEW_ITEM, "A new statement", "2024-03-20 10:00", "Text.")
    build(kept, NOW)  # writes the record: the next build's record is the one this build left
    asked: list[str] = []
    real = Reading.unkept
    monkeypatch.setattr(Reading, "unkept", lambda self: asked.append("unkept") or real(self))
    write_item(mini_copy / "alpha/2024/2024-03-20-second-statement.md", "A second statement", "2024-03-20 12:00", "T.")
    build(kept, NOW)

    # Its neighbours, day and lists are drawn again where they were: no recorded address came or went.
    assert asked == []
    assert record(mini_copy)["/news/2024/03/20/a-second-statement/"] == "alpha/2024/2024-03-20-second-statement.md"


# A build killed outright (SIGKILL, a power cut) just before or just after it swaps the new site in.
KILLED_AT_THE_SWAP = """
import os, signal, sys
from csto_site.publish import trees
from csto_site.cli import main

def exchange(live, standby, real=trees.exchange):
    if sys.argv[1] == "after":
        real(live, standby)
    os.kill(os.getpid(), signal.SIGKILL)

trees.exchange = exchange
main(sys.argv[2:])
"""


def killed_at_the_swap(when: str, content: Path, out: Path) -> None:
    """Build in another process that is killed outright `when` ("before", "after") it swaps the new site in."""
    killed(KILLED_AT_THE_SWAP, when, *cli_args("build", content, out, "--no-search"))


def killed(script: str, *args: str) -> None:
    """Run a Python script in another process, and expect it to end killed with SIGKILL."""
    done = subprocess.run(
        [sys.executable, "-c", script, *args],
        env={**os.environ, "PYTHONPATH": str(ROOT / "src")},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == -signal.SIGKILL, done.stderr


@pytest.mark.parametrize("when", ["after", "before"])
def test_an_item_deleted_after_a_build_killed_at_its_swap_keeps_its_address_as_published(
    mini_copy: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], when: str
) -> None:
    out = built(mini_copy, tmp_path / "public")
    write_item(mini_copy / NEW_ITEM, "A new statement", "2024-03-20 10:00", "Text.")
    killed_at_the_swap(when, mini_copy, out)
    published = (out / NEW_URL.lstrip("/") / "index.html").is_file()
    assert published == (when == "after")
    assert not published or "<h1>A new statement</h1>" in page(out, NEW_URL)
    assert record(mini_copy)[NEW_URL] == NEW_ITEM  # recorded before the swap, whether or not it came
    (mini_copy / NEW_ITEM).unlink()

    # The safe side: nothing tells the next build whether the swap happened, so the address is kept as published.
    assert f"the published address {NEW_URL} would be lost" in refused(mini_copy, out, capsys)
    assert (out / NEW_URL.lstrip("/") / "index.html").is_file() == published, "and public/ is as it was"
    assert not published or "<h1>A new statement</h1>" in page(out, NEW_URL)


def test_a_build_killed_right_before_its_swap_leaves_addresses_the_next_build_publishes_as_one_not_killed(
    mini_copy: Path, tmp_path: Path
) -> None:
    out = built(mini_copy, tmp_path / "public")
    before = tree(out)
    write_item(mini_copy / NEW_ITEM, "A new statement", "2024-03-20 10:00", "Text.")
    unkilled = built(copy_fixture(tmp_path / "unkilled", mini_copy), tmp_path / "unkilled-public")
    killed_at_the_swap("before", mini_copy, out)
    assert tree(out) == before  # nothing was published
    assert record(mini_copy)[NEW_URL] == NEW_ITEM  # but the record names what the swap was to publish

    built(mini_copy, out)

    assert tree(out) == tree(unkilled)
    assert record(mini_copy) == record(tmp_path / "unkilled")


# A build killed outright (SIGKILL, a power cut) once it has written the record's temporary file, before the rename.
KILLED_WRITING_THE_RECORD = """
import os, signal, sys
from csto_site.cli import main

def replace(source, target, real=os.replace):
    if os.path.basename(target) == "addresses.txt":
        os.kill(os.getpid(), signal.SIGKILL)
    real(source, target)

os.replace = replace
main(sys.argv[1:])
"""


def test_the_record_left_half_written_by_a_killed_build_is_removed_by_the_next_build(
    mini_copy: Path, tmp_path: Path
) -> None:
    out = built(mini_copy, tmp_path / "public")
    before = (mini_copy / "addresses.txt").read_bytes()
    write_item(mini_copy / NEW_ITEM, "A new statement", "2024-03-20 10:00", "Text.")
    killed(KILLED_WRITING_THE_RECORD, *cli_args("build", mini_copy, out, "--no-search"))
    [left] = mini_copy.glob(".addresses.txt.*.tmp")
    assert (mini_copy / "addresses.txt").read_bytes() == before
    writing = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        other = mini_copy / f".addresses.txt.{writing.pid}.tmp"  # another build's, writing right now
        other.write_text("# a record being written\n", encoding="utf-8")

        built(mini_copy, out)

        assert not left.exists()
        assert other.exists()
    finally:
        writing.kill()
        writing.wait()
    assert record(mini_copy)[NEW_URL] == NEW_ITEM


def test_the_record_is_on_disk_before_its_rename_and_the_rename_after_it(
    mini_copy: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    built(mini_copy, tmp_path / "public")
    write_item(mini_copy / NEW_ITEM, "A new statement", "2024-03-20 10:00", "Text.")
    done: list[tuple[str, object]] = []
    fsync, rename = os.fsync, os.replace

    def synced(fd: int) -> None:
        done.append(("fsync", os.fstat(fd).st_ino))
        fsync(fd)

    def renamed(source: str | Path, target: str | Path) -> None:
        if Path(target).name == "addresses.txt":
            done.append(("rename", Path(source).name))
        rename(source, target)

    monkeypatch.setattr(os, "fsync", synced)
    monkeypatch.setattr(os, "replace", renamed)
    built(mini_copy, tmp_path / "public")
    monkeypatch.undo()

    written = (mini_copy / "addresses.txt").stat().st_ino  # the temporary file's, renamed
    assert done == [
        ("fsync", written),
        ("rename", f".addresses.txt.{os.getpid()}.tmp"),
        ("fsync", mini_copy.stat().st_ino),
    ]


def folder_items(content: Path, *places: tuple[str, str]) -> list[Path]:
    """Write items that are folders (section/2024/<name>/index.md), titled after their names; return their files."""
    text = (content / VISIT).read_text(encoding="utf-8")
    files = []
    for section, name in places:
        folder = content / section / "2024" / name
        folder.mkdir(parents=True)
        files.append(folder / "index.md")
        files[-1].write_text(text.replace("Working visit to the River Commission", f"Item {name}"), encoding="utf-8")
    return files


def test_a_deleted_item_folder_leaves_its_addresses_to_no_other_folder(mini_copy: Path, tmp_path: Path) -> None:
    first, _ = folder_items(mini_copy, ("alpha", "first"), ("beta", "second"))
    out = built(mini_copy, tmp_path / "public")
    retract(mini_copy, first)  # every folder item's file is index.md: the name alone tells none of them apart
    shutil.rmtree(first.parent)
    built(mini_copy, out)

    assert "<h1>Item second</h1>" in page(out, "/news/2024/03/12/item-second/")
    assert record(mini_copy)["/news/2024/03/12/item-second/"] == "beta/2024/second/index.md"
    assert record(mini_copy)["/news/2024/03/12/item-first/"] != "beta/2024/second/index.md"


def test_an_item_folder_moved_to_another_section_keeps_its_addresses(mini_copy: Path, tmp_path: Path) -> None:
    first, _ = folder_items(mini_copy, ("alpha", "first"), ("beta", "second"))
    out = built(mini_copy, tmp_path / "public")
    edit(mini_copy, "alpha/2024/first/index.md", "title: Item first", "title: Retitled")
    first.parent.rename(mini_copy / "beta" / "2024" / "first")
    built(mini_copy, out)

    assert "<h1>Retitled</h1>" in page(out, "/news/2024/03/12/item-first/")  # the slug stays the one first published
    assert record(mini_copy)["/news/2024/03/12/item-first/"] == "beta/2024/first/index.md"
    assert record(mini_copy)["/news/2024/03/12/item-second/"] == "beta/2024/second/index.md"


def test_a_retitled_item_made_a_folder_then_moved_keeps_its_addresses_as_a_clean_build_does(
    mini_copy: Path, tmp_path: Path
) -> None:
    out = built(mini_copy, tmp_path / "public")
    alpha, beta, name = mini_copy / "alpha/2024", mini_copy / "beta/2024", "2024-03-12-morning-briefing"

    def retitle() -> None:
        edit(mini_copy, BRIEFING, "title: Morning briefing held", "title: Evening briefing held")

    def make_a_folder() -> None:
        (alpha / name).mkdir()
        (alpha / f"{name}.md").rename(alpha / name / "index.md")
        (alpha / f"{name}.ru.md").rename(alpha / name / "index.ru.md")

    def move_to_another_section() -> None:
        (alpha / name).rename(beta / name)

    def make_a_file_again() -> None:
        (beta / name / "index.md").rename(beta / f"{name}.md")
        (beta / name / "index.ru.md").rename(beta / f"{name}.ru.md")
        (beta / name).rmdir()

    steps = [
        (retitle, f"alpha/2024/{name}"),
        (make_a_folder, f"alpha/2024/{name}/index"),
        (move_to_another_section, f"beta/2024/{name}/index"),
        (make_a_file_again, f"beta/2024/{name}"),
    ]
    for number, (step, stem) in enumerate(steps):
        step()
        built(mini_copy, out)

        assert "<h1>Evening briefing held</h1>" in page(out, BRIEFING_URL), step  # the slug first published
        assert "Состоялся утренний брифинг" in page(out, BRIEFING_RU_URL), step
        assert record(mini_copy)[BRIEFING_URL] == f"{stem}.md", step
        assert record(mini_copy)[BRIEFING_RU_URL] == f"{stem}.ru.md", step
        assert tree(out) == tree(built(mini_copy, tmp_path / f"clean{number}")), step


def test_a_process_that_builds_again_reads_the_record_again_only_when_its_text_changed(
    mini_copy: Path, tmp_path: Path
) -> None:
    built(mini_copy, tmp_path / "public")  # writes the record
    preview = replace(options(mini_copy, tmp_path / "public"), record=False)  # as serve builds
    memo = Memo()
    build(preview, NOW, memo=memo)
    [(first, _)] = memo.records.values()
    edit(mini_copy, VISIT, "title: Working visit to the River Commission", "title: A visit")
    build(preview, NOW, memo=memo)
    [(second, _)] = memo.records.values()
    assert second is first  # the same text, read once

    with (mini_copy / "addresses.txt").open("a", encoding="utf-8") as record_file:
        record_file.write("/news/2001/01/01/a-page-no-one-keeps/\n")
    with pytest.raises(ContentError, match="a-page-no-one-keeps/ would be lost"):
        build(preview, NOW, memo=memo)


def test_a_new_item_folder_does_not_take_the_addresses_of_one_deleted_with_it(mini_copy: Path, tmp_path: Path) -> None:
    [first] = folder_items(mini_copy, ("alpha", "first"))
    out = built(mini_copy, tmp_path / "public")
    retract(mini_copy, first)
    shutil.rmtree(first.parent)
    folder_items(mini_copy, ("beta", "third"))  # in the same build: a new file the record does not name yet
    built(mini_copy, out)

    assert "<h1>Item third</h1>" in page(out, "/news/2024/03/12/item-third/")
    assert record(mini_copy)["/news/2024/03/12/item-third/"] == "beta/2024/third/index.md"


def test_a_deleted_item_leaves_its_addresses_to_no_published_item_of_the_same_file_name(
    mini_copy: Path, tmp_path: Path
) -> None:
    text = (mini_copy / VISIT).read_text(encoding="utf-8")
    twin = mini_copy / "beta/2024/2024-03-12-working-visit.md"  # the same file name in another section
    twin.write_text(text.replace("Working visit to the River Commission", "Another visit"), encoding="utf-8")
    out = built(mini_copy, tmp_path / "public")
    retract(mini_copy, mini_copy / VISIT)
    built(mini_copy, out)

    assert "<h1>Another visit</h1>" in page(out, "/news/2024/03/12/another-visit/")
    assert record(mini_copy)["/news/2024/03/12/another-visit/"] == "beta/2024/2024-03-12-working-visit.md"
    assert record(mini_copy)[VISIT_URL] == VISIT  # retracted where it was, not handed to the other file
