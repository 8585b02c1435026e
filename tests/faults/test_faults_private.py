"""Fault injection: nothing private is published, and nothing deleted comes back.

Only regular files inside content/ and static/ are read: a committed symbolic link to the build's
environment, to CI's checkout token in .git/config, to /etc/passwd or to a folder outside, a link
loop and a named pipe are each an error at the link's path, and none of their bytes reaches the
output. Hidden files under static/ are never published. A build that has no record of what the last
one made (its .public.publish/ deleted, or restored from a CI cache as plain copies) removes the
pages of a deleted item everywhere, and keeps the files placed by hand.
"""

from __future__ import annotations

import glob
import gzip
import os
import shutil
import subprocess
import sys
from pathlib import Path

import brotli
import pytest
import yaml
from helpers.site import MINI, ROOT, STATIC, TEMPLATES, retract
from helpers.tools import require_tool

from csto_site.cli import main
from csto_site.site.urls import MARK_WINDOW, OwnPaths, Urls, carries_mark, uncompressed
from csto_site.util.errors import Problem
from csto_site.util.files import publishable, read_listed

TOKEN = "ghs_FaultInjectionToken7f3a91c2"
TIMEOUT = 120
RECIPE = ROOT / "deploy" / "github-actions.yml"
GONE = Path("alpha", "2024", "2024-03-12-working-visit.md")
GONE_PAGE = Path("news", "2024", "03", "12", "working-visit-to-the-river-commission")
GONE_WORD = "Quartzgrebeline"  # only in the item that is deleted: the search index must forget it
ALIASES = ("/old/working-visit.html", "/about-the-visit/")


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A press office's checkout: content/, static/ and templates/ beside a .git/ holding CI's checkout token."""
    root = tmp_path / "repo"
    shutil.copytree(MINI, root / "content")
    shutil.copytree(STATIC, root / "static")
    shutil.copytree(TEMPLATES, root / "templates")
    (root / ".git").mkdir()
    (root / ".git" / "config").write_text(
        f'[http "https://github.com/"]\n\textraheader = AUTHORIZATION: basic {TOKEN}\n', encoding="utf-8"
    )
    private = tmp_path / "private"
    private.mkdir()
    (private / "notes.md").write_text(f"---\ntitle: {TOKEN}\ndate: 2024-05-01\n---\n{TOKEN}\n", encoding="utf-8")
    return root


def cli_args(command: str, root: Path, out: str = "public") -> list[str]:
    """Return the arguments of a command on a checkout, every path inside it."""
    return [
        command,
        "--content",
        str(root / "content"),
        "--out",
        str(root / out),
        "--templates",
        str(root / "templates"),
        "--static",
        str(root / "static"),
        "--cache",
        str(root / ".csto-cache"),
    ]


def run(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run this checkout's csto-site in a process of its own, with the token in its environment as CI has it."""
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src"), "CSTO_FAULT_TOKEN": TOKEN}
    return subprocess.run(
        [sys.executable, str(ROOT / "build.py"), *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=False,
    )


def leaked(folder: Path, secret: bytes) -> list[str]:
    """Return every file below `folder` whose bytes, or whose decompressed bytes, hold `secret`."""
    found = []
    for path in sorted(folder.rglob("*")):
        if path.is_symlink() or not path.is_file():
            continue
        data = path.read_bytes()
        for unpack in (gzip.decompress, brotli.decompress):
            try:
                data += unpack(data)
            except (OSError, EOFError, brotli.error):
                continue
        if secret in data or secret.lower() in data.lower():
            found.append(path.relative_to(folder).as_posix())
    return found


def stamps(folder: Path) -> dict[str, tuple[int, int, int]]:
    """Describe every entry below a folder by inode, size and mtime, to prove nothing was touched."""
    entries = {p.relative_to(folder).as_posix(): p.lstat() for p in folder.rglob("*")}
    return {rel: (s.st_ino, s.st_size, s.st_mtime_ns) for rel, s in sorted(entries.items())}


# Each kind of entry that must not be read: where it leads, what the error says, and the secret it would leak.
KINDS = ["environment", "git config", "passwd", "folder outside", "loop", "named pipe"]


def plant(root: Path, where: str, kind: str) -> tuple[Path, str, bytes | None]:
    """Put one entry of `kind` into content/ or static/; return its path, the expected problem and its secret."""
    folder = root / where
    # In content/ the entry is named as an item would be, so that a build following it would parse it.
    link = folder / ("alpha/leak.md" if where == "content" else "secrets")
    passwd = Path("/etc/passwd").read_bytes().splitlines()[0]
    targets = {
        "environment": ("/proc/self/environ", TOKEN.encode()),
        "git config": (os.path.relpath(root / ".git" / "config", link.parent), TOKEN.encode()),
        "passwd": ("/etc/passwd", passwd),
        "folder outside": (str(root.parent / "private"), TOKEN.encode()),
    }
    if kind in targets:
        target, secret = targets[kind]
        link.symlink_to(target)
        return link, f"{link}: a symbolic link that leads outside {folder}/ ({target})", secret
    if kind == "loop":
        link.symlink_to(link.name)
        return link, f"{link}: a symbolic link that leads round in a loop ({link.name})", None
    os.mkfifo(link)
    return link, f"{link}: a named pipe (FIFO), not a regular file", None


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("where", ["static", "content"])
def test_a_link_out_or_a_special_file_is_an_error_and_nothing_of_it_is_published(repo, where, kind):
    assert main(cli_args("build", repo)) == 0
    before = stamps(repo / "public")
    link, problem, secret = plant(repo, where, kind)
    for out in ("public", "fresh"):
        result = run(cli_args("build", repo, out), repo)
        output = result.stdout + result.stderr
        assert result.returncode == 1, output
        assert output.splitlines()[0].startswith(f"{problem} ("), output
        assert "1 problem found" in output
        assert "Traceback" not in output
    assert stamps(repo / "public") == before, "a refused build changed the published site"
    assert not (repo / "fresh").exists() and not (repo / ".fresh.publish" / "standby").exists()
    checked = run(cli_args("check", repo), repo)
    output = checked.stdout + checked.stderr
    assert checked.returncode == 1 and output.splitlines()[0].startswith(f"{problem} ("), output
    if secret is not None:
        for folder in ("public", ".public.publish", ".fresh.publish", ".csto-cache"):
            assert leaked(repo / folder, secret) == [], f"the secret reached {folder}/"
    # Without the entry the same checkout builds, and publishes nothing of it.
    link.unlink()
    assert main(cli_args("build", repo)) == 0
    if secret is not None:
        assert leaked(repo / "public", secret) == []


@pytest.mark.parametrize("swap", ["link out", "link inside, then out", "named pipe"])
def test_a_file_swapped_after_the_listing_is_refused_when_read(repo, swap):
    static = repo / "static"
    if swap == "link inside, then out":
        (static / "logo.svg").symlink_to("favicon.svg")
        name = "logo.svg"
    else:
        name = "favicon.svg"
    listed = {rel: path for path, rel, _ in publishable(static)}
    target = Path(listed[name])
    target.unlink()
    if swap == "named pipe":
        os.mkfifo(target)  # a reader that waited for a writer would hang here
    else:
        target.symlink_to(repo / ".git" / "config")
    read = read_listed(str(target), static)
    assert isinstance(read, Problem), "a file swapped after the listing was read"
    assert read.path == str(target)
    assert ("named pipe" if swap == "named pipe" else "leads outside") in read.message


def test_a_link_to_a_file_inside_the_folder_is_published_as_that_file(repo):
    (repo / "static" / "logo.svg").symlink_to("favicon.svg")
    assert main(cli_args("build", repo)) == 0
    published = repo / "public" / "static" / "logo.svg"
    assert not published.is_symlink()
    assert published.read_bytes() == (repo / "static" / "favicon.svg").read_bytes()


def test_a_link_to_a_hidden_file_inside_the_folder_is_an_error(repo, capsys):
    (repo / "static" / ".private").mkdir()
    (repo / "static" / ".private" / "token").write_text(TOKEN, encoding="utf-8")
    (repo / "static" / "token.txt").symlink_to(".private/token")
    assert main(cli_args("build", repo)) == 1
    assert f"{repo}/static/token.txt: a symbolic link to a hidden file (.private/token)" in capsys.readouterr().err
    assert not (repo / "public").exists()


def test_hidden_files_under_static_are_never_published_and_never_change_the_site(repo, capsys):
    static = repo / "static"
    (static / ".git").mkdir()
    (static / ".git" / "config").write_text(TOKEN, encoding="utf-8")
    (static / ".style.css.swp").write_bytes(b"swap " + TOKEN.encode())
    assert main(cli_args("build", repo)) == 0
    out = repo / "public"
    assert sorted(p.name for p in (out / "static").iterdir() if p.name.startswith(".")) == []
    assert leaked(out, TOKEN.encode()) == []
    before = stamps(out)
    # Adding, editing and removing a hidden file: the site stays as it is, nothing written.
    for change in ("add", "edit", "remove"):
        if change == "add":
            (static / ".DS_Store").write_bytes(b"Bud1" + TOKEN.encode())
        elif change == "edit":
            (static / ".git" / "config").write_text(TOKEN * 2, encoding="utf-8")
        else:
            (static / ".style.css.swp").unlink()
        capsys.readouterr()
        assert main([*cli_args("build", repo), "--quiet"]) == 0
        assert ": 0 files written" in capsys.readouterr().out, change
        assert stamps(out) == before, change
    assert leaked(out, TOKEN.encode()) == []


# -- a build without the record of what the last one made ------------------------------------------------------


def checkout(folder: Path, content: Path) -> Path:
    """Make a CI runner's fresh checkout of `content` with the project's templates and static files."""
    shutil.copytree(content, folder / "content")
    shutil.copytree(TEMPLATES, folder / "templates")
    shutil.copytree(STATIC, folder / "static")
    return folder


def tree(folder: Path) -> dict[str, bytes]:
    """Read every file below a folder."""
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def first_site(root: Path) -> Path:
    """Build the mini site, with an item that is about to be deleted, searchable and reachable at two old addresses."""
    item = root / "content" / GONE
    text = item.read_text(encoding="utf-8").replace("date:", f"aliases: [{', '.join(ALIASES)}]\ndate:", 1)
    item.write_text(text + f"\nThe {GONE_WORD} of the commission was shown to the visitors.\n", encoding="utf-8")
    assert main(cli_args("build", root)) == 0
    out = root / "public"
    assert (out / GONE_PAGE / "index.html").is_file()
    assert (out / "old" / "working-visit.html").is_file() and (out / "about-the-visit" / "index.html").is_file()
    assert leaked(out / "pagefind", GONE_WORD.encode()), "the search index should hold the item before it is deleted"
    # Placed by hand: a search engine's verification file, .well-known/, a file beside an old address's page.
    (out / "google123.html").write_text("google-site-verification: google123.html", encoding="utf-8")
    (out / ".well-known").mkdir()
    (out / ".well-known" / "x").write_text("by hand", encoding="utf-8")
    (out / "old" / "keep.txt").write_text("by hand", encoding="utf-8")
    return out


HAND_PLACED = {"google123.html", ".well-known/x", "old/keep.txt"}


def assert_deleted_everywhere(root: Path) -> None:
    """Assert that public/ is a clean build of the content, plus the hand-placed files, and the item is gone."""
    out = root / "public"
    # Its addresses are retracted: each is a "withdrawn" page at most, without a word of the item.
    for page in (
        out / GONE_PAGE / "index.html",
        out / "old" / "working-visit.html",
        out / "about-the-visit" / "index.html",
    ):
        text = page.read_text(encoding="utf-8") if page.exists() else "This page has been withdrawn"
        assert "This page has been withdrawn" in text and GONE_WORD not in text, f"{page} still shows the item"
    for path in HAND_PLACED:
        assert (out / path).is_file(), f"{path}, placed by hand, was removed"
    slug = GONE_PAGE.name.encode()
    for name, data in tree(out).items():
        if name.endswith((".xml", ".xml.gz", ".xml.br")):
            assert slug not in (gzip.decompress(data) if name.endswith(".gz") else data), f"{name} lists the item"
    assert leaked(out / "pagefind", GONE_WORD.encode()) == [], "the search index still finds the deleted item"
    clean = checkout(root.parent / "clean", root / "content")
    assert main(cli_args("build", clean)) == 0
    published = {path: data for path, data in tree(out).items() if path not in HAND_PLACED}
    expected = tree(clean / "public")
    extra, missing = sorted(set(published) - set(expected)), sorted(set(expected) - set(published))
    differ = sorted(p for p in set(published) & set(expected) if published[p] != expected[p])
    assert not (extra or missing or differ), f"extra {extra[:5]}, missing {missing[:5]}, differ {differ[:5]}"
    shutil.rmtree(clean)


def test_every_file_a_build_writes_is_one_a_build_without_the_record_knows_as_its_own(repo):
    out = first_site(repo)
    own = OwnPaths.of(Urls("en", "https://example.org"), ("en", "ru"))  # the mini site's languages
    files = [path for path in tree(out) if path not in HAND_PLACED]
    assert any(path.startswith("pagefind/") for path in files) and any(path.endswith(".gz") for path in files)
    for path in files:
        made_from = out / uncompressed(path)
        assert path in own or carries_mark(made_from.read_bytes()[:MARK_WINDOW]), path
        if path.endswith((".html", "rss.xml")):
            assert carries_mark((out / path).read_bytes()[:MARK_WINDOW]), f"{path} does not say csto-site made it"
    for path in HAND_PLACED:
        assert path not in own and not carries_mark((out / path).read_bytes()), path


def plain_copy(source: Path, target: Path) -> None:
    """Copy a folder as `cp -r` does: every file anew (no hard links shared, new inodes)."""
    shutil.copytree(source, target, symlinks=True)


@pytest.mark.parametrize("lost", ["record deleted", "restored as plain copies"])
def test_a_deleted_item_is_gone_after_a_build_without_the_record(repo, lost):
    out = first_site(repo)
    record = repo / ".public.publish"
    if lost == "record deleted":
        shutil.rmtree(record)
    else:
        for folder in (out, record):
            plain_copy(folder, folder.with_name(folder.name + ".copy"))
            shutil.rmtree(folder)
            folder.with_name(folder.name + ".copy").rename(folder)
    retract(repo / "content", repo / "content" / GONE)
    assert main(cli_args("build", repo)) == 0
    assert_deleted_everywhere(repo)
    # The next builds swap the old site in as the standby: what was removed must not come back with it.
    with (repo / "content" / "beta" / "_index.md").open("a", encoding="utf-8") as index:
        index.write("\nA new line.\n")
    assert main(cli_args("build", repo)) == 0
    assert_deleted_everywhere(repo)


def test_a_file_placed_by_hand_at_the_sites_own_addresses_is_kept_only_while_the_record_is_trusted(repo, capsys):
    assert main(cli_args("build", repo)) == 0
    out = repo / "public"
    (out / "news" / "2024" / "annex.pdf").write_bytes(b"%PDF by hand")
    (out / "google123.html").write_text("google-site-verification: google123.html", encoding="utf-8")
    with (repo / "content" / "beta" / "_index.md").open("a", encoding="utf-8") as index:
        index.write("\nA new line.\n")
    capsys.readouterr()
    assert main(cli_args("build", repo)) == 0
    assert (out / "news" / "2024" / "annex.pdf").read_bytes() == b"%PDF by hand"
    assert (
        f"{out}/news/2024/annex.pdf: warning: a file placed here by hand is where the site writes its own files"
        in capsys.readouterr().err
    )
    # --clean does not trust the record: the file at the site's own address goes, named; the other stays.
    assert main([*cli_args("build", repo), "--clean"]) == 0
    assert not (out / "news" / "2024" / "annex.pdf").exists()
    assert (out / "google123.html").is_file()
    assert (
        "removed 1 entries no recorded build made where this program writes: news/2024/annex.pdf"
        in capsys.readouterr().err
    )


def recipe_cache_paths() -> list[str]:
    """Return the paths the CI recipe caches between runs (its actions/cache step)."""
    steps = yaml.safe_load(RECIPE.read_text(encoding="utf-8"))["jobs"]["publish"]["steps"]
    paths = [step["with"]["path"] for step in steps if str(step.get("uses", "")).startswith("actions/cache")]
    assert len(paths) == 1, "the recipe should cache one set of paths"
    return [line.strip() for line in paths[0].splitlines() if line.strip()]


def test_the_ci_recipe_keeps_what_a_build_needs_to_remove_a_deleted_item(tmp_path):
    """Two CI runs: the second restores what the first cached, as actions/cache does (tar), and builds."""
    tar = require_tool("tar", "tar is not installed: apt-get install tar")
    first = checkout(tmp_path / "run1", MINI)
    first_site(first)
    # actions/cache: the patterns are resolved in the workspace, the matches archived with GNU tar and unpacked
    # into the next run's fresh checkout.
    patterns = recipe_cache_paths()
    matches = sorted({m for pattern in patterns for m in glob.glob(pattern, root_dir=first, include_hidden=True)})
    assert "public" in matches
    (tmp_path / "manifest.txt").write_text("\n".join(matches), encoding="utf-8")
    archive = tmp_path / "cache.tar"
    subprocess.run(
        [tar, "--posix", "-cf", str(archive), "-P", "-C", str(first), "--files-from", str(tmp_path / "manifest.txt")],
        check=True,
        timeout=TIMEOUT,
    )
    content = tmp_path / "pushed"
    shutil.copytree(first / "content", content)
    retract(content, content / GONE)
    second = checkout(tmp_path / "run2", content)
    subprocess.run([tar, "-xf", str(archive), "-P", "-C", str(second)], check=True, timeout=TIMEOUT)
    result = run(["build"], second)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no recorded build made" not in result.stdout + result.stderr
    assert_deleted_everywhere(second)
