"""Old addresses as the content gives them (items' `aliases`), checked by the URL rules."""

from __future__ import annotations

from collections.abc import Iterable

from ..content.model import Item
from ..util.errors import Problem
from .urls import redirect_error


def address_problems(items: Iterable[Item]) -> list[Problem]:
    """Report every alias that is not an address of this site, at its line (site.yaml's redirects: load_config)."""
    return [
        Problem(
            item.path,
            alias.line,
            f"the alias {alias.url!r} cannot be used: {reason}",
            'write the old address as a path, e.g. "/news/2019/old-title.html"',
        )
        for item in items
        for alias in item.aliases
        if (reason := redirect_error(alias.url))
    ]
