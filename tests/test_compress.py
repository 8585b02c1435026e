"""Precompressed copies: .gz and .br beside every text output above the threshold, identical on every build."""

from __future__ import annotations

import gzip
import random
import shutil

import brotli
import pytest
from helpers.site import STATIC, build_into, cli_args, copy_fixture

from csto_site import cli
from csto_site.output.compress import MIN_SIZE, compressed
from csto_site.output.spec import Output

PAGE = Output("news/index.html", ("<p>Collective security treaty news.</p>\n" * 80).encode(), "home.html")


def test_copies_decompress_to_the_original_bytes():
    copies = {o.path: o.data for o in compressed(PAGE)}
    assert sorted(copies) == ["news/index.html.br", "news/index.html.gz"]
    assert gzip.decompress(copies["news/index.html.gz"]) == PAGE.data
    assert brotli.decompress(copies["news/index.html.br"]) == PAGE.data
    assert all(len(data) < len(PAGE.data) for data in copies.values())


def test_the_same_bytes_always_give_the_same_copies():
    assert compressed(Output(PAGE.path, bytes(PAGE.data), PAGE.source)) == compressed(PAGE)
    gz = next(o.data for o in compressed(PAGE) if o.path.endswith(".gz"))
    assert gz[4:8] == b"\0\0\0\0", "no modification time in the gzip header"
    assert gz[3] & 0x08 == 0, "no file name in the gzip header"


@pytest.mark.parametrize(
    "output",
    [
        Output("small.html", b"<p>short</p>" * 10, "x"),  # under the threshold
        Output("static/photo.jpg", b"\xff\xd8" * MIN_SIZE, "x"),  # not text
        Output("pagefind/fragment/en_1.pf_fragment", b"\0" * 4 * MIN_SIZE, "x"),  # already compressed by its tool
    ],
)
def test_small_and_binary_files_get_no_copies(output):
    assert compressed(output) == []


def test_incompressible_text_gets_no_copy_larger_than_itself():
    noise = Output("noise.txt", random.Random(0).randbytes(4 * MIN_SIZE), "x")
    assert len(gzip.compress(noise.data)) >= len(noise.data), "random bytes do not compress"
    assert len(brotli.compress(noise.data)) >= len(noise.data), "random bytes do not compress"
    assert compressed(noise) == []


def test_a_copy_clashing_with_a_static_file_is_reported(tmp_path, capsys):
    static = tmp_path / "static"
    shutil.copytree(STATIC, static)
    (static / "map.svg").write_bytes(b"<svg>" + b" " * 2 * MIN_SIZE + b"</svg>")
    (static / "map.svg.gz").write_bytes(b"hand-made")
    content = copy_fixture(tmp_path / "content")
    result = cli.main(cli_args("build", content, tmp_path / "public", "--no-search", "--static", str(static)))
    assert result == 1
    err = capsys.readouterr().err
    assert f"{static}/map.svg.gz: static/map.svg.gz is also written by {static}/map.svg (its compressed copy)" in err
    assert not (tmp_path / "public").exists()


def test_the_built_site_has_copies_of_its_text_files_that_decompress_to_them(tmp_path):
    out = tmp_path / "public"
    build_into(copy_fixture(tmp_path / "content"), out, search=False)
    text = [p for p in out.rglob("*") if p.suffix in {".html", ".css", ".js", ".xml", ".txt"}]
    big = [p for p in text if p.stat().st_size >= MIN_SIZE]
    assert len(big) > 20 and any(p.suffix == ".css" for p in big) and any(p.suffix == ".xml" for p in big)
    for path in big:
        assert gzip.decompress(path.with_name(path.name + ".gz").read_bytes()) == path.read_bytes(), path
        assert brotli.decompress(path.with_name(path.name + ".br").read_bytes()) == path.read_bytes(), path
    for path in text:
        if path.stat().st_size < MIN_SIZE:
            assert not path.with_name(path.name + ".gz").exists(), path


def test_a_rebuild_after_an_edit_changes_only_the_copies_of_changed_pages(tmp_path):
    content = copy_fixture(tmp_path / "content")
    build_into(content, tmp_path / "one", search=False)
    item = next(content.rglob("2024-03-12-working-visit.md"))
    item.write_text(item.read_text(encoding="utf-8") + "\nOne more sentence.\n", encoding="utf-8")
    build_into(content, tmp_path / "two", search=False)

    def copies(out):
        return {p.relative_to(out).as_posix(): p.read_bytes() for p in out.rglob("*.gz")}

    one, two = copies(tmp_path / "one"), copies(tmp_path / "two")
    changed = {path for path in one.keys() & two.keys() if one[path] != two[path]}
    assert changed, "the edited item's page has a new .gz"
    for path in changed:
        page = path.removesuffix(".gz")
        assert (tmp_path / "one" / page).read_bytes() != (tmp_path / "two" / page).read_bytes(), path
    assert len(changed) < len(one) / 2
