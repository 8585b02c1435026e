"""The shipped deploy/nginx.conf, unmodified, in Debian's nginx serving a built site, checked over HTTP."""

from __future__ import annotations

import gzip
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote, urlsplit

import brotli
import pytest
from helpers.dom import read_html
from helpers.nginx import SHIPPED, Nginx, running_nginx
from helpers.site import NOW, SAMPLE, STATIC, TEMPLATES, copy_fixture
from helpers.tools import missing

from csto_site.build.options import Options
from csto_site.output.assets import fingerprinted_name
from csto_site.output.nginx import render_redirects
from csto_site.publish.run import build

ITEM = "/news/2024/03/12/morning-briefing-held/"
PHOTO = "press/photo.jpg"
ALIASES = ("/old/news/morning-briefing.php", "/новости/утренний-брифинг/")
CSP_LINE = re.compile(r'^add_header Content-Security-Policy "([^"]+)" always;$', re.MULTILINE)


def add_aliases(content: Path) -> None:
    """Give one item of a fixture copy old addresses."""
    item = content / "alpha" / "2024" / "2024-03-12-morning-briefing.md"
    text = item.read_text(encoding="utf-8")
    aliases = ", ".join(f'"{alias}"' for alias in ALIASES)
    item.write_text(text.replace("\ntitle:", f"\naliases: [{aliases}]\ntitle:", 1), encoding="utf-8")


@pytest.fixture(scope="module")
def public(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The mini fixture built with old addresses for one item and a photo in static/."""
    work = tmp_path_factory.mktemp("site")
    content = copy_fixture(work / "content")
    add_aliases(content)
    static = shutil.copytree(STATIC, work / "static")
    (static / PHOTO).parent.mkdir(parents=True, exist_ok=True)
    (static / PHOTO).write_bytes(b"\xff\xd8\xff\xe0 not really a photo")
    build(
        Options(
            content=content,
            out=work / "public",
            templates=TEMPLATES,
            static=static,
            search=False,
            cache=work / ".cache",
        ),
        NOW,
    )
    return work / "public"


@pytest.fixture(scope="module")
def server(public: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Nginx]:
    """nginx serving the built site with the shipped config."""
    with running_nginx(tmp_path_factory.mktemp("nginx"), public) as nginx:
        yield nginx


def locs(file: Path) -> list[str]:
    """Return the path of every <loc> of a sitemap or sitemap index."""
    return [urlsplit(loc).path for loc in re.findall(r"<loc>([^<]+)</loc>", file.read_text())]


def sitemap_paths(public: Path) -> list[str]:
    """Return the path of every page the sitemaps list."""
    return [path for part in locs(public / "sitemap.xml") for path in locs(public / part.lstrip("/"))]


def test_every_sitemap_is_served_as_xml(server, public):
    parts = locs(public / "sitemap.xml")
    assert "/sitemap-pages.xml" in parts and len(parts) > 1
    news = ["/news-sitemap.xml"] if (public / "news-sitemap.xml").exists() else []  # written only with news
    for path in ["/sitemap.xml", *parts, *news]:
        answer = server.get(path)
        assert (answer.status, answer.type) == (200, "application/xml"), path


def test_every_page_in_the_sitemap_is_served_as_html(server, public):
    paths = sitemap_paths(public)
    assert len(paths) > 30 and "/ru/" in paths
    for path in paths:
        answer = server.get(path)
        assert (answer.status, answer.type) == (200, "text/html"), path
        assert answer.headers["Content-Type"] == "text/html; charset=utf-8", path
        assert answer.body == (public / path.lstrip("/") / "index.html").read_bytes(), path


def test_a_folder_address_without_its_slash_redirects_to_it(server):
    answer = server.get("/news")
    assert (answer.status, answer.headers["Location"]) == (301, "/news/")


@pytest.mark.parametrize(
    ("path", "page"),
    [
        ("/no/such/page/", "404.html"),
        ("/news/1999/", "404.html"),
        ("/static/missing.css", "404.html"),
        ("/ru/no/such/page/", "ru/404.html"),
        ("/ru/news/rss-missing/rss.xml", "ru/404.html"),
        ("/nginx-redirects.conf", "404.html"),
    ],
)
def test_a_missing_address_gets_the_sites_404_page_of_its_language(server, public, path, page):
    answer = server.get(path)
    assert (answer.status, answer.type) == (404, "text/html")
    assert answer.body == (public / page).read_bytes()


def test_feeds_and_robots_have_their_types(server, public):
    feeds = sorted(p.relative_to(public).as_posix() for p in public.rglob("rss.xml"))
    assert "news/rss.xml" in feeds and "ru/news/rss.xml" in feeds
    for feed in feeds:
        assert server.get("/" + feed).type == "application/rss+xml", feed
    assert server.get("/robots.txt").type == "text/plain"


@pytest.mark.parametrize("path", ["/news/", "/ru/", "/news/rss.xml", "/sitemap-pages.xml", "/404.html"])
def test_a_client_that_accepts_gzip_gets_the_precompressed_file(server, public, path):
    file = public / (path.lstrip("/") + ("index.html" if path.endswith("/") else ""))
    precompressed = file.with_name(file.name + ".gz").read_bytes()
    answer = server.get(path, Accept_Encoding="gzip")
    assert answer.headers["Content-Encoding"] == "gzip"
    assert answer.body == precompressed, "nginx sends the build's .gz, not a compression of its own"
    assert gzip.decompress(answer.body) == file.read_bytes()
    assert "Accept-Encoding" in answer.headers["Vary"]
    plain = server.get(path)
    assert plain.headers["Content-Encoding"] is None and plain.body == file.read_bytes()


def test_a_client_that_accepts_brotli_gets_the_br_file(server, public):
    if not server.brotli:
        missing("serving .br needs Debian's libnginx-mod-http-brotli-static")
    file = public / "news" / "index.html"
    answer = server.get("/news/", Accept_Encoding="gzip, deflate, br")
    assert answer.headers["Content-Encoding"] == "br"
    assert brotli.decompress(answer.body) == file.read_bytes()


@pytest.mark.parametrize("alias", ALIASES)
def test_an_old_address_redirects_permanently_to_the_item(server, alias):
    answer = server.get(quote(alias))
    assert (answer.status, answer.headers["Location"]) == (301, ITEM)
    assert server.get(ITEM).status == 200


def test_every_form_of_an_old_folder_address_redirects_not_only_the_one_written(server):
    """The page left at an old folder address is never served as a page: with or without its index.html or slash."""
    folder = quote(ALIASES[1])
    for path in (folder, folder + "index.html", folder.removesuffix("/")):
        answer = server.get(path)
        assert (answer.status, answer.headers["Location"]) == (301, ITEM), path


def test_security_headers_are_on_pages_assets_and_errors(server):
    csp = CSP_LINE.search(SHIPPED.read_text()).group(1)
    for path in ("/", "/news/rss.xml", "/no/such/page/", quote(ALIASES[0]), "/news"):
        headers = server.get(path).headers
        assert headers["Content-Security-Policy"] == csp, path
        assert headers["X-Content-Type-Options"] == "nosniff", path
        assert headers["Referrer-Policy"] == "strict-origin-when-cross-origin", path


def test_fingerprinted_assets_are_cached_for_a_year_and_pages_for_minutes(server, public):
    stylesheet = fingerprinted_name("style.css", (STATIC / "style.css").read_bytes())
    answer = server.get(f"/static/{stylesheet}")
    assert (answer.status, answer.type) == (200, "text/css")
    assert answer.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    for path in ("/", "/news/2024/", "/news/rss.xml", "/sitemap.xml", f"/static/{PHOTO}"):
        answer = server.get(path)
        assert (answer.status, answer.headers["Cache-Control"]) == (200, "public, max-age=300"), path


def parse_csp(policy: str) -> dict[str, list[str]]:
    """Split a Content-Security-Policy into its directives and their sources."""
    directives = [part.split() for part in policy.split(";") if part.strip()]
    return {name: sources for name, *sources in directives}


def allows_self(csp: dict[str, list[str]], directive: str) -> bool:
    """Tell whether a fetch directive (or default-src in its place) allows same-origin loads."""
    return "'self'" in csp.get(directive, csp.get("default-src", []))


def same_origin(url: str) -> bool:
    """Tell whether a URL in a page points at the page's own origin."""
    return not urlsplit(url).scheme and not url.startswith("//")


def test_the_policy_allows_what_the_pages_load_and_nothing_inline(sample_site):
    """Every script, stylesheet, image and form of the sample site is allowed by the shipped CSP, and no page
    needs an inline script, inline style or event handler, which the policy blocks."""
    csp = parse_csp(CSP_LINE.search(SHIPPED.read_text()).group(1))
    assert csp["default-src"] == ["'none'"]
    assert all("'unsafe-inline'" not in sources and "'unsafe-eval'" not in sources for sources in csp.values())
    pages = sorted(sample_site.rglob("*.html"))
    assert len(pages) > 50
    for page in pages:
        document = read_html(page)
        for element in document.elements:
            where = f"{page.relative_to(sample_site)}:{element.line} <{element.tag}>"
            assert not any(name.startswith("on") for name in element.attrs), where
            assert "style" not in element.attrs and element.tag not in {"style", "iframe", "object", "embed", "base"}, (
                where
            )
            if element.tag == "script":
                if "src" in element.attrs:
                    assert same_origin(element.attrs["src"]) and allows_self(csp, "script-src"), where
                else:
                    assert element.get("type") == "application/ld+json", f"{where}: an inline script"
            if element.tag == "link" and element.get("rel") in {"stylesheet", "icon", "manifest"}:
                directive = {"stylesheet": "style-src", "icon": "img-src", "manifest": "manifest-src"}
                assert same_origin(element.attrs["href"]), where
                assert allows_self(csp, directive[element.attrs["rel"]]), where
            if element.tag == "img":
                assert same_origin(element.attrs["src"]) and allows_self(csp, "img-src"), where
            if element.tag == "form":
                assert same_origin(element.get("action", "")) and "'self'" in csp["form-action"], where


def test_the_redirects_include_quotes_every_address_so_none_can_change_the_configuration():
    text = render_redirects(
        [
            ("/b/", "/new/b/", ""),
            ('/a";return(200);#', '/n$host/"q\\', ""),
            ("/b/", "/new/b/", ""),
            ("/%D0%BD%D0%BE%D0%B2%D0%BE%D1%81%D1%82%D0%B8/", "/новое/", ""),
        ]
    ).decode()
    assert [line for line in text.splitlines() if not line.startswith("#")] == [
        r'location = "/a\";return(200);#" { return 301 "/n%24host/%22q%5C"; }',
        'location = "/b/" { return 301 "/new/b/"; }',
        'location = "/новости/" { return 301 "/%D0%BD%D0%BE%D0%B2%D0%BE%D0%B5/"; }',
    ]


def test_nginx_reads_crafted_addresses_as_plain_paths(tmp_path):
    root = tmp_path / "root"
    root.mkdir()
    (root / "nginx-redirects.conf").write_bytes(
        render_redirects([('/a";return(200);#', "/n$host/", "")], [('/f$uri"(.*)/', "/n$1/")])
    )
    (tmp_path / "nginx").mkdir()
    with running_nginx(tmp_path / "nginx", root) as server:
        answer = server.get(quote('/a";return(200);#'))
        assert (answer.status, answer.headers["Location"]) == (301, "/n%24host/")
        assert server.get("/a").status == 404
        answer = server.get(quote('/f$uri"(.*)/photo.jpg'))
        assert (answer.status, answer.headers["Location"]) == (301, "/n%241/photo.jpg")
        assert server.get("/f/photo.jpg").status == 404


RETRACTED = "/news/2024/03/12/working-visit-to-the-river-commission/"


def test_a_retracted_address_answers_410_with_its_withdrawn_page(tmp_path):
    content = copy_fixture(tmp_path / "content")
    options = Options(
        content=content,
        out=tmp_path / "public",
        templates=TEMPLATES,
        static=STATIC,
        search=False,
        cache=tmp_path / ".cache",
    )
    build(options, NOW)  # published, and recorded
    (content / "alpha/2024/2024-03-12-working-visit.md").unlink()
    site = content / "site.yaml"
    site.write_text(
        site.read_text(encoding="utf-8")
        + f'gone:\n  "{RETRACTED}": Withdrawn at the request of the Commission.\n  /old/list.php: Never coming back.\n'
        + '  "/old/g$uri/": Withdrawn as a folder.\n  "/old/h$1.html": Withdrawn as a page.\n',
        encoding="utf-8",
    )
    build(options, NOW)
    (tmp_path / "nginx").mkdir()
    with running_nginx(tmp_path / "nginx", options.out) as server:
        for path, reason in [
            (RETRACTED, "Withdrawn at the request of the Commission."),
            (RETRACTED + "index.html", "Withdrawn at the request of the Commission."),
            (quote("/old/g$uri/"), "Withdrawn as a folder."),  # `$uri` is part of the address, not a variable
            (quote("/old/g$uri/index.html"), "Withdrawn as a folder."),
            (quote("/old/h$1.html"), "Withdrawn as a page."),
        ]:
            answer = server.get(path)
            assert (answer.status, answer.type) == (410, "text/html"), path
            assert reason in answer.body.decode(), path
        assert server.get("/old/list.php").status == 410
        assert server.get(ITEM).status == 200
        for feed in ("/news/rss.xml", "/sections/alpha/rss.xml"):
            assert b"working-visit" not in server.get(feed).body


STATEMENT = "speeches/2024/2024-07-19-statement-at-the-un-security-council/index.md"
MEETING = "csto-news/2024/2024-07-25-international-school-of-diplomacy/index.md"


def new_slug(content: Path, item: str, old: str, new: str) -> None:
    """Give an item of a content copy a new explicit slug."""
    path = content / item
    text = path.read_text(encoding="utf-8")
    assert f"\nslug: {old}\n" in text
    path.write_text(text.replace(f"\nslug: {old}\n", f"\nslug: {new}\n"), encoding="utf-8")


def test_the_photos_and_documents_at_an_items_old_address_follow_it(tmp_path):
    """A new slug moves the item's files too: each old file address answers 301 with the same name at the new one."""
    content = shutil.copytree(SAMPLE, tmp_path / "content")
    new_slug(content, STATEMENT, "statement-at-the-un-security-council", "statement-un-security-council")
    new_slug(content, MEETING, "secretariat-meets-international-school-of-diplomacy", "secretariat-meets-students")
    options = Options(
        content=content, out=tmp_path / "public", templates=TEMPLATES, static=STATIC, search=False, cache=tmp_path / "c"
    )
    build(options, NOW)
    (tmp_path / "nginx").mkdir()
    with running_nginx(tmp_path / "nginx", options.out) as server:
        for old, new in [
            (
                "/news/2024/07/19/statement-at-the-un-security-council/sample-attachment.pdf",
                "/news/2024/07/19/statement-un-security-council/sample-attachment.pdf",
            ),
            (
                "/news/2024/07/25/secretariat-meets-international-school-of-diplomacy/sample-meeting.1200.jpg",
                "/news/2024/07/25/secretariat-meets-students/sample-meeting.1200.jpg",
            ),
        ]:
            answer = server.get(old)
            assert (answer.status, answer.headers["Location"]) == (301, new), old
            assert server.get(new).body == (options.out / new.lstrip("/")).read_bytes(), new
        old_page = "/news/2024/07/19/statement-at-the-un-security-council/"
        assert server.get(old_page).headers["Location"] == "/news/2024/07/19/statement-un-security-council/"


def test_nginx_starts_before_the_first_publish_with_no_redirects_include(tmp_path):
    """The documented include names a pattern: with no nginx-redirects.conf yet, `nginx -t` still passes."""
    root = tmp_path / "root"
    root.mkdir()
    (root / "index.html").write_text("<!doctype html><title>t</title>", encoding="utf-8")
    (tmp_path / "nginx").mkdir()
    with running_nginx(tmp_path / "nginx", root) as server:
        assert server.get("/").status == 200
