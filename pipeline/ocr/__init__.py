"""OCR + PDF/A stage: document pages in, PDF/A-2b file + per-page NFC text and OCR confidence out.

Wraps OCRmyPDF/Tesseract (runner, hocr), img2pdf (images), pikepdf (pdfprep, validate) and pdfium
(text); all their quirks live in those modules. Knows nothing about scanning, signing or storage.
"""

from pipeline.ocr.convert import make_pdfa
from pipeline.ocr.features import PdfFeatures, inspect_features
from pipeline.ocr.pagecheck import PageCheck, PageMismatch, check_pages
from pipeline.ocr.reasons import Reason, RenditionFailed
from pipeline.ocr.text import page_texts
from pipeline.ocr.textonly import pages_for_search, read_pages
from pipeline.ocr.types import OcrError, OcrRequest, OcrResult, PageText
from pipeline.ocr.validate import check_pdfa, claimed_pdfa
from pipeline.ocr.versions import tool_versions

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
