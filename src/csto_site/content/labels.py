"""The interface text of the templates, per language: templates/labels.yaml, which site.yaml may override."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..util.errors import Problem
from .frontmatter import load_yaml


def load_labels(templates: Path) -> tuple[dict[str, dict[str, Any]], list[Problem]]:
    """Read the templates' interface labels per language."""
    path = templates / "labels.yaml"
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        return {}, [
            Problem(str(path), 0, f"cannot read the labels: {exc.strerror}", "the templates folder needs a labels.yaml")
        ]
    data, _, _, problems = load_yaml(text, str(path))
    if not problems and not isinstance(data, dict):
        problems = [Problem(str(path), 1, "labels.yaml must map languages to labels", "")]
    return (data if isinstance(data, dict) else {}), problems
