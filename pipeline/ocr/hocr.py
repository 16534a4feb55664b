"""Per-page OCR confidence from Tesseract's hOCR (``x_wconf`` of each ``ocrx_word``)."""

from __future__ import annotations

import re
from pathlib import Path

_WORD = re.compile(r"<span class=['\"]ocrx_word['\"][^>]*?x_wconf (\d+)")


def mean_word_confidence(hocr: Path) -> float | None:
    """Mean word confidence 0..100, or None if Tesseract found no words on the page."""
    values = [int(v) for v in _WORD.findall(hocr.read_text(encoding="utf-8", errors="replace"))]
    if not values:
        return None
    return round(sum(values) / len(values), 2)
