"""Read access to the site model that records what was read: the dependencies of every output.

Producers (output/) read the site only through `Queries`. Each query notes, in the current
`Recorder`, a dependency: a key naming what was asked and a value digesting what came back. A later
build evaluates the same keys on its own model (`Queries.value`) and draws again only the outputs
whose recorded values changed; so a producer cannot forget a dependency, as it cannot read around
this class.

Which keys to evaluate again follows from what changed: every key has a scope (`scope_of`), and an
item belongs to the scopes `scopes(item)` lists, next to the queries that read them. A build that
changed some items evaluates the keys of their scopes (old and new versions), the keys of the
registry when a registry changed, and the global keys always.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from ..content.config import SiteConfig
from ..content.model import Item, Official, Organization, Section
from ..content.scripts import folded
from ..util.digest import digest_text
from .assemble import build_archive
from .model import NEWS, OFFICIAL, ORGANIZATION, SECTION, Edition, Scope, Site, Year

GLOBAL, REGISTRY = "global", "registry"
WINDOW = "window"  # the items of the news sitemap: a scope of its own, which the clock changes too
CATALOGUE = "catalogue"  # what the producers declared, as post-producers read it
RECORD = "record"  # the recorded addresses no output writes: changes with the record or an output at one of them
NEWS_WINDOW = timedelta(days=2)  # Google News lists items of the last two days
RELATED_SHOWN = 5  # the related items an item page lists
# How far an item looks for related ones: this many items on each side of it in the listing of each of
# its officials and organizations. It bounds the work per page (not the whole listing: the Secretary
# General's may hold tens of thousands of items), and the pages a new or changed item can change.
RELATED_SPAN = 10


# The sides of an item's neighbours, each read under its own key; a neighbour's value is its path and head.
NEIGHBOUR_SIDES = ("older", "newer")
NEIGHBOUR_SEPARATOR = "\x1f"


def neighbour_key(side: str, path: str) -> str:
    """Return the key under which a page reads the neighbour on one side of the item at `path`."""
    return f"{side}|{path}"


def neighbour_path(value: str) -> str:
    """Return the path of the neighbour a stored value of a neighbour key names ("" for none)."""
    return value.partition(NEIGHBOUR_SEPARATOR)[0]


def scope_of(key: str) -> str:
    """Return the scope of a dependency key: what must change for its value to change."""
    kind, _, rest = key.partition("|")
    if kind in ("items", "periods", "any", "count", "changed", "aliased"):
        return rest
    if kind == "latest":
        return rest.partition("|")[2]
    if kind in ("item", "body", *NEIGHBOUR_SIDES, "related"):
        return f"item|{rest}"
    if kind == "versions":
        return f"key|{rest}"
    if kind == "specs":
        return f"group|{rest}"
    if kind in ("listed", "lastmod"):  # listed|<sitemap>|<partition>
        return f"group|{rest.partition('|')[2]}"
    if kind in ("drawn", "owner"):
        return f"output|{rest}"
    return _SCOPE_OF_KIND.get(kind, GLOBAL)


# The kinds of keys whose scope is the same for every key of the kind (any other kind is global).
_SCOPE_OF_KIND = {
    **dict.fromkeys(
        ("sections", "officials", "organizations", "official", "organization", "section", "publisher"), REGISTRY
    ),
    **dict.fromkeys(("parts", "partitions"), CATALOGUE),
    "unkept": RECORD,
    WINDOW: WINDOW,
}


def scopes(item: Item) -> list[str]:
    """List the scopes an item belongs to: its own, its translation key's, and every listing it appears in."""
    lang, day = item.lang, item.day
    found = [f"item|{item.path}", f"key|{item.key}"]
    tops = [
        Scope(NEWS, lang),
        Scope(SECTION, lang, item.section),
        *(Scope(OFFICIAL, lang, o) for o in item.officials),
        *(Scope(ORGANIZATION, lang, o) for o in item.organizations),
    ]
    for top in tops:
        found += [
            top.key,
            top.at(day.year).key,
            top.at(day.year, day.month).key,
            top.at(day.year, day.month, day.day).key,
        ]
    return found


def related_scopes(site: Site, item: Item) -> list[str]:
    """List the item scopes whose related items a change of `item` (its old or its new version) can change.

    An item's related ones come from within RELATED_SPAN places of it in its listings (`related_items`).
    So a change can reach only the items within RELATED_SPAN places of where the changed version stands,
    or stood, in the listings of its officials and organizations on the new site: a version that is gone
    stood where it would be sorted now, and any item that came between is itself a changed version.
    """
    edition = site.editions.get(item.lang)
    if edition is None:
        return []
    found = []
    for kind, ident in _related_tags(item, publisher_ids(site)):
        listing = _listing(edition, kind, ident)
        at = _place(listing, item)
        found += [f"item|{other.path}" for other in listing[max(0, at - RELATED_SPAN) : at + RELATED_SPAN + 1]]
    return found


def related_items(site: Site, item: Item, publisher: frozenset[str]) -> tuple[Item, ...]:
    """Return the items related to an item: those sharing most officials and organizations, then the newest.

    Candidates are the items within RELATED_SPAN places of it in each of its listings, of its language,
    but never itself or its translation; the publisher's own organization (`publisher`) relates nothing.
    """
    edition = site.editions[item.lang]
    mine = set(_related_tags(item, publisher))
    pool: dict[str, Item] = {}
    for kind, ident in mine:
        listing = _listing(edition, kind, ident)
        at = _place(listing, item)
        for other in listing[max(0, at - RELATED_SPAN) : at + RELATED_SPAN + 1]:
            if other.key != item.key:
                pool[other.path] = other
    shared = {path: len(mine.intersection(_related_tags(other, publisher))) for path, other in pool.items()}
    ranked = sorted(pool.values(), key=lambda o: (-shared[o.path], -o.published.timestamp(), o.path))
    return tuple(ranked[:RELATED_SHOWN])


def publisher_ids(site: Site) -> frozenset[str]:
    """Return the organizations that publish the site: those named as the site's title (the CSTO itself)."""
    titles = {folded(title) for title in site.config.title.values()}
    return frozenset(o.id for o in site.organizations if titles & {folded(n) for n in o.name.values()})


def _related_tags(item: Item, publisher: frozenset[str]) -> list[tuple[str, str]]:
    """List what relates items: an item's officials and its organizations but the publisher."""
    return [(OFFICIAL, o) for o in item.officials] + [
        (ORGANIZATION, o) for o in item.organizations if o not in publisher
    ]


def _listing(edition: Edition, kind: str, ident: str) -> tuple[Item, ...]:
    """Return an official's or organization's items in one language, newest first."""
    return (edition.officials if kind == OFFICIAL else edition.organizations).get(ident, ())


def _place(listing: Sequence[Item], item: Item) -> int:
    """Return where an item stands, or would stand, in a newest-first listing (newest_first's order)."""
    return bisect_left(
        listing, (-item.published.timestamp(), item.path), key=lambda i: (-i.published.timestamp(), i.path)
    )


class Recorder:
    """The dependencies read while describing or drawing one thing: key -> value."""

    def __init__(self) -> None:
        self.deps: dict[str, str] = {}


@dataclass
class _Memo:
    """What the queries of one site derive on first use, shared by every Queries of that site."""

    trees: dict[str, tuple[Year, ...]] = field(default_factory=dict)
    periods: dict[str, tuple[tuple[int, int], ...]] = field(default_factory=dict)
    items: dict[str, tuple[Item, ...]] = field(default_factory=dict)
    by_path: dict[str, Item] = field(default_factory=dict)
    ranks: dict[int, dict[str, int]] = field(default_factory=dict)
    values: dict[str, str | None] = field(default_factory=dict)  # a key no query answers any more: None
    labels: dict[str, str] = field(default_factory=dict)
    publisher: list[frozenset[str]] = field(default_factory=list)


class Queries:
    """Answer the producers' questions about a site, recording each answer's digest."""

    def __init__(
        self,
        site: Site,
        heads: Mapping[str, str],
        bodies: Mapping[str, str],
        body: Callable[[Item], str],
        now: datetime,
        files: Mapping[str, tuple[str, str]],
        templates: Mapping[str, str],
        recorder: Recorder | None = None,
        memo: _Memo | None = None,
    ) -> None:
        self.site = site
        self.heads = heads
        self.bodies = bodies
        self._body = body
        self.now = now
        self.files = files
        self.templates = templates
        self.recorder = recorder
        self._memo = memo or _Memo()

    def recording(self, recorder: Recorder | None) -> Queries:
        """Return queries of the same site that record into `recorder`."""
        return Queries(
            self.site, self.heads, self.bodies, self._body, self.now, self.files, self.templates, recorder, self._memo
        )

    def _note(self, key: str, value: str) -> None:
        """Record a dependency."""
        if self.recorder is not None:
            self.recorder.deps[key] = value

    def _heads(self, items: Iterable[Item]) -> str:
        """Digest the heads of items, in order."""
        heads = self.heads
        return digest_text(*[heads[i.path] for i in items])

    # -- configuration, interface text, assets --------------------------------------------------

    @property
    def config(self) -> SiteConfig:
        """Return site.yaml's configuration."""
        self._note("config", self.site.config.digest)
        return self.site.config

    @property
    def languages(self) -> tuple[str, ...]:
        """Return the site's languages, the default first."""
        return self.config.languages

    def labels(self, lang: str) -> Mapping[str, object]:
        """Return the interface labels of a language."""
        labels = self.site.config.labels[lang]
        self._note(f"labels|{lang}", self._labels_value(lang))
        return labels

    def _labels_value(self, lang: str) -> str:
        """Digest a language's labels (once per site: every page asks several times)."""
        memo = self._memo.labels
        if lang not in memo:
            memo[lang] = digest_text(repr(sorted(self.site.config.labels[lang].items())))
        return memo[lang]

    def asset(self, name: str) -> str:
        """Return the published name of a static file (fingerprinted CSS and JavaScript)."""
        published = self.files[name][0]
        self._note(f"asset|{name}", published)
        return published

    def static_digest(self, name: str) -> str:
        """Return the digest of a static file's bytes."""
        found = self.files[name][1]
        self._note(f"static|{name}", found)
        return found

    def static_names(self) -> tuple[str, ...]:
        """Return the names of the static folder's files, sorted."""
        names = tuple(sorted(self.files))
        self._note("static", digest_text(*names))
        return names

    def template(self, name: str) -> str:
        """Return the digest of a template with every template it extends, includes or imports."""
        found = self.templates.get(name, "")
        self._note(f"template|{name}", found)
        return found

    # -- registries -----------------------------------------------------------------------------

    @property
    def sections(self) -> tuple[Section, ...]:
        """Return every section, in order."""
        self._note("sections", digest_text(repr(self.site.sections)))
        return self.site.sections

    @property
    def officials(self) -> tuple[Official, ...]:
        """Return every official, in registry order."""
        self._note("officials", digest_text(repr(self.site.officials)))
        return self.site.officials

    @property
    def organizations(self) -> tuple[Organization, ...]:
        """Return every organization, in registry order."""
        self._note("organizations", digest_text(repr(self.site.organizations)))
        return self.site.organizations

    def official(self, id: str) -> Official:
        """Return one official."""
        rank = self._rank(self.site.officials)[id]
        found = self.site.officials[rank]
        self._note(f"official|{id}", digest_text(repr(found), str(rank)))
        return found

    def organization(self, id: str) -> Organization:
        """Return one organization."""
        rank = self._rank(self.site.organizations)[id]
        found = self.site.organizations[rank]
        self._note(f"organization|{id}", digest_text(repr(found), str(rank)))
        return found

    def officials_of(self, item: Item) -> list[Official]:
        """Return the officials an item names, in the registry's order (each read as itself, with its place)."""
        rank = self._rank(self.site.officials)
        return [self.official(id) for id in sorted(item.officials, key=lambda i: rank.get(i, len(rank))) if id in rank]

    def organizations_of(self, item: Item) -> list[Organization]:
        """Return the organizations an item names, in the registry's order."""
        rank = self._rank(self.site.organizations)
        return [
            self.organization(id)
            for id in sorted(item.organizations, key=lambda i: rank.get(i, len(rank)))
            if id in rank
        ]

    def _rank(self, entries: Sequence[Official | Organization]) -> dict[str, int]:
        """Index registry entries by id (memoised): a lookup, not a scan of the registry, for each name of an item."""
        key = id(entries)
        found = self._memo.ranks.get(key)
        if found is None:
            found = self._memo.ranks[key] = {e.id: i for i, e in enumerate(entries)}
        return found

    def section(self, id: str) -> Section:
        """Return one section."""
        found = next(s for s in self.site.sections if s.id == id)
        self._note(f"section|{id}", digest_text(repr(found)))
        return found

    # -- items and listings ---------------------------------------------------------------------

    def item(self, path: str) -> Item:
        """Return a published item by its file path."""
        found = self._by_path()[path]
        self._note(f"item|{path}", self.heads[path])
        return found

    def body(self, item: Item) -> str:
        """Return an item's body as HTML."""
        self._note(f"body|{item.path}", self.bodies[item.path])
        return self._body(item)

    def items(self, scope: Scope) -> tuple[Item, ...]:
        """Return the items of a scope, newest first."""
        found = self._items(scope)
        self._note(f"items|{scope.key}", self._heads(found))
        return found

    def latest(self, scope: Scope, n: int) -> tuple[Item, ...]:
        """Return the newest `n` items of a scope."""
        found = self._items(scope)[:n]
        self._note(f"latest|{n}|{scope.key}", self._heads(found))
        return found

    def has_items(self, scope: Scope) -> bool:
        """Tell whether a scope has any item (a listing without one has no feed, nor, for a person, a page)."""
        found = bool(self._items(scope))
        self._note(f"any|{scope.key}", "1" if found else "")
        return found

    def count(self, scope: Scope) -> int:
        """Return the number of items of a scope."""
        found = len(self._items(scope))
        self._note(f"count|{scope.key}", str(found))
        return found

    def last_change(self, scope: Scope) -> datetime | None:
        """Return the latest date (updated, else published) of a scope's items: when its listing last changed."""
        found = max((i.updated or i.published for i in self._items(scope)), default=None)
        self._note(f"changed|{scope.key}", found.isoformat() if found is not None else "")
        return found

    def periods(self, scope: Scope) -> tuple[tuple[int, int], ...]:
        """Return a scope's years (or its year's months, its month's days) with their item counts, newest first."""
        found = self._periods(scope)
        self._note(f"periods|{scope.key}", ",".join(f"{p}:{n}" for p, n in found))
        return found

    def older(self, item: Item) -> Item | None:
        """Return the previous item of an item's section."""
        found = self.site.editions[item.lang].older.get(item.key)
        self._note(neighbour_key("older", item.path), self._neighbour(found))
        return found

    def newer(self, item: Item) -> Item | None:
        """Return the next item of an item's section."""
        found = self.site.editions[item.lang].newer.get(item.key)
        self._note(neighbour_key("newer", item.path), self._neighbour(found))
        return found

    def _neighbour(self, item: Item | None) -> str:
        """Describe a neighbour by its path and head (the path lets a later build find it again)."""
        return f"{item.path}{NEIGHBOUR_SEPARATOR}{self.heads[item.path]}" if item is not None else ""

    def publisher(self) -> frozenset[str]:
        """Return the ids of the organizations that publish the site (`publisher_ids`)."""
        memo = self._memo.publisher
        if not memo:
            memo.append(publisher_ids(self.site))
        self._note("publisher", ",".join(sorted(memo[0])))
        return memo[0]

    def related(self, item: Item) -> tuple[Item, ...]:
        """Return the items related to an item (`related_items`): most shared first, then the newest."""
        found = related_items(self.site, item, self.publisher())
        self._note(f"related|{item.path}", self._heads(found))
        return found

    def versions(self, item: Item) -> Mapping[str, Item]:
        """Return every published language version of an item (itself included), by language."""
        return self._versions(item.key)

    def _versions(self, key: str) -> Mapping[str, Item]:
        """Return the published language versions of a translation key."""
        found = self.site.versions[key]
        self._note(f"versions|{key}", self._heads(found.values()))
        return found

    def news_window(self) -> tuple[Item, ...]:
        """Return the items of the last two days, every language, for the news sitemap."""
        found = self._window()
        self._note(WINDOW, self._heads(found))
        return found

    def recorded_below(self, folder: str) -> tuple[str, ...]:
        """Return the addresses of the record (every address the site has published) inside a folder address."""
        found = tuple(a for a in sorted(self.site.record.entries) if a.startswith(folder) and a != folder)
        self._note(f"below|{folder}", digest_text(*found))
        return found

    def aliased(self, lang: str) -> tuple[Item, ...]:
        """Return the published items of a language that have aliases (old addresses), newest first."""
        scope = Scope(NEWS, lang)
        found = tuple(i for i in self._items(scope) if i.aliases)
        self._note(f"aliased|{scope.key}", self._heads(found))
        return found

    def held_back(self) -> tuple[Item, ...]:
        """Return the drafts and scheduled items left out of this build."""
        return self.site.held_back

    # -- evaluating recorded keys again -----------------------------------------------------------

    def value(self, key: str) -> str | None:
        """Return what a recorded key's query answers on this site now (None: it no longer exists)."""
        memo = self._memo.values
        if key not in memo:
            memo[key] = self._evaluate(key)
        return memo[key]

    def _evaluate(self, key: str) -> str | None:
        """Run the query a key names, recording nothing but its answer."""
        kind, _, rest = key.partition("|")
        ask = _ASK.get(kind)
        if ask is None:
            return None
        quiet = self.recording(Recorder())
        try:
            ask(quiet, rest)
        except (KeyError, StopIteration):
            return None  # what it named is gone: an item deleted or held back, a registry entry removed
        return quiet.recorder.deps.get(key) if quiet.recorder is not None else None

    def body_key(self, item: Item) -> str:
        """Record and return an item's body key without reading the body."""
        self._note(f"body|{item.path}", self.bodies[item.path])
        return self.bodies[item.path]

    # -- derived on first use -------------------------------------------------------------------

    def _by_path(self) -> dict[str, Item]:
        """Index the published items by file path."""
        memo = self._memo.by_path
        if not memo:
            memo.update((i.path, i) for e in self.site.editions.values() for i in e.items)
        return memo

    def _top(self, scope: Scope) -> tuple[Item, ...]:
        """Return every item of a scope's whole listing."""
        edition: Edition = self.site.editions[scope.lang]
        if scope.kind == NEWS:
            return edition.items
        listing = {SECTION: edition.sections, OFFICIAL: edition.officials, ORGANIZATION: edition.organizations}
        return listing[scope.kind][scope.id]

    def _tree(self, scope: Scope) -> tuple[Year, ...]:
        """Return a whole listing grouped by year, month and day."""
        key = scope.whole.key
        tree = self._memo.trees.get(key)
        if tree is None:
            tree = self._memo.trees[key] = build_archive(self._top(scope))
        return tree

    def _items(self, scope: Scope) -> tuple[Item, ...]:
        """Return the items of a scope, newest first (memoised)."""
        key = scope.key
        found = self._memo.items.get(key)
        if found is None:
            if scope.year is None:
                found = self._top(scope)
            else:
                found = ()
                for year in self._tree(scope):
                    if year.year != scope.year:
                        continue
                    for month in year.months:
                        if scope.month is not None and month.month != scope.month:
                            continue
                        found += tuple(
                            i for day, items in month.days for i in items if scope.day is None or day.day == scope.day
                        )
            self._memo.items[key] = found
        return found

    def _periods(self, scope: Scope) -> tuple[tuple[int, int], ...]:
        """Return the sub-periods of a scope with their counts (memoised)."""
        key = scope.key
        found = self._memo.periods.get(key)
        if found is None:
            tree = self._tree(scope)
            if scope.year is None:
                found = tuple((y.year, y.count) for y in tree)
            elif scope.month is None:
                found = tuple((m.month, m.count) for y in tree if y.year == scope.year for m in y.months)
            else:
                found = tuple(
                    (d.day, len(items))
                    for y in tree
                    if y.year == scope.year
                    for m in y.months
                    if m.month == scope.month
                    for d, items in m.days
                )
            self._memo.periods[key] = found
        return found

    def _window(self) -> tuple[Item, ...]:
        """Return the items of the last two days before `now`, every language, newest first."""
        found = []
        for edition in self.site.editions.values():
            for item in edition.items:  # newest first
                if item.published < self.now - NEWS_WINDOW:
                    break
                if item.published <= self.now:
                    found.append(item)
        return tuple(found)


def _latest(q: Queries, rest: str) -> object:
    """Ask for the newest items of a scope, from a key's rest: n|scope."""
    n, _, scope = rest.partition("|")
    return q.latest(_parse_scope(scope), int(n))


# How to ask again the query a recorded key names (its kind, then the rest of the key).
_ASK: dict[str, Callable[[Queries, str], object]] = {
    "items": lambda q, rest: q.items(_parse_scope(rest)),
    "latest": _latest,
    "periods": lambda q, rest: q.periods(_parse_scope(rest)),
    "any": lambda q, rest: q.has_items(_parse_scope(rest)),
    "count": lambda q, rest: q.count(_parse_scope(rest)),
    "changed": lambda q, rest: q.last_change(_parse_scope(rest)),
    "item": lambda q, rest: q.item(rest),
    "body": lambda q, rest: q.body_key(q.item(rest)),
    "older": lambda q, rest: q.older(q.item(rest)),
    "newer": lambda q, rest: q.newer(q.item(rest)),
    "related": lambda q, rest: q.related(q.item(rest)),
    "publisher": lambda q, rest: q.publisher(),
    "versions": lambda q, rest: q._versions(rest),
    "labels": lambda q, rest: q.labels(rest),
    "asset": lambda q, rest: q.asset(rest),
    "static": lambda q, rest: q.static_digest(rest) if rest else q.static_names(),
    "template": lambda q, rest: q.template(rest),
    "below": lambda q, rest: q.recorded_below(rest),
    "aliased": lambda q, rest: q.aliased(_parse_scope(rest).lang),
    "official": lambda q, rest: q.official(rest),
    "organization": lambda q, rest: q.organization(rest),
    "section": lambda q, rest: q.section(rest),
    "config": lambda q, rest: q.config,
    "sections": lambda q, rest: q.sections,
    "officials": lambda q, rest: q.officials,
    "organizations": lambda q, rest: q.organizations,
    WINDOW: lambda q, rest: q.news_window(),
}


def _parse_scope(text: str) -> Scope:
    """Read a scope back from its key."""
    parts = text.split("|")
    numbers = [int(p) for p in parts[3:]]
    return Scope(parts[0], parts[1], parts[2], *numbers)
