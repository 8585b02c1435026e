"""The Jinja2 environment and page rendering: strict, autoescaped, checked up front."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jinja2

from .errors import Problem
from .frontmatter import load_yaml
from .views import Page


class Renderer:
    """Render pages through the project's templates."""

    def __init__(self, templates: Path) -> None:
        self.templates = templates
        self.env = jinja2.Environment(
            loader=jinja2.FileSystemLoader(templates),
            undefined=jinja2.StrictUndefined,
            autoescape=jinja2.select_autoescape(["html", "xml"]),
            trim_blocks=True,
            lstrip_blocks=True,
            keep_trailing_newline=True,
        )

    def check(self) -> list[Problem]:
        """Compile every template; report syntax errors with their line."""
        problems = []
        for name in self.env.list_templates(extensions=["html", "xml", "txt"]):
            try:
                self.env.get_template(name)
            except jinja2.TemplateSyntaxError as exc:
                problems.append(Problem(str(self.templates / name), exc.lineno, exc.message or "syntax error",
                                        "fix the template tag on that line"))
        return problems

    def render(self, page: Page) -> bytes:
        """Render one page to UTF-8 bytes."""
        return self.render_template(page.template, page=page, **page.context).encode()

    def render_template(self, name: str, **context: Any) -> str:
        """Render a template by name."""
        return self.env.get_template(name).render(**context)


def load_labels(templates: Path) -> tuple[dict[str, dict[str, Any]], list[Problem]]:
    """Read the templates' interface labels per language."""
    path = templates / "labels.yaml"
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        return {}, [Problem(str(path), 0, f"cannot read the labels: {exc.strerror}",
                            "the templates folder needs a labels.yaml")]
    data, _, _, problems = load_yaml(text, str(path))
    if not problems and not isinstance(data, dict):
        problems = [Problem(str(path), 1, "labels.yaml must map languages to labels", "")]
    return (data if isinstance(data, dict) else {}), problems
