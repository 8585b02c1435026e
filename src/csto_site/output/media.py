"""An item's photos and documents as published: their files below the item's page, and how pages show them.

Each photo of an item's folder becomes variants (output/photos.py) at several widths in AVIF, WebP
and JPEG, published below the item's page (/news/2024/07/25/<slug>/group.800.webp); each document is
published there as it is, under a stable name (statement.pdf). Variants are made once per source
and settings, before drawing, by the build (build/variants.py); drawing one only fetches its bytes.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from html import escape, unescape
from urllib.parse import unquote

from ..content.media import IMG, img_words
from ..content.model import BundleFile, Item, Photo
from ..site.model import NEWS, Scope
from ..site.queries import Queries
from ..site.urls import Urls, crop_name, document_name, output_path, variant_name
from ..util.digest import bytes_digest
from ..util.errors import ContentError, Problem
from ..util.files import read_listed
from .photos import DOCUMENT_TYPES, EXTENSIONS, MEDIA_TYPES, crops, size_text, variant_sizes, variants_key
from .spec import Partition, Spec

MEDIA = "media"  # the producer's name
PHOTO = "photo"
DOCUMENT = "document"
# The address a link of a body leads to, as nh3 writes it (double quotes, entities escaped).
HREF = re.compile(r'(<a\b[^>]*?\shref=)"([^"]*)"')
# How wide a photo is shown, for the browser to pick a variant before it lays the page out: the item
# page's text column is at most about 46 rem (736 px); a teaser's thumbnail 7.5 rem. A gallery is a grid
# of cells at least 10 rem wide in that column (static/style.css, .gallery-grid): one cell across below a
# screen of 23 rem, two below 34 rem, three below 45 rem, then four of at most 11 rem.
COLUMN_SIZES = "(min-width: 48rem) 46rem, calc(100vw - 2rem)"
THUMB_SIZES = "10rem"
GALLERY_SIZES = (
    "(max-width: 23rem) calc(100vw - 2rem), (max-width: 34rem) calc(50vw - 1.5rem), "
    "(max-width: 45rem) calc(33.33vw - 1.33rem), 11rem"
)
# The variant social networks and feed readers get: 1200 pixels wide is what they ask for.
SHARE_WIDTH = 1200
BROWSER_FORMATS = ("avif", "webp")  # offered in <source> elements, best first; JPEG is the <img> itself

# Fetch a variant's bytes: the photo's key, its source file and the variant's name.
VariantSource = Callable[[str, str, str], bytes]


@dataclass(frozen=True)
class Source:
    """A <source> of a <picture>: one format's variants."""

    type: str
    srcset: str


@dataclass(frozen=True)
class Picture:
    """A photo as a page shows it: its variants, size, words and the address of its largest JPEG."""

    sources: tuple[Source, ...]
    src: str
    srcset: str
    sizes: str
    width: int
    height: int
    alt: str
    caption: str
    credit: str
    lang: str
    large: str
    large_width: int
    large_height: int
    share: str  # the absolute address of the large JPEG, for og:image

    def html(self, lazy: bool = True) -> str:
        """Write the photo as a <picture> (see picture_html)."""
        return picture_html(self, lazy)


@dataclass(frozen=True)
class Document:
    """A document as the item page lists it: its title, address, type and size."""

    url: str
    title: str
    text: str
    media_type: str
    lang: str


def source_path(item: Item, file: BundleFile) -> str:
    """Return the path of a file of an item's folder."""
    return f"{item.bundle}/{file.name}"


def picture(urls: Urls, item: Item, photo: Photo, sizes: str = COLUMN_SIZES) -> Picture | None:
    """Return the view of one photo an item shows (None for a file the build did not find)."""
    file = next((f for f in item.files if f.name == photo.file and f.kind == PHOTO), None)
    if file is None:
        return None
    found = variant_sizes(file.width, file.height)

    def srcset(ext: str) -> str:
        return ", ".join(f"{urls.bundle_file(item, variant_name(file.name, w, ext))} {w}w" for w, _ in found)

    default = min(found, key=lambda s: abs(s[0] - 800))  # what a browser without srcset shows
    share = min(found, key=lambda s: abs(s[0] - SHARE_WIDTH))
    return Picture(
        tuple(Source(MEDIA_TYPES[f], srcset(EXTENSIONS[f])) for f in BROWSER_FORMATS),
        urls.bundle_file(item, variant_name(file.name, default[0], "jpg")),
        srcset("jpg"),
        sizes,
        file.width,
        file.height,
        photo.alt,
        photo.caption,
        photo.credit,
        photo.lang,
        urls.bundle_file(item, variant_name(file.name, share[0], "jpg")),
        *share,
        urls.absolute(urls.bundle_file(item, variant_name(file.name, share[0], "jpg"))),
    )


def documents(urls: Urls, item: Item) -> tuple[Document, ...]:
    """Return the views of an item's documents: title, address, "PDF, 240 KB"."""
    files = {f.name: f for f in item.files}
    found = []
    for attachment in item.attachments:
        file = files.get(attachment.file)
        if file is None:
            continue
        kind = DOCUMENT_TYPES[file.kind]
        found.append(
            Document(
                urls.bundle_file(item, document_name(file.name)),
                attachment.title,
                f"{kind.label}, {size_text(file.size, item.lang)}",
                kind.media_type,
                attachment.lang,
            )
        )
    return tuple(found)


def lead(urls: Urls, item: Item, sizes: str = COLUMN_SIZES) -> Picture | None:
    """Return the view of an item's lead photo, or None."""
    return picture(urls, item, item.image, sizes) if item.image is not None else None


def gallery(urls: Urls, item: Item) -> tuple[Picture, ...]:
    """Return the views of an item's gallery, as thumbnails."""
    return tuple(p for photo in item.gallery if (p := picture(urls, item, photo, GALLERY_SIZES)) is not None)


def with_pictures(html: str, urls: Urls, item: Item) -> str:
    """Turn each <img> of a body that shows a photo of the item's folder into a lazy <picture>, with its own alt."""
    # By file and alt text: one photo shown twice in the text may stand for different words each time.
    photos = {(p.file, p.alt): p for p in item.figures}

    def replace(match: re.Match[str]) -> str:
        photo = photos.get(img_words(match.group(1)))
        view = picture(urls, item, photo) if photo is not None else None
        return picture_html(view, lazy=True) if view is not None else match.group(0)

    return IMG.sub(replace, html) if photos else html


def file_links(urls: Urls, item: Item) -> dict[str, str]:
    """Return the address of each file of an item's folder that a link in its text may name, by the name.

    A document the item lists is published under a URL-safe name (`Программа.pdf` as `programma.pdf`), a
    photo the item shows as its variants: a link names the file as it lies in the folder, and leads to
    the document, or to the photo's largest JPEG.
    """
    listed = {a.file for a in item.attachments}
    shown = {p.file for p in (*((item.image,) if item.image else ()), *item.gallery, *item.figures)}
    found = {}
    for file in item.files:
        if file.kind != PHOTO and file.name in listed:  # a document: its kind is its type (pdf, docx, ...)
            found[file.name] = urls.bundle_file(item, document_name(file.name))
        elif file.kind == PHOTO and file.name in shown:
            width = max(w for w, _ in variant_sizes(file.width, file.height))
            found[file.name] = urls.bundle_file(item, variant_name(file.name, width, "jpg"))
    return found


def with_file_links(html: str, urls: Urls, item: Item) -> str:
    """Point each link of a body that names a file of the item's folder at the address it is published at."""
    found = file_links(urls, item)

    def replace(match: re.Match[str]) -> str:
        address = found.get(unquote(unescape(match.group(2))))
        return f'{match.group(1)}"{escape(address)}"' if address is not None else match.group(0)

    return HREF.sub(replace, html) if found else html


def picture_html(view: Picture, lazy: bool) -> str:
    """Write a <picture> with its sources, width and height (no layout shift), lazy unless it heads the page."""
    sources = "".join(
        f'<source type="{s.type}" srcset="{escape(s.srcset)}" sizes="{escape(view.sizes)}">' for s in view.sources
    )
    loading = ' loading="lazy" decoding="async"' if lazy else ""  # the lead photo loads at once
    return (
        f'<picture>{sources}<img src="{escape(view.src)}" srcset="{escape(view.srcset)}" '
        f'sizes="{escape(view.sizes)}" width="{view.width}" height="{view.height}" alt="{escape(view.alt)}"'
        f"{loading}></picture>"
    )


def image_data(urls: Urls, item: Item) -> list[dict[str, object]]:
    """Describe an item's lead photo for NewsArticle `image`: its crops in Google's ratios, then its large JPEGs."""
    if item.image is None:
        return []
    file = next((f for f in item.files if f.name == item.image.file and f.kind == PHOTO), None)
    if file is None:
        return []
    sizes = variant_sizes(file.width, file.height)
    wide = [s for s in sizes if s[0] >= SHARE_WIDTH] or sizes[-1:]
    named = [(crop_name(file.name, crop.ratio), crop.size) for crop in crops(file.width, file.height)]
    named += [(variant_name(file.name, w, "jpg"), (w, h)) for w, h in wide]
    return [
        {
            "@type": "ImageObject",
            "url": urls.absolute(urls.bundle_file(item, name)),
            "width": width,
            "height": height,
        }
        for name, (width, height) in named
    ]


def enclosure(urls: Urls, item: Item, variant: VariantSource) -> tuple[str, int, str] | None:
    """Return the RSS enclosure of an item's lead photo: the absolute address, length and type of its large JPEG."""
    view = lead(urls, item)
    file = next((f for f in item.files if item.image is not None and f.name == item.image.file), None)
    if view is None or file is None:
        return None
    name = view.large.rpartition("/")[2]
    data = variant(variants_key(file.digest), source_path(item, file), name)
    return view.share, len(data), MEDIA_TYPES["jpeg"]


class BundleFiles:
    """The files of items' folders: each photo's variants and each document, below the item's page."""

    name = MEDIA

    def __init__(self, variant: VariantSource) -> None:
        self.variant = variant

    def partitions(self, q: Queries) -> Iterable[Partition]:
        """One partition per year of all news, as the item pages."""
        years = sorted({year for lang in q.languages for year, _ in q.periods(Scope(NEWS, lang))}, reverse=True)
        return [Partition(self.name, (str(year),)) for year in years]

    def specs(self, q: Queries, part: Partition) -> Iterable[Spec]:
        """Describe the published files of every item of one year that names files of its folder."""
        urls = Urls(q.config.default_language, q.config.base_url)
        for lang in q.languages:
            for item in q.items(Scope(NEWS, lang, "", int(part.args[0]))):
                yield from bundle_specs(urls, item)

    def draw(self, q: Queries, spec: Spec) -> bytes:
        """Return a variant's bytes (made before drawing began), or a document's."""
        kind, path, name = spec.args[:3]
        if kind == PHOTO:
            return self.variant(spec.args[3], path, name)
        data = read_listed(path, path.rpartition("/")[0])
        if isinstance(data, Problem):
            raise ContentError([data])
        if bytes_digest(data) != spec.args[2]:
            raise ContentError([Problem(path, 0, "the file changed while the site was built", "build again")])
        return data


def bundle_specs(urls: Urls, item: Item) -> Sequence[Spec]:
    """Describe the files an item publishes: every variant of each photo it names, and each document."""
    specs = []
    for file in item.files:
        path = source_path(item, file)
        if file.kind == PHOTO:
            key = variants_key(file.digest)
            names = [
                variant_name(file.name, w, ext)
                for w, _ in variant_sizes(file.width, file.height)
                for ext in EXTENSIONS.values()
            ]
            names += [crop_name(file.name, crop.ratio) for crop in crops(file.width, file.height)]
            for published in names:
                url = urls.bundle_file(item, published)
                name = url.rpartition("/")[2]
                specs.append(Spec(output_path(url), url, item.lang, url, (PHOTO, path, name, key), source=path))
        else:
            url = urls.bundle_file(item, document_name(file.name))
            specs.append(Spec(output_path(url), url, item.lang, url, (DOCUMENT, path, file.digest), source=path))
    return specs


def photos_to_make(draws: Iterable[tuple[str, Spec]]) -> dict[str, str]:
    """Return the photos whose variants these outputs (producer, spec) are, by key: their source files."""
    return {s.args[3]: s.args[1] for producer, s in draws if producer == MEDIA and s.args[0] == PHOTO}
