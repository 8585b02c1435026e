"""Old addresses: the items' `aliases`, site.yaml's `redirects` and `gone`, and every address the record keeps.

A page is left at each old address that a web server serves as HTML (a folder or an .html file): it
follows at once to the new address. Every old address is also written to `nginx-redirects.conf` as a
real 301 (a retracted one, site.yaml's `gone`, as a 410 and a "withdrawn" page). Old addresses are
checked against the outputs the catalogue declares: one may not be the address of a page, be given
twice, or lead to an address the build does not write. Every address of the record
(content/addresses.txt) is kept: a page, a redirect, or a retraction; one that would be none is an error.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

from ..content.model import Item
from ..site.queries import Queries
from ..site.urls import (
    FOLDER_INDEX,
    REDIRECTS_CONF,
    Urls,
    archive_parent,
    build_owns,
    language_of,
    output_path,
    path_error,
    place_of,
    redirect_path,
    uncompressed,
)
from ..util.errors import ContentError, Problem
from .nginx import render_redirects
from .render import Renderer
from .spec import Declared, Partition, Spec
from .views import Kit, Link


@dataclass(frozen=True)
class Redirect:
    """An old address, the site URL it now leads to, and the file and line that ask for it."""

    old: str
    new: str
    lang: str
    title: str
    source: str
    line: int
    entry: str = ""  # the address as the file writes it, when this one was derived from a moved folder
    reason: str = ""  # why the address was retracted (site.yaml's `gone`): then there is no new address
    files: bool = False  # an item's old folder: its photos and documents follow to the same names below `new`

    @property
    def path(self) -> str:
        """Return the redirect page's file, or "" when only the web server can redirect this address."""
        return redirect_path(self.old)

    @property
    def place(self) -> str:
        """Return the file a reader of the old address would have asked for, to find clashes."""
        return place_of(self.old)

    def spec(self) -> Spec:
        """Describe the redirect as an output (its page, when it has one)."""
        return Spec(
            self.path,
            self.old,
            self.lang,
            f"redirect:{self.old}",
            (self.new, self.title, str(self.line), self.entry, self.reason, "files" if self.files else ""),
            source=self.source,
        )


def redirect_of(spec: Spec) -> Redirect:
    """Read a redirect back from its spec."""
    new, title, line, entry, reason, files = spec.args
    return Redirect(spec.url, new, spec.lang, title, spec.source, int(line), entry, reason, bool(files))


class Redirects:
    """The page left at every old address, checked against every output the site declares."""

    name = "redirect"

    def __init__(self, renderer: Renderer) -> None:
        self.renderer = renderer

    def partitions(self, q: Queries, declared: Declared) -> Iterable[Partition]:
        """One partition: every old address of the site."""
        return [Partition(self.name)]

    def specs(self, q: Queries, declared: Declared, part: Partition) -> Iterable[Spec]:
        """List every redirect and retraction, and keep every recorded address; report clashes and losses."""
        redirects = collect(q, declared)
        problems = clashes(redirects, q, declared)
        kept, lost = keep_recorded(q, declared, redirects)
        redirects += kept
        problems += lost
        if problems:
            raise ContentError(problems)
        return [r.spec() for r in redirects]

    def draw(self, q: Queries, declared: Declared, spec: Spec) -> bytes:
        """Render the page left at an old address: a link to the new one, followed at once."""
        redirect = redirect_of(spec)
        kit = Kit(q)
        labels = kit.labels(redirect.lang)
        if redirect.reason:
            withdrawn = kit.page(redirect.old, "withdrawn.html", redirect.lang, str(labels["withdrawn"]), key=spec.key)
            alternates, switch = kit.versions(())
            return self.renderer.render(
                q,
                replace(
                    withdrawn,
                    canonical="",  # a retracted address names no page to index instead
                    alternates=alternates,
                    switch=switch,
                    in_sitemap=False,
                    context={**withdrawn.context, "reason": redirect.reason},
                ),
            )
        page = kit.page(
            redirect.old,
            "redirect.html",
            redirect.lang,
            str(labels["moved"]),
            key=spec.key,
            target=Link(redirect.new, redirect.title or kit.urls.absolute(redirect.new)),
        )
        return self.renderer.render(q, replace(page, canonical=kit.urls.absolute(redirect.new), in_sitemap=False))


class NginxRedirects:
    """nginx-redirects.conf: every old address as a 301, published with the pages it points to."""

    name = "nginx"

    def partitions(self, q: Queries, declared: Declared) -> Iterable[Partition]:
        """One partition, one file."""
        return [Partition(self.name)]

    def specs(self, q: Queries, declared: Declared, part: Partition) -> Iterable[Spec]:
        """Describe the include."""
        return [Spec(REDIRECTS_CONF, "/" + REDIRECTS_CONF, q.config.default_language, REDIRECTS_CONF, source="aliases")]

    def draw(self, q: Queries, declared: Declared, spec: Spec) -> bytes:
        """Write one exact-match location per old address, and one prefix location per item's old folder."""
        redirects = [redirect_of(s) for part in declared.partitions(Redirects.name) for s in declared.specs(part)]
        folders = [(r.old, r.new) for r in redirects if r.files]
        return render_redirects(((r.old, r.new, r.path) for r in redirects), folders)


def collect(q: Queries, declared: Declared) -> list[Redirect]:
    """List every redirect: items' aliases, site.yaml's `redirects` (with what a folder held), its `gone`."""
    config = q.config
    urls = Urls(config.default_language, config.base_url)
    found = [
        Redirect(alias.url, urls.item(item), item.lang, item.title, item.path, alias.line)
        for lang in config.languages
        for item in q.aliased(lang)
        for alias in item.aliases
    ]
    for move in config.redirects:
        lang = language_of(move.new, config.languages, urls)
        found.append(Redirect(move.old, move.new, lang, "", move.source, move.line))
        # A folder is told from a page by what it held: the published addresses below it move with it
        # (a renamed section's dated archive and its feed), each to the same place below the new address.
        folder = move.old.rstrip("/") + "/"
        below = q.recorded_below(folder) if move.new.endswith("/") else ()
        moved = {a: move.new + a[len(folder) :] for a in below}
        for old, new in zip(moved, nearest(declared, list(moved.values())), strict=True):
            if new:
                found.append(Redirect(old, new, lang, "", move.source, move.line, move.old))
    found += [
        Redirect(
            gone.address,
            "",
            language_of(gone.address, config.languages, urls),
            "",
            gone.source,
            gone.line,
            "",
            gone.reason,
        )
        for gone in config.gone
    ]
    return found


def nearest(declared: Declared, addresses: Sequence[str]) -> list[str]:
    """Return each address if the site writes it, else the listing above an emptied dated archive, or ""."""
    found = []
    for address in addresses:
        candidates = [address]
        while parent := archive_parent(candidates[-1]):
            candidates.append(parent)
        owners = declared.owners(output_path(c) for c in candidates)
        found.append(next((c for c in candidates if output_path(c) in owners), ""))
    return found


def keep_recorded(
    q: Queries, declared: Declared, redirects: Sequence[Redirect]
) -> tuple[list[Redirect], list[Problem]]:
    """Keep every recorded address the site neither writes nor redirects: to its item, else the listing above.

    An address that was an item's page follows the item (a corrected date, an explicit new slug); a
    dated archive page whose items all went leads to the listing above it. Any other is an error.
    """
    record = declared.unkept()
    given = {r.place for r in redirects}
    entries = [e for e in record.entries.values() if place_of(e.address) not in given]
    urls = Urls(q.config.default_language, q.config.base_url)
    kept: list[Redirect] = []
    problems: list[Problem] = []
    targets = nearest(declared, [archive_parent(e.address) for e in entries])
    held = {item.path: item for item in q.held_back()}
    default = q.config.default_language
    for entry, listing in zip(entries, targets, strict=True):
        item = _published(q, entry.source)
        if item is not None:
            # An item's own old page is a folder: the photos and documents published in it follow the item too.
            files = bool(urls.slug_at(item.lang, entry.address))
            kept.append(
                Redirect(entry.address, urls.item(item), item.lang, item.title, record.path, entry.line, files=files)
            )
        elif listing:
            lang = language_of(entry.address, q.config.languages, urls)
            kept.append(Redirect(entry.address, listing, lang, "", record.path, entry.line))
        else:
            lang = language_of(entry.address, q.config.languages, urls)
            item = held.get(entry.source)
            drafted = next(
                (h for h in held.values() if item and h.key == item.key and h.draft and h.lang == default), None
            )
            was, publish = _lost_page(entry.source, drafted or item, urls.slug_at(lang, entry.address))
            problems.append(
                Problem(
                    record.path,
                    entry.line,
                    f"the published address {entry.address} would be lost: {was}",
                    f"{publish or _gone_section(q, urls, lang, entry.address)}keep it: in site.yaml, redirect it "
                    f"(`redirects:` {entry.address} -> the page that replaces it) or retract it (`gone:` it, with "
                    "the reason it was withdrawn)",
                )
            )
    return kept, problems


def _gone_section(q: Queries, urls: Urls, lang: str, address: str) -> str:
    """Say how one line keeps every address of a section that is gone (renamed), when `address` is one ("" else)."""
    section = urls.section_at(lang, address)
    if not section or section in {s.id for s in q.sections}:
        return ""
    return (
        f"the section `{section}` is gone: if it was renamed, one line keeps all its addresses, "
        f'`redirects: {{"{urls.section(lang, section)}": {urls.section(lang, "<new-name>")}}}`; else '
    )


def _lost_page(source: str, held: Item | None, slug: str) -> tuple[str, str]:
    """Say what became of the page a lost address had, and how to publish it again ("" when it cannot be).

    `held` is the item held back, or the draft original its translation waits for; `slug` is the lost address's,
    when it is an item's page: a file renamed keeps its address by it.
    """
    if held is not None and held.draft and held.path != source:
        return (
            f"it is the page of {source}, which waits for its original {held.path}, now a draft",
            f"remove `draft: true` from {held.path} to publish both again, or ",
        )
    if held is not None and held.draft:
        return f"it is the page of {source}, which is now a draft", "remove `draft: true` to publish it again, or "
    if held is not None:
        return (
            f"it is the page of {source}, which is now dated {held.published:%Y-%m-%d %H:%M}, in the future",
            "give it back the date it was published under (or site.yaml its old `timezone`, if that changed), or ",
        )
    if not source:
        return "no page is there now", ""
    renamed = f"if you renamed or moved the file, give it `slug: {slug}` to keep its address; if not, " if slug else ""
    return f"it was the page of {source}, which is gone", renamed


def _published(q: Queries, path: str) -> Item | None:
    """Return the published item of a file, or None (no file given, or it is gone or held back)."""
    if not path:
        return None
    try:
        return q.item(path)
    except KeyError:
        return None


def clashes(redirects: Sequence[Redirect], q: Queries, declared: Declared) -> list[Problem]:
    """Report old addresses that are real pages or given twice, and redirects to addresses that do not exist."""
    owners = declared.owners(
        [
            *(r.place for r in redirects),
            *(uncompressed(r.place) for r in redirects),
            *(output_path(r.new) for r in redirects if r.new),
        ]
    )
    owners[REDIRECTS_CONF] = "aliases"  # the include the redirects themselves make, declared after them
    # One problem per address the files give: a moved folder's derived addresses share its entry.
    problems: dict[tuple[str, int, str], Problem] = {}
    first: dict[str, Redirect] = {}
    for redirect in sorted(redirects, key=lambda r: (r.source, r.line)):
        where = (redirect.source, redirect.line)
        earlier = first.setdefault(redirect.place, redirect)
        if redirect.place in owners:
            problem = Problem(
                *where,
                f"the old address {redirect.old} is {_owner(redirect.place, owners)}",
                "remove it: a redirect there would hide that page",
            )
        elif build_owns(redirect.place, owners):
            problem = Problem(
                *where,
                f"the old address {redirect.old} is a file the build writes itself",
                "remove it: a redirect there would hide that file (search, static files, "
                "feeds and their .gz and .br copies belong to the build)",
            )
        elif reason := path_error(redirect.place):
            problem = Problem(
                *where, f"the old address {redirect.old} cannot be written: {reason}", "shorten the old address"
            )
        elif earlier is not redirect:
            problem = Problem(
                *where,
                f"the old address {redirect.old} is also given in {earlier.source}:{earlier.line}",
                "keep it in one place only",
            )
        elif redirect.new and output_path(redirect.new) not in owners:
            problem = Problem(
                *where,
                f"the new address {redirect.new} is not a page of the site",
                "point it at a page the build writes, e.g. /sections/<section>/",
            )
        else:
            continue
        problems.setdefault((*where, redirect.entry or redirect.old), problem)
    return list(problems.values())


def _owner(path: str, owners: dict[str, str]) -> str:
    """Name what an output path is: an item's address (by its file), or a page's."""
    source = owners[path]
    return (
        f"the address of {source}" if source.endswith(".md") else f"the address of /{path.removesuffix(FOLDER_INDEX)}"
    )
