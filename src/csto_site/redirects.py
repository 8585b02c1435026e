"""Old addresses of the site: the items' `aliases` and site.yaml's `redirects`, checked against the outputs."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from urllib.parse import unquote

from .errors import Problem
from .model import Site
from .publish import Output
from .urls import Urls, build_owns, output_path, path_error, redirect_path


@dataclass(frozen=True)
class Redirect:
    """An old address, the site URL it now leads to, and the file and line that ask for it."""

    old: str
    new: str
    lang: str
    title: str
    source: str
    line: int
    entry: str = ""  # the address as the file writes it, when this one was derived from a moved folder

    @property
    def path(self) -> str:
        """Return the redirect page's file, or "" when only the web server can redirect this address."""
        return redirect_path(self.old)

    @property
    def place(self) -> str:
        """Return the file a reader of the old address would have asked for, to find clashes."""
        return self.path or unquote(self.old).lstrip("/")


def collect_redirects(site: Site, urls: Urls, page_urls: Sequence[str]) -> tuple[Redirect, ...]:
    """List every redirect: the aliases of published items, then site.yaml's `redirects` in order."""
    found = [Redirect(alias.url, urls.item(item), item.lang, item.title, item.path, alias.line)
             for edition in site.editions.values() for item in edition.items for alias in item.aliases]
    for move in site.config.redirects:
        lang = language_of(move.new, site.config.languages, urls)
        found.append(Redirect(move.old, move.new, lang, "", move.source, move.line))
        if move.old.endswith("/") and move.new.endswith("/"):
            # A moved folder (a section) keeps every address below it: its dated archive too.
            found += [Redirect(move.old + url[len(move.new):], url, lang, "", move.source, move.line, move.old)
                      for url in page_urls if url.startswith(move.new) and url != move.new]
    return tuple(found)


def language_of(url: str, languages: Sequence[str], urls: Urls) -> str:
    """Return the language whose tree a site URL belongs to."""
    return next((lang for lang in languages[1:] if url.startswith(urls.prefix(lang) + "/")), languages[0])


def find_redirect_clashes(redirects: Iterable[Redirect], outputs: Iterable[Output], site: Site,
                          urls: Urls) -> list[Problem]:
    """Report old addresses that are real pages or given twice, and redirects to addresses that do not exist."""
    owners = {output.path: f"the address of /{output.path.removesuffix('index.html')}" for output in outputs}
    for edition in site.editions.values():
        for item in edition.items:
            owners[output_path(urls.item(item))] = f"the address of {item.path}"
    # One problem per address the files give: a moved folder's derived addresses share its entry.
    problems: dict[tuple[str, int, str], Problem] = {}
    first: dict[str, Redirect] = {}
    for redirect in sorted(redirects, key=lambda r: (r.source, r.line)):
        where = (redirect.source, redirect.line)
        earlier = first.setdefault(redirect.place, redirect)
        if redirect.place in owners:
            problem = Problem(*where, f"the old address {redirect.old} is {owners[redirect.place]}",
                              "remove it: a redirect there would hide that page")
        elif build_owns(redirect.place, owners):
            problem = Problem(*where, f"the old address {redirect.old} is a file the build writes itself",
                              "remove it: a redirect there would hide that file (search, static files, "
                              "feeds and their .gz and .br copies belong to the build)")
        elif reason := path_error(redirect.place):
            problem = Problem(*where, f"the old address {redirect.old} cannot be written: {reason}",
                              "shorten the old address")
        elif earlier is not redirect:
            problem = Problem(*where, f"the old address {redirect.old} is also given in "
                                      f"{earlier.source}:{earlier.line}", "keep it in one place only")
        elif output_path(redirect.new) not in owners:
            problem = Problem(*where, f"the new address {redirect.new} is not a page of the site",
                              "point it at a page the build writes, e.g. /sections/<section>/")
        else:
            continue
        problems.setdefault((*where, redirect.entry or redirect.old), problem)
    return list(problems.values())
