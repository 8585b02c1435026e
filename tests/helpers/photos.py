"""Photos and documents drawn by code for the tests: shapes on a ground, with the metadata a camera writes."""

from __future__ import annotations

import io
import runpy
from pathlib import Path

from PIL import Image, ImageDraw

GPS_IFD = 0x8825
# The sample's drawing script (tools/ is not a package): its PDF writer serves the tests too.
SAMPLE_MEDIA = runpy.run_path(str(Path(__file__).resolve().parents[2] / "tools" / "sample_media.py"))
ORIENTATION = 0x0112


def drawn_photo(width: int, height: int, seed: int = 0, orientation: int = 1, gps: bool = True) -> bytes:
    """Draw a JPEG of shapes, with EXIF as a phone writes it: an orientation, a camera model and a GPS position."""
    image = Image.new("RGB", (width, height), (30 + seed * 40 % 200, 70, 120))
    draw = ImageDraw.Draw(image)
    draw.ellipse((width // 5, height // 5, width * 3 // 5, height * 4 // 5), fill=(230, 190, 60))
    draw.rectangle((width * 3 // 5, height // 3, width * 9 // 10, height * 9 // 10), fill=(200, 60, 50))
    exif = Image.Exif()
    exif[ORIENTATION] = orientation
    exif[0x0110] = "Test Camera"
    if gps:
        exif.get_ifd(GPS_IFD).update({1: "N", 2: (55.0, 45.0, 7.0), 3: "E", 4: (37.0, 37.0, 1.0)})
    out = io.BytesIO()
    image.save(out, "JPEG", quality=85, exif=exif)
    return out.getvalue()


def drawn_pdf(text: str = "Sample document") -> bytes:
    """Write a one-page PDF with one line of text, with the PDF writer of the sample's drawing script."""
    return SAMPLE_MEDIA["pdf_page"](f"BT /F1 18 Tf 72 720 Td ({text}) Tj ET".encode())


BUNDLE = "alpha/2024/2024-06-01-graduates"
ITEM = """---
title: Graduates visit the Secretariat
date: 2024-06-01 10:00
image:
  file: group.jpg
  alt: The graduates in front of the Secretariat
  caption: The graduates of the course
  credit: Sample material drawn by the test
gallery:
  - file: hall.jpg
    alt: The conference hall
    caption: The hall
attachments:
  - file: statement.pdf
    title: Joint statement
---
The graduates came to the Secretariat.

![The table of the meeting](<Стол переговоров.jpg>)
"""
ITEM_RU = """---
title: Выпускники посетили Секретариат
date: 2024-06-01 10:00
image:
  alt: Выпускники перед зданием Секретариата
  caption: Выпускники курса
---
Выпускники пришли в Секретариат.
"""


def add_bundle(content: Path) -> Path:
    """Add an item that is a folder, with its translation, three photos (one turned by EXIF) and a PDF."""
    folder = content / BUNDLE
    folder.mkdir(parents=True)
    (folder / "index.md").write_text(ITEM, encoding="utf-8")
    (folder / "index.ru.md").write_text(ITEM_RU, encoding="utf-8")
    (folder / "group.jpg").write_bytes(drawn_photo(1800, 1200))
    # Stored sideways as a camera held upright stores it: 600x900 once turned.
    (folder / "hall.jpg").write_bytes(drawn_photo(900, 600, seed=1, orientation=6))
    (folder / "Стол переговоров.jpg").write_bytes(drawn_photo(700, 500, seed=2))
    (folder / "statement.pdf").write_bytes(drawn_pdf())
    return folder
