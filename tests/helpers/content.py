"""An independent reading of a content folder: what the site should contain, computed from the
fixture files themselves (never from the output), so tests can compare the two."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import yaml
from slugify import slugify


def _yaml(text: str) -> object:
    """Load YAML with every scalar kept as text, so no implicit date or bool conversion happens."""
    return yaml.load(text, Loader=yaml.BaseLoader)  # BaseLoader builds only str, list and dict


def _front_matter(path: Path) -> dict:
    """Return the YAML between the two `---` lines at the top of a Markdown file."""
    lines = path.read_text(encoding="utf-8-sig").splitlines()
    assert lines[0].strip() == "---", f"{path}: no front matter"
    end = next(i for i in range(1, len(lines)) if lines[i].strip() == "---")
    return _yaml("\n".join(lines[1:end])) or {}


def _as_list(value: object) -> list[str]:
    if value is None:
        return []
    return [value] if isinstance(value, str) else list(value)


@dataclass(frozen=True)
class Entry:
    """One news item in one language, as its file says."""

    rel: str
    key: str
    lang: str
    section: str
    title: str
    published: datetime
    slug: str
    summary: str | None
    officials: tuple[str, ...]
    organizations: tuple[str, ...]
    draft: bool

    @property
    def day(self) -> str:
        """Return the site-local day as YYYY/MM/DD."""
        return self.published.strftime("%Y/%m/%d")


@dataclass
class Content:
    """The expected site of a content folder."""

    root: Path
    base_url: str
    languages: tuple[str, ...]
    tz: ZoneInfo
    feed_length: int
    site_title: dict[str, str]
    sections: dict[str, dict[str, str]]
    official_names: dict[str, dict[str, str]]
    organization_short: dict[str, dict[str, str]]
    organization_names: dict[str, dict[str, str]]
    entries: list[Entry]
    logo: str = ""  # site.yaml's emblem, a file of static/

    @property
    def default(self) -> str:
        """Return the default language."""
        return self.languages[0]

    def prefix(self, lang: str) -> str:
        """Return the URL prefix of a language."""
        return "" if lang == self.default else f"/{lang}"

    def url(self, entry: Entry) -> str:
        """Return an item's site path."""
        return f"{self.prefix(entry.lang)}/news/{entry.day}/{entry.slug}/"

    def absolute(self, path: str) -> str:
        """Return the absolute URL of a site path."""
        return self.base_url + path

    def published(self, now: datetime) -> list[Entry]:
        """Return the items a normal build at `now` shows, newest first, ties in file-path order."""
        shown = [e for e in self.entries if not e.draft and e.published <= now]
        return sorted(shown, key=lambda e: (-e.published.timestamp(), e.rel))

    def listing(self, now: datetime, lang: str, kind: str = "news", ident: str = "") -> list[Entry]:
        """Return the items of one listing (news, section, official, organization), newest first."""

        def belongs(e: Entry) -> bool:
            return {
                "news": True,
                "sections": e.section == ident,
                "officials": ident in e.officials,
                "organizations": ident in e.organizations,
            }[kind]

        return [e for e in self.published(now) if e.lang == lang and belongs(e)]

    def listing_path(self, lang: str, kind: str = "news", ident: str = "") -> str:
        """Return the site path of a listing page."""
        return f"{self.prefix(lang)}/news/" if kind == "news" else f"{self.prefix(lang)}/{kind}/{ident}/"

    def listings(self, now: datetime) -> list[tuple[str, str, str]]:
        """Return (lang, kind, id) of every listing with items at `now`: each has a feed (and a person a page)."""
        kinds = [
            ("news", [""]),
            ("sections", sorted(self.sections)),
            ("officials", sorted(self.official_names)),
            ("organizations", sorted(self.organization_names)),
        ]
        every = [(lang, kind, ident) for lang in self.languages for kind, ids in kinds for ident in ids]
        return [listing for listing in every if self.listing(now, *listing)]


def _names(entries: dict, *fields: str) -> dict[str, str]:
    """Map every id, name, short name and alias (casefolded) to its id."""
    index = {}
    for ident, entry in entries.items():
        spellings = [ident, *entry.get("aliases", [])]
        for name in fields:
            value = entry.get(name, {})
            spellings += list(value.values()) if isinstance(value, dict) else [value]
        for spelling in spellings:
            index[spelling.strip().casefold()] = ident
    return index


def make_slug(title: str) -> str:
    """Return the slug SPEC §2 asks for: python-slugify, transliterated, at most 100 characters."""
    return slugify(title, max_length=100, word_boundary=True, save_order=True)


def _resolve(value: object, index: dict[str, str]) -> tuple[str, ...]:
    """Return the ids of the listed names, in order, without repeats."""
    return tuple(dict.fromkeys(index[name.strip().casefold()] for name in _as_list(value)))


def _localized(value: object, languages: tuple[str, ...]) -> dict[str, str]:
    if isinstance(value, str):
        return dict.fromkeys(languages, value)
    assert isinstance(value, dict)
    return {lang: value.get(lang, value[languages[0]]) for lang in languages}


def read_content(root: Path) -> Content:
    """Read site.yaml, the registries, the sections and every item of a content folder."""
    site = _yaml((root / "site.yaml").read_text(encoding="utf-8"))
    languages = tuple(site.get("languages", ["en"]))
    tz = ZoneInfo(site.get("timezone", "Europe/Moscow"))
    officials = _yaml((root / "officials.yaml").read_text(encoding="utf-8")) or {}
    organizations = _yaml((root / "organizations.yaml").read_text(encoding="utf-8")) or {}
    official_index = _names(officials, "name")
    organization_index = _names(organizations, "name", "short")
    sections: dict[str, dict[str, str]] = {}
    for index in sorted(root.glob("*/_index*.md")):
        parts = index.name.split(".")
        lang = parts[1] if len(parts) == 3 else languages[0]
        sections.setdefault(index.parent.name, {})[lang] = _front_matter(index)["title"]
    sections = {s: {lang: t.get(lang, t[languages[0]]) for lang in languages} for s, t in sections.items()}

    raw = []
    for path in sorted(root.glob("*/**/*.md")):
        rel = path.relative_to(root).as_posix()
        if path.name.startswith("_index") and rel.count("/") == 1:
            continue
        stem = rel.removesuffix(".md")
        head, _, suffix = stem.rpartition(".")
        key, lang = (head, suffix) if suffix in languages[1:] else (stem, languages[0])
        meta = _front_matter(path)
        moment = datetime.fromisoformat(meta["date"].strip())
        published = moment.replace(tzinfo=tz) if moment.tzinfo is None else moment.astimezone(tz)
        raw.append((rel, key, lang, meta, published))
    originals = {key: meta for _, key, lang, meta, _ in raw if lang == languages[0]}
    entries = []
    for rel, key, lang, meta, published in raw:
        # A translation shares its original's slug unless it sets its own.
        owner = meta if meta.get("slug") or key not in originals else originals[key]
        entries.append(
            Entry(
                rel=rel,
                key=key,
                lang=lang,
                section=rel.split("/")[0],
                title=" ".join(meta["title"].split()),
                published=published,
                slug=owner.get("slug") or make_slug(owner["title"]),
                summary=meta.get("summary"),
                officials=_resolve(meta.get("officials"), official_index),
                organizations=_resolve(meta.get("organizations"), organization_index),
                draft=meta.get("draft", "false") == "true",
            )
        )
    return Content(
        root=root,
        base_url=site["base_url"].rstrip("/"),
        languages=languages,
        tz=tz,
        feed_length=int(site.get("feed_length", 50)),
        site_title=_localized(site["title"], languages),
        sections=sections,
        official_names={i: _localized(o["name"], languages) for i, o in officials.items()},
        organization_short={i: _localized(o.get("short", o["name"]), languages) for i, o in organizations.items()},
        organization_names={i: _localized(o["name"], languages) for i, o in organizations.items()},
        entries=entries,
        logo=site.get("logo") or "",
    )
