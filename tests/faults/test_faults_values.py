"""Hostile values in every file an editor writes: a clear `path:line` problem, or a correct build.

Each case changes a copy of a built mini site (its content, templates or static files), then runs the
real command line. A value the code cannot use must stop the build with exit status 1, name the file
and line, print no traceback, and leave `public/` exactly as the last build left it. The values are
those that passed validation and then crashed the build (too long to be a file name, out of the
calendar's range, a label of another kind than its default), or reached an HTTP header, a feed or
the nginx include unescaped, and their neighbours of the same kind.
"""

from __future__ import annotations

import io
import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest
from helpers.site import MINI, STATIC, TEMPLATES, snapshot

from csto_site import cli
from csto_site.reporter import Reporter

ITEM = "content/alpha/2024/2024-06-01-hostile-value.md"
ITEM_PAGE = "news/2024/06/01/hostile-value/index.html"
SITE = "content/site.yaml"
OFFICIALS = "content/officials.yaml"
ORGANIZATIONS = "content/organizations.yaml"
LABELS = "templates/labels.yaml"


def labels_line(start: str) -> int:
    """Return the number of the first line of templates/labels.yaml that starts with `start`.

    Found, not written down: a label added above would otherwise move every expected line.
    """
    lines = (TEMPLATES / "labels.yaml").read_text(encoding="utf-8").splitlines()
    return next(n for n, line in enumerate(lines, start=1) if line.startswith(start))


@dataclass(frozen=True)
class Edit:
    """One change to a file of the site: write it whole, add to its end, or replace a text in it."""

    rel: str
    text: str
    old: str = ""  # replace this text with `text`
    append: bool = False

    def apply(self, site: Path) -> None:
        path = site / self.rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if self.old:
            before = path.read_text(encoding="utf-8")
            assert self.old in before, (self.rel, self.old)
            path.write_text(before.replace(self.old, self.text, 1), encoding="utf-8")
        elif self.append:
            with path.open("a", encoding="utf-8") as file:
                file.write(self.text)
        else:
            path.write_text(self.text, encoding="utf-8")


@dataclass(frozen=True)
class Case:
    """Hostile values and the problem they must give: in which file (relative to the site), at which line."""

    name: str
    edits: tuple[Edit, ...]
    where: str
    line: int  # 0: the problem names the file without a line
    message: str


def item(extra: str = "", date: str = "2024-06-01 10:00", title: str = "Hostile value") -> Edit:
    """A new item whose front matter holds `extra` from line 4 on."""
    return Edit(ITEM, f"---\ntitle: {title}\ndate: {date}\n{extra}\n---\nBody of the item.\n")


def alias(url: str) -> Edit:
    """A new item with one old address, on line 4."""
    return item(f"aliases: [{json.dumps(url, ensure_ascii=False)}]")


def site_line(text: str) -> Edit:
    """Lines added to the end of site.yaml (the mini fixture's has 9; the first added is line 10)."""
    return Edit(SITE, text, append=True)


def site_value(old: str, new: str) -> Edit:
    """Replace a value in site.yaml."""
    return Edit(SITE, new, old=old)


def official(entry: str) -> Edit:
    """An entry added to officials.yaml after a blank line (the mini fixture's has 12 lines: the id is on line 14)."""
    return Edit(OFFICIALS, "\n" + entry, append=True)


def case(name: str, edit: Edit | tuple[Edit, ...], where: str, line: int, message: str) -> Case:
    return Case(name, edit if isinstance(edit, tuple) else (edit,), where, line, message)


LONG_PART = "too-long-" + "a" * 192  # 201 bytes
CYRILLIC_PART = "я" * 101  # 101 letters, 202 bytes
# The Russian names of the months in the genitive, as labels.yaml gives them.
RU_MONTHS_OF = (
    "  months_of: [января, февраля, марта, апреля, мая, июня, июля, августа, сентября, октября, ноября, декабря]\n"
)
LONG_PATH = "/" + "/".join(["b" * 150] * 7) + "/"  # 1,058 bytes, each part short enough

CASES = [
    # Addresses the file system cannot hold, or that hold control characters.
    case("alias part over 200 bytes", alias(f"/old/{LONG_PART}/"), ITEM, 4, "201 bytes long, more than the 200"),
    case(
        "alias part of Cyrillic letters over 200 bytes",
        alias(f"/old/{CYRILLIC_PART}/"),
        ITEM,
        4,
        "202 bytes long, more than the 200",
    ),
    case("alias page file over 200 bytes", alias(f"/old/{LONG_PART}.html"), ITEM, 4, "more than the 200"),
    case("alias over 1,000 bytes", alias(LONG_PATH), ITEM, 4, "more than the 1000 a path may have"),
    case("alias with an encoded CR LF", alias("/old%0d%0aX/"), ITEM, 4, "control character U+000D"),
    case("alias with an encoded DEL", alias("/old%7F/"), ITEM, 4, "control character U+007F"),
    case("alias with an encoded NUL", alias("/old%00/"), ITEM, 4, "control character U+0000"),
    case("alias whose escapes are not UTF-8", alias("/old%ff/"), ITEM, 4, "its %-escapes are not UTF-8 text"),
    case("alias with a bare percent", alias("/100%/"), ITEM, 4, 'a "%" must start a %-escape'),
    # Old addresses on files and folders the build writes itself.
    case("alias on the search bundle", alias("/pagefind/"), ITEM, 4, "is a file the build writes itself"),
    case("alias on a search script", alias("/pagefind/pagefind.js"), ITEM, 4, "is a file the build writes itself"),
    case("alias below the static files", alias("/static/style.css"), ITEM, 4, "is a file the build writes itself"),
    case("alias on the static folder", alias("/static"), ITEM, 4, "is a file the build writes itself"),
    case("alias on a compressed sitemap", alias("/sitemap.xml.gz"), ITEM, 4, "is a file the build writes itself"),
    case("alias on a compressed feed", alias("/news/rss.xml.br"), ITEM, 4, "is a file the build writes itself"),
    case("alias on a feed", alias("/news/rss.xml"), ITEM, 4, "is the address of /news/rss.xml"),
    case("alias on robots.txt", alias("/robots.txt"), ITEM, 4, "is the address of /robots.txt"),
    case("alias on the nginx include", alias("/nginx-redirects.conf"), ITEM, 4, "is the address of"),
    case("alias on a 404 page", alias("/ru/404.html"), ITEM, 4, "is the address of /ru/404.html"),
    case(
        "site redirect from the search bundle",
        site_line('redirects:\n  "/pagefind/": /news/\n'),
        SITE,
        11,
        "is a file the build writes itself",
    ),
    case(
        "moved folder whose addresses grow too long",
        site_line(f'redirects:\n  "{LONG_PATH[:995]}/": /sections/alpha/\n'),
        SITE,
        11,
        "more than the 1000 a path may have",
    ),
    case(
        "official id over 200 bytes",
        official(f"{'o' * 201}:\n  name: Long\n"),
        OFFICIALS,
        14,
        "the id is 201 characters long",
    ),
    case(
        "section folder over 200 bytes",
        Edit(f"content/{'s' * 201}/_index.md", "---\ntitle: Long\n---\n"),
        f"content/{'s' * 201}/_index.md",
        1,
        "more than the 200 an address part may have",
    ),
    case(
        "item file name over 200 bytes",
        Edit(f"content/alpha/{'f' * 198}.md", item().text),
        f"content/alpha/{'f' * 198}.md",
        0,
        "201 bytes long, more than the 200",
    ),
    case(
        "item file name with a line break",
        Edit("content/alpha/a\nb.md", item().text),
        "content/alpha/a\nb.md",
        0,
        "control character U+000A",
    ),
    case(
        "static file name over 200 bytes",
        Edit(f"static/{'n' * 197}.txt", "text"),
        f"static/{'n' * 197}.txt",
        0,
        "201 bytes long, more than the 200",
    ),
    # Dates outside the calendar the site can use.
    case("far-future date", item(date="9999-12-31"), ITEM, 3, "the year 9999 is outside 1970–2999"),
    case("year 1 with an offset", item(date="0001-01-01T00:00:00+05:00"), ITEM, 3, "the year 1 is outside"),
    case("date before 1970", item(date="1969-12-31 23:59"), ITEM, 3, "the year 1969 is outside"),
    case("far-future update", item("updated: 9999-12-31"), ITEM, 4, "the year 9999 is outside"),
    case(
        "updated before published",
        item("updated: 2024-05-31"),
        ITEM,
        4,
        "the item is updated (2024-05-31 00:00) before it is published (2024-06-01 10:00)",
    ),
    case(
        "role from a far-future date",
        official("pavel-sidorov:\n  name: Pavel Sidorov\n  roles:\n    - {title: Envoy, from: 9999-12-31}\n"),
        OFFICIALS,
        17,
        "the year 9999 is outside",
    ),
    case(
        "role from year 1",
        official("pavel-sidorov:\n  name: Pavel Sidorov\n  roles:\n    - title: Envoy\n      from: 0001-01-01\n"),
        OFFICIALS,
        18,
        "the year 1 is outside",
    ),
    case(
        "role that ends before it begins",
        official(
            "pavel-sidorov:\n  name: Pavel Sidorov\n  roles:\n    - title: Envoy\n      from: 2024-01-01\n"
            "      to: 2023-12-31\n"
        ),
        OFFICIALS,
        19,
        "the role ends (2023-12-31) before it begins",
    ),
    # Labels of another kind than their default.
    case(
        "label months as a number",
        site_line("labels: {en: {months: 5}}\n"),
        SITE,
        10,
        "`en.months` must be a list of texts",
    ),
    case(
        "label items as text",
        site_line('labels:\n  en:\n    items: "x"\n'),
        SITE,
        12,
        "`en.items` must be a list of texts",
    ),
    case(
        "label home_items as text",
        site_line('labels:\n  ru:\n    home_items: "20"\n'),
        SITE,
        12,
        "`ru.home_items` must be a whole number from 1 to 1000",
    ),
    case("label home_items zero", site_line("labels: {en: {home_items: 0}}\n"), SITE, 10, "whole number from 1"),
    case(
        "label listing_items huge",
        site_line("labels: {en: {listing_items: 1000000000000}}\n"),
        SITE,
        10,
        "whole number from 1 to 1000",
    ),
    case(
        "label months eleven",
        site_line("labels: {en: {months: [a, b, c, d, e, f, g, h, i, j, k]}}\n"),
        SITE,
        10,
        "`en.months` must list 12 texts",
    ),
    case(
        "label with two placeholders",
        site_line("labels: {en: {footnote_back: 'Back to %d of %d'}}\n"),
        SITE,
        10,
        "may hold one %d",
    ),
    case("label empty", site_line('labels:\n  en:\n    go_back: ""\n'), SITE, 12, "`en.go_back` is empty"),
    case("label as a list", site_line("labels: {en: {go_back: [a, b]}}\n"), SITE, 10, "`en.go_back` must be text"),
    case(
        "label with an invisible character",
        site_line('labels: {en: {go_back: "Back\\e"}}\n'),
        SITE,
        10,
        "control character U+001B",
    ),
    case(
        "labels of an unknown language",
        site_line("labels: {de: {go_back: Zurück}}\n"),
        SITE,
        10,
        "`labels` has unknown language 'de'",
    ),
    case(
        "labels of a language as text",
        site_line("labels:\n  en: text\n"),
        SITE,
        11,
        "`labels.en` must be `label: text` lines",
    ),
    case(
        "labels.yaml number as text",
        Edit(LABELS, 'home_items: "10"', old="home_items: 10"),
        LABELS,
        labels_line("  home_items: 10"),
        "`en.home_items` must be a whole number",
    ),
    case(
        "labels.yaml language lacking a label",
        Edit(LABELS, "", old=RU_MONTHS_OF),
        LABELS,
        labels_line("ru:"),
        "the `ru` labels lack `months_of`",
    ),
    case(
        "labels.yaml first language lacking a label the code reads",
        Edit(LABELS, "", old="  all_news: All news\n"),
        LABELS,
        3,
        "the `en` labels lack `all_news`",
    ),
    case(
        "labels.yaml months of another length",
        Edit(LABELS, "[Январь, ", old="[Январь, Февраль, "),
        LABELS,
        labels_line("  months: [Январь"),
        "`ru.months` must list 12 texts",
    ),
    # site.yaml values.
    case(
        "base_url with markup",
        site_value("https://example.org", '"https://x.org/\\"><script>alert(1)</script>"'),
        SITE,
        3,
        "`base_url` must be an absolute http(s) address",
    ),
    case(
        "base_url with a query",
        site_value("https://example.org", "https://example.org/?a=1"),
        SITE,
        3,
        "`base_url` must be",
    ),
    case(
        "base_url with a path",  # the pages link /news/..., /static/...: served under a path, they would break
        site_value("https://example.org", "https://example.org/archive"),
        SITE,
        3,
        "`base_url` must be an absolute http(s) address: a host name and an optional port, no path",
    ),
    case(
        "base_url with a space",
        site_value("https://example.org", '"https://exa mple.org"'),
        SITE,
        3,
        "`base_url` must be",
    ),
    case(
        "base_url with a port out of range",
        site_value("https://example.org", "https://example.org:99999"),
        SITE,
        3,
        "`base_url` must be",
    ),
    case(
        "base_url of another scheme",
        site_value("https://example.org", "javascript:alert(1)"),
        SITE,
        3,
        "`base_url` must be",
    ),
    case(
        "feed_length huge",
        site_value("feed_length: 3", "feed_length: 1000000000000"),
        SITE,
        6,
        "`feed_length` must be a whole number from 1 to 1000",
    ),
    case("feed_length zero", site_value("feed_length: 3", "feed_length: 0"), SITE, 6, "`feed_length` must be"),
    case("time zone that is a folder", site_value("Europe/Moscow", "Europe"), SITE, 5, "unknown time zone 'Europe'"),
    case("empty site title", site_value("title: {en: Mini Test Site,", 'title: {en: "",'), SITE, 1, "`title` is empty"),
    case(
        "site title with NUL",
        site_value("title: {en: Mini Test Site,", 'title: {en: "Mini\\0Site",'),
        SITE,
        1,
        "control character U+0000",
    ),
    case(
        "site description with ESC",
        site_value("{en: A small fixture site for tests.,", '{en: "\\eA small fixture site for tests.",'),
        SITE,
        2,
        "control character U+001B",
    ),
    case(
        "phone that is not a number",
        site_value('phones: ["+7 495-000-00-00"]', 'phones: ["call us"]'),
        SITE,
        9,
        "`press_contact.phones` must be a list of quoted numbers",
    ),
    case(
        "email with a space",
        site_line('  email: "press office@example.org"\n'),
        SITE,
        10,
        "`press_contact.email` must be an email address",
    ),
    case(
        "press contact name with ESC",
        site_value("{en: The Press Office,", '{en: "The\\e Press Office",'),
        SITE,
        8,
        "control character U+001B",
    ),
    # officials.yaml and organizations.yaml values.
    case(
        "roles as a number",
        official("pavel-sidorov:\n  name: Pavel Sidorov\n  roles: 5\n"),
        OFFICIALS,
        16,
        "`roles` must be a list of roles",
    ),
    case(
        "roles as a mapping",
        official("pavel-sidorov:\n  name: Pavel Sidorov\n  roles: {title: Envoy}\n"),
        OFFICIALS,
        16,
        "`roles` must be a list of roles",
    ),
    case(
        "role with an unknown key",
        official("pavel-sidorov:\n  name: Pavel Sidorov\n  roles:\n    - title: Envoy\n      form: 2024-01-01\n"),
        OFFICIALS,
        18,
        "unknown key `form`",
    ),
    case(
        "empty official name",
        official('pavel-sidorov:\n  name: {en: Pavel Sidorov, ru: ""}\n'),
        OFFICIALS,
        15,
        "`name` is empty",
    ),
    case(
        "empty official alias",
        official('pavel-sidorov:\n  name: Pavel Sidorov\n  aliases: [P. S., ""]\n'),
        OFFICIALS,
        16,
        "the alias '' is empty",
    ),
    case(
        "official alias with NUL",
        official('pavel-sidorov:\n  name: Pavel Sidorov\n  aliases: ["P.\\0S."]\n'),
        OFFICIALS,
        16,
        "control character U+0000",
    ),
    case(
        "name shared by two officials",
        official("pavel-sidorov:\n  name: Pavel Sidorov\n  aliases: [i. orlov]\n"),
        OFFICIALS,
        14,
        '"i. orlov" names both `ivan-orlov` (line 8) and `pavel-sidorov`',
    ),
    case(
        "empty organization short name",
        Edit(ORGANIZATIONS, '\nsea-council:\n  short: ""\n  name: Sea Council\n', append=True),
        ORGANIZATIONS,
        12,
        "`short` is empty",
    ),
    # Section and item texts.
    case(
        "section title with ESC",
        Edit("content/alpha/_index.md", 'title: "Alpha\\e"', old="title: Alpha"),
        "content/alpha/_index.md",
        2,
        "control character U+001B",
    ),
    case(
        "section description with NUL",
        Edit("content/alpha/_index.md", 'description: "\\0"', old="description: The first test section."),
        "content/alpha/_index.md",
        3,
        "control character U+0000",
    ),
    case("item title with NUL", item(title='"Hostile\\0value"'), ITEM, 2, "control character U+0000"),
    case("item title with a non-character", item(title='"Hostile\\uffff"'), ITEM, 2, "control character U+FFFF"),
    case("item summary with ESC", item('summary: "\\e[31mred"'), ITEM, 4, "control character U+001B"),
]


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The mini site with its own templates and static files, built once by the real command line."""
    base = tmp_path_factory.mktemp("values") / "site"
    shutil.copytree(MINI, base / "content")
    shutil.copytree(TEMPLATES, base / "templates")
    shutil.copytree(STATIC, base / "static")
    assert cli.main(command("build", base)) == 0
    return base


@pytest.fixture
def site(built: Path, tmp_path: Path) -> Path:
    """A private copy of the built site: content, templates, static files, output and its record, cache."""
    return Path(shutil.copytree(built, tmp_path / "site", symlinks=True))


def command(name: str, site: Path, *extra: str) -> list[str]:
    """Return the arguments of a command on the site's own folders."""
    return [
        name,
        "--content",
        str(site / "content"),
        "--out",
        str(site / "public"),
        "--templates",
        str(site / "templates"),
        "--static",
        str(site / "static"),
        "--cache",
        str(site / "cache"),
        "--no-search",
        "--quiet",
        *extra,
    ]


def run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    """Run the real command line; return its exit status and everything it printed."""
    status = cli.main(args)
    printed = capsys.readouterr()
    return status, printed.out + printed.err


def place(site: Path, where: str, line: int) -> str:
    """Return how a problem's place is printed: the path (control characters as escapes) and the line."""
    shown = str(site / where).replace("\n", "\\n")
    return f"{shown}:{line}: " if line else f"{shown}: "


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_a_hostile_value_stops_the_build_at_its_line(
    case: Case, site: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = snapshot(site / "public")
    for edit in case.edits:
        edit.apply(site)

    status, printed = run(command("build", site), capsys)

    assert "Traceback" not in printed
    assert status == 1, printed
    assert f"{place(site, case.where, case.line)}" in printed, printed
    assert case.message in printed, printed
    assert printed.endswith("nothing was written.\n"), printed
    assert snapshot(site / "public") == before


CHECKED = [
    c
    for c in CASES
    if c.name
    in {
        "far-future date",
        "label home_items as text",
        "alias on the search bundle",
        "alias with an encoded CR LF",
        "official id over 200 bytes",
    }
]


@pytest.mark.parametrize("case", CHECKED, ids=[c.name for c in CHECKED])
def test_check_reports_the_same_problem(case: Case, site: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for edit in case.edits:
        edit.apply(site)

    status, printed = run(command("check", site), capsys)

    assert "Traceback" not in printed
    assert status == 1, printed
    assert f"{place(site, case.where, case.line)}" in printed and case.message in printed, printed


@pytest.mark.parametrize("date", ["9999-12-31", "0001-01-01T00:00:00+05:00", "1969-12-31"])
def test_new_refuses_a_date_the_build_would_refuse(date: str, site: Path, capsys: pytest.CaptureFixture[str]) -> None:
    before = sorted(p.relative_to(site) for p in (site / "content").rglob("*"))

    status, printed = run(
        [
            "new",
            "Hostile value",
            "--content",
            str(site / "content"),
            "--templates",
            str(site / "templates"),
            "--section",
            "alpha",
            "--date",
            date,
        ],
        capsys,
    )

    assert "Traceback" not in printed
    assert status == 1
    assert f"--date: {date!r}: the year" in printed, printed
    assert sorted(p.relative_to(site) for p in (site / "content").rglob("*")) == before


def test_new_refuses_a_title_the_build_would_refuse(site: Path, capsys: pytest.CaptureFixture[str]) -> None:
    before = sorted(p.relative_to(site) for p in (site / "content").rglob("*"))

    status, printed = run(
        [
            "new",
            "Hostile\x1b[31m value",
            "--content",
            str(site / "content"),
            "--templates",
            str(site / "templates"),
            "--section",
            "alpha",
        ],
        capsys,
    )

    assert "Traceback" not in printed
    assert (status, printed.splitlines()[0]) == (
        1,
        "TITLE: the title holds the invisible control character U+001B (type the title again without it)",
    )
    assert sorted(p.relative_to(site) for p in (site / "content").rglob("*")) == before


def test_the_ends_of_the_date_range_build(site: Path, capsys: pytest.CaptureFixture[str]) -> None:
    item(date="1970-01-01 00:00").apply(site)
    Edit("content/beta/2999-12-31-last.md", "---\ntitle: Last\ndate: 2999-12-31 23:59\n---\nBody.\n").apply(site)

    status, printed = run(command("build", site), capsys)

    assert status == 0, printed
    assert (site / "public/news/1970/01/01/hostile-value/index.html").is_file()
    assert "held back, next due 2999-12-31 23:59" in run(command("build", site, "--clean"), capsys)[1]


def test_the_longest_names_allowed_build_again_and_again(site: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The margin holds: a 200-byte name gets its `.gz` copy and, rewritten, its `.<pid>.tmp` name."""
    longest = "l" * 195 + ".html"
    big = "x" * 3000  # large enough for compressed copies
    Edit(ITEM, f'---\ntitle: Hostile value\ndate: 2024-06-01 10:00\naliases: ["/old/{longest}"]\n---\n{big}\n').apply(
        site
    )
    Edit(f"static/{'s' * 196}.txt", big).apply(site)

    status, printed = run(command("build", site), capsys)
    assert status == 0, printed
    Edit(ITEM, "title: Hostile value, again", old="title: Hostile value").apply(site)
    Edit(f"static/{'s' * 196}.txt", big + "more").apply(site)
    status, printed = run(command("build", site), capsys)

    assert status == 0, printed
    assert "again" in (site / "public/old" / longest).read_text(encoding="utf-8")
    assert (site / f"public/static/{'s' * 196}.txt.gz").is_file()


def test_hostile_characters_percent_encoded_in_an_alias_build(site: Path, capsys: pytest.CaptureFixture[str]) -> None:
    alias("/old/%3Cscript%3E%22q%22%20%26/").apply(site)

    status, printed = run(command("build", site), capsys)

    assert status == 0, printed
    page = site / 'public/old/<script>"q" &/index.html'
    assert "/news/2024/06/01/hostile-value/" in page.read_text(encoding="utf-8")


def test_serve_names_a_changed_file_on_one_printable_line(tmp_path: Path) -> None:
    """serve's watcher prints what changed: a name with a line break or bytes that are not UTF-8 must not end it."""
    stream = io.TextIOWrapper(io.BytesIO(), encoding="utf-8", errors="strict")
    reporter = Reporter(out=stream, err=stream)

    reporter.changed([str(tmp_path / "a\nb.md")])
    reporter.changed([os.fsdecode(os.fsencode(tmp_path) + b"/\xff.md")])

    stream.seek(0)
    assert stream.read().splitlines() == [f"changed {tmp_path / 'a'}\\nb.md", f"changed {tmp_path}/\\udcff.md"]
