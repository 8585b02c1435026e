"""The scripts languages are written in: which letters a text in a language should have."""

from __future__ import annotations

import re

# The script each language is written in, and the letters of each.
SCRIPT_OF = {
    **dict.fromkeys(("en", "fr", "de", "es", "it", "pt", "uz", "az", "tk"), "Latin"),
    **dict.fromkeys(("ru", "uk", "be", "kk", "ky", "tg", "mn", "sr", "bg"), "Cyrillic"),
}
LETTERS = {"Latin": re.compile(r"[A-Za-z\u00c0-\u024f]"), "Cyrillic": re.compile(r"[\u0400-\u04ff]")}
LANGUAGE_NAMES = {"en": "English", "ru": "Russian", "fr": "French", "de": "German", "es": "Spanish", "zh": "Chinese"}


def language_name(lang: str) -> str:
    """Name a language for a message: English, Russian, or its code."""
    return LANGUAGE_NAMES.get(lang, repr(lang))


def foreign_script(text: str, lang: str) -> str:
    """Return the script a text for `lang` is written in when it has no letter of the language's own, else ""."""
    expected = SCRIPT_OF.get(lang)
    if expected is None or LETTERS[expected].search(text):
        return ""  # a Latin name or acronym inside a Russian text is fine
    return next((script for script, letters in LETTERS.items() if letters.search(text)), "")


def collation_key(text: str, lang: str) -> tuple[bool, str, str]:
    """Return the key that sorts names as readers of `lang` expect: their own script first, ё as е, any case."""
    own = LETTERS.get(SCRIPT_OF.get(lang, ""))
    first = next((c for c in text if c.isalpha()), "")
    foreign = own is not None and not own.match(first)
    return foreign, folded(text), text


def folded(name: str) -> str:
    """Return a name as names are compared: without surrounding spaces, in any letter case, ё as е."""
    return name.strip().casefold().replace("ё", "е")
