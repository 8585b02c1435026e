"""Every reference an item's body makes inside the site, checked: no broken link, image or #fragment is published.

Links (`<a href>`), images and other embedded files (`src`, `srcset`, `poster`) that stay on this site
are resolved against the item's address and looked up among the outputs the catalogue declares:
pages, feeds, static files, old addresses' pages. A #fragment on the item itself or on another item
must name an element of that item's body (a heading's id) or one the page template gives every page.
A broken one is a problem at its line of the item file, naming the target and the nearest address
or id the site has. Links to other sites are not fetched; an image or other embedded file from another
site is a problem (readers' browsers would fetch it from there, and the site's Content-Security-Policy
blocks it).
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from html import unescape
from pathlib import Path
from urllib.parse import unquote, urljoin, urlsplit

from ..content.markup import ATTRIBUTE, START_TAG
from ..content.media import FOLDER_HINT
from ..content.model import Item
from ..site.model import NEWS, Scope
from ..site.queries import Queries
from ..site.urls import Urls, output_path, place_of
from ..util.errors import ContentError, Problem
from ..util.links import is_external
from .media import PHOTO, file_links
from .photos import DOCUMENT_TYPES
from .spec import Declared, Partition, Spec

# The ids the page templates give every page (templates/base.html): a link may aim at them anywhere.
PAGE_IDS = frozenset({"main", "contact-heading"})
# The attributes that make a browser fetch or open an address.
REFERENCE_ATTRIBUTES = frozenset({"href", "src", "poster", "srcset", "data"})


@dataclass(frozen=True)
class Reference:
    """One address a body refers to, as written, and the attribute that holds it."""

    written: str
    attribute: str


@dataclass(frozen=True)
class Scanned:
    """What a body refers to, in order, and the ids of its elements."""

    references: tuple[Reference, ...]
    ids: frozenset[str]


def scan(html: str) -> Scanned:
    """Read a body's references and ids from its start tags.

    A body is nh3's output (content/markup.py), whose tags its patterns read: seven times faster than
    html.parser, and an adding build scans its month's bodies.
    """
    references: list[Reference] = []
    ids: set[str] = set()
    for attributes in START_TAG.findall(html):
        for name, value in ATTRIBUTE.findall(attributes):
            value = unescape(value) if "&" in value else value
            if name in ("id", "name"):
                ids.add(value)
            elif name == "srcset":
                references += [Reference(part.split()[0], name) for part in value.split(",") if part.split()]
            elif name in REFERENCE_ATTRIBUTES:
                references.append(Reference(value.strip(), name))
    return Scanned(tuple(references), frozenset(ids))


def is_internal(written: str) -> bool:
    """Tell whether a reference stays on this site (not another site, mail, a phone number, or data)."""
    return bool(written) and not is_external(written)


class References:
    """A check with no output: every published item's references inside the site, one partition per month.

    A new or edited item checks its month's items again, not its year's (a year of a large archive holds
    thousands of bodies, each read and scanned).
    """

    name = "references"

    def __init__(self, read_source: Callable[[str], str]) -> None:
        self.read_source = read_source

    def partitions(self, q: Queries, declared: Declared) -> Iterable[Partition]:
        """One partition per language and month that has items."""
        return [
            Partition(self.name, (lang, str(year), str(month)))
            for lang in q.languages
            for year, _ in sorted(q.periods(Scope(NEWS, lang)))
            for month, _ in sorted(q.periods(Scope(NEWS, lang).at(year)))
        ]

    def specs(self, q: Queries, declared: Declared, part: Partition) -> Iterable[Spec]:
        """Check the references of the items of one month in one language; raise every broken one."""
        lang, year, month = part.args
        problems: list[Problem] = []
        for item in q.items(Scope(NEWS, lang).at(int(year), int(month))):
            problems += self.check(q, declared, item)
        if problems:
            raise ContentError(problems)
        return []

    def draw(self, q: Queries, declared: Declared, spec: Spec) -> bytes:
        """Draw nothing: the check declares no output."""
        raise AssertionError("references declare no output")

    def check(self, q: Queries, declared: Declared, item: Item) -> list[Problem]:
        """Report each reference of one item's body that leads nowhere on this site."""
        urls = Urls(q.config.default_language, q.config.base_url)
        page = urls.item(item)
        body = scan(q.body(item))
        # A photo of the item's folder named in its text is checked by the item's parse, and the page shows
        # it through its variants (output/media.py), not at the name written; a link to a document the item
        # lists, or to a photo it shows, leads to the address the file is published at (media.file_links).
        photos = {file.name for file in item.files if file.kind == PHOTO}
        linked = file_links(urls, item)
        written = list(dict.fromkeys(body.references))
        problems = [self._embedded(item, r) for r in written if r.attribute != "href" and is_external(r.written)]
        references = [
            r
            for r in written
            if is_internal(r.written) and unquote(r.written) not in (linked if r.attribute == "href" else photos)
        ]
        targets = {r: urljoin(page, r.written) for r in references}
        places = {r: place_of(unquote(urlsplit(t).path)) for r, t in targets.items()}
        owners = declared.owners(places.values())
        for reference in references:
            split = urlsplit(targets[reference])
            fragment = unquote(split.fragment)
            if split.path == page or places[reference] == output_path(page):
                ids = body.ids
            elif places[reference] not in owners:
                problems.append(self._missing(q, declared, item, reference, split.path))
                continue
            elif owners[places[reference]].endswith(".md") and fragment:
                target = q.item(owners[places[reference]])
                ids = scan(q.body(target)).ids
            else:
                continue  # a page the check knows no ids of (a listing, a feed, a file): it exists
            if fragment and fragment not in ids and fragment not in PAGE_IDS:
                near = difflib.get_close_matches(fragment, sorted(ids | PAGE_IDS), n=1)
                problems.append(
                    Problem(
                        item.path,
                        self._line(item, reference.written),
                        f"the link {reference.written} leads to no #{fragment} on {split.path}",
                        f"did you mean #{near[0]}?" if near else "link a heading of that page, or drop the #fragment",
                    )
                )
        return problems

    def _embedded(self, item: Item, reference: Reference) -> Problem:
        """Refuse an image or other embedded file from another site: no page makes a third-party request."""
        return Problem(
            item.path,
            self._line(item, reference.written),
            f"the image or file {reference.written} is on another site: every reader's browser would fetch it "
            "from there, and the site's security policy blocks it",
            "download the photo into the item's folder and write its file name"
            if item.bundle
            else f"download the photo and {FOLDER_HINT}, then write its file name",
        )

    def _missing(self, q: Queries, declared: Declared, item: Item, reference: Reference, path: str) -> Problem:
        """Describe a reference to an address the site does not have, with the nearest one it has.

        A document of the item's folder that its front matter does not list is not published: the hint
        says to list it.
        """
        what = "the link" if reference.attribute == "href" else "the image or file"
        name = unquote(urlsplit(reference.written).path)
        if item.bundle and _unlisted_document(item.bundle, name):
            return Problem(
                item.path,
                self._line(item, reference.written),
                f"{what} {reference.written} leads to {name} of the item's folder, which the item does not list "
                "under `attachments:`, so it is not published",
                f"list it there with the title readers see: `- file: {name}` and, below it, `title: ...`",
            )
        near = difflib.get_close_matches(path, _addresses(declared), n=1, cutoff=0.6)
        return Problem(
            item.path,
            self._line(item, reference.written),
            f"{what} {reference.written} leads to {path}, which is not an address of this site",
            f"did you mean {near[0]}?" if near else "link a page the site has, or put the file under static/",
        )

    def _line(self, item: Item, written: str) -> int:
        """Return the first line of the item file that holds a reference as written (1 if none does)."""
        lines = self.read_source(item.path).splitlines()
        # As a link target or an attribute first: a short one ("x") also occurs in plain words.
        marked = (f"({written}", f'"{written}"', f"'{written}'", f"={written}", f"<{written}>", f"]: {written}")
        return next(
            (n for n, line in enumerate(lines, start=1) if any(m in line for m in marked)),
            next((n for n, line in enumerate(lines, start=1) if written in line), 1),
        )


def _unlisted_document(bundle: str, name: str) -> bool:
    """Tell whether a name an item's text links is a document lying in the item's folder."""
    extension = name.rpartition(".")[2].lower()
    return "/" not in name and extension in DOCUMENT_TYPES and Path(bundle, name).is_file()


def _addresses(declared: Declared) -> Sequence[str]:
    """List every address the site writes (read only when a reference is broken)."""
    return sorted({s.url for part in declared.partitions() for s in declared.specs(part) if s.url})
