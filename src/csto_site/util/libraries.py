"""The libraries whose version can change what a build writes, named once for every digest that needs them."""

from __future__ import annotations

# The libraries that make a photo's variants: each distribution's name and the module that says its version.
PHOTO_LIBRARIES = (("pillow", "PIL"), ("pi_heif", "pi_heif"))

# Every library that shapes the output, by its distribution name (normalised: lower case, "_" for "-" and ".").
LIBRARIES = frozenset(
    {
        "jinja2",
        "markupsafe",
        "markdown",
        "nh3",
        "pyyaml",
        "python_slugify",
        "text_unidecode",
        "unidecode",
        "feedgen",
        "lxml",
        "python_dateutil",
        "brotli",
        "cbor2",
        "pagefind_bin",
        "tzdata",
        *(distribution for distribution, _ in PHOTO_LIBRARIES),
    }
)
