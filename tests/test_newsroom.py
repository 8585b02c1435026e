"""The item page of a newsroom: dateline, breadcrumbs, the public log of updates, related news.

Each feature is checked on real builds of the mini fixture (changed where a test needs it) and of the
sample content, and each mistake in its front matter as a `path:line` problem.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from helpers.dom import Document, read_html
from helpers.links import target_file
from helpers.site import SAMPLE, build_into, copy_fixture
from test_validation import Run, write

JOINT = "beta/2024/2024-05-20-joint-statement.md"
JOINT_PAGE = "news/2024/05/20/joint-statement/index.html"


def edit(path: Path, old: str, new: str) -> None:
    """Replace the first `old` in a file with `new`, failing when it is not there."""
    text = path.read_text(encoding="utf-8")
    assert old in text, (path, old)
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def blocks(doc: Document) -> dict[str, dict]:
    """Return the page's JSON-LD blocks by @type."""
    found = [json.loads("".join(b.parts)) for b in doc.find_all("script", type="application/ld+json")]
    return {b["@type"]: b for b in found}


def in_class(doc: Document, tag: str, cls: str) -> list:
    """Return the elements with this tag inside the first element of class `cls`.

    The flat element list has no nesting: the block is taken to end where the next <section>, <nav>,
    <footer> or <article> starts, which holds for the blocks these tests read.
    """
    start = next(e for e in doc.elements if cls in (e.get("class") or "").split())
    after = doc.elements[doc.elements.index(start) + 1 :]
    end = next((e.line for e in after if e.tag in ("section", "nav", "footer", "article")), 10**9)
    return [e for e in after if e.tag == tag and e.line < end]


@pytest.fixture
def mini_content(tmp_path: Path) -> Path:
    """A private copy of the mini fixture's content folder."""
    return copy_fixture(tmp_path / "content")


def build(content: Path) -> Path:
    """Build a content folder and return the output folder."""
    out = content.parent / "public"
    build_into(content, out)
    return out


# The dateline


def test_place_makes_a_dateline_in_each_language(mini_content):
    edit(mini_content / JOINT, "\nslug:", "\nplace: Minsk\nslug:")
    edit(mini_content / JOINT.replace(".md", ".ru.md"), "\nofficials:", "\nplace: Минск\nofficials:")
    out = build(mini_content)
    en = read_html(out / JOINT_PAGE)
    ru = read_html(out / "ru" / JOINT_PAGE)
    assert en.find("span", **{"class": "dateline"}).text == "Minsk, 20 May 2024"
    assert ru.find("span", **{"class": "dateline"}).text == "Минск, 20 мая 2024"


def test_no_place_no_dateline_comma(mini_site):
    doc = read_html(mini_site / JOINT_PAGE)
    assert doc.find("span", **{"class": "place"}) is None
    assert doc.find("span", **{"class": "dateline"}).text == "20 May 2024"


def test_the_sample_gives_a_place_only_where_the_seed_does(sample_site):
    # The seed says the graduates met in Moscow; of the Zas-Schmid meeting it says only "the Russian Federation".
    school = read_html(next(sample_site.glob("news/2024/07/25/*/index.html")))
    assert school.find("span", **{"class": "dateline"}).text == "Moscow, 25 July 2024"
    ru = read_html(next(sample_site.glob("ru/news/2024/07/25/*/index.html")))
    assert ru.find("span", **{"class": "dateline"}).text == "Москва, 25 июля 2024"
    for page in sample_site.glob("**/news/20*/*/*/*/index.html"):
        if "/07/25/" not in page.as_posix():
            assert read_html(page).find("span", **{"class": "place"}) is None, page


@pytest.mark.parametrize(
    ("value", "message", "hint"),
    [
        ("[Moscow, Minsk]", "`place` must be text", "(write it in this file's language, e.g. `place: Moscow`"),
        ("M" * 101, "`place` has 101 characters; a dateline's place has at most 100", "say more in the text)"),
    ],
)
def test_a_bad_place_is_reported_at_its_line(mini_copy, capsys, value, message, hint):
    run = Run(mini_copy, capsys)
    write(run.content, "alpha/a.md", f"---\ntitle: A\ndate: 2024-01-01\nplace: {value}\n---\nBody.\n")
    problem = run.build()
    assert len(problem) == 1, problem
    assert problem[0].startswith(f"{run.content / 'alpha/a.md'}:4: "), problem
    assert message in problem[0] and hint in problem[0], problem


# The public log of updates


def test_the_updates_log_is_shown_oldest_first_and_drives_date_modified(mini_content):
    edit(
        mini_content / JOINT,
        "\nslug:",
        "\nupdated: 2024-05-21\nupdates:\n"
        "  - {date: 2024-06-02 10:00, note: Added the list of areas of joint work.}\n"
        "  - {date: 2024-05-22, note: Corrected the name of the River Commission.}\nslug:",
    )
    out = build(mini_content)
    doc = read_html(out / JOINT_PAGE)
    log = in_class(doc, "li", "updates")
    assert [li.text for li in log] == [
        "Updated 22 May 2024: Corrected the name of the River Commission.",
        "Updated 2 June 2024: Added the list of areas of joint work.",
    ]
    # The latest change of the log and `updated:` is the one the header, the feeds and the metadata give.
    latest = "2024-06-02T10:00:00+03:00"
    assert blocks(doc)["NewsArticle"]["dateModified"] == latest
    assert doc.find("meta", property="article:modified_time").get("content") == latest
    header = doc.find("a", href="#updates")
    assert header is not None and header.text == "Updated", "the header's date links to the log"
    assert doc.find("section", id="updates") is not None


def test_without_a_log_there_is_no_updates_section(mini_site):
    doc = read_html(mini_site / JOINT_PAGE)
    assert doc.find("section", id="updates") is None
    assert doc.find("a", href="#updates") is None


UPDATE_CASES = [
    ("  - {note: Fixed.}", 5, "this update has no `date`", "(add the day of the change: `date: 2024-07-03`)"),
    ("  - {date: 2024-01-02}", 5, "this update has no `note`", "Deputy Foreign Minister`)"),
    ("  - {date: 2023-12-31, note: Fixed.}", 5, "comes before the item's date", "correct its date)"),
    ("  - {date: 2024-02-30, note: Fixed.}", 5, "the update's date", "ISO 8601 with an offset)"),
    (
        "  - {date: 2024-01-02, note: Fixed., by: me}",
        5,
        "unknown key `by` in an entry of `updates`",
        '(known: "date", "note")',
    ),
    ("  - Fixed a typo.", 5, "an entry of `updates` must have a `date` and a `note`", "Deputy Foreign Minister}`)"),
    ("  {date: 2024-01-02}", 4, "`updates` must be a list of changes", "Deputy Foreign Minister}`)"),
]


@pytest.mark.parametrize(("entry", "line", "message", "hint"), UPDATE_CASES)
def test_a_bad_update_is_reported_at_its_line(mini_copy, capsys, entry, line, message, hint):
    run = Run(mini_copy, capsys)
    write(run.content, "alpha/a.md", f"---\ntitle: A\ndate: 2024-01-01\nupdates:\n{entry}\n---\nBody.\n")
    problems = run.build()
    assert len(problems) == 1, problems
    assert problems[0].startswith(f"{run.content / 'alpha/a.md'}:{line}: "), problems
    assert message in problems[0] and problems[0].endswith(hint), problems


def test_every_bad_update_is_reported_at_its_own_line(mini_copy, capsys):
    run = Run(mini_copy, capsys)
    body = "  - {date: 2024-01-02, note: Fine.}\n  - {note: Fixed.}\n  - {date: 2024-01-03}\n"
    write(run.content, "alpha/a.md", f"---\ntitle: A\ndate: 2024-01-01\nupdates:\n{body}---\nBody.\n")
    problems = run.build()
    where = run.content / "alpha/a.md"
    assert [p.split(": ", 1)[0] for p in problems] == [f"{where}:6", f"{where}:7"], problems


# Breadcrumbs


def test_every_item_page_has_breadcrumbs_home_section_year(site):
    expected = site.expected
    for entry in site.items:
        doc = read_html(target_file(site.out, expected.url(entry)))
        trail = in_class(doc, "a", "trail")
        prefix = expected.prefix(entry.lang)
        year = entry.published.year
        assert [a.get("href") for a in trail] == [
            f"{prefix}/",
            f"{prefix}/sections/{entry.section}/",
            f"{prefix}/sections/{entry.section}/{year}/",
        ], expected.url(entry)
        assert [a.text for a in trail][1:] == [expected.sections[entry.section][entry.lang], str(year)]
        for a in trail:
            assert target_file(site.out, a.get("href")).is_file(), a.get("href")
        data = blocks(doc)["BreadcrumbList"]
        assert data["@context"] == "https://schema.org"
        assert data["itemListElement"] == [
            {"@type": "ListItem", "position": n, "name": a.text, "item": expected.absolute(a.get("href"))}
            for n, a in enumerate(trail, start=1)
        ]


# Related news


def test_related_news_share_officials_or_organizations(site):
    expected = site.expected
    publisher = {i for i, names in expected.organization_names.items() if names == expected.site_title}
    by_url = {expected.url(e): e for e in site.items}
    shown = 0
    for entry in site.items:
        doc = read_html(target_file(site.out, expected.url(entry)))
        links = in_class(doc, "a", "related") if doc.find("section", **{"class": "related"}) else []
        assert len(links) <= 5
        tags = set(entry.officials) | (set(entry.organizations) - publisher)
        for a in links:
            other = by_url[a.get("href")]
            assert other.key != entry.key, "never itself or its translation"
            assert other.lang == entry.lang
            assert tags & (set(other.officials) | set(other.organizations)), (entry.rel, other.rel)
        shown += len(links)
    assert shown, "some item of the site has related news"


def test_related_news_prefer_most_shared_then_newest_and_stop_at_five(mini_content):
    # Six items that all share one official with the joint statement; two share two of its tags.
    for n in range(1, 7):
        tags = "[ivan-orlov, anna-petrova]" if n in (2, 5) else "[ivan-orlov]"
        write(
            mini_content,
            f"alpha/2024/2024-04-0{n}-r.md",
            f"---\ntitle: R{n}\ndate: 2024-04-0{n}\nofficials: {tags}\n---\nB.\n",
        )
    out = build(mini_content)
    doc = read_html(out / JOINT_PAGE)
    titles = [a.text for a in in_class(doc, "a", "related")]
    assert len(titles) == 5, titles
    # R5 and R2 share two tags, as the fixture's own items do; R1, R3, R4 and R6 share one: the five
    # places go to the items sharing more, and among equals to the newest.
    assert titles.index("R5") < titles.index("R2"), titles
    assert not {"R1", "R3", "R4", "R6"} & set(titles), titles


def test_the_publishing_organization_relates_nothing(tmp_path):
    content = copy_fixture(tmp_path / "content", SAMPLE)
    out = build(content)
    school = read_html(next(out.glob("news/2024/07/25/*/index.html")))
    # The school item shares only the CSTO with the other items (every item names it).
    assert school.find("section", **{"class": "related"}) is None


def test_the_interview_is_tagged_with_nato(sample_site):
    doc = read_html(next(sample_site.glob("news/2024/07/10/*/index.html")))
    assert "/organizations/nato/" in [a.get("href") for a in doc.find_all("a")]
    ru = read_html(next(sample_site.glob("ru/news/2024/07/10/*/index.html")))
    assert "/ru/organizations/nato/" in [a.get("href") for a in ru.find_all("a")]
