"""Correcting a document's metadata in the browser (archivists): a form with the editable fields and the
reason, sent to the same use case as `archive edit` and `PATCH /api/v1/documents/{id}`
(:mod:`pipeline.app.metadata_edit`), which checks the role and the clearance again, seals the new version and
audits it. Only the fields that differ from the record are sent as changes."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import Response

from pipeline.app import documents, metadata_edit
from pipeline.app.errors import Invalid, NotFound
from pipeline.core.record import DocumentRecord
from pipeline.core.vocabulary import Role
from pipeline.entry.api.auth import Caller
from pipeline.entry.api.common import DocRef, call, context
from pipeline.entry.web.auth import PageCaller, require_role
from pipeline.entry.web.messages import add_messages
from pipeline.entry.web.records_pages import field, redirect
from pipeline.entry.web.render import render
from pipeline.entry.web.routing import page_router

router = page_router()
FIELDS = ("doc_number", "doc_type", "title", "issuer", "issued_date", "signer", "unit", "keywords", "notes")
LIMIT = metadata_edit.MAX_VALUE

add_messages({
    "vi": {"edit_title": "Sửa thông tin văn bản", "edit_link": "Sửa thông tin", "edit_reason": "Lý do sửa",
           "edit_save": "Lưu (tạo phiên bản mới có niêm phong)", "edit_done": "Đã lưu thông tin mới của văn bản.",
           "edit_keywords": "Từ khóa", "edit_cancel": "Quay lại văn bản",
           "edit_notes": "Ghi chú", "edit_title_field": "Trích yếu / tiêu đề",
           "edit_help": "Bản PDF đã ký không thay đổi; thông tin cũ vẫn được lưu giữ. Độ mật và hồ sơ không sửa ở "
                        "đây."},
    "en": {"edit_title": "Correct the document's metadata", "edit_link": "Correct metadata", "edit_reason": "Reason",
           "edit_save": "Save (a new sealed version)", "edit_done": "The document's new metadata is saved.",
           "edit_keywords": "Keywords", "edit_cancel": "Back to the document",
           "edit_notes": "Notes", "edit_title_field": "Title",
           "edit_help": "The signed PDF does not change; the earlier metadata is kept. Classification and dossier "
                        "are not edited here."},
})
LABELS = {"doc_number": "doc_number", "doc_type": "doc_type", "title": "edit_title_field", "issuer": "doc_issuer",
          "issued_date": "doc_issued", "signer": "doc_signer", "unit": "doc_unit", "keywords": "edit_keywords",
          "notes": "edit_notes"}


def _current(record: DocumentRecord) -> dict[str, str]:
    meta = record.metadata.model_dump()
    return {name: (meta[name].strftime("%d/%m/%Y") if name == "issued_date" and meta[name] else str(meta[name] or ""))
            for name in FIELDS}


def _form(request: Request, who: Caller, doc_id: str, values: dict[str, str] | None = None, reason: str = "",
          error: str = "") -> Response:
    require_role(who, Role.ARCHIVIST, "edit document metadata")
    record = documents.find(context(request), who.actor, doc_id)
    if record.disposal is not None:
        raise NotFound(f"document {record.id} was destroyed: only its record remains")
    shown = values if values is not None else _current(record)
    rows = [{"name": n, "label": LABELS[n], "value": shown.get(n, ""), "long": n in ("title", "notes")}
            for n in FIELDS]
    return render(request, "document_edit.html", status=400 if error else 200, who=who, record=record, rows=rows,
                  reason=reason, error=error, action=f"/documents/{record.id}/edit", back=f"/documents/{record.id}")


@router.get("/documents/{doc_id}/edit")
def edit_form(request: Request, who: PageCaller, doc_id: DocRef) -> Response:
    return _form(request, who, doc_id)


@router.post("/documents/{doc_id}/edit")
async def edit(request: Request, who: PageCaller, doc_id: DocRef) -> Response:
    require_role(who, Role.ARCHIVIST, "edit document metadata")
    form = await request.form()
    values: dict[str, str] = {}
    reason = ""
    try:
        values = {name: field(form, name, LIMIT) for name in FIELDS}
        reason = field(form, "reason", LIMIT)
        record = await call(documents.find, context(request), who.actor, doc_id)
        current = _current(record)
        changes = {n: v for n, v in values.items() if v != current[n]}
        if not changes:
            raise Invalid("nothing to change: the values given are those recorded")
        done = await call(metadata_edit.edit_metadata, context(request), who.actor, record.id, changes, reason)
    except Invalid as exc:
        return await call(_form, request, who, doc_id, values or None, reason, str(exc))
    return redirect(f"/documents/{done.id}?edited=1")


def edit_link(who: Any, record: DocumentRecord) -> str:
    """The document page's link to this form, for archivists ("" for anyone else or a destroyed document)."""
    actor = getattr(who, "actor", None)
    if actor is None or not actor.has(Role.ARCHIVIST) or record.disposal is not None:
        return ""
    return f"/documents/{record.id}/edit"
