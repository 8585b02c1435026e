"""The site configuration: content/site.yaml, checked and frozen."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ..util.digest import digest_text
from ..util.errors import ContentError, Problem, did_you_mean
from ..util.files import read_text
from .frontmatter import load_yaml, yaml_line

SITE_KEYS = (
    "title",
    "description",
    "base_url",
    "languages",
    "timezone",
    "feed_length",
    "press_contact",
    "labels",
    "redirects",
    "logo",
    "gone",
)
LANGUAGE = re.compile(r"^[a-z]{2,3}$")
# An absolute http(s) address: a plain host name (letters, digits, dots, hyphens) and an optional port;
# no path, for the site is served at the root of its address (its pages link /news/..., /static/...);
# nothing that could end an attribute.
BASE_URL = re.compile(
    r"^https?://[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*"
    r"(?::[0-9]{1,5})?/?$"
)
# A feed of a few hundred items is already larger than feed readers fetch comfortably.
FEED_LENGTHS = range(1, 1001)
# Characters XML 1.0 forbids or that nobody sees: YAML's escapes ("\0", "\e", "\x1b") can write them
# into any text, and they would break the feeds and sitemaps.
INVISIBLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")
# The years a date may have. The CSTO's news starts in the 1990s: a year outside these is a typing
# mistake (2204 for 2024), and far outside them the calendar breaks: near the years 1 and 9999 time zone
# and news-sitemap arithmetic overflows, and before about 1920 local time zones had offsets in seconds
# (Moscow +02:30:17) that ISO 8601 and RFC 822 dates cannot write.
FIRST_YEAR, LAST_YEAR = 1970, 2999
PHONE = re.compile(r"^\+?[0-9 ()./-]*[0-9][0-9 ()./-]*$")
EMAIL = re.compile(r"^[^\s@<>\"'\\?#]+@[^\s@<>\"'\\?#/]+\.[^\s@<>\"'\\?#/.]+$")
# Labels the code reads as numbers (how many items a listing shows), and the range it can use.
LABEL_NUMBERS = range(1, 1001)
# Labels that list a word's plural forms: as many as the language has (English two, Russian three).
PLURAL_LABELS = frozenset({"items", "search_results"})
# The labels the code itself reads (views.py, plan.py, markup.py), each with an example of its kind:
# numbers of items, twelve month names, plural forms, a text with one placeholder, texts. A template
# that names a label labels.yaml lacks is reported at its line when drawn; the code would crash.
CODE_LABELS: Mapping[str, Any] = {
    "home_items": 10,
    "listing_items": 20,
    "months": ("",) * 12,
    "months_of": ("",) * 12,
    "items": ("",),
    "search_results": ("",),
    "footnote_back": "%d",
    "search_for": "%s",
    **dict.fromkeys(
        (
            "all_news",
            "back_to_news",
            "by_month",
            "by_year",
            "feed",
            "feed_all",
            "home",
            "language_name",
            "latest",
            "locale",
            "moved",
            "not_found",
            "officials",
            "organizations",
            "read_in",
            "search",
            "since",
        ),
        "text",
    ),
}
# Placeholders the code fills in a label: a label may hold each at most as often as its default.
PLACEHOLDERS = ("%d", "%s")


@dataclass(frozen=True)
class Contact:
    """The press contact block shown on the home page and every item."""

    name: Mapping[str, str]
    phones: tuple[str, ...]
    email: str


@dataclass(frozen=True)
class Move:
    """One entry of site.yaml's `redirects`: an old address, the new one, and its line."""

    old: str
    new: str
    source: str
    line: int


@dataclass(frozen=True)
class Gone:
    """One entry of site.yaml's `gone`: a retracted address, why it was withdrawn, and its line."""

    address: str
    reason: str
    source: str
    line: int


@dataclass(frozen=True)
class SiteConfig:
    """Everything site.yaml says, with defaults filled in."""

    title: Mapping[str, str]
    description: Mapping[str, str]
    base_url: str
    languages: tuple[str, ...]
    timezone: str
    feed_length: int
    contact: Contact
    labels: Mapping[str, Mapping[str, Any]]
    digest: str
    redirects: tuple[Move, ...] = ()
    # The emblem: a file of the static folder shown in the masthead, as the icon and the publisher's logo.
    logo: str = ""
    gone: tuple[Gone, ...] = ()

    @property
    def default_language(self) -> str:
        """Return the language served at the root."""
        return self.languages[0]

    @property
    def tz(self) -> ZoneInfo:
        """Return the site time zone."""
        return ZoneInfo(self.timezone)


class FieldChecker:
    """Collect problems while reading one YAML mapping.

    `lines` gives the line of each key; with the file's `text`, a problem in a nested value is placed at
    that value's own line (`base` leads from the top of the file to the mapping read).
    """

    def __init__(
        self, path: str, lines: dict[str, int], text: str = "", base: tuple[str | int, ...] = (), first_line: int = 1
    ) -> None:
        self.path = path
        self.lines = lines
        self.text = text
        self.base = base
        self.first_line = first_line
        self.problems: list[Problem] = []

    def fail(self, key: str, message: str, hint: str = "") -> None:
        """Record a problem at the line of `key`."""
        self.problems.append(Problem(self.path, self.lines.get(key, 1), message, hint))

    def fail_at(self, keys: tuple[str | int, ...], message: str, hint: str = "") -> None:
        """Record a problem at the line of a nested value: `keys` lead to it from the mapping read."""
        self.problems.append(Problem(self.path, self.line_at(keys), message, hint))

    def line_at(self, keys: tuple[str | int, ...]) -> int:
        """Return the line of a nested value: `keys` lead to it from the mapping read."""
        if self.text:
            return yaml_line(self.text, (*self.base, *keys), self.first_line)
        return self.lines.get(str(keys[0]), 1)

    def localized(
        self,
        data: Mapping[str, Any],
        key: str,
        languages: tuple[str, ...],
        required: bool = True,
        at: tuple[str | int, ...] = (),
        blank: bool = False,
    ) -> dict[str, str]:
        """Read `{en: ..., ru: ...}` (or one plain text for all languages); `at` leads to `data`.

        Each text must say something, unless `blank` allows an empty one.
        """
        value = data.get(key)
        where = (*at, key)
        name = ".".join(str(k) for k in where)
        plain = isinstance(value, str)
        if value is None:
            if required:
                self.fail_at(where, f"missing `{name}`", f"add `{key}: {{{languages[0]}: ...}}`")
            return {}
        if isinstance(value, str):
            value = dict.fromkeys(languages, value)
        if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
            self.fail_at(where, f"`{name}` must be text per language", f"write `{key}: {{{languages[0]}: ...}}`")
            return {}
        unknown = [str(lang) for lang in value if lang not in languages]
        if unknown:
            self.fail_at(
                (*where, unknown[0]),
                f"`{name}` has unknown language {unknown[0]!r}",
                f"languages in site.yaml: {', '.join(languages)}",
            )
        if languages[0] not in value:
            self.fail_at(
                where, f"`{name}` has no text in the default language {languages[0]!r}", f"add `{languages[0]}: ...`"
            )
            return {}
        for lang, text in value.items():
            reason, hint = text_error(text, required=not blank)
            if reason:
                self.fail_at(where if plain else (*where, lang), f"`{name}` {reason}", hint)
                return {}
        return {lang: value.get(lang, value[languages[0]]).strip() for lang in languages}


def text_error(text: str, required: bool = True) -> tuple[str, str]:
    """Return why a text from YAML cannot be shown, and a hint; ("", "") when it can."""
    if required and not text.strip():
        return "is empty", "write the text, or remove the line"
    bad = INVISIBLE.search(text)
    if bad:
        return (
            f"holds the invisible control character U+{ord(bad.group()):04X}",
            'delete it: in quotes, YAML escapes such as "\\e" or "\\x1b" write such characters',
        )
    return "", ""


def year_error(year: int) -> str:
    """Return why a date's year is out of the range the site can use, or ""."""
    if FIRST_YEAR <= year <= LAST_YEAR:
        return ""
    return f"the year {year} is outside {FIRST_YEAR}–{LAST_YEAR}"


def load_config(
    content: Path,
    default_labels: Mapping[str, Mapping[str, Any]],
    label_path: str = "templates/labels.yaml",
    address_error: Callable[[str], str] = lambda url: "",
    logo_error: Callable[[str], tuple[str, str]] = lambda name: ("", ""),
) -> SiteConfig:
    """Read and check site.yaml; raise ContentError listing every problem.

    `address_error` and `logo_error` are the site's rules for an address and for the emblem's file (they
    live above this package): each returns why a value cannot be used, or "".
    """
    path = content / "site.yaml"
    shown = str(path)
    if not path.exists():
        raise ContentError([Problem(shown, 0, "site.yaml is missing", "create it with title, base_url and languages")])
    text = read_text(shown)
    if isinstance(text, Problem):
        raise ContentError([text])
    data, lines, entry_lines, problems = load_yaml(text, shown)
    if problems:
        raise ContentError(problems)
    if not isinstance(data, dict):
        raise ContentError([Problem(shown, 1, "site.yaml must be a list of `key: value` lines", "")])
    check = FieldChecker(shown, lines, text)
    for key in data:
        if key not in SITE_KEYS:
            check.fail(str(key), f"unknown key `{key}` in site.yaml", did_you_mean(str(key), SITE_KEYS))
    languages = _languages(data, check)
    base_url = _base_url(data, check)
    timezone = str(data.get("timezone", "Europe/Moscow"))
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        check.fail("timezone", f"unknown time zone {timezone!r}", 'use a name like "Europe/Moscow"')
    feed_length = data.get("feed_length", 50)
    if not isinstance(feed_length, int) or isinstance(feed_length, bool) or feed_length not in FEED_LENGTHS:
        check.fail(
            "feed_length",
            f"`feed_length` must be a whole number from {FEED_LENGTHS.start} to {FEED_LENGTHS.stop - 1}",
            "e.g. `feed_length: 50`",
        )
    title = check.localized(data, "title", languages)
    description = check.localized(data, "description", languages, required=False, blank=True)
    contact = _contact(data.get("press_contact") or {}, check, languages)
    labels = _labels(data.get("labels") or {}, default_labels, check, languages, label_path)
    redirects = _redirects(data.get("redirects") or {}, entry_lines.get("redirects", ()), check, address_error)
    logo = _logo(data.get("logo"), check, logo_error)
    gone = _gone(data.get("gone") or {}, entry_lines.get("gone", ()), check, address_error)
    if check.problems:
        raise ContentError(check.problems)
    return SiteConfig(
        title=title,
        description={lang: description.get(lang, "") for lang in languages},
        base_url=base_url,
        languages=languages,
        timezone=timezone,
        feed_length=int(feed_length),
        contact=contact,
        labels=labels,
        digest=digest_text(text),
        redirects=redirects,
        logo=logo,
        gone=gone,
    )


def _logo(value: Any, check: FieldChecker, logo_error: Callable[[str], tuple[str, str]]) -> str:
    """Read `logo`: the name of an SVG or PNG file in the static folder, checked by `logo_error`."""
    if value is None:
        return ""
    if not isinstance(value, str) or not value.strip():
        check.fail("logo", "`logo` must name the emblem's file in the static folder", "e.g. `logo: emblem.svg`")
        return ""
    reason, hint = logo_error(value.strip())
    if reason:
        check.fail("logo", f"`logo`: {reason}", hint)
        return ""
    return value.strip()


def _languages(data: Mapping[str, Any], check: FieldChecker) -> tuple[str, ...]:
    """Read the list of languages; the first is the default."""
    value = data.get("languages", ["en"])
    if not isinstance(value, list) or not value or not all(isinstance(v, str) and LANGUAGE.match(v) for v in value):
        check.fail("languages", "`languages` must be a list of language codes", "e.g. `languages: [en, ru]`")
        return ("en",)
    if len(set(value)) != len(value):
        check.fail("languages", "`languages` lists a language twice", "")
    return tuple(value)


def _base_url(data: Mapping[str, Any], check: FieldChecker) -> str:
    """Read the absolute base URL, without a trailing slash."""
    value = data.get("base_url")
    if not isinstance(value, str) or not BASE_URL.match(value) or int(_port(value) or 1) > 65535:
        check.fail(
            "base_url",
            "`base_url` must be an absolute http(s) address: a host name and an optional port, no path "
            "(the site is served at the root of its address), no query, quotes or spaces",
            "e.g. `base_url: https://odkb-csto.org`",
        )
        return "https://example.org"
    return value.rstrip("/")


def _port(url: str) -> str:
    """Return the port of an address BASE_URL matched, or ""."""
    host = url.split("://", 1)[1].split("/", 1)[0]
    return host.rpartition(":")[2] if ":" in host else ""


def _contact(value: Any, check: FieldChecker, languages: tuple[str, ...]) -> Contact:
    """Read the press contact block."""
    if not isinstance(value, dict):
        check.fail("press_contact", "`press_contact` must have `name` and `phones`", "")
        return Contact({}, (), "")
    name = check.localized(value, "name", languages, required=False, at=("press_contact",))
    phones = value.get("phones", [])
    if not isinstance(phones, list) or not all(isinstance(p, str) and PHONE.match(p) for p in phones):
        check.fail_at(
            ("press_contact", "phones"),
            "`press_contact.phones` must be a list of quoted numbers",
            'digits, spaces, "+", "-" and brackets, e.g. `phones: ["+7 495-795-27-10"]`',
        )
        phones = []
    email = value.get("email", "")
    if not isinstance(email, str) or (email and not EMAIL.match(email)):
        check.fail_at(
            ("press_contact", "email"),
            "`press_contact.email` must be an email address",
            "e.g. `email: press@odkb-csto.org`",
        )
        email = ""
    unknown = [k for k in value if k not in ("name", "phones", "email")]
    if unknown:
        check.fail(
            "press_contact",
            f"unknown key `{unknown[0]}` in press_contact",
            did_you_mean(str(unknown[0]), ("name", "phones", "email")),
        )
    return Contact({lang: name.get(lang, "") for lang in languages}, tuple(phones), email)


def _labels(
    overrides: Any,
    defaults: Mapping[str, Mapping[str, Any]],
    check: FieldChecker,
    languages: tuple[str, ...],
    label_path: str,
) -> dict[str, dict[str, Any]]:
    """Merge the theme's interface labels with site.yaml's `labels` overrides, each of its default's kind."""
    if not isinstance(overrides, dict):
        check.fail("labels", "`labels` must map a language to `label: text` lines", "")
        overrides = {}
    for lang in overrides:
        if lang not in languages:
            check.fail_at(
                ("labels", lang),
                f"`labels` has unknown language {lang!r}",
                f"languages in site.yaml: {', '.join(languages)}",
            )
    theme = _theme_problems(defaults, languages, label_path)
    check.problems += theme
    merged: dict[str, dict[str, Any]] = {}
    for lang in languages:
        if lang not in defaults:
            check.fail(
                "languages",
                f"the templates have no labels for language {lang!r}",
                f"add a `{lang}:` block to {label_path}",
            )
            continue
        mine = overrides.get(lang) or {}
        if not isinstance(mine, dict):
            check.fail_at(("labels", lang), f"`labels.{lang}` must be `label: text` lines", "")
            mine = {}
        for key, value in mine.items():
            if key not in defaults[lang]:
                check.fail_at(("labels", lang, key), f"unknown label `{key}`", did_you_mean(str(key), defaults[lang]))
            elif not theme and (reason := label_error(key, value, defaults[lang][key], plural_free=False)):
                shown = repr(defaults[lang][key])
                check.fail_at(
                    ("labels", lang, key),
                    f"the label `{lang}.{key}` {reason}",
                    f"like its default in {label_path}: {shown[:40] + '...' * (len(shown) > 40)}",
                )
        merged[lang] = {**defaults[lang], **mine}
    return merged


def label_error(key: str, value: Any, default: Any, plural_free: bool) -> str:
    """Return why a label's value is not of its default's kind (text, whole number, list of texts), or "".

    Lists keep their default's length, except a list of plural forms when `plural_free` (another language's).
    """
    if isinstance(default, bool) or not isinstance(default, (str, int, list, tuple)):
        return f"has a default of a kind the templates cannot use ({type(default).__name__})"
    if isinstance(default, int):
        if not isinstance(value, int) or isinstance(value, bool) or value not in LABEL_NUMBERS:
            return f"must be a whole number from {LABEL_NUMBERS.start} to {LABEL_NUMBERS.stop - 1}"
        return ""
    if isinstance(default, (list, tuple)):
        if not isinstance(value, list) or not value or not all(isinstance(v, str) for v in value):
            return "must be a list of texts"
        if len(value) != len(default) and not (plural_free and key in PLURAL_LABELS):
            return f"must list {len(default)} texts"
        return next((f"has a text that {reason}" for v in value if (reason := text_error(v)[0])), "")
    if not isinstance(value, str):
        return "must be text"
    reason = text_error(value)[0]
    if reason:
        return reason
    for mark in PLACEHOLDERS:
        if value.count(mark) > default.count(mark):
            times = {0: "no", 1: "one"}.get(default.count(mark), str(default.count(mark)))
            return f"may hold {times} {mark} (the number or text the site puts there)"
    return ""


def _theme_problems(
    defaults: Mapping[str, Mapping[str, Any]], languages: tuple[str, ...], label_path: str
) -> list[Problem]:
    """Check the templates' labels of the site's languages against those of labels.yaml's first language."""
    if not defaults:
        return []
    first = next(iter(defaults))
    reference = defaults[first]
    found = _code_label_problems(first, reference)
    for lang in dict.fromkeys((first, *languages)):
        labels = defaults.get(lang)
        if labels is None:
            continue
        if not isinstance(labels, dict):
            found.append(((lang,), f"the `{lang}` labels must be `label: text` lines", ""))
            continue
        for key, default in reference.items() if isinstance(reference, dict) else ():
            if key not in labels:
                found.append(((lang,), f"the `{lang}` labels lack `{key}`", f"add it, as `{first}` has it"))
            elif reason := label_error(key, labels[key], default, plural_free=lang != first):
                found.append(((lang, key), f"the label `{lang}.{key}` {reason}", ""))
    if not found:
        return []
    try:
        text = Path(label_path).read_text(encoding="utf-8-sig")
    except OSError:
        text = ""
    return [Problem(label_path, yaml_line(text, keys) if text else 0, message, hint) for keys, message, hint in found]


def _code_label_problems(first: str, reference: Any) -> list[tuple[tuple[str, ...], str, str]]:
    """Report the labels the site's code reads that labels.yaml's first language lacks or gives of another kind."""
    found: list[tuple[tuple[str, ...], str, str]] = []
    if isinstance(reference, dict):
        for key, example in CODE_LABELS.items():
            if key not in reference:
                found.append(((first,), f"the `{first}` labels lack `{key}`", "the site's code reads it"))
            elif reason := label_error(key, reference[key], example, plural_free=True):
                found.append(((first, key), f"the label `{first}.{key}` {reason}", "the site's code reads it"))
    return found


def _redirects(
    value: Any, lines: tuple[int, ...], check: FieldChecker, address_error: Callable[[str], str]
) -> tuple[Move, ...]:
    """Read `redirects`: old address -> new address, each checked by `address_error` (the site's URL rules)."""
    if not isinstance(value, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in value.items()):
        check.fail(
            "redirects",
            "`redirects` must map old addresses to new ones",
            'e.g. `"/sections/old-name/": /sections/new-name/`',
        )
        return ()
    moves = []
    for (old, new), line in zip(value.items(), lines or (check.lines.get("redirects", 1),) * len(value), strict=True):
        reasons = [
            f"the {which} address {url!r}: {reason}"
            for which, url in (("old", old), ("new", new))
            if (reason := address_error(url))
        ]
        if reasons:
            check.problems.append(
                Problem(
                    check.path,
                    line,
                    f"the redirect cannot be used: {'; '.join(reasons)}",
                    'write paths on this site, e.g. "/sections/old-name/": /sections/new-name/',
                )
            )
        elif old == new:
            check.problems.append(Problem(check.path, line, f"{old!r} redirects to itself", "remove the line"))
        else:
            moves.append(Move(old, new, check.path, line))
    return tuple(moves)


def _gone(
    value: Any, lines: tuple[int, ...], check: FieldChecker, address_error: Callable[[str], str]
) -> tuple[Gone, ...]:
    """Read `gone`: retracted address -> the reason shown on its "withdrawn" page."""
    if not isinstance(value, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in value.items()):
        check.fail(
            "gone",
            "`gone` must map retracted addresses to the reason they were withdrawn",
            'e.g. `"/news/2021/06/22/zas-meets-schmid/": Withdrawn at the request of the Secretariat.`',
        )
        return ()
    found = []
    for (address, reason), line in zip(value.items(), lines or (check.lines.get("gone", 1),) * len(value), strict=True):
        if why := address_error(address):
            check.problems.append(
                Problem(
                    check.path,
                    line,
                    f"the retracted address {address!r} cannot be used: {why}",
                    'write a path on this site, e.g. "/news/2021/06/22/zas-meets-schmid/"',
                )
            )
        elif not reason.strip() or INVISIBLE.search(reason):
            check.problems.append(
                Problem(check.path, line, f"the retraction of {address} gives no reason", "say in a sentence why")
            )
        else:
            found.append(Gone(address, " ".join(reason.split()), check.path, line))
    return tuple(found)
