"""The catalogue of outputs: every kind of file the site publishes, each declared once, in publishing order.

A producer splits its outputs into partitions, describes each partition's outputs as specs and draws
one output from its spec (output/spec.py). Producers read the site only through recorded queries;
post-producers also read what the producers declared. Adding a kind of output is adding it here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ..content.sources import SourceFile, read_source
from ..site.model import OFFICIAL, ORGANIZATION
from .assets import Static
from .feeds import Feeds
from .media import BundleFiles, VariantSource
from .pages import Archive, Home, ItemPages, NewsIndex, NotFound, People, RegistryIndex, SearchPage, SectionIndex
from .redirects import NginxRedirects, Redirects
from .references import References
from .render import Renderer
from .sitemaps import NewsSitemap, Robots, Sitemaps
from .spec import PostProducer, Producer


@dataclass(frozen=True)
class Catalogue:
    """Every producer of the site, then every post-producer, in the order their outputs are declared."""

    producers: tuple[Producer, ...]
    post: tuple[PostProducer, ...]


def item_text(path: str) -> str:
    """Read an item file's text, to find the line a problem is at ("" when it cannot be read)."""
    found = read_source(Path(path), "")
    return found.text if isinstance(found, SourceFile) else ""


def catalogue(
    renderer: Renderer,
    read_static: Callable[[str], bytes],
    static: str,
    variant: VariantSource,
    read_item: Callable[[str], str] = item_text,
) -> Catalogue:
    """Return the site's catalogue: pages drawn with `renderer`, the files of `static` copied with `read_static`.

    `variant` fetches a photo's variant, made before drawing (build/variants.py); `read_item` an item's text.
    """
    return Catalogue(
        producers=(
            Home(renderer),
            NotFound(renderer),
            SearchPage(renderer),
            NewsIndex(renderer),
            Archive(renderer),
            SectionIndex(renderer),
            RegistryIndex(renderer),
            People(renderer, OFFICIAL),
            People(renderer, ORGANIZATION),
            ItemPages(renderer),
            BundleFiles(variant),
            Feeds(variant),
            NewsSitemap(),
            Robots(),
            Static(read_static, static),
        ),
        post=(Sitemaps(), Redirects(renderer), References(read_item), NginxRedirects()),
    )
