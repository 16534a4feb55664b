"""Page texts of a PDF that must not be re-written (a signed original): the pages without a text layer are
OCR'd on a throw-away copy, the pages with one keep theirs. The original file is never changed."""

from __future__ import annotations

import shutil
from pathlib import Path

from pipeline.ocr.hocr import mean_word_confidence
from pipeline.ocr.languages import tesseract_languages
from pipeline.ocr.runner import RunSpec, run_ocrmypdf
from pipeline.ocr.text import page_texts
from pipeline.ocr.types import OcrError, PageText


def read_pages(source: Path, workdir: Path, *, language: str = "vie", timeout_s: int = 600) -> list[PageText]:
    """Every page's text; pages without text are OCR'd (Tesseract ``language``). Raises OcrError."""
    texts = page_texts(source)
    if all(text.strip() for text in texts):
        return [PageText(n, text, None) for n, text in enumerate(texts, start=1)]
    scratch = workdir / "text-only"
    shutil.rmtree(scratch, ignore_errors=True)
    scratch.mkdir(parents=True)
    try:
        output = scratch / "copy.pdf"
        spec = RunSpec(input_pdf=source, output_pdf=output, language=tesseract_languages(language), ocr=True,
                       deskew=False, rotate_pages=True, pdfa_part="2", has_text=any(t.strip() for t in texts),
                       timeout_s=timeout_s, text_only=True)
        outcome = run_ocrmypdf(spec, scratch / "tmp")
        read = page_texts(output)
        if len(read) != len(texts):
            raise OcrError(f"OCR copy has {len(read)} pages, the original {len(texts)}")
        return [PageText(n, text if not texts[n - 1].strip() else texts[n - 1],
                         mean_word_confidence(outcome.hocr[n]) if n in outcome.hocr else None)
                for n, text in enumerate(read, start=1)]
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def pages_for_search(source: Path, workdir: Path, *, language: str = "vie", timeout_s: int = 600
                     ) -> tuple[list[PageText], str]:
    """:func:`read_pages`, or when its OCR fails the file's own text layer and why OCR failed ("" if it did
    not): a file kept as it is must never be lost to an OCR failure, only less searchable."""
    try:
        return read_pages(source, workdir, language=language, timeout_s=timeout_s), ""
    except OcrError as exc:
        return [PageText(n, text, None) for n, text in enumerate(page_texts(source), start=1)], str(exc)
