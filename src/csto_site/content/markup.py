"""Markdown to safe HTML: one configured Python-Markdown instance per language, then nh3.

A body whose inline markup Python-Markdown would take far too long on is refused before that step
(see _InlineCost), and any conversion that still runs away is stopped after TIME_LIMIT_SECONDS: both,
and a body nested too deeply for the interpreter, become a MarkupError with the line to change.
"""

from __future__ import annotations

import importlib
import re
import signal
import threading
import time
import xml.etree.ElementTree as ET
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import markdown
import nh3
from markdown.extensions import Extension
from markdown.inlinepatterns import LinkInlineProcessor
from markdown.treeprocessors import Treeprocessor
from markdown.util import AtomicString

from .bounds import duration

ALLOWED_TAGS = frozenset(
    {
        "a",
        "abbr",
        "b",
        "blockquote",
        "br",
        "caption",
        "cite",
        "code",
        "dd",
        "del",
        "details",
        "div",
        "dl",
        "dt",
        "em",
        "figcaption",
        "figure",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "hr",
        "i",
        "img",
        "ins",
        "kbd",
        "li",
        "mark",
        "ol",
        "p",
        "pre",
        "q",
        "s",
        "small",
        "span",
        "strong",
        "sub",
        "summary",
        "sup",
        "table",
        "tbody",
        "td",
        "tfoot",
        "th",
        "thead",
        "tr",
        "u",
        "ul",
    }
)
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
BRACKET = re.compile(r"[\[\]]")
# A tag of nh3's output: it quotes every attribute value with " (and writes a " inside as &quot;) and a
# text's "<" as &lt;, so a "<" starts a tag and the first ">" outside quotes ends it. Headings captured.
TAG = re.compile(r'<(/?)(?:h([1-6])\b)?[^>"]*(?:"[^"]*"[^>"]*)*>')
# A start tag of that output, its attributes captured; and one attribute, with its value ("" if none).
START_TAG = re.compile(r'<[a-z][a-z0-9]*((?:[^>"]|"[^"]*")*)>')
ATTRIBUTE = re.compile(r'([^\s"=/>]+)(?:="([^"]*)")?')
TOP_HEADING = 2  # the headline is the page's h1: a body's headings start below it

# Python-Markdown reads each text (a paragraph, list item, table cell, heading) for inline markup. After
# each link it makes (and twice besides, four times with images) it reads the whole text again to match
# brackets, in Python; after each other piece of markup, and for each "[" it tries, it copies the rest
# of the text; each piece becomes an element, and every element costs its share of the later steps.
# The estimate below adds these up, in seconds per unit measured with bench/pathological.py on the
# development machine (two cores busy with four other jobs): an element of the parsed blocks; one
# character of a text, per time it is read for brackets; one character of a text, per markup character
# in it; a link; a "[" that makes none; another markup character. The worst body it accepts converts
# within about INLINE_BUDGET_SECONDS there.
INLINE_BUDGET_SECONDS = 3.0
BLOCK_SECONDS = 100e-6
BRACKET_SECONDS = 0.5e-6
MARK_SECONDS = 0.5e-9
LINK_SECONDS = 200e-6
ATTEMPT_SECONDS = 5e-6
ELEMENT_SECONDS = 40e-6
MARKS = ("`", "\\", "<", "&", "*", "_", "!", "  \n")
# A conversion still running after this long is stopped: ten times the longest an accepted body was
# measured to take, so that only a shape the estimates do not know meets it, on any machine.
TIME_LIMIT_SECONDS = 30.0


class MarkupError(Exception):
    """A body that cannot be converted: the line (counted from the body's first) and what to do."""

    def __init__(self, line: int, message: str, hint: str) -> None:
        super().__init__(message)
        self.line = line
        self.message = message
        self.hint = hint


class _TooCostly(Exception):
    """Raised by the estimate, before inline markup is read: what costs most, and in which text."""

    def __init__(self, message: str, hint: str, text: str) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint
        self.text = text


class _TimeUp(BaseException):
    """Raised by the timer in the converting code; a BaseException, so no library handler catches it."""


class _InlineCost(Treeprocessor):
    """Estimate the inline step's time from the parsed blocks, and refuse a body over the budget."""

    def run(self, root: ET.Element) -> None:
        """Add up the texts' costs; raise _TooCostly naming the costliest one when over the budget."""
        # A "[" makes a link only before "(" or with a footnote mark, unless the body defines references.
        referenced = bool(self.md.references)
        blocks = links = attempts = marks = 0
        reread = 0.0
        worst: tuple[float, str, int, int] = (0.0, "", 0, 0)
        for element in root.iter():
            blocks += 1
            for text in (element.text, element.tail):
                if not text or isinstance(text, AtomicString):
                    continue
                brackets = text.count("[")
                made = brackets if referenced else min(brackets, text.count("](") + text.count("[^"))
                others = sum(text.count(mark) for mark in MARKS)
                reads = (made + 2 + 2 * ("![" in text)) if brackets else 0
                # A "[" that makes nothing copies the text's rest, not all of it, and no placeholder.
                cost = len(text) * (reads * BRACKET_SECONDS + (others + made + (brackets - made) / 4) * MARK_SECONDS)
                links += made
                attempts += brackets - made
                marks += others
                reread += cost
                if cost > worst[0]:
                    worst = (cost, text, brackets, others)
        parts = {
            "blocks": blocks * BLOCK_SECONDS,
            "marks": links * LINK_SECONDS + attempts * ATTEMPT_SECONDS + marks * ELEMENT_SECONDS,
            "reread": reread,
        }
        total = sum(parts.values())
        if total <= INLINE_BUDGET_SECONDS:
            return
        largest = max(parts, key=lambda k: parts[k])
        said = (
            f"Markdown would take {duration(total)} on this text, more than the {INLINE_BUDGET_SECONDS:.0f} s an "
            "item may take: "
        )
        if largest == "reread":
            _, text, brackets, others = worst
            raise _TooCostly(
                said + f'this paragraph has {len(text):,} characters with {brackets:,} "[" and '
                f"{others:,} other markup characters, and Markdown reads it again for each",
                "split it into shorter paragraphs, or remove markup characters that are not links "
                "or emphasis (write \\[ for a [ that is text)",
                text,
            )
        if largest == "blocks":
            raise _TooCostly(
                said + f"it has {blocks:,} paragraphs, list items, table cells and headings",
                "split it into several items",
                "",
            )
        raise _TooCostly(
            said + f'it has {links:,} links, {attempts:,} other "[" and {marks:,} other markup '
            "characters (*, _, `, <, &, \\, !)",
            "split it into several items, or remove markup characters",
            "",
        )


class _Guards(Extension):
    """Refuse a body whose inline markup would take too long, before Python-Markdown reads it."""

    def extendMarkdown(self, md: markdown.Markdown) -> None:
        """Register the estimate after the block parser and footnotes, before the inline step (20)."""
        md.treeprocessors.register(_InlineCost(md), "inline_cost", 25)


@contextmanager
def time_limit(seconds: float) -> Iterator[None]:
    """Raise _TimeUp in the code of the `with` block after `seconds` (Python's regex engine checks too).

    Only in the main thread (signals go there). A timer already running with an earlier deadline (a
    test runner's) is left alone; one with a later deadline is set again afterwards for the time left.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    outer, interval = signal.getitimer(signal.ITIMER_REAL)
    if 0 < outer <= seconds:
        yield
        return

    def expire(signum: int, frame: object) -> None:
        raise _TimeUp

    previous = signal.signal(signal.SIGALRM, expire)
    started = time.monotonic()
    try:
        signal.setitimer(signal.ITIMER_REAL, seconds)
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, signal.SIG_DFL if previous is None else previous)
        if outer:
            signal.setitimer(signal.ITIMER_REAL, max(outer - (time.monotonic() - started), 1e-3), interval)


def line_of(body: str, text: str) -> int:
    """Return the line of the body where a parsed text starts (its first words found again), else 1."""
    first = text.lstrip().split("\n", 1)[0].split("\x02", 1)[0].strip()[:60]
    found = body.find(first) if first else -1
    return body.count("\n", 0, found) + 1 if found >= 0 else 1


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


def bracket_ends(data: str) -> list[int | None]:
    """For each index of `data`, the index just past the `]` closing the bracket open there, or None.

    Python-Markdown's links find their closing bracket with `_findBracketEnds`, which gives this list
    with a Python step per character of the paragraph: a quarter of the time of converting an item
    with links. The index is the same for every position between two brackets, so this visits only
    the brackets and fills each run of positions at once.
    """
    ends: list[int | None] = [None] * (len(data) + 1)
    waiting: list[tuple[int, int, int]] = []  # runs of positions (first, last, depth) not yet closed
    depth = first = 0
    for match in BRACKET.finditer(data):
        last = match.start()
        _close_runs(waiting, ends, first, depth)
        waiting.append((first, last, depth))
        depth += 1 if data[last] == "[" else -1
        first = last + 1
    _close_runs(waiting, ends, first, depth)
    return ends


def _close_runs(waiting: list[tuple[int, int, int]], ends: list[int | None], at: int, depth: int) -> None:
    """End at `at` every waiting run deeper than `depth` (the bracket they are in closed just before)."""
    while waiting and waiting[-1][2] > depth:
        first, last, _ = waiting.pop()
        ends[first : last + 1] = [at] * (last + 1 - first)


class BracketScan(Extension):
    """Let every link and image pattern find closing brackets with `bracket_ends` (same answers, faster)."""

    def extendMarkdown(self, md: markdown.Markdown) -> None:
        """Give each link-like inline processor the quicker scan."""
        for processor in md.inlinePatterns:
            if isinstance(processor, LinkInlineProcessor):
                setattr(processor, "_findBracketEnds", bracket_ends)  # noqa: B010 (mypy refuses assigning a method)


def _extensions(backlink_title: str | None) -> list[Extension]:
    """Return Python-Markdown's "extra" (its members, in its order), "sane_lists", "toc", and this module's own.

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
    members = [
        importlib.import_module(f"markdown.extensions.{name}").makeExtension(**configs.get(name, {}))
        for name in extra.extensions
    ]
    # Headings keep the levels written here (ids come from toc); heading_levels moves them below the headline.
    return [*members, SaneListExtension(), TocExtension(), AlignmentClasses(), _Guards(), BracketScan()]


def heading_levels(html: str) -> str:
    """Renumber a body's headings so that none skips a level: its top heading is an h2, whatever was written.

    The headline is the page's only h1. Each heading goes one level below the nearest heading before it
    written at a higher level (or becomes an h2 without one), at most h6: `###` then `#####` become h2 and
    h3, and `#` then `###` h2 and h3. Markdown's headings and HTML ones written in the body alike.
    """
    levels: list[tuple[int, int]] = []  # (written, given) of the headings the next one may go under
    opened: list[int] = []  # the levels given to the headings open at this point, innermost last

    def renumber(tag: re.Match[str]) -> str:
        closing, written = tag.group(1), tag.group(2)
        if written is None:
            return tag.group(0)
        if closing:
            level = opened.pop() if opened else TOP_HEADING
        else:
            while levels and levels[-1][0] >= int(written):
                levels.pop()
            level = min(levels[-1][1] + 1, 6) if levels else TOP_HEADING
            levels.append((int(written), level))
            opened.append(level)
        text = tag.group(0)
        return text[: 2 + len(closing)] + str(level) + text[3 + len(closing) :]

    return TAG.sub(renumber, html)


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
        """Return the safe HTML of a Markdown body written in `lang`; raise MarkupError if it cannot be had."""
        parser = self._parser(lang)
        parser.reset()
        try:
            with time_limit(TIME_LIMIT_SECONDS):
                html = parser.convert(text)
                return heading_levels(
                    nh3.clean(
                        html,
                        tags=set(ALLOWED_TAGS),
                        attributes=ALLOWED_ATTRIBUTES,
                        url_schemes=set(URL_SCHEMES),
                        link_rel="noopener",
                    )
                )
        except _TooCostly as exc:
            self._parsers.pop(lang, None)  # stopped half-way: start the next body with a fresh parser
            raise MarkupError(line_of(text, exc.text), exc.message, exc.hint) from None
        except RecursionError:
            self._parsers.pop(lang, None)
            raise MarkupError(
                1,
                "this text nests markup too deeply for Markdown (emphasis, links, lists, "
                "quotes or HTML inside each other)",
                "nest less: close emphasis and HTML tags where they end",
            ) from None
        except _TimeUp:
            self._parsers.pop(lang, None)
            raise MarkupError(
                1,
                f"Markdown was stopped after {TIME_LIMIT_SECONDS:g} s on this text",
                "look for a long run of one markup character ([, <, *, `, \\) or deep nesting, "
                "and remove it or put it in a code block",
            ) from None
