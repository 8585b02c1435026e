"""Split a Markdown file into YAML front matter and body, keeping line numbers."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

import yaml

from ..util.errors import Problem

_BaseLoader: type = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

# Front matter nests two or three levels; LibYAML's composer recurses in C and crashes the
# interpreter on a few thousand levels, so deeper input is refused before it is composed.
MAX_DEPTH = 32
# Below these sizes the nesting cannot reach a harmful depth, so the extra pass is skipped.
DEPTH_CHECK_CHARS = 2048
# A line front matter may hold: blank, indented, a comment, a list entry, a `key:` (a key has no space),
# a list or map written as a key, or YAML's `?` and `:` of a complex key (refused, at their line). Any
# other line is text: the body began there, before a "---" was written to close the front matter.
FRONT_MATTER_LINE = re.compile(r"^(\s|#|-|\.\.\.|[?:](\s|$)|([^\s:]+|\[.*\]|\{.*\})\s*:(\s|$)|$)")
# A tab in a line's indentation (before a key or a list item, or after its "-"): YAML reads no tab there.
TAB_INDENT = re.compile(r"^[ \t-]*\t")
TAB_HINT = "indent with spaces, not tabs"
# The keys of free text, where a " #" is likely meant as text: YAML ends a plain (unquoted) value there.
FREE_TEXT = frozenset({"title", "summary", "place", "note", "alt", "caption", "credit"})
COMMENT = re.compile(r"[ \t]+#")
MERGE_TAG = "tag:yaml.org,2002:merge"
INT_TAG = "tag:yaml.org,2002:int"
FLOAT_TAG = "tag:yaml.org,2002:float"
TIMESTAMP_TAG = "tag:yaml.org,2002:timestamp"
WHOLE_NUMBER = re.compile(r"^-?(?:0|[1-9][0-9]*)$")


class _Loader(_BaseLoader):  # type: ignore[misc]
    """Safe YAML loader that keys mappings by their keys as written, and leaves as text what a number would change.

    Dates stay text, so one parser reads them all. A whole number is one only as plain digits, so that
    its text is the number's (`title: 007` stays "007", `0x1F` is no 31); nothing is a fraction
    (`title: 1.10` stays "1.10", `.inf` is no infinity).
    """

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[str, Any]:
        """Build a mapping whose keys are the text of their names (`_check_nodes` refused any other key)."""
        return {key.value: self.construct_object(value, deep=deep) for key, value in node.value}


_Loader.yaml_implicit_resolvers = {
    first: [
        (tag, WHOLE_NUMBER if tag == INT_TAG else regexp)
        for tag, regexp in resolvers
        if tag not in (TIMESTAMP_TAG, FLOAT_TAG)
    ]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


@dataclass(frozen=True)
class FrontMatter:
    """The parsed header of a file: values, the line of each key, and the body."""

    meta: dict[str, Any]
    lines: dict[str, int]
    item_lines: dict[str, tuple[int, ...]]
    body: str
    body_line: int


def load_yaml(
    text: str, path: str, first_line: int = 1
) -> tuple[Any, dict[str, int], dict[str, tuple[int, ...]], list[Problem]]:
    """Parse YAML text; return data, the line of each top-level key, lines of their entries, problems."""
    loader = _Loader(text)
    try:
        deep = _too_deep(text)
        if deep is not None:
            return (
                None,
                {},
                {},
                [
                    Problem(
                        path,
                        first_line + deep,
                        f"the YAML nests more than {MAX_DEPTH} levels deep",
                        "write plain `key: value` lines and short lists",
                    )
                ],
            )
        node = loader.get_single_node()
        refused = _node_problems(node, text, path, first_line) if node is not None else []
        if refused:
            return None, {}, {}, refused
        data = loader.construct_document(node) if node is not None else None
    except yaml.MarkedYAMLError as exc:
        if exc.context == "while scanning a quoted scalar" and exc.context_mark:
            return (
                None,
                {},
                {},
                [
                    Problem(
                        path,
                        first_line + exc.context_mark.line,
                        "a quote is not closed",
                        "end the text with the same quote mark it starts with",
                    )
                ],
            )
        mark = exc.problem_mark or exc.context_mark
        at = mark.line if mark else 0
        reason = exc.problem or "invalid YAML"
        tab = _tab_line(text, at)
        if tab is not None:
            # LibYAML names a tab only where it breaks an indentation it already counts; elsewhere it says
            # a character "cannot start any token", which does not tell an editor what to change.
            reason = reason if "tab" in reason else "found a tab character where YAML expects spaces"
            return None, {}, {}, [Problem(path, first_line + tab, f"invalid YAML: {reason}", TAB_HINT)]
        return None, {}, {}, [Problem(path, first_line + at, f"invalid YAML: {reason}", _yaml_hint(reason))]
    except yaml.reader.ReaderError as exc:
        # LibYAML counts the position in UTF-8 bytes, so find the character itself.
        char = chr(exc.character) if isinstance(exc.character, int) else str(exc.character)
        line = first_line + text[: max(text.find(char), 0)].count("\n")
        message = f"invisible control character U+{ord(char[:1] or ' '):04X} in the YAML"
        return (
            None,
            {},
            {},
            [Problem(path, line, message, "delete it (it often comes with text pasted from a word processor)")],
        )
    except yaml.YAMLError as exc:
        return None, {}, {}, [Problem(path, first_line, f"invalid YAML: {exc}", "")]
    finally:
        loader.dispose()
    lines: dict[str, int] = {}
    item_lines: dict[str, tuple[int, ...]] = {}
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            key = str(key_node.value)
            lines[key] = first_line + key_node.start_mark.line
            if isinstance(value_node, yaml.SequenceNode):
                item_lines[key] = tuple(first_line + n.start_mark.line for n in value_node.value)
            elif isinstance(value_node, yaml.MappingNode):
                item_lines[key] = tuple(first_line + k.start_mark.line for k, _ in value_node.value)
    return data, lines, item_lines, []


def _too_deep(text: str) -> int | None:
    """Return the line where collections nest deeper than MAX_DEPTH, without composing them."""
    if len(text) < DEPTH_CHECK_CHARS and text.count("[") + text.count("{") < MAX_DEPTH:
        return None
    depth = 0
    try:
        for event in yaml.parse(text, Loader=_BaseLoader):
            if isinstance(event, yaml.CollectionStartEvent):
                depth += 1
                if depth > MAX_DEPTH:
                    return int(event.start_mark.line) if event.start_mark is not None else 0
            elif isinstance(event, yaml.CollectionEndEvent):
                depth -= 1
    except yaml.MarkedYAMLError as exc:
        # Newer LibYAML refuses deep nesting itself (at 1,000 levels); report it the same way.
        if exc.problem_mark is not None and "nesting depth" in (exc.problem or ""):
            return int(exc.problem_mark.line)
        raise
    return None


def _check_nodes(root: yaml.Node, path: str, first_line: int) -> Problem | None:
    """Refuse reused nodes (aliases, the root of YAML bombs) and keys given twice in one mapping."""
    seen: set[int] = set()
    stack = [root]
    while stack:
        node = stack.pop()
        if id(node) in seen:
            return Problem(
                path,
                first_line + node.start_mark.line,
                "YAML anchors and aliases (&, *) are not allowed",
                "write each value out in full",
            )
        seen.add(id(node))
        if isinstance(node, yaml.SequenceNode):
            stack.extend(node.value)
        elif isinstance(node, yaml.MappingNode):
            keys: dict[str, int] = {}
            for key, value in node.value:
                line = first_line + key.start_mark.line
                refused = _key_problem(key)
                if refused is not None:
                    return Problem(path, line, *refused)
                if key.value in keys:
                    return Problem(
                        path,
                        line,
                        f"`{key.value}` is given twice (first on line {keys[key.value]})",
                        "keep one of them",
                    )
                keys[key.value] = line
                stack.extend((key, value))
    return None


def _key_problem(key: yaml.Node) -> tuple[str, str] | None:
    """Return the message and hint for a key that is not a plain name, or None for one that is."""
    if not isinstance(key, yaml.ScalarNode):
        kind = "list" if isinstance(key, yaml.SequenceNode) else "map"
        return f"a key is a {kind}, not a name", "write the key as a plain name before the `:`, without brackets"
    if key.tag == MERGE_TAG:
        return "YAML merge keys (<<) are not allowed", "write each key and value out in full"
    if not key.value.strip():
        return "a `:` has no key before it", "write `key: value`, or delete the line"
    return None


def _node_problems(root: yaml.Node, text: str, path: str, first_line: int) -> list[Problem]:
    """Refuse what YAML would read otherwise than it is written: reused nodes, keys twice, texts cut by a comment."""
    problem = _check_nodes(root, path, first_line)
    return [problem] if problem is not None else _cut_by_comments(root, text, path, first_line)


def _cut_by_comments(root: yaml.Node, text: str, path: str, first_line: int) -> list[Problem]:
    """Refuse a free text YAML cut at ` #`: the rest of its line became a comment, and the text lost it."""
    lines = text.split("\n")
    problems = []
    stack = [root]
    while stack:
        node = stack.pop()
        if isinstance(node, yaml.SequenceNode):
            stack.extend(reversed(node.value))
        elif isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                stack.append(value)
                if key.value not in FREE_TEXT or not isinstance(value, yaml.ScalarNode) or value.style:
                    continue  # only a plain (unquoted) text ends where a comment starts
                end = value.end_mark
                rest = lines[end.line][end.column :]
                if COMMENT.match(rest):
                    whole = json.dumps(f"{value.value}{rest}".rstrip(), ensure_ascii=False)
                    problems.append(
                        Problem(
                            path,
                            first_line + end.line,
                            f"the `{key.value}` stops at `#`: in YAML, ` #` starts a comment",
                            f"put the {key.value} in quotes: `{key.value}: {whole}`",
                        )
                    )
    return sorted(problems, key=lambda problem: problem.line)


def _tab_line(text: str, line: int) -> int | None:
    """Return the line (from 0) of a tab that can explain a YAML error at `line`, or None.

    That is the error's own line if a tab indents it, else the first line before it that a tab indents.
    """
    tabbed = [i for i, indented in enumerate(text.split("\n")[: line + 1]) if TAB_INDENT.match(indented)]
    return line if line in tabbed else next(iter(tabbed), None)


def _yaml_hint(reason: str) -> str:
    """Suggest a fix for the YAML mistakes editors make most."""
    if "tab" in reason:
        return TAB_HINT
    if "constructor for the tag" in reason:
        return 'remove the "!" tag and write plain text'
    if "mapping values are not allowed" in reason:
        return 'put text containing ": " in quotes'
    return "check the indentation and quote text that contains : or #"


def split(text: str, path: str) -> tuple[FrontMatter | None, list[Problem]]:
    """Split `---` front matter from the body; report what is wrong with it."""
    text = text.removeprefix("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
    if not text.strip():
        return None, [
            Problem(
                path,
                1,
                "the file is empty",
                'start it with "---", a `title:` and a `date:` line, and "---"; or delete it',
            )
        ]
    lines = text.split("\n")
    if lines[0].strip() != "---":
        return None, [
            Problem(
                path,
                1,
                "the file does not start with front matter",
                'put a line "---", the title and date, and another "---" at the top',
            )
        ]
    try:
        end = next(i for i in range(1, len(lines)) if lines[i].rstrip() in ("---", "..."))
    except StopIteration:
        return None, [
            Problem(path, 1, "the front matter is not closed", 'add a line "---" after the last front-matter line')
        ]
    data, key_lines, item_lines, problems = load_yaml("\n".join(lines[1:end]), path, first_line=2)
    # A "---" in the body (a rule) closed a front matter left open: the YAML error or the unknown keys its
    # text would give mislead. Text is a line no front matter has, after a blank line (or any, when YAML fails).
    text_starts = next(
        (i for i in range(1, end) if not FRONT_MATTER_LINE.match(lines[i]) and (problems or not lines[i - 1].strip())),
        None,
    )
    if text_starts is not None:
        return None, [
            Problem(
                path,
                1,
                "the front matter is not closed",
                f'add a line "---" before line {text_starts + 1}, where the text begins',
            )
        ]
    if problems:
        return None, problems
    if data is None:
        data = {}
    if not isinstance(data, dict):
        return None, [
            Problem(
                path,
                2,
                "the front matter is not a list of `key: value` lines",
                "write one `key: value` per line, e.g. `title: ...`",
            )
        ]
    body = "\n".join(lines[end + 1 :])
    return FrontMatter(data, key_lines, item_lines, body, end + 2), []


def yaml_line(text: str, keys: tuple[str | int, ...], first_line: int = 1) -> int:
    """Return the line of a nested value (keys of mappings, indexes of lists) in YAML text load_yaml accepted.

    Read again only when a problem needs the line: load_yaml keeps the lines of the first two levels.
    The line is that of the deepest key found, or `first_line` when none is.
    """
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
    except yaml.YAMLError:
        return first_line
    finally:
        loader.dispose()
    line = first_line
    for key in keys:
        if isinstance(node, yaml.MappingNode):
            found = next(
                ((k, v) for k, v in node.value if isinstance(k, yaml.ScalarNode) and k.value == str(key)), None
            )
            if found is None:
                break
            line, node = first_line + found[0].start_mark.line, found[1]
        elif isinstance(node, yaml.SequenceNode) and isinstance(key, int) and key < len(node.value):
            node = node.value[key]
            line = first_line + node.start_mark.line
        else:
            break
    return line
