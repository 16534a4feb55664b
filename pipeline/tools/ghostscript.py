"""Ghostscript (``gs``): version probe (OCRmyPDF runs it for PDF/A conversion)."""

from __future__ import annotations

from pipeline.tools.run import version as _version


def version() -> str:
    return _version("gs")
