"""Versions of the tools that shaped an output file; recorded in pipeline events for reproducibility."""

from __future__ import annotations

from collections.abc import Callable
from functools import cache

import ocrmypdf
import pikepdf

from pipeline.tools import ghostscript, tesseract
from pipeline.tools.run import ToolError


def _probe(version: Callable[[], str]) -> str:
    try:
        return version()
    except ToolError as exc:
        return "missing" if "not installed" in str(exc) else "unknown"


def tool_versions() -> dict[str, str]:
    """ocrmypdf, tesseract, ghostscript, pikepdf (and the qpdf library under it); a fresh dict."""
    return dict(_versions())


@cache
def _versions() -> tuple[tuple[str, str], ...]:
    return tuple(
        {
            "ocrmypdf": ocrmypdf.__version__,
            "tesseract": _probe(tesseract.version),
            "ghostscript": _probe(ghostscript.version),
            "pikepdf": pikepdf.__version__,
            "qpdf": pikepdf.__libqpdf_version__,
        }.items()
    )
