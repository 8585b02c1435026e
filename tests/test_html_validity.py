"""Every page of the sites passes the current Nu HTML checker (npm vnu-jar, needs Java): no error, no warning.

The sites are the mini fixture, the sample content and a generated archive of a few hundred items whose
bodies have `##` and `###` headings, tables, footnotes and quotes (bench/generate.py).
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from urllib.parse import urlsplit
from urllib.request import url2pathname

import pytest
from helpers.tools import require_tool, vnu_jar

# A page the checker must reject (a div inside a span, an obsolete element), and one it must warn about
# (a heading level skipped is an error; an empty heading a warning), to prove it ran and reported both.
INVALID = (
    '<!DOCTYPE html>\n<html lang="en"><head><title>x</title></head>'
    "<body><span><div>x</div></span><blink>b</blink></body></html>\n"
)
SKIPPING = (
    '<!DOCTYPE html>\n<html lang="en"><head><title>x</title></head>'
    "<body><h1>Title</h1><h3>Skips a level</h3><section><h2></h2></section></body></html>\n"
)


def problem(message: dict) -> bool:
    """Tell whether a checker message is an error or a warning (not a mere note)."""
    return message["type"] in ("error", "non-document-error") or message.get("subType") == "warning"


@pytest.fixture(scope="session")
def vnu_messages(mini, sample, archive, tmp_path_factory) -> list[dict]:
    """Run the checker once over every page of the three sites (the JVM starts slowly) and return its messages."""
    java = require_tool("java", "the Nu HTML checker needs Java (apt-get install default-jre-headless)")
    jar = vnu_jar()
    canaries = tmp_path_factory.mktemp("vnu")
    (canaries / "invalid.html").write_text(INVALID, encoding="utf-8")
    (canaries / "skipping.html").write_text(SKIPPING, encoding="utf-8")
    pages = sorted(str(p) for site in (mini, sample, archive) for p in site.out.rglob("*.html"))
    run = subprocess.run(
        [java, "-jar", str(jar), "--format", "json", *map(str, sorted(canaries.iterdir())), *pages],
        capture_output=True,
        text=True,
        timeout=600,
    )
    # vnu writes its JSON report to stderr; the exit status only says whether there were errors.
    report = json.loads(run.stderr or run.stdout)
    return report["messages"]


def _file(message: dict) -> Path:
    """Return the file a message is about."""
    return Path(url2pathname(urlsplit(message.get("url", "")).path))


def test_the_checker_is_current():
    java = require_tool("java", "the Nu HTML checker needs Java (apt-get install default-jre-headless)")
    run = subprocess.run([java, "-jar", str(vnu_jar()), "--version"], capture_output=True, text=True, timeout=60)
    assert int(run.stdout.split(".")[0]) >= 26, run.stdout  # 26.x knows the heading-level rule


def test_the_checker_runs_and_reports_errors_and_warnings(vnu_messages):
    assert any(_file(m).name == "invalid.html" and m["type"] == "error" for m in vnu_messages)
    skipping = [m["message"] for m in vnu_messages if _file(m).name == "skipping.html" and problem(m)]
    assert any("skipping 1 heading level" in m for m in skipping), skipping
    assert any(m.startswith("Empty heading") for m in skipping), skipping


@pytest.mark.parametrize("name", ["mini", "sample", "archive"])
def test_every_page_is_valid_html5(name, request, vnu_messages):
    site = request.getfixturevalue(name)
    found = [
        f"{_file(m).relative_to(site.out)}:{m.get('lastLine', '?')}: {m['type']}: {m.get('message')}"
        for m in vnu_messages
        if problem(m) and _file(m).is_relative_to(site.out)
    ]
    assert found == []
    assert sum(1 for _ in site.out.rglob("*.html")) > 20, "the site was built"
