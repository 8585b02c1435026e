"""Time one new item with ten press-camera photos: the rebuild that makes their variants, and the next one.

    python bench/photo_item.py                      # 10 photos of 6000x4000 (24 MP), --jobs as the machine has
    python bench/photo_item.py --photos 2 --size 1200x800   # a quick look

The sample site is copied and built once (not timed). Then an item that is a folder, with ten 24 MP JPEGs
as a camera writes them (EXIF with GPS, XMP, a comment; bench/photos.py draws the scene), is added and
the site rebuilt: the time is the whole process's, as a user runs `csto-site build`, and the peak memory
the largest resident set of any of its processes. Then the item's text is edited and the site rebuilt:
no photo is made again. Last, the page weight of the item page for a phone 390 px wide: its HTML and
stylesheet as sent (brotli) and the lead photo's variant a browser picks there.
"""

from __future__ import annotations

import argparse
import io
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from photos import draw_photo

ROOT = Path(__file__).resolve().parents[1]
ITEM = "csto-news/2024/2024-07-26-photo-bench"
TEXT = """---
title: Photo bench item
date: 2024-07-26 10:00
image:
  file: photo-0.jpg
  alt: A drawn scene of shapes
gallery:
{gallery}
---
An item with {n} photos of a press camera's size.
"""


def build(content: Path, out: Path, cache: Path, jobs: int) -> tuple[float, float, int]:
    """Run one build as a user does; return its wall and CPU time and the peak RSS (MiB) of any of its processes."""
    command = [sys.executable, str(ROOT / "build.py"), "--content", str(content), "--out", str(out)]
    command += ["--cache", str(cache), "--templates", str(ROOT / "templates"), "--static", str(ROOT / "static")]
    command += ["--no-search", "--quiet", "--jobs", str(jobs)]
    env = dict(os.environ, PYTHONPATH=str(ROOT / "src"))
    start = time.perf_counter()
    process = subprocess.Popen(command, env=env)
    _, status, usage = os.wait4(process.pid, 0)
    elapsed = time.perf_counter() - start
    if status != 0:
        raise SystemExit(f"the build failed ({status})")
    return elapsed, usage.ru_utime + usage.ru_stime, usage.ru_maxrss // 1024


def camera_photo(scene: object, number: int) -> bytes:
    """Save the scene as a camera does, each photo with its own bytes (a different comment)."""
    from PIL import Image

    assert isinstance(scene, Image.Image)
    exif = Image.Exif()
    exif[0x0110] = "Bench Camera"
    exif.get_ifd(0x8825).update({1: "N", 2: (55.0, 45.0, 21.0), 3: "E", 4: (37.0, 37.0, 4.0)})
    out = io.BytesIO()
    scene.save(out, "JPEG", quality=92, exif=exif, comment=f"photo {number}".encode())
    return out.getvalue()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--photos", type=int, default=10)
    parser.add_argument("--size", default="6000x4000")
    parser.add_argument("--jobs", type=int, default=len(os.sched_getaffinity(0)))
    parser.add_argument("--draw-into", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    width, height = (int(v) for v in args.size.split("x"))
    if args.draw_into:
        scene = draw_photo(width, height, 1)
        for n in range(args.photos):
            (args.draw_into / f"photo-{n}.jpg").write_bytes(camera_photo(scene, n))
        return
    with tempfile.TemporaryDirectory() as folder:
        tmp = Path(folder)
        content, out, cache = tmp / "content", tmp / "public", tmp / "cache"
        shutil.copytree(ROOT / "content", content)
        build(content, out, cache, args.jobs)
        bundle = content / ITEM
        bundle.mkdir(parents=True)
        # Drawn in another process: a build started from this one would count its memory as the build's
        # (the peak resident set of a process includes what it had before it ran another program).
        drawing = [sys.executable, __file__, "--photos", str(args.photos), "--size", args.size]
        subprocess.run([*drawing, "--draw-into", str(bundle)], check=True)
        gallery = "\n".join(f"  - file: photo-{n}.jpg\n    alt: Photo {n}" for n in range(1, args.photos))
        (bundle / "index.md").write_text(TEXT.format(gallery=gallery, n=args.photos), encoding="utf-8")
        megabytes = sum(p.stat().st_size for p in bundle.glob("*.jpg")) / 1e6
        print(f"{args.photos} photos of {width}x{height} ({megabytes:.0f} MB), {args.jobs} processes")
        seconds, cpu, peak = build(content, out, cache, args.jobs)
        print(f"rebuild with the new item and its photos: {seconds:.1f} s ({cpu:.1f} s CPU), peak memory {peak} MiB")
        index = bundle / "index.md"
        index.write_text(index.read_text(encoding="utf-8").replace("An item", "One item"), encoding="utf-8")
        seconds, cpu, peak = build(content, out, cache, args.jobs)
        print(f"rebuild after editing its text (no photo made again): {seconds:.1f} s ({cpu:.1f} s CPU), {peak} MiB")
        page = out / "news/2024/07/26/photo-bench-item"
        html = (page / "index.html.br").stat().st_size
        css = sum(p.stat().st_size for p in (out / "static").glob("style.*.css.br"))
        # 390 px wide, the column is 100vw - 2rem = 358 CSS px: the 480 px variant at 1x, AVIF in Chromium.
        photo = (page / "photo-0.480.avif").stat().st_size
        print(f"item page at 390 px: HTML {html / 1024:.1f} KB + CSS {css / 1024:.1f} KB (brotli)")
        print(f"  + lead photo {photo / 1024:.1f} KB (photo-0.480.avif; 800w at 2x)")


if __name__ == "__main__":
    main()
