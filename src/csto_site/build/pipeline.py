"""The work of a build that has something to do: read what changed, plan from the catalogue, draw, publish.

publish/run.py calls this after its quick answer found a change. The flow, one way:
read (read.py: templates, site.yaml, registries, the items parsed again where they changed) -> the
site model (site/assemble.py) -> plan (plan.py: which partitions to describe again and which outputs
to draw, from what each read last time) -> draw (draw.py, on every core, into the publisher's
standby) -> post-producers (sitemaps, redirects) -> the search index -> publish (publish/, last).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from functools import partial
from pathlib import Path
from zoneinfo import ZoneInfo

from ..content.model import Item
from ..content.record import format_record
from ..output.assets import StaticFile, static_files
from ..output.catalogue import Catalogue, catalogue
from ..output.media import PHOTO, photos_to_make
from ..output.pages import ItemPages
from ..output.photos import variants_key
from ..output.redirects import Redirects
from ..output.search import BUNDLE, page_language
from ..output.spec import Partition, PostProducer, Spec
from ..site.assemble import build_site, dated_between
from ..site.model import Site
from ..site.queries import NEWS_WINDOW, RECORD, Queries, Recorder
from ..site.urls import OwnPaths, Urls, is_cited
from ..util.digest import digest, digest_text
from ..util.errors import ContentError, Problem, missing_folder
from ..util.files import publishable, read_listed
from ..util.parallel import default_jobs
from .cache import Cache, Memo
from .draw import Drawn, draw_all
from .editorial import model_warnings
from .inputs import Inputs, Summary, collector_paused
from .loader import code_fingerprint
from .media import small_leads
from .options import Options, Progress
from .outbox import Changes, Outbox, Published
from .plan import Draw, Planner, Reading, Scheduled, changed_scopes
from .read import Content, read_content
from .search import SearchJob, search_job
from .state import OutputState, StateDamaged, new_generation
from .variants import VariantStore


@dataclass(frozen=True)
class Done:
    """What the drawing part of a build did, for the publisher and the report."""

    changes: Changes
    dropped: set[str]
    generation: str
    summary: Summary
    moments: list[float]
    warnings: tuple[Problem, ...]
    record: str = ""  # content/addresses.txt as it must be after publishing, or "" when it stays as it is
    moved: tuple[tuple[str, str], ...] = ()  # (old address, new address) of each item page this build moved


@dataclass(frozen=True)
class Setting:
    """What every step of one build works with: the options, the site, its queries and catalogue."""

    options: Options
    content: Content
    site: Site
    q: Queries
    catalogue: Catalogue
    jobs: int
    variants: VariantStore


def prepare(options: Options, now: datetime, cache: Cache, content: Content) -> Setting:
    """Model the site and prepare its queries and catalogue."""
    site = build_site(
        content.items,
        content.registry,
        content.config,
        now,
        drafts=options.drafts,
        future=options.future,
        record=content.record,
    )
    files, read_static = static_folder(options.static)
    store = VariantStore(cache)
    q = Queries(
        site,
        content.heads,
        content.body_keys,
        cache.body_reader(content.body_keys),
        now,
        {name: (f.published, f.digest) for name, f in files.items()},
        content.templates,
    )
    return Setting(
        options,
        content,
        site,
        q,
        catalogue(content.renderer, read_static, str(options.static), store.variant),
        options.jobs or default_jobs(),
        store,
    )


def static_folder(static: Path) -> tuple[dict[str, StaticFile], Callable[[str], bytes]]:
    """Name the static folder's files as published, and return how to read one."""
    missing = missing_folder(static, "--static")
    if missing is not None:
        raise ContentError([missing])
    data: dict[str, bytes] = {}
    problems = []
    for path, rel, _ in publishable(static):  # never a hidden file, nor one a link leads to from outside
        found = read_listed(path, static)
        if isinstance(found, Problem):
            problems.append(found)
        else:
            data[rel] = found
    if problems:
        raise ContentError(problems)
    return static_files(data), lambda name: _read_static(static, name)


def _read_static(static: Path, name: str) -> bytes:
    """Read a file of the static folder as listed (its bytes were checked when the build listed it)."""
    found = read_listed(str(static / name), static)
    if isinstance(found, Problem):
        raise ContentError([found])
    return found


def target(options: Options) -> str:
    """Name what a build's outputs state belongs to: a content folder built into an output folder, with options.

    The folders are also named as given: the stored plans name the files as the build that made them
    did (`content/alpha/x.md`, or an absolute path), so a build naming them another way keeps its own.
    """
    return digest(
        str(options.content.resolve()),
        str(options.out.resolve()),
        str(options.drafts),
        str(options.future),
        str(options.content),
        str(options.static),
    )


def draw_site(
    options: Options, now: datetime, progress: Progress | None, trees: Outbox, inputs: Inputs, memo: Memo | None = None
) -> Done:
    """Read what changed, and draw the outputs it touched into the outbox; return what the build did."""
    with Cache.open(options.cache, clean=options.clean, memo=memo) as cache, collector_paused():
        # The model is gone when the collector resumes, so its first collection has little to walk.
        done = _draw(options, now, progress, trees, inputs, cache)
    return replace(done, warnings=tuple(cache.warnings))  # closing the cache may warn too


def _draw(
    options: Options, now: datetime, progress: Progress | None, trees: Outbox, inputs: Inputs, cache: Cache
) -> Done:
    """Read the content, model it, and draw what changed into the outbox (draw_site, with the cache open)."""
    jobs = options.jobs or default_jobs()
    content = read_content(options, cache, jobs, progress, inputs.content)
    cache.warnings += small_leads(content.items)
    setting = prepare(options, now, cache, content)
    trees.lock()
    trees.open(verify=options.clean)
    state = OutputState(cache.db, target(options), trusted=False)
    # A new program may describe and draw every output differently: it trusts nothing an older one stored.
    state.trusted = not trees.verify and state.generation(code_fingerprint(), cache.parses) == trees.generation() != ""
    try:
        planner, drawn = plan_and_draw(setting, state, trees.missing, trees, progress, now)
    except StateDamaged as exc:
        cache.warnings.append(damaged_state(cache, exc, "drawing every output again"))
        state.trusted = False
        planner, drawn = plan_and_draw(setting, state, trees.missing, trees, progress, now)
    published = Changes()
    for d in drawn:
        published.written.update(d.written)
        published.rendered[d.path] = (
            "",
            [Published(path, file_digest, d.index_key if path == d.path else "") for path, file_digest in d.files],
        )
    dropped = set(planner.changes.dropped_outputs)
    if not state.trusted:
        # Nothing was known of the last build: what it published and this one did not draw is gone.
        dropped |= {g for g in set(trees.signatures) - set(published.rendered) if not g.startswith(f"{BUNDLE}/")}
    buckets = None
    if options.search:
        own = OwnPaths.of(q_urls(setting.q), setting.site.config.languages)
        try:
            known = state.search_buckets()
        except StateDamaged as exc:
            cache.warnings.append(damaged_state(cache, exc, "reading every page the search indexes again"))
            known = None
        job = SearchJob(trees, cache, page_language(setting.site), own, code_fingerprint(), jobs, progress, known)
        gone, buckets = search_job(job, dropped, published)
        dropped |= gone
    else:
        dropped |= {g for g in trees.signatures if g.startswith(f"{BUNDLE}/")}
    recorded = options.record and not options.drafts and not options.future
    complete = state.trusted and content.record.digest != "" and state.record() == content.record.digest
    record = new_record(content, planner, options.content, complete) if recorded else ""
    kept = (digest_text(record) if record else content.record.digest) if recorded else ""
    generation = new_generation()
    state.save(
        planner.changes,
        generation,
        clean=not state.trusted,
        built_at=now.timestamp(),
        code=code_fingerprint(),
        record=(kept, kept if recorded else content.record.digest),
        parses=cache.parses_after(),
        search=buckets,
    )
    # The parses this build read are kept only now, after the record of what it drew: a build stopped
    # before leaves the old parses, so the next one finds the same changes again.
    cache.save(set(content.body_keys.values()))
    site = setting.site
    # What a press secretary should fix, told by every build (and serve), not only by check.
    cache.warnings.extend(model_warnings(site, options.content))
    cache.drop_variants(
        {variants_key(f.digest) for e in site.editions.values() for i in e.items for f in i.files if f.kind == PHOTO}
    )
    items = sum(len(e.items) for e in site.editions.values())
    future = [i.published for i in site.held_back if not i.draft and i.published > now]
    summary = Summary(items, state.pages(), 0, len(site.held_back), min(future, default=None))
    moved = tuple(sorted(planner.moved_pages(ItemPages.name).items()))
    return Done(published, dropped, generation, summary, moments_near(site, now), tuple(cache.warnings), record, moved)


def damaged_state(cache: Cache, exc: StateDamaged, then: str) -> Problem:
    """Warn that a damaged row of the last build's state was discarded, and what the build does instead."""
    return Problem(
        str(cache.path or "cache"),
        0,
        f"discarded a damaged record of the last build ({exc}), {then}",
        "nothing to do",
        warning=True,
    )


def new_record(content: Content, planner: Planner, root: Path, complete: bool = False) -> str:
    """Return the record with every address this build publishes added, or "" when it holds them all already.

    Pages, feeds and old addresses are recorded (not assets, sitemaps or the search bundle, whose
    names change by design), each with the item file it is the page of or leads to. When the record is
    `complete` (as the last build left it, holding all it published), only the partitions this build
    described again can add to it.
    """
    sources = content.record.sources()
    for part in planner.order:
        if complete and part.id not in planner.described:
            continue
        for spec in planner.specs_of(part.id):
            if part.producer == Redirects.name or is_cited(spec.url):
                item = spec.source if spec.source.endswith(".md") else ""
                sources[spec.url] = item or sources.get(spec.url, "")
    text = format_record(sources, root)
    return "" if digest_text(text) == content.record.digest else text


def plan_and_draw(
    setting: Setting,
    state: OutputState,
    missing: set[str],
    sink: Outbox | None,
    progress: Progress | None,
    now: datetime,
) -> tuple[Planner, list[Drawn]]:
    """Describe what changed (producers, then post-producers), stop on any problem, and only then draw."""
    q, site = setting.q, setting.site
    planner = Planner(state, q, missing)
    if state.trusted:
        scopes = changed_scopes(
            (*setting.content.changed, *_clock_changes(setting.content.items, state, now, site.config.tz)),
            state,
            site,
        )
        planner.mark_dirty(state.candidates(scopes), q.value, state.wide_keys())
    scheduled = Scheduled()
    for producer in setting.catalogue.producers:
        _merge(scheduled, planner.describe(producer.name, producer.partitions(q), producer.specs))
    scheduled.problems += planner.check()
    _raise(scheduled)
    # The post-producers read what the producers declared: the partitions described again and the outputs
    # that came or went are their changed inputs.
    declared = Reading(planner, q, {})
    gone = planner.vanished_outputs()
    touched = {f"output|{path}" for path in (*(d.spec.path for d in scheduled.draws), *scheduled.removed, *gone)}
    planner.mark_dirty(
        state.candidates(planner.changed_partitions() | touched | _record_scope(state, site, planner)),
        declared.value,
    )
    for post in setting.catalogue.post:
        _merge(
            scheduled, planner.describe(post.name, post.partitions(q, declared), partial(_post_specs, post, planner))
        )
    scheduled.problems += planner.check()
    _raise(scheduled)
    if sink is not None:
        sink.begin([d.spec.path for d in scheduled.draws], OwnPaths.of(q_urls(q), site.config.languages))
    setting.variants.make(photos_to_make((d.producer, d.spec) for d in scheduled.draws), setting.jobs, progress)
    makers: dict[str, Callable[[Queries, Spec], bytes]] = {p.name: p.draw for p in setting.catalogue.producers}
    makers |= {p.name: partial(_post_draw, p, planner) for p in setting.catalogue.post}
    drawn = draw_all(
        scheduled.draws, lambda job, rec: makers[job.producer](q.recording(rec), job.spec), sink, setting.jobs, progress
    )
    planner.finish(scheduled.removed)
    for d in drawn:
        planner.changes.outputs[d.path] = (d.partition, d.files)
        planner.changes.deps[f"o:{d.path}"] = d.deps
    return planner, drawn


def _record_scope(state: OutputState, site: Site, planner: Planner) -> set[str]:
    """Return the record's scope when which recorded addresses no output writes may have changed, else none.

    It may when the record is not the one the last build left, or an output at a recorded address came or
    went (one drawn again where it was changes nothing: a new item redraws its neighbours, all recorded).
    """
    record = site.record
    if state.seen() != record.digest or not record.digest:
        return {RECORD}
    return {RECORD} if not planner.moved_urls().isdisjoint(record.entries) else set()


def _post_specs(producer: PostProducer, planner: Planner, q: Queries, part: Partition) -> Iterable[Spec]:
    """Describe a post-producer's partition, with the catalogue read through the same recording queries."""
    return producer.specs(q, Reading(planner, q, {}), part)


def _post_draw(producer: PostProducer, planner: Planner, q: Queries, spec: Spec) -> bytes:
    """Draw a post-producer's output, with the catalogue read through the same recording queries."""
    return producer.draw(q, Reading(planner, q, {}), spec)


def q_urls(q: Queries) -> Urls:
    """Return the URL rules of the site the queries read."""
    return Urls(q.site.config.default_language, q.site.config.base_url)


def _clock_changes(items: Sequence[Item], state: OutputState, now: datetime, tz: ZoneInfo) -> list[tuple[Item, Item]]:
    """Return the items the clock brought into the site (or out of it) since the last build."""
    last = state.built_at()
    return [] if last is None else [(i, i) for i in dated_between(items, last, now.timestamp(), tz)]


def _merge(into: Scheduled, found: Scheduled) -> None:
    """Add what one producer's planning found."""
    into.draws += found.draws
    into.removed |= found.removed
    into.problems += found.problems


def _raise(scheduled: Scheduled) -> None:
    """Stop the build with the problems planning found."""
    if scheduled.problems:
        raise ContentError(scheduled.problems)


def check_outputs(options: Options, now: datetime, published: str) -> tuple[Site, list[Problem]]:
    """Check what a build checks, drawing in memory each output the last build did not publish as it is now.

    `published` is the generation of the build state the live site was published with ("" if unknown).
    Return the site and the warnings: the cache's (a file it could not use), and one when the record of
    published addresses lacks some the site has.
    """
    with Cache.open(options.cache, read_only=True) as cache, collector_paused():
        content = read_content(options, cache, options.jobs or default_jobs())
        setting = prepare(options, now, cache, content)
        state = OutputState(cache.db, target(options), trusted=False)
        state.trusted = (
            not options.clean and published != "" and state.generation(code_fingerprint(), cache.parses) == published
        )
        planner, _ = plan_and_draw(setting, state, set(), None, None, now)
        record = "" if options.drafts or options.future else new_record(content, planner, options.content)
    lacking = sum(1 for line in record.splitlines() if line and not line.startswith("#")) - len(content.record.entries)
    if lacking <= 0:
        return setting.site, cache.warnings
    return setting.site, [
        *cache.warnings,
        Problem(
            content.record.path,
            0,
            f"the record of published addresses lacks {lacking} the site publishes",
            "run `csto-site build` and commit content/addresses.txt with the content: only a recorded address is kept",
            warning=True,
        ),
    ]


def moments_near(site: Site, now: datetime) -> list[float]:
    """Return the times around `now` at which the site changes by itself (see inputs.fast_state).

    Those are an item's date and the end of its time in the news sitemap. Only the nearest one
    before `now` and the nearest after matter: newest first, an item whose both moments have passed
    is the last to look at, as every older item's moments come before its own.
    """
    moments = [t for i in site.held_back for t in _moments(i)]
    for edition in site.editions.values():
        for item in edition.items:
            moments += _moments(item)
            if item.published + NEWS_WINDOW <= now:
                break
    return moments


def _moments(item: Item) -> tuple[float, float]:
    """Return when an item enters the site (its date) and leaves the news sitemap."""
    return item.published.timestamp(), (item.published + NEWS_WINDOW).timestamp()


__all__ = ["Draw", "Recorder", "check_outputs", "draw_site", "plan_and_draw"]
