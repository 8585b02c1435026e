"""Redirects: item `aliases` and site.yaml's `redirects` become pages at the old addresses, checked for clashes."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
from helpers.reference import reference_declared
from helpers.site import build_into, cli_args
from helpers.tools import require_tool, vnu_jar

from csto_site import cli
from csto_site.output.redirects import redirect_of
from csto_site.output.spec import Partition

ITEM = "alpha/2024/2024-06-01-moved-item.md"
ITEM_URL = "/news/2024/06/01/moved-item/"


def write(content: Path, rel: str, text: str) -> Path:
    """Write a content file."""
    path = content / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def item(aliases: str, title: str = "Moved item", extra: str = "") -> str:
    """Return an item file with the given `aliases:` value."""
    return f"---\ntitle: {title}\ndate: 2024-06-01 10:00\naliases: {aliases}\n{extra}---\nThe body.\n"


def add_redirects(content: Path, lines: str) -> None:
    """Append a `redirects:` block to site.yaml."""
    site = content / "site.yaml"
    site.write_text(site.read_text(encoding="utf-8") + "redirects:\n" + lines, encoding="utf-8")


def problems(content: Path, out: Path, capsys: pytest.CaptureFixture[str]) -> str:
    """Build with the command line, expect exit 1 and nothing written; return what was printed."""
    status = cli.main(cli_args("build", content, out, "--no-search"))
    printed = capsys.readouterr()
    assert status == 1, printed.out
    assert "Traceback" not in printed.err
    assert not out.exists()
    return printed.err


def test_an_alias_leaves_a_redirect_page_at_the_old_address(mini_copy: Path, tmp_path: Path) -> None:
    write(mini_copy, ITEM, item('["/old/moved.html", "/ru/старое/", "/old/folder"]'))
    out = tmp_path / "public"
    build_into(mini_copy, out, search=False)

    for old in ("old/moved.html", "ru/старое/index.html", "old/folder/index.html"):
        html = (out / old).read_text(encoding="utf-8")
        assert f'<meta http-equiv="refresh" content="0; url={ITEM_URL}">' in html
        assert f'<link rel="canonical" href="https://example.org{ITEM_URL}">' in html
        assert f'<a href="{ITEM_URL}">Moved item</a>' in html
        assert "<script" not in html
        assert '<meta name="robots" content="noindex">' in html
    assert (out / ITEM_URL.lstrip("/") / "index.html").is_file()
    sitemap = "".join(path.read_text(encoding="utf-8") for path in sorted(out.glob("sitemap*.xml")))
    assert "/old/" not in sitemap
    assert "https://example.org/news/2024/06/01/moved-item/" in sitemap


def test_an_address_with_another_extension_is_listed_for_the_web_server_only(mini_copy: Path, tmp_path: Path) -> None:
    write(mini_copy, ITEM, item('["/detail.php"]'))
    redirects = [redirect_of(s) for s in reference_declared(mini_copy).specs(Partition("redirect"))]

    assert [(r.old, r.new, r.path) for r in redirects] == [("/detail.php", ITEM_URL, "")]


def test_held_back_items_leave_no_redirects(mini_copy: Path, tmp_path: Path) -> None:
    write(mini_copy, ITEM, item('["/old/draft/"]', extra="draft: true\n"))
    write(
        mini_copy,
        "alpha/2099/2099-01-01-future.md",
        item('["/old/future/"]', title="Future").replace("2024-06-01", "2099-01-01"),
    )
    out = tmp_path / "public"
    build_into(mini_copy, out, search=False)

    assert not (out / "old").exists()


def record(content: Path, *addresses: str) -> None:
    """Write the record of published addresses, as an earlier build would have."""
    (content / "addresses.txt").write_text("".join(f"{a}\n" for a in addresses), encoding="utf-8")


def test_a_moved_section_keeps_every_address_below_it(mini_copy: Path, tmp_path: Path) -> None:
    record(
        mini_copy, "/sections/first/", "/sections/first/2024/", "/sections/first/2023/11/", "/sections/first/rss.xml"
    )
    add_redirects(mini_copy, '  "/sections/first/": /sections/alpha/\n  /about.html: /news/\n')
    out = tmp_path / "public"
    build_into(mini_copy, out, search=False)

    for old, new in (
        ("sections/first/index.html", "/sections/alpha/"),
        ("sections/first/2024/index.html", "/sections/alpha/2024/"),
        ("sections/first/2023/11/index.html", "/sections/alpha/2023/11/"),
        ("about.html", "/news/"),
    ):
        html = (out / old).read_text(encoding="utf-8")
        assert f'content="0; url={new}"' in html, old
        assert f'<a href="{new}">https://example.org{new}</a>' in html
    assert not (out / "sections/first/rss.xml").exists()  # a feed: nginx redirects it, no page can
    conf = (out / "nginx-redirects.conf").read_text(encoding="utf-8")
    assert 'location = "/sections/first/rss.xml" { return 301 "/sections/alpha/rss.xml"; }' in conf
    assert not (out / "sections/first/2023/index.html").exists()  # never published: nothing to keep


def test_a_page_redirect_whose_sides_end_in_a_slash_writes_nothing_below_it(mini_copy: Path, tmp_path: Path) -> None:
    record(mini_copy, "/about/")
    add_redirects(mini_copy, "  /about/: /sections/alpha/\n")
    out = tmp_path / "public"
    build_into(mini_copy, out, search=False)

    assert (out / "about/index.html").exists()
    assert sorted(p.relative_to(out).as_posix() for p in (out / "about").rglob("*.html")) == ["about/index.html"]
    conf = (out / "nginx-redirects.conf").read_text(encoding="utf-8")
    assert [line for line in conf.splitlines() if "/about" in line] == [
        'location = "/about" { return 301 "/sections/alpha/"; }',
        'location = "/about/" { return 301 "/sections/alpha/"; }',
        'location = "/about/index.html" { return 301 "/sections/alpha/"; }',
    ]


def test_the_redirect_list_names_every_old_and_new_address(mini_copy: Path, tmp_path: Path) -> None:
    write(mini_copy, ITEM, item('["/old/moved/"]'))
    old = ["/ru/old-alpha/2024/", "/ru/old-alpha/2024/03/", "/ru/old-alpha/2023/", "/ru/old-alpha/2023/11/"]
    record(mini_copy, *old)
    add_redirects(mini_copy, "  /ru/old-alpha/: /ru/sections/alpha/\n")
    redirects = [redirect_of(s) for s in reference_declared(mini_copy).specs(Partition("redirect"))]

    assert [(r.old, r.new, r.lang, r.source, r.line) for r in redirects] == [
        ("/old/moved/", ITEM_URL, "en", str(mini_copy / ITEM), 4),
        ("/ru/old-alpha/", "/ru/sections/alpha/", "ru", str(mini_copy / "site.yaml"), 11),
        ("/ru/old-alpha/2023/", "/ru/sections/alpha/2023/", "ru", str(mini_copy / "site.yaml"), 11),
        ("/ru/old-alpha/2023/11/", "/ru/sections/alpha/2023/11/", "ru", str(mini_copy / "site.yaml"), 11),
        ("/ru/old-alpha/2024/", "/ru/sections/alpha/2024/", "ru", str(mini_copy / "site.yaml"), 11),
        ("/ru/old-alpha/2024/03/", "/ru/sections/alpha/2024/03/", "ru", str(mini_copy / "site.yaml"), 11),
    ]


@pytest.mark.parametrize(
    ("alias", "reason"),
    [
        ("/../outside/", "it leads outside the site"),
        ("/%2e%2e/outside/", "it leads outside the site"),
        ("/a%2F..%2F..%2Fetc/", "it leads outside the site"),
        ("/a//b/", "it has an empty part"),
        ("https://odkb-csto.org/news/", "write only the path, without the domain"),
        ("old/page/", 'it must start with "/"'),
        ("/old page/", "it must not contain spaces"),
        ("/detail.php?id=5", "a static site cannot tell addresses apart by ? or #"),
    ],
)
def test_an_unsafe_alias_is_an_error_at_its_line(
    alias: str, reason: str, mini_copy: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(mini_copy, ITEM, item(f'\n  - "/fine/"\n  - "{alias}"'))

    err = problems(mini_copy, tmp_path / "public", capsys)

    assert f"{path}:6: the alias {alias!r} cannot be used: {reason}" in err


def test_an_alias_on_a_real_page_is_an_error(
    mini_copy: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(mini_copy, ITEM, item('["/news/2024/"]'))

    err = problems(mini_copy, tmp_path / "public", capsys)

    assert f"{path}:4: the old address /news/2024/ is the address of /news/2024/" in err


def test_an_alias_on_another_item_names_that_item(
    mini_copy: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(mini_copy, ITEM, item('["/news/2023/11/14/annual-report-published"]'))

    err = problems(mini_copy, tmp_path / "public", capsys)

    other = mini_copy / "alpha/2023/2023-11-14-annual-report.md"
    assert f"{path}:4: the old address /news/2023/11/14/annual-report-published is the address of {other}" in err


def test_one_alias_given_twice_names_both_places(
    mini_copy: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    first = write(mini_copy, ITEM, item('["/old/same/"]'))
    second = write(
        mini_copy, "beta/2024-06-02-other.md", item('["/old/same"]', title="Other").replace("2024-06-01", "2024-06-02")
    )

    err = problems(mini_copy, tmp_path / "public", capsys)

    assert f"{second}:4: the old address /old/same is also given in {first}:4" in err


def test_every_mistake_on_one_line_is_reported(
    mini_copy: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    first = write(
        mini_copy,
        "alpha/2023/2023-12-01-first.md",
        item('["/old/same/"]', title="First").replace("2024-06-01", "2023-12-01"),
    )
    path = write(mini_copy, ITEM, item('["/news/2024/", "/old/same/"]'))

    err = problems(mini_copy, tmp_path / "public", capsys)

    assert err.splitlines() == [
        f"{path}:4: the old address /news/2024/ is the address of /news/2024/ (remove it: a redirect there would "
        "hide that page)",
        f"{path}:4: the old address /old/same/ is also given in {first}:4 (keep it in one place only)",
        "2 problems found; nothing was written.",
    ]


def test_site_redirect_mistakes_are_errors_at_their_line(
    mini_copy: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    add_redirects(
        mini_copy, "  /old-beta/: /sections/gamma/\n  /../x/: /news/\n  /news/: /sections/alpha/\n  /same/: /same/\n"
    )
    site = mini_copy / "site.yaml"

    err = problems(mini_copy, tmp_path / "public", capsys)

    assert f"{site}:12: the redirect cannot be used: the old address '/../x/': it leads outside the site" in err
    assert f"{site}:14: '/same/' redirects to itself" in err
    # The checks against the pages run once the site.yaml entries are well formed.
    lines = "  /old-beta/: /sections/gamma/\n  /news/: /sections/alpha/\n"
    site.write_text(site.read_text(encoding="utf-8").split("redirects:")[0] + "redirects:\n" + lines, encoding="utf-8")
    err = problems(mini_copy, tmp_path / "public", capsys)
    assert f"{site}:11: the new address /sections/gamma/ is not a page of the site" in err
    assert f"{site}:12: the old address /news/ is the address of /news/" in err


def test_redirect_pages_are_valid_and_minimal(mini_copy: Path, tmp_path: Path) -> None:
    write(mini_copy, ITEM, item('["/old/<b>&amp;/"]', title='"Tom & <Jerry>"'))
    out = tmp_path / "public"
    build_into(mini_copy, out, search=False)

    html = (out / "old/<b>&amp;/index.html").read_text(encoding="utf-8")
    assert re.search(r"<title>This page has moved — Mini Test Site</title>", html)
    assert '<a href="/news/2024/06/01/tom-jerry/">Tom &amp; &lt;Jerry&gt;</a>' in html
    assert html.count("<a ") == 1


def test_redirect_pages_pass_the_nu_html_checker(mini_copy: Path, tmp_path: Path) -> None:
    java = require_tool("java", "the Nu HTML checker needs Java (apt-get install default-jre-headless)")
    write(mini_copy, ITEM, item('["/old/moved.html", "/ru/старое/"]'))
    add_redirects(mini_copy, '  "/sections/first/": /sections/alpha/\n')
    out = tmp_path / "public"
    build_into(mini_copy, out, search=False)
    pages = [out / "old/moved.html", out / "ru/старое/index.html", out / "sections/first/2024/index.html"]

    result = subprocess.run(
        [java, "-jar", str(vnu_jar()), "--errors-only", *map(str, pages)], capture_output=True, text=True, check=False
    )

    assert result.returncode == 0, result.stderr
