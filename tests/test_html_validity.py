"""Every page of both sites passes the Nu HTML checker (vnu.jar, needs Java) with no errors."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from urllib.parse import urlsplit
from urllib.request import url2pathname

import pytest
from helpers.tools import require_tool, vnu_jar

# A page the checker must reject (a div inside a span, an obsolete element), to prove it ran and reported.
INVALID = (
    '<!DOCTYPE html>\n<html lang="en"><head><title>x</title></head>'
    "<body><span><div>x</div></span><blink>b</blink></body></html>\n"
)


@pytest.fixture(scope="session")
def vnu_messages(mini, sample, tmp_path_factory) -> list[dict]:
    """Run the checker once over every page of both sites (the JVM starts slowly) and return its messages."""
    java = require_tool("java", "the Nu HTML checker needs Java (apt-get install default-jre-headless)")
    jar = vnu_jar()
    canary = tmp_path_factory.mktemp("vnu") / "invalid.html"
    canary.write_text(INVALID, encoding="utf-8")
    pages = sorted(str(p) for site in (mini, sample) for p in site.out.rglob("*.html"))
    run = subprocess.run(
        [java, "-jar", str(jar), "--errors-only", "--format", "json", str(canary), *pages],
        capture_output=True,
        text=True,
        timeout=300,
    )
    # vnu writes its JSON report to stderr; the exit status only says whether there were errors.
    report = json.loads(run.stderr or run.stdout)
    return report["messages"]


def _file(message: dict) -> Path:
    """Return the file a message is about."""
    return Path(url2pathname(urlsplit(message.get("url", "")).path))


def test_the_checker_runs_and_reports_errors(vnu_messages):
    assert any(_file(m).name == "invalid.html" and m["type"] == "error" for m in vnu_messages)


def test_every_page_is_valid_html5(site, vnu_messages):
    errors = [
        f"{_file(m).relative_to(site.out)}:{m.get('lastLine', '?')}: {m['type']}: {m.get('message')}"
        for m in vnu_messages
        if m["type"] in ("error", "non-document-error") and _file(m).is_relative_to(site.out)
    ]
    assert errors == []
    assert sum(1 for _ in site.out.rglob("*.html")) > 20, "the site was built"
