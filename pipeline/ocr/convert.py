"""make_pdfa: the OCR stage's one entry point. Pages in; PDF/A-2b, per-page text and confidence out.

Decisions (measured on this machine, see issue 3):
- Everything goes through OCRmyPDF with ``--mode skip``: pages that already have text keep it, pages
  without text are OCR'd. So a mixed PDF gets OCR only on its image pages.
- When the PDF has any text, the PDF/A backend is pinned to OCRmyPDF's internal one (pikepdf), because
  OCRmyPDF refuses Ghostscript 10.0.0 for such files. Image-only PDFs use ``auto`` (internal first,
  Ghostscript if the internal result does not validate).
- A PDF that fails that path is repaired (:mod:`pipeline.ocr.repair`) and rewritten by Ghostscript directly
  (:func:`pipeline.tools.ghostscript.pdfa_rewrite`); every rendition must keep every word of the original
  (:mod:`pipeline.ocr.textcheck`). A readable PDF no path can convert raises RenditionFailed: the caller keeps
  the original as the archival copy.
- The output type is pinned to PDF/A-<part>; the result is validated again here and anything that is not
  PDF/A-<part>B raises OcrError, so a plain PDF never passes silently.
- Storage profile (:mod:`pipeline.ocr.profiles`): after OCRmyPDF has read the full-quality scan and before that
  validation, the scanned pages' images are re-encoded in place (standard: JPEG / CCITT G4) and a note says so.
  Scanned pages are every page of page images and, in a scanned or mixed PDF, the pages that had no text; the
  direct Ghostscript rendition and the no-OCR fallback keep their images (those rungs are for troubled files).
"""

from __future__ import annotations

import dataclasses
import logging
import shutil
from pathlib import Path

import pikepdf

from pipeline.core.limits import MAX_PAGE_PIXELS
from pipeline.ocr import pagewise
from pipeline.ocr.features import PdfFeatures, inspect_features
from pipeline.ocr.hocr import mean_word_confidence
from pipeline.ocr.images import image_pages
from pipeline.ocr.languages import tesseract_languages
from pipeline.ocr.pdfprep import PreparedPdf, prepare_pdf
from pipeline.ocr.profiles import check_profile, reencode_images, store_page_images
from pipeline.ocr.reasons import RenditionFailed, no_rendition
from pipeline.ocr.runner import RunSpec, require_languages, run_ocrmypdf
from pipeline.ocr.text import page_texts
from pipeline.ocr.textcheck import lost_words
from pipeline.ocr.types import OUTPUT_NAME, OcrError, OcrRequest, OcrResult, PageText
from pipeline.ocr.validate import ACCEPTED_UNCHECKED, check_pdfa, claimed_pdfa
from pipeline.ocr.versions import tool_versions
from pipeline.tools import ghostscript
from pipeline.tools.run import ToolError

log = logging.getLogger(__name__)


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
    check_profile(request.profile)


def make_pdfa(request: OcrRequest, workdir: Path) -> OcrResult:
    """Convert the document to PDF/A (OCR where needed). Raises OcrError with a one-line reason, and for a
    readable PDF that no converter could make PDF/A, RenditionFailed (the bilingual reason inside)."""
    _check_request(request)
    workdir.mkdir(parents=True, exist_ok=True)
    for path in request.inputs:
        if not Path(path).is_file():
            raise OcrError(f"input file not found: {Path(path).name}")
    scratch = workdir / "ocr-tmp"
    shutil.rmtree(scratch, ignore_errors=True)
    scratch.mkdir(parents=True)
    try:
        if request.kind == "images":
            images = image_pages([Path(p) for p in request.inputs], scratch / "images.pdf", scratch)
            prepared = prepare_pdf(images.pdf, scratch / "input.pdf")
            prepared.fixes[:0] = images.notes
            return _attempt(request, prepared, workdir, scratch, images.files)
        return _pdf_rendition(request, Path(request.inputs[0]), workdir, scratch)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def _pdf_rendition(request: OcrRequest, source: Path, workdir: Path, scratch: Path) -> OcrResult:
    """The rendition ladder for a PDF, each result validated and its text compared with the original's:
    1. the repaired copy through OCRmyPDF (pikepdf PDF/A);
    2. a direct Ghostscript rewrite (fonts embedded, colour to sRGB), OCR'd by OCRmyPDF only if it must be;
    3. for image pages Tesseract cannot read (over its 32 767-pixel limit, a 2-pixel image), no OCR.
    """
    features = inspect_features(source)
    try:
        prepared = prepare_pdf(source, scratch / "input.pdf", features, workdir / "attachments")  # refuses unreadable
    except OcrError as exc:
        if "could not be repaired" not in str(exc):
            raise
        prepared = prepare_pdf(source, scratch / "input.pdf")  # unrepaired: the ladder and its checks decide
        prepared.fixes.append(f"repairs not applied: {exc}")
    original_texts = page_texts(source)
    if features.user_unit:  # OCRmyPDF's deskew re-rasterises ignoring /UserUnit (measured: 102 → 10 ppi)
        request = dataclasses.replace(request, deskew=False)
    if features.xfa and (features.needs_rendering or not features.form):
        # Dynamic XFA: the pages hold only a "please wait" placeholder; the form lives in the XFA stream.
        raise RenditionFailed(no_rendition(features, ["dynamic XFA form: the content exists only in XFA"]))
    details: list[str] = []
    oversize = _oversize(features)
    ocr_wanted = request.needs_ocr and not oversize
    if oversize:  # OCRmyPDF rasterises such a page whole, then fails: Ghostscript alone, without OCR
        details.append(oversize)
    else:
        try:
            return _checked(_attempt(request, prepared, workdir, scratch), original_texts)
        except OcrError as exc:
            _retry_later(exc)
            details.append(f"OCRmyPDF/pikepdf: {exc}")
    rewritten, again = scratch / "gs.pdf", None
    try:
        ghostscript.pdfa_rewrite(prepared.path, rewritten, scratch, part=request.pdfa_part,
                                 timeout=request.timeout_s)
        # Ghostscript writes physical page sizes (no /UserUnit): normalise its output's pages again.
        again = prepare_pdf(rewritten, scratch / "input-gs.pdf", inspect_features(rewritten), scratch / "none")
        again.fixes[:0] = [*prepared.fixes, f"rewritten by Ghostscript {ghostscript.version()} "
                                            "(fonts embedded from URW base-35, colour converted to sRGB)"]
        again.attachments = prepared.attachments
        if ocr_wanted and len(again.pages_with_text) < again.page_count:
            return _checked(_attempt(request, again, workdir, scratch), original_texts)
        result = _checked(_direct(again, workdir, request.pdfa_part), original_texts)
        result.fixes += [oversize] if oversize else []
        return result
    except (OcrError, ToolError) as exc:
        _retry_later(exc)
        details.append(f"Ghostscript: {exc}")
    if ocr_wanted and len(prepared.pages_with_text) < prepared.page_count:
        for base in (prepared, again):  # without OCR: as received, then Ghostscript's (colour converted)
            if base is None:
                continue
            try:
                result = _attempt(dataclasses.replace(request, needs_ocr=False), base, workdir, scratch)
                result.fixes.append("OCR failed, so the image pages have no text layer: " + details[0][:200])
                return _checked(result, original_texts)
            except OcrError as exc:
                details.append(f"without OCR: {exc}")
    raise RenditionFailed(no_rendition(features, details))


def _oversize(features: PdfFeatures) -> str:
    """Why no OCR is tried, for an image over the pixels a page may have (:data:`MAX_PAGE_PIXELS`), else "".
    Measured on OCRmyPDF's hugemono.pdf (35 000 × 35 000 px): three OCRmyPDF rungs spent 198 s failing (the
    last on its own pixel limit); Ghostscript alone makes the PDF/A in under a second."""
    width, height = features.largest_image
    if width * height <= MAX_PAGE_PIXELS:
        return ""
    return (f"image too large to OCR: {width} × {height} px, more than {MAX_PAGE_PIXELS // 1_000_000} million "
            "pixels; kept without a text layer")


# Failures of this machine, not of the document: quarantined for a retry, never archived as "no rendition".
_TRANSIENT = ("not installed", "timed out", "language data", "no sRGB ICC profile", "cannot be started")


def _retry_later(exc: Exception) -> None:
    if any(marker in str(exc) for marker in _TRANSIENT):
        raise OcrError(str(exc)) from exc


def _checked(result: OcrResult, original_texts: list[str]) -> OcrResult:
    lost = lost_words(original_texts, [page.text for page in result.pages])
    if lost:
        result.pdf_path.unlink(missing_ok=True)
        raise OcrError(f"the rendition lost words of the original: {', '.join(lost)}")
    return result


def _validated(output: Path, part: str, page_count: int, accept: tuple[str, ...] = (),
               passed_pikepdf: bool = False) -> list[str]:
    """The page texts of ``output`` once it passes as PDF/A-<part>b with every page; else OcrError.
    ``passed_pikepdf``: written by ``pikepdf.pdfa.save`` (see :func:`check_pdfa`)."""
    problems = check_pdfa(output, part=part, accept=accept, passed_pikepdf=passed_pikepdf)
    if problems:
        output.unlink()  # never leave a non-PDF/A file where a PDF/A is expected
        raise OcrError(f"output is not PDF/A-{part}b: {'; '.join(problems[:3])}")
    texts = page_texts(output)
    if len(texts) != page_count:
        raise OcrError(f"output has {len(texts)} pages, input had {page_count}")
    return texts


def _direct(prepared: PreparedPdf, workdir: Path, part: str) -> OcrResult:
    """Ghostscript's PDF/A as it is (OCRmyPDF would refuse the constructs pikepdf does not check)."""
    output = workdir / OUTPUT_NAME
    shutil.copyfile(prepared.path, output)
    texts = _validated(output, part, prepared.page_count, ACCEPTED_UNCHECKED)
    return _result(output, prepared, [PageText(n, t, None) for n, t in enumerate(texts, start=1)], ocr=False)


def _result(output: Path, prepared: PreparedPdf, pages: list[PageText], *, ocr: bool,
            notes: list[str] | None = None) -> OcrResult:
    """The validated rendition ``output``: its pages, what was done to make it (the preparation's fixes, then
    ``notes``, each once), the tools' versions."""
    return OcrResult(pdf_path=output, pages=pages, ocr_applied=ocr, pdfa=claimed_pdfa(output),
                     fixes=list(dict.fromkeys([*prepared.fixes, *filter(None, notes or [])])),
                     tools=dict(tool_versions()), attachments=list(prepared.attachments))


def _attempt(request: OcrRequest, prepared: PreparedPdf, workdir: Path, scratch: Path,
             files: list[Path | None] | None = None) -> OcrResult:
    """One OCR run on a prepared PDF, validated as PDF/A-<part>b: Tesseract page by page when the PDF is only
    page images (:mod:`pipeline.ocr.pagewise`), else (or when that fails) OCRmyPDF."""
    pages_without_text = set(range(1, prepared.page_count + 1)) - set(prepared.pages_with_text)
    ocr = request.needs_ocr and bool(pages_without_text)
    scanned = pages_without_text if request.kind == "images" or request.needs_ocr else set()  # stored per profile
    if ocr and not prepared.pages_with_text and pagewise.eligible(prepared.path):
        try:
            return _pagewise(request, prepared, workdir, scratch, files)
        except (OcrError, ToolError, ValueError, pikepdf.PdfError) as exc:
            _retry_later(exc)
            log.warning("page-by-page OCR failed (%s); OCRmyPDF instead", exc)
    if not ocr:
        try:
            return _declared(request, prepared, workdir, scanned)
        except (OcrError, ValueError, pikepdf.PdfError) as exc:
            log.info("pikepdf could not declare it PDF/A (%s); OCRmyPDF instead", str(exc)[:200])
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
        jobs=request.jobs,
    )
    tmp = scratch / "tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    outcome = run_ocrmypdf(spec, tmp)
    if not output.is_file():
        raise OcrError("OCRmyPDF reported success but wrote no output file")
    stored = store_page_images(output, request.profile, scanned)
    texts = _validated(output, request.pdfa_part, prepared.page_count)
    pages = [
        PageText(
            number=n,
            text=text,
            confidence=mean_word_confidence(outcome.hocr[n]) if ocr and n in outcome.hocr else None,
            ocr=ocr and n in outcome.hocr,
        )
        for n, text in enumerate(texts, start=1)
    ]
    return _result(output, prepared, pages, ocr=ocr, notes=[stored.note(ocr)])


def _pagewise(request: OcrRequest, prepared: PreparedPdf, workdir: Path, scratch: Path,
              files: list[Path | None] | None) -> OcrResult:
    """Tesseract page by page, then one pikepdf session: stored images, text layers, PDF/A; validated."""
    folder = scratch / "pages"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    language = tesseract_languages(request.language)
    require_languages(language)
    pages = pagewise.ocr_pages(prepared.path, folder, language, request.jobs, request.timeout_s,
                               rotate=request.rotate_pages, deskew=request.deskew, files=files,
                               slot_dir=request.slot_dir, slots=request.slots, profile=request.profile)
    output = workdir / OUTPUT_NAME
    output.unlink(missing_ok=True)
    assembled = pagewise.assemble(prepared.path, pages, output, folder, request.profile, request.pdfa_part)
    texts = _validated(output, request.pdfa_part, prepared.page_count, passed_pikepdf=True)
    shutil.rmtree(folder, ignore_errors=True)
    read = [PageText(page.number, text, page.confidence, ocr=True) for page, text in zip(pages, texts, strict=True)]
    return _result(output, prepared, read, ocr=True, notes=assembled.notes)


def _declared(request: OcrRequest, prepared: PreparedPdf, workdir: Path, scanned: set[int]) -> OcrResult:
    """No OCR to do (born-digital): the prepared PDF declared PDF/A by pikepdf in this process, what OCRmyPDF's
    internal backend does with ``--ocr-engine none`` after starting a Python of its own (0.9 s a document, most of
    a born-digital document's conversion). Anything pikepdf's validator or ours refuses goes to OCRmyPDF."""
    from pikepdf.pdfa import PdfaError
    from pikepdf.pdfa import save as save_pdfa

    output = workdir / OUTPUT_NAME
    output.unlink(missing_ok=True)
    try:
        with pikepdf.open(prepared.path) as pdf:
            stored = reencode_images(pdf, request.profile, scanned)
            save_pdfa(pdf, output, f"{request.pdfa_part}b", output_intent="sRGB")
    except PdfaError as exc:
        output.unlink(missing_ok=True)
        raise OcrError(f"not PDF/A as it is: {exc}") from exc
    texts = _validated(output, request.pdfa_part, prepared.page_count, passed_pikepdf=True)
    pages = [PageText(n, text, None) for n, text in enumerate(texts, start=1)]
    return _result(output, prepared, pages, ocr=False, notes=[stored.note(False)])
