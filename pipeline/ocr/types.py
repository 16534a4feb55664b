"""Plain data exchanged with the OCR stage (no tool objects leak out)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

OUTPUT_NAME = "pdfa.pdf"  # the rendition make_pdfa writes in its work folder
StorageProfile = Literal["archival", "standard", "compact"]  # how scanned page images are stored (ocr.profiles)


class OcrError(Exception):
    """The document cannot be made into a PDF/A. The message is one human-readable line (quarantine reason)."""

    def __init__(self, reason: str) -> None:
        super().__init__(" ".join(reason.split()))


@dataclass(frozen=True)
class OcrRequest:
    inputs: list[Path]  # page images in page order, or exactly one PDF
    kind: Literal["images", "pdf"]
    needs_ocr: bool  # False: born-digital PDF, keep its own text, no OCR, still convert to PDF/A
    language: str = "vie"  # Tesseract languages, e.g. "vie" or "vie+eng" (vie first)
    deskew: bool = True
    rotate_pages: bool = True
    pdfa_part: str = "2"  # PDF/A-2b
    timeout_s: int = 600
    jobs: int = 1  # pages OCR'd at once inside one document (OCRmyPDF --jobs)
    # Page by page OCR (pipeline.ocr.pagewise) takes one of ``slots`` lock files of ``slot_dir`` per Tesseract, so
    # a document runs up to that many pages at once and all OCR on the machine together no more. None: ``jobs``.
    slot_dir: Path | None = None
    slots: int = 1
    # Scanned pages' images re-encoded after OCR (pipeline.ocr.profiles); the app passes settings.scan.profile.
    # "archival" here: the stage alone stores what it was given.
    profile: StorageProfile = "archival"


@dataclass
class PageText:
    number: int  # 1-based
    text: str  # NFC
    confidence: float | None  # mean Tesseract word confidence 0..100 for OCR'd pages, None otherwise
    ocr: bool = False  # OCR ran on this page (confidence None then: no word found)


@dataclass
class OcrResult:
    pdf_path: Path  # PDF/A written in workdir
    pages: list[PageText]
    ocr_applied: bool
    pdfa: str  # claimed and checked conformance, e.g. "2B"
    fixes: list[str] = field(default_factory=list)  # what was changed to make PDF/A
    tools: dict[str, str] = field(default_factory=dict)  # ocrmypdf, tesseract, ghostscript, pikepdf
    attachments: list[Path] = field(default_factory=list)  # embedded files moved out of the rendition
