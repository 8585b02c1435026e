"""Markdown to safe HTML: one configured Python-Markdown instance, then nh3."""

from __future__ import annotations

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
    """Convert Markdown bodies to sanitised HTML, reusing one parser."""

    def __init__(self) -> None:
        self._md = markdown.Markdown(
            extensions=list(EXTENSIONS), output_format="html",
            # The headline is the page's h1, so a body's "#" heading becomes an h2.
            extension_configs={"toc": {"baselevel": 2}},
        )

    def render(self, text: str) -> str:
        """Return the safe HTML of a Markdown body."""
        self._md.reset()
        html = self._md.convert(text)
        return nh3.clean(html, tags=set(ALLOWED_TAGS), attributes=ALLOWED_ATTRIBUTES,
                         url_schemes=set(URL_SCHEMES), link_rel="noopener")
