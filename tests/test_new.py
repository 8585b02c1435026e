"""`csto-site new`: the file lands where the build expects it, builds onto the site, and is never overwritten."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import yaml
from helpers.photos import drawn_photo
from helpers.site import NOW, ROOT, TEMPLATES, build_into, cli_args, snapshot
from PIL import Image

from csto_site import cli
from csto_site.build.media import photo_problem
from csto_site.build.read import recorded_owners, recorded_slugs
from csto_site.content.scaffold import Request, Rules, create_item, front_matter
from csto_site.util.errors import ContentError, Problem
from csto_site.util.files import read_listed

RULES = Rules(recorded_slugs, recorded_owners, photo_problem)  # as the command line gives them


def new(content: Path, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    """Run `csto-site new` on a content folder; return the status, stdout and stderr."""
    status = cli.main(["new", *args, "--content", str(content), "--templates", str(TEMPLATES)])
    printed = capsys.readouterr()
    assert "Traceback" not in printed.out + printed.err
    return status, printed.out, printed.err


def test_new_item_is_built_into_its_section_archive_and_feeds(mini_copy: Path, tmp_path: Path) -> None:
    request = Request(
        "Talks on river navigation: a first round",
        section="beta",
        officials=("I. Orlov",),
        organizations=("rc", "Northern Council"),
    )

    created = create_item(request, mini_copy, TEMPLATES, NOW, RULES)

    assert created.path == mini_copy / "beta/2026/2026-11-29-talks-on-river-navigation-a-first-round.md"
    assert (created.lang, created.slug) == ("en", "talks-on-river-navigation-a-first-round")
    assert created.path.read_text(encoding="utf-8").startswith(
        "---\ntitle: 'Talks on river navigation: a first round'\ndate: 2026-11-29 12:00\n"
        "officials: [Ivan Orlov]\norganizations: [RC, NC]\n"
    )
    out = tmp_path / "public"
    with pytest.raises(ContentError, match="the item has no text"):  # `new` leaves the text to the editor
        build_into(mini_copy, out, search=False)
    with created.path.open("a", encoding="utf-8") as file:
        file.write("The first round of talks was held.\n")
    build_into(mini_copy, out, search=False)
    url = "/news/2026/11/29/talks-on-river-navigation-a-first-round/"
    page = (out / url.lstrip("/") / "index.html").read_text(encoding="utf-8")
    assert "<h1>Talks on river navigation: a first round</h1>" in page
    for listing in (
        "sections/beta/index.html",
        "news/2026/11/29/index.html",
        "officials/ivan-orlov/index.html",
        "organizations/river-commission/index.html",
        "news/rss.xml",
        "sections/beta/rss.xml",
    ):
        assert url in (out / listing).read_text(encoding="utf-8"), listing


def test_the_command_prints_the_path_and_the_address(mini_copy: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = new(
        mini_copy,
        capsys,
        "Квартальный отчёт",
        "--section",
        "alpha",
        "--lang",
        "ru",
        "--date",
        "2024-06-01 09:30",
        "--official",
        "Анна Петрова",
    )

    path = mini_copy / "alpha/2024/2024-06-01-kvartalnyi-otchet.ru.md"
    assert status == 0
    assert out == f"created {path}\naddress https://example.org/ru/news/2024/06/01/kvartalnyi-otchet/\n"
    assert path.read_text(encoding="utf-8").startswith(
        "---\ntitle: Квартальный отчёт\ndate: 2024-06-01 09:30\nofficials: [Анна Петрова]\n"
    )


def test_today_is_the_day_in_the_site_time_zone(mini_copy: Path) -> None:
    # 22:30 in UTC is already the next day in Moscow.
    late = datetime(2026, 11, 29, 22, 30, tzinfo=ZoneInfo("UTC"))

    created = create_item(Request("Late news", section="alpha"), mini_copy, TEMPLATES, late, RULES)

    assert created.path.name == "2026-11-30-late-news.md"
    assert "date: 2026-11-30 01:30\n" in created.path.read_text(encoding="utf-8")


def test_an_existing_file_is_never_overwritten(mini_copy: Path, capsys: pytest.CaptureFixture[str]) -> None:
    args = ("Annual report published", "--section", "alpha", "--date", "2023-11-14")
    path = mini_copy / "alpha/2023/2023-11-14-annual-report-published.md"
    assert new(mini_copy, capsys, *args)[0] == 0
    path.write_text(path.read_text(encoding="utf-8") + "The text the editor wrote.\n", encoding="utf-8")
    before = path.read_bytes()

    status, _, err = new(mini_copy, capsys, *args)

    assert status == 1
    assert f"{path}: this file already exists (edit it, or choose another title)" in err
    assert path.read_bytes() == before


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (("--section", "alfa"), '--section: unknown section "alfa" (did you mean "alpha"?)'),
        (
            ("--section", "alpha", "--official", "Anna Petrowa"),
            '--official: unknown official "Anna Petrowa" (did you mean "Anna Petrova"? If not, add a line to ',
        ),
        (
            ("--section", "alpha", "--organization", "River Comission"),
            '--organization: unknown organization "River Comission" (did you mean "River Commission"? If not, ',
        ),
        (
            ("--section", "alpha", "--official", "Sergei Ivanov"),
            '--official: unknown official "Sergei Ivanov" (if this is a new official, add a line to '
            "CONTENT/officials.yaml: sergei-ivanov: {name: {en: Sergei Ivanov}}, "
            "then add the name in Russian beside it (ru: ...))",
        ),
        (
            ("--section", "alpha", "--lang", "ru", "--official", "Зульфия Хакимова"),
            '--official: unknown official "Зульфия Хакимова" (if this is a new official, add a line to '
            "CONTENT/officials.yaml: zulfiia-khakimova: {name: {ru: Зульфия Хакимова}}, "
            "then add the name in English beside it (en: ...))",
        ),
        (
            ("--section", "alpha", "--official", "Ivan Orlov, Anna Petrova"),
            '--official: "Ivan Orlov, Anna Petrova" looks like several names '
            '(give each one: --official "Ivan Orlov" --official "Anna Petrova")',
        ),
        (("--section", "alpha", "--date", "2024-02-30"), "--date: '2024-02-30' is not a valid date"),
        (("--section", "alpha", "--lang", "de"), "--lang: unknown language 'de' (languages in site.yaml: en, ru)"),
    ],
)
def test_unknown_names_get_the_build_hint_and_nothing_is_written(
    args: tuple[str, ...], expected: str, mini_copy: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = snapshot(mini_copy)

    status, _, err = new(mini_copy, capsys, "A title", *args)

    assert status == 1
    assert expected.replace("CONTENT", str(mini_copy)) in err
    assert err.endswith("found; nothing was written.\n")
    assert snapshot(mini_copy) == before


def test_a_section_is_required(mini_copy: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status, _, err = new(mini_copy, capsys, "A title")

    assert status == 2
    assert "csto-site new: error: give the section: --section S (or --translation-of PATH)" in err


def test_a_translation_takes_the_original_date_people_and_address(
    mini_copy: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    original = mini_copy / "alpha/2024/2024-03-12-working-visit.md"

    status, out, _ = new(mini_copy, capsys, "Рабочий визит в Речную комиссию", "--translation-of", str(original))

    twin = mini_copy / "alpha/2024/2024-03-12-working-visit.ru.md"
    assert status == 0
    assert out.splitlines() == [
        f"created {twin}",
        "address https://example.org/ru/news/2024/03/12/working-visit-to-the-river-commission/",
    ]
    assert twin.read_text(encoding="utf-8").startswith(
        "---\ntitle: Рабочий визит в Речную комиссию\ndate: 2024-03-12 10:00\nofficials: [Иван Орлов]\n"
        "organizations: [РК, СС]\n"
    )
    out_dir = tmp_path / "public"
    with twin.open("a", encoding="utf-8") as file:
        file.write("Состоялся рабочий визит.\n")
    build_into(mini_copy, out_dir, search=False)
    english = (out_dir / "news/2024/03/12/working-visit-to-the-river-commission/index.html").read_text(encoding="utf-8")
    assert 'href="/ru/news/2024/03/12/working-visit-to-the-river-commission/"' in english


@pytest.mark.parametrize("made_a_folder", [False, True], ids=["file", "made-a-folder-since"])
def test_a_translation_of_a_retitled_original_is_given_the_address_it_is_published_at(
    mini_copy: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], made_a_folder: bool
) -> None:
    original = mini_copy / "alpha/2024/2024-03-12-working-visit.md"
    out = tmp_path / "public"
    build_into(mini_copy, out, search=False)
    original.write_text(original.read_text(encoding="utf-8").replace("Working visit to", "A visit to"), "utf-8")
    build_into(mini_copy, out, search=False)  # the original keeps its address: the slug first published
    if made_a_folder:  # not built since: the build will find it moved all the same
        (mini_copy / "alpha/2024/2024-03-12-working-visit").mkdir()
        original = original.rename(mini_copy / "alpha/2024/2024-03-12-working-visit/index.md")

    status, printed, err = new(mini_copy, capsys, "Визит в Речную комиссию", "--translation-of", str(original))

    assert status == 0, err
    url = "/ru/news/2024/03/12/working-visit-to-the-river-commission/"
    assert printed.splitlines()[1] == f"address https://example.org{url}"
    twin = Path(printed.splitlines()[0].removeprefix("created "))
    with twin.open("a", encoding="utf-8") as file:
        file.write("Состоялся визит.\n")
    build_into(mini_copy, out, search=False)
    assert "<h1>Визит в Речную комиссию</h1>" in (out / url.lstrip("/") / "index.html").read_text(encoding="utf-8")


def test_an_existing_translation_is_to_be_edited_whatever_the_title(
    mini_copy: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    original = str(mini_copy / "alpha/2024/2024-03-12-working-visit.md")
    assert new(mini_copy, capsys, "Рабочий визит", "--translation-of", original)[0] == 0
    twin = mini_copy / "alpha/2024/2024-03-12-working-visit.ru.md"
    before = twin.read_bytes()

    status, _, err = new(mini_copy, capsys, "Другой заголовок", "--translation-of", original)

    assert status == 1
    assert err.startswith(
        f"{twin}: this translation already exists "
        "(edit 2024-03-12-working-visit.ru.md: a translation is named after its original, whatever its title)\n"
    )
    assert twin.read_bytes() == before


def test_a_translation_needs_an_original_in_the_default_language(
    mini_copy: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    russian = mini_copy / "beta/2024/only-ru.ru.md"

    status, _, err = new(mini_copy, capsys, "Title", "--translation-of", str(russian))

    assert status == 1
    assert (
        f"{russian}: this file is not an original in the default language (English), and there is none: new makes "
        f"translations of originals only (to add the English version, copy this file to {russian.parent}/only-ru.md "
        "and translate it, keeping its `date:`)\n"
    ) in err


def test_a_translation_given_for_its_original_is_told_the_original(
    mini_copy: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    russian = mini_copy / "alpha/2024/2024-03-12-morning-briefing.ru.md"

    status, _, err = new(mini_copy, capsys, "Title", "--translation-of", str(russian))

    assert status == 1
    assert (
        f"{russian}: this file is not an original in the default language (English) "
        f"(give its original, {russian.parent}/2024-03-12-morning-briefing.md)\n"
    ) in err


def test_a_future_date_is_announced_as_scheduled(mini_copy: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = new(mini_copy, capsys, "Summit", "--section", "alpha", "--date", "2099-01-01 10:00")

    assert status == 0
    assert out.endswith("scheduled: it appears with the first build after 2099-01-01 10:00 MSK\n")


@pytest.mark.parametrize(
    "args",
    [
        ("Talks", "--section", "alpha", "--date", "2024-06-02"),
        ("Переговоры", "--section", "alpha", "--date", "2024-06-02", "--lang", "ru"),
        ("Рабочий визит", "--translation-of", "alpha/2024/2024-03-12-working-visit.md"),
        ("Talks", "--section", "alpha", "--date", "2024-06-02", "--photo", "PHOTO"),
    ],
    ids=["item", "russian-item", "translation", "item-with-a-photo"],
)
def test_each_commented_line_builds_once_its_hash_is_deleted(
    args: tuple[str, ...], mini_copy: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    photo = tmp_path / "group.jpg"
    photo.write_bytes(drawn_photo(120, 80))
    paths = [str(photo) if a == "PHOTO" else str(mini_copy / a) if a.endswith(".md") else a for a in args]
    status, out, _ = new(mini_copy, capsys, *paths)
    assert status == 0
    item = Path(out.splitlines()[0].removeprefix("created "))
    lines = item.read_text(encoding="utf-8").replace('alt: ""', "alt: The delegations").split("\n")
    commented = [i for i, line in enumerate(lines) if line.lstrip().startswith("# ")]
    assert len(commented) == (4 if "--photo" in args else 2)
    for i in commented:
        uncommented = lines[i].replace("# ", "", 1)
        key, value = next(iter(yaml.safe_load(uncommented.strip()).items()))
        assert value == (key == "draft" or ""), uncommented  # draft: true; a text left for the editor to write
        # A draft may stay empty, as the build's hint for an item with no text says.
        text = "" if key == "draft" else "The talks were held.\n"
        item.write_text("\n".join([*lines[:i], uncommented, *lines[i + 1 :]]) + text, encoding="utf-8")
        status = cli.main(cli_args("check", mini_copy, tmp_path / "public", "--no-search"))  # every check, no writes
        err = capsys.readouterr().err
        if key in ("caption", "credit"):  # like the alt text, an empty photo text is refused until written
            assert err == (
                f"{item}:{i + 1}: `image.{key}` is empty (write the text, or remove the line)\n"
                "1 problem found; nothing was written.\n"
            )
        else:
            assert status == 0, err


def test_the_guide_shows_the_file_new_writes() -> None:
    guide = (ROOT / "docs/guide.md").read_text(encoding="utf-8")
    title = "OSCE Secretary General Helga Schmid addresses the CSTO Permanent Council"

    written = front_matter(title, "2021-06-22 16:00", ["Helga Schmid"], ["OSCE"])

    assert f"```markdown\n{written}```\n" in guide


def test_a_translation_of_a_folder_item_is_made_of_its_index(
    mini_copy: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert new(mini_copy, capsys, "Talks", "--section", "alpha", "--date", "2024-06-02", "--bundle")[0] == 0
    folder = mini_copy / "alpha/2024/2024-06-02-talks"

    status, out, err = new(mini_copy, capsys, "Переговоры", "--translation-of", f"{folder}/")

    assert status == 0, err
    assert out.splitlines()[0] == f"created {folder / 'index.ru.md'}"


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        (
            "alpha/2024/2024-03-12-working-visti.md",
            "alpha/2024/2024-03-12-working-visti.md: there is no such file "
            "(check the path: copy it from the list of the files there, e.g. `ls CONTENT/alpha/2024`)",
        ),
        (
            "alpha/2025/visit.md",
            "alpha/2025/visit.md: there is no such file "
            "(check the path: copy it from the list of the files there, e.g. `ls CONTENT/alpha`)",
        ),
        (
            "alpha/2024",
            "alpha/2024: this folder is not an item: it holds no index.md "
            "(give the item's .md file, or the folder of an item with an index.md)",
        ),
    ],
)
def test_an_original_that_is_not_there_is_named_with_where_to_find_it(
    given: str, expected: str, mini_copy: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = snapshot(mini_copy)

    status, _, err = new(mini_copy, capsys, "Визит", "--translation-of", str(mini_copy / given))

    assert status == 1
    assert err == f"{mini_copy}/{expected.replace('CONTENT', str(mini_copy))}\n1 problem found; nothing was written.\n"
    assert snapshot(mini_copy) == before


def test_only_a_refused_read_is_said_to_be_about_permissions(tmp_path: Path) -> None:
    # Only a refusal by the system is about permissions: `new` names paths, and the build's files may go meanwhile.
    assert read_listed(str(tmp_path / "gone.md"), tmp_path) == Problem(
        str(tmp_path / "gone.md"),
        0,
        "cannot read the file: no such file or directory",
        "it was moved or deleted meanwhile: run the command again",
    )
    problem = read_listed(str(tmp_path), tmp_path)
    assert isinstance(problem, Problem) and problem.hint == "give the path of a file, not of a folder"


def test_a_title_whose_address_another_item_has_takes_the_next_free_slug(
    mini_copy: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # alpha's published item of 12 March has this title's address; an unbuilt item of beta takes the next.
    build_into(mini_copy, tmp_path / "public", search=False)  # writes the record: the address is published
    args = ("Morning briefing held", "--date", "2024-03-12 18:00")
    status, out, _ = new(mini_copy, capsys, *args, "--section", "beta")
    first = mini_copy / "beta/2024/2024-03-12-morning-briefing-held-2.md"
    published = mini_copy / "alpha/2024/2024-03-12-morning-briefing.md"
    assert status == 0
    assert out.splitlines()[1:] == [
        "address https://example.org/news/2024/03/12/morning-briefing-held-2/",
        f"note: the title's address is already {published}'s, so this item has "
        "`slug: morning-briefing-held-2` (edit it as you like)",
    ]
    assert "\nslug: morning-briefing-held-2   # the title's address is another item's\n" in first.read_text(
        encoding="utf-8"
    )
    # Not built yet, the first copy is found by its file in beta: a third one, in alpha, takes -3.
    status, out, _ = new(mini_copy, capsys, *args, "--section", "alpha")
    assert (status, out.splitlines()[1]) == (0, "address https://example.org/news/2024/03/12/morning-briefing-held-3/")
    for created in (first, mini_copy / "alpha/2024/2024-03-12-morning-briefing-held-3.md"):
        with created.open("a", encoding="utf-8") as file:
            file.write("The briefing was held again.\n")
    build_into(mini_copy, tmp_path / "public", search=False)  # the build takes all three, each at its address
    for slug in ("morning-briefing-held", "morning-briefing-held-2", "morning-briefing-held-3"):
        assert (tmp_path / f"public/news/2024/03/12/{slug}/index.html").is_file()


def test_new_refuses_a_photo_the_build_would_refuse_with_the_builds_message_and_writes_nothing(
    mini_copy: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    frames = [Image.new("RGB", (60, 40), colour) for colour in ("red", "blue")]
    frames[0].save(tmp_path / "anim.gif", save_all=True, append_images=frames[1:])
    (tmp_path / "truncated.jpg").write_bytes(drawn_photo(900, 600)[:2000])
    (tmp_path / "setup.exe").write_bytes(b"MZ" + bytes(62))
    (tmp_path / "group.jpg").write_bytes(drawn_photo(120, 80))
    photos = [tmp_path / name for name in ("group.jpg", "anim.gif", "truncated.jpg", "setup.exe")]
    before = snapshot(mini_copy)

    args = ["Talks", "--section", "alpha", "--date", "2024-06-02"]
    status, out, err = new(mini_copy, capsys, *args, *(a for photo in photos for a in ("--photo", str(photo))))

    assert (status, out) == (1, "")
    refused = {photo: photo_problem(photo.read_bytes(), photo.name) for photo in photos}
    assert refused[photos[0]] is None
    assert err.splitlines() == [
        *sorted(f"{photo}: {message} ({hint})" for photo, (message, hint) in list(refused.items())[1:]),
        "3 problems found; nothing was written.",
    ]
    assert "truncated.jpg is truncated or damaged" in err and "setup.exe is not a photo" in err
    assert snapshot(mini_copy) == before
