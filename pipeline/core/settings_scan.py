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
    # A scanned page whose share of dark pixels is at most this is blank and dropped (the count is recorded);
    # 0: keep every page. A page with one short handwritten line has ~0.2% ink at 100 dpi.
    blank_ink_share: float = Field(default=0.0005, ge=0, le=0.05)
    # Circular 02/2019/TT-BNV: at least 200 dpi. A page below is flagged ("warn") or its document refused
    # ("refuse": quarantined with the reason, to be scanned again).
    min_dpi: int = Field(default=200, ge=0, le=2400)
    low_dpi: Literal["warn", "refuse"] = "warn"
    # How the stored page images are compressed; OCR always reads the full-quality scan. archival: lossless
    # (as scanned); standard: visually lossless (JPEG for grey and colour, CCITT G4 for bitonal); compact: smaller
    # still, for access copies of bulk records.
    profile: Profile = "standard"
    # Pages listed for re-scan: mean OCR word confidence below this (0-100), or a share of words that are
    # Vietnamese syllables below ``rescan_syllable_share`` (0-1). 0: not flagged by that signal.
    rescan_confidence: float = Field(default=60.0, ge=0, le=100)
    rescan_syllable_share: float = Field(default=0.6, ge=0, le=1)
