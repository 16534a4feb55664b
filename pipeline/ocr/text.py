"""Per-page text of the output PDF (pdfium), NFC, one line ending style."""

from __future__ import annotations

import unicodedata
from pathlib import Path

import pypdfium2 as pdfium


def page_texts(pdf_path: Path) -> list[str]:
    """Text of every page, in page order, NFC-normalised with ``\\n`` line endings."""
    doc = pdfium.PdfDocument(str(pdf_path))
    try:
        texts = []
        for index in range(len(doc)):
            raw = doc[index].get_textpage().get_text_range()
            raw = raw.replace("\r\n", "\n").replace("\r", "\n").replace("\ufffe", "").replace("\x02", "")
            lines = (line.rstrip() for line in unicodedata.normalize("NFC", raw).split("\n"))
            texts.append("\n".join(lines).strip())
        return texts
    finally:
        doc.close()
