"""Whether a link leaves the site: the one rule every reader of addresses and file names applies."""

from __future__ import annotations

import re

# A URL scheme (https:, mailto:, data:), as RFC 3986 spells it.
SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")


def is_external(url: str) -> bool:
    """Tell whether an address leaves this site: it has a scheme (https:, mailto:) or a host (//)."""
    return bool(SCHEME.match(url)) or url.startswith("//")
