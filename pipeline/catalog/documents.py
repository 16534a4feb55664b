"""Document queries. Every read takes ``max_rank`` and filters ``classification_rank <= max_rank`` in SQL: a
document above the caller's clearance is absent from every answer (row, count, prefix, statistics)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

from sqlalchemy import JSON, ColumnElement, Select, cast, delete, func, select
from sqlalchemy.orm import Session

from pipeline.catalog._sql import LIKE_ESCAPE, insert_for, like_prefix
from pipeline.catalog.holds import active_held_ids
from pipeline.catalog.models import Document, Page
from pipeline.catalog.rows import DocumentRow, StatsRow
from pipeline.core.record import DocumentRecord
from pipeline.core.vocabulary import Classification, DocState, Origin

_ROW_COLUMNS = [c for c in Document.__table__.columns if c.name not in {"classification_rank", "record_json"}]


def document_values(record: DocumentRecord, state: DocState, record_json: str) -> dict[str, object]:
    meta, sig = record.metadata, record.signature
    return {
        "id": record.id, "doc_number": meta.doc_number, "doc_type": meta.doc_type, "title": meta.title,
        "issuer": meta.issuer, "issued_date": meta.issued_date, "signer": meta.signer, "unit": meta.unit,
        "language": meta.language, "classification": meta.classification.value,
        "classification_rank": meta.classification.rank, "origin": record.origin.value,
        "ocr_applied": record.ocr_applied, "page_count": record.page_count, "pdfa": record.pdfa,
        "signed": sig.signed, "signature_level": sig.level, "signer_subject": sig.signer_subject,
        "signed_at": sig.signed_at, "timestamped": sig.timestamped, "batch": record.source.batch,
        "source_path": record.source.path, "received_at": record.source.received_at,
        "archived_at": record.archived_at, "state": state.value, "record_json": record_json,
        "dossier_code": meta.dossier_code, "retention_class": record.retention.class_code,
        "retain_until": record.retain_until, "permanent": record.retention.permanent,
    }


def upsert(session: Session, record: DocumentRecord, state: DocState, record_json: str | None = None) -> None:
    if record.disposal is not None:  # a residual record stays disposed, whoever writes it back
        state = DocState.DISPOSED
    values = document_values(record, state, record_json if record_json is not None else record.to_json())
    stmt = insert_for(session, Document.__table__).values(**values)
    update = {k: stmt.excluded[k] for k in values if k != "id"}
    # The row upsert comes first: on PostgreSQL it locks the document row, serialising the page rewrite.
    session.execute(stmt.on_conflict_do_update(index_elements=["id"], set_=update))
    session.execute(delete(Page).where(Page.doc_id == record.id))
    pages = [{"doc_id": record.id, "number": p.number, "chars": p.chars, "confidence": p.confidence}
             for p in {p.number: p for p in record.pages}.values()]
    if pages:
        session.execute(Page.__table__.insert(), pages)


def _visible(stmt: Select, max_rank: int) -> Select:
    return stmt.where(Document.classification_rank <= max_rank)


def get_record_json(session: Session, doc_id: str, max_rank: int) -> str | None:
    return session.scalar(_visible(select(Document.record_json).where(Document.id == doc_id), max_rank))


def resolve_prefix(session: Session, prefix: str, max_rank: int) -> list[str]:
    if not prefix:
        return []
    stmt = _visible(select(Document.id).where(Document.id.like(like_prefix(prefix), escape=LIKE_ESCAPE)), max_rank)
    # SQLite's LIKE ignores ASCII case, PostgreSQL's does not: the literal check makes both engines agree.
    return sorted(i for i in session.scalars(stmt) if i.startswith(prefix))


def _row(values: dict[str, object]) -> DocumentRow:
    values["classification"] = Classification(values["classification"])
    values["origin"] = Origin(values["origin"])
    values["state"] = DocState(values["state"])
    return DocumentRow(**values)  # type: ignore[arg-type]


def list_rows(session: Session, max_rank: int, limit: int | None = None) -> list[DocumentRow]:
    stmt = _visible(select(*_ROW_COLUMNS), max_rank)
    stmt = stmt.order_by(Document.archived_at.desc().nulls_last(), Document.id).limit(limit)
    return [_row(dict(r._mapping)) for r in session.execute(stmt)]


def iter_record_json(session: Session, max_rank: int, chunk: int = 200) -> Iterator[str]:
    stmt = _visible(select(Document.record_json), max_rank).order_by(Document.id)
    yield from session.execute(stmt.execution_options(yield_per=chunk)).scalars()


def count(session: Session, max_rank: int) -> int:
    return session.scalar(_visible(select(func.count()).select_from(Document), max_rank)) or 0


def _representation(session: Session) -> ColumnElement[str]:
    """The record's ``representation`` read inside the database (no record JSON leaves it): SQLite's JSON1 or
    PostgreSQL's JSON operators ("signed-original": the document arrived signed by its issuer)."""
    if session.get_bind().dialect.name == "postgresql":
        return func.json_extract_path_text(cast(Document.record_json, JSON), "representation")
    return func.json_extract(Document.record_json, "$.representation")


def stats_rows(session: Session, max_rank: int) -> list[StatsRow]:
    stmt = _visible(select(Document.origin, Document.page_count, Document.signed, Document.unit, Document.doc_type,
                           Document.classification, Document.received_at, Document.archived_at, Document.id,
                           Document.issued_date, Document.state, _representation(session).label("representation")),
                    max_rank)
    # Destroyed documents stay: they count for the periods they were held, as history (issue 12).
    return [StatsRow(Origin(r.origin), r.page_count, r.signed, r.unit, r.doc_type, Classification(r.classification),
                     r.received_at, r.archived_at, r.id, r.issued_date, DocState(r.state),
                     r.representation or "") for r in session.execute(stmt.order_by(Document.id))]


def due_ids(session: Session, max_rank: int, today: date) -> list[str]:
    """Documents whose retention ended before ``today`` (never a permanent or a held one), oldest end first."""
    stmt = _visible(select(Document.id).where(Document.retain_until < today, Document.permanent.is_(False),
                                              Document.state != DocState.DISPOSED.value,
                                              Document.id.not_in(active_held_ids())), max_rank)
    return list(session.scalars(stmt.order_by(Document.retain_until, Document.id)))


def permanent_ids(session: Session) -> list[str]:
    """Permanent records, and the residual records of destroyed documents (the proof is kept for good)."""
    return list(session.scalars(select(Document.id).where(
        (Document.permanent.is_(True)) | (Document.state == DocState.DISPOSED.value)).order_by(Document.id)))


def ids_with_level(session: Session, level: str) -> list[str]:
    return list(session.scalars(select(Document.id).where(Document.signature_level == level,
                                                          Document.state != DocState.DISPOSED.value)
                                .order_by(Document.id)))


def delete_all(session: Session) -> int:
    session.execute(delete(Page))
    return session.execute(delete(Document)).rowcount or 0
