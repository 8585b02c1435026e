"""Choose the photo library by measuring: Pillow against pyvips, on 24 MP JPEGs drawn by code.

    python bench/photos.py                          # 3 fresh processes per library, then the quality table
    python bench/photos.py --runs 1 --size 1200x800 # a quick look

Draws two photos of a press camera's size (6000×4000, JPEG quality 92, about 7 MB): a landscape one,
and the same scene as a camera in portrait stores it, on its side with EXIF orientation 6, a GPS
position, XMP and a comment. The scene is coloured shapes, half of them under noise at every scale,
so it compresses like a photo at every width. For each library, in a fresh process per run, it makes
every variant csto_site publishes (the widths and qualities of csto_site.output.photos.Settings, in
AVIF, WebP and JPEG, one thread) and prints the median CPU and wall time, the peak memory (RSS), the
bytes made, and whether every run gave the same bytes. Then it prints Pillow's bytes against quality
for each format around the chosen settings: SSIMULACRA2 of the 1200 px variant against the unencoded
one (30 is low quality, 50 medium, 70 high, 90 visually lossless), the table the settings were chosen
by. pyvips is measured if installed (pip install pyvips pyvips-binary); the quality table needs the
bench extras (pip install -e '.[bench]', which brings ssimulacra2).
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.util
import io
import json
import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageChops, ImageDraw, ImageFilter

from csto_site.output.photos import SETTINGS, variant_widths

PORTRAIT = 6  # EXIF orientation: stored on its side, shown turned 90° clockwise
# The settings the quality table compares: each format's quality around csto_site's, and the effort.
QUALITIES = (
    ("AVIF", {"quality": 50, "speed": 9}),
    ("AVIF", {"quality": 60, "speed": 9}),
    ("AVIF", {"quality": 70, "speed": 9}),
    ("AVIF", {"quality": 60, "speed": 6}),
    ("WEBP", {"quality": 75, "method": 5}),
    ("WEBP", {"quality": 80, "method": 5}),
    ("WEBP", {"quality": 85, "method": 5}),
    ("WEBP", {"quality": 80, "method": 4}),
    ("WEBP", {"quality": 80, "method": 6}),
    ("JPEG", {"quality": 65}),
    ("JPEG", {"quality": 70}),
    ("JPEG", {"quality": 80}),
)
# What each format is saved with besides its quality setting, as csto_site saves it.
ENCODER_OPTIONS: dict[str, dict[str, object]] = {
    "AVIF": {"max_threads": 1},
    "JPEG": {"optimize": True, "progressive": True},
}


def texture(width: int, height: int) -> Image.Image:
    """Draw noise at every scale from an eighth of the picture to one pixel, as foliage, cloth and faces have."""
    out = Image.new("L", (width, height), 128)
    size, layers = 8, []
    while size < width:
        small = Image.effect_noise((size, max(1, size * height // width)), 64)
        layers.append(small.resize((width, height), Image.Resampling.BICUBIC))
        size *= 4
    layers.append(Image.effect_noise((width, height), 40))
    for i, layer in enumerate(layers):
        out = Image.blend(out, layer, 1 / (i + 1.5))
    return out


def draw_photo(width: int, height: int, seed: int) -> Image.Image:
    """Draw a photo-like scene: gradients and soft shapes at a quarter size, scaled up, half of it textured."""
    rnd = random.Random(seed)
    small = (max(1, width // 4), max(1, height // 4))
    bands = [
        Image.blend(
            Image.linear_gradient("L").rotate(rnd.uniform(0, 360)).resize(small),
            Image.radial_gradient("L").resize(small),
            rnd.uniform(0.2, 0.6),
        )
        for _ in range(3)
    ]
    scene = Image.merge("RGB", bands)
    # Where the texture shows: in about half of the picture, like faces and clothes against walls and sky.
    mask = Image.new("L", small, 0)
    for canvas in (ImageDraw.Draw(scene), ImageDraw.Draw(mask)):
        for _ in range(40):
            x, y = rnd.randrange(small[0]), rnd.randrange(small[1])
            rx, ry = rnd.randrange(1, small[0] // 5 + 2), rnd.randrange(1, small[1] // 5 + 2)
            colour = tuple(rnd.randrange(40, 220) for _ in range(3)) if canvas.im.mode == "RGB" else 255
            shape = canvas.ellipse if rnd.random() < 0.5 else canvas.rectangle
            shape((x - rx, y - ry, x + rx, y + ry), fill=colour)
    scene = scene.filter(ImageFilter.GaussianBlur(2)).resize((width, height), Image.Resampling.BICUBIC)
    mask = mask.filter(ImageFilter.GaussianBlur(4)).resize((width, height), Image.Resampling.BILINEAR)
    grain = Image.composite(texture(width, height), Image.new("L", (width, height), 128), mask)
    return Image.merge("RGB", [ImageChops.add(band, grain, 1.0, -128) for band in scene.split()])


def camera_jpeg(image: Image.Image, orientation: int = 1) -> bytes:
    """Save as a camera does: quality 92, with EXIF (orientation, camera, GPS position), XMP and a comment."""
    exif = Image.Exif()
    exif[0x0112] = orientation
    exif[0x010F], exif[0x0110] = "Bench Camera", "BC-24"
    exif[0x0132] = "2024:07:25 10:30:00"
    gps = exif.get_ifd(0x8825)
    gps.update({1: "N", 2: (55.0, 45.0, 21.0), 3: "E", 4: (37.0, 37.0, 4.0)})
    xmp = (
        b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
        b'<rdf:Description xmlns:exif="http://ns.adobe.com/exif/1.0/" exif:GPSLatitude="55,45.35N"/>'
        b"</rdf:RDF></x:xmpmeta>"
    )
    out = io.BytesIO()
    image.save(out, "JPEG", quality=92, exif=exif, xmp=xmp, comment=b"Bench photo, near 55.756 N 37.617 E")
    return out.getvalue()


def make_photos(folder: Path, width: int, height: int) -> dict[str, Path]:
    """Write the landscape photo and the portrait one stored on its side; return them by label."""
    scene = draw_photo(width, height, 1)
    photos = {"landscape": camera_jpeg(scene), "portrait, EXIF 6 + GPS": camera_jpeg(scene, PORTRAIT)}
    paths = {}
    for i, (label, data) in enumerate(photos.items()):
        paths[label] = folder / f"photo{i}.jpg"
        paths[label].write_bytes(data)
    return paths


def pillow_variants(data: bytes) -> list[bytes]:
    """Make the variants as csto_site does."""
    from csto_site.output.photos import variants

    made = variants(data, "photo.jpg")
    assert isinstance(made, list), made
    return [v.data for v in made]


def pyvips_variants(data: bytes) -> list[bytes]:
    """Make the same variants with pyvips: shrink-on-load, turned upright, sRGB, no metadata."""
    import pyvips

    header = pyvips.Image.new_from_buffer(data, "", access="sequential", autorotate=True)
    widths = variant_widths(header.width, SETTINGS.widths)
    largest = pyvips.Image.thumbnail_buffer(
        data, widths[-1], height=10**6, size="down", export_profile="srgb"
    ).copy_memory()
    s = SETTINGS
    made = []
    for width in widths:
        picture = largest if width == largest.width else largest.resize(width / largest.width, kernel="lanczos3")
        made += [
            picture.heifsave_buffer(Q=s.avif_quality, effort=9 - s.avif_speed, compression="av1", keep=0),
            picture.webpsave_buffer(Q=s.webp_quality, effort=s.webp_method, keep=0),
            picture.jpegsave_buffer(Q=s.jpeg_quality, optimize_coding=True, interlace=True, keep=0),
        ]
    return made


def child(library: str, path: Path) -> None:
    """Make one photo's variants in this fresh process and print what it cost as JSON."""
    make = {"pillow": pillow_variants, "pyvips": pyvips_variants}[library]
    data = path.read_bytes()
    make(_tiny_jpeg())  # import the library and warm it up on a tiny photo
    before = resource.getrusage(resource.RUSAGE_SELF)
    start = time.perf_counter()
    outputs = make(data)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_SELF)
    cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    print(
        json.dumps(
            {
                "wall": wall,
                "cpu": cpu,
                "rss_mib": peak_rss() / 1024,
                "bytes": sum(map(len, outputs)),
                "count": len(outputs),
                "digest": hashlib.sha256(b"".join(outputs)).hexdigest(),
            }
        )
    )


def peak_rss() -> int:
    """Return this process's peak resident memory in KiB (ru_maxrss would count the parent's before exec)."""
    status = Path("/proc/self/status").read_text()
    return int(next(line.split()[1] for line in status.splitlines() if line.startswith("VmHWM:")))


def _tiny_jpeg() -> bytes:
    """Return a small JPEG to import and warm up a library on."""
    out = io.BytesIO()
    Image.new("RGB", (64, 48), (90, 120, 150)).save(out, "JPEG")
    return out.getvalue()


@dataclass(frozen=True)
class Measured:
    """One library on one photo: median times, the largest peak memory, the variants, and whether runs agreed."""

    wall: float
    cpu: float
    rss_mib: float
    bytes: int
    count: int
    same: bool


def measure(library: str, path: Path, runs: int) -> Measured | str:
    """Run the child `runs` times; return the medians and whether every run made the same bytes."""
    results = []
    for _ in range(runs):
        done = subprocess.run(
            [sys.executable, __file__, "--child", library, str(path)],
            capture_output=True,
            text=True,
            check=False,
            env={**os.environ, "VIPS_CONCURRENCY": "1"},
        )
        if done.returncode:
            return done.stderr.strip().splitlines()[-1]
        results.append(json.loads(done.stdout))
    return Measured(
        wall=statistics.median(r["wall"] for r in results),
        cpu=statistics.median(r["cpu"] for r in results),
        rss_mib=max(r["rss_mib"] for r in results),
        bytes=results[0]["bytes"],
        count=results[0]["count"],
        same=len({r["digest"] for r in results}) == 1,
    )


def quality_rows(path: Path) -> list[str]:
    """Encode the photo's variants with Pillow at each setting; return rows of bytes, SSIMULACRA2 and time."""
    from ssimulacra2 import compute_ssimulacra2

    source = Image.open(path)
    widths = variant_widths(source.width, SETTINGS.widths)
    source.draft("RGB", (widths[-1], 1))  # decoded at the smallest scale above the widest variant, as csto_site does
    pictures = {
        w: source.resize((w, round(source.height * w / source.width)), Image.Resampling.LANCZOS) for w in widths
    }
    scored = min(widths, key=lambda w: abs(w - 1200))  # the og:image width, or the nearest a small photo has
    reference = io.BytesIO()
    pictures[scored].save(reference, "PNG")
    rows = []
    for fmt, setting in QUALITIES:
        extra = ENCODER_OPTIONS.get(fmt, {})
        total, score, seconds = 0, 0.0, 0.0
        for width, picture in pictures.items():
            out = io.BytesIO()
            start = time.process_time()
            picture.save(out, fmt, **setting, **extra)
            seconds += time.process_time() - start
            total += out.tell()
            if width == scored:
                reference.seek(0)
                out.seek(0)
                score = compute_ssimulacra2(reference, out)
        label = ", ".join(f"{key} {value}" for key, value in setting.items())
        rows.append(f"| {fmt} | {label} | {total / 1000:.0f} KB | {score:.1f} | {seconds:.2f} s |")
    return rows


def main() -> None:
    """Print the comparison and the quality table."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3, help="fresh processes per library and photo (median shown)")
    parser.add_argument("--size", default="6000x4000", help="the photos' size, WIDTHxHEIGHT")
    parser.add_argument("--child", nargs=2, metavar=("LIBRARY", "PHOTO"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child[0], Path(args.child[1]))
        return
    width, height = map(int, args.size.split("x"))
    with tempfile.TemporaryDirectory() as folder:
        photos = make_photos(Path(folder), width, height)
        print(
            f"{width}×{height} JPEG, {photos['landscape'].stat().st_size / 1e6:.1f} MB; widths "
            f"{', '.join(map(str, SETTINGS.widths))}; AVIF, WebP, JPEG; one thread (VIPS_CONCURRENCY=1)\n"
        )
        print("| library | photo | CPU | wall | peak RSS | variants | bytes | same bytes twice |")
        print("| --- | --- | ---: | ---: | ---: | ---: | ---: | --- |")
        for library in ("pillow", "pyvips"):
            for label, path in photos.items():
                m = measure(library, path, args.runs)
                if isinstance(m, str):
                    print(f"| {library} | {label} | not measured: {m} |")
                    continue
                print(
                    f"| {library} | {label} | {m.cpu:.2f} s | {m.wall:.2f} s | {m.rss_mib:.0f} MiB "
                    f"| {m.count} | {m.bytes / 1000:.0f} KB | {'yes' if m.same else 'NO'} |"
                )
        if importlib.util.find_spec("ssimulacra2") is None:
            print("\nThe quality table needs ssimulacra2: pip install -e '.[bench]'")
            return
        print(
            "\nPillow: bytes of the variants against quality (SSIMULACRA2 of the 1200 px variant; 70 is high quality,"
            " 90 visually lossless), one thread\n"
        )
        print("| format | setting | bytes of all widths | SSIMULACRA2 at 1200 px | CPU |")
        print("| --- | --- | ---: | ---: | ---: |")
        print("\n".join(quality_rows(photos["landscape"])))


if __name__ == "__main__":
    main()
