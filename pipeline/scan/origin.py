"""Decide a PDF's origin from its pages: text layer or images only.

The same decision says whether to OCR: scanned and mixed documents are OCR'd (pages that already carry
text are kept), born-digital ones keep their own text.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pikepdf
import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c

from pipeline.core.pdfium_lock import PDFIUM
from pipeline.core.record import Origin


class UnreadableInput(Exception):
    """The file cannot be used as a document (corrupt, encrypted, empty, wrong type)."""


@dataclass(frozen=True)
class PdfInspection:
    page_count: int
    text_pages: int  # pages with a text layer
    image_only_pages: int  # pages with images and no text
    origin: Origin


def _page_has_image(page: pdfium.PdfPage) -> bool:
    return any(True for _ in page.get_objects(filter=(pdfium_c.FPDF_PAGEOBJ_IMAGE,), max_depth=3))


def classify_pages(text_pages: int, image_only_pages: int) -> Origin:
    if text_pages and image_only_pages:
        return Origin.MIXED
    if image_only_pages:
        return Origin.SCANNED
    return Origin.BORN_DIGITAL


def _why_unreadable(path: Path, pdfium_message: str) -> str:
    """Why pdfium refused ``path``, asked again of qpdf: pdfium's error code is process-wide and can be stale (a
    PDF with an empty page tree was reported as "password" after an encrypted file), so neither "encrypted" nor
    "no pages" is said unless qpdf agrees."""
    try:
        with pikepdf.open(path) as pdf:
            if len(pdf.pages) == 0:
                return "PDF has no pages"
    except pikepdf.PasswordError:
        return "PDF is encrypted with a password; decrypt it before intake"
    except (pikepdf.PdfError, OSError, ValueError, RuntimeError):
        pass
    return f"corrupt or unreadable PDF ({pdfium_message})"


def inspect_pdf(path: Path) -> PdfInspection:
    with PDFIUM:  # pipeline.core.pdfium_lock
        return _inspect_pdf(path)


def _inspect_pdf(path: Path) -> PdfInspection:
    with path.open("rb") as fh:
        head = fh.read(1024)
    if not head:
        raise UnreadableInput(f"{path.name}: empty file (0 bytes)")
    if b"%PDF-" not in head:
        raise UnreadableInput(f"{path.name}: not a PDF file (no %PDF- header)")
    try:
        pdf = pdfium.PdfDocument(path)
    except pdfium.PdfiumError as exc:
        raise UnreadableInput(f"{path.name}: {_why_unreadable(path, str(exc))}") from None
    try:
        count = len(pdf)
        if count == 0:
            raise UnreadableInput(f"{path.name}: PDF has no pages")
        text_pages = image_only = 0
        for index in range(count):
            page = pdf[index]
            textpage = page.get_textpage()
            has_text = bool(textpage.get_text_range().strip())
            textpage.close()
            if has_text:
                text_pages += 1
            elif _page_has_image(page):
                image_only += 1
            page.close()
    except pdfium.PdfiumError as exc:
        raise UnreadableInput(f"{path.name}: corrupt PDF page ({exc})") from None
    finally:
        pdf.close()
    return PdfInspection(count, text_pages, image_only, classify_pages(text_pages, image_only))
