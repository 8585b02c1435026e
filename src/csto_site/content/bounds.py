"""Refuse, before Markdown runs, a body Python-Markdown would take far too long on or crash on.

Python-Markdown's time grows faster than the text for some shapes (bench/pathological.py measures
them): it keeps the blocks still to parse in a list it takes from the front, each of many lines that
start a block in one paragraph makes it search the rest again, each "<" that opens an HTML tag makes
its HTML reader read on to the tag's end, each code fence never closed makes it read on to the end of
the text, each abbreviation is looked for in all of it. This module estimates, in one pass over the
text, how long these steps would take, and turns an estimate over the budget, or nesting deeper than
any news item has, into a problem at the line that causes it. What grows with the length of one
paragraph (links, inline markup) is estimated on the parsed blocks, in csto_site.markup; anything
still unforeseen meets the time limit there.
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from collections.abc import Iterator
from dataclasses import dataclass

from ..util.errors import Problem

# Lists and quotes nested inside each other on one line. News items nest two or three; Python-Markdown
# recurses once per level (it stops near the interpreter's limit) and reads the line again at each.
MAX_NESTING = 32
# HTML elements written into a body and left open inside each other: the sanitiser's HTML parser
# takes time that grows as the square of that depth.
MAX_HTML_NESTING = 32
# Seconds the estimated block-level work may take; the inline work has its own (csto_site.markup).
BUDGET_SECONDS = 2.0
# Seconds per unit of work, measured with bench/pathological.py on the development machine (two cores
# busy with four other jobs), rounded up: a block, blank line or line that starts a block (paragraph,
# heading, list item, rule, fenced code); a table cell; one step of taking a block from the front of the
# list of blocks, per block still in it; one character of a block searched again for each heading, or
# each rule or definition, in it (for an abbreviation's, nearly every kind of block searches it); an HTML
# tag; a "<" or "&" the HTML reader stops at; one character it reads on to a tag's end; one character
# read for the end of a definition's label; one character read to the end of the text by an unclosed
# fence; one character of text searched for one abbreviation; one abbreviation found; one character
# searched for one [TOC] marker.
BLOCK_SECONDS = 150e-6
CELL_SECONDS = 5e-6
QUEUE_SECONDS = 0.5e-9
HEADING_SPLIT_SECONDS = 1e-9
SPLIT_SECONDS = 10e-9
ABBREVIATION_SPLIT_SECONDS = 100e-9
TAG_SECONDS = 30e-6
SIGN_SECONDS = 10e-6
HTML_SECONDS = 150e-9
DEFINITION_SECONDS = 20e-9
FENCE_SECONDS = 120e-9
ABBREVIATION_SECONDS = 50e-9
ABBREVIATION_USE_SECONDS = 100e-6
TOC_SECONDS = 20e-9

# A line that starts a block of its own inside a paragraph: a heading, a rule, a setext underline, a
# definition (": ", "[^", "*["); any line that starts a block (also a list item, quote, table row, footnote or
# abbreviation, HTML); the end of a block.
SPLITTER = re.compile(r"^(?:[ ]{0,3}(?:#|[-*_][-*_ ]*$|=+[ ]*$|:[ \t]|\[\^)|\*\[)", re.M)
BLOCK_START = re.compile(
    r"^(?:[ ]{0,3}(?:#|[-*_][-*_ ]*$|=+[ ]*$|:[ \t])"
    r"|[ \t]*(?:[-*+][ \t]|\d{1,9}[.)][ \t]|>|\||<|\[\^|\*\[))",
    re.M,
)
BLOCK_END = re.compile(r"\n[ \t]*(?:\n|\Z)")
# A line that may be nested deeper than MAX_NESTING: each level takes at least one of these characters.
DEEP = re.compile(rf"^[ \t>*+\-.)0-9]{{{MAX_NESTING + 1},}}.*", re.M)
# One level of list or quote at the start of a line (and the indentation before it).
CONTAINER = re.compile(r"(?P<indent>[ \t]*)(?:>|(?:[-*+]|\d{1,9}[.)])(?=[ \t]|$))[ ]?")
# A fenced code block's opening and closing lines, as Python-Markdown's fenced_code reads them.
FENCE_OPEN = re.compile(
    r"""^(?P<fence>~{3,}|`{3,})[ ]*(?:\{[^\n]*\}|(?:\.?[\w#.+-]*[ ]*)?"""
    r"""(?:hl_lines=(?P<quote>["']).*?(?P=quote)[ ]*)?)$""",
    re.M,
)
FENCE_CLOSE = re.compile(r"^(?P<fence>~{3,}|`{3,})[ ]*$", re.M)
# What stands for a line of fenced code in the text the estimates read: no markup, not blank.
CODE_LINE = "\x02"
# An HTML tag as the sanitiser sees one; its name, whether it closes, whether it closes itself.
TAG = re.compile(r"<(?P<end>/?)(?P<name>[A-Za-z][A-Za-z0-9]*)(?:[\s/][^<>]*)?>")
OPENING_TAG = re.compile(r"<[A-Za-z]")
# Elements without content, and elements the HTML parser closes by itself when the next one starts.
UNNESTED = frozenset(
    {
        "area",
        "base",
        "br",
        "col",
        "embed",
        "hr",
        "img",
        "input",
        "link",
        "meta",
        "source",
        "track",
        "wbr",
        "p",
        "li",
        "dt",
        "dd",
        "rt",
        "rp",
        "optgroup",
        "option",
        "thead",
        "tbody",
        "tfoot",
        "tr",
        "td",
        "th",
        "colgroup",
        "caption",
        "html",
        "head",
        "body",
    }
)
# What Python's HTML reader reads on from: a tag, an end tag, a comment or declaration; where they end.
OPENER = re.compile(r"<(?:(?P<tag>[A-Za-z])|(?P<comment>!--)|[/!?])")
OPENER_START = re.compile(r"<[A-Za-z/!?]")
GREATER = re.compile(">")
QUOTED_VALUE = re.compile(r"""=\s*(?P<quote>['"])""")
COMMENT_END = re.compile(r"--\s*>")
# Lines Markdown reads as footnote and abbreviation definitions if their labels close, and what closes them.
FOOTNOTE_START = re.compile(r"^[ ]{0,3}\[\^", re.M)
FOOTNOTE_END = re.compile(r"\]")
ABBREVIATION_START = re.compile(r"^\*\[", re.M)
ABBREVIATION_END = re.compile(r"\][ ]?:|\\")
ABBREVIATION = re.compile(r"^\*\[(?P<term>[^\]\n]*)\][ ]?:", re.M)
TOC_MARKER = "[TOC]"


@dataclass(frozen=True)
class Cost:
    """Estimated seconds of one kind of work, with the line that costs most and what to do about it."""

    seconds: float
    line: int
    message: str
    hint: str


@dataclass(frozen=True)
class Fences:
    """The fenced code blocks of a body: how many, and where each fence never closed starts."""

    blocks: int
    unclosed: tuple[int, ...]


def body_problems(body: str, path: str, first_line: int) -> list[Problem]:
    """Return the problems of a Markdown body that starts on line `first_line` of the file `path`."""
    text, fences = without_code(body)
    problems = [
        Problem(path, first_line + line - 1, message, hint)
        for line, message, hint in (*nesting(text), *html_nesting(text))
    ]
    costs = [
        c
        for c in (
            *block_costs(text, fences),
            html_cost(text),
            definition_cost(text),
            fence_cost(body, fences),
            abbreviation_cost(text),
            toc_cost(text),
        )
        if c is not None
    ]
    total = sum(c.seconds for c in costs)
    if total > BUDGET_SECONDS:
        worst = max(costs, key=lambda c: c.seconds)
        problems.append(
            Problem(
                path,
                first_line + worst.line - 1,
                f"Markdown would take {duration(total)} on this text, more than the "
                f"{BUDGET_SECONDS:.0f} s an item may take: {worst.message}",
                worst.hint,
            )
        )
    return problems


def duration(seconds: float) -> str:
    """Say roughly how long an estimated time is: "about 50 s", "about 3 hours"."""
    if seconds < 120:
        return f"about {seconds:.0f} s"
    if seconds < 7200:
        return f"about {seconds / 60:.0f} minutes"
    if seconds < 172800:
        return f"about {seconds / 3600:.0f} hours"
    return "days"


def without_code(body: str) -> tuple[str, Fences]:
    """Return the body with each line of fenced code replaced by CODE_LINE, and its fences.

    Python-Markdown sets fenced code aside before anything else reads the text; a fence that is never
    closed stays text, and the search for its end reads on to the end of the text.
    """
    closers: dict[str, list[tuple[int, int]]] = {}
    for close in FENCE_CLOSE.finditer(body):
        closers.setdefault(close["fence"], []).append((close.start(), close.end()))
    pieces: list[str] = []
    done = blocks = 0
    unclosed = []
    for opener in FENCE_OPEN.finditer(body):
        if opener.start() < done:
            continue
        later = closers.get(opener["fence"], [])
        after = bisect_right(later, (opener.end(), opener.end()))
        if after == len(later):
            unclosed.append(opener.start())
            continue
        end = later[after][1]
        pieces += [body[done : opener.start()], "\n".join([CODE_LINE] * (body.count("\n", opener.start(), end) + 1))]
        done = end
        blocks += 1
    return "".join([*pieces, body[done:]]), Fences(blocks, tuple(unclosed))


def nesting(text: str) -> Iterator[tuple[int, str, str]]:
    """Yield (line, message, hint) for the first line nested deeper than MAX_NESTING levels."""
    for candidate in DEEP.finditer(text):
        line = candidate.group()
        if not is_rule(line) and depth(line) > MAX_NESTING:
            yield (
                text.count("\n", 0, candidate.start()) + 1,
                f"this line is nested more than {MAX_NESTING} levels deep in lists and quotes",
                f"at most {MAX_NESTING}: use fewer leading >, list markers or indentation",
            )
            return


def is_rule(line: str) -> bool:
    """Tell whether a line is a horizontal rule ("- - -", "***"), which looks like list markers but nests nothing."""
    marks = line.strip(" ")
    mark = marks[:1]
    return (
        mark in ("-", "*", "_")
        and len(line) - len(line.lstrip(" ")) <= 3
        and marks.count(mark) >= 3
        and not marks.replace(mark, "").strip(" ")
        and "   " not in marks
    )


def depth(line: str) -> int:
    """Count the lists and quotes a line opens at its start (a level per marker or four columns of indent)."""
    position = levels = columns = 0
    while levels <= MAX_NESTING and (marker := CONTAINER.match(line, position)):
        columns += _columns(marker["indent"])
        levels += 1
        position = marker.end()
    if levels <= MAX_NESTING:
        rest = line[position:]
        columns += _columns(rest[: len(rest) - len(rest.lstrip(" \t"))])
    return levels + columns // 4


def _columns(indent: str) -> int:
    """Return the width of leading white space, a tab counting four columns."""
    return len(indent) + 3 * indent.count("\t")


def html_nesting(text: str) -> Iterator[tuple[int, str, str]]:
    """Yield (line, message, hint) where HTML elements written in the body are left open too deep."""
    if len(OPENING_TAG.findall(text)) <= MAX_HTML_NESTING:
        return  # too few to nest too deep (most bodies): no need to follow them one by one
    open_tags = 0
    for tag in TAG.finditer(text):
        if tag["name"].lower() in UNNESTED or tag.group().endswith("/>"):
            continue
        open_tags = max(open_tags - 1, 0) if tag["end"] else open_tags + 1
        if open_tags > MAX_HTML_NESTING:
            yield (
                text.count("\n", 0, tag.start()) + 1,
                f"more than {MAX_HTML_NESTING} HTML elements are open inside each other here",
                f"at most {MAX_HTML_NESTING}: close each HTML tag (</{tag['name']}>), or write &lt; "
                f"for a < that does not start one",
            )
            return


def block_costs(text: str, fences: Fences) -> Iterator[Cost]:
    """Estimate the block parser's work: per block and cell, the list of blocks, and splitting lines."""
    # Python-Markdown splits the text at each blank line (two newlines) into a list of blocks, takes
    # them from its front one by one, and puts back the rest of a block after each line that starts one.
    blocks = text.count("\n\n") + 1 + fences.blocks
    starts = len(BLOCK_START.findall(text))
    queued = blocks + starts
    yield Cost(
        queued * BLOCK_SECONDS + queued * queued * QUEUE_SECONDS,
        1,
        f"it has {blocks:,} paragraphs or blank lines and {starts:,} lines that start a heading, list "
        "item, quote or table row",
        "split it into several items",
    )
    cells = text.count("|")
    yield Cost(
        cells * CELL_SECONDS, 1, f'it has {cells:,} table cells (or "|" signs)', "split the table into several items"
    )
    # Each line that starts a block inside a block makes Markdown search the rest of that block again,
    # with every kind of block tried before it: an abbreviation's definition is tried nearly last.
    work: dict[int, list[tuple[int, float]]] = {}  # the end of a block: its splitting lines, weighted
    end = -1
    for splitter in SPLITTER.finditer(text):
        if splitter.start() > end:
            found = BLOCK_END.search(text, splitter.start())
            end = found.start() if found else len(text)
        line = splitter.group().lstrip(" ")
        weight = (
            ABBREVIATION_SPLIT_SECONDS
            if line.startswith("*[")
            else HEADING_SPLIT_SECONDS
            if line[:1] in ("#", "=")
            else SPLIT_SECONDS
        )
        work.setdefault(end, []).append((splitter.start(), weight))
    if work:
        seconds = {e: sum((e - p) * w for p, w in lines) for e, lines in work.items()}
        block_end = max(seconds, key=seconds.__getitem__)
        first = work[block_end][0][0]
        yield Cost(
            sum(seconds.values()),
            text.count("\n", 0, first) + 1,
            f"this block has {len(work[block_end]):,} lines that start a heading, rule or definition in "
            f"{block_end - first:,} characters, and Markdown reads the rest of the block again for each",
            "put a blank line before and after each heading, rule and list of definitions",
        )


def html_cost(text: str) -> Cost | None:
    """Estimate the HTML reader's work: each tag, "<" and "&" it stops at, and from each "<" on to its end.

    A tag's reading ends at the next ">" that is not inside a quoted attribute value (`="..."`);
    one that is never closed reads on to the end of the text. Where the tags and signs alone are over
    the budget, their reading is not estimated (that would take long on such a text).
    """
    signs = text.count("<") + text.count("&")
    if not signs:
        return None
    tags = len(OPENER_START.findall(text))
    stopping = signs * SIGN_SECONDS + tags * TAG_SECONDS
    if not tags or stopping > BUDGET_SECONDS:
        first = min(i for i in (text.find("<"), text.find("&")) if i >= 0)
        return Cost(
            stopping,
            text.count("\n", 0, first) + 1,
            f'it has {signs:,} "<" and "&" signs ({tags:,} of them may start an HTML tag), and '
            "Markdown's HTML reader stops at each; this is the first",
            "put long runs of them in a code block, or remove them",
        )
    ends = [m.start() for m in GREATER.finditer(text)]
    values = list(QUOTED_VALUE.finditer(text))
    value_starts = [v.start() for v in values]
    quotes = {q: [m.start() for m in re.finditer(q, text)] for q in ("'", '"')}
    comment_ends = [m.start() for m in COMMENT_END.finditer(text)]

    def after(found: list[int], position: int) -> int:
        """Return the first of the sorted positions at or after `position`, else the end of the text."""
        index = bisect_left(found, position)
        return found[index] if index < len(found) else len(text)

    # value_ends[j]: where a tag's reading ends once it reaches quoted value j (right to left: it jumps ahead).
    value_ends = [len(text)] * len(values)

    def tag_end(position: int) -> int:
        """Return where reading a tag from `position` on ends."""
        end = after(ends, position)
        value = bisect_left(value_starts, position)
        return value_ends[value] if value < len(values) and value_starts[value] < end else end

    for j in range(len(values) - 1, -1, -1):
        same = quotes[values[j]["quote"]]
        close = bisect_right(same, values[j].start("quote"))
        value_ends[j] = tag_end(same[close] + 1) if close < len(same) else len(text)
    read = worst = worst_at = 0
    for opener in OPENER.finditer(text):
        if opener["tag"]:
            span = tag_end(opener.end()) - opener.start()
        elif opener["comment"]:
            span = after(comment_ends, opener.end()) - opener.start()
        else:
            span = after(ends, opener.end()) - opener.start()
        read += span
        if span > worst:
            worst, worst_at = span, opener.start()
    return Cost(
        read * HTML_SECONDS + stopping,
        text.count("\n", 0, worst_at) + 1,
        f'its HTML tags and "<" signs make Markdown\'s HTML reader read {read:,} characters; the '
        f'"<" on this line is not closed for {worst:,} characters',
        "close each HTML tag with >, and write &lt; for a < that does not start a tag",
    )


def definition_cost(text: str) -> Cost | None:
    """Estimate the work of lines that look like footnote or abbreviation definitions but are not closed.

    Markdown looks at each line that starts with "[^" for the "]" that ends a footnote's label, and at
    each that starts with "*[" for the "]:" that ends an abbreviation's, reading on across lines.
    """
    read = worst = worst_at = 0
    for starts, ends in ((FOOTNOTE_START, FOOTNOTE_END), (ABBREVIATION_START, ABBREVIATION_END)):
        found = [m.start() for m in starts.finditer(text)]
        if not found:
            continue
        closes = [m.start() for m in ends.finditer(text)]
        for start in found:
            index = bisect_left(closes, start)
            span = (closes[index] if index < len(closes) else len(text)) - start
            read += span
            if span > worst:
                worst, worst_at = span, start
    if not read:
        return None
    return Cost(
        read * DEFINITION_SECONDS,
        text.count("\n", 0, worst_at) + 1,
        f'its lines that start with "[^" or "*[" make Markdown read {read:,} characters looking for the '
        "end of a footnote's or abbreviation's label; this one is not closed for the longest",
        "write \\[ at the start of a line that is not a definition",
    )


def fence_cost(body: str, fences: Fences) -> Cost | None:
    """Estimate the work of fences never closed: Markdown reads on to the end of the text from each."""
    if not fences.unclosed:
        return None
    read = sum(len(body) - start for start in fences.unclosed)
    return Cost(
        read * FENCE_SECONDS,
        body.count("\n", 0, fences.unclosed[0]) + 1,
        f"it has {len(fences.unclosed):,} code fences (``` or ~~~) that are never closed, and Markdown "
        "reads on to the end of the text from each; this is the first",
        "close each fenced code block with a line of the same fence",
    )


def abbreviation_cost(text: str) -> Cost | None:
    """Estimate the abbreviations' work: Markdown looks for every one in all the text, and marks each found."""
    terms = {m["term"].strip(): m.start() for m in reversed(list(ABBREVIATION.finditer(text))) if m["term"].strip()}
    if not terms:
        return None
    first = min(terms.values())
    line = text.count("\n", 0, first) + 1
    searching = len(terms) * len(text) * ABBREVIATION_SECONDS
    if searching > BUDGET_SECONDS:
        return Cost(
            searching,
            line,
            f"it defines {len(terms):,} abbreviations (*[...]:), and Markdown looks for "
            "each in all the text; this is the first",
            "define only the abbreviations the text uses",
        )
    uses = sum(len(re.findall(rf"\b{re.escape(term)}\b", text)) for term in terms)
    return Cost(
        searching + uses * ABBREVIATION_USE_SECONDS,
        line,
        f"it defines {len(terms):,} abbreviations (*[...]:) used {uses:,} times, and Markdown marks each "
        "use; this is the first definition",
        "define only the abbreviations the text needs explained",
    )


def toc_cost(text: str) -> Cost | None:
    """Estimate the [TOC] markers' work: each makes Markdown walk the whole page."""
    count = text.count(TOC_MARKER)
    if not count:
        return None
    return Cost(
        count * len(text) * TOC_SECONDS,
        text.count("\n", 0, text.index(TOC_MARKER)) + 1,
        f"it has {count:,} [TOC] markers, and Markdown walks the whole text for each; this is the first",
        "keep one [TOC] at most",
    )
