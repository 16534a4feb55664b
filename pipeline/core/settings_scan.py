"""The ``[scan]`` section: how page streams from scanners are split, which pages are dropped or flagged, and how
the stored page images are compressed (issue 15). Kept apart from :mod:`pipeline.core.settings_sections` for size."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Profile = Literal["archival", "standard", "compact"]


class ScanSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")
    # Split scanned inputs (image-only PDFs, multi-page TIFFs, folders of page images) at separator sheets
    # (`archive separator`); false: every input is one document, as before.
    separators: bool = True
    # A scanned page with less ink than this (share of its pixels at 50 dpi standing out from the paper,
    # pipeline.scan.pages.blank_ink) is blank and dropped; the count and pages are recorded. 0: keep every page.
    # Measured on A4 and A6 scans at 200 and 300 dpi with paper grain and dust: blank 0-0.00002, a lone page
    # number 0.00005-0.0002, one 4 cm pen stroke (a signature) 0.0003-0.0012. The default keeps a stroke.
    blank_ink_share: float = Field(default=0.0001, ge=0, le=0.05)
    # Circular 02/2019/TT-BNV: at least 200 dpi. A page below is flagged ("warn") or its document refused
    # ("refuse": quarantined with the reason, to be scanned again).
    min_dpi: int = Field(default=200, ge=0, le=2400)
    low_dpi: Literal["warn", "refuse"] = "warn"
    # How the stored page images are compressed; OCR always reads the full-quality scan (pipeline.ocr.profiles).
    # archival: lossless (as scanned, ~4.1 MB an A4 grey page at 300 dpi); standard: JPEG for grey and colour, the
    # best quality within ~236 KB an A4 page, then a lower resolution, never below 200 dpi (measured 228-252 KB, OCR
    # of it no worse), CCITT G4 (lossless) for bitonal; compact: JPEG at 200 dpi (the legal minimum), 132-196 KB.
    profile: Profile = "standard"
    # Pages listed for re-scan (`archive show`, the batch summary): mean OCR word confidence below this (0-100), or
    # a share of words that are Vietnamese syllables below ``rescan_syllable_share`` (0-1; documents in Vietnamese
    # only). 0: not flagged by that signal. Measured (pipeline.core.syllables): good pages 84-96 and 0.96-1.0; pages
    # with a CER of 10% or more mostly under 70 or 0.8; Vietnamese read without its diacritics 0.59-0.74.
    rescan_confidence: float = Field(default=70.0, ge=0, le=100)
    rescan_syllable_share: float = Field(default=0.8, ge=0, le=1)
