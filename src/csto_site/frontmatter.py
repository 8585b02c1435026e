"""Split a Markdown file into YAML front matter and body, keeping line numbers."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import yaml

from .errors import Problem

_BaseLoader: type = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _Loader(_BaseLoader):  # type: ignore[misc, valid-type]
    """Safe YAML loader that leaves dates as text, so one parser reads them all."""


_Loader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
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
    """Parse YAML text; return data, the line of each top-level key, list element lines, problems."""
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        if node is not None and _has_alias(node):
            problem = Problem(path, first_line + node.start_mark.line,
                              "YAML anchors and aliases (&, *) are not allowed", "write each value out in full")
            return None, {}, {}, [problem]
        data = loader.construct_document(node) if node is not None else None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = first_line + mark.line if mark else first_line
        reason = exc.problem or "invalid YAML"
        return None, {}, {}, [Problem(path, line, f"invalid YAML: {reason}", _yaml_hint(reason))]
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
    return data, lines, item_lines, []


def _has_alias(root: yaml.Node) -> bool:
    """Tell whether any node is reused (an alias), the root of YAML bombs."""
    seen: set[int] = set()
    stack = [root]
    while stack:
        node = stack.pop()
        if id(node) in seen:
            return True
        seen.add(id(node))
        if isinstance(node, yaml.SequenceNode):
            stack.extend(node.value)
        elif isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                stack.extend((key, value))
    return False


def _yaml_hint(reason: str) -> str:
    """Suggest a fix for the YAML mistakes editors make most."""
    if "tab" in reason:
        return "indent with spaces, not tabs"
    if "mapping values are not allowed" in reason:
        return 'put text containing ": " in quotes'
    return "check the indentation and quote text that contains : or #"


def split(text: str, path: str) -> tuple[FrontMatter | None, list[Problem]]:
    """Split `---` front matter from the body; report what is wrong with it."""
    text = text.removeprefix("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
    lines = text.split("\n")
    if not lines or lines[0].strip() != "---":
        return None, [Problem(path, 1, "the file does not start with front matter",
                              'put a line "---", the title and date, and another "---" at the top')]
    try:
        end = next(i for i in range(1, len(lines)) if lines[i].rstrip() in ("---", "..."))
    except StopIteration:
        return None, [Problem(path, 1, "the front matter is not closed",
                              'add a line "---" after the last front-matter line')]
    data, key_lines, item_lines, problems = load_yaml("\n".join(lines[1:end]), path, first_line=2)
    if problems:
        return None, problems
    if data is None:
        data = {}
    if not isinstance(data, dict):
        return None, [Problem(path, 2, "the front matter is not a list of `key: value` lines",
                              "write one `key: value` per line, e.g. `title: ...`")]
    body = "\n".join(lines[end + 1:])
    return FrontMatter(data, key_lines, item_lines, body, end + 2), []
