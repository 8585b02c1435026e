"""Build fixture sites the way the tests need them: fixed clock, project templates and static files."""

from __future__ import annotations

import runpy
import shutil
import xml.etree.ElementTree as ET
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from csto_site.build.options import Options, Report
from csto_site.publish.run import build

ROOT = Path(__file__).resolve().parents[2]
TEMPLATES = ROOT / "templates"
STATIC = ROOT / "static"
SAMPLE = ROOT / "content"
FIXTURES = ROOT / "tests" / "fixtures"
MINI = FIXTURES / "mini"
GOLDEN = ROOT / "tests" / "golden"

CACHES = ".caches"  # the suffix of the folder beside a test's folder that holds its builds' caches
SITEMAP_NS = {"sm": "http://www.sitemaps.org/schemas/sitemap/0.9"}

# Every build in the tests sees the same clock, so outputs and "scheduled" items never drift.
NOW = datetime(2026, 11, 29, 12, 0, tzinfo=ZoneInfo("Europe/Moscow"))
# The home page of a site an earlier build left: an output folder a build may take (see publish/place.py).
OLD_SITE = '<!doctype html><meta name="generator" content="csto-site"><title>The old site</title>\n'


def options(content: Path, out: Path, **flags: bool) -> Options:
    """Return build options that read `content` with the project's templates and static files.

    Each output folder gets its own build cache (`cache_of`), so tests never share or leave a cache behind.
    """
    return Options(content=content, out=out, templates=TEMPLATES, static=STATIC, cache=cache_of(out), **flags)


def build_into(content: Path, out: Path, now: datetime = NOW, **flags: bool) -> Report:
    """Build `content` into `out` at the fixed time.

    Never a content folder of the repository (content/, tests/fixtures/): a build records the addresses it
    published in its content folder, so a test builds a copy (`copy_fixture`).
    """
    assert not in_repository(content), f"{content}: build a copy (copy_fixture), a build writes addresses.txt there"
    return build(options(content, out, **flags), now)


def in_repository(content: Path) -> bool:
    """Tell whether a folder is, or is inside, the repository's sample content/ or the test fixtures."""
    return any(content.resolve().is_relative_to(kept) for kept in (SAMPLE.resolve(), FIXTURES.resolve()))


def generate_archive(content: Path, n: int, seed: int = 1) -> None:
    """Write a synthetic archive of n item files with the benchmark's generator (bench/generate.py, a script)."""
    runpy.run_path(str(ROOT / "bench" / "generate.py"), run_name="bench_generate")["generate"](content, n, seed)


def copy_fixture(dest: Path, source: Path = MINI) -> Path:
    """Copy a content folder to `dest` (which must not exist) so a test can change it."""
    shutil.copytree(source, dest)
    return dest


def copy_project(dest: Path) -> Path:
    """Copy the project as a press secretary has it to `dest`: the sample content/, templates/, static/, build.py."""
    shutil.copytree(SAMPLE, dest / "content")
    shutil.copytree(TEMPLATES, dest / "templates")
    shutil.copytree(STATIC, dest / "static")
    shutil.copy(ROOT / "build.py", dest / "build.py")
    return dest


def cli_args(command: str, content: Path, out: Path, *extra: str, templates: Path = TEMPLATES) -> list[str]:
    """Return `csto-site` arguments for a content folder, with the project's static files and templates.

    The templates may be others (`templates`); the build cache is the output folder's own (`cache_of`),
    unless `extra` names one.
    """
    cache = [] if "--cache" in extra else ["--cache", str(cache_of(out))]
    return [
        command,
        "--content",
        str(content),
        "--out",
        str(out),
        "--templates",
        str(templates),
        "--static",
        str(STATIC),
        *cache,
        *extra,
    ]


def cache_of(out: Path) -> Path:
    """Return the build cache the helpers give an output folder: its own, outside the folder that holds it.

    Outside, so that a test's snapshot of that folder (`snapshot`) shows what a build published, not what
    it keeps: a build keeps in its cache what it parsed even when it fails.
    """
    return out.parent.with_name(f"{out.parent.name}{CACHES}") / out.name


def snapshot(folder: Path) -> dict[str, tuple[int, int]]:
    """Describe every file and folder below `folder` (size and mtime), to prove nothing was touched."""
    if not folder.exists():
        return {}
    return {
        p.relative_to(folder).as_posix(): (p.stat().st_size if p.is_file() else -1, p.stat().st_mtime_ns)
        for p in sorted(folder.rglob("*"))
    } | {".": (-1, folder.stat().st_mtime_ns)}


def tree(folder: Path) -> dict[str, bytes]:
    """Read every file below a folder, by its path below it."""
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def sitemap_files(out: Path, base_url: str) -> list[Path]:
    """Return the sitemaps that the sitemap index of a built site names, in its order."""
    root = ET.parse(out / "sitemap.xml").getroot()
    assert root.tag == f"{{{SITEMAP_NS['sm']}}}sitemapindex"
    locs = [loc.text or "" for loc in root.findall("sm:sitemap/sm:loc", SITEMAP_NS)]
    assert all(loc.startswith(base_url + "/") for loc in locs)
    return [out / loc[len(base_url) + 1 :] for loc in locs]


def sitemap_urls(out: Path, base_url: str) -> list[ET.Element]:
    """Return every <url> element of every sitemap of a built site."""
    return [
        url for path in sitemap_files(out, base_url) for url in ET.parse(path).getroot().findall("sm:url", SITEMAP_NS)
    ]


def retract(content: Path, *files: Path) -> None:
    """Delete item files and retract every address the record gives them in site.yaml's `gone:`, as an editor must."""
    rels = {file.relative_to(content).as_posix() for file in files}
    for file in files:
        file.unlink()
    record = content / "addresses.txt"
    lines = record.read_text(encoding="utf-8").splitlines() if record.exists() else []
    pairs = (line.partition(" ") for line in lines if line and not line.startswith("#"))
    gone = [address for address, _, source in pairs if source in rels]
    if gone:
        site = content / "site.yaml"
        entries = ", ".join(f'"{address}": Withdrawn.' for address in gone)
        site.write_text(site.read_text(encoding="utf-8") + f"gone: {{{entries}}}\n", encoding="utf-8")
