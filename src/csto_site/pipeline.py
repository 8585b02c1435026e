"""The work of a build that has something to do: parse what changed, plan, render, publish.

builder.py calls this after its quick check found a change; see there for the whole flow.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Container, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import NamedTuple

import jinja2

from .assets import fingerprint
from .builder import ASSETS, Loaded, Options, Progress, Report, static_outputs
from .cache import Cache, Memo, digest
from .compress import compressed
from .config import SiteConfig, load_config
from .errors import ContentError, Problem
from .feeds import render_feed
from .inputs import Inputs, Listing, Summary, collector_paused, fast_state, publishable
from .inputs import file_digest as _file_digest
from .items import link_translations
from .loader import backlink_titles, code_fingerprint, markup_fingerprint, parse_items, registry_fingerprint, scan
from .model import Item, Site
from .nginx import render_redirects
from .parallel import chunked, default_jobs, fork_map
from .plan import Plan, PlannedPage, Planner, template_digests
from .publish import (
    Changes,
    Output,
    Published,
    Trees,
    check_paths,
    check_unique,
    file_digest,
    published_signatures,
)
from .redirects import Redirect, find_redirect_clashes
from .registry import Registry, read_registry
from .render import Renderer, load_labels
from .search import BUNDLE, MARKER, SOURCE, bundle_files
from .site import build_site, find_duplicate_urls
from .sitemap import (
    NEWS_SITEMAP,
    NEWS_WINDOW,
    render_news_sitemap,
    render_robots,
    render_sitemap,
    render_sitemap_index,
    sitemap_parts,
)
from .sources import SourceFile, read_source
from .urls import REDIRECTS_CONF, ROBOTS, SITEMAP, OwnPaths, Urls, output_path, sitemap_url
from .views import Views

# Below this many outputs to render, forking workers costs more than it saves.
PARALLEL_RENDER_FROM = 200
RENDER_CHUNK = 40


@dataclass(frozen=True)
class Content:
    """Everything read from content/ and templates/: items without bodies, and what the cache knows of them."""

    items: tuple[Item, ...]
    registry: Registry
    config: SiteConfig
    renderer: Renderer
    urls: Urls
    heads: Mapping[str, str]
    body_keys: Mapping[str, str]
    registry_digest: str
    templates: Mapping[str, str]


def load_site(options: Options, now: datetime) -> Loaded:
    """Read and check all content and templates, with bodies; raise ContentError with every problem."""
    with Cache.open(options.cache, read_only=True) as cache:
        content = read_content(options, cache, options.jobs or default_jobs())
        body = cache.body_reader(content.body_keys)
        items = [replace(item, body_html=body(item)) for item in content.items]
    site = site_model(items, content, options, now)
    return Loaded(site, content.renderer, content.urls)


def read_content(options: Options, cache: Cache, jobs: int, progress: Progress | None = None,
                 listing: Listing | None = None) -> Content:
    """Check templates, configuration, registries and items, parsing only what changed; raise on problems."""
    # Listed first: a link out of content/ is refused before site.yaml or any other file is read through it.
    listing = publishable(options.content) if listing is None else listing
    compiled = options.cache / "templates" if options.cache is not None and not cache.read_only else None
    renderer = Renderer(options.templates, compiled)
    labels, problems = load_labels(options.templates)
    templates, found_problems = check_templates(renderer, cache)
    problems += found_problems
    if problems:
        raise ContentError(problems)
    config = load_config(options.content, labels, str(options.templates / "labels.yaml"))
    found = scan(listing)
    problems = list(found.problems)
    sections: list[SourceFile] = []
    for entry in found.sections:
        source = read_source(Path(entry.path), entry.rel)
        if isinstance(source, Problem):
            problems.append(source)
        else:
            sections.append(source)
    # A mistake in a registry must not hide the items' own: items are checked against what is right.
    registry, found_problems = read_registry(options.content, config, sections)
    problems += found_problems
    registry_digest = digest(registry_fingerprint(options.content, sections), *(s.digest for s in sections))
    context = digest(code_fingerprint(), markup_fingerprint(), config.digest, registry_digest,
                     *(f"{lang}:{title}" for lang, title in sorted(backlink_titles(config).items())))
    parsed = parse_items(found.items, registry, config, context, cache, jobs, str(options.content), progress)
    problems += parsed.problems
    items, found_problems = link_translations(parsed.items, config)
    problems += found_problems
    urls = Urls(config.default_language, config.base_url)
    problems += find_duplicate_urls(items, urls)
    if problems:
        raise ContentError(problems)
    cache.save(set(parsed.bodies.values()))
    heads: dict[str, str] = {}
    for item, parsed_item in zip(items, parsed.items, strict=True):
        head = parsed.heads[item.path]
        # A translation that takes its original's slug changed after parsing: then its head must say so.
        heads[item.path] = head if item is parsed_item.item else digest(head, item.slug)
    return Content(tuple(items), registry, config, renderer, urls, heads, parsed.bodies, registry_digest, templates)


def site_model(items: Sequence[Item], content: Content, options: Options, now: datetime) -> Site:
    """Build the model of checked items, with the drafts and future items the options ask for."""
    return build_site(items, content.registry, content.config, now, drafts=options.drafts, future=options.future)


def check_templates(renderer: Renderer, cache: Cache) -> tuple[dict[str, str], list[Problem]]:
    """Compile every template, unless this very set passed before; return each template's digest, or problems."""
    env = renderer.env
    sources = {name: env.loader.get_source(env, name)[0] for name in env.list_templates()} if env.loader else {}
    key = digest("templates", jinja2.__version__, *(f"{n}\x1e{s}" for n, s in sorted(sources.items())))
    known = cache.checked(key)
    if isinstance(known, dict):
        return known, []
    problems = renderer.check()
    if problems:
        return {}, problems
    digests = template_digests(env, sources)
    cache.record_check(key, digests)
    return digests, []


def render_site(loaded: Loaded, static: Path, now: datetime) -> list[Output]:
    """Render every page, feed, sitemap and static file of the site, in memory (the reference build)."""
    site, urls = loaded.site, loaded.urls
    assets = fingerprint(static_outputs(static), ASSETS)
    views = Views(site, urls, assets.names)
    pages = views.pages()
    outputs = [Output(page.path, loaded.renderer.render(page), page.template) for page in pages]
    outputs += [Output(output_path(feed.url), render_feed(feed, urls, views.categories), feed.page_url)
                for feed in views.feeds()]
    parts = sitemap_parts(pages)
    outputs.append(Output(output_path(SITEMAP), render_sitemap_index(parts, urls), "sitemap"))
    outputs += [Output(output_path(sitemap_url(part)), render_sitemap(listed, urls), "sitemap")
                for part, listed in parts.items()]
    every_item = [i for e in site.editions.values() for i in e.items]
    outputs.append(Output(output_path(NEWS_SITEMAP),
                          render_news_sitemap(every_item, urls, dict(site.config.title), now), "news sitemap"))
    outputs.append(Output(output_path(ROBOTS), render_robots(urls), "robots"))
    redirects = views.redirects(pages)
    outputs.append(Output(REDIRECTS_CONF, render_redirects((r.old, r.new) for r in redirects), "aliases"))
    outputs += assets.outputs
    problems = find_redirect_clashes(redirects, outputs, site, urls)
    if not problems:
        outputs += [Output(r.path, loaded.renderer.render(views.redirect_page(r)), r.source)
                    for r in redirects if r.path]
        problems = check_unique(outputs)
    if problems:
        raise ContentError(problems)
    return outputs


def rebuild(options: Options, now: datetime, progress: Progress | None, trees: Trees, inputs: Inputs,
            started: float, memo: Memo | None = None) -> Report:
    """Parse what changed, render the outputs whose inputs changed, and publish them (trees not yet open)."""
    if not options.clean:
        trees.read_stamps_early()
    with Cache.open(options.cache, clean=options.clean, memo=memo) as cache, collector_paused():
        # The model is gone when the collector resumes, so its first collection has little to walk.
        changes, groups, summary, moments = _publish(options, now, progress, trees, inputs, cache)
    trees.complete(groups, changes)
    trees.record_fast(fast_state(inputs, moments, now, replace(summary, files=changes.files)))
    return Report(items=summary.items, pages=summary.pages, written=len(changes.written),
                  held_back=summary.held_back, next_due=summary.next_due, seconds=time.perf_counter() - started,
                  unchanged=changes.unchanged, removed=len(changes.removed),
                  warnings=(*cache.warnings, *trees.warnings))


def _publish(options: Options, now: datetime, progress: Progress | None, trees: Trees, inputs: Inputs,
             cache: Cache) -> tuple[Changes, set[str], Summary, list[float]]:
    """Read the content, model it, and render what changed into the standby; return what the build did."""
    jobs = options.jobs or default_jobs()
    content = read_content(options, cache, jobs, progress, inputs.content)
    site = site_model(content.items, content, options, now)
    trees.lock()
    trees.open(verify=options.clean)
    changes, groups, pages = publish_site(options, now, content, site, cache, trees, jobs, progress)
    items = sum(len(e.items) for e in site.editions.values())
    future = [i.published for i in site.held_back if not i.draft and i.published > now]
    summary = Summary(items, pages, 0, len(site.held_back), min(future, default=None))
    return changes, groups, summary, moments_near(site, now)


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


def publish_site(options: Options, now: datetime, content: Content, site: Site, cache: Cache, trees: Trees,
                 jobs: int, progress: Progress | None) -> tuple[Changes, set[str], int]:
    """Plan every output and render those whose inputs changed into the standby; return what was done."""
    pages, work, base = plan_site(options, now, content, site, cache, trees.signatures, trees.folders)
    to_render = [job for job in work if not trees.reusable(job.path, job.signature)]
    groups = {job.path for job in work}
    trees.begin(groups, (job.path for job in to_render), OwnPaths.of(content.urls, site.config.languages))
    changes = Changes()
    for outcome in render_jobs(to_render, trees, jobs, progress):
        changes.rendered.update(outcome.rendered)
        changes.written |= outcome.written
    if options.search:
        kept = f"{BUNDLE}/"
        if options.reindex or not trees.intact(kept):
            kept = search_job(groups, changes, trees, base, progress)
        groups.add(kept)
    return changes, groups, sum(1 for p in pages if p.path.endswith(".html"))


def check_outputs(options: Options, now: datetime) -> Site:
    """Check what a build checks, drawing in memory each output the last build did not publish as it is now.

    An output whose signature equals the one the last finished build recorded for it is made from the
    same inputs by the same program, so it draws as it did then: without an error.
    """
    jobs = options.jobs or default_jobs()
    with Cache.open(options.cache, read_only=True) as cache, collector_paused():
        content = read_content(options, cache, jobs)
        site = site_model(content.items, content, options, now)
        published, folders = ({}, set()) if options.clean else published_signatures(options.out)
        _, work, _ = plan_site(options, now, content, site, cache, published, folders)
        to_draw = [job for job in work if published.get(job.path) != job.signature]
        fork_map(_draw_chunk, chunked(to_draw, RENDER_CHUNK), jobs if len(to_draw) >= PARALLEL_RENDER_FROM else 1)
    return site


def _draw_chunk(chunk: Sequence[Work]) -> int:
    """Draw a run of outputs in memory (their problems raise); return how many."""
    for job in chunk:
        job.make()
    return len(chunk)


def plan_site(options: Options, now: datetime, content: Content, site: Site, cache: Cache,
              known: Mapping[str, str], folders: Container[str]) -> tuple[list[PlannedPage], list[Work], str]:
    """List every output with its signature, and the base of every signature; raise on address problems.

    `known` are the output paths of the last build (checked then), `folders` the folders they make.
    """
    urls, renderer = content.urls, content.renderer
    assets = fingerprint(static_outputs(options.static), ASSETS)
    views = Views(site, urls, assets.names)
    base = digest(code_fingerprint(), content.config.digest, content.registry_digest,
                  repr(sorted(assets.names.items())), _file_digest(options.templates / "labels.yaml"))
    tree = str(options.content)
    planner = Planner(site, views, urls, content.heads, content.body_keys, cache.body_reader(content.body_keys),
                      base, content.templates, renderer.render, partial(cache.plan, tree))
    plan = planner.plan()
    pages = plan.pages
    redirects = views.redirects(pages)  # type: ignore[arg-type]
    work = plan_jobs(planner, plan, views, renderer, assets.outputs, redirects, now)
    problems = (find_redirect_clashes(redirects, [Output(j.path, b"", j.source) for j in work], site, urls)
                if redirects else [])
    template = planner.templates.get("redirect.html", "")
    work += [Job(r.path, r.source, digest(planner.base, template, repr(r)),
                 partial(_render_redirect, views, renderer, r)) for r in redirects if r.path and not problems]
    # A redirect clash is already reported with its line; check_unique would name it again without one.
    problems += check_paths(work, known, folders) + (check_unique(work) if not problems else [])
    if problems:
        raise ContentError(problems)
    cache.save_plans(tree, {year: (partition.key, partition) for year, partition in planner.partitions.items()
                            if year not in planner.taken}, set(planner.partitions))
    return pages, work, planner.base


class Job(NamedTuple):
    """One output to make (with its compressed copies): its path, signature and maker."""

    path: str
    source: str
    signature: str
    make: Callable[[], bytes]


Work = Job | PlannedPage  # either can be made, and says what it is made from


def plan_jobs(planner: Planner, plan: Plan, views: Views, renderer: Renderer,
              static: Iterable[Output], redirects: Sequence[Redirect], now: datetime) -> list[Work]:
    """List every output but the redirect pages, in the reference build's order, each with its signature."""
    site, urls, base = planner.site, planner.urls, planner.base
    work: list[Work] = list(plan.pages)
    for spec in views.feeds():
        signature = digest(base, "feed", spec.url, spec.page_url, spec.lang, spec.title, spec.description,
                           planner.heads_of(spec.items))
        work.append(Job(output_path(spec.url), spec.page_url, signature,
                        partial(render_feed, spec, urls, views.categories)))
    parts = plan.sitemaps
    work.append(Job(output_path(SITEMAP), "sitemap", digest(base, "sitemap index", *parts),
                    partial(render_sitemap_index, tuple(parts), urls)))
    work += [Job(output_path(sitemap_url(part)), "sitemap", signature, partial(render_sitemap, listed, urls))
             for part, (listed, signature) in parts.items()]
    news = planner.news_sitemap_items(now)
    work.append(Job(output_path(NEWS_SITEMAP), "news sitemap", digest(base, "news", planner.heads_of(news)),
                    partial(render_news_sitemap, news, urls, dict(site.config.title), now)))
    work.append(Job(output_path(ROBOTS), "robots", digest(base, "robots"), partial(render_robots, urls)))
    conf = render_redirects((r.old, r.new) for r in redirects)
    work.append(Job(REDIRECTS_CONF, "aliases", file_digest(conf), partial(bytes, conf)))
    work += [Job(o.path, o.source, file_digest(o.data), partial(bytes, o.data)) for o in static]
    return work


def _render_redirect(views: Views, renderer: Renderer, redirect: Redirect) -> bytes:
    """Render the page left at an old address."""
    return renderer.render(views.redirect_page(redirect))


@dataclass
class _Outcome:
    """The files some output groups became, and which of them were written."""

    rendered: dict[str, tuple[str, list[Published]]] = field(default_factory=dict)
    written: set[str] = field(default_factory=set)


def render_jobs(work: Sequence[Work], trees: Trees, jobs: int, progress: Progress | None) -> list[_Outcome]:
    """Render outputs and their compressed copies; write into the standby those that differ from the live site."""
    total = len(work)
    done = [0]

    def advance(outcome: _Outcome) -> _Outcome:
        done[0] = min(total, done[0] + RENDER_CHUNK)
        if progress:
            progress("render", done[0], total)
        return outcome

    if progress and total:
        progress("render", 0, total)
    workers = jobs if total >= PARALLEL_RENDER_FROM else 1
    return fork_map(partial(_render_chunk, trees), chunked(work, RENDER_CHUNK), workers, advance)


def _render_chunk(trees: Trees, chunk: Sequence[Work]) -> _Outcome:
    """Render a run of outputs; write what changed."""
    outcome = _Outcome()
    for job in chunk:
        data = job.make()
        primary = Output(job.path, data, job.source)
        indexed = job.path.endswith(".html") and MARKER in data
        outcome.rendered[job.path] = (job.signature, _settle(trees, primary, indexed, outcome.written))
    return outcome


def _settle(trees: Trees, output: Output, indexed: bool, written: set[str]) -> list[Published]:
    """Settle a file and its compressed copies: record their digests, write those that changed."""
    files = []
    for copy in (output, *compressed(output)):
        file_digest, changed = trees.settle(copy.path, copy.data)
        files.append(Published(copy.path, file_digest, indexed and copy is output))
        if changed:
            written.add(copy.path)
    return files


def search_job(groups: set[str], changes: Changes, trees: Trees, base: str, progress: Progress | None) -> str:
    """Index the item pages with Pagefind when any of them changed; write the bundle files that differ."""
    group = f"{BUNDLE}/"
    indexed = trees.indexed(groups, changes)
    signature = digest(base, "pagefind", *(f"{p}:{d}" for p, d in indexed))
    if trees.reusable(group, signature) or not indexed:
        return group
    if progress:
        progress("search", 0, 1)
    # The pages as they will be published: written into the standby now, or unchanged in the live folder.
    with trees.laid_out((path for path, _ in indexed), changes.written) as site:
        files = bundle_files(site)
    published = []
    for name, data in sorted(files.items()):
        published += _settle(trees, Output(f"{BUNDLE}/{name}", data, SOURCE), False, changes.written)
    changes.rendered[group] = (signature, published)
    if progress:
        progress("search", 1, 1)
    return group


def _moments(item: Item) -> tuple[float, float]:
    """Return when an item enters the site (its date) and leaves the news sitemap."""
    return item.published.timestamp(), (item.published + NEWS_WINDOW).timestamp()
