"""Fingerprinted assets: CSS and JS named after their content, referenced by every page through one map."""

from __future__ import annotations

import hashlib
import re

import pytest
from helpers.site import NOW, STATIC, TEMPLATES, build_into, copy_fixture

from csto_site.build.options import Options
from csto_site.output.assets import fingerprinted_name, static_files
from csto_site.publish.run import build
from csto_site.util.errors import ContentError

STATIC_FILES = {
    "style.css": b"body { color: #123; }\n",
    "vendor/tool.js": b"console.log(1);\n",
    "favicon.svg": b"<svg/>",
}


def test_the_name_carries_the_first_8_hex_digits_of_the_content_sha256():
    data = b"body { color: #123; }\n"
    assert fingerprinted_name("style.css", data) == f"style.{hashlib.sha256(data).hexdigest()[:8]}.css"
    assert fingerprinted_name("vendor/a.b.js", data).startswith("vendor/a.b.")


def test_fingerprints_are_deterministic_and_follow_the_content():
    first, again = static_files(STATIC_FILES, ()), static_files(STATIC_FILES, ())
    assert first == again
    changed = static_files({"style.css": b"body { color: #124; }\n"}, ())
    assert changed["style.css"].published != first["style.css"].published


def test_css_and_js_are_renamed_and_other_files_keep_their_names():
    files = static_files(STATIC_FILES, ("style.css",))
    assert re.fullmatch(r"style\.[0-9a-f]{8}\.css", files["style.css"].published)
    assert re.fullmatch(r"vendor/tool\.[0-9a-f]{8}\.js", files["vendor/tool.js"].published)
    assert files["favicon.svg"].published == "favicon.svg"


def test_a_required_asset_missing_from_static_is_a_problem_not_a_crash():
    with pytest.raises(ContentError) as caught:
        static_files(STATIC_FILES, ("style.css", "nav.js"))
    assert [(p.path, p.message) for p in caught.value.problems] == [
        ("static/nav.js", "the templates need this file but the static folder has none")
    ]


def test_pages_reference_the_fingerprinted_files_the_build_writes(tmp_path):
    out = tmp_path / "public"
    build_into(copy_fixture(tmp_path / "content"), out, search=False)
    page = (out / "index.html").read_text(encoding="utf-8")
    for name in ("style.css", "nav.js"):
        published = fingerprinted_name(name, (STATIC / name).read_bytes())
        assert f'"/static/{published}"' in page
        assert (out / "static" / published).read_bytes() == (STATIC / name).read_bytes()
        assert not (out / "static" / name).exists(), "the unfingerprinted name is not published"


def test_a_changed_stylesheet_gets_a_new_address_on_every_page(tmp_path):
    static = tmp_path / "static"
    static.mkdir()
    for source in STATIC.iterdir():
        if source.is_file():
            (static / source.name).write_bytes(source.read_bytes())
    content = copy_fixture(tmp_path / "content")

    def stylesheet_link(out):
        build(Options(content=content, out=out, templates=TEMPLATES, static=static, cache=out.parent / ".cache"), NOW)
        return re.search(r'href="(/static/style\.[0-9a-f]{8}\.css)"', (out / "index.html").read_text()).group(1)

    before = stylesheet_link(tmp_path / "one")
    (static / "style.css").write_bytes((static / "style.css").read_bytes() + b"\n.new { color: red; }\n")
    after = stylesheet_link(tmp_path / "two")
    assert before != after
