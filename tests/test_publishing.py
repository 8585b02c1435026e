"""Publishing from a commit: the pre-commit hook, deploy/publish.sh (release folders and an atomic symlink
switch, against a real nginx) and the example CI workflow."""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from urllib.parse import quote

import pytest
import yaml
from helpers.nginx import Nginx, running_nginx
from helpers.site import ROOT, STATIC, TEMPLATES, build_into, copy_fixture
from helpers.tools import missing, require_tool

HOOKS = ROOT / ".pre-commit-hooks.yaml"
PUBLISH = ROOT / "deploy" / "publish.sh"
WORKFLOW = ROOT / "deploy" / "github-actions.yml"
ITEM = "alpha/2024/2024-03-12-morning-briefing.md"
ITEM_URL = "/news/2024/03/12/morning-briefing-held/"
ALIAS = "/old/news/morning-briefing.php"


def hook() -> dict[str, object]:
    """Return the one hook the repository offers."""
    hooks = yaml.safe_load(HOOKS.read_text(encoding="utf-8"))
    assert [h["id"] for h in hooks] == ["csto-site-check"]
    return hooks[0]


def run_hook_entry(workdir: Path) -> subprocess.CompletedProcess[str]:
    """Run the hook's entry in a content repository the way pre-commit does: from its root, no file names."""
    assert hook()["pass_filenames"] is False
    command = shlex.split(str(hook()["entry"]))
    scripts = str(Path(sys.executable).parent)
    found = shutil.which(command[0], path=scripts + os.pathsep + os.environ.get("PATH", ""))
    assert found, f"{command[0]} is not installed: pip install -e ."
    return subprocess.run([found, *command[1:]], cwd=workdir, capture_output=True, text=True, timeout=120)


def content_repository(workdir: Path) -> Path:
    """Lay out a content repository as the hook expects it: content/, templates/, static/."""
    copy_fixture(workdir / "content")
    shutil.copytree(TEMPLATES, workdir / "templates")
    shutil.copytree(STATIC, workdir / "static")
    return workdir


def test_the_hook_definition_is_valid_for_pre_commit():
    try:
        import pre_commit  # noqa: F401  (only its presence matters: the check runs it as a command)
    except ImportError:
        missing("pre-commit is missing: pip install -e '.[test]'")
    checked = subprocess.run(
        [sys.executable, "-m", "pre_commit", "validate-manifest", str(HOOKS)], capture_output=True, text=True
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr


@pytest.mark.parametrize(
    ("path", "runs"),
    [
        ("content/csto-news/2024/2024-06-01-visit.md", True),
        ("content/officials.yaml", True),
        ("templates/item.html", True),
        ("static/style.css", True),
        ("README.md", False),
        ("src/csto_site/cli.py", False),
    ],
)
def test_the_hook_runs_when_content_templates_or_static_files_change(path, runs):
    assert bool(re.search(str(hook()["files"]), path)) is runs


def test_the_hook_passes_good_content(tmp_path):
    checked = run_hook_entry(content_repository(tmp_path))
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert not (tmp_path / "public").exists(), "a check writes nothing"


def test_the_hook_fails_on_a_broken_item_and_says_where(tmp_path):
    repository = content_repository(tmp_path)
    item = repository / "content" / ITEM
    item.write_text(
        item.read_text(encoding="utf-8").replace("officials: [Ivan Orlov]", "officials: [Ivan Orlof]"), encoding="utf-8"
    )
    line = item.read_text(encoding="utf-8").splitlines().index("officials: [Ivan Orlof]") + 1
    checked = run_hook_entry(repository)
    output = checked.stdout + checked.stderr
    assert checked.returncode == 1, output
    assert f'content/{ITEM}:{line}: unknown official "Ivan Orlof" (did you mean "Ivan Orlov"? If not,' in output
    assert "Traceback" not in output


def publish(public: Path, target: str, release: str, **env: str) -> subprocess.CompletedProcess[str]:
    """Run deploy/publish.sh with nginx's check and reload replaced unless given."""
    require_tool("rsync", "deploy/publish.sh needs rsync (apt-get install rsync)")
    environment = {**os.environ, "NGINX_TEST": "true", "NGINX_RELOAD": "true", "RELEASE": release, **env}
    return subprocess.run(
        ["sh", str(PUBLISH), str(public), target], capture_output=True, text=True, env=environment, timeout=120
    )


def built(tmp_path: Path, name: str, alias: bool = False, extra: str = "") -> Path:
    """Build the mini fixture into tmp_path/name, optionally with an old address or an extra sentence."""
    content = copy_fixture(tmp_path / f"{name}-content")
    item = content / ITEM
    text = item.read_text(encoding="utf-8")
    if alias:
        text = text.replace("\ntitle:", f'\naliases: ["{ALIAS}"]\ntitle:', 1)
    item.write_text(text + extra, encoding="utf-8")
    build_into(content, tmp_path / name, search=False)
    return tmp_path / name


def test_publish_switches_to_a_new_release_and_links_what_did_not_change(tmp_path):
    base = tmp_path / "srv"
    first, second = built(tmp_path, "one"), built(tmp_path, "two", extra="\nOne more sentence.\n")
    done = publish(first, str(base), "r1")
    assert done.returncode == 0, done.stderr
    assert os.readlink(base / "current") == "releases/r1"
    done = publish(second, str(base), "r2")
    assert done.returncode == 0, done.stderr
    assert os.readlink(base / "current") == "releases/r2"
    assert "published release r2" in done.stdout
    r1, r2 = base / "releases" / "r1", base / "releases" / "r2"
    files = sorted(p.relative_to(second).as_posix() for p in second.rglob("*") if p.is_file())
    assert files == sorted(p.relative_to(r2).as_posix() for p in r2.rglob("*") if p.is_file())
    for rel in files:
        assert (r2 / rel).read_bytes() == (second / rel).read_bytes(), rel
    unchanged = "officials/index.html"
    changed = ITEM_URL.lstrip("/") + "index.html"
    assert (r1 / unchanged).stat().st_ino == (r2 / unchanged).stat().st_ino, "unchanged files are hard links"
    assert (r1 / changed).stat().st_ino != (r2 / changed).stat().st_ino
    assert (r1 / changed).read_bytes() == (first / changed).read_bytes(), "the old release is untouched"


def test_publish_refuses_to_write_into_an_existing_release(tmp_path):
    base, public = tmp_path / "srv", built(tmp_path, "one")
    assert publish(public, str(base), "r1").returncode == 0
    again = publish(public, str(base), "r1")
    assert again.returncode != 0 and "File exists" in again.stderr
    assert os.readlink(base / "current") == "releases/r1"


def test_a_scheduled_publish_of_what_is_served_makes_no_release(tmp_path):
    base, public = tmp_path / "srv", built(tmp_path, "one")
    assert publish(public, str(base), "r1").returncode == 0
    same = publish(public, str(base), "r2", SKIP_UNCHANGED="1")
    assert (same.returncode, same.stdout) == (0, f"{public} is what {base}/current serves: nothing published\n")
    assert sorted(p.name for p in (base / "releases").iterdir()) == ["r1"]
    (public / "news" / "rss.xml").write_bytes(b"changed")  # one file differs: published
    changed = publish(public, str(base), "r2", SKIP_UNCHANGED="1")
    assert changed.returncode == 0 and "published release r2" in changed.stdout
    assert os.readlink(base / "current") == "releases/r2"


def test_publish_keeps_the_newest_releases(tmp_path):
    base, public = tmp_path / "srv", built(tmp_path, "one")
    for release in ("20240101T000000Z", "20240102T000000Z", "20240103T000000Z"):
        assert publish(public, str(base), release, KEEP="2").returncode == 0
    assert sorted(p.name for p in (base / "releases").iterdir()) == ["20240102T000000Z", "20240103T000000Z"]


def test_publish_keeps_five_releases_by_default_the_newest_by_name_and_always_the_one_published(tmp_path, monkeypatch):
    """KEEP's default is 5 (docs/publishing.md). "Newest", as the script has it, is the last in the order of the
    release folders' names (`ls | sort -r`), not the order they were published in: the default names are UTC
    times, so the two agree unless RELEASE names them otherwise. The release just published is kept whatever
    its name."""
    monkeypatch.delenv("KEEP", raising=False)
    base, public = tmp_path / "srv", built(tmp_path, "one")
    published = ["20240103T000000Z", "20240101T000000Z", "20240107T000000Z", "20240102T000000Z"]
    published += ["20240106T000000Z", "20240105T000000Z", "20240104T000000Z"]
    for release in published:
        done = publish(public, str(base), release)
        assert done.returncode == 0, done.stderr
    by_name = sorted(published, reverse=True)
    assert sorted((p.name for p in (base / "releases").iterdir()), reverse=True) == by_name[:5]
    assert os.readlink(base / "current") == "releases/20240104T000000Z"

    done = publish(public, str(base), "20231231T000000Z")  # a name older than all: published, and kept
    assert done.returncode == 0, done.stderr
    assert os.readlink(base / "current") == "releases/20231231T000000Z"
    kept = sorted((p.name for p in (base / "releases").iterdir()), reverse=True)
    assert kept == [*by_name[:5], "20231231T000000Z"]


def test_a_release_nginx_refuses_is_switched_back_and_removed(tmp_path):
    base, public = tmp_path / "srv", built(tmp_path, "one")
    assert publish(public, str(base), "r1").returncode == 0
    refused = publish(public, str(base), "r2", NGINX_TEST="false")
    assert refused.returncode == 1
    assert "switched back" in refused.stderr
    assert os.readlink(base / "current") == "releases/r1"
    assert not (base / "releases" / "r2").exists()


def test_publish_over_ssh_runs_the_same_steps_on_the_server(tmp_path):
    """A stand-in for ssh runs the server's side here, as ssh does: the words of the command joined and read by
    the server's shell. So the remote path (rsync over ssh, the script sent to the server's shell, a base folder
    whose name needs quoting) is exercised without a second machine."""
    calls = tmp_path / "ssh-calls"
    fake_ssh = tmp_path / "fake-ssh"
    fake_ssh.write_text(f"""#!/bin/sh
while :; do case $1 in -l|-p|-i|-o) shift 2 ;; -*) shift ;; *) break ;; esac; done
echo "$1" >> {shlex.quote(str(calls))}
shift
exec sh -c "$*"
""")
    fake_ssh.chmod(0o755)
    base, public = tmp_path / "web root's folder", built(tmp_path, "one")
    for release in ("r1", "r2"):
        done = publish(public, f"deploy@example.org:{base}", release, SSH=str(fake_ssh))
        assert done.returncode == 0, done.stderr
    assert os.readlink(base / "current") == "releases/r2"
    hosts = calls.read_text().split()
    assert len(hosts) == 6 and all(host.endswith("example.org") for host in hosts), hosts  # 3 calls a publish
    assert (base / "releases/r1/index.html").stat().st_ino == (base / "releases/r2/index.html").stat().st_ino


def redirect_after_reload(server: Nginx, path: str) -> str | None:
    """Poll until nginx redirects `path` five times in a row; return where to (None if it never settles).

    A reload takes effect a moment after the signal, and the old workers answer with the old
    configuration until they finish: one redirect alone does not prove the reload is complete.
    """
    deadline = time.monotonic() + 10
    streak = 0
    while time.monotonic() < deadline:
        answer = server.get(path)
        streak = streak + 1 if answer.status == 301 else 0
        if streak == 5:
            return answer.headers["Location"]
        time.sleep(0.05)
    return None


def test_publishing_to_a_served_folder_takes_effect_in_nginx_with_its_redirects(tmp_path):
    base = tmp_path / "srv"
    assert publish(built(tmp_path, "one"), str(base), "r1").returncode == 0
    (tmp_path / "nginx").mkdir()
    with running_nginx(tmp_path / "nginx", base / "current") as server:
        assert server.get(ITEM_URL).status == 200
        assert server.get(quote(ALIAS)).status == 404
        reload = {"NGINX_TEST": server.test_command, "NGINX_RELOAD": f"kill -HUP {server.process.pid}"}

        done = publish(built(tmp_path, "two", alias=True), str(base), "r2", **reload)
        assert done.returncode == 0, done.stderr
        assert redirect_after_reload(server, quote(ALIAS)) == ITEM_URL

        broken = built(tmp_path, "three")
        (broken / "nginx-redirects.conf").write_text("location = /x { return 301 /y }\n")
        refused = publish(broken, str(base), "r3", **reload)
        assert refused.returncode == 1 and "switched back" in refused.stderr
        assert os.readlink(base / "current") == "releases/r2"
        assert redirect_after_reload(server, quote(ALIAS)) == ITEM_URL


def test_the_deploy_scripts_pass_shellcheck():
    shellcheck = require_tool("shellcheck", "linting the deploy scripts needs shellcheck (apt-get install shellcheck)")
    checked = subprocess.run([shellcheck, str(PUBLISH)], capture_output=True, text=True)
    assert checked.returncode == 0, checked.stdout
    steps = yaml.safe_load(WORKFLOW.read_text(encoding="utf-8"))["jobs"]["publish"]["steps"]
    scripts = [step["run"] for step in steps if "run" in step]
    assert scripts
    for script in scripts:
        # GitHub runs each step with bash; ${{ ... }} is filled in before the shell sees it.
        checked = subprocess.run(
            [shellcheck, "--shell=bash", "-"],
            input=re.sub(r"\$\{\{[^}]*\}\}", "x", script),
            capture_output=True,
            text=True,
        )
        assert checked.returncode == 0, f"{script}\n{checked.stdout}"


def test_the_workflow_builds_incrementally_and_publishes_with_the_script():
    workflow = yaml.safe_load(WORKFLOW.read_text(encoding="utf-8"))
    assert workflow[True]["push"]["branches"] == ["main"]  # YAML 1.1 reads the key `on` as true
    assert workflow[True]["schedule"], "scheduled items appear without a push"
    steps = workflow["jobs"]["publish"]["steps"]
    cache = next(step for step in steps if step.get("uses", "").startswith("actions/cache@"))
    assert ".csto-cache" in cache["with"]["path"].split()
    runs = [step.get("run", "") for step in steps]
    build = next(i for i, run in enumerate(runs) if "csto-site build" in run)
    deploy = next(i for i, run in enumerate(runs) if "deploy/publish.sh public" in run)
    assert steps.index(cache) < build < deploy
    assert "github.event_name == 'schedule'" in steps[deploy]["env"]["SKIP_UNCHANGED"]


def test_the_pre_commit_configuration_to_copy_stops_a_commit_with_a_problem(tmp_path):
    try:
        import pre_commit  # noqa: F401  (only its presence matters: it runs as a command)
    except ImportError:
        missing("pre-commit is missing: pip install -e '.[test]'")
    repository = content_repository(tmp_path / "site")
    shutil.copy(ROOT / "deploy" / "pre-commit-config.yaml", repository / ".pre-commit-config.yaml")
    scripts = str(Path(sys.executable).parent)
    environment = {
        **os.environ,
        "PATH": scripts + os.pathsep + os.environ.get("PATH", ""),
        "PYTHONPATH": str(ROOT / "src"),
        "PRE_COMMIT_HOME": str(tmp_path / "pre-commit-home"),
        "GIT_AUTHOR_NAME": "Press",
        "GIT_AUTHOR_EMAIL": "press@example.org",
        "GIT_COMMITTER_NAME": "Press",
        "GIT_COMMITTER_EMAIL": "press@example.org",
    }

    def run(*command: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(command, cwd=repository, env=environment, capture_output=True, text=True, timeout=300)

    assert run("git", "init", "-q").returncode == 0
    assert run(sys.executable, "-m", "pre_commit", "install").returncode == 0
    run("git", "add", ".")
    clean = run("git", "commit", "-q", "-m", "The site")
    assert clean.returncode == 0, clean.stdout + clean.stderr
    item = repository / "content" / ITEM
    item.write_text(item.read_text(encoding="utf-8").replace("title:", "titel:", 1), encoding="utf-8")
    run("git", "add", ".")
    stopped = run("git", "commit", "-q", "-m", "A typo")
    assert stopped.returncode != 0
    assert f"content/{ITEM}:2: unknown front-matter key `titel`" in stopped.stdout + stopped.stderr
    assert run("git", "log", "--oneline").stdout.count("\n") == 1


def test_an_interrupted_copy_leaves_no_release_and_the_next_publish_removes_it(tmp_path):
    """A copy that stops halfway is never a release: not in releases/, not counted, and cleaned up next time."""
    base, public = tmp_path / "srv", built(tmp_path, "one")
    assert publish(public, str(base), "r1").returncode == 0
    stand_in = tmp_path / "bin"
    stand_in.mkdir()
    rsync = stand_in / "rsync"  # copies everything, then fails as an interrupted copy does
    rsync.write_text(f'#!/bin/sh\n{shutil.which("rsync")} "$@"\nexit 20\n', encoding="utf-8")
    rsync.chmod(0o755)
    failed = publish(public, str(base), "r2", PATH=f"{stand_in}{os.pathsep}{os.environ['PATH']}")
    assert failed.returncode != 0
    assert sorted(p.name for p in (base / "releases").iterdir() if not p.name.startswith(".")) == ["r1"]
    assert os.readlink(base / "current") == "releases/r1"
    assert publish(public, str(base), "r3").returncode == 0
    assert sorted(p.name for p in (base / "releases").iterdir()) == ["r1", "r3"]
    assert os.readlink(base / "current") == "releases/r3"


@pytest.mark.parametrize("again", ["r2", "r3"])
def test_a_publish_killed_outright_never_makes_the_next_one_fail(tmp_path, again):
    """kill -9 stops the script, not its rsync, which goes on writing into its partial folder. The next publish,
    of the same release or another, neither fails on that folder nor shares it; a later one removes it."""
    base, public = tmp_path / "srv", built(tmp_path, "one")
    assert publish(public, str(base), "r1").returncode == 0
    started, ended = tmp_path / "copied", tmp_path / "ended"
    stand_in = tmp_path / "bin"
    stand_in.mkdir()
    rsync = stand_in / "rsync"  # a copy that goes on writing for a while, as a large one does
    rsync.write_text(
        f"""#!/bin/sh
{shutil.which("rsync")} "$@" || exit
for destination; do :; done
touch {shlex.quote(str(started))}
i=0
while [ $i -lt 100000 ]; do
    command : 2>/dev/null > "$destination/news/busy-$((i % 1000))"; i=$((i + 1))
done
touch {shlex.quote(str(ended))}
""",
        encoding="utf-8",
    )
    rsync.chmod(0o755)
    environment = {**os.environ, "RELEASE": "r2", "PATH": f"{stand_in}{os.pathsep}{os.environ['PATH']}"}
    killed = subprocess.Popen(
        ["sh", str(PUBLISH), str(public), str(base)],
        env=environment,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        until(started.exists, "the copy of the publish to kill")
    finally:
        killed.kill()
        killed.wait()
    assert not ended.exists(), "the copy was still running when its publish was killed"

    retried = publish(public, str(base), again)
    assert retried.returncode == 0, retried.stderr
    assert os.readlink(base / "current") == f"releases/{again}"
    until(ended.exists, "the copy left running")
    release = base / "releases" / again
    assert {p.relative_to(release).as_posix(): p.read_bytes() for p in release.rglob("*") if p.is_file()} == {
        p.relative_to(public).as_posix(): p.read_bytes() for p in public.rglob("*") if p.is_file()
    }, "the release holds what was published, and nothing the copy left running wrote"
    later = publish(public, str(base), "r4")
    assert later.returncode == 0, later.stderr
    assert sorted(p.name for p in (base / "releases").iterdir()) == ["r1", again, "r4"]


def until(done: Callable[[], bool], what: str) -> None:
    """Wait up to a minute for `done` to hold."""
    deadline = time.monotonic() + 60
    while not done():
        assert time.monotonic() < deadline, f"waited a minute for {what}"
        time.sleep(0.02)
