"""Work spread over processes: results come back in order, and a failure comes back as itself."""

from __future__ import annotations

import multiprocessing
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

import pytest

from csto_site.util import parallel
from csto_site.util.errors import ContentError, Problem, WorkerDied
from csto_site.util.parallel import Background, WorkerError, fork_map

SRC = Path(__file__).resolve().parents[1] / "src"


def fail() -> None:
    """Raise a content problem, as a worker parsing a bad file would."""
    raise ContentError([Problem("item.md", 3, "a problem", "a hint")])


@pytest.mark.parametrize("forking", [True, False], ids=["forked", "in this process"])
def test_a_background_call_returns_its_result_or_raises_its_exception(forking, monkeypatch):
    monkeypatch.setattr(parallel, "can_fork", lambda: forking)
    call = Background(os.getpid)
    assert (call.result() != os.getpid()) is forking, "the call ran in another process only when forking"
    with pytest.raises(ContentError) as caught:
        Background(fail).result()
    assert list(caught.value.problems) == [Problem("item.md", 3, "a problem", "a hint")]


def within(seconds: float, call: Callable[[], object]) -> object:
    """Run `call` in a thread; fail (instead of hanging the suite) if it takes longer than `seconds`."""
    outcome: dict[str, object] = {}

    def run() -> None:
        try:
            outcome["value"] = call()
        except BaseException as exc:  # handed to the test thread, which raises it
            outcome["error"] = exc

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(seconds)
    assert not thread.is_alive(), f"still waiting after {seconds} s"
    if "error" in outcome:
        raise outcome["error"]  # type: ignore[misc]
    return outcome.get("value")


def big() -> bytes:
    """Return a result far larger than a pipe's buffer: its worker blocks until someone reads it."""
    return b"x" * 5_000_000


def test_a_background_call_whose_result_is_not_asked_for_is_stopped_on_close():
    call = Background(big)
    time.sleep(0.5)  # the worker is now blocked writing its result into the pipe
    within(10, call.close)
    assert call.worker is not None and not call.worker.is_alive()


def test_a_background_result_that_does_not_come_in_time_stops_the_call():
    call = Background(partial(time.sleep, 60))
    with pytest.raises(WorkerError, match=r"did not finish within 0\.5 s"):
        within(10, partial(call.result, timeout=0.5))
    assert call.worker is not None and not call.worker.is_alive()


def test_a_background_call_that_dies_is_reported():
    call = Background(partial(os._exit, 3))
    with pytest.raises(WorkerError, match="exit code 3"):
        within(10, call.result)


@pytest.mark.parametrize("stop", [RuntimeError, KeyboardInterrupt], ids=["an error", "ctrl+c"])
def test_fork_map_stopped_in_the_parent_stops_workers_blocked_writing(stop):
    started = os.getpid()

    def arrived(result: bytes) -> bytes:
        time.sleep(0.5)  # every worker is now blocked writing a result nobody reads
        raise stop("stopped while results were coming in")

    chunks = [0] * 8
    with pytest.raises(stop):
        within(20, partial(fork_map, lambda _: big(), chunks, 2, arrived))
    assert os.getpid() == started
    assert not multiprocessing.active_children(), "every worker was ended"


def test_workers_die_with_a_parent_killed_outright(tmp_path):
    pids = tmp_path / "pids"
    script = f"""
import os, time
from csto_site.util.parallel import Background, fork_map
def work(chunk):
    with open({str(pids)!r}, "a") as f:
        f.write(f"{{os.getpid()}} ")
    time.sleep(60)
Background(lambda: work(0))
fork_map(work, [1, 2], 2)
"""
    parent = subprocess.Popen([sys.executable, "-c", script], env={**os.environ, "PYTHONPATH": str(SRC)})
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and len(pids.read_text().split() if pids.exists() else []) < 3:
        time.sleep(0.05)
    workers = [int(pid) for pid in pids.read_text().split()]
    assert len(workers) == 3, "a background call and two workers started"
    parent.kill()
    parent.wait(10)
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and any(alive(pid) for pid in workers):
        time.sleep(0.05)
    assert not [pid for pid in workers if alive(pid)], "no worker outlives its parent"


@pytest.mark.parametrize("start", ["fork_map(abs, [1, 2, 3, 4], 2)", "Background(os.getpid)"])
def test_ctrl_c_in_the_middle_of_a_fork_stops_the_parent_once_and_is_lost_on_no_one(start):
    """A Ctrl+C arriving while Python runs its hooks around a fork (logging's, here one of the test's own).

    Raised inside such a hook, it could only be printed with a traceback and lost: the build would go on.
    """
    script = f"""
import os, signal
from csto_site.util.parallel import Background, fork_map
pending = {{"parent": 1, "child": 1}}
def interrupt(side):
    if pending.pop(side, None):
        os.kill(os.getpid(), signal.SIGINT)
os.register_at_fork(after_in_parent=lambda: interrupt("parent"), after_in_child=lambda: interrupt("child"))
try:
    {start}
except KeyboardInterrupt:
    print("interrupted")
"""
    done = subprocess.run(
        [sys.executable, "-c", script],
        env={**os.environ, "PYTHONPATH": str(SRC)},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert (done.returncode, done.stdout, done.stderr) == (0, "interrupted\n", "")


def test_ctrl_c_before_a_background_call_is_forked_comes_out_as_itself(monkeypatch):
    """Held back while forking, a Ctrl+C already on its way is raised just before the fork."""

    def interrupted(process: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(multiprocessing.get_context("fork").Process, "start", interrupted)
    with pytest.raises(KeyboardInterrupt):
        Background(os.getpid)


def alive(pid: int) -> bool:
    """Tell whether a process exists and is not a zombie."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(") ", 1)[1][0] != "Z"
    except (FileNotFoundError, ProcessLookupError):
        return False


def test_fork_map_keeps_the_order_of_the_chunks():
    chunks = [list(range(i, i + 3)) for i in range(0, 30, 3)]
    assert fork_map(sum, chunks, 2) == [sum(c) for c in chunks]


def die_or_linger(chunk: int) -> int:
    """Die outright on chunk 0 (as the out-of-memory killer ends a worker); take long on the others."""
    if chunk == 0:
        os.kill(os.getpid(), signal.SIGKILL)
    time.sleep(30)
    return chunk


def test_a_worker_killed_outright_ends_the_map_at_once():
    with pytest.raises(WorkerDied, match="died before finishing its chunks") as died:
        within(15, partial(fork_map, die_or_linger, [0, 1, 2, 3], 2))
    assert died.value.exitcode == -signal.SIGKILL
    assert not multiprocessing.active_children()


def test_the_first_failure_ends_the_map_without_waiting_for_the_other_workers():
    def fail_or_linger(chunk: int) -> int:
        if chunk == 0:
            fail()
        time.sleep(30)
        return chunk

    with pytest.raises(ContentError):
        within(15, partial(fork_map, fail_or_linger, [0, 1, 2, 3], 2))
    assert not multiprocessing.active_children()
