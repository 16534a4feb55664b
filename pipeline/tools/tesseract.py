"""Tesseract: installed language data, version, one page's hOCR, one page's orientation (OSD).

Scanned pages are OCR'd here one page per run (:mod:`pipeline.ocr.pagewise`); OCRmyPDF runs its own Tesseract
for the PDFs that take the longer road (:mod:`pipeline.ocr.runner`)."""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

from pipeline.tools.run import ToolError, first_line, run
from pipeline.tools.run import version as _version

LIST_TIMEOUT_S = 30.0


@cache
def languages() -> frozenset[str]:
    """Installed Tesseract languages (``tesseract --list-langs``), cached per process.
    Raises ToolError when tesseract is missing or fails."""
    done = run(["tesseract", "--list-langs"], timeout=LIST_TIMEOUT_S)
    if done.returncode != 0:
        raise ToolError(f"tesseract --list-langs failed: {first_line(done.stderr)}")
    # First line: 'List of available languages in "/usr/share/tesseract-ocr/5/tessdata/" (3):'
    return frozenset(ln.strip() for ln in done.stdout.splitlines()[1:] if ln.strip())


def version() -> str:
    return _version("tesseract")


def hocr(image: Path, out_base: Path, language: str, dpi: int, timeout: float) -> tuple[Path, Path]:
    """OCR one page image: ``out_base``.hocr (words, confidences, line baselines) and ``out_base``.pdf, Tesseract's
    text-only PDF page (the invisible text over the page, in its glyphless font) from the same run. Layout analysis
    as Tesseract's default (``--psm 3``); ``dpi`` is the scan's resolution. Raises ToolError when it fails."""
    done = run(["tesseract", str(image), str(out_base), "--dpi", str(dpi), "-l", language, "--psm", "3",
                "-c", "textonly_pdf=1", "hocr", "pdf"], timeout=timeout)
    words, layer = out_base.with_suffix(".hocr"), out_base.with_suffix(".pdf")
    if done.returncode != 0 or not words.is_file() or not layer.is_file():
        raise ToolError(f"tesseract failed on {image.name}: {first_line(done.stderr)}")
    return words, layer


_ROTATE = re.compile(r"Rotate:\s*(\d+)")
_CONFIDENCE = re.compile(r"Orientation confidence:\s*([\d.]+)")


def orientation(image: Path, dpi: int, timeout: float) -> tuple[int, float]:
    """Tesseract's orientation detection (``--psm 0``, the ``osd`` model): the clockwise turn in degrees that
    makes the page upright, and its confidence. (0, 0.0) when it cannot tell (too little text)."""
    done = run(["tesseract", str(image), "-", "--dpi", str(dpi), "--psm", "0", "-l", "osd"], timeout=timeout)
    turn, said = _ROTATE.search(done.stdout), _CONFIDENCE.search(done.stdout)
    if done.returncode != 0 or turn is None or said is None:
        return 0, 0.0
    return int(turn.group(1)) % 360, float(said.group(1))
