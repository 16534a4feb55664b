"""The pages a document is made of, when intake picked them out of a scanned input (a stream split at separator
sheets, blank pages dropped: pipeline.scan.streams), and the scan's resolution checked against the minimum.

Both executors go through here (the local one and the Celery workers, after a message's page lists were checked
against the staged copies), so a document is converted, checked and recorded the same way wherever it runs.

What is kept as the original: the input's files when the document is the whole input (its blank pages included:
nothing a scanner produced is thrown away); for one document of a stream, its own pages (blank ones included)
picked out of the stream, so a stream of a hundred documents is not stored a hundred times.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

from pipeline.core.record import DocumentRecord, Origin
from pipeline.core.settings import Settings
from pipeline.scan.items import IntakeItem
from pipeline.scan.pages import low_resolution, page_map, select_pages

CIRCULAR = "Circular 02/2019/TT-BNV"


def pages_of(item: IntakeItem, workdir: Path) -> tuple[IntakeItem, list[Path]]:
    """(the document as its own files, the files to keep as its original)."""
    if item.pages is None:
        return item, list(item.files)
    picked = select_pages(item.files, item.kind, item.pages, workdir / "pages", name=_name(item))
    document = dataclasses.replace(item, files=picked, pages=None, dropped=[], page_count=len(item.pages))
    selection = sorted({*item.pages, *item.dropped})
    if not item.part or selection == list(range(len(page_map(item.files, item.kind)))):
        return document, list(item.files)
    return document, select_pages(item.files, item.kind, selection, workdir / "original", name=_name(item))


def _name(item: IntakeItem) -> str:
    """The picked PDF's file name: the input's, with the stream document's number (``luong-3.pdf``)."""
    path = Path(item.files[0].name)
    return f"{path.stem}-{item.part}{path.suffix}" if item.part else path.name


def scan_warnings(whole: IntakeItem, document: IntakeItem, settings: Settings) -> tuple[list[str], str]:
    """(warnings, refusal): blank pages dropped, and pages scanned below ``scan.min_dpi`` — a warning, or with
    ``scan.low_dpi = "refuse"`` the reason to quarantine the document ("" when it is not refused)."""
    warnings = []
    if whole.dropped:
        listed = ", ".join(str(p + 1) for p in whole.dropped[:20]) + (" …" if len(whole.dropped) > 20 else "")
        warnings.append(f"{len(whole.dropped)} blank page(s) dropped: {listed}")
    if document.origin is Origin.BORN_DIGITAL:
        return warnings, ""
    minimum = settings.scan.min_dpi
    low = low_resolution(document.files, document.kind, minimum)
    if not low:
        return warnings, ""
    if settings.scan.low_dpi == "refuse":
        label, dpi = low[0]
        more = f" (and {len(low) - 1} more page(s))" if len(low) > 1 else ""
        return warnings, (f"{label}: scanned at {dpi} dpi, below the {minimum} dpi minimum ({CIRCULAR}){more}: "
                          "scan it again")
    warnings += [f"{label}: {dpi} dpi is below the {minimum} dpi minimum" for label, dpi in low]
    return warnings, ""


def selection_detail(whole: IntakeItem) -> dict[str, Any]:
    """What the intake event says about the pages picked (nothing for a whole input)."""
    detail: dict[str, Any] = {}
    if whole.part:
        detail["stream_document"] = whole.part
        detail["separator_page"] = whole.separator_page
        if whole.separator is not None:
            detail["separator"] = whole.separator.to_dict()
    if whole.pages is not None:
        detail["pages"] = [p + 1 for p in whole.pages]
    if whole.dropped:
        detail["blank_pages"] = [p + 1 for p in whole.dropped]
    return detail


def describe_selection(record: DocumentRecord, whole: IntakeItem) -> None:
    """The record's provenance: the input's pages it is made of and those dropped as blank."""
    if whole.pages is not None and (whole.part or whole.dropped):
        record.source.pages = [p + 1 for p in whole.pages]
    record.source.blank_pages = [p + 1 for p in whole.dropped]
    record.source.separator_page = whole.separator_page
