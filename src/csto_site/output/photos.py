"""Photos and documents made ready to publish: what a file is, a photo's variants, a document's type and size.

Pure functions on bytes: the caller reads the files, says where a problem is, and writes the outputs.
A photo becomes AVIF, WebP and JPEG variants at several widths with Pillow (bench/photos.py measured
it against pyvips; the README says why), upright, in sRGB and without any metadata. HEIC from a phone
is decoded by pi-heif, which ships libheif and its HEVC decoder inside its wheel.
"""

from __future__ import annotations

import io
import warnings
import zipfile
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import astuple, dataclass
from functools import cache
from importlib import import_module
from typing import Any, cast

from PIL import Image, ImageCms, UnidentifiedImageError, features

from ..site.urls import crop_name, variant_name
from ..util.digest import bytes_digest, digest
from ..util.libraries import PHOTO_LIBRARIES

# 100 megapixels: the largest sensor a press camera has (medium-format bodies), four times a 24 MP
# camera's. A decoded 100 MP image takes 300 MB, so a larger one is a mistake or a decompression bomb.
PIXEL_LIMIT = 100_000_000
# The formats of the photos a press office has, opened by these decoders only: no exotic decoder
# (PSD, ICO, PCX, ...) ever reads a file the site publishes.
OPENED = ("JPEG", "PNG", "WEBP", "AVIF", "TIFF")
# The colour modes Pillow opens photos in that this module turns into 8-bit sRGB; Lab and others are refused.
MODES = frozenset(
    {
        "1",
        "L",
        "LA",
        "P",
        "PA",
        "RGB",
        "RGBA",
        "RGBa",
        "RGBX",
        "CMYK",
        "YCbCr",
        "I",
        "F",
        "I;16",
        "I;16B",
        "I;16L",
        "I;16N",
    }
)
# The HEIF brands of the photos phones take (HEVC inside); AVIF, also HEIF, is Pillow's own.
HEIC_BRANDS = frozenset({b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx"})
HEIF_BRANDS = frozenset({b"mif1", b"msf1"})
# The transpositions that make an image upright, by EXIF orientation.
UPRIGHT = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}
ORIENTATION = 0x0112
# A listed width within 10% of the widest variant would be a near copy of it, not worth its bytes.
NEAR = 0.9
# Transparency is flattened onto white, the page's background: the JPEG fallback has no alpha channel.
BACKGROUND = (255, 255, 255)
EXTENSIONS = {"avif": "avif", "webp": "webp", "jpeg": "jpg"}
MEDIA_TYPES = {"avif": "image/avif", "webp": "image/webp", "jpeg": "image/jpeg"}
# Part of the digest: raise it when a change to this module changes the variants it makes.
RECIPE = 2
# The aspect ratios Google asks an article's images in (16:9, 4:3, 1:1), cut from the photo's middle as
# JPEGs at most CROP_WIDTH wide: search results and link previews then crop nothing themselves.
CROPS = ((16, 9), (4, 3), (1, 1))
CROP_WIDTH = 1200
CONVERT_HINT = "open it in a photo editor and save it as JPEG"


@dataclass(frozen=True)
class Settings:
    """How variants are made: the widths and each format's quality and effort (bench/photos.py chose them)."""

    # 480 for teasers and gallery thumbnails at 2x; 800 and 1200 for a phone's full width at 2x and 3x;
    # 1600 for the item page's column and the gallery's large view at 2x; 1200 is also og:image's width.
    # A 2400 variant would double the time and the bytes of every photo, for screens 1600 serves well.
    widths: tuple[int, ...] = (480, 800, 1200, 1600)
    # Each format's quality gives the same SSIMULACRA2 score, about 74 ("high quality"), on bench/photos.py's
    # photo, so a reader sees the same picture whichever format the browser takes.
    avif_quality: int = 60
    # libaom's speed 9 (of 0-10): a tenth of the default 6's time for 5% more bytes at about the same score.
    avif_speed: int = 9
    webp_quality: int = 80
    # libwebp's method 5 (of 0-6): 7% fewer bytes than 4 for 15% more time; 6 saves 3% more at twice the time.
    webp_method: int = 5
    jpeg_quality: int = 70


SETTINGS = Settings()


@dataclass(frozen=True)
class FileProblem:
    """Why a photo or document cannot be published, and how to fix it; the caller adds path:line."""

    message: str
    hint: str


@dataclass(frozen=True)
class PhotoInfo:
    """What a source photo is: its format, its upright size, its colours and its orientation."""

    format: str
    width: int
    height: int
    mode: str
    bits: int
    icc: bool
    orientation: int


@dataclass(frozen=True)
class Variant:
    """One published file of a photo: its format, size, bytes and file name."""

    format: str
    width: int
    height: int
    data: bytes
    name: str

    @property
    def media_type(self) -> str:
        """Return the MIME type, as <source type> and the server need it."""
        return MEDIA_TYPES[self.format]


@dataclass(frozen=True)
class Crop:
    """One crop for sharing: its aspect ratio, its box in the photo's largest variant, and its size."""

    ratio: tuple[int, int]
    box: tuple[int, int, int, int]
    size: tuple[int, int]


@dataclass(frozen=True)
class Source:
    """A photo opened but not decoded: Pillow's lazy image, its format, bits per channel and orientation.

    `orientation` is the EXIF tag as stored; `turn` the orientation still to apply, 1 where the decoder
    applies it itself (Pillow's TIFF reader, libheif).
    """

    image: Image.Image
    format: str
    bits: int
    orientation: int
    turn: int


def inspect(data: bytes, name: str) -> PhotoInfo | FileProblem:
    """Say what a photo is, decoding it all once to find truncation, or why it cannot be published."""
    source = _open(data, name)
    if isinstance(source, FileProblem):
        return source
    image = source.image
    info = PhotoInfo(
        source.format,
        *_upright_size(image.size, source.turn),
        image.mode,
        source.bits,
        bool(image.info.get("icc_profile")),
        source.orientation,
    )
    # The smallest scale a JPEG decodes at still reads every byte, so truncation shows at an eighth of the cost.
    problem = _decode(image, name, (max(1, image.width // 8), max(1, image.height // 8)))
    return problem or info


def variants(data: bytes, name: str, settings: Settings = SETTINGS, share: bool = False) -> list[Variant] | FileProblem:
    """Make a photo's AVIF, WebP and JPEG variants at each width it has: upright, sRGB, no metadata.

    With `share`, also the JPEG crops for sharing in Google's aspect ratios (see `crops`), from the same decode.
    """
    source = _open(data, name)
    if isinstance(source, FileProblem):
        return source
    image = source.image
    sizes = variant_sizes(*_upright_size(image.size, source.turn), settings)
    top = sizes[-1] if source.turn < 5 else sizes[-1][::-1]
    problem = _decode(image, name, top)
    if problem:
        return problem
    largest = _to_srgb(_eight_bit(image).resize(top, Image.Resampling.LANCZOS, reducing_gap=3.0), image.info)
    if source.turn in UPRIGHT:
        largest = largest.transpose(UPRIGHT[source.turn])
    made = []
    for size in sizes:
        picture = largest if size == largest.size else largest.resize(size, Image.Resampling.LANCZOS)
        made += [
            Variant(fmt, *size, _encode(picture, fmt, settings), variant_name(name, size[0], EXTENSIONS[fmt]))
            for fmt in EXTENSIONS
        ]
    for crop in crops(*largest.size, settings) if share else ():
        picture = largest.crop(crop.box).resize(crop.size, Image.Resampling.LANCZOS)
        made.append(Variant("jpeg", *crop.size, _encode(picture, "jpeg", settings), crop_name(name, crop.ratio)))
    return made


def crops(width: int, height: int, settings: Settings = SETTINGS) -> list[Crop]:
    """Return the crops for sharing of an upright photo of this size, cut from the middle of its largest variant."""
    top_width, top_height = variant_sizes(width, height, settings)[-1]
    found = []
    for across, down in CROPS:
        if top_width * down > top_height * across:  # wider than the ratio: keep the height, cut the sides
            cut = (max(1, round(top_height * across / down)), top_height)
        else:
            cut = (top_width, max(1, round(top_width * down / across)))
        left, upper = (top_width - cut[0]) // 2, (top_height - cut[1]) // 2
        out = min(CROP_WIDTH, cut[0])
        size = (out, max(1, round(out * down / across)))
        found.append(Crop((across, down), (left, upper, left + cut[0], upper + cut[1]), size))
    return found


def variant_sizes(width: int, height: int, settings: Settings = SETTINGS) -> list[tuple[int, int]]:
    """Return the sizes of the variants of an upright photo of this size, narrowest first."""
    return [(w, max(1, round(height * w / width))) for w in variant_widths(width, settings.widths)]


def variant_widths(width: int, widths: Sequence[int]) -> list[int]:
    """Return the widths of a source's variants: the listed ones below the widest, which is at most the source's."""
    top = min(width, max(widths))
    return [w for w in sorted(widths) if w < top * NEAR] + [top]


def photo_digest(data: bytes, settings: Settings = SETTINGS) -> str:
    """Return the key of a source's variants: its bytes, the settings, this recipe and the libraries' versions."""
    return variants_key(bytes_digest(data), settings)


def variants_key(source: str, settings: Settings = SETTINGS) -> str:
    """Return the key of the variants of the source whose bytes have the digest `source` (see photo_digest)."""
    return digest(source, *_recipe(settings))


@cache
def _recipe(settings: Settings) -> tuple[str, ...]:
    """Return what besides its bytes a photo's variants are made from: the settings, this recipe, the libraries.

    Once per process and settings (the libraries a process runs do not change while it runs): every build
    keys each photo of the archive, 20 µs a photo when the versions were asked each time.
    """
    return (repr(astuple(settings)), str(RECIPE), *_versions())


def _versions() -> tuple[str, ...]:
    """Return the versions of every library whose output ends up in a variant (PHOTO_LIBRARIES, and what they ship)."""
    import pi_heif  # imported here: only a build that makes variants needs libheif

    libraries = [str(import_module(module).__version__) for _, module in PHOTO_LIBRARIES]
    return (
        *libraries,
        pi_heif.libheif_version(),
        *(str(features.version(f)) for f in ("jpg", "webp", "avif", "littlecms2")),
    )


def _open(data: bytes, name: str) -> Source | FileProblem:
    """Open a photo's header (no pixels yet) and check it is a photo of a size the site accepts."""
    if data[4:8] == b"ftyp" and (
        data[8:12] in HEIC_BRANDS or (data[8:12] in HEIF_BRANDS and b"avif" not in data[16:64])
    ):
        return _open_heic(data, name)
    try:
        with _quiet():
            image = Image.open(io.BytesIO(data), formats=OPENED)
    except Image.DecompressionBombError:
        return _too_large(name)
    except UnidentifiedImageError:
        return _not_a_photo(name)
    except (OSError, SyntaxError, ValueError, EOFError) as exc:
        return _damaged(name, exc)
    if image.width * image.height > PIXEL_LIMIT:
        return _too_large(name, image.size)
    if image.mode not in MODES:
        return FileProblem(
            f"{name} has colours in the {image.mode} mode, which the site cannot convert",
            "save it as an RGB JPEG in a photo editor",
        )
    if getattr(image, "n_frames", 1) > 1 and image.format != "TIFF":
        return FileProblem(f"{name} is an animation, not a photo", "save the frame you want as JPEG")
    try:
        # Only now, under the pixel limit: a PNG's EXIF may follow its pixels, so Pillow decodes them to find it.
        with _quiet():
            orientation = image.getexif().get(ORIENTATION, 1)
    except (OSError, SyntaxError, ValueError, EOFError) as exc:
        return _damaged(name, exc)
    bits = 16 if image.mode.startswith("I;16") or _png_depth(data) == 16 else 8
    orientation = orientation if orientation in UPRIGHT else 1
    # Pillow's TIFF reader turns the picture upright as it loads, and gives the upright size already.
    return Source(image, image.format or "", bits, orientation, 1 if image.format == "TIFF" else orientation)


def _open_heic(data: bytes, name: str) -> Source | FileProblem:
    """Open a phone's HEIC photo with libheif, which turns it upright as it decodes."""
    import pi_heif  # imported here: only a site with HEIC photos needs libheif

    try:
        heif = pi_heif.open_heif(io.BytesIO(data), convert_hdr_to_8bit=True)
        if heif.size[0] * heif.size[1] > PIXEL_LIMIT:
            return _too_large(name, heif.size)
        image = heif.to_pillow()
    except (ValueError, RuntimeError, OSError, SyntaxError) as exc:
        return FileProblem(f"{name} is a HEIC photo that cannot be decoded ({exc})", CONVERT_HINT)
    # HEIF turns its pictures by its own boxes, which libheif applied; the EXIF orientation no longer holds.
    return Source(image, "HEIF", int(heif.info.get("bit_depth", 8)), 1, 1)


def _decode(image: Image.Image, name: str, size: tuple[int, int]) -> FileProblem | None:
    """Decode the pixels, a JPEG at the smallest scale not below `size`; say why a damaged file cannot be."""
    if image.format == "JPEG":
        image.draft(None, size)
    try:
        with _quiet():
            image.load()
    except (OSError, SyntaxError, ValueError, EOFError) as exc:
        return _damaged(name, exc)
    return None


@contextmanager
def _quiet() -> Iterator[None]:
    """Read a photo without Pillow's warnings: the build reports problems and never prints."""
    with warnings.catch_warnings():
        # Pillow warns from 89 MP on, where this module's own limit decides; and of damaged metadata it
        # skips, which no variant keeps (damaged pixels fail to decode, and that is a problem).
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        warnings.simplefilter("ignore", UserWarning)
        yield


def _eight_bit(image: Image.Image) -> Image.Image:
    """Return the image with 8 bits per channel in L, RGB or CMYK, transparency flattened onto white."""
    if image.mode.startswith("I;16") or image.mode == "I":
        # Scale down to 8 bits (a plain conversion would clip everything above 255 to white).
        extrema = cast(tuple[int, int], image.getextrema())  # one band: its lowest and highest value
        top = 65535 if image.mode.startswith("I;16") else max(1, extrema[1])
        return image.convert("I").point(lambda v: v * (255 / top), "L")
    if image.mode == "F":
        return image.point(lambda v: v * 255).convert("L")
    if image.mode in ("L", "RGB", "CMYK"):
        return image
    if image.has_transparency_data:
        rgba = image.convert("RGBA")
        flat = Image.new("RGB", rgba.size, BACKGROUND)
        flat.paste(rgba, mask=rgba.getchannel("A"))
        return flat
    return image.convert("RGB")


def _to_srgb(image: Image.Image, info: Mapping[str | tuple[int, int], Any]) -> Image.Image:
    """Convert an L, RGB or CMYK image to sRGB through its embedded ICC profile, if it has a usable one."""
    icc = info.get("icc_profile")
    if not isinstance(icc, bytes) or not icc:
        return image.convert("RGB")
    try:
        profile = ImageCms.ImageCmsProfile(io.BytesIO(icc))
        converted = ImageCms.profileToProfile(
            image, profile, ImageCms.createProfile("sRGB"), ImageCms.Intent.PERCEPTUAL, "RGB"
        )
    except (ImageCms.PyCMSError, OSError, ValueError):
        # A damaged profile, or one for other colours than the pixels': read them as sRGB, as browsers do.
        return image.convert("RGB")
    assert converted is not None  # None only when converting in place
    return converted


def _encode(image: Image.Image, fmt: str, settings: Settings) -> bytes:
    """Encode one variant with no metadata: no EXIF, XMP, comment or ICC profile (sRGB is the web's default)."""
    # The source's metadata rides along in info through every resize, and Pillow's encoders take some of it
    # from there unasked (the JPEG comment, AVIF's ICC profile): nothing is left for them to take.
    image.info.clear()
    out = io.BytesIO()
    if fmt == "avif":
        # One thread: libaom's output depends on its thread count, and the variants must not depend on the machine.
        image.save(out, "AVIF", quality=settings.avif_quality, speed=settings.avif_speed, max_threads=1)
    elif fmt == "webp":
        image.save(out, "WEBP", quality=settings.webp_quality, method=settings.webp_method)
    else:
        image.save(out, "JPEG", quality=settings.jpeg_quality, optimize=True, progressive=True)
    return out.getvalue()


def _upright_size(size: tuple[int, int], orientation: int) -> tuple[int, int]:
    """Return the size of an image once turned upright: orientations 5 to 8 swap width and height."""
    return (size[1], size[0]) if orientation >= 5 else size


def _png_depth(data: bytes) -> int:
    """Return a PNG's bits per channel from its header (Pillow opens 16-bit RGB as 8-bit), or 0."""
    return data[24] if data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 24 else 0


def _too_large(name: str, size: tuple[int, int] | None = None) -> FileProblem:
    """Refuse a photo over the pixel limit: a mistake or a decompression bomb."""
    claimed = f"{size[0]}×{size[1]} pixels, " if size else ""
    return FileProblem(
        f"{name} is too large: {claimed}over {PIXEL_LIMIT // 1_000_000} megapixels",
        "scale it down to at most 4000 pixels wide in a photo editor",
    )


def _damaged(name: str, error: Exception) -> FileProblem:
    """Refuse a photo whose bytes stop short or do not decode."""
    return FileProblem(f"{name} is truncated or damaged ({error})", "copy the photo again from the camera or sender")


def _not_a_photo(name: str) -> FileProblem:
    """Refuse a file that is no photo of the accepted formats."""
    return FileProblem(
        f"{name} is not a photo (JPEG, PNG, WebP, AVIF, TIFF or HEIC)",
        "check that it is the right file; " + CONVERT_HINT,
    )


# 50 MiB: a scanned statement of a hundred pages is a fifth of that, and git hosts warn at this size.
DOCUMENT_LIMIT = 50 * 1024 * 1024
OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # the container of Office 97-2003 files
ODF_TYPES = {
    b"application/vnd.oasis.opendocument.text": "odt",
    b"application/vnd.oasis.opendocument.spreadsheet": "ods",
    b"application/vnd.oasis.opendocument.presentation": "odp",
}
OOXML_PARTS = {"word/document.xml": "docx", "xl/workbook.xml": "xlsx", "ppt/presentation.xml": "pptx"}
OPENXML = "application/vnd.openxmlformats-officedocument."


@dataclass(frozen=True)
class DocumentType:
    """A kind of document the site publishes: its label on the page and its media type."""

    label: str
    media_type: str


DOCUMENT_TYPES = {
    "pdf": DocumentType("PDF", "application/pdf"),
    "docx": DocumentType("DOCX", OPENXML + "wordprocessingml.document"),
    "xlsx": DocumentType("XLSX", OPENXML + "spreadsheetml.sheet"),
    "pptx": DocumentType("PPTX", OPENXML + "presentationml.presentation"),
    "odt": DocumentType("ODT", "application/vnd.oasis.opendocument.text"),
    "ods": DocumentType("ODS", "application/vnd.oasis.opendocument.spreadsheet"),
    "odp": DocumentType("ODP", "application/vnd.oasis.opendocument.presentation"),
    "doc": DocumentType("DOC", "application/msword"),
    "xls": DocumentType("XLS", "application/vnd.ms-excel"),
    "ppt": DocumentType("PPT", "application/vnd.ms-powerpoint"),
    "rtf": DocumentType("RTF", "application/rtf"),
}
# Units of a size per language, binary as file managers count them, and the decimal mark; English otherwise.
SIZE_UNITS = {"en": ("B", "KB", "MB", "."), "ru": ("Б", "КБ", "МБ", ",")}
NBSP = "\u00a0"  # keeps a number and its unit on one line


@dataclass(frozen=True)
class DocumentInfo:
    """A document as the item page lists it: its type, taken from its content, and its size in bytes."""

    extension: str
    label: str
    media_type: str
    size: int

    def text(self, lang: str) -> str:
        """Return the type and size as the item page shows them: "PDF, 240 KB", "PDF, 240 КБ"."""
        return f"{self.label}, {size_text(self.size, lang)}"


def document_info(data: bytes, name: str) -> DocumentInfo | FileProblem:
    """Say what a document is from its content, which must agree with its extension, or why it cannot be published."""
    extension = name.rsplit(".", 1)[-1].lower() if "." in name.rsplit("/", 1)[-1] else ""
    accepted = ", ".join(t.label for t in DOCUMENT_TYPES.values())
    if extension not in DOCUMENT_TYPES:
        return FileProblem(f"{name} is not a document the site publishes", f"attach one of {accepted}")
    if not data:
        return FileProblem(f"{name} is empty", "copy the document again from where it was made")
    if len(data) > DOCUMENT_LIMIT:
        return FileProblem(
            f"{name} is too large ({len(data):,} bytes): a document may have up to {size_text(DOCUMENT_LIMIT, 'en')}",
            "reduce its size (for a PDF, save it again with compressed images) or split it into parts",
        )
    found = _document_kind(data)
    expected = DOCUMENT_TYPES[extension].label
    if found == "ole" and extension in ("doc", "xls", "ppt"):
        found = extension  # the OLE container holds Word, Excel and PowerPoint 97-2003 alike: the name tells
    if found is None or found == "ole":
        return FileProblem(
            f"{name} is not a {expected} file: its content is damaged or of another kind",
            f"open it and save it again as {expected}",
        )
    if found != extension:
        stem = name.rsplit(".", 1)[0]
        return FileProblem(
            f"{name} is named .{extension} but is a {DOCUMENT_TYPES[found].label} file", f"rename it {stem}.{found}"
        )
    kind = DOCUMENT_TYPES[extension]
    return DocumentInfo(extension, kind.label, kind.media_type, len(data))


def size_text(size: int, lang: str) -> str:
    """Return a size as people read it: 812 B, 240 KB, 1.4 MB, 24 MB (in Russian 812 Б, 240 КБ, 1,4 МБ)."""
    unit_b, unit_kb, unit_mb, mark = SIZE_UNITS.get(lang, SIZE_UNITS["en"])
    if size < 1024:
        return f"{size}{NBSP}{unit_b}"
    if size < 1024 * 1024:
        return f"{min(1023, round(size / 1024))}{NBSP}{unit_kb}"
    megabytes = size / (1024 * 1024)
    number = f"{megabytes:.1f}".replace(".", mark) if megabytes < 9.95 else f"{round(megabytes)}"
    return f"{number}{NBSP}{unit_mb}"


def _document_kind(data: bytes) -> str | None:
    """Return the extension a document's content shows, "ole" for an Office 97-2003 file, or None."""
    if b"%PDF-" in data[:1024]:  # readers accept the header anywhere in the first kilobyte
        return "pdf"
    if data.startswith(b"{\\rtf"):
        return "rtf"
    if data.startswith(OLE):
        return "ole"
    if not data.startswith(b"PK\x03\x04"):
        return None
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = set(archive.namelist())
            if "mimetype" in names:
                with archive.open("mimetype") as member:
                    return ODF_TYPES.get(member.read(100).strip())
            return next((kind for part, kind in OOXML_PARTS.items() if part in names), None)
    except (zipfile.BadZipFile, OSError, EOFError, ValueError):
        return None
