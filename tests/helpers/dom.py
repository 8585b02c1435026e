"""Read generated HTML with the standard library's html.parser: elements, attributes, text, ids."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from html.parser import HTMLParser
from pathlib import Path

VOID = frozenset({"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"})


@dataclass
class Element:
    """One start tag: its name, attributes (valueless ones as ""), source line and text content."""

    tag: str
    attrs: dict[str, str]
    line: int
    parts: list[str] = field(default_factory=list)
    raw_attrs: list[tuple[str, str | None]] = field(default_factory=list)

    @property
    def text(self) -> str:
        """Return the element's text with whitespace collapsed."""
        return " ".join("".join(self.parts).split())

    def get(self, name: str, default: str | None = None) -> str | None:
        """Return an attribute value."""
        return self.attrs.get(name, default)


@dataclass
class Document:
    """Every element of a page in source order, and the ids fragments can point at."""

    elements: list[Element]
    ids: set[str]
    duplicate_ids: set[str]

    def find_all(self, tag: str, **attrs: str | None) -> list[Element]:
        """Return elements with this tag and these attribute values (None: the attribute is present)."""
        return [
            e
            for e in self.elements
            if e.tag == tag
            and all(
                name in e.attrs and (value is None or e.attrs[name] == value)
                for name, value in ((k.replace("_", "-"), v) for k, v in attrs.items())
            )
        ]

    def find(self, tag: str, **attrs: str | None) -> Element | None:
        """Return the first matching element, or None."""
        found = self.find_all(tag, **attrs)
        return found[0] if found else None


class _Reader(HTMLParser):
    """Collect elements, their text and ids."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.elements: list[Element] = []
        self.ids: set[str] = set()
        self.duplicate_ids: set[str] = set()
        self.open: list[Element] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        element = Element(tag, {k: v or "" for k, v in attrs}, self.getpos()[0], raw_attrs=list(attrs))
        self.elements.append(element)
        for name in ("id",) + (("name",) if tag == "a" else ()):
            if name in element.attrs:
                value = element.attrs[name]
                if name == "id" and value in self.ids:
                    self.duplicate_ids.add(value)
                self.ids.add(value)
        if tag not in VOID:
            self.open.append(element)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        if tag not in VOID and self.open and self.open[-1].tag == tag:
            self.open.pop()

    def handle_endtag(self, tag: str) -> None:
        for i in range(len(self.open) - 1, -1, -1):
            if self.open[i].tag == tag:
                del self.open[i:]
                break

    def handle_data(self, data: str) -> None:
        for element in self.open:
            element.parts.append(data)


def parse_html(text: str) -> Document:
    """Parse an HTML page."""
    reader = _Reader()
    reader.feed(text)
    reader.close()
    return Document(reader.elements, reader.ids, reader.duplicate_ids)


@lru_cache(maxsize=4096)
def _parse_file(path: str, mtime: int) -> Document:
    return parse_html(Path(path).read_text(encoding="utf-8"))


def read_html(path: Path) -> Document:
    """Parse an HTML file (cached until the file changes)."""
    return _parse_file(str(path), path.stat().st_mtime_ns)
