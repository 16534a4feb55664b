"""OCR + PDF/A stage: document pages in, PDF/A-2b file + per-page NFC text and OCR confidence out.

Wraps OCRmyPDF/Tesseract (runner, hocr), img2pdf (images), pikepdf (pdfprep, validate) and pdfium
(text); all their quirks live in those modules. Knows nothing about scanning, signing or storage.

Names load on first use (PEP 562): a CLI command that never converts or signs does not pay for
OCRmyPDF and pyHanko at start-up (measured: `archive --help` 3.7 s, 2.5 s of it imports).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pipeline.core.lazy import lazy_names

if TYPE_CHECKING:
    from pipeline.ocr.convert import make_pdfa
    from pipeline.ocr.features import PdfFeatures, inspect_features
    from pipeline.ocr.pagecheck import PageCheck, PageMismatch, check_pages
    from pipeline.ocr.reasons import Reason, RenditionFailed
    from pipeline.ocr.text import page_texts
    from pipeline.ocr.textonly import pages_for_search, read_pages
    from pipeline.ocr.types import OcrError, OcrRequest, OcrResult, PageText
    from pipeline.ocr.validate import check_pdfa, claimed_pdfa
    from pipeline.ocr.versions import tool_versions

_WHERE = {  # name → its module, imported on first use
    "make_pdfa": "pipeline.ocr.convert",
    "PdfFeatures": "pipeline.ocr.features",
    "inspect_features": "pipeline.ocr.features",
    "PageCheck": "pipeline.ocr.pagecheck",
    "PageMismatch": "pipeline.ocr.pagecheck",
    "check_pages": "pipeline.ocr.pagecheck",
    "Reason": "pipeline.ocr.reasons",
    "RenditionFailed": "pipeline.ocr.reasons",
    "page_texts": "pipeline.ocr.text",
    "pages_for_search": "pipeline.ocr.textonly",
    "read_pages": "pipeline.ocr.textonly",
    "OcrError": "pipeline.ocr.types",
    "OcrRequest": "pipeline.ocr.types",
    "OcrResult": "pipeline.ocr.types",
    "PageText": "pipeline.ocr.types",
    "check_pdfa": "pipeline.ocr.validate",
    "claimed_pdfa": "pipeline.ocr.validate",
    "tool_versions": "pipeline.ocr.versions",
}

__all__ = [
    "OcrError",
    "OcrRequest",
    "OcrResult",
    "PageCheck",
    "PageMismatch",
    "PageText",
    "PdfFeatures",
    "Reason",
    "RenditionFailed",
    "check_pages",
    "check_pdfa",
    "claimed_pdfa",
    "inspect_features",
    "make_pdfa",
    "page_texts",
    "pages_for_search",
    "read_pages",
    "tool_versions",
]


__getattr__, __dir__ = lazy_names(__name__, _WHERE)
