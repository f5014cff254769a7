"""`tongchou report`: the month, its flags, and the PDF read back with poppler."""

from __future__ import annotations

import subprocess
from pathlib import Path

from PIL import Image

from tests.e2e.conftest import launch
from tests.web.conftest import system_tool

__all__ = ["launch", "page_count", "pages_inked", "pdf_text"]


def page_count(pdf: Path) -> int:
    info = subprocess.run(
        [system_tool("pdfinfo", "poppler-utils"), str(pdf)],
        capture_output=True,
        text=True,
        check=True,
        timeout=30,
    ).stdout
    (line,) = [x for x in info.splitlines() if x.startswith("Pages:")]
    return int(line.split()[1])


def pages_inked(pdf: Path, out: Path) -> list[float]:
    """Each page drawn by pdftoppm, and how much of it is not white (0 to 1)."""
    out.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [system_tool("pdftoppm", "poppler-utils"), "-r", "40", "-png", str(pdf), str(out / "p")],
        check=True,
        timeout=60,
    )
    inked = []
    for png in sorted(out.glob("p-*.png")):
        with Image.open(png) as image:
            grey = image.convert("L")
            histogram = grey.histogram()
            dark = sum(histogram[:230]) / max(sum(histogram), 1)
            inked.append(dark)
    return inked


def pdf_text(pdf: Path) -> str:
    return subprocess.run(
        [system_tool("pdftotext", "poppler-utils"), "-layout", str(pdf), "-"],
        capture_output=True,
        text=True,
        check=True,
        timeout=30,
    ).stdout
