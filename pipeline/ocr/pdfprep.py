"""Open an input PDF safely, refuse what cannot be archived, and strip what PDF/A forbids.

OCRmyPDF's internal PDF/A backend and ``pikepdf.pdfa`` both reject ``/OpenAction`` (fpdf2, office
suites and many scanners write one) and JavaScript/actions; Ghostscript 10.0.0, which could rewrite
them, is refused by OCRmyPDF for PDFs that have text. So we remove them here and record each removal.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pikepdf
import pypdfium2 as pdfium

from pipeline.ocr.features import PdfFeatures
from pipeline.ocr.repair import repair
from pipeline.ocr.text import raw_page_texts
from pipeline.ocr.types import OcrError


@dataclass
class PreparedPdf:
    path: Path
    page_count: int
    pages_with_text: list[int] = field(default_factory=list)  # 1-based
    fixes: list[str] = field(default_factory=list)
    attachments: list[Path] = field(default_factory=list)  # embedded files moved out (repair.py)


def _describe_action(obj: pikepdf.Object) -> str:
    if isinstance(obj, pikepdf.Dictionary) and "/S" in obj:
        return str(obj.S)[1:]
    if isinstance(obj, pikepdf.Array):
        return "destination"
    return "action"


def _strip_actions(pdf: pikepdf.Pdf) -> list[str]:
    fixes: list[str] = []
    root = pdf.Root
    if "/OpenAction" in root:
        fixes.append(f"removed /OpenAction ({_describe_action(root.OpenAction)})")
        del root["/OpenAction"]
    if "/AA" in root:
        fixes.append("removed document additional actions (/AA)")
        del root["/AA"]
    names = root.get("/Names")
    if isinstance(names, pikepdf.Dictionary) and "/JavaScript" in names:
        fixes.append("removed document JavaScript (/Names /JavaScript)")
        del names["/JavaScript"]
    pages_with_aa = [n for n, page in enumerate(pdf.pages, start=1) if "/AA" in page.obj]
    for number in pages_with_aa:
        del pdf.pages[number - 1].obj["/AA"]
    if pages_with_aa:
        fixes.append(f"removed page additional actions (/AA) on pages {pages_with_aa}")
    return fixes


def _pages_with_text(path: Path) -> list[int]:
    """1-based numbers of pages that already carry extractable text."""
    return [number for number, text in enumerate(raw_page_texts(path), start=1) if text.strip()]


def _short(exc: Exception, source: Path) -> str:
    """qpdf messages start with the full path; keep the reason readable."""
    return str(exc).replace(f"{source}: ", "").replace(str(source), source.name)


def prepare_pdf(source: Path, out: Path, features: PdfFeatures | None = None,
                attachments_dir: Path | None = None) -> PreparedPdf:
    """Validate ``source`` and write a cleaned copy to ``out``, with the repairs ``features`` call for
    (forms flattened, attachments moved to ``attachments_dir``, page sizes normalised). Raises OcrError."""
    try:
        pdf = pikepdf.open(source)
    except pikepdf.PasswordError as exc:
        raise OcrError(f"{source.name} is password-protected (encrypted); cannot archive it") from exc
    except (pikepdf.PdfError, OSError, ValueError) as exc:
        raise OcrError(f"{source.name} is not a readable PDF (corrupt or truncated): {_short(exc, source)}") from exc
    with pdf:
        # Opened without a password: only an owner password (permission flags) protects it. The working copy
        # is saved unencrypted (PDF/A forbids encryption); the original keeps its encryption.
        owner_only = pdf.is_encrypted
        try:
            count = len(pdf.pages)
        except pikepdf.PdfError as exc:
            raise OcrError(f"{source.name} has a broken page tree: {exc}") from exc
        if count == 0:
            raise OcrError(f"{source.name} has no pages")
        fixes = _strip_actions(pdf)
        if owner_only:
            fixes.append("removed the owner-password restrictions (the file opens without a password)")
        attachments: list[Path] = []
        if features is not None:
            try:
                done = repair(pdf, features, attachments_dir or out.parent / "attachments")
            except (pikepdf.PdfError, ValueError, TypeError, KeyError, AttributeError, OSError) as exc:
                raise OcrError(f"{source.name} could not be repaired for PDF/A: {_short(exc, source)}") from exc
            fixes += done.fixes
            attachments = done.attachments
        try:
            pdf.save(out)
        except (pikepdf.PdfError, OSError) as exc:
            raise OcrError(f"{source.name} cannot be rewritten (damaged PDF): {exc}") from exc
    try:
        with_text = _pages_with_text(out)
    except pdfium.PdfiumError as exc:
        raise OcrError(f"{source.name} cannot be rendered (damaged PDF): {exc}") from exc
    return PreparedPdf(path=out, page_count=count, pages_with_text=with_text, fixes=fixes, attachments=attachments)
