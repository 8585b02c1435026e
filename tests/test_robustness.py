"""Every bad input a press office can drop into content/: a clear `path:line` error or a correct build.

Each case writes one file into a copy of the mini fixture and runs the real command line. An error
case must exit 1 with the problem at the expected `path:line`, print no traceback and leave the old
output untouched; a good case must build and put the item at its address.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest
from helpers.site import MINI, OLD_SITE, cli_args

from csto_site import cli

HEAD = "---\ntitle: Robust item\ndate: 2024-06-01 10:00\n---\n"
PAGE = "news/2024/06/01/robust-item/index.html"
PNG = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0\x1f\x15\xc4\x89"
BOMB = "".join(f"l{i}: &l{i} [" + ", ".join([f"*l{i - 1}"] * 9 if i else ['"lol"'] * 9) + "]\n" for i in range(9))


@dataclass(frozen=True)
class Case:
    """One file dropped into content/ and what the build must make of it."""

    name: str
    rel: str
    data: bytes
    line: int = 0  # 0: the build succeeds
    message: str = ""
    page: str = ""  # a page the successful build must write


def text(value: str) -> bytes:
    """Encode a file as UTF-8."""
    return value.encode("utf-8")


CASES = [
    # Encodings and line endings.
    Case("utf-8 with BOM", "alpha/bom.md", b"\xef\xbb\xbf" + text(HEAD + "Body.\n"), page=PAGE),
    Case("CRLF line endings", "alpha/crlf.md", text(HEAD.replace("\n", "\r\n") + "Body.\r\n"), page=PAGE),
    Case("old Mac CR line endings", "alpha/cr.md", text(HEAD.replace("\n", "\r") + "Body.\r"), page=PAGE),
    Case(
        "CRLF keeps line numbers",
        "alpha/crlf-bad.md",
        text("---\r\ntitle: A\r\ndate: 2024-02-30\r\n---\r\nBody.\r\n"),
        3,
        "is not a valid date",
    ),
    Case(
        "BOM and CRLF keep line numbers",
        "alpha/bom-bad.md",
        b"\xef\xbb\xbf" + text("---\r\ntitle: A\r\ndate: 2024-06-01\r\nsumary: x\r\n---\r\n"),
        4,
        "unknown front-matter key `sumary`",
    ),
    Case("UTF-16", "alpha/utf16.md", ("\ufeff" + HEAD).encode("utf-16-le"), 1, "the file is saved as UTF-16"),
    Case(
        "Windows-1251",
        "alpha/cp1251.md",
        text("---\ntitle: A\ndate: 2024-06-01\n---\n\n") + "Привет".encode("cp1251"),
        6,
        "the file is not UTF-8 text",
    ),
    Case(
        "control character pasted from Word",
        "alpha/vt.md",
        text(HEAD + "\nFirst line\x0bsecond line.\n"),
        6,
        "invisible control character U+000B",
    ),
    # Tabs.
    Case(
        "tab indentation in YAML",
        "alpha/tab.md",
        text("---\ntitle: A\n\tdate: 2024-06-01\n---\nText.\n"),
        3,
        "found a tab character",
    ),
    Case(
        "tab after the colon",
        "alpha/tab-ok.md",
        text("---\ntitle:\tRobust item\ndate:\t2024-06-01 10:00\n---\nText.\n"),
        page=PAGE,
    ),
    # Empty and binary files.
    Case("empty file", "alpha/empty.md", b"", 1, "the file is empty"),
    Case("only blank lines", "alpha/blank.md", b"\n \n\t\n", 1, "the file is empty"),
    Case(
        "Markdown file with NUL bytes",
        "alpha/nul.md",
        text(HEAD + "Body\n") + b"\0\0binary",
        6,
        "this is not a text file",
    ),
    Case(
        "an image named .md",
        "alpha/photo.md",
        PNG,
        1,
        "this is not a text file (it contains NUL bytes) (only Markdown (.md) text files are items; a photo or"
        " document goes in its item's folder (see docs/guide.md, Photos and documents))",
    ),
    Case("a PNG dropped into content/ is ignored", "alpha/2024/photo.png", PNG, page="index.html"),
    # Front matter that is not a mapping.
    Case("no front matter", "alpha/plain.md", text("Just a body.\n"), 1, "does not start with front matter"),
    Case(
        "front matter not closed",
        "alpha/open.md",
        text("---\ntitle: A\ndate: 2024-06-01\n"),
        1,
        "the front matter is not closed",
    ),
    Case(
        "front matter is a list",
        "alpha/list.md",
        text("---\n- title\n- date\n---\nText.\n"),
        2,
        "not a list of `key: value` lines",
    ),
    Case(
        "front matter is one line of text",
        "alpha/scalar.md",
        text("---\nA title\n---\nText.\n"),
        2,
        "not a list of `key: value` lines",
    ),
    Case("empty front matter", "alpha/nothing.md", text("---\n---\nBody.\n"), 1, "missing `title`"),
    # Hostile YAML.
    Case("YAML bomb", "alpha/bomb.md", text("---\n" + BOMB + "---\n"), 2, "anchors and aliases"),
    Case(
        "YAML nested 100,000 deep",
        "alpha/deep.md",
        text("---\ntitle: " + "[" * 100_000 + "]" * 100_000 + "\n---\nText.\n"),
        2,
        "nests more than 32 levels deep",
    ),
    Case(
        "a Python object tag",
        "alpha/tag.md",
        text("---\ntitle: !!python/object/apply:os.system [ls]\n---\nText.\n"),
        2,
        "could not determine a constructor",
    ),
    Case(
        "a key given twice",
        "alpha/twice.md",
        text("---\ntitle: A\ndate: 2024-06-01\ntitle: B\n---\nText.\n"),
        4,
        "`title` is given twice (first on line 2)",
    ),
    Case(
        "unclosed quote", "alpha/quote.md", text('---\ntitle: "A\ndate: 2024-06-01\n---\n'), 2, "a quote is not closed"
    ),
    # Size.
    Case(
        "a 5 MB body",
        "alpha/huge.md",
        text(HEAD + ("A sentence of an enormous report. " * 16 + "\n\n") * 9300),
        1,
        "more than the 1 MB a news item may have",
    ),
    Case(
        "a 400 KB body builds",
        "alpha/long.md",
        text(HEAD + ("A sentence of a long report. " * 16 + "\n\n") * 850),
        page=PAGE,
    ),
    # The core validation mistakes.
    Case(
        "unknown key",
        "alpha/key.md",
        text("---\ntitle: A\ndate: 2024-06-01\nofficial: [Anna Petrova]\n---\nText.\n"),
        4,
        'unknown front-matter key `official` (did you mean "officials"?)',
    ),
    Case(
        "unknown official",
        "alpha/who.md",
        text("---\ntitle: A\ndate: 2024-06-01\nofficials:\n  - Anna Petrowa\n---\nText.\n"),
        5,
        'unknown official "Anna Petrowa" (did you mean "Anna Petrova"? If not, add a line to ',
    ),
    Case(
        "impossible date",
        "alpha/when.md",
        text("---\ntitle: A\ndate: 2024-02-30\n---\nText.\n"),
        3,
        "is not a valid date",
    ),
    Case("missing date", "alpha/undated.md", text("---\ntitle: A\n---\nText.\n"), 1, "missing `date`"),
    Case(
        "wrong type",
        "alpha/type.md",
        text("---\ntitle: A\ndate: 2024-06-01\ndraft: perhaps\n---\nText.\n"),
        4,
        "`draft` must be true or false",
    ),
    Case(
        "bad slug",
        "alpha/slug.md",
        text("---\ntitle: A\ndate: 2024-06-01\nslug: ../../etc\n---\nText.\n"),
        4,
        "is not a valid slug",
    ),
    Case("item outside a section", "loose.md", text(HEAD), 1, "a news item must be inside a section folder"),
    Case(
        "two items on one address",
        "beta/again.md",
        text("---\ntitle: Joint statement\ndate: 2024-05-20 09:00\n---\nText.\n"),
        2,
        "is already the address of",
    ),
    Case(
        "translation dated differently",
        "alpha/2024/2024-03-12-working-visit.ru.md",
        text("---\ntitle: Рабочий визит\ndate: 2024-03-13\n---\nText.\n"),
        3,
        "this translation is dated 2024-03-13",
    ),
]


@pytest.fixture
def content(tmp_path: Path) -> Path:
    """A private copy of the mini fixture."""
    return Path(shutil.copytree(MINI, tmp_path / "content"))


def run(content: Path, out: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    """Build with the real command line; return the exit status and everything printed."""
    status = cli.main(cli_args("build", content, out, "--no-search", "--quiet"))
    printed = capsys.readouterr()
    return status, printed.out + printed.err


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_bad_input_gets_a_clear_error_or_builds(
    case: Case, content: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = content / case.rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(case.data)
    out = tmp_path / "public"
    out.mkdir()
    (out / "index.html").write_text(OLD_SITE, encoding="utf-8")

    status, printed = run(content, out, capsys)

    assert "Traceback" not in printed
    if case.line:
        assert status == 1, printed
        assert f"{path}:{case.line}: " in printed, printed
        assert case.message in printed, printed
        assert sorted(p.name for p in out.iterdir()) == ["index.html"]
        assert (out / "index.html").read_text(encoding="utf-8") == OLD_SITE
    else:
        assert status == 0, printed
        assert (out / case.page).is_file()
        assert not list(out.rglob(path.name)), "a non-Markdown file was published"


def test_every_problem_is_reported_at_once(content: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = [c for c in CASES if c.line and c.rel.startswith("alpha/")]
    for case in bad:
        (content / case.rel).write_bytes(case.data)

    status, printed = run(content, tmp_path / "public", capsys)

    assert status == 1
    for case in bad:
        assert f"{content / case.rel}:{case.line}: " in printed, case.name
    assert printed.endswith("problems found; nothing was written.\n")
    assert not (tmp_path / "public").exists()
