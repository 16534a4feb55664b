"""Per-page OCR confidence from Tesseract's hOCR (``x_wconf`` of each ``ocrx_word``), and its words."""

from __future__ import annotations

import html
import re
from pathlib import Path

_WORD = re.compile(r"<span class=['\"]ocrx_word['\"][^>]*?x_wconf (\d+)")


def mean_word_confidence(hocr: Path) -> float | None:
    """Mean word confidence 0..100, or None if Tesseract found no words on the page."""
    values = [int(v) for v in _WORD.findall(hocr.read_text(encoding="utf-8", errors="replace"))]
    if not values:
        return None
    return round(sum(values) / len(values), 2)


_WORD_TEXT = re.compile(r"<span class=['\"]ocrx_word['\"][^>]*>(.*?)</span>", re.DOTALL)
_TAG = re.compile(r"<[^>]+>")


def words(hocr: Path) -> list[str]:
    """The page's words in reading order (markup removed, entities decoded)."""
    text = hocr.read_text(encoding="utf-8", errors="replace")
    return [html.unescape(_TAG.sub("", w)).strip() for w in _WORD_TEXT.findall(text)]
