"""A page of an archived document as an image (the web pages' page view). The archival copy is read through
:func:`pipeline.app.documents.download`, the same clearance-checked and audited read as a download (a document
above the reader's clearance is :class:`NotFound`), rendered by poppler into a private temporary folder that is
always removed: a plain copy of a classified document never stays on disk."""

from __future__ import annotations

import shutil
import tempfile
import threading
from pathlib import Path

from pipeline.app import documents
from pipeline.app.context import Context
from pipeline.app.errors import NotFound
from pipeline.app.health import ServiceUnavailable
from pipeline.core.actor import Actor
from pipeline.tools.pdftoppm import DEFAULT_DPI, render_page_png

# Renders at once per process: each copies the whole archival PDF from storage and runs poppler, so a reader
# flipping fast (or a script) cannot take every thread, the disk and the memory of the service.
RENDERS = threading.BoundedSemaphore(2)
WAIT_S = 30.0


def page_png(ctx: Context, actor: Actor, ident: str, page: int, dpi: int = DEFAULT_DPI) -> bytes:
    """Page ``page`` (1-based) of the document's archival copy as PNG bytes. A page the document does not have
    is NotFound, checked before anything is fetched."""
    record = documents.find(ctx, actor, ident)
    if not 1 <= page <= record.page_count:
        raise NotFound(f"document {record.id} has no page {page} ({record.page_count} page(s))")
    if not RENDERS.acquire(timeout=WAIT_S):
        raise ServiceUnavailable("too many page images are being drawn: try again in a moment")
    try:
        ctx.settings.work_dir.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(dir=ctx.settings.work_dir, prefix="page-image-"))  # 0700
        try:
            _, paths = documents.download(ctx, actor, record.id, tmp / "archive.pdf")
            return render_page_png(paths[0], page, tmp, dpi=dpi).read_bytes()
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    finally:
        RENDERS.release()
