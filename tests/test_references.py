"""Every reference a body makes inside the site is checked: links, images, files and #fragments, in both languages."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from helpers.photos import BUNDLE, add_bundle, drawn_pdf, drawn_photo
from helpers.site import cli_args
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from csto_site import cli
from csto_site.content.markup import Markup
from csto_site.output.references import REFERENCE_ATTRIBUTES, Reference, References, scan

VISIT = "alpha/2024/2024-03-12-working-visit.md"
BRIEFING_RU = "alpha/2024/2024-03-12-morning-briefing.ru.md"
REPORT_URL = "/news/2023/11/14/annual-report-published/"


def add_paragraph(content: Path, rel: str, text: str) -> tuple[Path, int]:
    """Append a paragraph to an item's body; return the file and the paragraph's line."""
    path = content / rel
    body = path.read_text(encoding="utf-8").rstrip("\n") + "\n\n"
    path.write_text(body + text + "\n", encoding="utf-8")
    return path, body.count("\n") + 1


def check(content: Path, out: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    """Run `csto-site check`; return its status and what it printed on stderr."""
    capsys.readouterr()
    status = cli.main(cli_args("check", content, out))
    printed = capsys.readouterr()
    assert "Traceback" not in printed.err
    return status, printed.err


def build(content: Path, out: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    """Run `csto-site build`; return its status and what it printed on stderr."""
    capsys.readouterr()
    status = cli.main(cli_args("build", content, out, "--no-search", "--quiet"))
    printed = capsys.readouterr()
    assert "Traceback" not in printed.err
    return status, printed.err


@pytest.mark.parametrize(
    ("rel", "link", "message"),
    [
        (VISIT, "[the report](/news/2023/11/14/annual-report/)", "the link /news/2023/11/14/annual-report/ leads to"),
        (VISIT, "[the archive](/news/2023/12/)", "the link /news/2023/12/ leads to /news/2023/12/, which is not"),
        (VISIT, "![photo](/static/photos/visit.jpg)", "the image or file /static/photos/visit.jpg leads to"),
        (VISIT, "[the programme](/static/programme.pdf)", "the link /static/programme.pdf leads to"),
        (
            VISIT,
            "[below](photo.jpg)",
            "the link photo.jpg leads to /news/2024/03/12/working-visit-to-the-river-commission/photo.jpg",
        ),
        (BRIEFING_RU, "[отчёт](/ru/news/2023/11/14/annual-report-publishe/)", "the link /ru/news/2023/11/14/"),
        (BRIEFING_RU, "![фото](/static/favicon.svgg)", "the image or file /static/favicon.svgg leads to"),
    ],
)
def test_a_reference_to_an_address_the_site_does_not_have_is_a_problem_at_its_line(
    rel: str, link: str, message: str, mini_copy: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path, line = add_paragraph(mini_copy, rel, f"See {link}.")

    status, err = check(mini_copy, tmp_path / "public", capsys)

    assert status == 1
    assert f"{path}:{line}: {message}" in err


OUTSIDE = "is on another site: every reader's browser would fetch it from there, and the site's security policy"


@pytest.mark.parametrize(
    ("text", "written", "below"),
    [
        ("![A photo](https://example.com/photo.jpg)", "https://example.com/photo.jpg", 0),
        # At the line that gives the address.
        ("![A photo][ref]\n\n[ref]: http://example.com/photo.jpg", "http://example.com/photo.jpg", 2),
        ('<img src="http://example.com/photo.jpg" alt="A photo">', "http://example.com/photo.jpg", 0),
        ("![A photo](//example.com/photo.jpg)", "//example.com/photo.jpg", 0),
    ],
)
def test_an_image_from_another_site_is_a_problem_at_its_line(
    text: str, written: str, below: int, mini_copy: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # A reader's browser would ask the other site for it (no page makes a third-party request), and the
    # deployed Content-Security-Policy (img-src 'self') would block it anyway. Links to other sites stay.
    path, line = add_paragraph(mini_copy, VISIT, f"See [the other site](https://example.com/).\n\n{text}")

    status, err = check(mini_copy, tmp_path / "public", capsys)

    assert status == 1
    assert err.splitlines()[0] == (
        f"{path}:{line + 2 + below}: the image or file {written} {OUTSIDE} blocks it (download the photo and make "
        "the item a folder: move it to <its name>/index.md, and put the file beside it, then write its file name)"
    )
    assert "1 problem found" in err


def test_an_image_from_another_site_in_an_item_folder_is_to_be_downloaded_into_it(
    mini_copy: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = add_bundle(mini_copy)
    _, line = add_paragraph(mini_copy, f"{BUNDLE}/index.ru.md", "![Фото](https://example.com/photo.jpg)")

    status, err = build(mini_copy, tmp_path / "public", capsys)

    assert status == 1 and not (tmp_path / "public").exists()
    assert f"{folder / 'index.ru.md'}:{line}: the image or file https://example.com/photo.jpg {OUTSIDE}" in err
    assert "(download the photo into the item's folder and write its file name)" in err


def test_no_other_element_brings_a_file_from_another_site(
    mini_copy: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # The sanitiser lets no element but <img> fetch a file, nor srcset: these leave nothing to fetch.
    add_paragraph(
        mini_copy,
        VISIT,
        '<video src="https://example.com/v.mp4" poster="https://example.com/p.jpg"></video>\n'
        '<audio src="https://example.com/a.mp3"></audio> <iframe src="https://example.com/"></iframe>\n'
        '<picture><source srcset="https://example.com/s.jpg 1x"></picture> <object data="https://example.com/o">'
        '</object> <img srcset="https://example.com/i.jpg 2x" src="/static/favicon.svg" alt="The emblem">',
    )

    assert build(mini_copy, tmp_path / "public", capsys)[0] == 0
    page = (tmp_path / "public/news/2024/03/12/working-visit-to-the-river-commission/index.html").read_text()
    assert "example.com" not in page and "The emblem" in page


def test_a_link_to_a_document_of_the_folder_the_item_does_not_list_says_to_list_it(
    mini_copy: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = add_bundle(mini_copy)
    (folder / "programme.pdf").write_bytes(drawn_pdf("The programme"))
    path, line = add_paragraph(mini_copy, f"{BUNDLE}/index.md", "See [the programme](programme.pdf).")

    status, err = check(mini_copy, tmp_path / "public", capsys)

    assert status == 1
    assert err.splitlines()[0] == (
        f"{path}:{line}: the link programme.pdf leads to programme.pdf of the item's folder, which the item does "
        "not list under `attachments:`, so it is not published (list it there with the title readers see: "
        "`- file: programme.pdf` and, below it, `title: ...`)"
    )
    listed = "attachments:\n  - file: programme.pdf\n    title: The programme\n"
    path.write_text(path.read_text(encoding="utf-8").replace("attachments:\n", listed), encoding="utf-8")
    status, err = check(mini_copy, tmp_path / "public", capsys)
    assert status == 0 and "programme.pdf" not in err, err


def test_a_link_to_a_file_of_the_folder_leads_to_the_address_it_is_published_at(
    mini_copy: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # A listed document is published under a URL-safe name, a shown photo as its variants: the links follow.
    folder = add_bundle(mini_copy)
    (folder / "Программа встречи.pdf").write_bytes(drawn_pdf("The programme"))
    path = folder / "index.md"
    listed = "attachments:\n  - file: Программа встречи.pdf\n    title: The programme\n"
    path.write_text(path.read_text(encoding="utf-8").replace("attachments:\n", listed), encoding="utf-8")
    add_paragraph(
        mini_copy,
        f"{BUNDLE}/index.md",
        "See [the programme](<Программа встречи.pdf>), [again](Программа%20встречи.pdf) and [the hall](hall.jpg).",
    )
    out = tmp_path / "public"

    status, err = build(mini_copy, out, capsys)

    assert status == 0, err
    [page] = (p for p in (out / "news").glob("*/*/*/*/index.html") if "the programme" in p.read_text(encoding="utf-8"))
    links = [
        href
        for href in re.findall(r'href="([^"]+)"', page.read_text(encoding="utf-8"))
        if "." in href.rsplit("/", 1)[-1]
    ]
    folder_url = "/" + page.parent.relative_to(out).as_posix() + "/"
    assert links.count(folder_url + "programma-vstrechi.pdf") == 3  # the two links and the list of documents
    assert links.count(folder_url + "hall.600.jpg") == 2  # its largest JPEG: from the gallery, and from the text
    for href in links:
        if href.startswith(folder_url):
            assert (out / href.lstrip("/")).is_file(), href
    # A photo the item does not show is not published: a link to it is a broken link.
    (folder / "spare.jpg").write_bytes(drawn_photo(800, 600))
    add_paragraph(mini_copy, f"{BUNDLE}/index.md", "And [the spare one](spare.jpg).")
    status, err = build(mini_copy, out, capsys)
    assert status == 1 and "the link spare.jpg leads to" in err, err


def test_the_problem_names_the_nearest_address(
    mini_copy: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    add_paragraph(mini_copy, VISIT, "See [the report](/news/2023/11/14/annual-report-publishd/).")

    status, err = build(mini_copy, tmp_path / "public", capsys)

    assert status == 1
    assert f"(did you mean {REPORT_URL}?)" in err
    assert not (tmp_path / "public").exists()


@pytest.mark.parametrize(
    ("rel", "link", "message"),
    [
        (VISIT, "[up](#programm)", "the link #programm leads to no #programm on /news/2024/03/12/"),
        (VISIT, f"[the report]({REPORT_URL}#figures)", f"the link {REPORT_URL}#figures leads to no #figures on"),
        (BRIEFING_RU, "[вверх](#программа)", "the link #программа leads to no #программа on /ru/news/2024/03/12/"),
    ],
)
def test_a_fragment_no_element_has_is_a_problem(
    rel: str, link: str, message: str, mini_copy: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    add_paragraph(mini_copy, rel, "## Programme\n\n## Программа")
    path, line = add_paragraph(mini_copy, rel, f"See {link}.")

    status, err = check(mini_copy, tmp_path / "public", capsys)

    assert status == 1
    assert f"{path}:{line}: {message}" in err


def test_a_near_fragment_is_named(mini_copy: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    add_paragraph(mini_copy, VISIT, "## The programme")
    add_paragraph(mini_copy, VISIT, "See [the programme](#the-programe).")

    assert "(did you mean #the-programme?)" in check(mini_copy, tmp_path / "public", capsys)[1]


def test_every_reference_that_leads_somewhere_passes(
    mini_copy: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    add_paragraph(mini_copy, "alpha/2023/2023-11-14-annual-report.md", "## Figures\n\nThe figures.")
    add_paragraph(
        mini_copy,
        VISIT,
        "## Programme\n\n"
        f"See [the report]({REPORT_URL}), [its figures]({REPORT_URL}#figures), [the programme](#programme), "
        "[the top](#main), [the archive](/news/2024/03/), [the archive again](/news/2024/03), "
        "[the feed](/sections/alpha/rss.xml), [the logo](/static/favicon.svg), [Russian](/ru/), "
        "[the other site](https://example.net/missing/), [mail](mailto:press@example.org), [a phone](tel:+74950000000) "
        "and ![the logo](../../../../../static/favicon.svg).",
    )
    add_paragraph(mini_copy, BRIEFING_RU, f"См. [отчёт](/ru{REPORT_URL}) и [раздел](/ru/sections/alpha/).")

    status, err = check(mini_copy, tmp_path / "public", capsys)
    assert (status, [line for line in err.splitlines() if "warning" not in line]) == (0, [])
    assert build(mini_copy, tmp_path / "public", capsys)[0] == 0


def test_a_link_broken_by_a_later_edit_stops_the_next_build(
    mini_copy: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path, line = add_paragraph(mini_copy, VISIT, f"See [the report]({REPORT_URL}#figures).")
    report = mini_copy / "alpha/2023/2023-11-14-annual-report.md"
    add_paragraph(mini_copy, "alpha/2023/2023-11-14-annual-report.md", "## Figures")
    assert build(mini_copy, tmp_path / "public", capsys)[0] == 0

    report.write_text(report.read_text(encoding="utf-8").replace("## Figures", "## Numbers"), encoding="utf-8")
    status, err = build(mini_copy, tmp_path / "public", capsys)

    assert status == 1
    assert f"{path}:{line}: the link {REPORT_URL}#figures leads to no #figures" in err


def test_an_edited_item_checks_again_the_references_of_its_month_only(
    mini_copy: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "public"
    assert build(mini_copy, out, capsys)[0] == 0
    checked: list[str] = []
    real = References.check
    monkeypatch.setattr(
        References, "check", lambda self, q, declared, item: checked.append(item.path) or real(self, q, declared, item)
    )
    add_paragraph(mini_copy, VISIT, "A closing line.")
    assert build(mini_copy, out, capsys)[0] == 0

    # The English items of March 2024, not those of May 2024 or of another language.
    assert sorted(Path(p).relative_to(mini_copy).as_posix() for p in checked) == [
        "alpha/2024/2024-03-12-morning-briefing.md",
        VISIT,
    ]


class ParsedBody(HTMLParser):
    """A body's references and ids as an HTML parser reads them: what `scan` must find by reading nh3's tags."""

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.references: list[Reference] = []
        self.ids: set[str] = set()
        self.feed(html)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        """Note the element's id and every address it refers to."""
        for name, value in attrs:
            if value is None:
                continue
            if name in ("id", "name"):
                self.ids.add(value)
            elif name == "srcset":
                self.references += [Reference(part.split()[0], name) for part in value.split(",") if part.split()]
            elif name in REFERENCE_ATTRIBUTES:
                self.references.append(Reference(value.strip(), name))


# Addresses and texts with what HTML must escape or quote: quotes, ampersands, angle brackets, spaces.
ADDRESSES = st.sampled_from(
    ["/news/", "x.pdf", "#top", "../a/?q=1&b=2#c", "/a b/", 'say"hi"', "it's", "/a>b/", "&amp;", "/ru/новости/", ""]
)
WORDS = st.sampled_from(["word", "<", ">", "&", '"', "'", "&amp;", "a<b", "x > y", "[", "]", "*", "`", "<b>", "\\"])


@st.composite
def markdown_bodies(draw: st.DrawFn) -> str:
    """Draw a Markdown body mixing text, links, images, headings with ids, raw HTML and code."""
    pieces = st.one_of(
        WORDS,
        st.builds("[{}]({})".format, WORDS, ADDRESSES),
        st.builds("![{}]({})".format, WORDS, ADDRESSES),
        st.builds("\n\n## {} {{#{}}}\n\n".format, WORDS, st.sampled_from(["one", "two-2", "x"])),
        st.builds('<a href="{}" id="{}">{}</a>'.format, ADDRESSES, st.sampled_from(["n1", "a&amp;b", ""]), WORDS),
        st.builds('<img src=\'{}\' alt="{}" title="a>b">'.format, ADDRESSES, WORDS),
        st.builds('<span id="{}" title="{}">x</span>'.format, st.sampled_from(["s1", 'q"r', "t>u"]), WORDS),
        st.builds('`<a href="{}">code</a>`'.format, ADDRESSES),
        st.just('\n\n    <a href="/indented/">code block</a>\n\n'),
    )
    return " ".join(draw(st.lists(pieces, max_size=12)))


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(markdown_bodies())
def test_the_tag_scan_finds_what_an_html_parser_finds_in_any_body_markup_makes(body: str) -> None:
    html = Markup().render(body)
    parsed = ParsedBody(html)
    found = scan(html)
    assert (list(found.references), set(found.ids)) == (parsed.references, parsed.ids), html
