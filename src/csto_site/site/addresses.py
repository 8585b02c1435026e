"""Old addresses as the content gives them (items' `aliases`, site.yaml's `redirects`), checked by the URL rules."""

from __future__ import annotations

from collections.abc import Iterable

from ..content.config import SiteConfig
from ..content.model import Item
from ..util.errors import Problem
from .urls import redirect_error


def address_problems(items: Iterable[Item], config: SiteConfig) -> list[Problem]:
    """Report every alias and redirect that is not an address of this site, at its line."""
    problems = [Problem(item.path, alias.line, f"the alias {alias.url!r} cannot be used: {reason}",
                        'write the old address as a path, e.g. "/news/2019/old-title.html"')
                for item in items for alias in item.aliases if (reason := redirect_error(alias.url))]
    for move in config.redirects:
        reasons = [f"the {which} address {url!r}: {reason}"
                   for which, url in (("old", move.old), ("new", move.new)) if (reason := redirect_error(url))]
        if reasons:
            problems.append(Problem(move.source, move.line, f"the redirect cannot be used: {'; '.join(reasons)}",
                                    'write paths on this site, e.g. "/sections/old-name/": /sections/new-name/'))
    return problems
