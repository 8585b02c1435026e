"""Search in a real browser: the sample site served on 127.0.0.1 with the CSP of deploy/nginx.conf.

The fixtures (`served`, `page`, `nojs_page`) are the browser suite's (conftest.py): a script error, a
console error such as a CSP violation, or a failed request fails the test.
"""

from __future__ import annotations

import json
import re
import runpy
import urllib.request
from pathlib import Path

import pytest
from helpers.served import ServedSite, served_site
from helpers.site import NOW, ROOT, copy_fixture
from playwright.sync_api import Browser, Page, expect

from csto_site.output.search import bundle_files

SCHMID_2021 = "/news/2021/06/22/zas-meets-osce-secretary-general-schmid/"


def search(page: Page, served: ServedSite, path: str, words: str) -> None:
    """Open a search page, type the words and submit them as a reader would."""
    page.goto(served.url(path))
    expect(page.locator("#search")).to_have_attribute("data-ready", "true")
    page.fill("#search-query", words)
    page.press("#search-query", "Enter")


def result_urls(page: Page) -> list[str]:
    """Return the item addresses of the shown results, in order."""
    return page.locator("#search-results li h2 a").evaluate_all("links => links.map(a => a.getAttribute('href'))")


def test_schmid_finds_the_2021_osce_item_first(page: Page, served: ServedSite) -> None:
    search(page, served, "/search/", "Schmid")
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
    expect(page).to_have_url(served.url(SCHMID_2021))


def test_russian_query_finds_the_russian_item_through_stemming(page: Page, served: ServedSite) -> None:
    # "Афганистаном" is in no item: only the Russian stemmer relates it to "Афганистане", "Афганистану".
    search(page, served, "/ru/search/", "Афганистаном")
    expect(page.locator("#search-results li")).to_have_count(1)
    assert result_urls(page) == ["/ru" + SCHMID_2021]
    expect(page.locator("#search-results .meta time")).to_have_text("22 июня 2021")
    expect(page.locator("#search-results .search-excerpt mark").first).to_have_text(re.compile(r"^Афганистан"))
    expect(page.locator("#search-status")).to_have_text("1 результат по запросу «Афганистаном»")


@pytest.mark.parametrize("word", ["Afghanistan", "Helga", "Schmid"])
def test_a_word_of_one_shard_finds_only_pages_that_have_it(page: Page, served: ServedSite, word: str) -> None:
    # Pagefind's shard without the word falls back to its longest beginning ("a", "he"): left out.
    search(page, served, "/search/", word)
    expect(page.locator("#search-status")).to_have_text(re.compile(rf"^\d+ results? for “{word}”$"))
    urls = result_urls(page)
    assert urls, word
    for url in urls:
        text = (served.out / url.strip("/") / "index.html").read_text(encoding="utf-8")
        assert word in text, (word, url)
    if word == "Afghanistan":
        assert urls == [SCHMID_2021]


def test_each_language_searches_only_its_own_index(page: Page, served: ServedSite) -> None:
    search(page, served, "/search/", "Шмид")
    expect(page.locator("#search-status")).to_have_text(re.compile(r"^Nothing found"))
    expect(page.locator("#search-results li")).to_have_count(0)


def test_a_nonsense_word_finds_nothing(page: Page, served: ServedSite) -> None:
    search(page, served, "/search/", "xqzvtplwk")
    expect(page.locator("#search-status")).to_have_text(re.compile(r"^Nothing found"))
    expect(page.locator("#search-results li")).to_have_count(0)


def test_a_section_filter_narrows_the_results(page: Page, served: ServedSite) -> None:
    content = served.expected
    shown = [e for e in content.published(NOW) if e.lang == "en"]
    interviews = {content.url(e) for e in shown if e.section == "interviews"}
    everything = {content.url(e) for e in shown}
    assert 0 < len(interviews) < len(everything)
    search(page, served, "/search/", "CSTO")
    expect(page.locator("#search-results li")).to_have_count(len(everything))
    page.select_option("#search-section", content.sections["interviews"]["en"])
    expect(page.locator("#search-results li")).to_have_count(len(interviews))
    assert set(result_urls(page)) == interviews
    expect(page.locator("#search-results .meta a")).to_have_text(
        [content.sections["interviews"]["en"]] * len(interviews)
    )
    assert "section=" in page.url
    page.reload()
    expect(page.locator("#search-results li")).to_have_count(len(interviews))


def test_without_javascript_the_page_says_so_and_links_the_archive(nojs_page: Page, served: ServedSite) -> None:
    nojs_page.goto(served.url("/ru/search/"))
    expect(nojs_page.locator("#search")).to_be_hidden()
    expect(nojs_page.locator("#search-fallback")).to_contain_text("JavaScript")
    expect(nojs_page.locator("#search-fallback a")).to_have_attribute("href", "/ru/news/")


def test_the_search_page_is_linked_from_the_header(page: Page, served: ServedSite) -> None:
    page.goto(served.url(SCHMID_2021))
    page.locator("header").get_by_role("link", name="Search").click()
    expect(page).to_have_url(served.url("/search/"))


def test_show_more_adds_the_next_results_and_moves_focus_to_them(
    browser: Browser, served: ServedSite, tmp_path: Path
) -> None:
    with urllib.request.urlopen(served.url("/search/")) as response:
        csp = response.headers["Content-Security-Policy"]
    content = copy_fixture(tmp_path / "fixture")
    for n in range(1, 26):
        (content / "alpha" / "2024" / f"2024-01-{n:02d}-note-{n}.md").write_text(
            f"---\ntitle: Note number {n}\ndate: 2024-01-{n:02d} 10:00\n---\nA zanzibarite note, number {n}.\n",
            encoding="utf-8",
        )
    with served_site(tmp_path / "served", content, headers={"Content-Security-Policy": csp}) as site:
        context = browser.new_context()
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.on("console", lambda message: message.type == "error" and errors.append(message.text))
        search(page, site, "/search/", "zanzibarite")
        expect(page.locator("#search-status")).to_have_text("25 results for “zanzibarite”")
        expect(page.locator("#search-results li")).to_have_count(20)
        page.get_by_role("button", name="Show more results").click()
        expect(page.locator("#search-results li")).to_have_count(25)
        expect(page.locator("#search-results li").nth(20).locator("a").first).to_be_focused()
        expect(page.locator("#search-more")).to_be_hidden()
        context.close()
    assert errors == []


@pytest.mark.parametrize(("path", "words"), [("/search/", "Schmid"), ("/ru/search/", "Шмид")])
def test_axe_finds_no_violation_on_the_search_page_with_results(
    browser: Browser, served: ServedSite, axe_source: str, path: str, words: str
) -> None:
    context = browser.new_context(bypass_csp=True)  # axe is injected as a script, which the CSP forbids
    page = context.new_page()
    search(page, served, path, words)
    expect(page.locator("#search-results li").first).to_be_visible()
    page.add_script_tag(content=axe_source)
    found = page.evaluate("async () => (await axe.run(document)).violations")
    context.close()
    assert [f"{v['id']}: {v['help']} at {n['target']}" for v in found for n in v["nodes"]] == []


def test_one_search_covers_every_shard_of_a_multi_year_archive(browser: Browser, tmp_path: Path) -> None:
    content = tmp_path / "archive"
    generator = runpy.run_path(str(ROOT / "bench" / "generate.py"), run_name="bench_generate")
    generator["generate"](content, 300, 5)  # twenty years: a shard a year, and one a month of the newest
    oldest = min(p for p in content.rglob("*.md") if not p.name.startswith("_") and ".ru." not in p.name)
    oldest.write_text(oldest.read_text(encoding="utf-8") + "\nA quokkaline delegation arrived.\n", encoding="utf-8")
    newest = generator["added_item"](content, 1)
    newest.write_text(newest.read_text(encoding="utf-8") + "\nA wombatory delegation left.\n", encoding="utf-8")
    with served_site(tmp_path / "served", content) as site:
        shards = json.loads((site.out / "pagefind" / "shards.json").read_text(encoding="utf-8"))["en"]
        assert len(shards) > 5, shards  # blocks of old years, last year, the newest month
        context = browser.new_context()
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.on("console", lambda message: message.type == "error" and errors.append(message.text))
        for word, year in (("quokkaline", oldest.name[:4]), ("wombatory", newest.name[:4])):
            search(page, site, "/search/", word)
            expect(page.locator("#search-status")).to_have_text(f"1 result for “{word}”")
            (url,) = result_urls(page)
            assert url.startswith(f"/news/{year}/"), url
            assert word in (site.out / url.strip("/") / "index.html").read_text(encoding="utf-8")
            expect(page.locator("#search-results .search-excerpt mark")).to_have_text(word)
        # A word of every year: a filter narrows the one list of results drawn from every shard.
        search(page, site, "/search/", "delegation")
        expect(page.locator("#search-status")).to_have_text(re.compile(r"^\d+ results"))
        everything = int(page.locator("#search-status").inner_text().split()[0])
        assert len({t[:4] for t in page.locator("#search-results time").evaluate_all(DATETIMES)}) > 1
        page.select_option("#search-year", "2010")
        expect(page.locator("#search-status")).not_to_have_text(re.compile(rf"^{everything} "))
        narrowed = int(page.locator("#search-status").inner_text().split()[0])
        assert 0 < narrowed < everything
        assert set(page.locator("#search-results time").evaluate_all(DATETIMES)) == {"2010"}
        assert "year=2010" in page.url and "q=delegation" in page.url
        context.close()
    assert errors == []


DATETIMES = "times => times.map(t => t.getAttribute('datetime').slice(0, 4))"


SINGLE = """async ([single, words]) => {
  const pagefind = await import(single + "pagefind.js");
  await pagefind.init();
  const found = {};
  for (const word of words) {
    const results = (await pagefind.search(word)).results;
    found[word] = [results.length, (await Promise.all(results.slice(0, 30).map((r) => r.data()))).map((d) => d.url)];
  }
  return found;
}"""
# Words of the generated archive, from rare to common.
QUERIES = ("nuclear", "cyber", "trafficking", "migration", "budget", "terrorism", "exercise", "delegation")
# Of the top 10 results of the search page, how many are in a single index's top 10: the floor for each word
# and for their mean. Measured on this archive: 5 to 10 (mean 0.81); with Pagefind's default ranking,
# which lets each shard's own rarity of a word decide, 1 to 8 (mean 0.41).
OVERLAP_FLOOR, MEAN_OVERLAP_FLOOR = 0.5, 0.75


# Words of two items only, in two shards: the others have no word that begins with them, only with a part of
# them ("budget", "n"), which Pagefind falls back to; and a form of a word every shard has, which stems
# to the same word there ("exercised": "exercis", as "exercise").
RARE = ("budgetary", "nucleonics")
FORM = "exercised"
# Two words of one item each, in two shards: no page has both (each shard falls back for the other word);
# and the two rare words, which both items have.
APART = "quokkaline wombatory"
TOGETHER = " ".join(RARE)


def test_the_search_page_ranks_like_a_single_index_of_the_same_pages(browser: Browser, tmp_path: Path) -> None:
    content = tmp_path / "archive"
    runpy.run_path(str(ROOT / "bench" / "generate.py"), run_name="bench_generate")["generate"](content, 300, 5)
    english = sorted(p for p in content.rglob("*.md") if not p.name.startswith("_") and ".ru." not in p.name)
    for item, own in ((english[0], "quokkaline"), (english[len(english) // 2], "wombatory")):
        text = item.read_text(encoding="utf-8") + f"\nA {' and '.join(RARE)} debate, {own} too.\n"
        item.write_text(text, encoding="utf-8")
    with served_site(tmp_path / "served", content) as site:
        # The same English item pages, indexed by one Pagefind run as one index, served beside the shards.
        pages = [p for p in site.out.rglob("index.html") if b"data-pagefind-body" in p.read_bytes()]
        english = [p for p in pages if not p.relative_to(site.out).as_posix().startswith("ru/")]
        laid = tmp_path / "single-site"
        for path in english:
            target = laid / path.relative_to(site.out)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(path.read_bytes())
        for name, data in bundle_files(laid).items():
            target = site.out / "single" / name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
        context = browser.new_context()
        page = context.new_page()
        sharded = {}
        for word in (*QUERIES, *RARE, FORM, TOGETHER):
            search(page, site, "/search/", word)
            expect(page.locator("#search-status")).to_contain_text(word)
            sharded[word] = int(page.locator("#search-status").inner_text().split()[0]), result_urls(page)[:10]
        search(page, site, "/search/", APART)
        expect(page.locator("#search-status")).to_have_text(re.compile(r"^Nothing found"))
        page.goto(site.url("/"))  # not the search page, whose own script would merge the shards into the module
        single = page.evaluate(SINGLE, ["/single/", [*QUERIES, *RARE, FORM, TOGETHER, APART]])
        context.close()
    assert single[APART][0] == 0, single[APART]  # one index finds no page with both words either
    for word in (*RARE, TOGETHER):  # the shards that fell back to "budget" or "n" are left out
        assert sharded[word][0] == single[word][0] == 2, (word, sharded[word], single[word])
        assert set(sharded[word][1]) == set(single[word][1]), word
    assert sharded[FORM][0] == single[FORM][0] > 10, (sharded[FORM][0], single[FORM][0])
    overlaps = {}
    for word in QUERIES:
        (count, shown), (whole_count, whole) = sharded[word], single[word]
        assert count == whole_count > 10, (word, count, whole_count)  # every shard answers: no page is lost
        overlaps[word] = len(set(shown) & set(whole[:10])) / 10
    print("top 10 of the search page in a single index's top 10:", overlaps)
    assert min(overlaps.values()) >= OVERLAP_FLOOR and sum(overlaps.values()) / len(QUERIES) >= MEAN_OVERLAP_FLOOR, (
        overlaps
    )


def test_the_filters_list_their_choices_in_the_order_the_pages_do(page: Page, served: ServedSite) -> None:
    search(page, served, "/ru/search/", "ОДКБ")
    expect(page.locator("#search-results li").first).to_be_visible()
    order = json.loads(page.locator("#search").get_attribute("data-order") or "{}")
    for name in ("section", "official", "organization"):
        shown = page.locator(f"#search-{name} option").evaluate_all("options => options.map(o => o.value)")[1:]
        assert shown, name
        assert shown == [choice for choice in order[name] if choice in shown], name
