"""Versions of the tools that shaped an output file; recorded in pipeline events for reproducibility."""

from __future__ import annotations

import re
import shutil
import subprocess
from functools import cache

import ocrmypdf
import pikepdf


def _first_version(cmd: list[str]) -> str:
    if not shutil.which(cmd[0]):
        return "missing"
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=30, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return "unknown"
    match = re.search(r"\d+(\.\d+)+", done.stdout + done.stderr)
    return match.group(0) if match else "unknown"


def tool_versions() -> dict[str, str]:
    """ocrmypdf, tesseract, ghostscript, pikepdf (and the qpdf library under it); a fresh dict."""
    return dict(_versions())


@cache
def _versions() -> tuple[tuple[str, str], ...]:
    return tuple(
        {
            "ocrmypdf": ocrmypdf.__version__,
            "tesseract": _first_version(["tesseract", "--version"]),
            "ghostscript": _first_version(["gs", "--version"]),
            "pikepdf": pikepdf.__version__,
            "qpdf": pikepdf.__libqpdf_version__,
        }.items()
    )
