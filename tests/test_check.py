"""`csto-site check`: every check of a build, editorial warnings, and not one byte written."""

from __future__ import annotations

import shutil
import sqlite3
from datetime import timedelta
from pathlib import Path

import pytest
from helpers.site import NOW, SAMPLE, STATIC, TEMPLATES, build_into, cli_args, options, snapshot

from csto_site import cli
from csto_site.build.cache import FILE
from csto_site.build.checks import LONG_ITEM_WORDS
from csto_site.output.render import Renderer
from csto_site.publish.run import check as check_site
from csto_site.util.store import wrap

PNG = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR"


def write(content: Path, rel: str, text: str) -> Path:
    """Write a content file."""
    path = content / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def warnings(content: Path, tmp_path: Path) -> list[str]:
    """Run the check at the fixed time; return its warnings as printed."""
    checked = check_site(options(content, tmp_path / "public"), NOW)
    assert all(w.warning for w in checked.warnings)
    return [str(w) for w in checked.warnings]


def built_and_edited(content: Path, tmp_path: Path) -> Path:
    """Build the site, then add an item the next check will see; return the output folder."""
    out = tmp_path / "public"
    build_into(content, out, search=False)
    write(content, "alpha/2024/2024-06-01-new.md", "---\ntitle: New\ndate: 2024-06-01\n---\nA new item.\n")
    return out


def test_check_writes_nothing(mini_copy: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = built_and_edited(mini_copy, tmp_path)
    before = snapshot(out), snapshot(mini_copy)

    status = cli.main(cli_args("check", mini_copy, out))

    assert status == 0, capsys.readouterr()
    assert (snapshot(out), snapshot(mini_copy)) == before
    assert "checked 10 items and every page: no problems" in capsys.readouterr().out


def test_check_leaves_the_build_cache_alone(mini_copy: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    out = tmp_path / "public"
    assert cli.main(cli_args("build", mini_copy, out, "--no-search", "--quiet", "--cache", str(cache))) == 0
    before = snapshot(cache)

    assert cli.main(cli_args("check", mini_copy, out, "--cache", str(cache))) == 0

    assert snapshot(cache) == before


def test_check_warns_of_a_damaged_cache_as_a_build_does(
    mini_copy: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cache = tmp_path / "cache"
    out = tmp_path / "public"
    assert cli.main(cli_args("build", mini_copy, out, "--no-search", "--quiet", "--cache", str(cache))) == 0
    (cache / FILE).write_bytes(b"this is not a database" * 100)
    capsys.readouterr()

    assert cli.main(cli_args("check", mini_copy, out, "--cache", str(cache))) == 0

    assert (
        f"{cache / FILE}: warning: discarded an unusable cache file (file is not a database)" in capsys.readouterr().err
    )


def test_check_of_a_fresh_checkout_creates_no_folder(
    mini_copy: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = snapshot(tmp_path)

    status = cli.main(cli_args("check", mini_copy, tmp_path / "public"))

    assert status == 0, capsys.readouterr()
    assert snapshot(tmp_path) == before


def test_content_problems_exit_1(mini_copy: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(mini_copy, "alpha/bad.md", "---\ntitle: Bad\ndate: 2024-13-01\n---\n")

    status = cli.main(cli_args("check", mini_copy, tmp_path / "public"))

    err = capsys.readouterr().err
    assert status == 1
    assert f"{path}:3: '2024-13-01' is not a valid date" in err
    assert not (tmp_path / "public").exists()


def test_a_template_mistake_is_found_at_its_line(
    mini_copy: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    templates = Path(shutil.copytree(TEMPLATES, tmp_path / "templates"))
    item = templates / "item.html"
    text = item.read_text(encoding="utf-8")
    item.write_text(text.replace("<h1>{{ item.title }}</h1>", "<h1>{{ item.headline }}</h1>"), encoding="utf-8")
    line = text[: text.index("<h1>{{ item.title }}</h1>")].count("\n") + 1

    status = cli.main(cli_args("check", mini_copy, tmp_path / "public", templates=templates))

    err = capsys.readouterr().err
    assert status == 1
    assert f"{item}:{line}: `item` has no field `headline` (" in err
    assert "Traceback" not in err


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        ("item.nosuchattr.foo", "`item` has no field `nosuchattr`"),
        ("item.title.missing.name", "`item.title` has no field `missing`"),
        ("item['nosuchattr']", "`item` has no field `nosuchattr`"),
        ("headline", "the page has no `headline`"),
    ],
)
def test_a_missing_name_is_worded_for_a_person_at_its_line_of_the_templates_folder_as_given(
    expression: str,
    message: str,
    mini_copy: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    item = Path(shutil.copytree(TEMPLATES, tmp_path / "templates")) / "item.html"
    text = item.read_text(encoding="utf-8")
    item.write_text(text.replace("<h1>{{ item.title }}</h1>", f"<h1>{{{{ {expression} }}}}</h1>"), encoding="utf-8")
    line = text[: text.index("<h1>{{ item.title }}</h1>")].count("\n") + 1
    monkeypatch.chdir(tmp_path)  # as the press secretary runs it: in the project folder, templates/ as a relative path

    status = cli.main(cli_args("check", mini_copy, tmp_path / "public", templates=Path("templates")))

    assert status == 1
    assert capsys.readouterr().err.splitlines()[0] == (
        f"templates/item.html:{line}: {message} (a template uses a name the page does not have; check its spelling)"
    )


@pytest.fixture
def drawn(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The address of every page drawn from now on."""
    urls: list[str] = []
    original = Renderer.render
    monkeypatch.setattr(Renderer, "render", lambda self, q, page: urls.append(page.url) or original(self, q, page))
    return urls


def test_after_a_build_check_draws_only_the_pages_whose_inputs_changed(
    mini_copy: Path, tmp_path: Path, drawn: list[str]
) -> None:
    out = tmp_path / "public"
    build_into(mini_copy, out, search=False)
    every_page = len(drawn)
    drawn.clear()
    check_site(options(mini_copy, out), NOW)
    assert drawn == [], "the build drew every page from these very inputs"
    write(mini_copy, "alpha/2024/2024-06-01-new.md", "---\ntitle: New\ndate: 2024-06-01\n---\nA new item.\n")
    check_site(options(mini_copy, out), NOW)
    assert "/news/2024/06/01/new/" in drawn and len(drawn) < every_page / 2
    drawn.clear()
    check_site(options(mini_copy, out, clean=True), NOW)
    with_clean = sorted(drawn)
    drawn.clear()
    check_site(options(mini_copy, tmp_path / "never-built"), NOW)
    assert with_clean == sorted(drawn) and len(drawn) > every_page, "--clean draws every page, as with no build"


@pytest.mark.parametrize("damage", ["garbage", "unfinished build"])
def test_a_manifest_check_cannot_trust_makes_it_draw_every_page(
    mini_copy: Path, tmp_path: Path, drawn: list[str], damage: str
) -> None:
    out = tmp_path / "public"
    build_into(mini_copy, out, search=False)
    every_page = sorted(drawn)
    drawn.clear()
    manifest = tmp_path / ".public.publish" / "manifest.sqlite"
    if damage == "garbage":
        manifest.write_bytes(b"not a database" * 100)
    else:
        db = sqlite3.connect(manifest)
        db.execute("UPDATE meta SET value = ? WHERE key = 'dirty'", (wrap(b"true", "dirty"),))
        db.commit()
        db.close()
    check_site(options(mini_copy, out), NOW)
    assert sorted(drawn) == every_page


def test_after_a_build_a_template_mistake_is_still_found(
    mini_copy: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    templates = Path(shutil.copytree(TEMPLATES, tmp_path / "templates"))
    out = tmp_path / "public"
    assert cli.main(cli_args("build", mini_copy, out, "--quiet", "--no-search", templates=templates)) == 0
    item = templates / "item.html"
    text = item.read_text(encoding="utf-8")
    # Valid Jinja2 that fails only when drawn, and only on item pages.
    item.write_text(
        text.replace("<h1>{{ item.title }}</h1>", "<h1>{{ item.title.missing.name }}</h1>"), encoding="utf-8"
    )
    line = text[: text.index("<h1>{{ item.title }}</h1>")].count("\n") + 1
    capsys.readouterr()

    assert cli.main(cli_args("check", mini_copy, out, templates=templates)) == 1
    err = capsys.readouterr().err
    assert f"{item}:{line}: `item.title` has no field `missing` (" in err and "Traceback" not in err


def drawn_by_workers_with(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, title: str) -> tuple[Path, Path, int]:
    """Copy the templates with the item page's title drawn by `title`, drawn by forked workers as on a large archive.

    Return the templates' folder, the item template and the line of the title.
    """
    from csto_site.build import draw

    # As on a large archive: the pages are drawn by two forked workers, a few at a time.
    monkeypatch.setattr(draw, "PARALLEL_FROM", 1)
    monkeypatch.setattr(draw, "CHUNK", 3)
    templates = Path(shutil.copytree(TEMPLATES, tmp_path / "templates"))
    item = templates / "item.html"
    text = item.read_text(encoding="utf-8")
    item.write_text(text.replace("<h1>{{ item.title }}</h1>", f"<h1>{title}</h1>"), encoding="utf-8")
    return templates, item, text[: text.index("<h1>{{ item.title }}</h1>")].count("\n") + 1


def test_a_mistake_drawn_by_a_forked_worker_is_reported_at_its_line(
    mini_copy: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    templates, item, line = drawn_by_workers_with(tmp_path, monkeypatch, "{{ item.title.missing.name }}")

    assert (
        cli.main(
            [
                "check",
                "--jobs",
                "2",
                "--content",
                str(mini_copy),
                "--templates",
                str(templates),
                "--static",
                str(STATIC),
                "--out",
                str(tmp_path / "public"),
            ]
        )
        == 1
    )
    err = capsys.readouterr().err
    assert f"{item}:{line}: `item.title` has no field `missing` (" in err and "Traceback" not in err


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        ("{{ 1/0 }}", "division by zero"),
        ("{{ '%d' % 'x' }}", "%d format: a real number is required, not str"),
        ("{% macro r() %}{{ r() }}{% endmacro %}{{ r() }}", "a macro calls itself without end"),
    ],
)
@pytest.mark.parametrize("command", ["check", "build"])
def test_an_expression_failing_in_a_forked_worker_is_reported_at_its_line_with_its_page(
    expression: str,
    message: str,
    command: str,
    mini_copy: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    templates, item, line = drawn_by_workers_with(tmp_path, monkeypatch, expression)
    out = tmp_path / "public"

    assert cli.main(cli_args(command, mini_copy, out, "--jobs", "2", templates=templates)) == 1

    err = capsys.readouterr().err
    assert f"{item}:{line}: {message} while drawing /news/20" in err, err
    assert err.endswith("/ (fix the expression on that line of the template)\n1 problem found; nothing was written.\n")
    assert "Traceback" not in err and not out.exists()


def test_a_template_that_is_not_utf8_is_named_with_its_line(
    mini_copy: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    templates = Path(shutil.copytree(TEMPLATES, tmp_path / "templates"))
    base = templates / "base.html"
    lines = base.read_bytes().count(b"\n")
    base.write_bytes(base.read_bytes() + b"\xff")

    assert cli.main(cli_args("check", mini_copy, tmp_path / "public", templates=templates)) == 1

    err = capsys.readouterr().err
    assert f"{base}:{lines + 1}: the file is not UTF-8 text (save it with the UTF-8 encoding)\n" in err, err
    assert "Traceback" not in err


def test_a_body_naming_an_unlisted_official_or_organization(mini_copy: Path, tmp_path: Path) -> None:
    path = write(
        mini_copy,
        "alpha/2026/2026-11-29-meeting.md",
        "---\ntitle: Meeting\ndate: 2026-11-29 10:00\nofficials: [anna-petrova]\n---\n"
        "Anna Petrova met IVAN ORLOV.\n\nThe [river commission](https://example.org/river-commission/) "
        "and the rivercommission were not there.\n\nA. Petrova spoke again.\n",
    )

    found = [w for w in warnings(mini_copy, tmp_path) if w.startswith(str(path))]

    assert found == [
        f'{path}:6: warning: the text names "IVAN ORLOV" (official `ivan-orlov`), but `officials` '
        "does not list it (add ivan-orlov to `officials:` if the item is about them)",
        f'{path}:8: warning: the text names "river commission" (organization `river-commission`), '
        "but `organizations` does not list it (add river-commission to `organizations:` if the item "
        "is about them)",
    ]


def test_a_body_naming_an_official_with_yo_for_ye_is_found_too(mini_copy: Path, tmp_path: Path) -> None:
    write(mini_copy, "alpha/2026/2026-11-29-meeting.md", "---\ntitle: Meeting\ndate: 2026-11-29 10:00\n---\nText.\n")
    path = write(
        mini_copy,
        "alpha/2026/2026-11-29-meeting.ru.md",
        "---\ntitle: Встреча\ndate: 2026-11-29 10:00\n---\nАННА ПЁТРОВА провела встречу.\n",
    )

    found = [w for w in warnings(mini_copy, tmp_path) if w.startswith(str(path))]

    assert found == [
        f'{path}:5: warning: the text names "АННА ПЁТРОВА" (official `anna-petrova`), but `officials` '
        "does not list it (add anna-petrova to `officials:` if the item is about them)",
    ]


def test_the_publisher_itself_is_not_flagged(mini_copy: Path, tmp_path: Path) -> None:
    site = mini_copy / "site.yaml"
    site.write_text(
        site.read_text(encoding="utf-8").replace("{en: Mini Test Site,", "{en: Northern Council,"), encoding="utf-8"
    )
    path = write(
        mini_copy,
        "alpha/2026/2026-11-29-meeting.md",
        "---\ntitle: Meeting\ndate: 2026-11-29 10:00\n---\nThe Northern Council (NC) met the River Commission.\n",
    )

    found = [w for w in warnings(mini_copy, tmp_path) if w.startswith(str(path))]

    assert [w.split(" warning: ")[1].split(" (")[0] for w in found] == ['the text names "River Commission"']


def dated(content: Path, rel: str, age: timedelta, title: str = "") -> Path:
    """Write an item published `age` before the fixed time (titled in its language)."""
    title = title or ("Новость" if rel.endswith(".ru.md") else "Item")
    return write(content, rel, f"---\ntitle: {title}\ndate: {NOW - age:%Y-%m-%d %H:%M}\n---\nText.\n")


def test_an_item_without_its_translation_after_a_day(mini_copy: Path, tmp_path: Path) -> None:
    english = dated(mini_copy, "alpha/2026/2026-11-24-english.md", timedelta(days=5))
    russian = dated(mini_copy, "beta/2026/2026-11-26-russian.ru.md", timedelta(days=3))
    fresh = dated(mini_copy, "alpha/2026/2026-11-28-fresh.md", timedelta(hours=20))
    pair = [dated(mini_copy, f"alpha/2026/2026-11-19-pair{suffix}.md", timedelta(days=10)) for suffix in ("", ".ru")]

    found = warnings(mini_copy, tmp_path)

    assert (
        f"{english}:1: warning: no 'ru' translation yet, 5 days after publication (create it: csto-site new "
        f'"<title>" --lang ru --translation-of {english})'
    ) in found
    assert (
        f"{russian}:1: warning: no 'en' version of this item, 3 days after publication "
        "(if it needs one, write 2026-11-26-russian.md)"
    ) in found
    assert not [w for w in found if w.startswith((str(fresh), *map(str, pair)))]
    # The fixture's three untranslated items of 2024 are counted, not listed.
    assert (
        f"{mini_copy}: warning: 3 items published more than 30 days ago lack a translation "
        "(only the last 30 days are listed one by one)"
    ) in found
    assert not [w for w in found if "2024-03-12-working-visit.md" in w]


def test_a_long_item_without_a_summary(mini_copy: Path, tmp_path: Path) -> None:
    words = "word " * (LONG_ITEM_WORDS + 1)
    long = write(mini_copy, "alpha/2024/2024-06-01-long.md", f"---\ntitle: Long\ndate: 2024-06-01\n---\n{words}\n")
    summarised = write(
        mini_copy,
        "alpha/2024/2024-06-02-summarised.md",
        f"---\ntitle: Summarised\ndate: 2024-06-02\nsummary: Short.\n---\n{words}\n",
    )
    short = write(
        mini_copy,
        "alpha/2024/2024-06-03-short.md",
        f"---\ntitle: Short\ndate: 2024-06-03\n---\n{'word ' * LONG_ITEM_WORDS}\n",
    )

    found = warnings(mini_copy, tmp_path)

    assert (
        f"{long}:4: warning: a long item ({LONG_ITEM_WORDS + 1} words) with no summary "
        "(add `summary:` with one or two sentences above this line)"
    ) in found
    assert not [w for w in found if w.startswith((str(summarised), str(short))) and "summary" in w]


def test_files_the_build_ignores_are_listed(mini_copy: Path, tmp_path: Path) -> None:
    photo = mini_copy / "alpha/2024/photo.png"
    photo.write_bytes(PNG)
    (mini_copy / "alpha/.hidden.png").write_bytes(PNG)

    found = [w for w in warnings(mini_copy, tmp_path) if "not a Markdown file" in w]

    assert found == [
        f"{photo}: warning: not a Markdown file, nor a photo or document an item names, so the build ignores it "
        "(name it under `image:`, `gallery:` or `attachments:` of the item in its folder (see docs/guide.md, Photos "
        "and documents); name news items <name>.md)"
    ]


def test_warnings_do_not_fail_the_check(mini_copy: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status = cli.main(cli_args("check", mini_copy, tmp_path / "public"))

    printed = capsys.readouterr()
    assert status == 0
    assert "items published more than 30 days ago lack a translation" in printed.err
    assert "problems found" not in printed.err
    assert printed.out.startswith("checked 9 items and every page: no problems, ")


def test_the_sample_content_leaves_a_careful_editor_nothing_to_fix(tmp_path: Path) -> None:
    """The sample is a model for press secretaries: every name in a text is listed, every item translated."""
    assert warnings(SAMPLE, tmp_path) == []


def test_one_old_untranslated_item_lacks_a_translation(mini_copy: Path, tmp_path: Path) -> None:
    for rel in ("alpha/2024/2024-03-12-working-visit.md", "beta/2024/2024-05-20-night-session.md"):
        (mini_copy / rel).unlink()  # two of the three untranslated items: one is left
    counted = [w for w in warnings(mini_copy, tmp_path) if "days ago lack" in w]
    assert counted == [
        f"{mini_copy}: warning: 1 item published more than 30 days ago lacks a translation "
        "(only the last 30 days are listed one by one)"
    ]


@pytest.mark.parametrize(
    ("rel", "title", "message"),
    [
        (
            "alpha/2024/2024-06-01-talks.md",
            "Переговоры в Минске",
            'the title "Переговоры в Минске" is in Cyrillic letters, but this is the English file '
            "(write the English title here; the Russian version goes in 2024-06-01-talks.ru.md)",
        ),
        (
            "alpha/2024/2024-06-01-talks.ru.md",
            "Talks in Minsk",
            'the title "Talks in Minsk" is in Latin letters, but this is the Russian file '
            "(write the Russian title here; the English version goes in 2024-06-01-talks.md)",
        ),
    ],
)
def test_a_title_in_the_other_language_s_letters_is_flagged_by_check_build_and_serve(
    mini_copy: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], rel: str, title: str, message: str
) -> None:
    item = write(mini_copy, rel, f"---\ntitle: {title}\ndate: 2024-06-01\n---\nText.\n")
    expected = f"{item}:2: warning: {message}"
    assert expected in warnings(mini_copy, tmp_path)
    assert cli.main(cli_args("build", mini_copy, tmp_path / "public")) == 0
    assert expected in capsys.readouterr().err.splitlines()


@pytest.mark.parametrize(
    "title",
    ["Переговоры ОДКБ и ООН", "Визит в UN Headquarters в Нью-Йорке", "ОДКБ", "Интервью Euronews и RT Arabic"],
)
def test_a_russian_title_may_hold_latin_names_and_acronyms(mini_copy: Path, tmp_path: Path, title: str) -> None:
    write(mini_copy, "alpha/2024/2024-06-01-talks.ru.md", f"---\ntitle: {title}\ndate: 2024-06-01\n---\nText.\n")
    write(
        mini_copy,
        "alpha/2024/2024-06-01-talks.md",
        "---\ntitle: CSTO talks with the UN\ndate: 2024-06-01\n---\nText.\n",
    )
    assert not [w for w in warnings(mini_copy, tmp_path) if "letters, but this is" in w]


def test_a_section_without_its_russian_index_is_flagged(
    mini_copy: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (mini_copy / "beta/_index.ru.md").unlink()
    expected = (
        f"{mini_copy / 'beta/_index.md'}: warning: the section has no _index.ru.md: its Russian pages show the "
        f'English title "Beta" (create {mini_copy / "beta/_index.ru.md"} with `title:` and `description:` lines '
        "in Russian)"
    )
    assert [w for w in warnings(mini_copy, tmp_path) if "_index" in w] == [expected]
    assert cli.main(cli_args("build", mini_copy, tmp_path / "public")) == 0
    assert expected in capsys.readouterr().err.splitlines()
