"""Items that are folders: their photos and documents published below the page, and every mistake in them refused."""

from __future__ import annotations

import io
import json
import re
import runpy
import shutil
from pathlib import Path

import pytest
from helpers.photos import BUNDLE, ITEM, add_bundle, drawn_photo
from helpers.site import GOLDEN, ROOT, SAMPLE, TEMPLATES, build_into, cli_args, copy_fixture, retract, tree
from PIL import Image
from test_golden import normalise

from csto_site import cli
from csto_site.build import variants as variants_module

PAGE = "news/2024/06/01/graduates-visit-the-secretariat/"
SRCSET = re.compile(r'srcset="([^"]+)"')


def page_of(out: Path, prefix: str = "") -> str:
    return (out / prefix / PAGE / "index.html").read_text(encoding="utf-8")


@pytest.fixture
def site(mini_copy: Path, tmp_path: Path) -> tuple[Path, Path]:
    """The mini site with a bundle item, built."""
    add_bundle(mini_copy)
    out = tmp_path / "public"
    build_into(mini_copy, out, search=False)
    return mini_copy, out


def test_the_lead_photo_heads_the_page_in_a_picture_with_every_variant(site):
    _, out = site
    page = page_of(out)
    lead = page[page.index('<figure class="photo lead-photo">') :]
    lead = lead[: lead.index("</figure>")]
    assert '<source type="image/avif"' in lead and '<source type="image/webp"' in lead
    assert 'width="1800" height="1200"' in lead and 'alt="The graduates in front of the Secretariat"' in lead
    assert 'loading="lazy"' not in lead  # the lead photo is the page's largest paint: never lazy
    assert "The graduates of the course" in lead and "Sample material drawn by the test" in lead
    # Every other photo is lazy; the text's photo, named in Cyrillic with a space, is published under a safe name.
    assert page.count('loading="lazy"') == 2
    assert "/stol-peregovorov.700.jpg" in page and 'alt="The table of the meeting"' in page


def test_a_photo_shown_twice_in_the_text_keeps_the_alt_text_written_each_time(mini_copy, tmp_path):
    folder = add_bundle(mini_copy)
    shown = "![The graduates arriving](hall.jpg)\n\n![The graduates leaving](hall.jpg)\n\n"
    shown += '<img src="hall.jpg" alt="The graduates  at the &lt;door&gt;">\n'
    (folder / "index.md").write_text(ITEM + "\n" + shown, encoding="utf-8")
    out = tmp_path / "public"
    build_into(mini_copy, out, search=False)
    body = page_of(out)
    body = body[body.index('class="item-body"') : body.index('class="gallery"')]
    alts = re.findall(r'<img [^>]*alt="([^"]*)"', body)
    assert alts == [
        "The table of the meeting",
        "The graduates arriving",
        "The graduates leaving",
        "The graduates at the &lt;door&gt;",
    ]
    assert body.count("/hall.600.avif") == 3  # each is the photo's <picture>


def test_every_variant_exists_decodes_at_its_stated_size_and_carries_no_metadata(site):
    _, out = site
    for prefix in ("", "ru"):
        page = page_of(out, prefix)
        pictures = re.findall(r"<picture>.*?</picture>", page, re.S)
        assert len(pictures) == (2 if prefix else 3)  # the translation's text shows no photo
        for picture in pictures:
            width, height = (int(v) for v in re.search(r'width="(\d+)" height="(\d+)"', picture).groups())
            for srcset in SRCSET.findall(picture):
                for entry in srcset.split(", "):
                    url, stated = entry.split(" ")
                    data = (out / url.lstrip("/")).read_bytes()
                    image = Image.open(io.BytesIO(data))
                    image.load()
                    w = int(stated[:-1])
                    assert image.size == (w, max(1, round(height * w / width))), url
                    assert w <= width
                    assert {"jpg": "JPEG", "webp": "WEBP", "avif": "AVIF"}[url.rsplit(".", 1)[1]] == image.format
                    assert not image.getexif(), url
                    assert b"Exif" not in data and b"Test Camera" not in data, url


def test_the_exif_orientation_is_applied(site):
    _, out = site
    page = page_of(out)
    assert re.search(r'hall\.600\.jpg 600w"[^>]*width="600" height="900"', page)
    assert Image.open(out / PAGE / "hall.600.jpg").size == (600, 900)


def test_og_image_twitter_card_and_news_article_image(site):
    _, out = site
    page = page_of(out)
    base = "https://example.org/"
    assert f'<meta property="og:image" content="{base}{PAGE}group.1200.jpg">' in page
    assert '<meta property="og:image:width" content="1200">' in page
    assert '<meta property="og:image:height" content="800">' in page
    assert '<meta property="og:image:alt" content="The graduates in front of the Secretariat">' in page
    assert '<meta name="twitter:card" content="summary_large_image">' in page
    data = json.loads(re.search(r'<script type="application/ld\+json">(.*?)</script>', page).group(1))
    assert data["image"] == [  # the crops in Google's ratios, from the middle, then the large JPEGs as they are
        {"@type": "ImageObject", "url": f"{base}{PAGE}group.16x9.jpg", "width": 1200, "height": 675},
        {"@type": "ImageObject", "url": f"{base}{PAGE}group.4x3.jpg", "width": 1200, "height": 900},
        {"@type": "ImageObject", "url": f"{base}{PAGE}group.1x1.jpg", "width": 1067, "height": 1067},
        {"@type": "ImageObject", "url": f"{base}{PAGE}group.1200.jpg", "width": 1200, "height": 800},
        {"@type": "ImageObject", "url": f"{base}{PAGE}group.1600.jpg", "width": 1600, "height": 1067},
    ]
    # The translation shows the original's photo in its own words.
    ru = page_of(out, "ru")
    assert '<meta property="og:image:alt" content="Выпускники перед зданием Секретариата">' in ru
    assert "Выпускники курса" in ru


def test_the_gallery_links_each_thumbnail_to_the_large_photo_and_documents_are_listed(site):
    _, out = site
    page = page_of(out)
    gallery = page[page.index('<section class="gallery"') :]
    assert re.search(rf'<a href="/{PAGE}hall.600.jpg"><picture>', gallery)
    assert 'alt="The conference hall"' in gallery
    assert f'<a href="/{PAGE}statement.pdf" type="application/pdf">Joint statement</a>' in page
    assert re.search(r"\(PDF, \d+\xa0B\)", page)
    assert (out / PAGE / "statement.pdf").read_bytes() == (site[0] / BUNDLE / "statement.pdf").read_bytes()


def test_no_gps_reaches_any_published_file(site):
    _, out = site
    published = [p for p in out.rglob("*") if p.suffix in (".jpg", ".webp", ".avif")]
    assert len(published) > 20
    for path in published:
        data = path.read_bytes()
        assert not Image.open(io.BytesIO(data)).getexif().get_ifd(0x8825), path
        assert b"Exif" not in data, path


def test_a_photo_is_made_once_and_never_again_while_its_bytes_are_unchanged(mini_copy, tmp_path, monkeypatch):
    made: list[str] = []
    real = variants_module.variants

    def counting(data: bytes, name: str, **how: bool) -> object:
        made.append(name)
        return real(data, name, **how)

    monkeypatch.setattr(variants_module, "variants", counting)
    folder = add_bundle(mini_copy)
    out = tmp_path / "public"
    build_into(mini_copy, out, search=False, jobs=1)
    assert sorted(made) == ["group.jpg", "hall.jpg", "Стол переговоров.jpg"]
    made.clear()
    index = folder / "index.md"
    index.write_text(index.read_text(encoding="utf-8").replace("came to", "visited"), encoding="utf-8")
    build_into(mini_copy, out, search=False, jobs=1)
    assert made == []
    (folder / "hall.jpg").write_bytes(drawn_photo(900, 600, seed=5))
    build_into(mini_copy, out, search=False, jobs=1)
    assert made == ["hall.jpg"]
    assert Image.open(out / PAGE / "hall.900.jpg").size == (900, 600)  # no longer turned
    assert not (out / PAGE / "hall.600.jpg").exists()


def test_adding_replacing_and_removing_photos_and_documents_builds_what_a_clean_build_does(mini_copy, tmp_path):
    out = tmp_path / "public"
    build_into(mini_copy, out, search=False)
    folder = add_bundle(mini_copy)
    index = folder / "index.md"
    steps = [
        lambda: None,
        lambda: (folder / "group.jpg").write_bytes(drawn_photo(1300, 900, seed=3)),
        lambda: index.write_text(
            index.read_text(encoding="utf-8").replace(
                "attachments:\n  - file: statement.pdf\n    title: Joint statement\n", ""
            ),
            encoding="utf-8",
        ),
        lambda: index.write_text(
            index.read_text(encoding="utf-8").replace("![The table of the meeting](<Стол переговоров.jpg>)", ""),
            encoding="utf-8",
        ),
        lambda: retract(mini_copy, folder / "index.md", folder / "index.ru.md") or shutil.rmtree(folder),
    ]
    for number, step in enumerate(steps):
        step()
        build_into(mini_copy, out, search=False)
        clean = tmp_path / f"clean{number}"
        build_into(mini_copy, clean, search=False)
        assert tree(out) == tree(clean), number


def run(content: Path, out: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    status = cli.main(cli_args("build", content, out, "--no-search"))
    printed = capsys.readouterr()
    assert "Traceback" not in printed.out + printed.err
    return status, printed.err


def edit(folder: Path, old: str, new: str) -> None:
    index = folder / "index.md"
    text = index.read_text(encoding="utf-8")
    assert old in text
    index.write_text(text.replace(old, new), encoding="utf-8")


@pytest.mark.parametrize(
    ("old", "new", "line", "words"),
    [
        (
            "  - file: hall.jpg",
            "  - file: hal.jpg",
            10,
            'hal.jpg: there is no such file in the item\'s folder (did you mean "hall.jpg"?)',
        ),
        ("  alt: The graduates in front of the Secretariat\n", "", 4, "`image` gives no `alt` (its alt text)"),
        (
            "    alt: The conference hall\n",
            "",
            10,
            "the 1st photo of `gallery` gives no `alt` (its alt text) (write what the photo shows",
        ),
        ("![The table of the meeting]", "![]", 19, "the photo Стол переговоров.jpg in the text has no alt text"),
        ("  file: group.jpg", "  file: ../2024-03-12-x/group.jpg", 5, "leads out of the item's folder"),
        ("  - file: statement.pdf", "  - file: group.jpg", 14, "group.jpg is named both as a photo and as a document"),
        ("    title: Joint statement\n", "", 14, "the 1st document of `attachments` gives no `title`"),
        (
            "    caption: The hall\n",
            '    caption: The hall\n  - file: stairs.jpg\n    alt: " "\n',
            13,
            "the `alt` of the 2nd photo of `gallery` is empty (write what the photo shows",
        ),
    ],
)
def test_a_mistake_is_reported_at_its_line_and_nothing_is_written(mini_copy, tmp_path, capsys, old, new, line, words):
    folder = add_bundle(mini_copy)
    edit(folder, old, new)
    out = tmp_path / "public"
    status, err = run(mini_copy, out, capsys)
    assert status == 1
    assert f"{folder / 'index.md'}:{line}: " in err and words in err, err
    assert not out.exists()


def test_a_name_leading_out_of_the_folder_hides_none_of_the_items_other_file_problems(mini_copy, tmp_path, capsys):
    folder = add_bundle(mini_copy)
    (folder / "archive.zip").write_bytes(b"PK\x05\x06" + bytes(18))
    (folder / "setup.exe").write_bytes(b"MZ" + bytes(62))
    names = ("../x/statement.pdf", "statment.pdf", "archive.zip", "setup.exe")
    named = "".join(f"  - file: {name}\n    title: {name}\n" for name in names)
    edit(folder, "  - file: statement.pdf\n    title: Joint statement\n", named)
    edit(folder, "![The table of the meeting](<Стол переговоров.jpg>)", "![The table](tabel.jpg)")
    out = tmp_path / "public"
    status, err = run(mini_copy, out, capsys)
    assert status == 1 and not out.exists()
    index = folder / "index.md"
    expected = [
        f"{index}:14: ../x/statement.pdf leads out of the item's folder",
        f"{index}:16: statment.pdf: there is no such file in the item's folder",
        f"{index}:18: archive.zip is not a document the site publishes",
        f"{index}:20: setup.exe is not a document the site publishes",
        f"{index}:25: tabel.jpg: there is no such file in the item's folder",
        "5 problems found; nothing was written.",
    ]
    lines = err.splitlines()
    assert len(lines) == len(expected) and all(map(str.startswith, lines, expected)), err


@pytest.mark.parametrize(
    ("old", "new", "line"),
    [("  file: group.jpg", "  file: grop.jpg", 5), ("  - file: hall.jpg", "  - file: hal.jpg", 10)],
)
def test_a_mistake_of_the_original_is_not_blamed_on_its_translation(mini_copy, tmp_path, capsys, old, new, line):
    folder = add_bundle(mini_copy)
    edit(folder, old, new)
    status, err = run(mini_copy, tmp_path / "public", capsys)
    assert status == 1 and f"{folder / 'index.md'}:{line}: " in err
    assert "index.ru.md" not in err and "1 problem found" in err, err


@pytest.mark.parametrize(
    ("change", "words"),
    [
        ("delete", "there is no original item to take it from (name the photo file with `file:`)"),
        ("no lead photo", "the original item names no lead photo to take it from (name the photo file with `file:`)"),
    ],
)
def test_a_translation_without_its_lead_photos_file_needs_an_original_that_has_one(
    mini_copy, tmp_path, capsys, change, words
):
    folder = add_bundle(mini_copy)
    if change == "delete":
        (folder / "index.md").unlink()
    else:
        edit(folder, ITEM[ITEM.index("image:") : ITEM.index("gallery:")], "")
    status, err = run(mini_copy, tmp_path / "public", capsys)
    assert status == 1 and f"{folder / 'index.ru.md'}:4: `image` gives no `file`, and {words}" in err, err


@pytest.mark.parametrize(
    ("name", "data", "words"),
    [
        ("hall.jpg", b"not a photo", "hall.jpg is not a photo"),
        ("hall.jpg", drawn_photo(900, 600)[:2000], "hall.jpg is truncated or damaged"),
        ("statement.pdf", b"PK\x03\x04 not a pdf", "statement.pdf is not a PDF file"),
    ],
)
def test_a_bad_file_is_reported_at_the_line_that_names_it(mini_copy, tmp_path, capsys, name, data, words):
    folder = add_bundle(mini_copy)
    (folder / name).write_bytes(data)
    status, err = run(mini_copy, tmp_path / "public", capsys)
    assert status == 1 and words in err, err
    line = {"hall.jpg": 10, "statement.pdf": 14}[name]
    assert f"{folder / 'index.md'}:{line}: " in err


def test_a_single_file_item_cannot_name_photos(mini_copy, tmp_path, capsys):
    item = mini_copy / "alpha/2024/2024-03-12-working-visit.md"
    text = item.read_text(encoding="utf-8")
    item.write_text(text.replace("---\n", "---\nimage:\n  file: a.jpg\n  alt: A\n", 1), encoding="utf-8")
    status, err = run(mini_copy, tmp_path / "public", capsys)
    assert status == 1 and f"{item}:2: `image` names files of the item's folder, but this item is a single file" in err


@pytest.mark.parametrize(
    ("single", "inside"), [("2024-12-03-visit.md", "index.ru.md"), ("2024-12-03-visit.ru.md", "index.md")]
)
def test_a_version_as_a_file_beside_the_folder_of_its_other_is_told_to_move_into_it(
    mini_copy, tmp_path, capsys, single, inside
):
    year = mini_copy / "alpha/2024"
    folder = year / "2024-12-03-visit"
    folder.mkdir()
    (folder / inside).write_text("---\ntitle: Визит\ndate: 2024-12-03\n---\nТекст.\n", encoding="utf-8")
    (year / single).write_text("---\ntitle: Visit\ndate: 2024-12-03\n---\nText.\n", encoding="utf-8")
    out = tmp_path / "public"
    status, err = run(mini_copy, out, capsys)
    target = "index.md" if inside != "index.md" else "index.ru.md"
    assert status == 1 and not out.exists()
    assert (
        f"{year / single}: this item is also a folder, {folder}/: the two would be published as unrelated items "
        f"(move this file into that folder as {folder / target}: an item with photos or documents keeps each "
        "language version in its folder)"
    ) in err.splitlines()
    (year / single).rename(folder / target)
    assert run(mini_copy, out, capsys)[0] == 0


def test_a_photo_in_the_text_without_alt_text_has_every_problem_told_at_once_each_at_its_own_line(
    mini_copy, tmp_path, capsys
):
    # The missing alt text hid the rest: "not on the site" or "no such file" only came on the next run. And
    # a photo shown twice was told twice at the first line.
    item = mini_copy / "alpha/2024/2024-03-12-working-visit.md"
    text = item.read_text(encoding="utf-8").rstrip("\n")
    lines = text.count("\n") + 1
    item.write_text(f"{text}\n\n<img src=x.jpg>\n\n<img src=x.jpg>\n", encoding="utf-8")
    folder = add_bundle(mini_copy)
    edit(folder, "![The table of the meeting](<Стол переговоров.jpg>)", "![](gone.jpg)\n\n![](gone.jpg)")
    status, err = run(mini_copy, tmp_path / "public", capsys)
    assert status == 1
    hint = "write what it shows between the brackets: ![The delegations at the table]"
    no_such = "gone.jpg: there is no such file in the item's folder"
    for at in (lines + 2, lines + 4):
        assert f"{item}:{at}: the photo x.jpg in the text has no alt text ({hint}(x.jpg))" in err, err
        assert f"{item}:{at}: the photo x.jpg is not on the site: this item is a single file" in err, err
    for at in (19, 21):
        assert f"{folder / 'index.md'}:{at}: the photo gone.jpg in the text has no alt text" in err, err
        assert f"{folder / 'index.md'}:{at}: {no_such}" in err, err
    assert len(err.splitlines()) == 9, err


def test_new_with_a_photo_starts_a_folder_item_that_builds_once_its_alt_text_is_written(mini_copy, tmp_path, capsys):
    photo = tmp_path / "Фото 1.jpg"
    photo.write_bytes(drawn_photo(1300, 900))
    args = ["new", "Graduates visit", "--section", "alpha", "--date", "2024-06-02", "--content", str(mini_copy)]
    assert cli.main([*args, "--photo", str(photo), "--templates", str(TEMPLATES)]) == 0
    capsys.readouterr()
    index = mini_copy / "alpha/2024/2024-06-02-graduates-visit/index.md"
    assert (index.parent / "Фото 1.jpg").read_bytes() == photo.read_bytes()
    status, err = run(mini_copy, tmp_path / "public", capsys)
    assert status == 1 and f"{index}:6: `image.alt` is empty (write what the photo shows, for readers who" in err
    assert "remove the line" not in err  # alt text is required: without the line the build refuses it too
    text = index.read_text(encoding="utf-8").replace('alt: ""', "alt: The graduates")
    index.write_text(text + "The graduates visited the Secretariat.\n", encoding="utf-8")
    status, err = run(mini_copy, tmp_path / "public", capsys)
    assert status == 0, err
    assert (tmp_path / "public/news/2024/06/02/graduates-visit/foto-1.1300.avif").is_file()


def test_new_bundle_makes_a_folder_and_its_translation_goes_beside(mini_copy, capsys):
    base = ["--content", str(mini_copy), "--templates", str(TEMPLATES)]
    assert cli.main(["new", "Talks", "--section", "alpha", "--date", "2024-06-02", "--bundle", *base]) == 0
    index = mini_copy / "alpha/2024/2024-06-02-talks/index.md"
    assert index.is_file()
    assert cli.main(["new", "Переговоры", "--translation-of", str(index), *base]) == 0
    assert (index.parent / "index.ru.md").is_file()
    capsys.readouterr()


GOLDEN_BUNDLE = GOLDEN / "bundle"
GOLDEN_PAGES = (
    f"{PAGE}index.html",  # the item that is a folder: lead photo, text photo, gallery, documents
    f"ru/{PAGE}index.html",  # its translation, with the original's photos in its own words
    "index.html",  # a teaser with its thumbnail
    "news/rss.xml",  # the enclosure
)


@pytest.fixture(scope="module")
def golden_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The mini site with a bundle item, built once for the golden pages."""
    root = tmp_path_factory.mktemp("bundle")
    content = copy_fixture(root / "content")
    add_bundle(content)
    build_into(content, root / "public", search=False)
    return root / "public"


@pytest.mark.parametrize("rel", GOLDEN_PAGES)
def test_bundle_page_matches_golden(rel, golden_site, update_golden):
    actual = normalise((golden_site / rel).read_text(encoding="utf-8"))
    golden = GOLDEN_BUNDLE / rel
    if update_golden:
        golden.parent.mkdir(parents=True, exist_ok=True)
        golden.write_text(actual, encoding="utf-8")
        return
    assert golden.is_file(), f"no golden file {golden}: run pytest --update-golden"
    assert actual == golden.read_text(encoding="utf-8"), f"{rel} differs from its golden file (--update-golden)"


def test_a_lead_photo_under_1200_pixels_is_published_with_a_warning(mini_copy, tmp_path, capsys):
    folder = add_bundle(mini_copy)
    (folder / "group.jpg").write_bytes(drawn_photo(1000, 700))
    status, err = run(mini_copy, tmp_path / "public", capsys)
    assert status == 0
    assert f"{folder / 'index.md'}:5: warning: the lead photo group.jpg is 1000 pixels wide, under 1200" in err
    assert err.count("warning: the lead photo") == 1  # not again for the translation that shows it
    assert (tmp_path / "public" / PAGE / "group.1000.jpg").is_file()
    # `check` says what every build says (the guide: the pre-commit hook runs check).
    checked = cli.main(cli_args("check", mini_copy, tmp_path / "public"))
    assert checked == 0
    assert capsys.readouterr().err.count("warning: the lead photo group.jpg is 1000 pixels wide") == 1


def test_check_lists_a_file_of_an_item_folder_only_when_no_item_names_it(mini_copy, tmp_path, capsys):
    folder = add_bundle(mini_copy)
    (folder / "unused.jpg").write_bytes(drawn_photo(50, 50))
    assert cli.main(cli_args("check", mini_copy, tmp_path / "public")) == 0
    err = capsys.readouterr().err
    assert f"{folder / 'unused.jpg'}: warning: not a Markdown file, nor a photo or document an item names" in err
    assert "group.jpg" not in err and "statement.pdf" not in err


def test_the_sample_pictures_and_document_are_what_the_drawing_script_makes(tmp_path: Path) -> None:
    script = runpy.run_path(str(ROOT / "tools" / "sample_media.py"))
    script["main"](tmp_path)
    for rel in script["FILES"]:
        assert (tmp_path / rel).read_bytes() == (SAMPLE / rel).read_bytes(), f"{rel} is not the drawn one"
