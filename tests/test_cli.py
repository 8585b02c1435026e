"""The two entry points, `python build.py` and `csto-site`, on a copy of the project."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from helpers.site import ROOT, SAMPLE, TEMPLATES, cli_args, copy_fixture, copy_project, generate_archive, snapshot, tree
from helpers.tools import interruptible, require_tool, wait_for_lock

from csto_site import cli
from csto_site.util.stopping import stopped_as_by_ctrl_c

TIMEOUT = 120


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A copy of the project as a press secretary has it: content/, templates/, static/ and build.py."""
    return copy_project(tmp_path / "project")


def console_script() -> str:
    """Return the installed `csto-site` command, next to this Python if it is not on PATH."""
    beside = Path(sys.executable).with_name("csto-site")
    if beside.is_file():
        return str(beside)
    return require_tool("csto-site", "the csto-site command is not installed (pip install -e .)")


def run(args: list[str], cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=TIMEOUT, check=False)


def same_tree(a: Path, b: Path) -> list[str]:
    """Return the files that differ between two folders (missing on one side or different bytes)."""
    left = {p.relative_to(a).as_posix() for p in a.rglob("*") if p.is_file()}
    right = {p.relative_to(b).as_posix() for p in b.rglob("*") if p.is_file()}
    differ = sorted(left ^ right)
    for rel in sorted(left & right):
        one, other = (a / rel).read_bytes(), (b / rel).read_bytes()
        if one != other:
            differ.append(rel)
    return differ


def assert_one_summary_line(result: subprocess.CompletedProcess[str]) -> None:
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stderr == ""
    lines = result.stdout.splitlines()
    assert len(lines) == 1, result.stdout
    assert lines[0].startswith("built 10 items"), lines[0]


def test_build_py_and_csto_site_build_the_same_site(project):
    by_script = run([sys.executable, "build.py"], project)
    assert_one_summary_line(by_script)
    assert (project / "public/index.html").is_file()
    assert (project / "public/ru/index.html").is_file()
    shutil.move(project / "public", project / "by-script")

    by_command = run([console_script(), "build"], project)
    assert_one_summary_line(by_command)
    assert same_tree(project / "by-script", project / "public") == []


def test_build_py_without_the_set_up_says_what_to_run(project):
    # -S: a Python that does not see the installed program, as one without the project's .venv active.
    bare = {name: value for name, value in os.environ.items() if name != "PYTHONPATH"}
    result = run([sys.executable, "-S", "build.py"], project, bare)
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr
    assert result.stderr.splitlines() == [
        f"csto_site is not installed for this Python ({sys.executable}): activate the project's .venv, "
        "or run `python -m pip install -e .` in this folder first"
    ]
    assert sorted(p.name for p in project.iterdir()) == ["build.py", "content", "static", "templates"]


def test_build_py_takes_options(project):
    result = run([sys.executable, "build.py", "--quiet", "--out", "elsewhere"], project)
    assert_one_summary_line(result)
    assert (project / "elsewhere/index.html").is_file()
    assert not (project / "public").exists()


def test_a_build_with_nothing_to_do_loads_neither_the_pipeline_nor_its_libraries(project):
    assert_one_summary_line(run([sys.executable, "build.py", "--quiet"], project))
    again = run([sys.executable, "-X", "importtime", "build.py", "--quiet"], project)
    assert again.returncode == 0, again.stderr
    assert " 0 files written" in again.stdout, again.stdout
    imported = {line.rsplit("|", 1)[1].strip() for line in again.stderr.splitlines() if line.startswith("import time:")}
    assert "csto_site.publish.run" in imported
    assert not imported & {"csto_site.build.pipeline", "csto_site.output.render", "jinja2", "markdown", "rich", "yaml"}


def test_check_writes_nothing(project):
    before = snapshot(project)
    result = run([console_script(), "check"], project)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("checked 10 items"), result.stdout
    assert snapshot(project) == before


def test_check_fails_on_bad_content_and_still_writes_nothing(project):
    (project / "content/csto-news/broken.md").write_text("---\ntitle: Broken\n---\n", encoding="utf-8")
    before = snapshot(project)
    result = run([console_script(), "check"], project)
    assert result.returncode == 1
    assert "csto-news/broken.md:1: missing `date`" in result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    assert snapshot(project) == before


@pytest.mark.parametrize("args", [["build", "--no-such-option"], ["frobnicate"], ["build", "--content"]])
def test_usage_errors_exit_2(args, capsys):
    assert cli.main(args) == 2
    out, err = capsys.readouterr()
    assert "usage:" in err
    assert "Traceback" not in out + err


@pytest.mark.parametrize(
    ("args", "error"),
    [
        (
            ["build", "--jobs", "abc"],
            "csto-site build: error: argument --jobs: 'abc' is not a whole number of 1 or more",
        ),
        (["build", "--jobs", "0"], "csto-site build: error: argument --jobs: '0' is not a whole number of 1 or more"),
        (
            ["serve", "--port", "99999"],
            "csto-site serve: error: argument --port: '99999' is not a whole number from 0 to 65535",
        ),
        (
            ["serve", "--port", "http"],
            "csto-site serve: error: argument --port: 'http' is not a whole number from 0 to 65535",
        ),
        (
            ["check", "--timeout", "soon"],
            "csto-site check: error: argument --timeout: 'soon' is not a number of seconds from 0.1 to 600",
        ),
        (
            ["check", "--timeout", "0"],
            "csto-site check: error: argument --timeout: '0' is not a number of seconds from 0.1 to 600",
        ),
    ],
)
def test_a_number_out_of_its_range_is_a_usage_error_saying_what_is_wanted(args, error, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert cli.main(args) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err.splitlines()[-1] == error
    assert list(tmp_path.iterdir()) == []


def not_here(folder: str) -> str:
    """Return the problem a command prints for a folder of the project that is not in the working folder."""
    return (
        f"{folder}: there is no such folder (run this in the project folder, "
        f"the one with content/, templates/ and static/, or give --{folder} DIR)"
    )


@pytest.mark.parametrize(
    ("args", "missing"),
    [
        (["build"], ["content", "templates", "static"]),
        (["check"], ["content", "templates", "static"]),
        (["serve", "--port", "0"], ["content", "templates", "static"]),
        (["new", "A title", "--section", "csto-news"], ["content", "templates"]),
        (["build", "--content", str(SAMPLE), "--static", str(ROOT / "static")], ["templates"]),
    ],
)
def test_outside_the_project_folder_every_command_says_so_first_and_makes_nothing(
    args, missing, tmp_path, monkeypatch, capsys
):
    monkeypatch.chdir(tmp_path)
    assert cli.main(args) == 1
    out, err = capsys.readouterr()
    assert out == ""  # serve never says it is serving
    count = f"{len(missing)} problem{'s' * (len(missing) > 1)} found; nothing was written."
    assert err.splitlines() == [*map(not_here, missing), count]
    assert list(tmp_path.iterdir()) == []  # no build cache, no output


def test_usage_error_of_the_installed_command(project):
    before = snapshot(project)
    result = run([console_script(), "build", "--no-such-option"], project)
    assert result.returncode == 2
    assert "usage:" in result.stderr
    assert snapshot(project) == before


def test_help_exits_0(capsys):
    assert cli.main(["--help"]) == 0
    assert "usage:" in capsys.readouterr().out


def test_in_process_build_summary(tmp_path, capsys):
    content = copy_fixture(tmp_path / "content", SAMPLE)  # a build records its addresses in its content folder
    assert cli.main(cli_args("build", content, tmp_path / "out", "--quiet")) == 0
    out, err = capsys.readouterr()
    assert err == ""
    assert len(out.splitlines()) == 1 and out.startswith("built 10 items"), out


def test_quiet_prints_the_warnings_too_as_its_help_says(
    project: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (project / "content/csto-news/_index.ru.md").unlink()
    monkeypatch.chdir(project)

    assert cli.main(["build", "--quiet", "--no-search"]) == 0
    out, err = capsys.readouterr()
    assert cli.main(["build", "--help"]) == 0
    helped = " ".join(capsys.readouterr().out.split())

    assert out.startswith("built 10 items") and len(out.splitlines()) == 1, out
    assert "content/csto-news/_index.md: warning: the section has no _index.ru.md" in err, err
    assert "--quiet print only the summary line, warnings and problems" in helped, helped


def test_serve_builds_with_the_search_index(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from csto_site.serve import server

    seen = []
    monkeypatch.setattr(server, "serve", lambda options, port, reporter: seen.append(options) or 0)
    assert cli.main(cli_args("serve", SAMPLE, tmp_path / "public")) == 0
    assert [(o.search, o.record) for o in seen] == [(True, False)]  # a preview records nothing
    built = cli.options_from(cli.parser().parse_args(cli_args("build", SAMPLE, tmp_path / "public")))
    assert built.record


@pytest.mark.parametrize("blocked", ["--out", "--cache"])
def test_a_folder_the_build_cannot_make_is_named_with_what_to_do_not_a_traceback(blocked, tmp_path, capsys):
    stands = tmp_path / "a-file"
    stands.write_text("a file where a folder must be\n", encoding="utf-8")
    folders = {"--out": tmp_path / "public", "--cache": tmp_path / "cache", blocked: stands / "inside"}
    status = cli.main(cli_args("build", SAMPLE, folders["--out"], "--cache", str(folders["--cache"])))
    out, err = capsys.readouterr()
    assert status == 1
    assert out == ""
    first, last = err.splitlines()
    assert first.startswith(str(stands)) and first.endswith(
        ": Not a directory (a file stands where a folder must be: move it, or choose another --out or --cache)"
    ), err
    assert last == f"the command stopped; {folders['--out']} was left as it was."


def test_serve_on_a_port_in_use_says_so_at_once_and_builds_nothing(tmp_path, capsys):
    out = tmp_path / "public"
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        status = cli.main(cli_args("serve", SAMPLE, out, "--port", str(port)))
    out_text, err = capsys.readouterr()
    assert status == 2
    assert out_text == ""
    assert err.startswith(f"csto-site serve: error: cannot listen on 127.0.0.1:{port}: "), err
    assert err.endswith("; try another --port\n"), err
    assert not out.exists()  # nothing was built first


def start_serving(content: Path, out: Path, templates: Path = TEMPLATES) -> subprocess.Popen[str]:
    """Start `csto-site serve` in a process of its own and wait until it serves its first build."""
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    process = subprocess.Popen(
        [
            sys.executable,
            str(ROOT / "build.py"),
            *cli_args("serve", content, out, "--port", "0", "--no-search", templates=templates),
        ],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=interruptible,
    )
    assert process.stdout is not None
    lines = [process.stdout.readline() for _ in range(2)]
    assert lines[1].startswith("serving http://127.0.0.1:"), lines
    return process


@pytest.mark.parametrize("number", [signal.SIGINT, signal.SIGTERM])
def test_stopping_serve_says_it_stopped_and_what_public_holds(tmp_path, number):
    # It said "interrupted: public was left as it was", as for a failed build, on every stop.
    out = tmp_path / "public"
    process = start_serving(SAMPLE, out)
    try:
        process.send_signal(number)
        rest, err = process.communicate(timeout=TIMEOUT)
    finally:
        process.kill()
    assert (process.returncode, rest, err) == (
        128 + number,
        f"stopped serving; {out} holds the last preview build\n",
        "",
    )


def test_stopping_serve_in_a_rebuild_says_the_build_was_interrupted(tmp_path, project):
    content, out = tmp_path / "content", tmp_path / "public"
    generate_archive(content, 150)
    process = start_serving(content, out, project / "templates")
    try:
        base = project / "templates" / "base.html"
        base.write_text(base.read_text(encoding="utf-8").replace("</body>", "<p>Edited.</p></body>"), encoding="utf-8")
        wait_for_lock(process, out, TIMEOUT)  # the rebuild of every page has begun
        process.send_signal(signal.SIGINT)
        _, err = process.communicate(timeout=TIMEOUT)
    finally:
        process.kill()
    assert (process.returncode, err) == (130, f"interrupted the build: {out} holds the last preview build\n")


def test_the_program_ends_with_its_output_flushed_and_a_profiler_still_reports(project: Path, tmp_path: Path) -> None:
    # build.py ends the process without Python's teardown: what it printed must still reach a pipe, in full,
    # also what no one flushed on the way (argparse's help; the reporter flushes its own lines).
    buffered = {name: value for name, value in os.environ.items() if name != "PYTHONUNBUFFERED"}  # as for a user
    helped = run([sys.executable, "build.py", "--help"], project, buffered)
    assert helped.returncode == 0, helped.stderr
    assert helped.stdout.startswith("usage:") and "--no-search" in helped.stdout
    # Under a profiler it ends as Python does, or the profiler would never write its report.
    report = tmp_path / "profile.out"
    profiled = run([sys.executable, "-m", "cProfile", "-o", str(report), "build.py", "--quiet"], project)
    assert profiled.returncode == 0, profiled.stderr
    assert report.stat().st_size > 0


GIVE_OUT = "(give --out a folder of its own, such as public)"
SWAPS = "a build swaps its output folder whole for the new site, and removes what it finds where the site writes"


@pytest.mark.parametrize(
    ("out", "reason"),
    [
        (".", "is the project folder"),
        ("", "is the project folder"),
        ("..", "holds the project folder ({cwd})"),
        ("/", "is the root of the file system"),
        ("content", "is the content folder"),
        ("templates", "is the templates folder"),
        ("static", "is the static files folder"),
        (".csto-cache", "is the build cache"),
        ("content/csto-news/site", "lies inside the content folder (content)"),
        ("static/site", "lies inside the static files folder (static)"),
        ("{home}", "is your home folder"),
        ("{home}/..", "holds your home folder ({home})"),
        ("../in-a-repository", "holds a git repository (.git)"),
    ],
)
@pytest.mark.parametrize("command", ["build", "check", "serve"])
def test_an_output_folder_holding_the_users_files_is_refused_before_anything_is_read_or_written(
    command, out, reason, project, tmp_path, monkeypatch, capsys
):
    (tmp_path / "in-a-repository" / ".git").mkdir(parents=True)
    (tmp_path / "in-a-repository" / "notes.txt").write_text("mine\n", encoding="utf-8")
    home = tmp_path / "home" / "user"
    (home / "Documents").mkdir(parents=True)
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.chdir(project)
    out = out.format(home=home)
    before = snapshot(tmp_path)
    assert cli.main([command, "--out", out, "--port", "0"] if command == "serve" else [command, "--out", out]) == 2
    shown, err = capsys.readouterr()
    assert shown == ""
    assert err.splitlines() == [
        f"{Path(out)}: --out {reason.format(cwd=project, home=home)}: {SWAPS} {GIVE_OUT}",
        "1 problem found; nothing was written.",
    ]
    assert snapshot(tmp_path) == before


@pytest.mark.parametrize(
    ("cache", "reason"),
    [
        ("static", "is the static files folder (static): what is in it is published (the cache holds drafts' text)"),
        ("content", "is the content folder (content): what is in it is committed with the content"),
        ("templates/cache", "lies inside the templates folder (templates): it holds only templates"),
    ],
)
def test_a_cache_folder_that_would_be_published_or_committed_is_refused(cache, reason, project, monkeypatch, capsys):
    monkeypatch.chdir(project)
    before = snapshot(project)
    assert cli.main(["build", "--cache", cache]) == 2
    assert capsys.readouterr().err.splitlines() == [
        f"{cache}: --cache {reason} (leave --cache out, to keep it in .csto-cache)",
        "1 problem found; nothing was written.",
    ]
    assert snapshot(project) == before


def test_a_folder_of_files_no_build_made_is_refused_but_a_site_of_ours_and_files_placed_later_are_kept(
    project, tmp_path, monkeypatch, capsys
):
    monkeypatch.chdir(project)
    # A folder of someone's files, holding a page of the site saved from a browser.
    folder = tmp_path / "someones"
    (folder / "Downloads").mkdir(parents=True)
    (folder / "Documents").mkdir()
    (folder / "Documents" / "letter.txt").write_text("mine\n", encoding="utf-8")
    assert cli.main(["build", "--quiet", "--out", "new-folder"]) == 0
    shutil.copy(project / "new-folder" / "index.html", folder / "Downloads" / "saved.html")
    capsys.readouterr()
    before = snapshot(tmp_path)
    assert cli.main(["build", "--out", str(folder)]) == 2
    assert capsys.readouterr().err.splitlines() == [
        f"{folder}: --out holds files, and is not a site this program built (no record of a build beside it, "
        f"no home page of ours): {SWAPS} (give --out a new or empty folder, or move these files out of it; "
        "files to publish as they are go into it after its first build)",
        "1 problem found; nothing was written.",
    ]
    assert snapshot(tmp_path) == before
    # A file placed by hand after the first build is kept; a site of ours whose record was deleted is built again.
    (project / "new-folder" / "google123.html").write_text("google-site-verification\n", encoding="utf-8")
    shutil.rmtree(project / ".new-folder.publish")
    assert cli.main(["build", "--quiet", "--out", "new-folder"]) == 0
    assert (project / "new-folder" / "google123.html").read_text(encoding="utf-8") == "google-site-verification\n"
    # An empty folder is a folder of its own.
    (project / "empty").mkdir()
    assert cli.main(["build", "--quiet", "--out", "empty"]) == 0
    assert (project / "empty" / "index.html").is_file()


def session_pids(session: int) -> list[int]:
    """Return the live processes of a session (a process started with `start_new_session` and its workers)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (FileNotFoundError, ProcessLookupError):
            continue
        if fields[0] != "Z" and int(fields[3]) == session:
            found.append(int(stat.parent.name))
    return found


@pytest.mark.parametrize(
    ("number", "whole_session"),
    [(signal.SIGTERM, True), (signal.SIGHUP, False)],
    ids=["timeout, a CI cancellation or systemd: SIGTERM to every process", "kill -HUP to the build alone"],
)
def test_sigterm_and_sighup_stop_a_build_as_ctrl_c_does(tmp_path, number, whole_session):
    # They ended the build at once without a word (exit 143 or 129): no message, and no clean stop.
    content, out = tmp_path / "content", tmp_path / "public"
    generate_archive(content, 150)
    build = [sys.executable, str(ROOT / "build.py"), *cli_args("build", content, out, "--no-search")]
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    assert run(build, tmp_path, env).returncode == 0
    before = tree(out)
    item = next(p for p in sorted(content.rglob("*.md")) if not p.name.startswith("_"))
    item.write_text(item.read_text(encoding="utf-8").replace("\ntitle: ", "\ntitle: Edited ", 1), encoding="utf-8")
    process = subprocess.Popen(
        [*build, "--clean"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True
    )
    try:
        wait_for_lock(process, out, TIMEOUT)
        time.sleep(0.2)  # its workers are rendering (a clean build of 150 items takes seconds)
        if whole_session:
            os.killpg(process.pid, number)
        else:
            process.send_signal(number)
        _, err = process.communicate(timeout=30)
    finally:
        process.kill()
    assert (process.returncode, err) == (128 + number, f"interrupted: {out} was left as it was\n")
    assert not session_pids(process.pid), "the build's workers were stopped"
    assert tree(out) == before
    again = run(build, tmp_path, env)
    assert again.returncode == 0, again.stderr
    fresh = tmp_path / "fresh"
    clean = run([*build[:2], *cli_args("build", content, fresh, "--no-search")], tmp_path, env)
    assert clean.returncode == 0, clean.stderr
    assert same_tree(out, fresh) == []


def test_a_stop_signal_ignored_when_the_command_starts_stays_ignored_and_handlers_are_put_back():
    # `nohup csto-site build` must outlive its terminal: SIGHUP stays ignored.
    before = signal.signal(signal.SIGHUP, signal.SIG_IGN)
    try:
        with stopped_as_by_ctrl_c() as received:
            assert signal.getsignal(signal.SIGHUP) == signal.SIG_IGN
            with pytest.raises(KeyboardInterrupt):
                os.kill(os.getpid(), signal.SIGTERM)
                time.sleep(5)  # the signal is handled before this ends
            assert received == [signal.SIGTERM]
        assert signal.getsignal(signal.SIGTERM) == signal.SIG_DFL
        assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
    finally:
        signal.signal(signal.SIGHUP, before)
