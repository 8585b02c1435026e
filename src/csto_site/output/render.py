"""The Jinja2 environment and page rendering: strict, autoescaped, checked up front."""

from __future__ import annotations

import re
import traceback
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import jinja2
import jinja2.meta

from ..site.queries import Queries
from ..util.digest import digest
from ..util.errors import ContentError, Problem
from ..util.files import read_text
from .views import Page

HINT = "a template uses a name the page does not have; check its spelling"
FAILED_HINT = "fix the expression on that line of the template"
RECURSION = "a macro calls itself without end"
# Jinja2's messages of a missing name ("'foo' is undefined") and of a missing field or element
# ("'pkg.Item object' has no attribute 'foo'", "list object has no element 3").
UNDEFINED = re.compile(r"'(?P<name>[^']+)' is undefined")
NO_FIELD = re.compile(r"'?(?P<type>[\w.]+) object'? has no (?:attribute|element) '?(?P<field>[^']+)'?")
# What a template line asks that field of: `item.title` in `{{ item.title.foo }}` or `{{ item.title['foo'] }}`.
OWNER = r"(?P<owner>[A-Za-z_][\w.]*)(?:\.{field}\b|\[\s*['\"]?{field}['\"]?\s*\])"


class Renderer:
    """Render pages through the project's templates."""

    def __init__(self, templates: Path) -> None:
        self.templates = templates
        # No bytecode cache on disk: what Jinja2 keeps there is Python code, run when loaded, and the build
        # cache holds data only (a restored CI cache must not be able to run anything). Compiling the
        # templates a build uses costs it 20 to 50 ms; serve keeps its renderer between builds.
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

    def sources(self) -> tuple[dict[str, str], list[Problem]]:
        """Return the source of every template, by name; and the templates that cannot be read as text."""
        sources: dict[str, str] = {}
        problems = []
        for name in self.env.list_templates():
            text = read_text(str(self.templates / name))
            if isinstance(text, Problem):
                problems.append(text)
            else:
                sources[name] = text
        return sources, problems

    def render_template(self, name: str, **context: Any) -> str:
        """Render a template by name; a mistake in a template is a ContentError at its line."""
        try:
            return self.env.get_template(name).render(**context)
        except jinja2.TemplateError as exc:
            raise ContentError([self.problem(name, exc)]) from None
        except Exception as exc:  # a template's own expression failed (`1/0`, a filter given a wrong value)
            raise ContentError([self.failed(name, context, exc)]) from None

    def problem(self, name: str, exc: jinja2.TemplateError) -> Problem:
        """Place a rendering error at the template line it happened on (Jinja2 maps its frames to templates)."""
        message = exc.message or type(exc).__name__
        place = self.place(exc)
        if place is None:
            return Problem(str(self.templates / name), 0, message, HINT)
        if isinstance(exc, jinja2.UndefinedError):
            message = worded(message, place.line or "")
        return Problem(place.filename, place.lineno or 0, message, HINT)

    def failed(self, name: str, context: Mapping[str, Any], exc: Exception) -> Problem:
        """Place an error a template's expression raised at its line, in words with the page it was drawing."""
        page = context.get("page")
        drawing = f" while drawing {page.url}" if isinstance(page, Page) else ""
        reason = RECURSION if isinstance(exc, RecursionError) else str(exc) or type(exc).__name__
        place = self.place(exc)
        if place is None:
            return Problem(str(self.templates / name), 0, f"{reason}{drawing}", FAILED_HINT)
        return Problem(place.filename, place.lineno or 0, f"{reason}{drawing}", FAILED_HINT)

    def place(self, exc: BaseException) -> traceback.FrameSummary | None:
        """Return the innermost template frame of an error (a template the page's own extends or includes, maybe)."""
        frames = [f for f in traceback.extract_tb(exc.__traceback__) if Path(f.filename).is_relative_to(self.templates)]
        return frames[-1] if frames else None


def worded(message: str, line: str) -> str:
    """Word Jinja2's message of a missing name or field for a person, naming what the template line asks for."""
    if found := UNDEFINED.fullmatch(message):
        return f"the page has no `{found['name']}`"
    if not (found := NO_FIELD.fullmatch(message)):
        return message
    field = found["field"]
    owners = {m["owner"] for m in re.finditer(OWNER.format(field=re.escape(field)), line)}
    owner = f"`{owners.pop()}`" if len(owners) == 1 else f"the {found['type'].rsplit('.', 1)[-1]}"
    return f"{owner} has no field `{field}`"


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
