"""Atomic publishing: a failed build leaves public/ exactly as it was, two builds never run at once,
no address leads outside the output, and only files a build made are ever removed."""

from __future__ import annotations

import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from helpers.photos import add_bundle
from helpers.site import MINI, NOW, ROOT, TEMPLATES, cli_args, retract
from test_incremental import assert_same, options, reference, stamps, tree, write_item

from csto_site import cli
from csto_site.build.cache import FILE as CACHE_FILE
from csto_site.build.cache import Cache
from csto_site.build.pipeline import target
from csto_site.build.plan import Planner
from csto_site.build.state import TABLES, OutputState, StateChanges
from csto_site.output.spec import Partition, Spec
from csto_site.publish import scan
from csto_site.publish.manifest import FILE as MANIFEST_FILE
from csto_site.publish.manifest import Manifest, home
from csto_site.publish.run import build
from csto_site.publish.trees import Trees, swap
from csto_site.site.urls import output_path_error
from csto_site.util import store
from csto_site.util.errors import ContentError, Problem, io_problem
from csto_site.util.fs import ctimes, exchange
from csto_site.util.parallel import fork_map


@pytest.fixture
def site(tmp_path: Path) -> tuple[Path, Path]:
    """A private copy of the mini fixture and an output folder for it."""
    content = tmp_path / "content"
    shutil.copytree(MINI, content)
    return content, tmp_path / "public"


def failing_templates(tmp_path: Path, title: str) -> Path:
    """Copy the templates, making the item template fail (an undefined variable) on one item only."""
    templates = tmp_path / "templates"
    shutil.copytree(TEMPLATES, templates)
    item = templates / "item.html"
    marker = "{% block main %}"
    text = item.read_text(encoding="utf-8")
    assert marker in text
    item.write_text(
        text.replace(marker, marker + f"{{% if item.title == {title!r} %}}{{{{ no_such_variable }}}}{{% endif %}}", 1),
        encoding="utf-8",
    )
    return templates


def test_a_failure_in_a_late_template_leaves_public_byte_identical(site, tmp_path):
    content, out = site
    build(options(content, out), NOW)
    before, files = stamps(out), tree(out)
    # A new item whose page fails to render, after the listings that show it were rendered fine.
    write_item(content / "beta" / "2024" / "doomed.md", "Doomed item", "2024-05-22 10:00", "Never published.")
    templates = failing_templates(tmp_path, "Doomed item")
    with pytest.raises(ContentError, match="no_such_variable"):
        build(options(content, out, templates), NOW)
    assert stamps(out) == before
    assert tree(out) == files
    # The next good build repairs the standby the failure left half-written, and publishes correctly.
    retract(content, content / "beta" / "2024" / "doomed.md")
    write_item(content / "beta" / "2024" / "fine.md", "Fine item", "2024-05-22 10:00", "Published.")
    build(options(content, out), NOW)
    assert_same(tree(out), reference(content))


def test_a_build_stopped_after_it_began_writing_costs_the_next_one_only_what_changed(site, tmp_path):
    content, out = site
    build(options(content, out), NOW)
    write_item(content / "beta" / "2024" / "doomed.md", "Doomed item", "2024-05-22 10:00", "Never published.")
    with pytest.raises(ContentError, match="no_such_variable"):
        build(options(content, out, failing_templates(tmp_path, "Doomed item")), NOW)
    # Stopped as a kill or Ctrl+C would stop it: the standby half-written, the record marked unfinished.
    with Trees(out) as trees:
        trees.lock()
        trees.open(verify=False)
        assert not trees.verify, "the live folder is as recorded: trusted, not compared file by file"
        standby = {
            p.relative_to(trees.standby).as_posix(): p.stat().st_ino for p in trees.standby.rglob("*") if p.is_file()
        }
    live = {p.relative_to(out).as_posix(): p.stat().st_ino for p in out.rglob("*") if p.is_file()}
    assert standby == live, "the standby is the live folder again, every file a link to the live one"
    retract(content, content / "beta" / "2024" / "doomed.md")
    write_item(content / "beta" / "2024" / "fine.md", "Fine item", "2024-05-22 10:00", "Published.")
    build(options(content, out), NOW)
    assert_same(tree(out), reference(content))


def test_a_failure_in_parallel_rendering_leaves_public_byte_identical(tmp_path):
    content = tmp_path / "content"
    shutil.copytree(MINI, content)
    for n in range(60):
        write_item(
            content / "alpha" / "2023" / f"bulk-{n}.md",
            f"Bulk item {n}",
            f"2023-0{1 + n % 9}-1{n % 10} 10:00",
            f"Body {n}.",
        )
    out = tmp_path / "public"
    build(options(content, out), NOW)
    before = stamps(out)
    templates = failing_templates(tmp_path, "Bulk item 42")
    for n in range(60):
        path = content / "alpha" / "2023" / f"bulk-{n}.md"
        path.write_text(path.read_text(encoding="utf-8") + "\nMore.\n", encoding="utf-8")
    with pytest.raises(ContentError, match="no_such_variable"):
        build(options(content, out, templates, jobs=2), NOW)
    assert stamps(out) == before


def killing_its_worker(parent: int) -> Callable[..., list[object]]:
    """Return fork_map, but a forked worker kills itself outright on its first chunk (as out of memory)."""

    def forked(work: Callable[[object], object], chunks: list[object], jobs: int, *rest: object) -> list[object]:
        def dying(chunk: object) -> object:
            if os.getpid() != parent:
                os.kill(os.getpid(), signal.SIGKILL)
            return work(chunk)

        return fork_map(dying, chunks, jobs, *rest)

    return forked


@pytest.mark.parametrize("stage", ["loader", "variants", "draw"], ids=["parsing", "photo variants", "rendering"])
def test_a_worker_killed_outright_stops_the_build_with_one_message_and_public_intact(site, monkeypatch, capsys, stage):
    content, out = site
    args = cli_args("build", content, out, "--no-search", "--jobs", "2")
    assert cli.main(args) == 0
    before, files = stamps(out), tree(out)
    add_bundle(content)  # three photos whose variants the cache lacks
    for n in range(70):  # two chunks of items to parse, and of pages to draw, in worker processes
        write_item(
            content / "alpha" / "2023" / f"bulk-{n}.md", f"Bulk item {n}", f"2023-0{1 + n % 9}-1{n % 10} 10:00", "."
        )
    monkeypatch.setattr(f"csto_site.build.{stage}.fork_map", killing_its_worker(os.getpid()))
    capsys.readouterr()

    assert cli.main(args) == 1
    assert capsys.readouterr().err.splitlines() == [
        f"{out}: a worker process was killed (signal 9: out of memory?) "
        "(build again, or with --jobs 1 to use less memory)",
        f"the command stopped; {out} was left as it was.",
    ]
    assert stamps(out) == before
    assert tree(out) == files
    monkeypatch.undo()
    assert cli.main(args) == 0


def test_a_content_error_writes_nothing_anywhere(site):
    content, out = site
    build(options(content, out), NOW)
    before = stamps(out.parent)
    write_item(content / "alpha" / "2024" / "broken.md", "Broken", "2024-13-45", "Bad date.")
    with pytest.raises(ContentError):
        build(options(content, out), NOW)
    after = stamps(out.parent)
    changed = {k for k in set(before) | set(after) if before.get(k) != after.get(k)}
    # Only the content, the cache and the manifest's own bookkeeping: neither public/ nor its standby.
    assert not {k for k in changed if k.startswith(("public", ".public.publish/standby"))}, changed


def test_a_second_build_at_the_same_time_is_refused(site):
    content, out = site
    build(options(content, out), NOW)
    with Trees(out) as holder:
        holder.lock()
        result = subprocess.run(
            [sys.executable, str(ROOT / "build.py"), *cli_args("build", content, out)],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
    assert result.returncode == 1, result.stdout + result.stderr
    assert "another build is writing this output folder right now" in result.stderr
    assert "Traceback" not in result.stderr
    assert build(options(content, out), NOW).written == 0, "the lock is released after a build"


def test_two_builds_sharing_a_cache_into_two_output_folders_at_once_both_publish(site, tmp_path):
    content, _ = site
    cache = tmp_path / "shared-cache"
    outs = [tmp_path / "o1", tmp_path / "o2"]
    runs = [
        subprocess.Popen(
            [sys.executable, str(ROOT / "build.py"), *cli_args("build", content, out, "--cache", str(cache))],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for out in outs
    ]
    for run in runs:
        _, err = run.communicate(timeout=300)
        assert run.returncode == 0, err
        assert err == ""
    assert tree(outs[0]) == tree(outs[1])


def test_a_write_to_the_cache_after_a_read_waits_for_another_builds_write(site, tmp_path):
    cache = Cache.open(tmp_path / "cache")
    with cache:
        state = OutputState(cache.db, "one target", trusted=True)
        state.owners(["index.html"])  # a query through a temporary table: a read of the file left open
        # Meanwhile another build sharing the cache writes into it.
        other = sqlite3.connect(tmp_path / "cache" / CACHE_FILE)
        with other:
            other.execute("INSERT INTO meta VALUES ('another build', 'was here')")
        other.close()
        state.save(StateChanges(), "generation", clean=False, built_at=0.0, code="", record=("", ""), parses="")
        assert state.generation("", "") == "generation"


def test_a_cache_another_build_holds_too_long_is_named_with_what_to_do(site, tmp_path, monkeypatch, capsys):
    content, out = site
    cache = tmp_path / "shared-cache"
    args = cli_args("build", content, out, "--cache", str(cache))
    assert cli.main(args) == 0
    write_item(content / "beta" / "2024" / "new.md", "New item", "2024-05-22 10:00", "Fresh.")
    before = stamps(out)
    capsys.readouterr()
    monkeypatch.setattr(store, "BUSY_SECONDS", 0.2)
    holder = sqlite3.connect(cache / CACHE_FILE, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # another build writing into the cache, and not letting go
    try:
        assert cli.main(args) == 1
    finally:
        holder.rollback()
        holder.close()
    err = capsys.readouterr().err
    assert f"{cache}: another build is using this build cache" in err
    assert "(wait for it to finish and build again, or give this build a cache of its own with --cache DIR)" in err
    assert "database is locked" not in err
    assert stamps(out) == before
    assert cli.main(args) == 0, "once the other build lets go, the build goes on"


@pytest.mark.parametrize("path", ["../outside.html", "/etc/passwd", "a/../../b", "a//b", "./a", "a\\b", "", "a/."])
def test_no_output_path_leads_outside_the_output_folder(path):
    assert output_path_error(path)
    if path:  # an empty path is how a producer says an output has no file of its own (a web server's redirect)
        assert [p.message for p in planned([path])] == [f"cannot write {path!r}: {output_path_error(path)}"]


def test_a_file_and_a_folder_of_one_name_are_refused():
    problems = planned(["news/index.html", "news/index.html/x"])
    assert problems and "both as a file and as a folder" in problems[0].message


def test_a_file_is_refused_only_where_an_output_makes_a_folder():
    """No name is taken but the folders the outputs make: not "window" (a scope's name), not "other"."""
    assert planned(["window", "other", "news/index.html"]) == []
    assert "both as a file and as a folder" in planned(["news", "news/index.html"])[0].message


def planned(paths: list[str]) -> list[Problem]:
    """Describe outputs at `paths` as one new partition of an empty site; return the planner's problems."""

    class Nothing:
        def recording(self, recorder: object) -> Nothing:
            return self

    db = sqlite3.connect(":memory:")
    db.executescript(TABLES)
    planner = Planner(OutputState(db, "test", trusted=False), Nothing(), set())  # type: ignore[arg-type]
    specs = [Spec(path, "/" + path, "en", path, source="test") for path in paths]
    planner.describe("test", [Partition("test")], lambda q, part: specs)
    return planner.check()


def test_writing_through_a_link_out_of_the_standby_is_refused(site, tmp_path):
    content, out = site
    build(options(content, out), NOW)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    with Trees(out) as trees:
        trees.lock()
        trees.open(verify=False)
        (trees.standby / "escape").symlink_to(elsewhere)
        with pytest.raises(ContentError):
            trees.write("escape/page.html", b"x")
    assert list(elsewhere.iterdir()) == []


def test_an_unsafe_slug_is_a_content_error_and_writes_nothing(site, tmp_path):
    content, out = site
    item = content / "alpha" / "2024" / "escape.md"
    item.write_text("---\ntitle: Escape\ndate: 2024-05-01\nslug: ../../../escaped\n---\nBody.\n", encoding="utf-8")
    with pytest.raises(ContentError):
        build(options(content, out), NOW)
    assert not out.exists()
    assert not any(p.name.startswith("escaped") for p in tmp_path.rglob("*"))


def test_an_alias_leading_outside_the_site_is_a_content_error(site, tmp_path):
    content, out = site
    item = content / "alpha" / "2024" / "escape.md"
    item.write_text(
        "---\ntitle: Escape\ndate: 2024-05-01\naliases: [/../../escaped.html]\n---\nBody.\n", encoding="utf-8"
    )
    with pytest.raises(ContentError, match=r"escaped\.html"):
        build(options(content, out), NOW)
    assert not out.exists()
    assert not list(tmp_path.parent.rglob("escaped.html"))


def test_hand_placed_files_are_kept_and_files_of_old_builds_removed(site):
    content, out = site
    build(options(content, out), NOW)
    (out / "google1234.html").write_text("verification", encoding="utf-8")
    (out / ".well-known").mkdir()
    (out / ".well-known" / "security.txt").write_text("Contact: x", encoding="utf-8")
    (out / "news" / "2024" / "note.txt").write_text("a note", encoding="utf-8")
    placed = {p: os.stat(out / p).st_ino for p in ("google1234.html", ".well-known/security.txt", "news/2024/note.txt")}
    gone = content / "alpha" / "2024" / "2024-03-12-working-visit.md"
    page = out / "news" / "2024" / "03" / "12" / "working-visit-to-the-river-commission" / "index.html"
    assert page.exists()
    gone.unlink()
    (content / "addresses.txt").unlink()  # no record of published addresses: the item's page may go
    report = build(options(content, out), NOW)
    assert report.removed > 0
    assert not page.exists() and not page.parent.exists()
    for path, inode in placed.items():
        assert os.stat(out / path).st_ino == inode, f"{path} was not kept as it was"
    ours = {p: d for p, d in tree(out).items() if p not in placed}
    assert_same(ours, reference(content))
    # A hand-placed file deleted by hand stays deleted.
    (out / "news" / "2024" / "note.txt").unlink()
    (content / "beta" / "_index.md").write_text("---\ntitle: Beta again\n---\n", encoding="utf-8")
    build(options(content, out), NOW)
    assert not (out / "news" / "2024" / "note.txt").exists()
    assert (out / "google1234.html").exists()


def test_a_first_build_over_an_old_output_folder_keeps_what_it_does_not_know(site):
    content, out = site
    out.mkdir()
    (out / "index.html").write_text("the old site", encoding="utf-8")
    (out / "old-page.html").write_text("left over", encoding="utf-8")
    report = build(options(content, out), NOW)
    assert (out / "old-page.html").read_text(encoding="utf-8") == "left over"
    assert any("no recorded build made" in w.message for w in report.warnings), report.warnings
    assert_same({p: d for p, d in tree(out).items() if p != "old-page.html"}, reference(content))


def test_a_deleted_page_is_restored_by_a_clean_build(site):
    content, out = site
    build(options(content, out), NOW)
    page = out / "news" / "index.html"
    page.unlink()
    assert build(options(content, out, clean=True), NOW).written == 1
    assert_same(tree(out), reference(content))


def test_the_output_folder_is_swapped_not_rewritten(site):
    content, out = site
    build(options(content, out), NOW)
    home = out / "index.html"
    unchanged = out / "news" / "2023" / "11" / "14" / "annual-report-published" / "index.html"
    before = (os.stat(out).st_ino, os.stat(unchanged).st_ino, os.stat(unchanged).st_mtime_ns, home.read_bytes())
    write_item(content / "beta" / "2024" / "new.md", "A new item", "2024-06-01 10:00", "News.")
    build(options(content, out), NOW)
    assert os.stat(out).st_ino != before[0], "public/ was replaced in one step by its standby twin"
    assert (os.stat(unchanged).st_ino, os.stat(unchanged).st_mtime_ns) == before[1:3], "an unchanged file kept"
    assert home.read_bytes() != before[3]


def test_a_build_killed_halfway_is_repaired_by_the_next(site, monkeypatch):
    content, out = site
    build(options(content, out), NOW)
    before = tree(out)
    write_item(content / "beta" / "2024" / "new.md", "A new item", "2024-06-01 10:00", "News.")
    written: list[str] = []
    original = Trees.write

    def crash_after_two(trees: Trees, path: str, data: bytes) -> None:
        if len(written) == 2:
            raise KeyboardInterrupt  # as if the build were stopped with Ctrl+C while writing
        written.append(path)
        original(trees, path, data)

    monkeypatch.setattr(Trees, "write", crash_after_two)
    with pytest.raises(KeyboardInterrupt):
        build(options(content, out), NOW)
    assert tree(out) == before
    monkeypatch.setattr(Trees, "write", original)
    build(options(content, out), NOW)
    assert_same(tree(out), reference(content))


@pytest.mark.parametrize("removed", ["public", ".public.publish/standby", ".public.publish"])
def test_a_build_recovers_when_a_folder_was_deleted(site, removed):
    content, out = site
    build(options(content, out), NOW)
    shutil.rmtree(out.parent / removed)
    write_item(content / "beta" / "2024" / "new.md", "A new item", "2024-06-01 10:00", "News.")
    build(options(content, out), NOW)
    assert_same(tree(out), reference(content))
    assert build(options(content, out), NOW).written == 0


@pytest.fixture
def no_renameat2(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make the C library one without renameat2: folders are swapped with three renames, as on macOS or Windows."""
    import ctypes

    real = ctypes.CDLL

    class NoExchange:
        """The C library, but for renameat2."""

        def __init__(self, *args: object, **kwargs: object) -> None:
            self.library = real(*args, **kwargs)

        def __getattr__(self, name: str) -> object:
            if name == "renameat2":
                raise AttributeError(name)
            return getattr(self.library, name)

    monkeypatch.setattr(ctypes, "CDLL", NoExchange)


def test_exchange_swaps_with_three_renames_where_the_system_cannot(tmp_path, no_renameat2):
    test_exchange_swaps_two_folders(tmp_path)


@pytest.mark.parametrize("renames", [1, 2])
def test_a_build_killed_between_the_three_renames_of_a_swap_is_set_right_by_the_next(
    site, monkeypatch, no_renameat2, renames
):
    content, out = site
    build(options(content, out), NOW)
    before = tree(out)
    write_item(content / "beta" / "2024" / "new.md", "A new item", "2024-06-01 10:00", "News.")
    live, parked = out.resolve(), home(out) / "standby.swap"
    pid = os.fork()
    if pid == 0:  # the build, killed outright after the first (or second) rename of its swap
        try:
            original, done = os.rename, []

            def rename_then_die(source: Path, target: Path) -> None:
                original(source, target)
                if {Path(source), Path(target)} & {live, parked}:
                    done.append(target)
                    if len(done) == renames:
                        os.kill(os.getpid(), signal.SIGKILL)

            monkeypatch.setattr(os, "rename", rename_then_die)
            build(options(content, out), NOW)
        finally:
            os._exit(1)
    assert os.waitpid(pid, 0)[1] == signal.SIGKILL
    assert parked.is_dir()
    assert out.exists() == (renames == 2), "the site is down between the first and the second rename"

    trusted: list[bool] = []
    original_open = Trees.open

    def open_noting_trust(trees: Trees, verify: bool) -> None:
        original_open(trees, verify)
        trusted.append(not trees.verify)

    monkeypatch.setattr(Trees, "open", open_noting_trust)
    report = build(options(content, out), NOW)
    assert not parked.exists()
    assert_same(tree(out), reference(content))
    if renames == 1:  # the old site put back as it was: its record holds, and only what changed is drawn
        assert tree(out) != before
        assert trusted == [True]
        assert any("moved aside" in problem.message for problem in report.warnings)
    write_item(content / "beta" / "2024" / "later.md", "A later item", "2024-06-02 10:00", "More news.")
    build(options(content, out), NOW)
    assert_same(tree(out), reference(content))
    assert build(options(content, out), NOW).written == 0


def test_a_folder_left_aside_by_a_swap_never_stops_a_build(site, no_renameat2):
    content, out = site
    build(options(content, out), NOW)
    shutil.copytree(out, home(out) / "standby.swap")  # both folders there too: a leftover
    write_item(content / "beta" / "2024" / "new.md", "A new item", "2024-06-01 10:00", "News.")
    build(options(content, out), NOW)
    assert_same(tree(out), reference(content))
    assert not (home(out) / "standby.swap").exists()


def test_an_output_folder_that_cannot_be_swapped_is_a_clear_error(tmp_path, monkeypatch):
    import ctypes
    import errno

    class MountPoint:
        """A C library whose renameat2 fails as for a mount point."""

        @staticmethod
        def renameat2(*args: object) -> int:
            ctypes.set_errno(errno.EBUSY)
            return -1

    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    monkeypatch.setattr(ctypes, "CDLL", lambda *args, **kwargs: MountPoint())
    with pytest.raises(ContentError, match="mount point"):
        swap(tmp_path / "a", tmp_path / "b")


def test_exchange_swaps_two_folders(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir()
    b.mkdir()
    (a / "x").write_text("from a", encoding="utf-8")
    (b / "x").write_text("from b", encoding="utf-8")
    exchange(a, b)
    assert (a / "x").read_text(encoding="utf-8") == "from b"
    assert (b / "x").read_text(encoding="utf-8") == "from a"


def test_the_standby_shares_unchanged_files_with_the_live_folder(site):
    content, out = site
    build(options(content, out), NOW)
    standby = out.parent / ".public.publish" / "standby"
    files = tree(out)
    assert tree(standby) == files
    assert all(os.stat(out / p).st_ino == os.stat(standby / p).st_ino for p in files)
    write_item(content / "beta" / "2024" / "new.md", "A new item", "2024-06-01 10:00", "News.")
    report = build(options(content, out), NOW)
    shared = [p for p in tree(out) if (standby / p).exists() and os.stat(out / p).st_ino == os.stat(standby / p).st_ino]
    assert len(shared) == len(tree(out)) - report.written


# -- folders the stamps say are unchanged are not listed, and every changed one is -----------------

DEEP = "news/2023/11/14/annual-report-published"


@pytest.fixture
def trusted(monkeypatch: pytest.MonkeyPatch) -> None:
    """Trust every folder stamp at once, as a build does once the clock has moved on (no racy stamps)."""
    monkeypatch.setattr(scan, "RACY_NS", 0)


def after_the_stamps(tmp_path: Path) -> None:
    """Wait until a change made now gets a ctime other than the ones the last build recorded."""
    probe = tmp_path / "tick"
    probe.touch()
    start = os.stat(probe).st_ctime_ns
    deadline = time.monotonic() + 5
    while os.stat(probe).st_ctime_ns == start:
        assert time.monotonic() < deadline, "the file system's clock did not move"
        time.sleep(0.002)
        os.utime(probe)


def live_stamps(out: Path) -> dict[str, int]:
    """Read the folder stamps the manifest holds for the live folder."""
    db = sqlite3.connect(home(out) / MANIFEST_FILE)
    try:
        return dict(db.execute("SELECT dir, ctime_ns FROM stamps WHERE tree = ?", (os.stat(out).st_ino,)))
    finally:
        db.close()


def listed_by_scan(out: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Trees, set[str]]:
    """Open the output as a build does; return it and the folders its scan listed."""
    listed: set[str] = set()
    scandir = os.scandir

    def spy(path: str) -> object:
        listed.add(Path(path).relative_to(out.resolve()).as_posix())
        return scandir(path)

    trees = Trees(out)
    with monkeypatch.context() as patch:
        patch.setattr(os, "scandir", spy)
        trees.lock()
        trees.open(verify=False)
    trees.close()
    return trees, listed


def touch_content(content: Path) -> None:
    """Change an input's mtime but not its bytes: the build runs but has nothing new to write."""
    source = content / "beta" / "_index.md"
    os.utime(source, ns=(time.time_ns(), os.stat(source).st_mtime_ns + 1_000_000_000))


def test_a_hand_placed_file_deep_in_the_site_is_found_by_its_folder_stamp(site, trusted, tmp_path, monkeypatch):
    content, out = site
    build(options(content, out), NOW)
    stamped = live_stamps(out)
    assert DEEP in stamped and all(stamped.values()), "a build's stamps are trusted once the clock has moved on"
    after_the_stamps(tmp_path)
    (out / DEEP / "annex.pdf").write_bytes(b"%PDF by hand")
    (out / DEEP / "files").mkdir()
    (out / DEEP / "files" / "photo.jpg").write_bytes(b"a photo")
    placed = {p: os.stat(out / p).st_ino for p in (f"{DEEP}/annex.pdf", f"{DEEP}/files/photo.jpg")}
    # A build that swaps a new site in carries both over, as they were.
    write_item(content / "beta" / "2024" / "new.md", "A new item", "2024-06-01 10:00", "News.")
    assert build(options(content, out), NOW).written > 0
    assert {p: os.stat(out / p).st_ino for p in placed} == placed
    assert_same({p: d for p, d in tree(out).items() if p not in placed}, reference(content))
    # Only the root (never stamped) and the folders whose ctime moved are listed.
    stamped = live_stamps(out)
    assert all(stamped.values())
    after_the_stamps(tmp_path)
    (out / "news" / "2024" / "note.txt").write_text("a note", encoding="utf-8")
    trees, listed = listed_by_scan(out, monkeypatch)
    assert listed == {".", "news/2024"}
    assert trees.scan.foreign == {"news/2024/note.txt", f"{DEEP}/annex.pdf", f"{DEEP}/files"}
    assert trees.missing == set() and trees.scan.folders == set(stamped)


def test_stamps_read_early_by_a_second_process_find_what_reading_them_in_open_finds(
    site, trusted, tmp_path, monkeypatch
):
    content, out = site
    build(options(content, out), NOW)
    after_the_stamps(tmp_path)
    (out / DEEP / "annex.pdf").write_bytes(b"%PDF by hand")
    (out / "news" / "2024" / "index.html").unlink()
    found = []
    for early in (False, True):
        with Trees(out) as trees, monkeypatch.context() as patch:
            trees.lock()
            if early:
                trees.read_stamps_early()
                assert trees.early is not None

                def read_again(*args: object) -> None:
                    raise AssertionError("open read the folders' ctimes again instead of taking the early ones")

                # The second process was forked before this: it reads the ctimes as a build does.
                patch.setattr(scan, "ctimes", read_again)
            trees.open(verify=False)
            assert trees.early is None
            found.append((trees.scan.foreign, trees.missing, trees.scan.fresh))
    assert found[1] == found[0]
    assert found[0][0] == {f"{DEEP}/annex.pdf"} and found[0][1] == {"news/2024/index.html"}
    assert set(found[0][2]) == {DEEP, "news/2024"}


def test_folders_too_new_to_stamp_after_a_first_build_are_stamped_by_the_next_swap(site, tmp_path, monkeypatch):
    content, out = site
    # Every ctime is too recent to trust, as for the standby a first build copies at its very end.
    monkeypatch.setattr(scan, "RACY_NS", 10**18)
    build(options(content, out), NOW)
    monkeypatch.setattr(scan, "RACY_NS", 0)  # then the clock moves on
    write_item(content / "beta" / "2024" / "new.md", "A new item", "2024-06-01 10:00", "News.")
    assert build(options(content, out), NOW).written > 0
    stamped = live_stamps(out)
    assert DEEP in stamped and all(stamped.values()), "the swapped-in standby's folders keep no unknown stamp"
    after_the_stamps(tmp_path)
    _, listed = listed_by_scan(out, monkeypatch)
    assert listed == {"."}


@pytest.mark.parametrize(
    "change", ["folder removed", "file removed", "file made a link", "folder made a file", "folder made a link"]
)
def test_a_page_removed_by_hand_deep_in_the_site_is_restored(site, trusted, tmp_path, change):
    content, out = site
    build(options(content, out), NOW)
    assert all(live_stamps(out).values())
    after_the_stamps(tmp_path)
    if change.startswith("file"):
        (out / DEEP / "index.html").unlink()
        if change == "file made a link":
            (out / DEEP / "index.html").symlink_to(out / "index.html")
    else:
        shutil.rmtree(out / DEEP)
        if change == "folder made a file":
            (out / DEEP).write_text("by hand", encoding="utf-8")
        elif change == "folder made a link":
            (out / DEEP).symlink_to(out / "news")
    # Nothing new to write but the missing page: only the scan can tell the build to write it again.
    touch_content(content)
    assert build(options(content, out), NOW).written > 0
    assert not (out / DEEP).is_symlink() and not (out / DEEP / "index.html").is_symlink()
    expected = reference(content)
    assert_same({p: d for p, d in tree(out).items() if p in expected}, expected)
    assert build(options(content, out), NOW).written == 0


def test_ctimes_reads_each_folder_and_marks_one_it_cannot_read(tmp_path):
    (tmp_path / "a" / "b").mkdir(parents=True)
    (tmp_path / "file").write_text("x", encoding="utf-8")
    folders = ["a", "a/b", "gone", "a/gone/deeper", "file"]
    expected = [os.stat(tmp_path / f).st_ctime_ns if (tmp_path / f).exists() else 0 for f in folders]
    assert ctimes(tmp_path, folders) == expected
    assert ctimes(tmp_path / "missing", folders) == [0] * len(folders)


def test_a_build_refused_after_the_scan_forgets_nothing_the_scan_found(site, trusted, tmp_path):
    content, out = site
    build(options(content, out), NOW)
    after_the_stamps(tmp_path)
    (out / DEEP / "annex.pdf").write_bytes(b"%PDF by hand")
    page = out / "news" / "2024" / "03" / "12" / "working-visit-to-the-river-commission" / "index.html"
    page.unlink()
    # An old address onto a page of the site: refused once the output was scanned, before anything is written.
    clash = content / "alpha" / "2024" / "clash.md"
    clash.write_text(f"---\ntitle: Clash\ndate: 2024-05-01\naliases: [/{DEEP}/]\n---\nBody.\n", encoding="utf-8")
    with pytest.raises(ContentError):
        build(options(content, out), NOW)
    clash.unlink()
    touch_content(content)  # not the inputs of the last good build: no quick answer
    # The next build finds both again: the missing page is written, and the hand-placed file carried over the swap.
    assert build(options(content, out), NOW).written > 0
    assert page.exists()
    assert (out / DEEP / "annex.pdf").read_bytes() == b"%PDF by hand"
    assert_same({p: d for p, d in tree(out).items() if p != f"{DEEP}/annex.pdf"}, reference(content))


def test_a_full_disk_after_the_site_is_recorded_costs_only_the_next_quick_answer(site, monkeypatch):
    content, out = site
    build(options(content, out), NOW)
    write_item(content / "beta" / "2024" / "late.md", "Late item", "2024-05-22 10:00", "Published.")
    put = Manifest.put

    def full(self: Manifest, key: str, value: object) -> None:
        if key == "fast" and value is not None:  # the last write of a build: its quick answer for the next one
            raise sqlite3.OperationalError("database or disk is full")
        put(self, key, value)

    monkeypatch.setattr(Manifest, "put", full)
    report = build(options(content, out), NOW)
    assert [w.message for w in report.warnings] == [
        "the quick answer of the next build was not saved (database or disk is full)"
    ]
    assert_same(tree(out), reference(content))
    monkeypatch.undo()
    assert build(options(content, out), NOW).written == 0, "the next build finds the site as it is"


@pytest.mark.parametrize(
    "stop", [KeyboardInterrupt(), sqlite3.OperationalError("database or disk is full")], ids=["ctrl+c", "a full disk"]
)
def test_a_build_stopped_after_its_swap_while_recording_it_swaps_the_old_site_back(site, monkeypatch, stop):
    content, out = site
    build(options(content, out), NOW)
    before, files = stamps(out), tree(out)
    write_item(content / "beta" / "2024" / "late.md", "Late item", "2024-05-22 10:00", "Published.")
    put = Manifest.put
    live = os.stat(out).st_ino

    def stopped(self: Manifest, key: str, value: object) -> None:
        if key == "ids" and isinstance(value, tuple) and value[0] != live:  # recording the swap it has just made
            raise stop
        put(self, key, value)

    monkeypatch.setattr(Manifest, "put", stopped)
    with pytest.raises(type(stop)):
        build(options(content, out), NOW)
    assert stamps(out) == before, "public/ is as it was: the same files, inodes and times"
    assert tree(out) == files
    monkeypatch.undo()
    build(options(content, out), NOW)
    assert_same(tree(out), reference(content))


def plans(db: sqlite3.Connection, ask: Callable[[], object]) -> list[str]:
    """Run `ask` on `db`, then return SQLite's plan of each query it made."""
    queries: list[str] = []
    db.set_trace_callback(queries.append)
    ask()
    db.set_trace_callback(None)
    return [" ".join(row[-1] for row in db.execute(f"EXPLAIN QUERY PLAN {query}")) for query in queries]


def test_the_queries_every_build_makes_of_its_whole_state_use_the_partial_index_made_for_each(site):
    """The count of pages (the summary) and the unstamped folders (the swap) are asked by every build.

    A partial index serves a query only while the query's condition implies the index's: an edit of
    either query's text could make it read every row again, unseen by any other test.
    """
    content, out = site
    built = options(content, out)
    build(built, NOW)
    manifest = Manifest(home(out) / MANIFEST_FILE, [])
    assert built.cache is not None
    cache = sqlite3.connect(built.cache / CACHE_FILE)
    state = OutputState(cache, target(built), trusted=True)

    found = plans(manifest.db, lambda: manifest.unstamped(1)) + plans(cache, state.pages)

    assert found == [
        "SEARCH stamps USING INDEX stamps_unstamped (tree=?)",
        "SEARCH outputs USING INDEX outputs_pages (target=?)",
    ]
    manifest.close()
    cache.close()


def test_the_search_step_reads_a_month_of_the_manifest_by_the_index_of_its_paths(site):
    """A search build reads the indexed pages of the months it changed: a range of paths, not every file."""
    content, out = site
    build(options(content, out), NOW)
    manifest = Manifest(home(out) / MANIFEST_FILE, [])

    found = plans(manifest.db, lambda: manifest.indexed_under("news/2024/05/"))

    assert found == ["SEARCH files USING INDEX sqlite_autoindex_files_1 (path>? AND path<?)"]
    manifest.close()


def test_what_sqlite_refuses_is_said_with_what_to_do(tmp_path: Path) -> None:
    """SQLite gives its own reason, not the system's: a read-only database and an unopenable one get a hint."""
    database = tmp_path / "cache.sqlite"
    with sqlite3.connect(database) as connection:
        connection.execute("CREATE TABLE t (x)")
    connection.close()
    read_only = sqlite3.connect(f"file:{database}?mode=ro", uri=True)
    with pytest.raises(sqlite3.OperationalError) as refused:
        read_only.execute("INSERT INTO t VALUES (1)")
    read_only.close()
    with pytest.raises(sqlite3.OperationalError) as unopened:
        sqlite3.connect(tmp_path / "no such folder" / "cache.sqlite")

    written = io_problem(refused.value, ".csto-cache")
    opened = io_problem(unopened.value, ".csto-cache")
    assert (written.path, written.message) == (".csto-cache", "attempt to write a readonly database")
    assert written.hint.startswith("the folder or its database is read-only: make it writable")
    assert opened.message == "unable to open database file"
    assert opened.hint.startswith("the folder cannot be written (read-only, or not yours)")
