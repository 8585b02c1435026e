"""Fault injection on the build's processes: builds killed or interrupted at any moment, failures, a full disk.

On a generated archive of 2,000 items whose content alternates between two states, A and B (a few items
edited, added and deleted), 30 builds are killed with SIGKILL at seeded random moments spread over every
phase (startup, parsing, planning, rendering, the search index, the swap and the manifest), and a few are
interrupted with SIGINT. Right after each, public/ must be byte for byte a whole old site or a whole new one;
then a plain build must finish within a bound and make exactly, file for file, what a clean build of the
same content makes. The builds are real processes (build.py), so the kills are real.

Also here: a content error is reported promptly by build, check and serve; a full file system fails with a
clear message and public/ intact; TMPDIR on another file system than the output. Those two mount a small
tmpfs, which needs root (CSTO_REQUIRE_TOOLS=1 expects it).
"""

from __future__ import annotations

import hashlib
import json
import os
import queue
import random
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from helpers.site import ROOT, STATIC, TEMPLATES
from helpers.tools import interruptible, missing, wait_for_lock

SRC = ROOT / "src"
ITEMS = 2000
SEED = 16
KILLS = 30
# A plain build after a kill finishes within this, on two cores shared with other work.
RECOVERY_SECONDS = 120
# A content error is reported within this (the hang this suite was written for never reported it).
PROMPT_SECONDS = 30
BUNDLE = "pagefind/"
PHASES = ("startup", "parse", "plan", "render", "finish")

Digests = dict[str, str]

# Runs a build in a process of its own and prints when each stage moved (monotonic clock, shared by all
# processes): the calibration of the kill moments.
TIMED_BUILD = """
import json, sys, time
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo
from csto_site.build.options import Options
from csto_site.publish.run import build
marks = []
a = json.loads(sys.argv[1])
options = Options(content=Path(a["content"]), out=Path(a["out"]), templates=Path(a["templates"]),
                  static=Path(a["static"]), cache=Path(a["cache"]), search=a["search"], clean=a["clean"])
build(options, datetime.now(ZoneInfo("UTC")), progress=lambda stage, *_: marks.append((stage, time.monotonic())))
print(json.dumps({"marks": marks, "end": time.monotonic()}))
"""


class Hasher:
    """Describe every file and folder of a tree by a digest of its bytes, remembering files it has seen.

    A build never rewrites a published file in place (it writes a new one and swaps folders), so a file
    with the same inode, size, mtime and ctime has the same bytes: only new files are read.
    """

    def __init__(self) -> None:
        self.known: dict[tuple[int, ...], str] = {}

    def __call__(self, root: Path) -> Digests:
        found: Digests = {}
        stack = [(str(root), "")]
        while stack:
            folder, prefix = stack.pop()
            with os.scandir(folder) as entries:
                for entry in entries:
                    rel = prefix + entry.name
                    if entry.is_dir(follow_symlinks=False):
                        found[rel + "/"] = "folder"
                        stack.append((entry.path, rel + "/"))
                        continue
                    info = entry.stat(follow_symlinks=False)
                    key = (info.st_dev, info.st_ino, info.st_size, info.st_mtime_ns, info.st_ctime_ns)
                    if key not in self.known:
                        data = os.readlink(entry.path).encode() if entry.is_symlink() else Path(entry.path).read_bytes()
                        self.known[key] = hashlib.blake2b(data, digest_size=16).hexdigest()
                    found[rel] = self.known[key]
        return found


def without_search(digests: Digests) -> Digests:
    """Return a site's files as a build with --no-search makes them: the same, without the search bundle."""
    return {path: digest for path, digest in digests.items() if not path.startswith(BUNDLE)}


def difference(found: Digests, expected: Digests) -> str:
    """Say how two trees differ, briefly."""
    extra = sorted(set(found) - set(expected))
    gone = sorted(set(expected) - set(found))
    changed = sorted(p for p in set(found) & set(expected) if found[p] != expected[p])
    return f"{len(extra)} extra {extra[:5]}, {len(gone)} missing {gone[:5]}, {len(changed)} differ {changed[:5]}"


@dataclass(frozen=True)
class Site:
    """A content folder with its output, build cache and the commands that build it."""

    content: Path
    out: Path
    cache: Path

    def args(self, command: str = "build", *extra: str) -> list[str]:
        """Return the command line of `command` on this site, as a process of its own."""
        return [
            sys.executable,
            str(ROOT / "build.py"),
            command,
            "--content",
            str(self.content),
            "--out",
            str(self.out),
            "--templates",
            str(TEMPLATES),
            "--static",
            str(STATIC),
            "--cache",
            str(self.cache),
            "--quiet",
            *extra,
        ]


def environment(**extra: str) -> dict[str, str]:
    """Return the environment of a build process: this worktree's code."""
    return {**os.environ, "PYTHONPATH": str(SRC), **extra}


def start(args: list[str], **extra: str) -> subprocess.Popen[str]:
    """Start a command in a session of its own (so a Ctrl+C can reach all its processes, as a terminal's does)."""
    return subprocess.Popen(
        args,
        env=environment(**extra),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
        preexec_fn=interruptible,
    )


def run(args: list[str], timeout: float = RECOVERY_SECONDS, **extra: str) -> subprocess.CompletedProcess[str]:
    """Run a command to its end within `timeout` seconds."""
    return subprocess.run(args, env=environment(**extra), capture_output=True, text=True, timeout=timeout, check=False)


def timed_build(site: Site, search: bool, clean: bool = False) -> dict[str, tuple[float, float]]:
    """Build in a process of its own; return each phase's window, in seconds from the process's start."""
    settings = {
        "content": str(site.content),
        "out": str(site.out),
        "templates": str(TEMPLATES),
        "static": str(STATIC),
        "cache": str(site.cache),
        "search": search,
        "clean": clean,
    }
    began = time.monotonic()
    done = run([sys.executable, "-c", TIMED_BUILD, json.dumps(settings)], timeout=600)
    assert done.returncode == 0, done.stderr
    timing = json.loads(done.stdout)
    marks = [(stage, moment - began) for stage, moment in timing["marks"]]
    end = timing["end"] - began
    first = marks[0][1] if marks else end
    windows = {"startup": (0.2, first), "finish": (marks[-1][1] if marks else first, end), "whole": (0.2, end)}
    for stage in ("parse", "render", "search"):
        moments = [moment for name, moment in marks if name == stage]
        if moments:
            windows[stage] = (moments[0], moments[-1])
    if "parse" in windows and "render" in windows:
        windows["plan"] = (windows["parse"][1], windows["render"][0])
    return windows


@dataclass
class Archive:
    """The generated archive being built and broken, the two states of its content and their clean builds."""

    site: Site
    states: Mapping[str, Mapping[str, bytes | None]]
    reference: Mapping[str, Digests]
    timing: Mapping[str, Mapping[str, tuple[float, float]]]
    hasher: Hasher
    state: str = "A"
    search: bool = False

    def put(self, state: str) -> None:
        """Make the content folder hold state A or B."""
        put(self.site.content, self.states[state])
        # B deletes items of A and A of B: the states swap back and forth as if never published.
        (self.site.content / "addresses.txt").unlink(missing_ok=True)

    def expected(self, state: str, search: bool) -> Digests:
        """Return what a clean build of a state makes, with or without the search index."""
        digests = self.reference[state]
        return digests if search else without_search(digests)

    def published(self) -> Digests:
        """Return what public/ holds now."""
        return self.hasher(self.site.out)


def other(state: str) -> str:
    """Return the state the content goes to next."""
    return "B" if state == "A" else "A"


def put(content: Path, files: Mapping[str, bytes | None]) -> None:
    """Write (or, for None, delete) the files of a state of the content."""
    for rel, data in files.items():
        path = content / rel
        if data is None:
            path.unlink(missing_ok=True)
        else:
            path.write_bytes(data)


def b_changes(content: Path, rng: random.Random) -> dict[str, tuple[bytes | None, bytes | None]]:
    """Choose what state B changes in state A: a few items edited, two added, two deleted; (A, B) bytes by path."""
    items = sorted(
        p
        for p in content.rglob("*.md")
        if not p.name.startswith("_") and ".ru." not in p.name and not p.with_name(p.name[:-3] + ".ru.md").exists()
    )
    chosen = rng.sample(items, 8)
    changes: dict[str, tuple[bytes | None, bytes | None]] = {}
    for number, path in enumerate(chosen[:4]):
        text = path.read_text(encoding="utf-8")
        edited = text + f"\nA paragraph added in state B ({number}).\n"
        if number == 0:
            edited = edited.replace('title: "', 'title: "Retitled in B: ', 1)
        changes[path.relative_to(content).as_posix()] = (text.encode(), edited.encode())
    for path in chosen[4:6]:
        changes[path.relative_to(content).as_posix()] = (path.read_bytes(), None)
    for number, path in enumerate(chosen[6:8]):
        text = path.read_text(encoding="utf-8").replace('title: "', f'title: "Added in B {number}: ', 1)
        added = path.with_name(path.name[:-3] + f"-added-{number}.md")
        changes[added.relative_to(content).as_posix()] = (None, text.encode())
    return changes


@pytest.fixture(scope="module")
def archive(tmp_path_factory: pytest.TempPathFactory) -> Archive:
    """Generate the archive, build the clean references of A (no search) and B (with search), time the builds."""
    root = tmp_path_factory.mktemp("faults")
    content = root / "site" / "content"
    generated = run(
        [sys.executable, str(ROOT / "bench" / "generate.py"), str(content), "--n", str(ITEMS), "--seed", str(SEED)],
        timeout=300,
    )
    assert generated.returncode == 0, generated.stderr
    changes = b_changes(content, random.Random(SEED))
    states = {"A": {rel: a for rel, (a, _) in changes.items()}, "B": {rel: b for rel, (_, b) in changes.items()}}
    hasher = Hasher()
    # B's clean build, with search, in folders of its own.
    elsewhere = Site(root / "b" / "content", root / "b" / "public", root / "b" / "cache")
    shutil.copytree(content, elsewhere.content)
    put(elsewhere.content, states["B"])
    timing = {"clean B with search": timed_build(elsewhere, search=True, clean=True)}
    reference = {"B": hasher(elsewhere.out)}
    shutil.rmtree(elsewhere.out.parent)
    # A's clean build is the first build of the site the suite breaks.
    site = Site(content, root / "site" / "public", root / "site" / "cache")
    timing["clean A"] = timed_build(site, search=False, clean=True)
    reference["A"] = hasher(site.out)
    archive = Archive(site, states, reference, timing, hasher)
    for state in ("B", "A"):  # plain builds back and forth make the clean builds
        archive.put(state)
        assert run(site.args("build", "--no-search")).returncode == 0
        assert_site(archive, state, search=False, context="a plain build")
    for state in ("B", "A"):  # and, now that the cache holds both states, the timed ones
        archive.put(state)
        timing[f"{other(state)} to {state}"] = timed_build(site, search=False)
        assert_site(archive, state, search=False, context="a timed build")
    return archive


def assert_site(archive: Archive, state: str, search: bool, context: str = "") -> None:
    """Assert that public/ is exactly what a clean build of `state` makes."""
    found = archive.published()
    expected = archive.expected(state, search)
    assert found == expected, f"{context}: public/ is not the clean build of {state}: {difference(found, expected)}"


def assert_whole(archive: Archive, old: tuple[str, bool], new: tuple[str, bool], context: str) -> str:
    """Assert that public/ is a whole old site or a whole new one; return which."""
    found = archive.published()
    for name, (state, search) in (("old", old), ("new", new)):
        if found == archive.expected(state, search):
            return name
    raise AssertionError(
        f"{context}: public/ is neither whole site: against the old "
        f"{difference(found, archive.expected(*old))}; against the new "
        f"{difference(found, archive.expected(*new))}"
    )


def session_processes(session: int) -> dict[int, str]:
    """Return the live processes of a session (those a build started), by id, with their command names."""
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            name, rest = (entry / "stat").read_text().rsplit(") ", 1)
        except (FileNotFoundError, ProcessLookupError):
            continue
        fields = rest.split()
        if int(fields[3]) == session and fields[0] != "Z":
            found[int(entry.name)] = name.split(" (", 1)[1]
    return found


def assert_no_orphans(session: int, context: str) -> None:
    """Assert that no Python process of a killed build outlives it (it would hold the output's lock).

    Pagefind, a program of its own, runs on to its end after its build is killed outright; it writes
    only into that build's scratch folder, and is ended here to keep the suite quick.
    """
    deadline = time.monotonic() + 5
    while (left := session_processes(session)) and time.monotonic() < deadline:
        if all("pagefind" in name for name in left.values()):
            for pid in left:
                os.kill(pid, signal.SIGKILL)
        time.sleep(0.05)
    assert not left, f"{context}: processes of the killed build are still running: {left}"


def kill_moment(archive: Archive, kind: str, phase: str, rng: random.Random) -> float:
    """Choose when to kill a build of `kind` so that it dies in `phase`, from the timed builds."""
    if kind == "search":  # the plain build's work, then into the indexing (timed in B's clean build)
        ready = archive.timing["A to B"]["finish"][0]
        start, stop = archive.timing["clean B with search"]["search"]
        return ready + rng.uniform(0.1, 0.9) * (stop - start)
    if kind == "clean":  # early in the rendering of every page: a long phase, and a kill that costs less
        start, stop = archive.timing["clean A"]["render"]
        return start + rng.uniform(0.05, 0.3) * (stop - start)
    timing = archive.timing[f"{archive.state} to {other(archive.state)}"]
    start, stop = timing.get(phase, timing["whole"])
    return rng.uniform(start, stop)


def test_builds_killed_at_any_moment_leave_a_whole_site_and_the_next_build_makes_the_clean_one(archive):
    rng = random.Random(SEED)
    # One kill while indexing for search, two while a --clean build renders every page, the rest in turn
    # in each phase of a plain build: starting, parsing, planning, rendering, swapping and recording.
    kinds = ["search", "clean", "clean"] + ["incremental"] * (KILLS - 3)
    rng.shuffle(kinds)
    phases = {"search": ["search"], "clean": ["render"], "incremental": list(PHASES)}
    killed: list[str] = []
    for number, kind in enumerate(kinds, 1):
        phase = phases[kind][kinds[:number].count(kind) % len(phases[kind])]
        if kind == "search" and archive.state == "B":  # B's clean reference has the index: index on the way to B
            archive.put("A")
            assert run(archive.site.args("build", "--no-search")).returncode == 0
            archive.state, archive.search = "A", False
        for attempt in range(4):
            target = other(archive.state)
            old, new = (archive.state, archive.search), (target, kind == "search")
            moment = kill_moment(archive, kind, phase, rng) * 0.7**attempt
            context = f"kill {number} ({kind} build to {target}, {phase} at {moment:.2f} s)"
            archive.put(target)
            extra = {"clean": ["--clean", "--no-search"], "search": [], "incremental": ["--no-search"]}[kind]
            process = start(archive.site.args("build", *extra))
            try:
                process.wait(moment)
            except subprocess.TimeoutExpired:
                process.kill()  # the build's own process only, as `kill -9` or the kernel's OOM killer would
            _, err = process.communicate(timeout=30)
            assert "Traceback" not in err, f"{context}: {err}"
            if process.returncode == 0:  # it finished first: the next attempt kills sooner
                archive.state, archive.search = new
                continue
            assert process.returncode == -signal.SIGKILL, f"{context}: exit {process.returncode}: {err}"
            assert_no_orphans(process.pid, context)
            assert_whole(archive, old, new, context)
            began = time.monotonic()
            recovery = run(archive.site.args("build", *([] if kind == "search" else ["--no-search"])))
            assert recovery.returncode == 0, f"{context}: the next build failed: {recovery.stderr}"
            assert "Traceback" not in recovery.stderr, recovery.stderr
            assert time.monotonic() - began < RECOVERY_SECONDS
            assert_site(archive, target, new[1], f"{context}, then a plain build")
            assert not list(archive.site.out.parent.glob(".public.publish/scratch-*")), "scratch is removed"
            archive.state, archive.search = new
            killed.append(phase)
            break
        else:
            pytest.fail(f"kill {number}: the {kind} build ended before each of four kills")
    assert len(killed) == KILLS and set(killed) == {*PHASES, "search"}, killed


@pytest.mark.parametrize("whole_session", [True, False], ids=["ctrl+c in a terminal", "kill -INT"])
def test_ctrl_c_at_any_moment_says_so_exits_130_and_leaves_public_as_it_was(archive, whole_session):
    rng = random.Random(SEED + whole_session)
    for attempt in range(2):
        old, target = archive.state, other(archive.state)
        context = f"Ctrl+C {attempt + 1}"
        archive.put(target)
        timing = archive.timing[f"{old} to {target}"]
        process = start(archive.site.args("build", "--no-search"))
        # From the moment the build holds the output's lock (the program has loaded) to about its end.
        wait_for_lock(process, archive.site.out, RECOVERY_SECONDS)
        time.sleep(rng.uniform(0, 0.9) * (timing["whole"][1] - timing["startup"][1]))
        if whole_session:
            os.killpg(process.pid, signal.SIGINT)
        else:
            process.send_signal(signal.SIGINT)
        began = time.monotonic()
        _, err = process.communicate(timeout=30)
        assert time.monotonic() - began < 10, f"{context}: Ctrl+C took {time.monotonic() - began:.1f} s to end it"
        assert "Traceback" not in err, f"{context}: {err}"
        if process.returncode == 0:  # it finished first
            assert_site(archive, target, False, context)
        else:
            assert process.returncode == 130, f"{context}: exit {process.returncode}: {err}"
            assert err.splitlines() == [f"interrupted: {archive.site.out} was left as it was"], err
            assert_site(archive, old, archive.search, f"{context}: public/ was left as it was")
            assert_no_orphans(process.pid, context)
            recovery = run(archive.site.args("build", "--no-search"))
            assert recovery.returncode == 0, recovery.stderr
            assert_site(archive, target, False, f"{context}, then a plain build")
        archive.state, archive.search = target, False


@contextmanager
def typo(archive: Archive) -> Iterator[Path]:
    """Make the README's own mistake in one item: `titel:` for `title:`; undo it after."""
    path = next(
        p
        for p in sorted(archive.site.content.rglob("*.md"))
        if p.relative_to(archive.site.content).as_posix() not in archive.states["A"] and not p.name.startswith("_")
    )
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("\ntitle:", "\ntitel:", 1), encoding="utf-8")
    try:
        yield path
    finally:
        path.write_text(text, encoding="utf-8")


@pytest.mark.parametrize("command", ["build", "check"])
def test_a_content_error_in_the_archive_is_reported_promptly(archive, command):
    with typo(archive) as path:
        before = archive.published()
        began = time.monotonic()
        done = run(archive.site.args(command), timeout=PROMPT_SECONDS)
        seconds = time.monotonic() - began
    assert done.returncode == 1, done.stdout + done.stderr
    assert f"{path}:2: unknown front-matter key `titel`" in done.stderr, done.stderr
    assert "Traceback" not in done.stderr
    assert seconds < PROMPT_SECONDS
    assert archive.published() == before


class Lines:
    """Every line a running process prints, from both its outputs, as they come."""

    def __init__(self, process: subprocess.Popen[str]) -> None:
        self.lines: queue.Queue[str] = queue.Queue()
        self.seen: list[str] = []
        for stream in (process.stdout, process.stderr):
            threading.Thread(target=self._read, args=(stream,), daemon=True).start()

    def _read(self, stream: object) -> None:
        for line in stream:  # type: ignore[attr-defined]
            self.lines.put(line.rstrip("\n"))

    def wait_for(self, wanted: Callable[[str], bool], seconds: float, what: str) -> str:
        """Return the first new line that is `wanted`, failing after `seconds`."""
        deadline = time.monotonic() + seconds
        while (left := deadline - time.monotonic()) > 0:
            try:
                line = self.lines.get(timeout=left)
            except queue.Empty:
                break
            self.seen.append(line)
            assert "Traceback" not in line, "\n".join(self.seen)
            if wanted(line):
                return line
        raise AssertionError(f"serve did not say {what} within {seconds} s; it said: {self.seen[-10:]}")


def test_serve_reports_a_saved_mistake_promptly_and_rebuilds_once_it_is_fixed(archive):
    archive.put(archive.state)
    process = start(archive.site.args("serve", "--port", "0", "--no-search"))
    try:
        lines = Lines(process)
        lines.wait_for(lambda line: line.startswith("serving http://127.0.0.1:"), PROMPT_SECONDS, "that it serves")
        for _ in range(2):
            with typo(archive) as path:
                lines.wait_for(
                    lambda line: f"{path.name}:2: unknown front-matter key `titel`" in line,
                    PROMPT_SECONDS,
                    "the mistake",
                )
            lines.wait_for(lambda line: line.startswith("built "), PROMPT_SECONDS, "that it built the fix")
        os.killpg(process.pid, signal.SIGINT)
        assert process.wait(10) == 130
        stopped = f"stopped serving; {archive.site.out} holds the last preview build"
        lines.wait_for(lambda line: line == stopped, 5, "that it stopped")
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


# -- a full file system, TMPDIR on another one: a small tmpfs each (root only) ------------------------------


@contextmanager
def tmpfs(path: Path, size: str) -> Iterator[Path]:
    """Mount a tmpfs of `size` at `path` for the duration; skip (or fail in CI) when not root."""
    if os.geteuid() != 0:
        missing("mounting a tmpfs needs root")
    path.mkdir(parents=True, exist_ok=True)
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)], capture_output=True, text=True, check=False
    )
    if mounted.returncode != 0:
        missing(f"cannot mount a tmpfs: {mounted.stderr.strip()}")
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], check=False)


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A generated archive of 60 items (a content folder), for the tests that need a small disk."""
    content = tmp_path_factory.mktemp("small") / "content"
    done = run([sys.executable, str(ROOT / "bench" / "generate.py"), str(content), "--n", "60", "--seed", str(SEED)])
    assert done.returncode == 0, done.stderr
    return content


def test_a_full_disk_stops_the_build_with_a_clear_message_and_public_intact(small, tmp_path):
    content = tmp_path / "content"
    shutil.copytree(small, content)
    hasher = Hasher()
    # Room for two builds with their caches: the search index's shards each carry Pagefind's scripts
    # and WebAssembly, and the build cache keeps a copy of every shard.
    with tmpfs(tmp_path / "disk", "96m") as disk:
        site = Site(content, disk / "public", disk / "cache")
        first = run(site.args("build"))
        assert first.returncode == 0, first.stderr
        for path in sorted(content.rglob("*.md"))[::2]:  # new pages to write: new space needed
            path.write_text(path.read_text(encoding="utf-8") + "\nEdited while the disk was full.\n", encoding="utf-8")
        before = hasher(site.out)
        filler = fill(disk, 64 * 1024)
        full = run(site.args("build"))
        assert full.returncode == 1, full.stdout + full.stderr
        assert "Traceback" not in full.stderr, full.stderr
        assert "No space left on device" in full.stderr or "database or disk is full" in full.stderr, full.stderr
        assert "(free some space on that disk, then build again)" in full.stderr, full.stderr
        assert full.stderr.splitlines()[-1] == f"the command stopped; {site.out} was left as it was.", full.stderr
        assert hasher(site.out) == before, "public/ is as it was"
        filler.unlink()
        again = run(site.args("build"))
        assert again.returncode == 0, again.stderr
        # On the same file system: Pagefind numbers pages in the order the file system lists them.
        clean = Site(content, disk / "clean" / "public", disk / "clean" / "cache")
        assert run(clean.args("build", "--clean")).returncode == 0
        assert hasher(site.out) == hasher(clean.out), "the build after space was freed makes the clean build"


def fill(disk: Path, leave: int) -> Path:
    """Take all the space of a file system but `leave` bytes, with one file; return it."""
    free = os.statvfs(disk)
    filler = disk / "filler"
    with filler.open("wb") as handle:
        os.posix_fallocate(handle.fileno(), 0, free.f_bavail * free.f_frsize - leave)
    return filler


def test_new_on_a_full_disk_says_so_and_leaves_no_empty_item(small, tmp_path):
    with tmpfs(tmp_path / "disk", "8m") as disk:
        content = disk / "content"
        shutil.copytree(small, content)
        before = sorted(content.rglob("*"))
        fill(disk, 0)
        done = run(
            [
                sys.executable,
                str(ROOT / "build.py"),
                "new",
                "A headline long enough to need a page",
                "--section",
                "events",
                "--content",
                str(content),
                "--templates",
                str(TEMPLATES),
            ]
        )
        assert done.returncode == 1, done.stdout + done.stderr
        assert "Traceback" not in done.stderr, done.stderr
        assert "No space left on device (free some space on that disk, then build again)" in done.stderr
        assert done.stderr.splitlines()[-1] == "the command stopped; no item was written."
        assert sorted(content.rglob("*")) == before, "no empty or half-written item is left"


def test_tmpdir_on_another_file_system_than_the_output_builds_with_search(small, tmp_path):
    content = tmp_path / "content"
    shutil.copytree(small, content)
    site = Site(content, tmp_path / "site" / "public", tmp_path / "site" / "cache")
    with tmpfs(tmp_path / "tmp", "64m") as tmp:
        site.out.parent.mkdir()
        assert os.stat(tmp).st_dev != os.stat(site.out.parent).st_dev
        done = run(site.args("build"), TMPDIR=str(tmp))
        assert done.returncode == 0, done.stderr
        assert "Traceback" not in done.stderr
        assert not list(tmp.iterdir()), "nothing is left in TMPDIR"
    assert (site.out / BUNDLE / "shards.json").is_file()
    assert list((site.out / BUNDLE).glob("*/*/pagefind-entry.json")), "every shard has its index"
    hasher = Hasher()
    plain = Site(content, tmp_path / "plain" / "public", tmp_path / "plain" / "cache")
    assert run(plain.args("build")).returncode == 0
    assert hasher(site.out) == hasher(plain.out), "the same site as with TMPDIR beside the output"
