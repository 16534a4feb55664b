"""A document's page: metadata, the signature status from the record (and a "verify now" form whose verdict is
shown in the page), page N as an image rendered on the server with its text beside it, previous/next links and
the archival PDF's download link (the API's, which takes the session cookie). Every read is the application
layer's (clearance-checked and, for classified documents, audited): above the caller's clearance, every URL
here is the 404 page."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Path as PathParam
from fastapi import Query, Request
from fastapi.responses import Response

from pipeline.app import documents, page_images, verification
from pipeline.app.errors import NotFound
from pipeline.core.record import DocumentRecord
from pipeline.entry.api.common import DocRef, context
from pipeline.entry.web.auth import PageCaller
from pipeline.entry.web.edit_pages import edit_link
from pipeline.entry.web.render import render
from pipeline.entry.web.routing import page_router

router = page_router()
DocId = Annotated[DocRef, PathParam()]
PageNo = Annotated[int, Query(ge=1, le=100_000)]
IMAGE_HEADERS = {"Cache-Control": "private, no-store", "X-Content-Type-Options": "nosniff"}


def _fields(record: DocumentRecord) -> list[tuple[str, str]]:
    """The metadata rows (message key, value) the page shows, empty ones left out."""
    meta = record.metadata
    rows = [("doc_number", meta.doc_number), ("doc_type", meta.doc_type), ("doc_issuer", meta.issuer),
            ("doc_issued", meta.issued_date.strftime("%d/%m/%Y") if meta.issued_date else ""),
            ("doc_signer", meta.signer), ("doc_unit", meta.unit), ("doc_class", meta.classification.label_vi),
            ("doc_pages", str(record.page_count)),
            ("doc_archived", record.archived_at.strftime("%d/%m/%Y %H:%M UTC") if record.archived_at else ""),
            ("doc_id", record.id)]
    return [(key, value) for key, value in rows if value]


def _page(request: Request, who: Any, doc_id: str, page: int, verdict: dict[str, Any] | None = None) -> Response:
    ctx = context(request)
    record = documents.find(ctx, who.actor, doc_id)
    destroyed = record.disposal is not None
    count = record.page_count
    text = ""
    if destroyed:  # only the residual record: read (and audited) as such
        record = documents.show(ctx, who.actor, record.id).record
    elif not 1 <= page <= max(count, 1):
        raise NotFound(f"document {record.id} has no page {page}")
    elif count:  # this page's text alone (one object, however long the document), the read audited
        record, text = documents.page_text(ctx, who.actor, record.id, page)
    base = f"/documents/{record.id}"
    return render(request, "document.html", who=who, record=record, fields=_fields(record), page=page,
                  page_count=count, text=text, destroyed=destroyed, verdict=verdict,
                  image=f"{base}/pages/{page}.png", pdf=f"/api/v1/documents/{record.id}/pdf",
                  prev=f"{base}?page={page - 1}" if page > 1 else "",
                  next=f"{base}?page={page + 1}" if page < count else "", verify=f"{base}/verify?page={page}",
                  edit=edit_link(who, record), edited=request.query_params.get("edited") == "1")


@router.get("/documents/{doc_id}")
def document_page(request: Request, who: PageCaller, doc_id: DocId, page: PageNo = 1) -> Response:
    return _page(request, who, doc_id, page)


@router.get("/documents/{doc_id}/pages/{n}.png")
def page_image(request: Request, who: PageCaller, doc_id: DocId,
               n: Annotated[int, PathParam(ge=1, le=100_000)]) -> Response:
    """Page ``n`` as PNG (private, never cached: the document may be classified)."""
    png = page_images.page_png(context(request), who.actor, doc_id, n)
    return Response(png, media_type="image/png", headers=IMAGE_HEADERS)


@router.post("/documents/{doc_id}/verify")
def verify_page(request: Request, who: PageCaller, doc_id: DocId, page: PageNo = 1) -> Response:
    """Verify the stored document now (signature, trust, revocation, checksums, seal; the form's CSRF token is
    checked by ``PageCaller``) and show the document page with the verdict."""
    report = verification.with_verdict(verification.verify_archived(context(request), who.actor, doc_id))
    problems = [str(p) for p in report.get("problems", [])][:20]
    return _page(request, who, doc_id, page, {"status": str(report.get("status", "")), "problems": problems})
