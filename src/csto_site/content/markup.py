"""Markdown to safe HTML: one configured Python-Markdown instance per language, then nh3."""

from __future__ import annotations

import importlib
import re
import xml.etree.ElementTree as ET
from collections.abc import Mapping
from typing import Any

import markdown
import nh3
from markdown.extensions import Extension
from markdown.treeprocessors import Treeprocessor

ALLOWED_TAGS = frozenset({
    "a", "abbr", "b", "blockquote", "br", "caption", "cite", "code", "dd", "del", "details", "div",
    "dl", "dt", "em", "figcaption", "figure", "h2", "h3", "h4", "h5", "h6", "hr", "i", "img", "ins",
    "kbd", "li", "mark", "ol", "p", "pre", "q", "s", "small", "span", "strong", "sub", "summary",
    "sup", "table", "tbody", "td", "tfoot", "th", "thead", "tr", "u", "ul",
})
ALLOWED_ATTRIBUTES = {
    "*": {"id", "class", "title", "lang", "dir"},
    "a": {"href"},
    "img": {"src", "alt", "width", "height"},
    "td": {"colspan", "rowspan", "align"},
    "th": {"colspan", "rowspan", "align", "scope"},
    "ol": {"start"},
    "abbr": {"title"},
}
URL_SCHEMES = frozenset({"http", "https", "mailto", "tel"})
# The tables extension aligns a column (`:---:`, `---:`) with a style attribute on each cell.
TEXT_ALIGN = re.compile(r"^\s*text-align:\s*(left|center|right);?\s*$")


class _AlignmentClasses(Treeprocessor):
    """Turn table cells' text-align styles into classes (align-left, align-center, align-right)."""

    def run(self, root: ET.Element) -> None:
        """Rewrite every aligned cell of the body."""
        for cell in root.iter():
            if cell.tag in ("th", "td") and "style" in cell.attrib:
                # The site allows no inline style (see the Content-Security-Policy); a class survives.
                match = TEXT_ALIGN.match(cell.attrib.pop("style"))
                if match:
                    cell.set("class", f"align-{match.group(1)}")


class AlignmentClasses(Extension):
    """Keep a Markdown table's column alignment, as classes the site's stylesheet aligns."""

    def extendMarkdown(self, md: markdown.Markdown) -> None:
        """Register the tree processor."""
        md.treeprocessors.register(_AlignmentClasses(md), "alignment_classes", 1)


def _extensions(backlink_title: str | None) -> list[Extension]:
    """Return Python-Markdown's "extra" (its members, in its order), "sane_lists" and "toc", then the alignment classes.

    Instances, not names: Python-Markdown looks a name up among every installed package's entry points,
    which costs more than converting a body (80 ms on a machine with a few hundred packages). They are
    imported here, by the first body converted: a build that converts none does not load them (nor
    Pygments, which fenced code loads).
    """
    from markdown.extensions import extra
    from markdown.extensions.sane_lists import SaneListExtension
    from markdown.extensions.toc import TocExtension

    configs: dict[str, dict[str, Any]] = {}
    if backlink_title is not None:
        # Python-Markdown turns "%d" into "{}" and formats the title: other braces stay text.
        configs["footnotes"] = {"BACKLINK_TITLE": backlink_title.replace("{", "{{").replace("}", "}}")}
    members = [importlib.import_module(f"markdown.extensions.{name}").makeExtension(**configs.get(name, {}))
               for name in extra.extensions]
    # The headline is the page's h1, so a body's "#" heading becomes an h2.
    return [*members, SaneListExtension(), TocExtension(baselevel=2), AlignmentClasses()]


class Markup:
    """Convert Markdown bodies to sanitised HTML, reusing one parser per language.

    `backlink_titles` gives, per language, the title of a footnote's link back to its mark in the
    text, "%d" standing for the footnote's number; a language without one keeps Python-Markdown's.
    """

    def __init__(self, backlink_titles: Mapping[str, str] | None = None) -> None:
        self._titles = dict(backlink_titles or {})
        self._parsers: dict[str, markdown.Markdown] = {}

    def _parser(self, lang: str) -> markdown.Markdown:
        """Return the language's parser, made on first use."""
        parser = self._parsers.get(lang)
        if parser is None:
            parser = markdown.Markdown(extensions=_extensions(self._titles.get(lang)), output_format="html")
            self._parsers[lang] = parser
        return parser

    def render(self, text: str, lang: str = "") -> str:
        """Return the safe HTML of a Markdown body written in `lang`."""
        parser = self._parser(lang)
        parser.reset()
        html = parser.convert(text)
        return nh3.clean(html, tags=set(ALLOWED_TAGS), attributes=ALLOWED_ATTRIBUTES,
                         url_schemes=set(URL_SCHEMES), link_rel="noopener")
