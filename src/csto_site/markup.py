"""Markdown to safe HTML: one configured Python-Markdown instance, then nh3."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import markdown
import nh3

EXTENSIONS = ("extra", "sane_lists", "toc")
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
            # The headline is the page's h1, so a body's "#" heading becomes an h2.
            configs: dict[str, dict[str, Any]] = {"toc": {"baselevel": 2}}
            title = self._titles.get(lang)
            if title is not None:
                # Python-Markdown turns "%d" into "{}" and formats the title: other braces stay text.
                title = title.replace("{", "{{").replace("}", "}}")
                configs["extra"] = {"footnotes": {"BACKLINK_TITLE": title}}
            parser = markdown.Markdown(extensions=list(EXTENSIONS), output_format="html",
                                       extension_configs=configs)
            self._parsers[lang] = parser
        return parser

    def render(self, text: str, lang: str = "") -> str:
        """Return the safe HTML of a Markdown body written in `lang`."""
        parser = self._parser(lang)
        parser.reset()
        html = parser.convert(text)
        return nh3.clean(html, tags=set(ALLOWED_TAGS), attributes=ALLOWED_ATTRIBUTES,
                         url_schemes=set(URL_SCHEMES), link_rel="noopener")
