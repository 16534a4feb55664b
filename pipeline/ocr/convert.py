"""make_pdfa: the OCR stage's one entry point. Pages in; PDF/A-2b, per-page text and confidence out.

Decisions (measured on this machine, see issue 3):
- Everything goes through OCRmyPDF with ``--mode skip``: pages that already have text keep it, pages
  without text are OCR'd. So a mixed PDF gets OCR only on its image pages.
- When the PDF has any text, the PDF/A backend is pinned to OCRmyPDF's internal one (pikepdf), because
  OCRmyPDF refuses Ghostscript 10.0.0 for such files. Image-only PDFs use ``auto`` (internal first,
  Ghostscript if the internal result does not validate).
- The output type is pinned to PDF/A-<part>; the result is validated again here and anything that is not
  PDF/A-<part>B raises OcrError, so a plain PDF never passes silently.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from pipeline.ocr.hocr import mean_word_confidence
from pipeline.ocr.images import images_to_pdf
from pipeline.ocr.languages import tesseract_languages
from pipeline.ocr.pdfprep import prepare_pdf
from pipeline.ocr.runner import RunSpec, run_ocrmypdf
from pipeline.ocr.text import page_texts
from pipeline.ocr.types import OcrError, OcrRequest, OcrResult, PageText
from pipeline.ocr.validate import check_pdfa, claimed_pdfa
from pipeline.ocr.versions import tool_versions

OUTPUT_NAME = "pdfa.pdf"


def _check_request(request: OcrRequest) -> None:
    """Malformed requests are programming/configuration errors, not document problems."""
    if request.kind not in ("images", "pdf"):
        raise ValueError(f"unknown input kind {request.kind!r}")
    if request.kind == "pdf" and len(request.inputs) != 1:
        raise ValueError("kind='pdf' takes exactly one input file")
    if request.pdfa_part not in ("1", "2", "3"):
        raise ValueError(f"unsupported PDF/A part {request.pdfa_part!r}; use 1, 2 or 3")
    if request.timeout_s <= 0:
        raise ValueError("timeout_s must be positive")


def make_pdfa(request: OcrRequest, workdir: Path) -> OcrResult:
    """Convert the document to PDF/A (OCR where needed). Raises OcrError with a one-line reason."""
    _check_request(request)
    workdir.mkdir(parents=True, exist_ok=True)
    for path in request.inputs:
        if not Path(path).is_file():
            raise OcrError(f"input file not found: {Path(path).name}")
    scratch = workdir / "ocr-tmp"
    shutil.rmtree(scratch, ignore_errors=True)
    scratch.mkdir(parents=True)
    fixes: list[str] = []
    try:
        source = Path(request.inputs[0])
        if request.kind == "images":
            source, notes = images_to_pdf([Path(p) for p in request.inputs], scratch / "images.pdf", scratch)
            fixes.extend(notes)
        prepared = prepare_pdf(source, scratch / "input.pdf")
        fixes.extend(prepared.fixes)
        pages_without_text = set(range(1, prepared.page_count + 1)) - set(prepared.pages_with_text)
        ocr = request.needs_ocr and bool(pages_without_text)
        output = workdir / OUTPUT_NAME
        output.unlink(missing_ok=True)
        spec = RunSpec(
            input_pdf=prepared.path,
            output_pdf=output,
            language=tesseract_languages(request.language),
            ocr=ocr,
            deskew=request.deskew,
            rotate_pages=request.rotate_pages,
            pdfa_part=request.pdfa_part,
            has_text=bool(prepared.pages_with_text),
            timeout_s=request.timeout_s,
        )
        outcome = run_ocrmypdf(spec, scratch / "tmp")
        if not output.is_file():
            raise OcrError("OCRmyPDF reported success but wrote no output file")
        problems = check_pdfa(output, part=request.pdfa_part)
        if problems:
            output.unlink()  # never leave a non-PDF/A file where a PDF/A is expected
            raise OcrError(f"output is not PDF/A-{request.pdfa_part}b: {problems[0]}")
        texts = page_texts(output)
        if len(texts) != prepared.page_count:
            raise OcrError(f"output has {len(texts)} pages, input had {prepared.page_count}")
        pages = [
            PageText(
                number=n,
                text=text,
                confidence=mean_word_confidence(outcome.hocr[n]) if ocr and n in outcome.hocr else None,
            )
            for n, text in enumerate(texts, start=1)
        ]
        return OcrResult(
            pdf_path=output,
            pages=pages,
            ocr_applied=ocr,
            pdfa=claimed_pdfa(output),
            fixes=fixes,
            tools=dict(tool_versions()),
        )
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
