"""Every URL and output-path rule of the site, in one place."""

from __future__ import annotations

import posixpath
import re
from collections.abc import Container, Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING
from urllib.parse import unquote

from slugify import slugify

from ..util.files import name_error
from ..util.links import is_external

if TYPE_CHECKING:  # the model imports the configuration, which checks addresses with these rules
    from ..content.model import Item
    from .model import Scope


@dataclass(frozen=True)
class Urls:
    """Build site-relative and absolute URLs; the default language sits at the root."""

    default_language: str
    base_url: str

    def prefix(self, lang: str) -> str:
        """Return the path prefix of a language: empty for the default."""
        return "" if lang == self.default_language else f"/{lang}"

    def unprefixed(self, lang: str, url: str) -> str:
        """Return an address of a language without that language's prefix (/ru/news/ -> /news/)."""
        return url[len(self.prefix(lang)) :]

    def home(self, lang: str) -> str:
        """Return the home page URL."""
        return f"{self.prefix(lang)}/"

    def news(self, lang: str) -> str:
        """Return the all-news page URL."""
        return f"{self.prefix(lang)}/news/"

    def listing(self, scope: Scope) -> str:
        """Return the page of a listing (all news, a section, an official, an organization), maybe of one period."""
        top = {
            "news": lambda: self.news(scope.lang),
            "section": lambda: self.section(scope.lang, scope.id),
            "official": lambda: self.official(scope.lang, scope.id),
            "organization": lambda: self.organization(scope.lang, scope.id),
        }[scope.kind]()
        numbers = [
            f"{n:04d}" if i == 0 else f"{n:02d}"
            for i, n in enumerate((scope.year, scope.month, scope.day))
            if n is not None
        ]
        return top + "".join(f"{n}/" for n in numbers)

    def item(self, item: Item) -> str:
        """Return an item's permanent URL: /news/YYYY/MM/DD/<slug>/."""
        return self.item_at(item.lang, item.day, item.slug)

    def item_place(self, item: Item) -> tuple[str, date, str]:
        """Return what an item's URL is made of: two items share a URL exactly when they share this."""
        return item.lang, item.day, item.slug

    def item_at(self, lang: str, day: date, slug: str) -> str:
        """Return the URL of the item filed on `day` under `slug`."""
        # Formatted field by field: strftime costs three times as much, on every item of every build.
        return f"{self.news(lang)}{day.year:04d}/{day.month:02d}/{day.day:02d}/{slug}/"

    def slug_at(self, lang: str, url: str) -> str:
        """Return the slug of an item address of this language (/news/YYYY/MM/DD/<slug>/), or "" for another address."""
        found = ITEM_ADDRESS.match(url.removeprefix(self.prefix(lang)))
        return found.group(1) if found else ""

    def section(self, lang: str, section: str) -> str:
        """Return a section's page URL."""
        return f"{self.prefix(lang)}/sections/{section}/"

    def section_at(self, lang: str, url: str) -> str:
        """Return the section of an address of this language at or below a section's page, or "" for another."""
        found = SECTION_ADDRESS.match(url.removeprefix(self.prefix(lang)))
        return found.group(1) if found else ""

    def officials(self, lang: str) -> str:
        """Return the list of officials."""
        return f"{self.prefix(lang)}/officials/"

    def official(self, lang: str, official: str) -> str:
        """Return one official's page URL."""
        return f"{self.officials(lang)}{official}/"

    def organizations(self, lang: str) -> str:
        """Return the list of organizations."""
        return f"{self.prefix(lang)}/organizations/"

    def organization(self, lang: str, organization: str) -> str:
        """Return one organization's page URL."""
        return f"{self.organizations(lang)}{organization}/"

    def search(self, lang: str) -> str:
        """Return the search page URL."""
        return f"{self.prefix(lang)}/search/"

    def feed(self, page_url: str) -> str:
        """Return the RSS feed that sits beside a listing page."""
        return f"{page_url}{FEED_NAME}"

    def not_found(self, lang: str) -> str:
        """Return the 404 page of a language."""
        return f"{self.prefix(lang)}/404.html"

    @staticmethod
    def static(name: str) -> str:
        """Return the URL of a static asset."""
        return f"{STATIC}{name}"

    def absolute(self, url: str) -> str:
        """Return the absolute form of a site URL, for feeds, sitemaps and canonical links."""
        return self.base_url + url

    def bundle_file(self, item: Item, name: str) -> str:
        """Return the URL of a file an item's page publishes (a photo's variant, a document): below the page."""
        return self.item(item) + name


# A photo or document of an item's folder is published below the item's page under a name made of its
# own: transliterated, lowercase letters, digits and hyphens, so that spaces and Cyrillic letters in what
# a camera or a colleague named the file never reach an address.
FALLBACK_STEM = "file"  # the stem of a file name with no letters or digits
STEM_LENGTH = 80


def file_stem(name: str) -> str:
    """Return the URL-safe stem of a bundle file: "Выпускники 2024.JPG" -> "vypuskniki-2024"."""
    stem = name.rsplit("/", 1)[-1].rsplit(".", 1)[0]
    return slugify(stem, max_length=STEM_LENGTH, word_boundary=True, save_order=True) or FALLBACK_STEM


def variant_name(name: str, width: int, extension: str) -> str:
    """Return the published name of one variant of a photo: group.800.webp."""
    return f"{file_stem(name)}.{width}.{extension}"


def crop_name(name: str, ratio: tuple[int, int]) -> str:
    """Return the published name of a photo's crop for sharing in one aspect ratio: group.16x9.jpg."""
    return f"{file_stem(name)}.{ratio[0]}x{ratio[1]}.jpg"


def document_name(name: str) -> str:
    """Return the published name of a document: its stem made URL-safe, its extension in lowercase."""
    extension = name.rsplit("/", 1)[-1].rpartition(".")[2].lower()
    return f"{file_stem(name)}.{extension}"


STATIC = "/static/"  # every file of static/ is published below it
SITEMAP = "/sitemap.xml"  # the sitemap index: it names one sitemap per year and one for the other pages
NEWS_SITEMAP = "/news-sitemap.xml"
ROBOTS = "/robots.txt"
# The nginx include of every old address, published with the pages (an output path, never served).
REDIRECTS_CONF = "nginx-redirects.conf"
# The Pagefind search bundle: the index of every language and the scripts that read it.
SEARCH_BUNDLE = "/pagefind/"


# An item's address below its language's prefix: the day it is filed under, then its slug.
ITEM_ADDRESS = re.compile(r"^/news/[0-9]{4}/[0-9]{2}/[0-9]{2}/([^/]+)/$")
SECTION_ADDRESS = re.compile(r"^/sections/([^/]+)/")
FEED_NAME = "rss.xml"


def is_cited(url: str) -> bool:
    """Tell whether an output's address is one readers cite and keep (a page or a feed, not an asset or sitemap)."""
    if url.startswith((STATIC, SEARCH_BUNDLE)):
        return False
    return url.endswith("/") or url.lower().endswith(PAGE_SUFFIXES) or url.endswith("/" + FEED_NAME)


def place_of(url: str) -> str:
    """Return the file a reader of an address asks for: its page's file, or the path itself (/detail.php)."""
    return redirect_path(url) or unquote(url).lstrip("/")


def archive_parent(url: str) -> str:
    """Return the listing above a dated archive page (/news/2021/06/ -> /news/2021/), or "" for another address."""
    head, _, last = url.removesuffix("/").rpartition("/")
    return head + "/" if url.endswith("/") and last.isdigit() and last.isascii() else ""


# The sitemap of the pages that are not filed under a year (the others have one sitemap a year).
UNDATED = "pages"


def sitemap_url(part: str) -> str:
    """Return the URL of one sitemap named by the index."""
    return f"/sitemap-{part}.xml"


# The file a folder's address is written to and answered with.
FOLDER_INDEX = "index.html"


def output_path(url: str) -> str:
    """Return the file a URL is written to: folders get an index.html."""
    path = url.lstrip("/")
    return path + FOLDER_INDEX if url.endswith("/") else path


def is_safe(url: str) -> bool:
    """Tell whether a site URL stays inside the output folder."""
    if not url.startswith("/") or "\\" in url or "\0" in url:
        return False
    return ".." not in url.split("/") and posixpath.normpath(url).startswith("/")


# A redirect page works where a web server serves the file as HTML: a folder or an .html file.
PAGE_SUFFIXES = (".html", ".htm")
# A "%" that does not start a %-escape: web servers answer such an address with 400 Bad Request.
BARE_PERCENT = re.compile(r"%(?![0-9A-Fa-f]{2})")

# Folders the build fills as a whole: the search bundle and the static files. Nothing else goes below them.
BUILD_FOLDERS = (SEARCH_BUNDLE.lstrip("/"), STATIC.lstrip("/"))
# The compressed copies the build writes beside a text file (see compress.py), three bytes each.
COPY_SUFFIXES = (".gz", ".br")


def path_error(path: str) -> str:
    """Return why a file below the output folder cannot have this relative path, or ""."""
    # A compressed copy's suffix is the build's own: the name it copies keeps to the limit.
    return name_error(path, COPY_SUFFIXES)


def build_owns(place: str, outputs: Container[str]) -> bool:
    """Tell whether the build itself writes the file at `place` (a path below the output folder), or its folder."""
    if place in outputs or place.startswith(BUILD_FOLDERS):
        return True
    return any(place.endswith(suffix) and place[: -len(suffix)] in outputs for suffix in COPY_SUFFIXES)


def redirect_error(url: str) -> str:
    """Return why `url` cannot be an address of this site to redirect from or to, or "" when it can."""
    if is_external(url):
        return "write only the path, without the domain"
    if not url.startswith("/"):
        return 'it must start with "/"'
    if any(char.isspace() or ord(char) < 32 for char in url):
        return "it must not contain spaces (write them as %20)"
    if "?" in url or "#" in url:
        return "a static site cannot tell addresses apart by ? or #"
    if BARE_PERCENT.search(url):
        return 'a "%" must start a %-escape (write "%" itself as %25)'
    try:
        path = unquote(url, errors="strict")
    except UnicodeDecodeError:
        return "its %-escapes are not UTF-8 text"
    reason = path_error(path.lstrip("/"))
    if reason:
        return reason
    if not is_safe(path):
        return "it leads outside the site"
    parts = path.split("/")[1:]
    if "." in parts or "" in parts[:-1]:
        return 'it has an empty part ("//" or "/./")'
    return ""


def redirect_path(url: str) -> str:
    """Return the file a redirect from `url` is written to, or "" when only the web server can redirect it."""
    path = unquote(url)
    last = path.rsplit("/", 1)[-1]
    if not last:
        return output_path(path)
    if "." not in last:
        return output_path(path + "/")
    return output_path(path) if last.lower().endswith(PAGE_SUFFIXES) else ""


def output_path_error(path: str) -> str:
    """Return why an output path could leave the output folder, or no file system could hold it, or ""."""
    if not path or path.startswith("/") or "\\" in path or "\0" in path:
        return "it is not a relative path inside the output folder"
    parts = path.split("/")
    if any(part in ("", ".", "..") for part in parts):
        return "it leads outside the output folder"
    if posixpath.normpath(path) != path:
        return "it is not a plain path"
    return path_error(path)


# An item page's output path: .../YYYY/MM/DD/<slug>/index.html (Urls.item_at).
ITEM_PAGE = re.compile(r"(?:^|/)(\d{4})/(\d{2})/\d{2}/[^/]+/index\.html$")


def item_month(path: str) -> tuple[int, int] | None:
    """Return the year and month of the item page at output `path`, or None for a page that is not an item's."""
    found = ITEM_PAGE.search(path)
    return (int(found[1]), int(found[2])) if found else None


def item_folder(path: str) -> str | None:
    """Return the folder of the month the item page at output `path` lies in (`news/2025/01/`), or None."""
    found = ITEM_PAGE.search(path)
    return path[: found.end(2) + 1] if found else None


def language_of(url: str, languages: Sequence[str], urls: Urls) -> str:
    """Return the language whose tree a site URL belongs to."""
    return next((lang for lang in languages[1:] if url.startswith(urls.prefix(lang) + "/")), languages[0])


# What this program writes into the output folder. A build that has no record it can trust of what the
# last one made (the first over an old folder, --clean, after a crash, a copy restored without its
# record) removes every entry here that it does not make itself; anything else is kept as placed by hand.
GENERATOR = "csto-site"
# How a page or feed says this program made it: templates/base.html and redirect.html, and every feed.
GENERATOR_MARKS = (
    f'<meta name="generator" content="{GENERATOR}">'.encode(),
    f"<generator>{GENERATOR}</generator>".encode(),
)
MARKED_SUFFIXES = (".html", ".htm", ".xml")
# The mark sits in a page's <head>, or a feed's channel before its first item: within this many bytes.
MARK_WINDOW = 64 * 1024


def _root_names() -> frozenset[str]:
    """Name the entries at the root of the output that the default language's addresses and the site's files take."""
    urls = Urls("", "")
    addresses = (
        urls.home(""),
        urls.not_found(""),
        urls.news(""),
        urls.section("", "x"),
        urls.officials(""),
        urls.organizations(""),
        urls.search(""),
        urls.static("x"),
        SEARCH_BUNDLE,
        ROBOTS,
        SITEMAP,
        NEWS_SITEMAP,
        f"/{REDIRECTS_CONF}",
    )
    return frozenset(output_path(url).split("/")[0] for url in addresses)


ROOT_NAMES = _root_names()
# What the name of every year's sitemap starts and ends with (sitemap-2024.xml).
SITEMAP_PART = tuple(sitemap_url("\0").lstrip("/").split("\0", 1))


@dataclass(frozen=True)
class OwnPaths:
    """The output paths only this program writes: `path in own` tells whether one is among them.

    They are the root names above (the pages of the default language, /static/, /pagefind/, the
    sitemaps, robots.txt, the nginx include), the folder of every other language, and the .gz and
    .br copies of the root files. Pages and feeds written elsewhere (an old address's redirect page)
    carry the generator mark instead.
    """

    languages: frozenset[str]  # the folders of the languages other than the default

    @classmethod
    def of(cls, urls: Urls, languages: Iterable[str]) -> OwnPaths:
        """Return the own paths of a site in these languages."""
        return cls(frozenset(urls.prefix(lang).strip("/") for lang in languages) - {""})

    def __contains__(self, path: str) -> bool:
        """Tell whether an output path lies where only this program writes."""
        first, _, rest = path.partition("/")
        if rest:
            return first in ROOT_NAMES or first in self.languages
        name = uncompressed(first)
        start, end = SITEMAP_PART
        return name in ROOT_NAMES or name in self.languages or (name.startswith(start) and name.endswith(end))


def uncompressed(path: str) -> str:
    """Return the path of the file a compressed copy (.gz, .br) was made from, or the path itself."""
    for suffix in COPY_SUFFIXES:
        if path.endswith(suffix):
            return path[: -len(suffix)]
    return path


def carries_mark(head: bytes) -> bool:
    """Tell whether the first MARK_WINDOW bytes of a page or feed say this program made it."""
    return any(mark in head for mark in GENERATOR_MARKS)
