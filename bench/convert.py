"""Convert a csto_site content folder into a Hugo site and a Pelican project, for the benchmark.

Both get the same items, bodies, sections, translations, officials and organizations (as taxonomy
terms / tags), item URLs /news/YYYY/MM/DD/<slug>/, paginated lists of 20, feeds and a sitemap
where the tool makes one. Layouts are kept minimal but show what csto_site's item page shows.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import yaml
from slugify import slugify

SITE = "https://bench.example.org/"
FRONT = re.compile(r"\A---\n(.*?)\n---\n(.*)\Z", re.S)

HUGO_CONFIG = """\
baseURL = "https://bench.example.org/"
title = "Synthetic Archive"
defaultContentLanguage = "en"
timeZone = "Europe/Moscow"
paginate = 20
enableRobotsTXT = true
disableHugoGeneratorInject = true
[languages.en]
weight = 1
languageName = "English"
[languages.ru]
weight = 2
languageName = "Русский"
[taxonomies]
official = "officials"
organization = "organizations"
[services.rss]
limit = 50
[markup.goldmark.renderer]
unsafe = true
[permalinks]
{permalinks}
"""
HUGO_BASE = """\
<!DOCTYPE html>
<html lang="{{ .Site.Language.Lang }}">
<head><meta charset="utf-8"><title>{{ .Title }} — {{ .Site.Title }}</title>
<link rel="canonical" href="{{ .Permalink }}">
{{ range .AllTranslations }}<link rel="alternate" hreflang="{{ .Lang }}" href="{{ .Permalink }}">{{ end }}
</head>
<body>
<header><a href="{{ .Site.Home.RelPermalink }}">{{ .Site.Title }}</a>
<nav><ul>{{ range .Site.Sections }}<li><a href="{{ .RelPermalink }}">{{ .Title }}</a></li>{{ end }}</ul></nav>
</header>
<main id="main">{{ block "main" . }}{{ end }}</main>
<footer><p>The Press Office, +7 495-000-00-00</p></footer>
</body>
</html>
"""
HUGO_SINGLE = """\
{{ define "main" }}
<article>
<p><a href="{{ .CurrentSection.RelPermalink }}">{{ .CurrentSection.Title }}</a></p>
<h1>{{ .Title }}</h1>
<p><time datetime="{{ .Date.Format "2006-01-02T15:04:05-07:00" }}">{{ .Date.Format "2 January 2006" }}</time></p>
{{ range .Translations }}
<p><a href="{{ .RelPermalink }}" hreflang="{{ .Lang }}">{{ .Language.LanguageName }}</a></p>
{{ end }}
<div>{{ .Content }}</div>
<ul>{{ range .GetTerms "officials" }}<li><a href="{{ .RelPermalink }}">{{ .LinkTitle }}</a></li>{{ end }}</ul>
<ul>{{ range .GetTerms "organizations" }}<li><a href="{{ .RelPermalink }}">{{ .LinkTitle }}</a></li>{{ end }}</ul>
</article>
<nav>
{{ with .PrevInSection }}<a href="{{ .RelPermalink }}" rel="prev">{{ .Title }}</a>{{ end }}
{{ with .NextInSection }}<a href="{{ .RelPermalink }}" rel="next">{{ .Title }}</a>{{ end }}
<a href="{{ .CurrentSection.RelPermalink }}">Back to the section: {{ .CurrentSection.Title }}</a>
</nav>
{{ end }}
"""
HUGO_LIST = """\
{{ define "main" }}
<h1>{{ .Title }}</h1>
{{ $pages := .Pages }}{{ if .IsHome }}{{ $pages = .Site.RegularPages }}{{ end }}
{{ range (.Paginate $pages).Pages }}
<article><h2><a href="{{ .RelPermalink }}">{{ .Title }}</a></h2>
<p><time>{{ .Date.Format "2 January 2006" }}</time> · {{ .CurrentSection.Title }}</p>
<p>{{ .Summary }}</p></article>
{{ end }}
{{ template "_internal/pagination.html" . }}
{{ end }}
"""
PELICAN_CONFIG = """\
SITENAME = "Synthetic Archive"
SITEURL = ""
PATH = "content"
TIMEZONE = "Europe/Moscow"
DEFAULT_LANG = "en"
DEFAULT_PAGINATION = 20
ARTICLE_URL = "news/{date:%Y}/{date:%m}/{date:%d}/{slug}/"
ARTICLE_SAVE_AS = ARTICLE_URL + "index.html"
ARTICLE_LANG_URL = "{lang}/news/{date:%Y}/{date:%m}/{date:%d}/{slug}/"
ARTICLE_LANG_SAVE_AS = ARTICLE_LANG_URL + "index.html"
YEAR_ARCHIVE_SAVE_AS = "news/{date:%Y}/index.html"
MONTH_ARCHIVE_SAVE_AS = "news/{date:%Y}/{date:%m}/index.html"
DAY_ARCHIVE_SAVE_AS = "news/{date:%Y}/{date:%m}/{date:%d}/index.html"
CATEGORY_URL = "sections/{slug}/"
CATEGORY_SAVE_AS = CATEGORY_URL + "index.html"
TAG_URL = "tags/{slug}/"
TAG_SAVE_AS = TAG_URL + "index.html"
FEED_ALL_RSS = "news/rss.xml"
CATEGORY_FEED_RSS = "sections/{slug}/rss.xml"
TAG_FEED_RSS = "tags/{slug}/rss.xml"
FEED_MAX_ITEMS = 50
AUTHOR_SAVE_AS = ""
AUTHORS_SAVE_AS = ""
"""


def split(text: str) -> tuple[dict[str, object], str]:
    """Split a csto_site item into its front matter and body."""
    match = FRONT.match(text)
    if not match:
        raise ValueError("no front matter")
    return yaml.load(match.group(1), Loader=yaml.BaseLoader), match.group(2)


def items(content: Path) -> list[tuple[Path, dict[str, object], str]]:
    """List the item files of a content folder with their front matter and body."""
    found = []
    for path in sorted(content.rglob("*.md")):
        if path.name.startswith("_index"):
            continue
        meta, body = split(path.read_text(encoding="utf-8"))
        found.append((path, meta, body))
    return found


def iso_date(value: str) -> str:
    """Turn `2021-06-22 15:00` (site time, Moscow) into RFC 3339."""
    day, _, time = value.partition(" ")
    return f"{day}T{time or '00:00'}:00+03:00"


def slug_of(path: Path, meta: dict[str, object], originals: dict[str, str]) -> str:
    """Return the item's slug as csto_site makes it: its own, else its original's, else from the title.

    An original's slug is remembered in `originals`, for its translations that come after it.
    """
    stem = path.name.removesuffix(".md").removesuffix(".ru")
    key = str(path.with_name(stem))
    russian = path.name.endswith(".ru.md")
    if meta.get("slug"):
        slug = str(meta["slug"])
    elif russian and key in originals:
        slug = originals[key]
    else:
        slug = slugify(str(meta["title"]), max_length=100, word_boundary=True, save_order=True)
    if not russian:
        originals[key] = slug
    return slug


def to_hugo(content: Path, site: Path) -> None:
    """Write a Hugo site for the content folder (replacing `site`)."""
    if site.exists():
        shutil.rmtree(site)
    sections = sorted(p.name for p in content.iterdir() if (p / "_index.md").exists())
    permalinks = "\n".join(f'{s} = "/news/:year/:month/:day/:slug/"' for s in sections)
    (site / "layouts" / "_default").mkdir(parents=True)
    (site / "hugo.toml").write_text(HUGO_CONFIG.format(permalinks=permalinks), encoding="utf-8")
    (site / "layouts" / "_default" / "baseof.html").write_text(HUGO_BASE, encoding="utf-8")
    (site / "layouts" / "_default" / "single.html").write_text(HUGO_SINGLE, encoding="utf-8")
    (site / "layouts" / "_default" / "list.html").write_text(HUGO_LIST, encoding="utf-8")
    for section in sections:
        for index in (content / section).glob("_index*.md"):
            target = site / "content" / section / index.name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(index, target)
    originals: dict[str, str] = {}
    for path, meta, body in items(content):
        write_hugo_item(site, content, path, meta, body, originals)


def write_hugo_item(
    site: Path, content: Path, path: Path, meta: dict[str, object], body: str, originals: dict[str, str]
) -> Path:
    """Write one item into a Hugo site's content folder."""
    slug = slug_of(path, meta, originals)
    front = {"title": meta["title"], "date": iso_date(str(meta["date"])), "slug": slug}
    for key in ("officials", "organizations", "summary"):
        if meta.get(key):
            front[key] = meta[key]
    target = site / "content" / path.relative_to(content)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text("---\n" + yaml.safe_dump(front, allow_unicode=True) + "---\n" + body, encoding="utf-8")
    return target


def to_pelican(content: Path, project: Path) -> None:
    """Write a Pelican project for the content folder (replacing `project`)."""
    if project.exists():
        shutil.rmtree(project)
    (project / "content").mkdir(parents=True)
    (project / "pelicanconf.py").write_text(PELICAN_CONFIG, encoding="utf-8")
    originals: dict[str, str] = {}
    for path, meta, body in items(content):
        write_pelican_item(project, content, path, meta, body, originals)


def write_pelican_item(
    project: Path, content: Path, path: Path, meta: dict[str, object], body: str, originals: dict[str, str]
) -> Path:
    """Write one item into a Pelican project, with Pelican's `Key: value` metadata."""
    slug = slug_of(path, meta, originals)
    russian = path.name.endswith(".ru.md")
    tags = [str(t) for key in ("officials", "organizations") if isinstance(names := meta.get(key), list) for t in names]
    lines = [
        f"Title: {meta['title']}",
        f"Date: {meta['date']}",
        f"Category: {path.relative_to(content).parts[0]}",
        f"Slug: {slug}",
        f"Lang: {'ru' if russian else 'en'}",
    ]
    if tags:
        lines.append("Tags: " + ", ".join(tags))
    if meta.get("summary"):
        lines.append(f"Summary: {meta['summary']}")
    target = project / "content" / path.relative_to(content)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text("\n".join(lines) + "\n\n" + body, encoding="utf-8")
    return target
