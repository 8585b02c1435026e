"""The rule for tool-dependent tests: skip locally when a tool is missing, fail in CI."""

from __future__ import annotations

import pytest
from helpers.tools import REQUIRE_TOOLS, require_tool

MISSING = "csto-no-such-tool-anywhere"


def test_a_missing_tool_skips_the_test(monkeypatch):
    monkeypatch.delenv(REQUIRE_TOOLS, raising=False)
    with pytest.raises(pytest.skip.Exception, match="needed for this"):
        require_tool(MISSING, "needed for this")


def test_a_missing_tool_fails_the_test_when_tools_are_required(monkeypatch):
    monkeypatch.setenv(REQUIRE_TOOLS, "1")
    with pytest.raises(pytest.fail.Exception, match="needed for this"):
        require_tool(MISSING, "needed for this")


def test_a_present_tool_is_returned(monkeypatch):
    monkeypatch.setenv(REQUIRE_TOOLS, "1")
    assert require_tool("sh", "a shell").endswith("/sh")
