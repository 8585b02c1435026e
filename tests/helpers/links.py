"""A link checker for a built site, written once for every test that needs one.

Every internal reference (site-absolute `/x/`, relative, or absolute under `base_url`) in every
HTML page, XML feed or sitemap and robots.txt must name a file of the output (`/x/` is
`x/index.html`), and every `#fragment` must be an id of the target page.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections import Counter, deque
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urljoin, urlsplit

from .dom import Document, read_html

URL_ATTRIBUTES = frozenset(
    {"href", "src", "action", "formaction", "poster", "data", "cite", "background", "longdesc", "manifest", "icon"}
)
URL_META = frozenset({"og:url", "og:image", "og:image:url", "og:image:secure_url", "twitter:image"})


@dataclass(frozen=True)
class Reference:
    """A URL found in an output file."""

    source: str
    line: int
    url: str


def page_path(out: Path, file: Path) -> str:
    """Return the site path a file is served at: `news/index.html` is `/news/`."""
    rel = file.relative_to(out).as_posix()
    return "/" + rel.removesuffix("index.html") if rel == "index.html" or rel.endswith("/index.html") else "/" + rel


def locate(url: str, from_path: str, base_url: str) -> tuple[str, str] | None:
    """Return (site path, fragment) of an internal URL seen on page `from_path`; None if external."""
    url = url.strip()
    if url == base_url or url.startswith(base_url + "/") or url.startswith(base_url + "#"):
        url = url[len(base_url) :] or "/"
    parts = urlsplit(url)
    if parts.scheme or parts.netloc:
        return None
    path = urljoin(from_path, parts.path) if parts.path else from_path
    return unquote(path), unquote(parts.fragment)


def target_file(out: Path, path: str) -> Path | None:
    """Return the output file a site path names (`/x/` is `x/index.html`), or None if there is none."""
    rel = path.lstrip("/")
    candidate = out / rel / "index.html" if path.endswith("/") else out / rel
    try:
        candidate.resolve().relative_to(out.resolve())
    except ValueError:
        return None
    return candidate if candidate.is_file() else None


def html_references(doc: Document, source: str) -> Iterator[Reference]:
    """Yield every URL an HTML page refers to."""
    for element in doc.elements:
        for name, value in element.attrs.items():
            if name in URL_ATTRIBUTES:
                yield Reference(source, element.line, value)
            elif name in ("srcset", "imagesrcset"):
                for candidate in value.split(","):
                    if candidate.strip():
                        yield Reference(source, element.line, candidate.split()[0])
        if element.tag == "meta" and element.get("property", element.get("name")) in URL_META:
            yield Reference(source, element.line, element.get("content", ""))


def xml_references(file: Path, base_url: str, source: str) -> Iterator[Reference]:
    """Yield every absolute URL under base_url in an XML file's text or attributes."""
    for element in ET.parse(file).iter():
        for value in (element.text, *element.attrib.values()):
            if value and value.strip().startswith(base_url):
                yield Reference(source, 0, value.strip())


def text_references(file: Path, base_url: str, source: str) -> Iterator[Reference]:
    """Yield every absolute URL under base_url in a text file such as robots.txt."""
    for number, line in enumerate(file.read_text(encoding="utf-8").splitlines(), 1):
        for word in line.split():
            if word.startswith(base_url):
                yield Reference(source, number, word)


def references(out: Path, base_url: str) -> Iterator[tuple[str, Reference]]:
    """Yield (site path of the referring file, reference) for every file of the output."""
    for file in sorted(out.rglob("*")):
        if not file.is_file():
            continue
        source = file.relative_to(out).as_posix()
        here = page_path(out, file)
        if file.suffix == ".html":
            yield from ((here, r) for r in html_references(read_html(file), source))
        elif file.suffix == ".xml":
            yield from ((here, r) for r in xml_references(file, base_url, source))
        elif file.name == "robots.txt":
            yield from ((here, r) for r in text_references(file, base_url, source))


def check_links(out: Path, base_url: str, visited: Counter[str] | None = None) -> list[str]:
    """Return one line per broken internal reference or missing fragment; empty when all resolve.

    `visited`, when given, counts the internal references checked, by the kind of file holding them
    (its suffix, or robots.txt): a guard against a checker that silently checks nothing.
    """
    base_url = base_url.rstrip("/")
    problems = []
    for here, ref in references(out, base_url):
        found = locate(ref.url, here, base_url)
        if found is None:
            continue
        if visited is not None:
            visited["robots.txt" if ref.source.endswith("robots.txt") else Path(ref.source).suffix] += 1
        path, fragment = found
        where = f"{ref.source}:{ref.line}" if ref.line else ref.source
        target = target_file(out, path)
        if target is None:
            problems.append(f"{where}: {ref.url!r} -> {path} is not a file of the output")
        elif fragment:
            if target.suffix != ".html":
                problems.append(f"{where}: {ref.url!r} has a fragment but {path} is not a page")
            elif fragment not in read_html(target).ids:
                problems.append(f"{where}: {ref.url!r} -> no id {fragment!r} in {path}")
    return problems


def page_links(out: Path, path: str, base_url: str) -> Iterator[str]:
    """Yield the site paths of the pages a reader can reach by clicking a link on page `path`."""
    file = target_file(out, path)
    if file is None or file.suffix != ".html":
        return
    for element in read_html(file).elements:
        if element.tag in ("a", "area") and "href" in element.attrs:
            found = locate(element.attrs["href"], path, base_url.rstrip("/"))
            if found is not None:
                target = target_file(out, found[0])
                if target is not None and target.suffix == ".html":
                    yield found[0]


def reachable(out: Path, base_url: str, start: str = "/") -> set[str]:
    """Return the site paths of every page a reader reaches from `start` by following links (BFS)."""
    seen = {start}
    queue = deque([start])
    while queue:
        for link in page_links(out, queue.popleft(), base_url):
            if link not in seen:
                seen.add(link)
                queue.append(link)
    return seen
