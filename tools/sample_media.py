"""Draw the sample site's pictures and its sample document: made by code, so no photograph is copied from anywhere.

    PYTHONPATH=src python tools/sample_media.py          # (re)write them into content/

The pictures are simple shapes (a table, chairs, people as circles) standing in for press photos, and
the captions of the sample items say so; the PDF says it is a sample, not a document of the CSTO. The
output is the same bytes every run, so running it again changes nothing in git.
"""

from __future__ import annotations

import io
import sys
from pathlib import Path

from PIL import Image, ImageDraw

ROOT = Path(__file__).resolve().parents[1]
CONTENT = ROOT / "content"
INK = (36, 52, 84)
PALETTE = ((214, 168, 74), (120, 150, 190), (170, 90, 80), (90, 140, 110), (150, 120, 170))


def meeting(width: int, height: int, people: int, wall: tuple[int, int, int]) -> bytes:
    """Draw a meeting seen across a table: a wall, a window, a long table and people as circles."""
    image = Image.new("RGB", (width, height), wall)
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, height * 2 // 3, width, height), fill=(120, 96, 72))  # the floor
    draw.rectangle((width // 12, height // 10, width // 3, height // 2), fill=(200, 220, 236), outline=INK, width=6)
    draw.line((width * 5 // 24, height // 10, width * 5 // 24, height // 2), fill=INK, width=6)
    step = width // (people + 1)
    for n in range(people):
        x = step * (n + 1)
        colour = PALETTE[n % len(PALETTE)]
        draw.ellipse(
            (x - height // 14, height * 3 // 10, x + height // 14, height * 3 // 10 + height // 7), fill=colour
        )
        draw.rounded_rectangle((x - height // 9, height * 9 // 20, x + height // 9, height * 3 // 4), 30, fill=INK)
    draw.rectangle((width // 20, height * 5 // 8, width * 19 // 20, height * 3 // 4), fill=(92, 64, 44))  # table
    out = io.BytesIO()
    image.save(out, "JPEG", quality=88, optimize=True)
    return out.getvalue()


def pdf(lines: list[str]) -> bytes:
    """Write a one-page A4 PDF with lines of text in Helvetica (ASCII only, as the standard font has)."""
    text = " ".join(f"({line}) Tj 0 -24 Td" for line in lines)
    return pdf_page(f"BT /F1 14 Tf 72 760 Td {text} ET".encode("ascii"))


def pdf_page(stream: bytes) -> bytes:
    """Write a one-page A4 PDF drawing `stream` (PDF text operators) with Helvetica as font F1."""
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R"
        b" /Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


FILES = {
    "csto-news/2024/2024-07-25-international-school-of-diplomacy/sample-meeting.jpg": lambda: meeting(
        1600, 1067, 6, (226, 222, 210)
    ),
    "csto-news/2024/2024-07-25-international-school-of-diplomacy/sample-hall.jpg": lambda: meeting(
        1200, 800, 9, (214, 224, 232)
    ),
    "csto-news/2021/2021-06-22-zas-meets-schmid/sample-talks.jpg": lambda: meeting(1600, 1067, 2, (232, 226, 214)),
    "speeches/2024/2024-07-19-statement-at-the-un-security-council/sample-attachment.pdf": lambda: pdf(
        [
            "Sample attachment of the csto_site demonstration site.",
            "It is not a document of the CSTO or of the United Nations.",
            "It was written by tools/sample_media.py to show how an item",
            "lists a document with its type and size.",
        ]
    ),
}


def main(content: Path = CONTENT) -> int:
    """Write every sample file into the content folder's item folders."""
    for rel, make in FILES.items():
        path = content / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(make())
    return 0


if __name__ == "__main__":
    sys.exit(main())
