"""A deterministic, engine-independent dump of the catalog's derived content (documents with pages, users,
audit events; no credentials): two catalogs with the same content give equal snapshots, whatever the engine or
insertion order. The batch journal is left out (it is operational state, not rebuilt from S3)."""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from pipeline.catalog.audit import to_dict as audit_dict
from pipeline.catalog.models import AuditEvent, Document, Page, User, to_utc


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return to_utc(value).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return value


def _columns(obj: Any) -> dict[str, Any]:
    return {c.key: _plain(getattr(obj, c.key)) for c in obj.__table__.columns}


def snapshot(session: Session) -> dict[str, Any]:
    pages: dict[str, list[dict[str, Any]]] = {}
    for page in session.scalars(select(Page).order_by(Page.doc_id, Page.number)):
        row = _columns(page)
        pages.setdefault(row.pop("doc_id"), []).append(row)
    documents = []
    for doc in session.scalars(select(Document).order_by(Document.id)):
        row = _columns(doc)
        row["record"] = json.loads(row.pop("record_json"))  # compared as data, not as whitespace
        row["pages"] = pages.get(doc.id, [])
        documents.append(row)
    # Credentials are live state, never rebuilt from S3 (and never dumped): the password hash stays out.
    users = [{k: v for k, v in _columns(u).items() if k != "password_hash"}
             for u in session.scalars(select(User).order_by(User.name))]
    audit = [audit_dict(e) for e in session.scalars(select(AuditEvent).order_by(AuditEvent.seq))]
    return {"documents": documents, "users": users, "audit": audit}
