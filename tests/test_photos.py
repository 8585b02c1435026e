"""Photos become upright, sRGB, metadata-free variants; bad photos and documents are problems, never exceptions.

Every photo here is drawn by the test. One test makes the variants of a 24 MP photo, in a fresh process,
to hold the memory target (about 5 s); the rest use small photos.
"""

from __future__ import annotations

import base64
import hashlib
import io
import random
import re
import struct
import subprocess
import sys
import textwrap
import warnings
import zipfile
import zlib
from dataclasses import astuple
from pathlib import Path
from urllib.parse import quote

import PIL
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image, ImageDraw, ImageOps

from csto_site.output import photos
from csto_site.output.photos import (
    DOCUMENT_LIMIT,
    PIXEL_LIMIT,
    SETTINGS,
    DocumentInfo,
    FileProblem,
    PhotoInfo,
    Settings,
    Variant,
    document_info,
    inspect,
    photo_digest,
    variant_widths,
    variants,
)
from csto_site.util.digest import digest

SRC = Path(__file__).resolve().parents[1] / "src"
GPS_NOTE = b"GPS-AREA-SECRETARIAT"  # a GPS tag's text: found in an output, the GPS block went along
COMMENT = b"camera-comment-text"
# A HEIC photo as an iPhone saves it (HEVC in HEIF), 96x64, red on the left and blue on the right; made by
# this project with libheif's x265 encoder, as only a decoder is a dependency.
HEIC = base64.b64decode("""
AAAAHGZ0eXBoZWljAAAAAG1pZjFoZWljbWlhZgAAAVZtZXRhAAAAAAAAACFoZGxyAAAAAAAAAABwaWN0AAAAAAAAAAAAAAAAAAAA
ACJpbG9jAAAAAERAAAEAAQAAAAABegABAAAAAAAAAJIAAAAjaWluZgAAAAAAAQAAABVpbmZlAgAAAAABAABodmMxAAAAAA5waXRt
AAAAAAABAAAA1mlwcnAAAAC3aXBjbwAAAHhodmNDAQNwAAAAkAAAAAAAHvAA/P34+AAADwNgAAEAGEABDAH//wNwAAADAJAAAAMA
AAMAHroCQGEAAQArQgEBA3AAAAMAkAAAAwAAAwAeoDCBBZbqSSmubgIaDAgAAAMAyAAAAwAIQGIAAQAHRAHBcrAiQAAAABNjb2xy
bmNseAABAA0ABoAAAAAUaXNwZQAAAAAAAABgAAAAQAAAABBwaXhpAAAAAAMICAgAAAAXaXBtYQAAAAAAAAABAAEEgQIDBAAAAJpt
ZGF0AAAAjigBrwY4Wvz9N/kl7///qkb6H+k1iLvlalX5LdL7+ZW7//gMwCcP+GxId8u03i2owA40AqJ3CHqMKWEmfNMiz5Mj/Z/O
/n+6OF0mh3b+enwqeNPhHYLsfvl6jwFCf2J6/nZA/MpmVQx3p90/Z5PITlOc+5rtAEFd/AxrMG85/vLx0DoX+/p/SdfrLU6D0eA=
""")
FORMATS = {"avif": "AVIF", "webp": "WEBP", "jpeg": "JPEG"}


# ---- photos drawn for the tests ----


def scene(width: int, height: int, seed: int = 1) -> Image.Image:
    """Draw a small photo-like picture: a gradient, shapes and noise, different in every corner."""
    rnd = random.Random(seed)
    image = Image.merge("RGB", [Image.linear_gradient("L").rotate(a).resize((width, height)) for a in (0, 90, 45)])
    draw = ImageDraw.Draw(image)
    for _ in range(12):
        x, y = rnd.randrange(width), rnd.randrange(height)
        draw.ellipse(
            (x - width // 8, y - height // 8, x + width // 8, y + height // 8),
            fill=tuple(rnd.randrange(256) for _ in range(3)),
        )
    return Image.blend(image, Image.effect_noise((width, height), 30).convert("RGB"), 0.15)


def encode(image: Image.Image, fmt: str = "JPEG", **options: object) -> bytes:
    """Return the image saved in a format."""
    out = io.BytesIO()
    image.save(out, fmt, **options)
    return out.getvalue()


def camera_exif(orientation: int = 1) -> Image.Exif:
    """Return EXIF as a camera writes it: orientation, camera, date, and a GPS position."""
    exif = Image.Exif()
    exif[0x0112] = orientation
    exif[0x010F], exif[0x0110], exif[0x0132] = "Test Camera", "TC-1", "2024:07:25 10:30:00"
    exif.get_ifd(0x8825).update(
        {1: "N", 2: (55.0, 45.0, 21.0), 3: "E", 4: (37.0, 37.0, 4.0), 0x1C: b"ASCII\x00\x00\x00" + GPS_NOTE}
    )
    return exif


XMP = (
    b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
    b'<rdf:Description xmlns:exif="http://ns.adobe.com/exif/1.0/" exif:GPSLatitude="55,45.35N"/>'
    b"</rdf:RDF></x:xmpmeta>"
)


def with_iptc(jpeg: bytes) -> bytes:
    """Insert an IPTC block (Photoshop APP13, with a caption) after the JPEG's start marker."""
    record = b"\x1c\x02\x78" + struct.pack(">H", 14) + b"IPTC caption 1"
    resource = b"8BIM\x04\x04\x00\x00" + struct.pack(">I", len(record)) + record
    body = b"Photoshop 3.0\x00" + resource
    return jpeg[:2] + b"\xff\xed" + struct.pack(">H", len(body) + 2) + body + jpeg[2:]


def camera_jpeg(width: int = 900, height: int = 600, orientation: int = 1) -> bytes:
    """Return a JPEG with everything a camera or an editor writes: EXIF with GPS, XMP, IPTC, a comment, ICC."""
    from PIL import ImageCms

    icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    jpeg = encode(
        scene(width, height), quality=90, exif=camera_exif(orientation), xmp=XMP, comment=COMMENT, icc_profile=icc
    )
    return with_iptc(jpeg)


def png_chunk(kind: bytes, body: bytes) -> bytes:
    """Return one PNG chunk with its length and CRC."""
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def png(width: int, height: int, depth: int, colour: int, rows: bytes) -> bytes:
    """Return a PNG made byte by byte: any header, whatever the pixel rows are."""
    header = struct.pack(">IIBBBBB", width, height, depth, colour, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + png_chunk(b"IHDR", header)
        + png_chunk(b"IDAT", zlib.compress(rows))
        + png_chunk(b"IEND", b"")
    )


def png16_rgb(width: int, height: int, rgb: tuple[int, int, int]) -> bytes:
    """Return a 16-bit RGB PNG of one colour (Pillow cannot write one)."""
    row = b"\x00" + struct.pack(">HHH", *rgb) * width
    return png(width, height, 16, 2, row * height)


def icc_profile(
    red_xyz: tuple[float, float, float], green_xyz: tuple[float, float, float], blue_xyz: tuple[float, float, float]
) -> bytes:
    """Return a minimal ICC v2 RGB matrix profile with these colorants (D50) and gamma 2.2."""

    def fixed(*values: float) -> bytes:
        return b"".join(struct.pack(">i", round(v * 65536)) for v in values)

    desc = b"desc" + bytes(4) + struct.pack(">I", 5) + b"test\x00" + bytes(12) + bytes(67)
    curve = b"curv" + bytes(4) + struct.pack(">IH", 1, 0x0233) + bytes(2)
    tags = [
        (b"desc", desc),
        (b"wtpt", b"XYZ " + bytes(4) + fixed(0.9642, 1.0, 0.8249)),
        (b"rXYZ", b"XYZ " + bytes(4) + fixed(*red_xyz)),
        (b"gXYZ", b"XYZ " + bytes(4) + fixed(*green_xyz)),
        (b"bXYZ", b"XYZ " + bytes(4) + fixed(*blue_xyz)),
        (b"rTRC", curve),
        (b"gTRC", curve),
        (b"bTRC", curve),
    ]
    offset = 128 + 4 + 12 * len(tags)
    table, data = b"", b""
    for signature, body in tags:
        table += signature + struct.pack(">II", offset + len(data), len(body))
        data += body + bytes(-len(body) % 4)
    size = offset + len(data)
    header = (
        struct.pack(">I", size)
        + b"lcms"
        + struct.pack(">I", 0x02100000)
        + b"mntrRGB XYZ "
        + bytes(12)
        + b"acsp"
        + bytes(24)
        + struct.pack(">I", 0)
        + fixed(0.9642, 1.0, 0.8249)
        + bytes(48)
    )
    return header + struct.pack(">I", len(tags)) + table + data


def made(data: bytes, name: str = "photo.jpg", settings: Settings = SETTINGS) -> list[Variant]:
    """Make the variants of a photo that must be usable."""
    result = variants(data, name, settings)
    assert isinstance(result, list), result
    return result


def opened(variant: Variant) -> Image.Image:
    """Open a variant with Pillow, checking it is the format it says."""
    image = Image.open(io.BytesIO(variant.data))
    image.load()
    assert image.format == FORMATS[variant.format]
    return image


# ---- sizes ----


@pytest.mark.parametrize(
    ("width", "expected"),
    [
        (6000, [480, 800, 1200, 1600]),
        (1600, [480, 800, 1200, 1600]),
        (1000, [480, 800, 1000]),
        (1210, [480, 800, 1210]),
        (480, [480]),
        (300, [300]),
    ],
)
def test_the_widths_are_those_below_the_source_and_the_widest_it_allows(width, expected):
    assert variant_widths(width, SETTINGS.widths) == expected


def test_the_key_of_a_photos_variants_asks_the_libraries_versions_once_per_process(monkeypatch):
    # Every build keys every photo of the archive: asking Pillow and libheif each time was 20 µs a photo.
    asked = []
    versions = photos._versions
    monkeypatch.setattr(photos, "_versions", lambda: asked.append(1) or versions())
    photos._recipe.cache_clear()
    try:
        keys = {photos.variants_key(f"{n:032x}") for n in range(3)}
    finally:
        photos._recipe.cache_clear()  # the next test computes the recipe with the real libraries again
    assert len(keys) == 3 and asked == [1]
    # The key is the digest of the source's and of what makes the variants, as before it was kept.
    settings = photos.SETTINGS
    assert photos.variants_key("ab") == digest("ab", repr(astuple(settings)), str(photos.RECIPE), *versions())


def test_each_variant_decodes_at_its_stated_size_in_its_format_never_wider_than_the_source():
    data = encode(scene(1700, 1000), quality=90)
    result = made(data)
    assert [(v.format, v.width) for v in result] == [(f, w) for w in (480, 800, 1200, 1600) for f in FORMATS]
    for variant in result:
        image = opened(variant)
        assert image.size == (variant.width, variant.height)
        assert variant.height == round(1000 * variant.width / 1700)
        assert image.mode == "RGB"
    small = made(encode(scene(300, 200)))
    assert {(v.width, v.height) for v in small} == {(300, 200)} and len(small) == 3


def test_a_variant_looks_like_its_source():
    source = scene(800, 600)
    for variant in made(encode(source, "PNG"), "p.png", Settings(widths=(400,))):
        expected = source.resize((400, 300), Image.Resampling.LANCZOS)
        assert mean_difference(opened(variant).convert("RGB"), expected) < 8, variant.format


def mean_difference(a: Image.Image, b: Image.Image) -> float:
    """Return the mean absolute difference of two images' channels, 0 to 255."""
    from PIL import ImageChops, ImageStat

    return sum(ImageStat.Stat(ImageChops.difference(a, b)).mean) / 3


# ---- orientation ----


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP", "TIFF"])
@pytest.mark.parametrize("orientation", range(1, 9))
def test_the_exif_orientation_is_applied(orientation, fmt):
    stored = scene(240, 160)
    data = encode(stored, fmt, exif=camera_exif(orientation))
    # Pillow's own reading of the orientation, on a lossless copy, is the reference.
    upright = ImageOps.exif_transpose(Image.open(io.BytesIO(encode(stored, "PNG", exif=camera_exif(orientation)))))
    info = inspect(data, "p.jpg")
    assert isinstance(info, PhotoInfo) and (info.width, info.height) == upright.size
    assert info.orientation == orientation
    for variant in made(data, "p.jpg", Settings(widths=(120,))):
        image = opened(variant).convert("RGB")
        assert image.width == 120 and (image.height > image.width) == (orientation >= 5)
        assert mean_difference(image, upright.convert("RGB").resize(image.size, Image.Resampling.LANCZOS)) < 10


def test_a_portrait_photo_from_a_camera_comes_out_portrait():
    data = camera_jpeg(900, 600, orientation=6)
    assert {(v.width, v.height) for v in made(data)} == {(480, 720), (600, 900)}


# ---- metadata ----


def test_no_metadata_reaches_any_variant():
    data = camera_jpeg()
    assert all(
        marker in data
        for marker in (b"Exif\x00\x00", GPS_NOTE, b"http://ns.adobe.com/xap", COMMENT, b"Photoshop 3.0", b"ICC_PROFILE")
    )
    for variant in made(data):
        for marker in (
            b"Exif",
            GPS_NOTE,
            b"http://ns.adobe.com/xap",
            b"<x:xmpmeta",
            COMMENT,
            b"Photoshop 3.0",
            b"8BIM",
            b"ICC_PROFILE",
            b"Test Camera",
            b"2024:07:25",
        ):
            assert marker not in variant.data, (variant.name, marker)
        image = opened(variant)
        assert dict(image.getexif()) == {}, variant.name
        assert not {"exif", "xmp", "icc_profile", "comment", "photoshop"} & set(image.info), (variant.name, image.info)
        if variant.format == "avif":  # no Exif or XMP item, and the colours in the nclx box, not a profile
            assert b"Exif" not in variant.data and b"mime" not in variant.data and b"prof" not in variant.data


# ---- colours ----


def test_a_cmyk_jpeg_gives_srgb_variants_with_its_colours():
    cyan = Image.new("CMYK", (200, 100), (255, 0, 0, 0))
    ImageDraw.Draw(cyan).rectangle((100, 0, 199, 99), fill=(0, 0, 0, 255))  # right half black
    data = encode(cyan, quality=95)
    info = inspect(data, "c.jpg")
    assert isinstance(info, PhotoInfo) and info.mode == "CMYK"
    for variant in made(data, "c.jpg"):
        image = opened(variant)
        assert image.mode == "RGB"
        left, right = image.getpixel((20, 50)), image.getpixel((image.width - 20, 50))
        assert left[0] < 30 and left[1] > 225 and left[2] > 225, (variant.format, left)
        assert max(right) < 30, (variant.format, right)


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (png16_rgb(64, 48, (65535, 32768, 0)), (255, 128, 0)),
        (encode(Image.new("I;16", (64, 48), 40000), "PNG"), (156, 156, 156)),
    ],
    ids=["rgb", "grey"],
)
def test_a_16_bit_png_gives_8_bit_srgb_variants_with_its_colours(data, expected):
    info = inspect(data, "p.png")
    assert isinstance(info, PhotoInfo) and info.bits == 16
    for variant in made(data, "p.png"):
        image = opened(variant)
        assert image.mode == "RGB"
        assert all(abs(a - b) <= 6 for a, b in zip(image.getpixel((32, 24)), expected, strict=True)), variant.format


def test_the_icc_profile_is_applied_then_dropped():
    # A profile whose red channel is sRGB's blue: a pixel stored as pure red is blue, and must come out blue.
    red, green, blue = (0.4361, 0.2225, 0.0139), (0.3851, 0.7169, 0.0971), (0.1431, 0.0606, 0.7141)
    data = encode(Image.new("RGB", (64, 48), (255, 0, 0)), quality=95, icc_profile=icc_profile(blue, green, red))
    info = inspect(data, "p.jpg")
    assert isinstance(info, PhotoInfo) and info.icc
    for variant in made(data, "p.jpg"):
        r, g, b = opened(variant).getpixel((32, 24))
        assert b > 200 and r < 40 and g < 40, (variant.format, (r, g, b))


def test_transparency_is_flattened_onto_white():
    image = Image.new("RGBA", (40, 30), (0, 0, 0, 0))
    for variant in made(encode(image, "PNG"), "t.png"):
        assert min(opened(variant).convert("RGB").getpixel((20, 15))) > 245, variant.format


# ---- phones ----


def test_a_heic_photo_from_a_phone_is_converted():
    info = inspect(HEIC, "IMG_0001.HEIC")
    assert info == PhotoInfo("HEIF", 96, 64, "RGB", 8, False, 1)
    result = made(HEIC, "IMG_0001.HEIC")
    assert [v.name for v in result] == ["img-0001.96.avif", "img-0001.96.webp", "img-0001.96.jpg"]
    for variant in result:
        image = opened(variant)
        left, right = image.getpixel((10, 32)), image.getpixel((86, 32))
        assert left[0] > 150 > left[2] and right[2] > 150 > right[0], (variant.format, left, right)


def test_a_damaged_heic_says_how_to_convert_it():
    for data in (HEIC[:300], HEIC[:40] + bytes(200)):
        for problem in (inspect(data, "IMG_1.HEIC"), variants(data, "IMG_1.HEIC")):
            assert isinstance(problem, FileProblem), problem
            assert "HEIC" in problem.message and "save it as JPEG" in problem.hint


# ---- bad input ----


def bomb(width: int, height: int) -> bytes:
    """Return a PNG of a few bytes whose header claims width × height pixels."""
    return png(width, height, 8, 2, b"\x00" * 64)


BAD = {
    "truncated JPEG": (encode(scene(400, 300), quality=90)[:3000], "truncated"),
    "random bytes": (random.Random(5).randbytes(4000), "not a photo"),
    "text named .jpg": ("Пресс-релиз, not a photo\n".encode() * 20, "not a photo"),
    "empty file": (b"", "not a photo"),
    "200 MP PNG header": (bomb(20000, 10000), "too large"),
    "120 MP PNG header": (bomb(12000, 10000), "too large"),
    "truncated PNG": (encode(scene(200, 100), "PNG")[:-200], "truncated"),
    "PNG with a wrong CRC": (png(8, 8, 8, 2, b"\x00" * 200)[:-20] + b"junk" + b"\x00" * 16, "truncated"),
    "GIF": (encode(Image.new("P", (10, 10)), "GIF"), "not a photo"),
    "animated WebP": (
        encode(Image.new("RGB", (10, 10)), "WEBP", save_all=True, append_images=[Image.new("RGB", (10, 10), "red")]),
        "animation",
    ),
}


@pytest.mark.parametrize("case", BAD)
def test_a_bad_photo_is_a_problem_never_an_exception(case):
    data, words = BAD[case]
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # not even Pillow's decompression bomb warning
        for problem in (inspect(data, "group.jpg"), variants(data, "group.jpg")):
            assert isinstance(problem, FileProblem), problem
            assert words in problem.message and "group.jpg" in problem.message and problem.hint


def test_the_pixel_limit_is_100_megapixels():
    assert PIXEL_LIMIT == 100_000_000
    problem = inspect(bomb(10001, 10000), "x.png")
    assert isinstance(problem, FileProblem) and "10001×10000" in problem.message
    # Only the header is read for the refusal: a claimed 100 MP at the limit is checked by decoding (and fails).
    assert "too large" not in str(inspect(bomb(10000, 10000), "x.png"))


# ---- names ----


@pytest.mark.parametrize(
    ("name", "stem"),
    [
        ("group.jpg", "group"),
        ("Выпускники 2024.jpg", "vypuskniki-2024"),
        ("Фото с встречи (1).JPEG", "foto-s-vstrechi-1"),
        ("my photo.final.png", "my-photo-final"),
        ("!!!.jpg", "file"),
        ("2024/07/Zas & Schmid.jpg", "zas-schmid"),
    ],
)
def test_variant_names_are_legal_url_segments(name, stem):
    for variant in made(encode(scene(60, 40)), name):
        assert variant.name == f"{stem}.60.{photos.EXTENSIONS[variant.format]}"
        assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*\.\d+\.(avif|webp|jpg)", variant.name)
        assert quote(variant.name) == variant.name


def test_media_types():
    assert {v.format: v.media_type for v in made(encode(scene(60, 40)))} == {
        "avif": "image/avif",
        "webp": "image/webp",
        "jpeg": "image/jpeg",
    }


# ---- made once, the same every time ----


@pytest.mark.parametrize("speed", [SETTINGS.avif_speed, 6], ids=["chosen", "slower AVIF"])
def test_the_variants_are_the_same_bytes_every_run_in_every_process(speed):
    data = camera_jpeg(700, 500)
    chosen = Settings(widths=(480, 700), avif_speed=speed)
    first = [(v.name, v.data) for v in made(data, "photo.jpg", chosen)]
    assert first == [(v.name, v.data) for v in made(data, "photo.jpg", chosen)]
    # The other process runs on one core: libaom below speed 9 gives other bytes for another number of threads.
    code = textwrap.dedent("""
        import hashlib, os, sys
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
        from csto_site.output.photos import Settings, variants
        made = variants(sys.stdin.buffer.read(), "photo.jpg", Settings(widths=(480, 700), avif_speed=int(sys.argv[1])))
        print(hashlib.sha256(b"".join(v.name.encode() + v.data for v in made)).hexdigest())
    """)
    done = subprocess.run(
        [sys.executable, "-c", code, str(speed)],
        input=data,
        capture_output=True,
        check=True,
        env={"PYTHONPATH": str(SRC), "PATH": "/usr/bin:/bin"},
    )
    assert done.stdout.decode().strip() == hashlib.sha256(b"".join(n.encode() + d for n, d in first)).hexdigest()


def test_the_digest_changes_with_the_bytes_the_settings_and_the_libraries(monkeypatch):
    data = encode(scene(60, 40))
    key = photo_digest(data)
    assert key == photo_digest(data) and re.fullmatch(r"[0-9a-f]{32}", key)
    assert photo_digest(data + b"\x00") != key
    assert photo_digest(data, Settings(jpeg_quality=71)) != key
    assert photo_digest(data, Settings(widths=(480, 800))) != key
    monkeypatch.setattr(PIL, "__version__", "0.0.0")
    photos._recipe.cache_clear()  # a new version of a library comes with a new process, which reads them again
    try:
        assert photo_digest(data) != key
    finally:
        photos._recipe.cache_clear()


# ---- robustness ----

MODES = ("RGB", "RGBA", "L", "LA", "P", "CMYK", "1", "I;16")
SAVE = {
    "JPEG": ("RGB", "L", "CMYK"),
    "PNG": ("RGB", "RGBA", "L", "LA", "P", "1", "I;16"),
    "WEBP": ("RGB", "RGBA"),
    "TIFF": MODES,
}


@st.composite
def small_photos(draw: st.DrawFn) -> tuple[bytes, int, int]:
    """Draw a small photo of any mode, size, format and orientation; return it with its upright size."""
    fmt = draw(st.sampled_from(sorted(SAVE)))
    mode = draw(st.sampled_from(SAVE[fmt]))
    width, height = draw(st.integers(1, 90)), draw(st.integers(1, 90))
    orientation = draw(st.integers(1, 8))
    image = scene(width, height, draw(st.integers(0, 3))).convert(mode if mode != "I;16" else "I").convert(mode)
    data = encode(image, fmt, exif=camera_exif(orientation))
    upright = (height, width) if orientation >= 5 else (width, height)
    return data, *upright


@given(small_photos())
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_variants_of_any_small_photo_never_raise_and_never_exceed_the_source(photo):
    data, width, height = photo
    result = made(data, "p.jpg", Settings(widths=(16, 40, 64)))
    info = inspect(data, "p.jpg")
    assert isinstance(info, PhotoInfo) and (info.width, info.height) == (width, height)
    assert {v.width for v in result} == set(variant_widths(width, (16, 40, 64)))
    for variant in result:
        image = opened(variant)
        assert image.size == (variant.width, variant.height) and variant.width <= width
        assert image.mode in ("RGB", "L")


@given(
    st.binary(max_size=600),
    st.sampled_from(
        [encode(scene(40, 30), fmt) for fmt in ("JPEG", "PNG", "WEBP", "TIFF")]
        + [encode(scene(40, 30), "JPEG", exif=camera_exif(6)), HEIC]
    ),
)
@settings(max_examples=150, deadline=None)
def test_damaged_photos_never_raise_nor_warn(noise, photo):
    cut = len(noise) % len(photo)
    data = photo[:cut] + noise + photo[cut + len(noise) :]
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # nor warn: the build reports problems, never prints
        for result in (inspect(data, "x.jpg"), variants(data, "x.jpg", Settings(widths=(16,)))):
            assert isinstance(result, FileProblem | PhotoInfo | list)


# ---- memory: the one test with a press camera's 24 MP photo ----


def test_the_variants_of_a_24_mp_photo_take_under_500_mib(tmp_path):
    gradient = Image.linear_gradient("L").resize((6000, 4000))
    big = Image.merge("RGB", (gradient, Image.effect_noise((6000, 4000), 20), gradient.rotate(180)))
    path = tmp_path / "big.jpg"
    big.save(path, quality=90, exif=camera_exif(6))
    code = textwrap.dedent("""
        import sys
        from pathlib import Path
        from csto_site.output.photos import variants
        made = variants(Path(sys.argv[1]).read_bytes(), "big.jpg")
        status = Path("/proc/self/status").read_text().splitlines()
        peak = next(int(line.split()[1]) for line in status if line.startswith("VmHWM:"))
        print(peak // 1024, sorted({(v.width, v.height) for v in made}))
    """)
    done = subprocess.run(
        [sys.executable, "-c", code, str(path)],
        capture_output=True,
        text=True,
        check=True,
        env={"PYTHONPATH": str(SRC), "PATH": "/usr/bin:/bin"},
    )
    peak, sizes = done.stdout.split(" ", 1)
    assert sizes.strip() == "[(480, 720), (800, 1200), (1200, 1800), (1600, 2400)]"
    assert int(peak) <= 500, f"peak RSS {peak} MiB"


# ---- documents ----


def office(parts: dict[str, bytes]) -> bytes:
    """Return a ZIP-based office document with these parts."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name, body in parts.items():
            archive.writestr(name, body)
    return out.getvalue()


PDF = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
DOCX = office({"[Content_Types].xml": b"<Types/>", "word/document.xml": b"<w:document/>"})
XLSX = office({"[Content_Types].xml": b"<Types/>", "xl/workbook.xml": b"<workbook/>"})
PPTX = office({"[Content_Types].xml": b"<Types/>", "ppt/presentation.xml": b"<presentation/>"})
ODT = office({"mimetype": b"application/vnd.oasis.opendocument.text", "content.xml": b"<office:document/>"})
DOC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504)


@pytest.mark.parametrize(
    ("data", "name", "label"),
    [
        (PDF, "statement.pdf", "PDF"),
        (DOCX, "Заявление.docx", "DOCX"),
        (XLSX, "budget.XLSX", "XLSX"),
        (PPTX, "slides.pptx", "PPTX"),
        (ODT, "text.odt", "ODT"),
        (DOC, "old.doc", "DOC"),
        (DOC, "old.xls", "XLS"),
        (b"{\\rtf1 Hello}", "note.rtf", "RTF"),
    ],
)
def test_a_document_is_known_by_its_content_and_extension(data, name, label):
    info = document_info(data, name)
    assert isinstance(info, DocumentInfo) and info.label == label and info.size == len(data)


def test_a_document_is_listed_with_its_type_and_size_per_language():
    info = document_info(PDF + b" " * (240 * 1024 - len(PDF)), "statement.pdf")
    assert isinstance(info, DocumentInfo) and info.media_type == "application/pdf"
    assert info.text("en") == "PDF, 240\u00a0KB"
    assert info.text("ru") == "PDF, 240\u00a0КБ"
    assert info.text("kk") == info.text("en")
    assert photos.size_text(812, "ru") == "812\u00a0Б"
    assert photos.size_text(int(1.44 * 1024 * 1024), "en") == "1.4\u00a0MB"
    assert photos.size_text(int(1.44 * 1024 * 1024), "ru") == "1,4\u00a0МБ"
    assert photos.size_text(24 * 1024 * 1024 + 5, "en") == "24\u00a0MB"


@pytest.mark.parametrize(
    ("data", "name", "words", "hint"),
    [
        (DOCX, "statement.pdf", "is named .pdf but is a DOCX file", "rename it statement.docx"),
        (PDF, "statement.docx", "is named .docx but is a PDF file", "rename it statement.pdf"),
        (b"<html>not a pdf</html>", "statement.pdf", "is not a PDF file", "save it again as PDF"),
        (b"PK\x03\x04broken", "statement.docx", "is not a DOCX file", "save it again as DOCX"),
        (DOC, "statement.docx", "is not a DOCX file", "save it again as DOCX"),
        (b"", "statement.pdf", "is empty", "copy"),
        (b"MZ\x90\x00", "setup.exe", "is not a document the site publishes", "PDF, DOCX, XLSX"),
        (PDF, "statement", "is not a document the site publishes", "PDF"),
    ],
)
def test_a_bad_document_is_a_problem(data, name, words, hint):
    problem = document_info(data, name)
    assert isinstance(problem, FileProblem), problem
    assert words in problem.message and name in problem.message and hint in problem.hint


def test_a_document_over_50_mb_is_refused():
    assert DOCUMENT_LIMIT == 50 * 1024 * 1024
    assert isinstance(document_info(PDF + bytes(DOCUMENT_LIMIT - len(PDF)), "a.pdf"), DocumentInfo)
    problem = document_info(PDF + bytes(DOCUMENT_LIMIT - len(PDF) + 1), "a.pdf")
    assert isinstance(problem, FileProblem) and problem.message == (
        "a.pdf is too large (52,428,801 bytes): a document may have up to 50\u00a0MB"
    )
