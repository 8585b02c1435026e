"""Shared fixtures: fixture sites built once per session at a fixed time, and the golden-file flag."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, fields
from pathlib import Path

import pytest
from helpers.content import Content, Entry, read_content
from helpers.site import FIXTURES, MINI, NOW, SAMPLE, build_into, copy_fixture, generate_archive, snapshot

from csto_site.build.options import Options

SITES = {"mini": MINI, "sample": SAMPLE}
ARCHIVE_ITEMS = 300  # a few hundred items: every shape of body, officials with nothing in Russian


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--update-golden",
        action="store_true",
        default=False,
        help="rewrite tests/golden/ from the current output instead of comparing with it",
    )


@dataclass(frozen=True)
class BuiltSite:
    """A content folder built into an output folder, with what the content says it should contain."""

    name: str
    content: Path
    out: Path
    expected: Content

    @property
    def base_url(self) -> str:
        """Return the site's base URL, without a trailing slash."""
        return self.expected.base_url

    @property
    def items(self) -> list[Entry]:
        """Return the items the build shows, newest first."""
        return self.expected.published(NOW)


@pytest.fixture(scope="session", autouse=True)
def no_shared_cache() -> Iterator[None]:
    """Fail the session when a test's build used the default cache of the folder pytest runs in: tests share none."""
    cache = Path.cwd() / next(f.default for f in fields(Options) if f.name == "cache")
    before = snapshot(cache)
    yield
    assert snapshot(cache) == before, f"a test built with the default cache {cache}: give it its own (`cache_of`)"


@pytest.fixture(scope="session", autouse=True)
def content_left_alone() -> Iterator[None]:
    """Fail the session when a test wrote to the sample content/ or the fixtures (a build records addresses there)."""
    before = {folder: snapshot(folder) for folder in (SAMPLE, FIXTURES)}
    yield
    changed = [folder for folder, seen in before.items() if snapshot(folder) != seen]
    assert not changed, f"a test wrote to {changed}: build a copy (copy_fixture) instead"


@pytest.fixture(scope="session")
def update_golden(request: pytest.FixtureRequest) -> bool:
    """Tell whether golden files are being regenerated (`pytest --update-golden`)."""
    return bool(request.config.getoption("--update-golden"))


def _build(name: str, factory: pytest.TempPathFactory) -> BuiltSite:
    work = factory.mktemp(name)
    # Built from a copy: a build records the addresses it published in its content folder.
    build_into(copy_fixture(work / "content", SITES[name]), work / "public")
    return BuiltSite(name, SITES[name], work / "public", read_content(SITES[name]))


@pytest.fixture(scope="session")
def mini(tmp_path_factory: pytest.TempPathFactory) -> BuiltSite:
    """The mini fixture site, built once per session."""
    return _build("mini", tmp_path_factory)


@pytest.fixture(scope="session")
def sample(tmp_path_factory: pytest.TempPathFactory) -> BuiltSite:
    """The sample content of content/, built once per session."""
    return _build("sample", tmp_path_factory)


@pytest.fixture(scope="session")
def archive(tmp_path_factory: pytest.TempPathFactory) -> BuiltSite:
    """A realistic archive of 300 items (bench/generate.py: headings, tables, footnotes, quotes), built once."""
    content = tmp_path_factory.mktemp("archive") / "content"
    generate_archive(content, ARCHIVE_ITEMS)
    out = content.parent / "public"
    build_into(content, out, search=False)
    return BuiltSite("archive", content, out, read_content(content))


@pytest.fixture(scope="session")
def mini_site(mini: BuiltSite) -> Path:
    """The output folder of the mini fixture site."""
    return mini.out


@pytest.fixture(scope="session")
def sample_site(sample: BuiltSite) -> Path:
    """The output folder of the sample site."""
    return sample.out


@pytest.fixture(params=sorted(SITES))
def site(request: pytest.FixtureRequest) -> BuiltSite:
    """Each built site in turn: the mini fixture and the sample content."""
    return request.getfixturevalue(request.param)


@pytest.fixture
def mini_copy(tmp_path: Path) -> Path:
    """A private copy of the mini fixture's content folder, for tests that break it."""
    return copy_fixture(tmp_path / "content")
