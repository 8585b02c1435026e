"""The site configuration: content/site.yaml, checked and frozen."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ..site.urls import redirect_error
from ..util.errors import ContentError, Problem, did_you_mean
from .frontmatter import load_yaml

SITE_KEYS = ("title", "description", "base_url", "languages", "timezone", "feed_length",
             "press_contact", "labels", "redirects")
LANGUAGE = re.compile(r"^[a-z]{2,3}$")


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

    @property
    def default_language(self) -> str:
        """Return the language served at the root."""
        return self.languages[0]

    @property
    def tz(self) -> ZoneInfo:
        """Return the site time zone."""
        return ZoneInfo(self.timezone)


class FieldChecker:
    """Collect problems while reading one YAML mapping."""

    def __init__(self, path: str, lines: dict[str, int]) -> None:
        self.path = path
        self.lines = lines
        self.problems: list[Problem] = []

    def fail(self, key: str, message: str, hint: str = "") -> None:
        """Record a problem at the line of `key`."""
        self.problems.append(Problem(self.path, self.lines.get(key, 1), message, hint))

    def localized(self, data: Mapping[str, Any], key: str, languages: tuple[str, ...],
                  required: bool = True) -> dict[str, str]:
        """Read `{en: ..., ru: ...}` (or one plain text for all languages)."""
        value = data.get(key)
        if value is None:
            if required:
                self.fail(key, f"missing `{key}`", f"add `{key}: {{{languages[0]}: ...}}`")
            return {}
        if isinstance(value, str):
            return dict.fromkeys(languages, value.strip())
        if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
            self.fail(key, f"`{key}` must be text per language", f"write `{key}: {{{languages[0]}: ...}}`")
            return {}
        unknown = [str(lang) for lang in value if lang not in languages]
        if unknown:
            self.fail(key, f"`{key}` has unknown language {unknown[0]!r}",
                      f"languages in site.yaml: {', '.join(languages)}")
        if languages[0] not in value:
            self.fail(key, f"`{key}` has no text in the default language {languages[0]!r}",
                      f"add `{languages[0]}: ...`")
            return {}
        return {lang: str(value.get(lang, value[languages[0]])).strip() for lang in languages}


def load_config(content: Path, default_labels: Mapping[str, Mapping[str, Any]],
                label_path: str = "templates/labels.yaml") -> SiteConfig:
    """Read and check site.yaml; raise ContentError listing every problem."""
    path = content / "site.yaml"
    shown = str(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise ContentError([Problem(shown, 0, "site.yaml is missing",
                                    "create it with title, base_url and languages")]) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ContentError([Problem(shown, 0, f"cannot read site.yaml: {exc}", "save it as UTF-8")]) from None
    data, lines, entry_lines, problems = load_yaml(text, shown)
    if problems:
        raise ContentError(problems)
    if not isinstance(data, dict):
        raise ContentError([Problem(shown, 1, "site.yaml must be a list of `key: value` lines", "")])
    check = FieldChecker(shown, lines)
    for key in data:
        if key not in SITE_KEYS:
            check.fail(str(key), f"unknown key `{key}` in site.yaml", did_you_mean(str(key), SITE_KEYS))
    languages = _languages(data, check)
    base_url = _base_url(data, check)
    timezone = str(data.get("timezone", "Europe/Moscow"))
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        check.fail("timezone", f"unknown time zone {timezone!r}", 'use a name like "Europe/Moscow"')
    feed_length = data.get("feed_length", 50)
    if not isinstance(feed_length, int) or isinstance(feed_length, bool) or feed_length < 1:
        check.fail("feed_length", "`feed_length` must be a whole number above 0", "e.g. `feed_length: 50`")
    title = check.localized(data, "title", languages)
    description = check.localized(data, "description", languages, required=False)
    contact = _contact(data.get("press_contact") or {}, check, languages)
    labels = _labels(data.get("labels") or {}, default_labels, check, languages, label_path)
    redirects = _redirects(data.get("redirects") or {}, entry_lines.get("redirects", ()), check)
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
        digest=hashlib.blake2b(text.encode(), digest_size=16).hexdigest(),
        redirects=redirects,
    )


def _languages(data: Mapping[str, Any], check: FieldChecker) -> tuple[str, ...]:
    """Read the list of languages; the first is the default."""
    value = data.get("languages", ["en"])
    if (not isinstance(value, list) or not value
            or not all(isinstance(v, str) and LANGUAGE.match(v) for v in value)):
        check.fail("languages", "`languages` must be a list of language codes", "e.g. `languages: [en, ru]`")
        return ("en",)
    if len(set(value)) != len(value):
        check.fail("languages", "`languages` lists a language twice", "")
    return tuple(value)


def _base_url(data: Mapping[str, Any], check: FieldChecker) -> str:
    """Read the absolute base URL, without a trailing slash."""
    value = data.get("base_url")
    if not isinstance(value, str) or not re.match(r"^https?://[^/\s]+(/[^\s]*)?$", value):
        check.fail("base_url", "`base_url` must be an absolute http(s) address",
                   "e.g. `base_url: https://odkb-csto.org`")
        return "https://example.org"
    return value.rstrip("/")


def _contact(value: Any, check: FieldChecker, languages: tuple[str, ...]) -> Contact:
    """Read the press contact block."""
    if not isinstance(value, dict):
        check.fail("press_contact", "`press_contact` must have `name` and `phones`", "")
        return Contact({}, (), "")
    name = check.localized(value, "name", languages, required=False)
    phones = value.get("phones", [])
    if not isinstance(phones, list) or not all(isinstance(p, str) for p in phones):
        check.fail("press_contact", "`press_contact.phones` must be a list of quoted numbers",
                   'e.g. `phones: ["+7 495-795-27-10"]`')
        phones = []
    email = value.get("email", "")
    if not isinstance(email, str):
        check.fail("press_contact", "`press_contact.email` must be text", "")
        email = ""
    unknown = [k for k in value if k not in ("name", "phones", "email")]
    if unknown:
        check.fail("press_contact", f"unknown key `{unknown[0]}` in press_contact",
                   did_you_mean(str(unknown[0]), ("name", "phones", "email")))
    return Contact({lang: name.get(lang, "") for lang in languages}, tuple(phones), email)


def _labels(overrides: Any, defaults: Mapping[str, Mapping[str, Any]], check: FieldChecker,
            languages: tuple[str, ...], label_path: str) -> dict[str, dict[str, Any]]:
    """Merge the theme's interface labels with site.yaml's `labels` overrides."""
    if not isinstance(overrides, dict):
        check.fail("labels", "`labels` must map a language to `label: text` lines", "")
        overrides = {}
    merged: dict[str, dict[str, Any]] = {}
    for lang in languages:
        if lang not in defaults:
            check.fail("languages", f"the templates have no labels for language {lang!r}",
                       f"add a `{lang}:` block to {label_path}")
            continue
        mine = overrides.get(lang) or {}
        if not isinstance(mine, dict):
            check.fail("labels", f"`labels.{lang}` must be `label: text` lines", "")
            mine = {}
        for key in mine:
            if key not in defaults[lang]:
                check.fail("labels", f"unknown label `{key}`", did_you_mean(str(key), defaults[lang]))
        merged[lang] = {**defaults[lang], **mine}
    return merged


def _redirects(value: Any, lines: tuple[int, ...], check: FieldChecker) -> tuple[Move, ...]:
    """Read `redirects`: old address -> new address, both paths on this site."""
    if not isinstance(value, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in value.items()):
        check.fail("redirects", "`redirects` must map old addresses to new ones",
                   'e.g. `"/sections/old-name/": /sections/new-name/`')
        return ()
    moves = []
    for (old, new), line in zip(value.items(), lines or (check.lines.get("redirects", 1),) * len(value), strict=True):
        reasons = [f"the {which} address {url!r}: {reason}"
                   for which, url in (("old", old), ("new", new)) if (reason := redirect_error(url))]
        if reasons:
            check.problems.append(Problem(check.path, line, f"the redirect cannot be used: {'; '.join(reasons)}",
                                          'write paths on this site, e.g. "/sections/old-name/": /sections/new-name/'))
        elif old == new:
            check.problems.append(Problem(check.path, line, f"{old!r} redirects to itself", "remove the line"))
        else:
            moves.append(Move(old, new, check.path, line))
    return tuple(moves)
