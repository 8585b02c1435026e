"""The whole build as one readable flow: sources → model → pages → outputs → publish."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from .assets import fingerprint
from .compress import precompress
from .config import load_config
from .errors import ContentError, Problem
from .feeds import render_feed
from .items import link_translations, parse_item
from .markup import Markup
from .model import Site
from .nginx import REDIRECTS_CONF, render_redirects
from .publish import Output, check_unique, publish
from .redirects import find_redirect_clashes
from .registry import load_registry
from .render import Renderer, load_labels
from .search import index_outputs, indexed_pages
from .site import build_site, find_duplicate_urls
from .sitemap import NEWS_SITEMAP, render_news_sitemap, render_robots, render_sitemap
from .sources import discover
from .urls import ROBOTS, SITEMAP, Urls, output_path
from .views import Views

ASSETS = ("style.css", "nav.js", "search.css", "search.js")


@dataclass(frozen=True)
class Options:
    """Where the build reads and writes, and what it includes."""

    content: Path = Path("content")
    out: Path = Path("public")
    templates: Path = Path("templates")
    static: Path = Path("static")
    drafts: bool = False
    future: bool = False
    search: bool = True


@dataclass(frozen=True)
class Report:
    """What a build did, for the one-line summary."""

    items: int
    pages: int
    written: int
    held_back: int
    next_due: datetime | None
    seconds: float
    unchanged: int = 0
    removed: int = 0


@dataclass(frozen=True)
class Loaded:
    """A checked site model and the renderer that will draw it."""

    site: Site
    renderer: Renderer
    urls: Urls


def load(options: Options, now: datetime) -> Loaded:
    """Read and check all content and templates; raise ContentError with every problem."""
    renderer = Renderer(options.templates)
    labels, problems = load_labels(options.templates)
    problems += renderer.check()
    if problems:
        raise ContentError(problems)
    config = load_config(options.content, labels, str(options.templates / "labels.yaml"))
    tree = discover(options.content)
    registry = load_registry(options.content, config, tree.sections)
    problems = list(tree.problems)
    markup = Markup()
    parsed = []
    for source in tree.items:
        item, found = parse_item(source, registry, config, markup.render)
        problems += found
        if item is not None:
            parsed.append(item)
    items, found = link_translations(parsed, config)
    problems += found
    urls = Urls(config.default_language, config.base_url)
    problems += find_duplicate_urls(items, urls)
    if problems:
        raise ContentError(problems)
    site = build_site(items, registry, config, now, drafts=options.drafts, future=options.future)
    return Loaded(site, renderer, urls)


def render_outputs(loaded: Loaded, static: Path, now: datetime) -> list[Output]:
    """Render every page, feed, sitemap and static file of the site."""
    site, urls = loaded.site, loaded.urls
    assets = fingerprint(static_outputs(static), ASSETS)
    views = Views(site, urls, assets.names)
    pages = views.pages()
    outputs = [Output(page.path, loaded.renderer.render(page), page.template) for page in pages]
    outputs += [Output(output_path(feed.url), render_feed(feed, urls, views.categories), feed.page_url)
                for feed in views.feeds()]
    outputs.append(Output(output_path(SITEMAP), render_sitemap(pages, urls), "sitemap"))
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


def static_outputs(static: Path) -> list[Output]:
    """Copy every file under static/ to /static/."""
    if not static.is_dir():
        raise ContentError([Problem(str(static), 0, "the static folder is missing", "pass --static DIR")])
    return [Output(f"static/{p.relative_to(static).as_posix()}", p.read_bytes(), str(p))
            for p in sorted(static.rglob("*")) if p.is_file()]


def build(options: Options, now: datetime) -> Report:
    """Check everything, render the site and publish it atomically."""
    started = time.perf_counter()
    loaded = load(options, now)
    outputs = render_outputs(loaded, options.static, now)
    if options.search:
        outputs += index_outputs(indexed_pages(outputs))
    written = publish(precompress(outputs), options.out)
    site = loaded.site
    future = [i.published for i in site.held_back if not i.draft and i.published > now]
    return Report(
        items=sum(len(e.items) for e in site.editions.values()),
        pages=sum(1 for o in outputs if o.path.endswith(".html")),
        written=written,
        held_back=len(site.held_back),
        next_due=min(future, default=None),
        seconds=time.perf_counter() - started,
    )

