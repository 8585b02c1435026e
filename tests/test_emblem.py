"""The office's emblem (site.yaml's `logo`): in the masthead, as the browsers' icon and the publisher's logo."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest
from helpers.content import read_content
from helpers.dom import Document, read_html
from helpers.site import NOW, ROOT, SAMPLE, cli_args, copy_fixture, options, snapshot
from test_validation import Run

from csto_site import cli
from csto_site.publish.run import build as publish

JOINT_PAGE = "news/2024/05/20/joint-statement/index.html"


def blocks(doc: Document) -> dict[str, dict]:
    """Return the page's JSON-LD blocks by @type."""
    found = [json.loads("".join(b.parts)) for b in doc.find_all("script", type="application/ld+json")]
    return {b["@type"]: b for b in found}


@pytest.fixture
def mini_content(tmp_path: Path) -> Path:
    """A private copy of the mini fixture's content folder."""
    return copy_fixture(tmp_path / "content")


def build(content: Path, static: Path) -> Path:
    """Build a content folder with a static folder of its own and return the output."""
    out = content.parent / "public"
    publish(replace(options(content, out), static=static), NOW)
    return out


class StaticRun(Run):
    """A failing build of a broken mini fixture with a static folder of its own."""

    def build_with(self, static: Path) -> list[str]:
        """Build with `static`; assert exit 1, nothing touched; return the problem lines."""
        before = snapshot(self.content.parent)
        status = cli.main([*cli_args("build", self.content, self.out), "--static", str(static)])
        out, err = self.capsys.readouterr()
        assert status == 1, out + err
        assert "Traceback" not in out + err
        assert snapshot(self.content.parent) == before, "the failed build touched files"
        assert err.splitlines()[-1].endswith("found; nothing was written.")
        return err.splitlines()[:-1]


def static_with(tmp_path: Path, name: str, data: bytes) -> Path:
    """A copy of the repository's static folder with one more file."""
    static = copy_fixture(tmp_path / "static", ROOT / "static")
    (static / name).write_bytes(data)
    return static


SVG = b'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 8 8"><rect width="8" height="8"/></svg>\n'
PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 32


@pytest.mark.parametrize(("name", "data", "kind"), [("mark.svg", SVG, "image/svg+xml"), ("mark.png", PNG, "image/png")])
def test_the_logo_is_the_emblem_the_icon_and_the_publishers_logo(mini_content, tmp_path, name, data, kind):
    static = static_with(tmp_path, name, data)
    with (mini_content / "site.yaml").open("a", encoding="utf-8") as f:
        f.write(f"logo: {name}\n")
    out = build(mini_content, static)
    for page in ("index.html", JOINT_PAGE, "ru/index.html"):
        doc = read_html(out / page)
        emblem = doc.find("img", **{"class": "emblem"})
        assert emblem is not None and emblem.get("src") == f"/static/{name}", page
        assert emblem.get("alt") == "", "the title beside it names the site: the emblem is decoration"
        assert (emblem.get("width"), emblem.get("height")) == ("48", "48")
        icon = doc.find("link", rel="icon")
        assert (icon.get("href"), icon.get("type")) == (f"/static/{name}", kind), page
    assert (out / "static" / name).read_bytes() == data
    publisher = blocks(read_html(out / JOINT_PAGE))["NewsArticle"]["publisher"]
    assert publisher["logo"] == {"@type": "ImageObject", "url": f"https://example.org/static/{name}"}


def test_without_a_logo_the_site_keeps_its_icon_and_no_emblem(mini_site):
    doc = read_html(mini_site / JOINT_PAGE)
    assert doc.find("img", **{"class": "emblem"}) is None
    assert doc.find("link", rel="icon").get("href") == "/static/favicon.svg"
    assert "logo" not in blocks(doc)["NewsArticle"]["publisher"]


def test_the_sample_site_names_its_emblem():
    assert read_content(SAMPLE).logo == "emblem.svg"
    assert (ROOT / "static" / "emblem.svg").is_file()


LOGO_CASES = [
    ("logo: mark.gif", None, "'mark.gif' is not an SVG or PNG image", "(draw the emblem as SVG, or save it as PNG)"),
    ("logo: embelm.svg", None, "embelm.svg does not exist", '(did you mean "emblem.svg"?)'),
    ("logo: [a, b]", None, "`logo` must name the emblem's file in the static folder", "(e.g. `logo: emblem.svg`)"),
    ("logo: fake.png", ("fake.png", b"GIF89a"), "fake.png is not a PNG image", "or name it after its type)"),
    ("logo: text.svg", ("text.svg", b"<html></html>"), "is not an SVG image", "(save the emblem as SVG)"),
    (
        "logo: bad.svg",
        ("bad.svg", SVG.replace(b"<rect", b'<rect onclick="alert(1)"')),
        "holds a script, an event handler or a javascript: link",
        "would run on the site's address)",
    ),
    ("logo: big.png", ("big.png", PNG + b"\0" * 300_000), "more than the 262,144", "or save it smaller)"),
]


@pytest.mark.parametrize(("line", "extra", "message", "hint"), LOGO_CASES)
def test_a_bad_logo_is_reported_at_its_line(mini_copy, capsys, tmp_path, line, extra, message, hint):
    static = static_with(tmp_path, *(extra or ("emblem.svg", SVG)))
    if extra:
        (static / "emblem.svg").write_bytes(SVG)
    run = StaticRun(mini_copy, capsys)
    lines = (run.content / "site.yaml").read_text(encoding="utf-8").splitlines()
    (run.content / "site.yaml").write_text("\n".join([*lines, line]) + "\n", encoding="utf-8")
    problems = run.build_with(static)
    assert len(problems) == 1, problems
    assert problems[0].startswith(f"{run.content / 'site.yaml'}:{len(lines) + 1}: "), problems
    assert message in problems[0] and problems[0].endswith(hint), problems
