"""A scanned input looked at page by page before it is planned: split into documents at separator sheets
(:mod:`pipeline.scan.separator`) and its blank pages dropped.

Only scanned inputs are looked at (a folder of page images, a multi-page TIFF, a PDF of page images only): a
born-digital or mixed PDF is one document as it is, and so is a PDF that carries a signature (picking pages
out of it would break the signature).

A stream split into documents gives one item per document, named ``<input>#<k>`` (k from 1, in stream order). Its
files are the input's files that hold its pages (only those page images of a folder; the whole PDF or TIFF), and
``pages`` says which of their pages it is made of. Its id is the content id of its files when it is made of all
of them (the same id as if the archivist had put those pages in a folder of their own), otherwise the input's
content id with the list of pages (:func:`pipeline.scan.pages.selection_id`). Dropping blank pages does not change
an id: the same scan is the same document whatever the blank-page threshold.

Separator pages are not part of any document and are counted (``BatchPlan.separators``). A separator whose code
cannot be used makes its document a problem (quarantined with the reason): its pages are never merged into the
document before it. A separator followed by another one or by the end of the stream is reported as skipped.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path

import pikepdf
from PIL import Image

from pipeline.core.record import Origin
from pipeline.scan.items import Found, IntakeItem, IntakeProblem, IntakeSkip, content_id
from pipeline.scan.pages import PageView, iter_pages, page_map, selection_id
from pipeline.scan.pages import blank_ink as page_blank_ink
from pipeline.scan.separator import SeparatorHit, StreamDocument, StreamSplit, find_separator, split_stream

log = logging.getLogger(__name__)


@dataclass
class Look:
    """What looking at an input found."""

    found: list[Found] = field(default_factory=list)
    separators: int = 0
    blank: int = 0


def _signed(path: Path) -> bool:
    """Whether a PDF has a signature field (or says it has signatures)."""
    try:
        with pikepdf.open(path) as pdf:
            form = pdf.Root.get("/AcroForm")
            if not isinstance(form, pikepdf.Dictionary):
                return False
            if int(form.get("/SigFlags", 0)) & 1:
                return True
            fields = [f for f in form.get("/Fields", []) if isinstance(f, pikepdf.Dictionary)]
            return any(f.get("/FT") == pikepdf.Name.Sig for f in fields)
    except (pikepdf.PdfError, OSError, ValueError, TypeError):
        return True  # when in doubt, never pick pages out of it


def wanted(item: IntakeItem) -> bool:
    if item.kind == "images":
        return True
    return item.origin is Origin.SCANNED and not _signed(item.files[0])


def look(item: IntakeItem, *, separators: bool, blank_ink: float) -> Look:
    """``item`` as the documents it holds, its blank pages dropped. Returns ``[item]`` unchanged when there is
    nothing to do (not scanned, no separator and no blank page)."""
    if not wanted(item) or (not separators and blank_ink <= 0):
        return Look([item])
    blank: set[int] = set()
    views = iter_pages(item.files, item.kind)
    current: list[PageView] = []

    def pages() -> Iterator[Image.Image]:
        for view in views:
            current[:] = [view]
            yield view.image

    def detect(image: Image.Image) -> SeparatorHit | None:
        hit = find_separator(image) if separators else None
        if hit is None and blank_ink > 0 and page_blank_ink(current[0]) < blank_ink:
            blank.add(current[0].index)
        return hit

    split = split_stream(pages(), detect)
    result = Look(separators=split.separators)
    if split.separators == 0:
        result.found.append(_trimmed(item, split.documents[0].pages if split.documents else [], blank, result))
        return result
    where = page_map(item.files, item.kind)
    for number, document in enumerate(split.documents, start=1):
        result.found.append(_part(item, number, document, where, blank, result))
    for empty in split.empty:
        result.found.append(IntakeSkip(f"{item.source_path} (page {empty.index + 1})", empty.reason))
    _log(item, split)
    return result


def _log(item: IntakeItem, split: StreamSplit) -> None:
    log.info("%s: %d pages, %d separator(s), %d document(s)", item.source_path, split.pages, split.separators,
             len(split.documents))


def _kept(pages: list[int], blank: set[int], item: IntakeItem) -> tuple[list[int], list[int]]:
    """(kept, dropped) pages; a document whose every page looks blank is kept whole (logged)."""
    dropped = [p for p in pages if p in blank]
    kept = [p for p in pages if p not in blank]
    if not kept:
        log.info("%s: every page (%d) looks blank: kept all the same", item.source_path, len(pages))
        return pages, []
    return kept, dropped


def _trimmed(item: IntakeItem, pages: list[int], blank: set[int], result: Look) -> IntakeItem:
    kept, dropped = _kept(pages, blank, item)
    if not dropped:
        return item
    result.blank += len(dropped)
    return replace(item, pages=kept, dropped=dropped, page_count=len(kept))


def _part(item: IntakeItem, number: int, document: StreamDocument, where: list[tuple[int, int]], blank: set[int],
          result: Look) -> IntakeItem | IntakeProblem:
    """Document ``number`` of a stream, as an item of its own (its files, pages and id) or a problem."""
    name = f"{item.source_path}#{number}"
    if item.kind == "images":  # only the page images that hold its pages
        holding = sorted({where[p][0] for p in document.pages})
        files = [item.files[f] for f in holding]
        local = page_map(files, item.kind)
        position = {(holding[f], frame): n for n, (f, frame) in enumerate(local)}
        renumber = {p: position[where[p]] for p in document.pages}
    else:
        files, local = list(item.files), where
        renumber = {p: p for p in document.pages}
    if document.error:
        return IntakeProblem(name, document.error, files)
    part = IntakeItem(name, files, item.kind, item.origin, item.needs_ocr, len(document.pages), "", item.metadata,
                      warnings=list(item.warnings), part=number, separator=document.meta,
                      separator_page=None if document.separator is None else document.separator + 1)
    selection = [renumber[p] for p in document.pages]
    whole = item.doc_id if files == item.files else content_id(files)  # a stream is hashed once, not per document
    part.doc_id = whole if len(selection) == len(local) else selection_id(whole, selection)
    kept, dropped = _kept(selection, {renumber[p] for p in document.pages if p in blank}, part)
    result.blank += len(dropped)
    part.pages = kept if len(kept) != len(local) else None
    part.dropped = dropped
    part.page_count = len(kept)
    return part
