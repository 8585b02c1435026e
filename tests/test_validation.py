"""Content mistakes: each reported as `path:line: message (hint)`, all in one run, exit 1, nothing written."""

from __future__ import annotations

import builtins
import errno
import json
import os
from pathlib import Path

import pytest
from helpers.site import OLD_SITE, TEMPLATES, cli_args, snapshot
from hypothesis import given
from hypothesis import strategies as st

from csto_site import cli
from csto_site.content.frontmatter import split
from csto_site.content.labels import load_labels
from csto_site.util import files

DATE_HINT = "(write `date: 2021-06-22`, `date: 2021-06-22 14:30` or ISO 8601 with an offset)"


def write(folder: Path, rel: str, text: str) -> Path:
    """Write a content file and return its path."""
    path = folder / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


class Run:
    """Run `csto-site build` on a broken copy of the mini fixture and check what it did."""

    def __init__(self, content: Path, capsys: pytest.CaptureFixture[str]) -> None:
        self.content = content
        self.capsys = capsys
        # An existing output folder with a page of an earlier build in it: a failed build must leave both exactly
        # as they were.
        self.out = content.parent / "public"
        self.out.mkdir()
        (self.out / "index.html").write_text(OLD_SITE, encoding="utf-8")

    def build(self, command: str = "build") -> list[str]:
        """Build; assert exit 1, no traceback, nothing touched; return the problem lines."""
        before = snapshot(self.content.parent)
        status = cli.main(cli_args(command, self.content, self.out))
        out, err = self.capsys.readouterr()
        assert status == 1, out + err
        assert "Traceback" not in out + err
        assert snapshot(self.content.parent) == before, "the failed build touched files"
        assert (self.out / "index.html").read_text(encoding="utf-8") == OLD_SITE
        lines = err.splitlines()
        assert lines, "problems are printed on stderr"
        assert lines[-1].endswith("found; nothing was written.")
        return lines[:-1]

    def expect(self, rel: str, line: int, message: str, hint: str) -> str:
        """Build and assert exactly one problem, at `rel:line`, with the message and hint."""
        problems = self.build()
        assert len(problems) == 1, problems
        problem = problems[0]
        assert problem.startswith(f"{self.content / rel}:{line}: "), problem
        assert message in problem, problem
        assert problem.endswith(hint), problem
        return problem


@pytest.fixture
def run(mini_copy: Path, capsys: pytest.CaptureFixture[str]) -> Run:
    return Run(mini_copy, capsys)


def test_unknown_key_names_the_closest_key(run):
    write(run.content, "alpha/a.md", "---\ntitle: A\ndate: 2024-01-01\nsumary: Typo.\n---\nBody.\n")
    run.expect("alpha/a.md", 4, "unknown front-matter key `sumary`", '(did you mean "summary"?)')


def test_an_entry_with_a_bad_id_has_its_other_mistakes_told_in_the_same_run(run):
    officials = run.content / "officials.yaml"
    entry = "\nIvan_Petrov:\n  name: Ivan Petrov\n  roles:\n    - {title: Envoy, from: 2024-01-01, to: 2023-12-31}\n"
    officials.write_text(officials.read_text(encoding="utf-8") + entry, encoding="utf-8")
    problems = run.build()
    assert [p for p in problems if "'Ivan_Petrov' is not a valid id" in p], problems
    assert [p for p in problems if "the role ends (2023-12-31) before it begins" in p], problems


def test_a_section_folder_with_a_refused_name_is_one_problem_not_one_per_item(run):
    write(run.content, "news/_index.md", "---\ntitle: News\n---\n")
    write(run.content, "news/2024/a.md", "---\ntitle: A\ndate: 2024-01-01\n---\nBody.\n")
    write(run.content, "news/2024/b.md", "---\ntitle: B\ndate: 2024-01-02\n---\nBody.\n")
    problems = run.build()
    assert len(problems) == 1, problems  # not also "the folder 'news' has no _index.md" for each item
    assert "'news' cannot be a section name" in problems[0], problems


def test_a_yaml_mistake_in_a_section_index_is_its_one_problem_not_also_a_missing_index(run):
    # It also said "alpha/_index.md: section 'alpha' has no _index.md", of a file that is there.
    write(run.content, "alpha/_index.md", "---\ntitle: Alpha: news\n---\n")
    run.expect("alpha/_index.md", 2, "invalid YAML", '(put text containing ": " in quotes)')


def test_a_section_with_only_a_translated_index_is_told_where_its_index_goes(run):
    (run.content / "alpha" / "_index.md").unlink()
    assert run.build() == [
        f"{run.content}/alpha/_index.md: section 'alpha' has no _index.md (create it with a `title:` line)"
    ]


def test_wrong_type(run):
    write(run.content, "alpha/a.md", "---\ntitle: [one, two]\ndate: 2024-01-01\n---\nBody.\n")
    run.expect("alpha/a.md", 2, "`title` must be text", '(put it in quotes: `title: "..."`)')


def test_wrong_type_of_flag(run):
    write(run.content, "alpha/a.md", "---\ntitle: A\ndate: 2024-01-01\ndraft: maybe\n---\nBody.\n")
    run.expect("alpha/a.md", 4, "`draft` must be true or false", "(write `draft: true`)")


def test_missing_title(run):
    write(run.content, "alpha/a.md", "---\ndate: 2024-01-01\n---\nBody.\n")
    run.expect("alpha/a.md", 1, "missing `title`", "(add a line `title: ...` to the front matter)")


def test_missing_date(run):
    write(run.content, "alpha/a.md", "---\ntitle: A\n---\nBody.\n")
    run.expect("alpha/a.md", 1, "missing `date`", DATE_HINT)


def test_impossible_date(run):
    write(run.content, "alpha/a.md", "---\ntitle: A\nsummary: S.\ndate: 2021-02-30\n---\nBody.\n")
    run.expect("alpha/a.md", 4, "'2021-02-30' is not a valid date", DATE_HINT)


def test_unknown_official_suggests_the_closest_name(run):
    write(
        run.content,
        "alpha/a.md",
        "---\ntitle: A\ndate: 2024-01-01\nofficials:\n  - ivan-orlov\n  - Ana Petrova\n---\nBody.\n",
    )
    run.expect(
        "alpha/a.md",
        6,
        'unknown official "Ana Petrova" (did you mean "Anna Petrova"? If not, ',
        f"add a line to {run.content}/officials.yaml: ana-petrova: {{name: {{en: Ana Petrova}}}}, "
        "then add the name in Russian beside it (ru: ...))",
    )


@pytest.mark.parametrize(
    ("line", "message", "hint"),
    [
        (
            "officials: Ivan Orlov, Anna Petrova",
            "`officials: Ivan Orlov, Anna Petrova` looks like several names",
            "(write a list: `officials: [Ivan Orlov, Anna Petrova]`)",
        ),
        (
            "organizations: RC, Northern Council",
            "`organizations: RC, Northern Council` looks like several names",
            "(write a list: `organizations: [RC, Northern Council]`)",
        ),
    ],
)
def test_names_separated_by_commas_are_to_be_written_as_a_list(run, line, message, hint):
    write(run.content, "alpha/a.md", f"---\ntitle: A\ndate: 2024-01-01\n{line}\n---\nBody.\n")
    run.expect("alpha/a.md", 4, message, hint)


def test_each_of_several_names_in_one_line_is_looked_up(run):
    write(run.content, "alpha/a.md", "---\ntitle: A\ndate: 2024-01-01\nofficials: Ivan Orlov, Helga Schmid\n---\nB.\n")
    problems = run.build()
    assert len(problems) == 2, problems
    assert problems[0].endswith("(write a list: `officials: [Ivan Orlov, Helga Schmid]`)")
    assert f"{run.content}/officials.yaml: helga-schmid: " in problems[1]


def test_unknown_organization_suggests_the_closest_name(run):
    write(run.content, "beta/a.md", "---\ntitle: A\ndate: 2024-01-01\norganizations: [Nothern Council]\n---\nBody.\n")
    run.expect("beta/a.md", 4, 'unknown organization "Nothern Council" (did you mean "Northern Council"? If not, ', ")")


@pytest.mark.parametrize(
    ("kind", "name", "entry"),
    [
        ("official", "Sergei Ivanov", "sergei-ivanov: {name: {en: Sergei Ivanov}}"),
        ("organization", "Academy of Sciences", "academy-of-sciences: {name: {en: Academy of Sciences}}"),
        ("official", "Dr. Who: the #1", 'dr-who-the-1: {name: {en: "Dr. Who: the #1"}}'),
    ],
)
def test_an_unknown_name_says_which_entry_to_paste_where_and_the_entry_works(run, kind, name, entry):
    write(run.content, "alpha/a.md", f"---\ntitle: A\ndate: 2024-01-01\n{kind}s: [{json.dumps(name)}]\n---\nBody.\n")
    registry = run.content / f"{kind}s.yaml"
    hint = f"(if this is a new {kind}, add a line to {registry}: {entry}, then add the name in Russian beside it"
    hint += " (ru: ...))"
    run.expect("alpha/a.md", 4, f'unknown {kind} "{name}"', hint)
    registry.write_text(registry.read_text(encoding="utf-8") + f"\n{entry}\n", encoding="utf-8")
    assert cli.main(cli_args("check", run.content, run.out)) == 0  # pasted as it is, the entry names them


def test_an_unknown_name_in_a_russian_item_is_given_under_ru_and_the_build_asks_for_the_english_one(run, capsys):
    write(run.content, "alpha/a.md", "---\ntitle: A\ndate: 2024-01-01\n---\nBody.\n")
    write(run.content, "alpha/a.ru.md", "---\ntitle: Б\ndate: 2024-01-01\nofficials: [Зульфия Хакимова]\n---\nТекст.\n")
    registry = run.content / "officials.yaml"
    entry = "zulfiia-khakimova: {name: {ru: Зульфия Хакимова}}"
    hint = f"(if this is a new official, add a line to {registry}: {entry}, then add the name in English beside it"
    hint += " (en: ...))"
    run.expect("alpha/a.ru.md", 4, 'unknown official "Зульфия Хакимова"', hint)
    text = registry.read_text(encoding="utf-8")
    registry.write_text(f"{text}\n{entry}\n", encoding="utf-8")
    assert cli.main(cli_args("check", run.content, run.out)) == 1  # pasted, it still wants the English name
    assert "`name` has no text in the default language 'en'" in capsys.readouterr().err
    registry.write_text(
        f"{text}\nzulfiia-khakimova: {{name: {{en: Zulfiya Khakimova, ru: Зульфия Хакимова}}}}\n", encoding="utf-8"
    )
    assert cli.main(cli_args("check", run.content, run.out)) == 0


@pytest.mark.parametrize(
    ("entry", "warning"),
    [
        ("{en: Иван Петров, ru: Иван Петров}", 'warning: the English name "Иван Петров" is in Cyrillic letters'),
        ("{en: Ivan Petrov, ru: Ivan Petrov}", 'warning: the Russian name "Ivan Petrov" is in Latin letters'),
        ("Иван Петров", 'warning: the English name "Иван Петров" is in Cyrillic letters'),
    ],
)
def test_a_registry_name_in_the_letters_of_the_other_language_is_warned_about_at_its_line(run, capsys, entry, warning):
    registry = run.content / "officials.yaml"
    text = registry.read_text(encoding="utf-8")
    registry.write_text(f"{text}\nivan-petrov:\n  aliases: []\n  name: {entry}\n", encoding="utf-8")
    line = text.count("\n") + 4
    assert cli.main(cli_args("check", run.content, run.out)) == 0
    assert f"{registry}:{line}: {warning} (write it in " in capsys.readouterr().err


def test_registry_names_in_their_own_letters_and_latin_names_in_russian_are_not_warned_about(run, capsys):
    registry = run.content / "officials.yaml"
    text = registry.read_text(encoding="utf-8")
    registry.write_text(f"{text}\nivan-petrov: {{name: {{en: Ivan Petrov, ru: Иван Петров (RT)}}}}\n", encoding="utf-8")
    assert cli.main(cli_args("check", run.content, run.out)) == 0
    assert "letters" not in capsys.readouterr().err


@pytest.mark.parametrize(
    ("kind", "name", "renamed", "item", "aliases", "after"),
    [
        (
            "official",
            "Ivan Orlov",
            "Ivan P. Orlov",
            "alpha/2024/2024-03-12-morning-briefing.md",
            'aliases: ["I. Orlov"]',
            "aliases: [I. Orlov, Ivan Orlov]",
        ),
        (
            "organization",
            "River Commission",
            "River Commission of the North",
            "alpha/2024/2024-03-12-working-visit.md",
            "aliases: []",
            "aliases: [River Commission]",
        ),
    ],
)
def test_a_name_an_entry_no_longer_has_is_to_be_added_to_its_aliases_not_given_its_id_again(
    run, kind, name, renamed, item, aliases, after
):
    registry = run.content / f"{kind}s.yaml"
    text = registry.read_text(encoding="utf-8")
    registry.write_text(text.replace(f"{{en: {name},", f"{{en: {renamed},"), encoding="utf-8")
    entry = name.lower().replace(" ", "-")  # the id the name would be given is that entry's
    hint = f'(add "{name}" to the aliases of {entry} in {registry}: {after})'

    run.expect(item, 5, f'unknown {kind} "{name}"', hint)
    status = cli.main(
        [
            "new",
            "A",
            "--section",
            "alpha",
            f"--{kind}",
            name,
            "--content",
            str(run.content),
            "--templates",
            str(TEMPLATES),
        ]
    )
    assert (status, run.capsys.readouterr().err.splitlines()[0]) == (1, f'--{kind}: unknown {kind} "{name}" {hint}')
    registry.write_text(registry.read_text(encoding="utf-8").replace(aliases, after, 1), encoding="utf-8")
    assert cli.main(cli_args("check", run.content, run.out)) == 0  # as the hint says, the name is known again


def test_two_items_on_one_url_name_both_files(run):
    # Same title and day as alpha/2024/2024-03-12-morning-briefing.md, so the same URL.
    write(run.content, "beta/copy.md", "---\ntitle: Morning briefing held\ndate: 2024-03-12 18:00\n---\nBody.\n")
    problem = run.expect(
        "beta/copy.md",
        2,  # the title's line: the address is made of it
        "/news/2024/03/12/morning-briefing-held/ is already the address of "
        f"{run.content / 'alpha/2024/2024-03-12-morning-briefing.md'}",
        "(give one of them another title or an explicit `slug:`)",
    )
    assert "beta/copy.md" in problem


def test_a_new_item_on_a_published_items_url_is_the_one_told_to_move(run):
    # The published item (the one the record names) keeps its address, whichever file sorts first.
    write(
        run.content,
        "addresses.txt",
        "/news/2024/03/12/morning-briefing-held/ alpha/2024/2024-03-12-morning-briefing.md\n",
    )
    write(
        run.content,
        "alpha/2024/2024-03-12-a-copy.md",
        "---\ntitle: Morning briefing held\ndate: 2024-03-12 18:00\n---\nBody.\n",
    )
    run.expect(
        "alpha/2024/2024-03-12-a-copy.md",
        2,
        "/news/2024/03/12/morning-briefing-held/ is already the address of "
        f"{run.content / 'alpha/2024/2024-03-12-morning-briefing.md'}, published",
        "(give this item another title or an explicit `slug:`: a published item keeps its address)",
    )


def test_two_items_on_one_url_by_an_explicit_slug_point_at_it(run):
    write(
        run.content,
        "beta/copy.md",
        "---\ntitle: Another title\ndate: 2024-03-12 18:00\nslug: morning-briefing-held\n---\nBody.\n",
    )
    run.expect(
        "beta/copy.md",
        4,
        "/news/2024/03/12/morning-briefing-held/ is already the address of "
        f"{run.content / 'alpha/2024/2024-03-12-morning-briefing.md'}",
        "(give one of them another `slug:`)",
    )


def test_translation_with_another_date(run):
    rel = "alpha/2023/2023-11-14-annual-report.ru.md"
    path = run.content / rel
    path.write_text(path.read_text(encoding="utf-8").replace("date: 2023-11-14", "date: 2023-11-15"), encoding="utf-8")
    run.expect(
        rel,
        3,
        "this translation is dated 2023-11-15, its original 2023-11-14",
        "(use the original's date: `date: 2023-11-14 00:00`)",
    )


def test_invalid_yaml(run):
    write(run.content, "alpha/a.md", "---\ntitle: A\ndate: 2024-01-01\nsummary: Zas: meeting\n---\nBody.\n")
    run.expect("alpha/a.md", 4, "invalid YAML", '(put text containing ": " in quotes)')


@pytest.mark.parametrize(
    ("lines", "line", "key", "whole"),
    [
        ("title: Meeting of the Council #2 in Minsk", 2, "title", "Meeting of the Council #2 in Minsk"),
        ("title: A\nsummary: Talks on the agenda\n  item #4", 4, "summary", "Talks on the agenda item #4"),
        ("title: A\nplace: Minsk # Belarus", 3, "place", "Minsk # Belarus"),
        ("title: A\nimage:\n  file: a.jpg\n  alt: Delegation #1 at the table", 5, "alt", "Delegation #1 at the table"),
        ("title: A\ngallery:\n  - file: a.jpg\n    caption: Hall #2", 5, "caption", "Hall #2"),
    ],
)
def test_a_text_cut_by_a_comment_is_refused_with_the_quoted_text(run, lines, line, key, whole):
    write(run.content, "alpha/a.md", f"---\n{lines}\ndate: 2024-01-01\n---\nText.\n")
    run.expect(
        "alpha/a.md",
        line,
        f"the `{key}` stops at `#`: in YAML, ` #` starts a comment",
        f'(put the {key} in quotes: `{key}: "{whole}"`)',
    )


def test_every_text_cut_by_a_comment_is_reported(run):
    write(run.content, "alpha/a.md", "---\ntitle: Council #2\ndate: 2024-01-01\nsummary: Item #4\n---\nText.\n")
    problems = run.build()
    assert [p.split(": ", 1)[0] for p in problems] == [f"{run.content / 'alpha/a.md'}:{n}" for n in (2, 4)]


def test_comments_of_their_own_and_a_quoted_or_unspaced_hash_build(run):
    text = '---\n# written by new\ntitle: "Council #2"\ndate: 2024-01-01  # the day\nsummary: Item#4\n---\nText.\n'
    write(run.content, "alpha/a.md", text)
    assert cli.main(cli_args("build", run.content, run.out, "--no-search", "--quiet")) == 0
    page = (run.out / "news/2024/01/01/council-2/index.html").read_text(encoding="utf-8")
    assert "Council #2" in page and "Item#4" in page


# A front matter with every kind of indented line: list items, a mapping's keys, a list of mappings, folded text.
TABBED_FRONT = (
    "title: Talks",
    "date: 2021-06-22",
    "officials:",
    "  - Helga Schmid",
    "  - Stanislav Zas",
    "image:",
    "  file: a.jpg",
    "  alt: A photo",
    "gallery:",
    "  - file: b.jpg",
    "    alt: B",
    "summary: >",
    "  Text of it",
)


@st.composite
def tabbed(draw: st.DrawFn) -> tuple[int, str]:
    """Return a line of TABBED_FRONT and that line indented with at least one tab (or with one after its "-")."""
    index = draw(st.integers(0, len(TABBED_FRONT) - 1))
    line = TABBED_FRONT[index]
    text = line.lstrip(" ")
    width = max(len(line) - len(text), 1)  # a line at the left edge gets a tab before it
    indent = draw(st.text(" \t", min_size=width, max_size=width).filter(lambda i: "\t" in i))
    if text.startswith("- ") and draw(st.booleans()):
        return index, line.replace("- ", "-\t", 1)
    return index, indent + text


@given(tabbed())
def test_a_tab_in_the_indentation_is_named_at_its_line(case: tuple[int, str]) -> None:
    index, line = case
    lines = [*TABBED_FRONT[:index], line, *TABBED_FRONT[index + 1 :]]
    front, problems = split("---\n" + "\n".join(lines) + "\n---\nText.\n", "a.md")
    assert front is None and len(problems) == 1, (line, problems)
    problem = problems[0]
    assert (problem.line, problem.hint) == (index + 2, "indent with spaces, not tabs"), problem
    assert problem.message.startswith("invalid YAML: found a tab character"), problem


def test_a_tab_before_a_list_item_is_named_in_the_build(run):
    write(run.content, "alpha/a.md", "---\ntitle: A\ndate: 2024-01-01\nofficials:\n\t- Anna Petrova\n---\nText.\n")
    run.expect("alpha/a.md", 5, "invalid YAML: found a tab character", "(indent with spaces, not tabs)")


def test_no_front_matter(run):
    write(run.content, "alpha/a.md", "title: A\ndate: 2024-01-01\n\nBody.\n")
    run.expect(
        "alpha/a.md",
        1,
        "the file does not start with front matter",
        '(put a line "---", the title and date, and another "---" at the top)',
    )


def test_unclosed_front_matter(run):
    write(run.content, "alpha/a.md", "---\ntitle: A\ndate: 2024-01-01\n\nBody.\n")
    run.expect("alpha/a.md", 1, "the front matter is not closed", '(add a line "---" after the last front-matter line)')


def test_check_reports_the_same_problem(run):
    write(run.content, "alpha/a.md", "---\ntitle: A\ndate: 2024-01-01\nsumary: Typo.\n---\nBody.\n")
    problems = run.build("check")
    assert problems == [f'{run.content / "alpha/a.md"}:4: unknown front-matter key `sumary` (did you mean "summary"?)']


def test_every_mistake_in_every_file_is_reported_in_one_run(run):
    c = run.content
    write(c, "alpha/k.md", "---\ntitle: A\ndate: 2024-01-01\nsumary: x\n---\nBody.\n")
    write(c, "alpha/nodate.md", "---\ntitle: No date\n---\nBody.\n")
    write(c, "alpha/sub/deep/bad.md", "---\ntitle: B\ndate: 2021-02-30\nofficials: [Ivan Orlof]\n---\nBody.\n")
    write(c, "beta/org.md", "---\ntitle: C\ndate: 2024-01-05\norganizations: [RCC]\ntitel: x\n---\nBody.\n")
    write(c, "beta/yaml.md", "---\ntitle: Zas: meeting\ndate: 2024-01-01\n---\nBody.\n")
    write(c, "beta/plain.md", "Just text.\n")
    write(c, "beta/dup.md", "---\ntitle: Annual report published\ndate: 2023-11-14 18:00\n---\nBody.\n")
    rel = "alpha/2024/2024-03-12-morning-briefing.ru.md"
    (c / rel).write_text(
        (c / rel).read_text(encoding="utf-8").replace("2024-03-12 10:00", "2024-03-13 10:00"), encoding="utf-8"
    )
    problems = run.build()
    places = sorted(p.split(": ")[0].removeprefix(f"{c}/") for p in problems)
    assert places == sorted(
        [
            "alpha/k.md:4",
            "alpha/nodate.md:1",
            "alpha/sub/deep/bad.md:3",
            "alpha/sub/deep/bad.md:4",
            "beta/org.md:4",
            "beta/org.md:5",
            "beta/yaml.md:2",
            "beta/plain.md:1",
            "beta/dup.md:2",
            f"{rel}:3",
        ]
    ), "\n".join(problems)
    assert all(p.endswith(")") for p in problems), "every problem has a hint"
    text = "\n".join(problems)
    assert 'did you mean "Ivan Orlov"?' in text
    assert 'did you mean "title"?' in text


def test_a_registry_mistake_does_not_hide_item_mistakes(run):
    (run.content / "officials.yaml").write_text(
        (run.content / "officials.yaml").read_text(encoding="utf-8") + "\nbad-entry:\n  nmae: {en: X}\n",
        encoding="utf-8",
    )
    write(run.content, "alpha/a.md", "---\ntitle: A\n---\nBody.\n")
    text = "\n".join(run.build())
    assert "officials.yaml" in text
    assert "alpha/a.md:1: missing `date`" in text


REGISTRY_BREAKS = {
    "a list": ("- a\n", 1, "the file must map ids to entries"),
    "an id given twice": ("a:\n  name: {en: A, ru: А}\na:\n  name: {en: B, ru: Б}\n", 3, "`a` is given twice"),
    "a YAML mistake": ("a: [\n", 2, "invalid YAML"),
    "not UTF-8": (b"a:\n  name: {en: \xff}\n", 2, "the file is not UTF-8 text"),
}


@pytest.mark.parametrize("kind", ["officials", "organizations"])
@pytest.mark.parametrize("case", REGISTRY_BREAKS)
def test_a_registry_that_cannot_be_read_is_its_one_problem_not_every_name_unknown(run, kind, case):
    # The items name entries of the broken file: had it been read, they would be known.
    data, line, message = REGISTRY_BREAKS[case]
    path = run.content / f"{kind}.yaml"
    path.write_bytes(data if isinstance(data, bytes) else data.encode())
    problems = run.build()
    assert len(problems) == 1, problems
    assert problems[0].startswith(f"{path}:{line}: {message}"), problems


def refuse(monkeypatch: pytest.MonkeyPatch, call: str, path: Path) -> None:
    """Make the system refuse (EACCES, as to a user without the permission) `call` on `path` in csto_site.util.files."""
    real = builtins.open if call == "open" else getattr(os, call)

    def refusing(name, *args, **kwargs):
        if name == str(path):
            raise PermissionError(errno.EACCES, "Permission denied", os.fspath(name))
        return real(name, *args, **kwargs)

    if call == "open":
        monkeypatch.setattr(files, "open", refusing, raising=False)  # the module's, not every `open` of the build
    else:
        monkeypatch.setattr(os, call, refusing)


@pytest.mark.parametrize("rel", ["officials.yaml", "organizations.yaml", "site.yaml", "addresses.txt"])
def test_an_unreadable_input_file_is_its_one_problem_told_in_words_with_the_command_to_fix_it(run, monkeypatch, rel):
    path = run.content / rel
    path.touch()  # the mini fixture has no address record yet
    refuse(monkeypatch, "open", path)
    assert run.build() == [f"{path}: cannot read the file: permission denied (make it readable: chmod a+r {path})"]


def test_an_unreadable_content_folder_is_an_input_problem_not_an_output_one(run, monkeypatch):
    # It was a PermissionError the command line took for the output's: "make the folder writable, or choose --out".
    folder = run.content / "alpha" / "2023"
    refuse(monkeypatch, "scandir", folder)
    assert run.build() == [
        f"{folder}: cannot read the folder: permission denied (make it readable: chmod a+rx {folder})"
    ]


def test_with_one_registry_unreadable_the_names_of_the_other_are_still_checked(run):
    (run.content / "officials.yaml").write_text("- a\n", encoding="utf-8")
    item = "---\ntitle: A\ndate: 2024-01-01\nofficials: [Nobody]\norganizations: [Nowhere]\n---\nBody.\n"
    write(run.content, "alpha/a.md", item)
    problems = run.build()
    assert len(problems) == 2, problems
    assert f'{run.content}/alpha/a.md:5: unknown organization "Nowhere"' in problems[0], problems


def test_an_item_with_no_text_is_refused_with_what_to_write(run):
    write(run.content, "alpha/a.md", "---\ntitle: A\ndate: 2024-01-01\n---\n\n  \n")
    run.expect(
        "alpha/a.md",
        5,
        "the item has no text",
        '(write it below the second "---": who did what, where and when first, then the details; '
        "or, to keep the item off the site meanwhile, add the line `draft: true` to the front matter "
        "or delete the `# ` before the one `new` wrote)",
    )


def test_a_draft_may_have_no_text_yet(run):
    write(run.content, "alpha/a.md", "---\ntitle: A\ndate: 2024-01-01\ndraft: true\n---\n")
    assert cli.main(cli_args("check", run.content, run.out)) == 0


def test_a_rule_in_the_text_of_an_unclosed_front_matter_says_not_closed(run):
    """The body's "---" (a rule) ends a front matter left open: the YAML error it would give misleads."""
    text = "---\ntitle: A\ndate: 2024-01-01\n\nThe talks were held: both sides agreed.\n\n---\n\nMore text.\n"
    write(run.content, "alpha/a.md", text)
    run.expect(
        "alpha/a.md", 1, "the front matter is not closed", '(add a line "---" before line 5, where the text begins)'
    )


def test_a_yaml_mistake_in_a_closed_front_matter_is_still_a_yaml_error(run):
    write(run.content, "alpha/a.md", "---\ntitle: A\ndate: 2024-01-01\nofficials: [Anna Petrova\n---\nText.\n")
    problem = run.expect("alpha/a.md", 5, "invalid YAML", ")")
    assert "not closed" not in problem


# Keys YAML reads as something other than a name: lists, maps, merge keys, null, numbers, booleans.
REFUSED_KEYS = {
    "[officials]": "a key is a list, not a name",
    "[a, b]": "a key is a list, not a name",
    "{a: b}": "a key is a map, not a name",
    "<<": "YAML merge keys (<<) are not allowed",
}
ODD_KEYS = [*REFUSED_KEYS, "~", "null", "1", "1.10", "0x1F", "true", "no", ".inf", "'<<'"]


@given(st.sampled_from(ODD_KEYS), st.sampled_from(["Zas", "{slug: x}", "[a]", "~"]), st.integers(0, 2))
def test_an_odd_key_is_a_problem_at_its_line_or_a_key_by_its_text(key: str, value: str, at: int) -> None:
    lines = ["title: A", "date: 2024-01-01", "summary: B"]
    lines.insert(at, f"{key}: {value}")
    front, problems = split("---\n" + "\n".join(lines) + "\n---\nText.\n", "a.md")
    if key in REFUSED_KEYS and not (key == "<<" and not value.startswith("{")):
        assert front is None and [(p.line, p.message) for p in problems] == [(at + 2, REFUSED_KEYS[key])]
    elif front is not None:
        assert all(isinstance(name, str) for name in front.meta), front.meta
        assert front.lines[key.strip("'")] == at + 2 and front.meta["title"] == "A"


@pytest.mark.parametrize(
    ("rel", "line", "key", "message"),
    [
        ("alpha/2024/2024-01-01-a.md", 4, "[officials]", "a key is a list, not a name"),
        ("alpha/2024/2024-01-01-a.md", 4, "? [a, b]\n", "a key is a list, not a name"),
        ("alpha/2024/2024-01-01-a.md", 4, "{a: b}", "a key is a map, not a name"),
        ("alpha/2024/2024-01-01-a.md", 4, "<<", "YAML merge keys (<<) are not allowed"),
        ("alpha/_index.md", 2, "[title]", "a key is a list, not a name"),
        ("site.yaml", 1, "[title]", "a key is a list, not a name"),
    ],
)
def test_a_key_that_is_no_name_is_a_problem_at_its_line(run, rel, line, key, message):
    path = run.content / rel
    if rel.endswith(".yaml"):
        path.write_text(f"{key}: x\n" + path.read_text(encoding="utf-8"), encoding="utf-8")
    elif rel.endswith("_index.md"):
        path.write_text(path.read_text(encoding="utf-8").replace("---\n", f"---\n{key}: {{a: x}}\n", 1))
    else:
        write(run.content, rel, f"---\ntitle: A\ndate: 2024-01-01\n{key}: {{slug: x}}\n---\nText.\n")
    problems = run.build()
    assert problems[0].startswith(f"{path}:{line}: {message} ("), problems


def test_a_null_or_number_key_is_unknown_by_its_text_at_its_line(run):
    write(run.content, "alpha/a.md", "---\ntitle: A\ndate: 2024-01-01\n~: c\n---\nText.\n")
    run.expect("alpha/a.md", 4, "unknown front-matter key `~`", ")")


def test_a_labels_key_that_is_a_list_is_a_problem_at_its_line(tmp_path):
    (tmp_path / "labels.yaml").write_text("en:\n  home: Home\n  [menu]: Menu\n", encoding="utf-8")
    problems = load_labels(tmp_path)[1]
    assert [(p.line, p.message) for p in problems] == [(3, "a key is a list, not a name")]


@pytest.mark.parametrize(
    ("names", "message", "hint"),
    [
        (
            "officials: [{a: b}]",
            "an entry of `officials` is a map, not a name",
            "e.g. `officials: [Stanislav Zas, ...]`",
        ),
        (
            "officials: [[Anna Petrova]]",
            "an entry of `officials` is a list, not a name",
            "e.g. `officials: [Stanislav Zas, ...]`",
        ),
        (
            "organizations: [null]",
            "an entry of `organizations` is empty: each must be a name",
            "delete the empty entry",
        ),
        ("organizations:\n  - true", "an entry of `organizations` is read as yes or no, not as a name", '`- "..."`'),
    ],
)
def test_a_name_that_yaml_reads_as_no_text_is_refused_as_such_without_an_entry_to_paste(run, names, message, hint):
    write(run.content, "alpha/a.md", f"---\ntitle: A\ndate: 2024-01-01\n{names}\n---\nText.\n")
    problem = run.expect("alpha/a.md", 4 + names.count("\n"), message, f"{hint})")
    assert "unknown" not in problem and "add a line" not in problem


def test_texts_that_look_like_numbers_are_published_as_written(run):
    text = "---\ntitle: 1.10\nslug: '2024'\ndate: 2024-01-01\nsummary: .inf\n---\nText.\n"
    write(run.content, "alpha/a.md", text.replace("'2024'", "2024"))
    assert cli.main(cli_args("build", run.content, run.out, "--no-search", "--quiet")) == 0
    page = (run.out / "news/2024/01/01/2024/index.html").read_text(encoding="utf-8")
    assert "<h1>1.10</h1>" in page and ".inf" in page


def test_registry_names_match_with_yo_written_as_ye_and_the_other_way_round(run, capsys):
    organizations = run.content / "organizations.yaml"
    organizations.write_text(
        organizations.read_text(encoding="utf-8")
        + "\nun: {name: {en: United Nations, ru: Организация Объединенных Наций}}\n",
        encoding="utf-8",
    )
    officials = run.content / "officials.yaml"
    officials.write_text(
        officials.read_text(encoding="utf-8").replace("ru: Анна Петрова", "ru: Анна Пётрова"), encoding="utf-8"
    )
    write(run.content, "alpha/a.md", "---\ntitle: A\ndate: 2024-01-01\n---\nBody.\n")
    write(
        run.content,
        "alpha/a.ru.md",
        "---\ntitle: Б\ndate: 2024-01-01\nofficials: [АННА ПЕТРОВА]\n"
        "organizations: [организация объединённых наций]\n---\nТекст.\n",
    )
    assert cli.main(cli_args("check", run.content, run.out)) == 0, capsys.readouterr().err


def test_two_registry_names_that_differ_only_by_yo_are_a_clash(run):
    officials = run.content / "officials.yaml"
    text = officials.read_text(encoding="utf-8")
    officials.write_text(text + "\nanna-p: {name: {en: Anna P, ru: Анна Пётрова}}\n", encoding="utf-8")
    run.expect(
        "officials.yaml",
        text.count("\n") + 2,
        '"анна петрова" names both `anna-petrova` (line 1) and `anna-p`',
        "(remove it from one of them)",
    )
