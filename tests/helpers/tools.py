"""External tools some tests need: skipped locally when missing, mandatory in CI."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pytest

REQUIRE_TOOLS = "CSTO_REQUIRE_TOOLS"
# Test-only JavaScript and the Nu HTML checker, installed from npm by `npm ci --prefix tests` (ignored by git).
NODE_MODULES = Path(__file__).resolve().parents[1] / "node_modules"


def tools_required() -> bool:
    """Tell whether a missing tool is a failure (CI) rather than a skip."""
    return os.environ.get(REQUIRE_TOOLS, "") == "1"


def missing(reason: str) -> None:
    """Skip the test, or fail it when CSTO_REQUIRE_TOOLS=1."""
    if tools_required():
        pytest.fail(f"{reason} ({REQUIRE_TOOLS}=1 makes this mandatory)", pytrace=False)
    pytest.skip(reason)


def require_tool(name: str, reason: str) -> str:
    """Return the path of command `name`; skip (or fail in CI) when it is not installed."""
    found = shutil.which(name)
    if found is None:
        missing(reason)
    return str(found)


def vnu_jar() -> Path:
    """Return the Nu HTML checker's jar from npm's `vnu-jar` (`npm ci --prefix tests`); skip or fail without it."""
    jar = NODE_MODULES / "vnu-jar" / "build" / "dist" / "vnu.jar"
    if not jar.is_file():
        missing(f"{jar} not found: install the checker with `npm ci --prefix tests` (npm package vnu-jar)")
    return jar


def interruptible() -> None:
    """Let a child process stop on Ctrl+C even where this one ignores it (a script's background job does).

    A shell starts a background job of a script with SIGINT ignored, and Python then keeps it ignored;
    the tests that stop `serve` with Ctrl+C would wait for it in vain. Given as `preexec_fn`.
    """
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def wait_for_lock(process: subprocess.Popen[str], out: Path, seconds: float) -> None:
    """Wait until a build holds the lock on its output (an open handle on `.public.publish/`): it has begun."""
    home = str(out.resolve().with_name(f".{out.name}.publish"))
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and process.poll() is None:
        with contextlib.suppress(FileNotFoundError):
            for fd in os.listdir(f"/proc/{process.pid}/fd"):
                with contextlib.suppress(FileNotFoundError):
                    if os.readlink(f"/proc/{process.pid}/fd/{fd}") == home:
                        return
        time.sleep(0.005)
