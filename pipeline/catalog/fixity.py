"""Fixity queries: each check of a document's stored objects (history) and the last one per document.

The selection of the next documents to check covers every document whatever its classification (the audit runs
for the whole archive); the report's answers take ``max_rank`` and filter in SQL like every document read."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from pipeline.catalog._sql import insert_for
from pipeline.catalog.models import Document, FixityCheck, FixityState


@dataclass(frozen=True)
class FixityRow:
    """A document's last check, with what identifies it to a reader."""

    doc_id: str
    doc_number: str
    title: str
    classification: str
    checked_at: datetime
    ok: bool
    problems: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class FixityCoverage:
    """Counts over the documents a reader may see: ``recent`` checked at or after ``since``."""

    documents: int
    recent: int
    never: int
    oldest: FixityRow | None


def record(session: Session, doc_id: str, at: datetime, ok: bool, problems: list[str], actor: str) -> None:
    text = json.dumps(problems, ensure_ascii=False)
    session.add(FixityCheck(doc_id=doc_id, checked_at=at, ok=ok, problems=text, actor=actor))
    values = {"doc_id": doc_id, "checked_at": at, "ok": ok, "problems": text}
    stmt = insert_for(session, FixityState.__table__).values(**values)
    session.execute(stmt.on_conflict_do_update(index_elements=["doc_id"],
                                               set_={k: stmt.excluded[k] for k in values if k != "doc_id"}))


def oldest_ids(session: Session, limit: int) -> list[str]:
    """The ``limit`` documents checked longest ago, never-checked ones first (oldest archived first among them)."""
    never_first = case((FixityState.checked_at.is_(None), 0), else_=1)
    stmt = (select(Document.id).outerjoin(FixityState, FixityState.doc_id == Document.id)
            .order_by(never_first, FixityState.checked_at, Document.archived_at, Document.id).limit(limit))
    return list(session.scalars(stmt))


def last_ok(session: Session, doc_ids: list[str]) -> dict[str, bool]:
    """Whether the last check of each of ``doc_ids`` was clean (absent: never checked)."""
    if not doc_ids:
        return {}
    rows = session.execute(select(FixityState.doc_id, FixityState.ok).where(FixityState.doc_id.in_(doc_ids)))
    return {doc_id: bool(ok) for doc_id, ok in rows}


def _rows(session: Session, max_rank: int, *where: object, limit: int | None = None,
          oldest: bool = False) -> list[FixityRow]:
    stmt = (select(FixityState.doc_id, Document.doc_number, Document.title, Document.classification,
                   FixityState.checked_at, FixityState.ok, FixityState.problems)
            .join(Document, Document.id == FixityState.doc_id)
            .where(Document.classification_rank <= max_rank, *where)
            .order_by(FixityState.checked_at if oldest else Document.id, Document.id).limit(limit))
    return [FixityRow(r.doc_id, r.doc_number, r.title, r.classification, r.checked_at, bool(r.ok),
                      json.loads(r.problems or "[]")) for r in session.execute(stmt)]


def failing(session: Session, max_rank: int) -> list[FixityRow]:
    """Documents (within ``max_rank``) whose last check failed, by id."""
    return _rows(session, max_rank, FixityState.ok.is_(False))


def failing_count(session: Session) -> int:
    """Documents whose last check failed, whatever their classification (the metric)."""
    stmt = (select(func.count()).select_from(FixityState).join(Document, Document.id == FixityState.doc_id)
            .where(FixityState.ok.is_(False)))
    return int(session.scalar(stmt) or 0)


def coverage(session: Session, max_rank: int, since: datetime) -> FixityCoverage:
    visible = Document.classification_rank <= max_rank
    total = session.scalar(select(func.count()).select_from(Document).where(visible)) or 0
    checked = select(func.count()).select_from(FixityState).join(Document, Document.id == FixityState.doc_id)
    recent = session.scalar(checked.where(visible, FixityState.checked_at >= since)) or 0
    ever = session.scalar(checked.where(visible)) or 0
    first = _rows(session, max_rank, limit=1, oldest=True)
    return FixityCoverage(int(total), int(recent), int(total) - int(ever), first[0] if first else None)
