"""Hostile text in titles, summaries, registry names, section titles and bodies comes out inert."""

from __future__ import annotations

import http.client
import json
import re
import threading
import xml.etree.ElementTree as ET
from functools import partial
from http.server import ThreadingHTTPServer
from pathlib import Path

import feedparser
import pytest
from helpers.dom import Document, parse_html, read_html
from helpers.nginx import running_nginx
from helpers.site import NOW, build_into, copy_fixture

from csto_site.serve.server import BuildStatus, Handler

TITLE = '<script>alert(1)</script> " onmouseover="alert(1)" javascript:alert(1) <iframe src=x>'
SUMMARY = (
    "<script>alert(2)</script> \" onmouseover=\"alert(2) <img src=x onerror=alert(2)> <a href='javascript:alert(2)'>"
)
OFFICIAL = '<script>alert(3)</script>" onmouseover="alert(3)'
OFFICIAL_RU = "<img src=x onerror=alert(3)>"
ORGANIZATION = "<svg onload=alert(5)>"
SECTION = "<script>alert(6)</script>'><img src=x onerror=alert(6)>"
RU_FIRST_PARAGRAPH = "&lt;script&gt;alert(7)&lt;/script&gt; &lt;img src=x onerror=alert(7)&gt;"
# Text for the site's own fields; <b> is an element no template writes, so one in a page is a leak.
PLAIN = '<script>alert(8)</script> & "quotes" <b>bold</b>'
SITE_TITLE = '<b>Mini</b> & "Site" <script>alert(9)</script>'
# An old address holding markup, quotes and an nginx variable, percent-encoded as an address must be.
ALIAS = "/old/%3Cb%3Ealert(10)%3C/b%3E%22%20%26%24host/"
BODY = """Hello <script>alert(4)</script> world.

<a href="javascript:alert(4)">raw link</a> [markdown link](javascript:alert(4)) <a href="JaVaScRiPt:alert(4)">mixed</a>
<a href=" javascript:alert(4)">space</a> <a href="&#106;avascript:alert(4)">entity</a>
<a href="data:text/html;base64,PHNjcmlwdD5hbGVydCg0KTwvc2NyaXB0Pg==">data</a> <a href="vbscript:msgbox(4)">vb</a>

<iframe src="https://evil.example/"></iframe>
<img src=/x onerror="alert(4)"> <svg onload="alert(4)"><circle r="1"/></svg>

<div onmouseover="alert(4)" style="background:url(javascript:alert(4))">div</div>

<form action="javascript:alert(4)"><button formaction="javascript:alert(4)">b</button></form>
<object data="javascript:alert(4)"></object><embed src="javascript:alert(4)">
<math><mi xlink:href="javascript:alert(4)">m</mi></math>

<style>body { background: url(javascript:alert(4)) }</style>
<meta http-equiv="refresh" content="0;url=javascript:alert(4)">
<base href="javascript:alert(4)//">
<a href="/news/" onclick="alert(4)">click</a> <img src="javascript:alert(4)" alt="">
<p>unclosed <b onmouseover=alert(4)>bold
<!-- <script>alert(4)</script> -->
<scr<script>ipt>alert(4)</scr</script>ipt>
"""
PAYLOAD_TEXTS = ("alert(1)", "alert(2)", "alert(3)", "alert(5)", "alert(6)", "alert(7)")

FORBIDDEN = frozenset(
    {"iframe", "frame", "frameset", "object", "embed", "applet", "base", "style", "svg", "math", "template"}
)
URL_ATTRIBUTES = frozenset(
    {
        "href",
        "src",
        "action",
        "formaction",
        "data",
        "xlink:href",
        "poster",
        "background",
        "cite",
        "srcset",
        "ping",
        "longdesc",
        "codebase",
        "dynsrc",
        "lowsrc",
    }
)
BAD_SCHEME = re.compile(r"^(javascript|vbscript|data:text/html|livescript)", re.I)
# The page the build leaves at an old address refreshes to a page of the site, and nowhere else.
SITE_REFRESH = re.compile(r"^0; url=/(?![/\\])")


def _yaml_quote(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)


@pytest.fixture(scope="module")
def hostile(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The mini fixture plus hostile text everywhere an editor can type, built once."""
    base = tmp_path_factory.mktemp("xss")
    content = copy_fixture(base / "content")
    site = (content / "site.yaml").read_text(encoding="utf-8")
    site = (
        site.replace("{en: Mini Test Site,", f"{{en: {_yaml_quote(SITE_TITLE)},")
        .replace("{en: A small fixture site for tests.,", f"{{en: {_yaml_quote(PLAIN)},")
        .replace("{en: The Press Office,", f"{{en: {_yaml_quote(PLAIN)},")
    )
    (content / "site.yaml").write_text(site + f"labels: {{en: {{go_back: {_yaml_quote(PLAIN)}}}}}\n", encoding="utf-8")
    with (content / "officials.yaml").open("a", encoding="utf-8") as f:
        f.write(
            f"\nhostile:\n  name: {{en: {_yaml_quote(OFFICIAL)}, ru: {_yaml_quote(OFFICIAL_RU)}}}\n"
            f"  roles:\n    - {{title: {_yaml_quote(OFFICIAL)}, from: 2020-01-01}}\n"
        )
    with (content / "organizations.yaml").open("a", encoding="utf-8") as f:
        f.write(
            f"\nhostile-org:\n  short: {_yaml_quote(ORGANIZATION)}\n  name: {_yaml_quote(ORGANIZATION + ' full')}\n"
        )
    (content / "gamma").mkdir()
    (content / "gamma/_index.md").write_text(
        f"---\ntitle: {_yaml_quote(SECTION)}\ndescription: {_yaml_quote(SUMMARY)}\n---\n", encoding="utf-8"
    )
    day = NOW.date().isoformat()  # recent, so the item is also in the news sitemap
    (content / "gamma/hostile.md").write_text(
        f"---\ntitle: {_yaml_quote(TITLE)}\ndate: {day} 09:00\nsummary: {_yaml_quote(SUMMARY)}\n"
        f"officials: [hostile]\norganizations: [hostile-org]\naliases: [{_yaml_quote(ALIAS)}]\n---\n{BODY}",
        encoding="utf-8",
    )
    (content / "gamma/hostile.ru.md").write_text(
        f"---\ntitle: {_yaml_quote(TITLE)}\ndate: {day} 09:00\nofficials: [hostile]\norganizations: [hostile-org]\n"
        f"---\n{RU_FIRST_PARAGRAPH}\n\n{BODY}",
        encoding="utf-8",
    )
    out = base / "public"
    build_into(content, out)
    return out


def inert_problems(doc: Document, where: str) -> list[str]:
    """Return every way an HTML document could run script: elements, handlers, URLs."""
    problems = []
    for e in doc.elements:
        at = f"{where}:{e.line}: <{e.tag}>"
        if e.tag in FORBIDDEN:
            problems.append(f"{at} is not allowed")
        if e.tag == "script":
            text = "".join(e.parts)
            if e.get("type") == "application/ld+json":
                if "<" in text or not _is_json_object(text):
                    problems.append(f"{at} JSON-LD is not an inert data block")
            elif not (e.get("src", "").startswith("/") and not e.get("src", "").startswith("//") and not text.strip()):
                problems.append(f"{at} runs script {e.get('src') or text[:60]!r}")
        if (
            e.tag == "meta"
            and e.get("http-equiv", "").lower() == "refresh"
            and not SITE_REFRESH.match(e.get("content", ""))
        ):
            problems.append(f"{at} refreshes the page")
        for name, value in e.attrs.items():
            if name.startswith("on"):
                problems.append(f"{at} has the event handler {name}={value!r}")
            compact = re.sub(r"[\x00-\x20]", "", value)
            if name in URL_ATTRIBUTES and BAD_SCHEME.match(compact):
                problems.append(f"{at} has {name}={value!r}")
            if name == "style" and re.search(r"javascript:|expression\(|url\(", compact, re.I):
                problems.append(f"{at} has style={value!r}")
    return problems


def _is_json_object(text: str) -> bool:
    try:
        return isinstance(json.loads(text), dict)
    except ValueError:
        return False


def html_files(out: Path) -> list[Path]:
    return sorted(out.rglob("*.html"))


def test_the_hostile_item_was_built(hostile):
    assert any("hostile" in str(p) or "alert" in str(p) for p in hostile.rglob("*"))
    pages = [p for p in html_files(hostile) if "/news/" in p.as_posix() and "alert" in p.as_posix()]
    assert len(pages) == 2, "the English and Russian hostile items have pages"


def test_every_page_is_inert(hostile):
    problems = []
    for file in html_files(hostile):
        problems += inert_problems(read_html(file), file.relative_to(hostile).as_posix())
    assert problems == []


def test_hostile_text_is_shown_as_text(hostile):
    """Escaped, not dropped: the reader sees exactly what the editor typed."""
    item = next(p for p in html_files(hostile) if "alert" in p.as_posix() and "/ru/" not in p.as_posix())
    doc = read_html(item)
    assert doc.find("h1").text == " ".join(TITLE.split())
    assert OFFICIAL in [a.text for a in doc.find_all("a", href="/officials/hostile/")]
    assert doc.find("meta", name="description").get("content") == SUMMARY
    official = read_html(hostile / "officials/hostile/index.html")
    assert official.find("h1").text == OFFICIAL
    section = read_html(hostile / "sections/gamma/index.html")
    assert section.find("h1").text == SECTION
    assert "Hello" in doc.find("div", **{"class": "item-body"}).text


def test_the_body_keeps_its_harmless_parts(hostile):
    item = next(p for p in html_files(hostile) if "alert" in p.as_posix() and "/ru/" not in p.as_posix())
    body = read_html(item).find("div", **{"class": "item-body"})
    assert body is not None
    assert "raw link" in body.text and "markdown link" in body.text and "div" in body.text


def xml_files(out: Path) -> list[Path]:
    return sorted(out.rglob("*.xml"))


def test_every_feed_and_sitemap_is_well_formed_and_has_no_markup_elements(hostile):
    news_sitemap = ET.parse(hostile / "news-sitemap.xml").getroot()
    assert any("alert" in (e.text or "") for e in news_sitemap.iter()), "the hostile item is in the news sitemap"
    for file in xml_files(hostile):
        for element in ET.parse(file).getroot().iter():
            local = element.tag.rsplit("}", 1)[-1]
            assert local not in FORBIDDEN | {"script"}, (file, local)
            for name in element.attrib:
                assert not name.startswith("on"), (file, name)


def test_feed_titles_and_categories_read_back_as_the_text_typed(hostile):
    parsed = feedparser.parse((hostile / "news/rss.xml").read_bytes())
    assert parsed.bozo == 0
    entry = next(e for e in parsed.entries if "alert" in e.link)
    assert entry.title == " ".join(TITLE.split())
    assert OFFICIAL in [t.term for t in entry.tags]


def test_feed_descriptions_are_inert_html(hostile):
    problems = []
    for file in sorted(hostile.rglob("rss.xml")):
        rel = file.relative_to(hostile).as_posix()
        for item in ET.parse(file).getroot().iter("item"):
            description = item.findtext("description") or ""
            problems += inert_problems(parse_html(description), rel)
            # Shown as HTML, the description must read as the summary text itself.
            shown = parse_html(f"<p>{description}</p>").find("p").text
            if "alert(2)" in description and shown != " ".join(SUMMARY.split()):
                problems.append(f"{rel}: the description reads {shown!r}")
    assert problems == []


def test_the_checker_catches_each_kind_of_payload():
    """The inertness check fails on what the sanitiser must remove."""
    doc = parse_html(
        '<script>alert(1)</script><a href=" JavaScript:alert(1)">x</a><img src=x onerror=alert(1)>'
        '<iframe src="/x"></iframe><script type="application/ld+json">{"a": "</script>"}</script>'
        '<meta http-equiv="refresh" content="0"><script src="/static/nav.js"></script>'
    )
    problems = inert_problems(doc, "t")
    assert len(problems) == 6, problems


def displayed(detail: feedparser.FeedParserDict) -> str:
    """Return the text a feed reader shows for a feedparser value: HTML is drawn, plain text shown as it is."""
    if detail.type == "text/html":
        return parse_html(f"<p>{detail.value}</p>").find("p").text
    return detail.value


def test_feed_channels_read_back_as_the_text_typed(hostile):
    """Readers draw a channel's <description> as HTML and show titles as plain text: each must show what was typed."""
    site = " ".join(SITE_TITLE.split())
    expected = {
        "news/rss.xml": (f"{site}: All news", PLAIN),
        "sections/gamma/rss.xml": (f"{site}: {SECTION}", " ".join(SUMMARY.split())),
        "officials/hostile/rss.xml": (f"{site}: {OFFICIAL}", OFFICIAL),
        "organizations/hostile-org/rss.xml": (f"{site}: {ORGANIZATION}", f"{ORGANIZATION} full"),
    }
    shown = {}
    for rel in expected:
        channel = feedparser.parse((hostile / rel).read_bytes()).feed
        shown[rel] = (displayed(channel.title_detail), displayed(channel.subtitle_detail))
    assert shown == expected


def test_every_page_shows_the_site_texts_as_text(hostile):
    """No template writes <b>: one in a page (but in the hostile item's body) is the site's own text read as markup."""
    items = [p for p in html_files(hostile) if "alert" in p.as_posix() and "/news/" in p.as_posix()]
    leaks = [
        f"{file.relative_to(hostile)}:{e.line}"
        for file in html_files(hostile)
        if file not in items
        for e in read_html(file).elements
        if e.tag == "b"
    ]
    assert leaks == []
    home = read_html(hostile / "index.html")
    assert home.find("meta", name="description").get("content") == PLAIN
    assert home.find("a", **{"class": "brand"}).text == " ".join(SITE_TITLE.split())
    assert PLAIN in [p.text for p in home.find_all("p")]
    english = next(p for p in items if "/ru/" not in p.as_posix())
    assert PLAIN in [a.text for a in read_html(english).find_all("a")]


def test_json_ld_reads_back_as_the_text_typed(hostile):
    item = next(
        p
        for p in html_files(hostile)
        if "alert" in p.as_posix() and "/news/" in p.as_posix() and "/ru/" not in p.as_posix()
    )
    script = read_html(item).find("script", type="application/ld+json")
    data = json.loads("".join(script.parts))
    assert (data["headline"], data["description"], data["articleSection"], data["publisher"]["name"]) == (
        " ".join(TITLE.split()),
        " ".join(SUMMARY.split()),
        SECTION,
        SITE_TITLE,
    )


def test_the_news_sitemap_reads_back_as_the_text_typed(hostile):
    ns = {"news": "http://www.google.com/schemas/sitemap-news/0.9"}
    root = ET.parse(hostile / "news-sitemap.xml").getroot()
    titles = [e.text for e in root.iterfind(".//news:title", ns)]
    names = {e.text for e in root.iterfind(".//news:name", ns)}
    assert " ".join(TITLE.split()) in titles
    assert SITE_TITLE in names


def test_nginx_redirects_a_hostile_old_address_to_its_item(hostile, tmp_path):
    """`nginx -t` accepts the include, and the old address (decoded as nginx matches it) answers 301."""
    with running_nginx(tmp_path, hostile) as server:
        answer = server.get(ALIAS)
    assert answer.status == 301
    assert answer.headers["Location"].endswith("/")
    assert "/news/" in answer.headers["Location"] and "alert" in answer.headers["Location"]
    assert answer.headers.get("Set-Cookie") is None


def test_serve_never_puts_a_request_path_into_a_header_unescaped(tmp_path):
    """A folder whose name holds a line break (hand-placed) is redirected to with its name percent-encoded."""
    root = tmp_path / "public"
    (root / "a\r\nSet-Cookie: stolen=1").mkdir(parents=True)
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(Handler, root=root, status=BuildStatus()))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        connection = http.client.HTTPConnection("127.0.0.1", server.server_address[1], timeout=10)
        connection.request("GET", "/a%0D%0ASet-Cookie:%20stolen=1")
        response = connection.getresponse()
        response.read()
        connection.close()
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
    assert response.status == 301
    assert response.getheader("Location") == "/a%0D%0ASet-Cookie:%20stolen=1/"
    assert response.getheader("Set-Cookie") is None
