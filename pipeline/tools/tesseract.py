"""Tesseract: installed language data and version (OCR itself runs inside OCRmyPDF)."""

from __future__ import annotations

from functools import cache

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
