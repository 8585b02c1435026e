"""Plan a build from the catalogue: describe and draw again only what the changed inputs touched.

The producers declare every output (output/catalogue.py); this module only keeps what they declared
and read (build/state.py), finds which of those reads changed, and schedules the partitions to
describe and the outputs to draw again. It lists no outputs of its own.

1. Candidates: the stored keys in the scopes of the changed items (old and new versions, and their
   old and new neighbours), the news window's key (the clock moves it too), and every global and
   registry key.
2. Dirty keys: the candidates whose value on the new site differs from the stored one.
3. Every producer lists its partitions (cheap); a partition that is new, or read a dirty key, is
   described again and its outputs compared with the stored ones: new or changed ones are drawn,
   vanished ones removed.
4. Outputs that read a dirty key, or whose files the live site lacks, are drawn too.
Post-producers (sitemaps, redirects, the search index) follow, with the catalogue as their input:
their candidates are the catalogue keys of the partitions described again and the outputs redrawn.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from ..content.model import Item
from ..content.record import Record
from ..output.spec import Partition, Spec, producer_of
from ..site.model import Site
from ..site.queries import (
    CATALOGUE,
    NEIGHBOUR_SIDES,
    WINDOW,
    Queries,
    Recorder,
    neighbour_key,
    neighbour_path,
    related_scopes,
    scopes,
)
from ..site.urls import COPY_SUFFIXES, output_path_error, place_of, uncompressed
from ..util.digest import digest_text
from ..util.errors import Problem
from .state import OutputState, StateChanges, output_consumer, partition_consumer, sitemap_lastmods

Describe = Callable[[Queries, Partition], Iterable[Spec]]


@dataclass(frozen=True)
class Draw:
    """One output to draw: its spec, its producer and the partition that describes it."""

    spec: Spec
    producer: str
    partition: str


@dataclass
class Scheduled:
    """What planning found to do: outputs to draw, outputs no longer produced, problems in the new ones."""

    draws: list[Draw] = field(default_factory=list)
    removed: set[str] = field(default_factory=set)
    problems: list[Problem] = field(default_factory=list)


def changed_scopes(changed: Iterable[tuple[Item | None, Item | None]], state: OutputState, site: Site) -> set[str]:
    """Return the scopes that changed items (old version, new version) can affect, their neighbours' included.

    And always the news window's: one key, which the clock changes as well as the items.
    """
    found: set[str] = {WINDOW}
    for old, new in changed:
        for item in (old, new):
            if item is not None:
                found.update(scopes(item))
                found.update(related_scopes(site, item))  # the items it is, was or may become related to
                for side in NEIGHBOUR_SIDES:  # the neighbours it had
                    stored = state.value(neighbour_key(side, item.path))
                    if stored:
                        found.add(f"item|{neighbour_path(stored)}")
        if new is not None and new.lang in site.editions:  # the neighbours it has now
            edition = site.editions[new.lang]
            for neighbour in (edition.older.get(new.key), edition.newer.get(new.key)):
                if neighbour is not None:
                    found.add(f"item|{neighbour.path}")
    return found


class Planner:
    """Schedule the partitions to describe and the outputs to draw, and collect the records of what each read."""

    def __init__(self, state: OutputState, q: Queries, missing: Collection[str]) -> None:
        self.state = state
        self.q = q
        self.missing = missing
        self.trusted = state.trusted
        self.changes = StateChanges()
        self.order: list[Partition] = []  # every partition of this build, in catalogue order
        self.described: dict[str, list[Spec]] = {}  # the partitions described in this build
        self.stored = state.partitions()
        self.dirty: set[str] = set()  # consumers that read a key whose value changed
        self.index: dict[str, list[tuple[str, Spec]]] = {}  # path -> the described partitions writing it
        self.fresh: list[tuple[str, Spec]] = []  # outputs new in this build, to check
        self._stale_index: tuple[int, dict[str, set[str]]] | None = None
        self.old_specs: dict[str, list[Spec] | None] = {}  # the stored specs of the partitions described
        self.describing = ""
        self.listed: set[str] = set()  # the ids of `order`
        self.finished: set[str] = set()  # the producers that listed all their partitions
        self.gone_urls: set[str] = set()  # the addresses of outputs gone from the partitions described again
        self.came_urls: set[str] = set()  # the addresses of outputs new in the partitions described again
        self._by_path: dict[str, dict[str, Spec]] = {}  # stored partition -> its specs by path (read once)
        self._digests: dict[str, str] = {}  # partition -> the digest of its specs, until it is described again
        self._lastmods: dict[str, dict[str, str]] = {}  # described partition -> sitemap -> its latest lastmod
        self._stored_lastmods: dict[str, dict[str, str]] | None = None  # the same, of the stored partitions

    def mark_dirty(
        self, candidates: Mapping[str, str], value: Callable[[str], str | None], wide: Mapping[str, str] | None = None
    ) -> None:
        """Mark the consumers of every candidate key (and wide key) whose value is no longer the stored one."""
        if not self.trusted:
            return
        changed = [k for k, v in candidates.items() if value(k) != v]
        changed_wide = [k for k, v in (wide or {}).items() if value(k) != v]
        self.dirty |= self.state.consumers(changed, changed_wide)

    def changed_partitions(self) -> set[str]:
        """Return the scopes of the partitions whose specs this build changed (for the post-producers)."""
        return {f"group|{pid}" for pid, specs in self.described.items() if self.old_specs.get(pid) != specs} | {
            CATALOGUE
        }

    def describe(self, producer: str, partitions: Iterable[Partition], describe: Describe) -> Scheduled:
        """Describe the producer's partitions that are new or read a dirty key; schedule what changed."""
        scheduled = Scheduled()
        for part in partitions:
            self.order.append(part)
            self.listed.add(part.id)
            if part.id in self.stored and partition_consumer(part.id) not in self.dirty:
                self._stale(part.id, producer, scheduled)
            else:
                self._describe(part, producer, describe, scheduled)
        self.finished.add(producer)
        return scheduled

    def vanished(self, pid: str) -> bool:
        """Tell whether a stored partition is one its producer no longer lists (its outputs go at the end)."""
        return producer_of(pid) in self.finished and pid not in self.listed

    def vanished_outputs(self) -> set[str]:
        """Return the outputs of the stored partitions their producers no longer list."""
        return {path for pid in self.stored if self.vanished(pid) for path in self.state.outputs_of(pid)}

    def moved_urls(self) -> set[str]:
        """Return the addresses of the outputs that came into a partition or went (alone or with their partition).

        An output drawn again where it was is not among them: which addresses the site writes is the same.
        """
        vanished = {s.url for pid in self.stored if self.vanished(pid) for s in self.state.specs(pid)}
        return self.came_urls | self.gone_urls | vanished

    def moved_pages(self, producer: str) -> dict[str, str]:
        """Return the old address -> the new one of each output of `producer` whose source this build moved."""
        old = {
            s.source: s.url
            for pid, specs in self.old_specs.items()
            if producer_of(pid) == producer
            for s in specs or ()
        }
        new = {s.source: s.url for pid, specs in self.described.items() if producer_of(pid) == producer for s in specs}
        return {old[source]: url for source, url in new.items() if old.get(source, url) != url}

    def _describe(self, part: Partition, producer: str, describe: Describe, scheduled: Scheduled) -> None:
        """Describe one partition again and compare its outputs with the stored ones."""
        recorder = Recorder()
        pid = part.id
        self.describing = pid  # what a partition asks of the catalogue leaves out its own last outputs
        specs = list(describe(self.q.recording(recorder), part))
        self.describing = ""
        self.described[pid] = specs
        self._digests.pop(pid, None)
        self._lastmods.pop(pid, None)
        self.changes.partitions[pid] = (producer, specs)
        self.changes.deps[partition_consumer(pid)] = recorder.deps
        self.old_specs[pid] = self.state.specs(pid) if pid in self.stored else None
        old = {s.path: s for s in self.old_specs[pid] or ()}
        new = {s.path: s for s in specs if s.path}
        scheduled.removed |= old.keys() - new.keys()
        self.gone_urls.update(old[path].url for path in old.keys() - new.keys())
        self.came_urls.update(new[path].url for path in new.keys() - old.keys())
        for path in old:
            owners = self.index.get(path)
            if owners:
                self.index[path] = [(p, s) for p, s in owners if p != pid]
        for path, spec in new.items():
            self.index.setdefault(path, []).append((pid, spec))
        self.fresh += [(pid, s) for p, s in new.items() if p not in old]
        scheduled.draws += [
            Draw(spec, producer, pid)
            for path, spec in new.items()
            if old.get(path) != spec or output_consumer(path) in self.dirty or path in self.missing
        ]

    def _stale(self, pid: str, producer: str, scheduled: Scheduled) -> None:
        """Schedule the outputs of an unchanged partition that read a dirty key or are missing from the site."""
        stale = self._stale_by_partition().get(pid)
        if stale:
            by_path = {s.path: s for s in self.state.specs(pid)}
            scheduled.draws += [Draw(by_path[path], producer, pid) for path in sorted(stale) if path in by_path]

    def _stale_by_partition(self) -> dict[str, set[str]]:
        """Group the outputs that read a dirty key or lack a file in the live site by partition (once per pass)."""
        if self._stale_index is None or self._stale_index[0] != len(self.dirty):
            paths = {c[2:] for c in self.dirty if c.startswith("o:")}
            paths |= {uncompressed(f) for f in self.missing}
            found: dict[str, set[str]] = {}
            for path, pid in self.state.owners(paths).items():
                found.setdefault(pid, set()).add(path)
            self._stale_index = (len(self.dirty), found)
        return self._stale_index[1]

    def finish(self, removed: set[str]) -> set[str]:
        """Drop the partitions no producer listed this time; return every output path no longer produced."""
        listed = {p.id for p in self.order}
        removed = set(removed)
        for pid in set(self.stored) - listed:
            self.changes.dropped_partitions.add(pid)
            self.changes.dropped_consumers.add(partition_consumer(pid))
            removed |= set(self.state.outputs_of(pid))
        for path in removed:
            self.changes.dropped_outputs.add(path)
            self.changes.dropped_consumers.add(output_consumer(path))
        return removed

    def check(self) -> list[Problem]:
        """Report the outputs new in this build that leave the output folder or share a file with another output."""
        fresh, self.fresh = self.fresh, []
        paths = [s.path for _, s in fresh]
        copies = {p + suffix: p for p in paths for suffix in COPY_SUFFIXES}
        bases = {p[: -len(suffix)]: p for p in paths for suffix in COPY_SUFFIXES if p.endswith(suffix)}
        owners = self._owners([*paths, *copies, *bases])
        problems = []
        folders = self._folders()
        for pid, spec in fresh:
            reason = output_path_error(spec.path)
            if reason:
                problems.append(
                    Problem(
                        spec.source,
                        0,
                        f"cannot write {spec.path!r}: {reason}",
                        "use a shorter address or name, made of letters, digits and hyphens",
                    )
                )
            elif (
                spec.path in folders or self._file_above(spec.path) or (self.trusted and self._stored_below(spec.path))
            ):
                problems.append(
                    Problem(
                        spec.source,
                        0,
                        f"{spec.path} is written both as a file and as a folder",
                        "give one of them another address",
                    )
                )
            others = [s for p, s in owners.get(spec.path, []) if (p, s) != (pid, spec)]
            if others:
                problems.append(
                    Problem(
                        spec.source,
                        0,
                        f"{spec.path} is also written by {others[0].source}",
                        "give one of them another address",
                    )
                )
        for copy, path in copies.items():
            for _, spec in owners.get(copy, []):
                problems.append(
                    Problem(
                        spec.source,
                        0,
                        f"{copy} is also written by {_source(owners, path)} (its compressed copy)",
                        "rename one of them",
                    )
                )
        for base, path in bases.items():
            if base in owners:
                problems.append(
                    Problem(
                        _source(owners, path),
                        0,
                        f"{path} is also written by {_source(owners, base)} (its compressed copy)",
                        "rename one of them",
                    )
                )
        return sorted(set(problems))

    def _folders(self) -> set[str]:
        """Return every folder the outputs described in this build make."""
        found: set[str] = set()
        for path in self.index:
            folder = path.rpartition("/")[0]
            while folder and folder not in found:
                found.add(folder)
                folder = folder.rpartition("/")[0]
        return found

    def _file_above(self, path: str) -> bool:
        """Tell whether an output of the site is a file where `path` needs a folder."""
        parts = path.split("/")[:-1]
        folders = ["/".join(parts[:i]) for i in range(1, len(parts) + 1)]
        return bool(folders) and bool(self._owners(folders))

    def _stored_below(self, path: str) -> bool:
        """Tell whether an output the last build made, and this one keeps, lies inside `path` taken as a folder."""
        found = self.state.below(path)
        return found is not None and self.state.owners([found]).get(found) not in self.described

    def _owners(self, paths: Sequence[str]) -> dict[str, list[tuple[str, Spec]]]:
        """Return the partitions and specs that write each of `paths` in the site this build makes."""
        found: dict[str, list[tuple[str, Spec]]] = {}
        # A stored partition counts once its producer has listed it again in this build: one no longer
        # listed is gone, and a post-producer's is described again after the producers are checked.
        if self.trusted:
            for path, pid in self.state.owners(paths).items():
                if pid not in self.described and pid in self.stored and pid != self.describing and pid in self.listed:
                    spec = self._stored_spec(pid, path)
                    if spec is not None:
                        found.setdefault(path, []).append((pid, spec))
        for path in paths:
            found.setdefault(path, []).extend(o for o in self.index.get(path, ()) if o[0] != self.describing)
        return {path: owners for path, owners in found.items() if owners}

    def _stored_spec(self, pid: str, path: str) -> Spec | None:
        """Return the stored spec of a partition that writes `path`, if any."""
        if pid not in self._by_path:
            self._by_path[pid] = {s.path: s for s in self.state.specs(pid)}
        return self._by_path[pid].get(path)

    def lastmods(self, pid: str) -> dict[str, str]:
        """Return the sitemaps a partition's outputs are listed in, each with their latest `lastmod`."""
        if pid in self.described:
            if pid not in self._lastmods:
                self._lastmods[pid] = sitemap_lastmods(self.described[pid])
            return self._lastmods[pid]
        if self._stored_lastmods is None:
            self._stored_lastmods = self.state.sitemaps() if self.trusted else {}
        return self._stored_lastmods.get(pid, {})

    def digest(self, pid: str) -> str:
        """Return the digest of a partition's specs as this build has them (computed once per version)."""
        if pid not in self._digests:
            self._digests[pid] = digest_text(*(repr(s) for s in self.specs_of(pid)))
        return self._digests[pid]

    def present(self, paths: Sequence[str]) -> set[str]:
        """Return those of `paths` an output of this build writes (as `_owners` finds them, without their specs)."""
        found: set[str] = set()
        if self.trusted:
            for path, pid in self.state.owners(paths).items():
                if pid not in self.described and pid in self.stored and pid != self.describing and pid in self.listed:
                    found.add(path)
        found.update(p for p in paths if any(o[0] != self.describing for o in self.index.get(p, ())))
        return found

    def owners(self, paths: Sequence[str]) -> dict[str, str]:
        """Return the source of the spec that writes each of `paths`, among the outputs of this build."""
        return {path: owners[0][1].source for path, owners in self._owners(paths).items()}

    def specs_of(self, pid: str) -> list[Spec]:
        """Return a partition's specs: as described in this build, or as stored."""
        return self.described[pid] if pid in self.described else self.state.specs(pid)


class Reading:
    """The catalogue as post-producers read it: partitions, their specs and the drawn digests, recorded."""

    def __init__(self, planner: Planner, q: Queries, drawn: Mapping[str, str]) -> None:
        self.planner = planner
        self.q = q
        self._drawn = drawn

    def _note(self, key: str, value: str) -> None:
        """Record a dependency in the queries' recorder."""
        if self.q.recorder is not None:
            self.q.recorder.deps[key] = value

    def partitions(self, producer: str | None = None) -> Sequence[Partition]:
        """Return the partitions declared so far (of one producer, or all), in catalogue order."""
        found = [p for p in self.planner.order if producer is None or p.producer == producer]
        self._note(f"partitions|{producer or ''}", digest_text(*(p.id for p in found)))
        return found

    def specs(self, part: Partition) -> Sequence[Spec]:
        """Return the outputs of a partition."""
        self._note(f"specs|{part.id}", self.planner.digest(part.id))
        return self.planner.specs_of(part.id)

    def sitemaps(self) -> dict[str, list[Partition]]:
        """Return the partitions whose pages each sitemap lists, in catalogue order."""
        found: dict[str, list[Partition]] = {}
        for part in self.planner.order:
            for name in self.planner.lastmods(part.id):
                found.setdefault(name, []).append(part)
        self._note("parts", digest_text(*(f"{n}:{','.join(p.id for p in ps)}" for n, ps in sorted(found.items()))))
        return found

    def listed(self, part: Partition, sitemap: str) -> Sequence[Spec]:
        """Return the outputs of a partition that one sitemap lists."""
        specs = [s for s in self.planner.specs_of(part.id) if s.sitemap == sitemap]
        self._note(f"listed|{sitemap}|{part.id}", digest_text(*(repr(s) for s in specs)))
        return specs

    def lastmod(self, part: Partition, sitemap: str) -> str:
        """Return the latest `lastmod` of the outputs of a partition that one sitemap lists ("" if none)."""
        value = self.planner.lastmods(part.id).get(sitemap, "")
        self._note(f"lastmod|{sitemap}|{part.id}", value)
        return value

    def unkept(self) -> Record:
        """Return the record of published addresses, less those an output of the site writes (read as one answer)."""
        record = self.q.site.record
        places = [(place_of(address), entry) for address, entry in record.entries.items()]
        present = self.planner.present([place for place, _ in places])
        left = {e.address: e for place, e in places if place not in present}
        self._note("unkept", digest_text(record.path, *(f"{e.address} {e.source}" for e in left.values())))
        return Record(record.path, left, "")

    def owners(self, paths: Iterable[str]) -> dict[str, str]:
        """Return what writes each of `paths` that an output of the site has (its spec's source)."""
        paths = list(dict.fromkeys(paths))
        found = self.planner.owners(paths)
        for path in paths:
            # Present with no source ("") must differ from absent: a page that goes changes the answer.
            self._note(f"owner|{path}", f"+{found[path]}" if path in found else "")
        return found

    def drawn(self, path: str) -> str:
        """Return the digest of an output's drawn bytes."""
        value = self._drawn.get(path, "")
        self._note(f"drawn|{path}", value)
        return value

    def value(self, key: str) -> str | None:
        """Evaluate a recorded key again: a catalogue key here, any other by the queries."""
        kind, _, rest = key.partition("|")
        quiet = Reading(self.planner, self.q.recording(Recorder()), self._drawn)
        if kind in ("specs", "listed", "lastmod"):
            sitemap, _, pid = rest.partition("|") if kind != "specs" else ("", "", rest)
            part = next((p for p in self.planner.order if p.id == pid), None)  # a partition no longer listed: gone
            if part is None:
                return None
            if kind == "specs":
                quiet.specs(part)
            else:
                quiet.listed(part, sitemap) if kind == "listed" else quiet.lastmod(part, sitemap)
        elif kind == "parts":
            quiet.sitemaps()
        elif kind == "unkept":
            quiet.unkept()
        elif kind == "partitions":
            quiet.partitions(rest or None)
        elif kind == "drawn":
            quiet.drawn(rest)
        elif kind == "owner":
            quiet.owners([rest])
        else:
            return self.q.value(key)
        recorder = quiet.q.recorder
        return recorder.deps.get(key) if recorder is not None else None


def _source(owners: Mapping[str, list[tuple[str, Spec]]], path: str) -> str:
    """Name what writes a path."""
    found = owners.get(path)
    return found[0][1].source if found else path
