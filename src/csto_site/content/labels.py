"""The interface text of the templates, per language: templates/labels.yaml, which site.yaml may override."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..util.errors import Problem
from ..util.files import read_text
from .frontmatter import load_yaml


def load_labels(templates: Path) -> tuple[dict[str, dict[str, Any]], list[Problem]]:
    """Read the templates' interface labels per language."""
    path = templates / "labels.yaml"
    if not path.is_file():
        return {}, [Problem(str(path), 0, "labels.yaml is missing", "the templates folder needs a labels.yaml")]
    text = read_text(str(path))
    if isinstance(text, Problem):
        return {}, [text]
    data, _, _, problems = load_yaml(text, str(path))
    if not problems and not isinstance(data, dict):
        problems = [Problem(str(path), 1, "labels.yaml must map languages to labels", "")]
    return (data if isinstance(data, dict) else {}), problems
