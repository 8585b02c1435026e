"""The Jinja2 environment and page rendering: strict, autoescaped, checked up front."""

from __future__ import annotations

import traceback
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import jinja2
import jinja2.meta

from ..site.queries import Queries
from ..util.digest import digest
from ..util.errors import ContentError, Problem
from .views import Page


class Renderer:
    """Render pages through the project's templates."""

    def __init__(self, templates: Path, compiled: Path | None = None) -> None:
        self.templates = templates
        if compiled is not None:
            compiled.mkdir(parents=True, exist_ok=True)
        self.env = jinja2.Environment(
            loader=jinja2.FileSystemLoader(templates),
            # Compiled templates kept between builds (keyed by their source): a rebuild does not compile again.
            bytecode_cache=jinja2.FileSystemBytecodeCache(str(compiled)) if compiled is not None else None,
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
                problems.append(
                    Problem(
                        str(self.templates / name),
                        exc.lineno,
                        exc.message or "syntax error",
                        "fix the template tag on that line",
                    )
                )
        return problems

    def render(self, q: Queries, page: Page) -> bytes:
        """Render one page to UTF-8 bytes, recording its template (with those it uses) as read."""
        q.template(page.template)
        return self.render_template(page.template, page=page, **page.context).encode()

    def sources(self) -> dict[str, str]:
        """Return the source of every template, by name."""
        env = self.env
        return {name: env.loader.get_source(env, name)[0] for name in env.list_templates()} if env.loader else {}

    def render_template(self, name: str, **context: Any) -> str:
        """Render a template by name; a mistake in a template is a ContentError at its line."""
        try:
            return self.env.get_template(name).render(**context)
        except jinja2.TemplateError as exc:
            raise ContentError([self.problem(name, exc)]) from None

    def problem(self, name: str, exc: jinja2.TemplateError) -> Problem:
        """Place a rendering error at the template line it happened on (Jinja2 maps its frames to templates)."""
        root = str(self.templates.resolve())
        frames = [f for f in traceback.extract_tb(exc.__traceback__) if f.filename.startswith(root)]
        path, line = (frames[-1].filename, frames[-1].lineno or 0) if frames else (str(self.templates / name), 0)
        return Problem(
            path,
            line,
            exc.message or type(exc).__name__,
            "a template uses a name the page does not have; check its spelling",
        )


def template_digests(env: jinja2.Environment, sources: Mapping[str, str]) -> dict[str, str]:
    """Digest each template (name -> source) together with every template it extends, includes or imports."""
    refs: dict[str, set[str | None]] = {}
    for name, source in sources.items():
        try:
            refs[name] = set(jinja2.meta.find_referenced_templates(env.parse(source)))
        except jinja2.TemplateSyntaxError:
            refs[name] = {None}
    everything = digest(*(f"{n}\x1e{s}" for n, s in sorted(sources.items())))
    digests = {}
    for name in sources:
        seen: set[str] = set()
        stack = [name]
        dynamic = False
        while stack:
            current = stack.pop()
            if current in seen:
                continue
            seen.add(current)
            for ref in refs.get(current, ()):
                if ref is None:
                    dynamic = True
                else:
                    stack.append(ref)
        # A template that names another only at run time may use any of them.
        digests[name] = everything if dynamic else digest(*(f"{n}\x1e{sources.get(n, '')}" for n in sorted(seen)))
    return digests
