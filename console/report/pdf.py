"""HTML to PDF with headless chromium (`--print-to-pdf`): the browser that sets Chinese in
the system's fonts (fonts-wqy-zenhei or fonts-noto-cjk) the way a reader's browser would."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

BROWSERS = ("chromium", "chromium-browser", "google-chrome", "chrome")


class PdfError(Exception):
    """No browser, or the browser failed; the message says what to do."""


def find_browser(given: str = "") -> str:
    """The browser to print with: `given`, $TONGCHOU_CHROMIUM, or the first on PATH."""
    if given:
        found = shutil.which(given)
        if found is None:
            raise PdfError(f"--chromium {given}: no such program")
        return found
    for name in (os.environ.get("TONGCHOU_CHROMIUM", ""), *BROWSERS):
        if name and (path := shutil.which(name)):
            return path
    raise PdfError(
        "no chromium to print the PDF with: install it (Debian: apt-get install chromium "
        "fonts-wqy-zenhei), give --chromium PATH, or write HTML with -o report.html"
    )


def html_to_pdf(html: str, out: Path, browser: str, timeout: float = 120.0) -> None:
    """Prints `html` to `out` (written whole or not at all)."""
    with tempfile.TemporaryDirectory(prefix="tongchou-report-") as tmp:
        page = Path(tmp) / "report.html"
        page.write_text(html, encoding="utf-8")
        printed = Path(tmp) / "report.pdf"
        command = [
            browser,
            "--headless",
            "--disable-gpu",
            "--no-pdf-header-footer",
            f"--user-data-dir={tmp}/profile",
            f"--print-to-pdf={printed}",
            page.as_uri(),
        ]
        if os.geteuid() == 0:  # chromium's sandbox refuses root; the page is our own file
            command.insert(1, "--no-sandbox")
        try:
            done = subprocess.run(
                command, capture_output=True, text=True, timeout=timeout, check=False
            )
        except subprocess.TimeoutExpired as err:
            raise PdfError(f"{browser} did not print the report in {timeout:.0f} s") from err
        if done.returncode != 0 or not printed.is_file() or printed.stat().st_size == 0:
            said = (done.stderr or done.stdout).strip().splitlines()[-3:]
            raise PdfError(f"{browser} could not print the report: {' '.join(said)}")
        partial = out.with_name(out.name + ".part")
        shutil.copyfile(printed, partial)
        partial.replace(out)
