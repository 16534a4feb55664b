"""Dossier queries: registered dossiers (rows derived from ``dossiers/<code>.json``) and what their documents
say about them. Document figures take ``max_rank`` like every document read: a document above the reader's
clearance counts for nothing. Residual records of destroyed documents (state ``disposed``) are not part of a
dossier's content."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from pipeline.catalog._sql import insert_for
from pipeline.catalog.models import Document, DossierRow
from pipeline.core.dossier import Dossier

DISPOSED = "disposed"  # a document's state once destroyed (only its residual record remains)


@dataclass(frozen=True)
class DossierStats:
    """What the (visible) documents of one dossier code add up to."""

    code: str
    documents: int
    pages: int
    first_issued: date | None
    last_issued: date | None
    classes: tuple[str, ...]  # the record classes of its documents


def upsert(session: Session, dossier: Dossier) -> None:
    values = {"code": dossier.code, "title": dossier.title, "retention_class": dossier.retention,
              "access": dossier.access.value, "start_date": dossier.start_date, "closed_at": dossier.closed_at,
              "created_at": dossier.created_at, "dossier_json": dossier.model_dump_json()}
    stmt = insert_for(session, DossierRow.__table__).values(**values)
    session.execute(stmt.on_conflict_do_update(index_elements=["code"],
                                               set_={k: stmt.excluded[k] for k in values if k != "code"}))


def get(session: Session, code: str) -> Dossier | None:
    text = session.scalar(select(DossierRow.dossier_json).where(DossierRow.code == code))
    return Dossier.model_validate_json(text) if text else None


def all_dossiers(session: Session) -> list[Dossier]:
    return [Dossier.model_validate_json(t) for t in session.scalars(select(DossierRow.dossier_json)
                                                                     .order_by(DossierRow.code))]


def closings(session: Session) -> dict[str, date]:
    """Closing date of every closed dossier, by code."""
    rows = session.execute(select(DossierRow.code, DossierRow.closed_at).where(DossierRow.closed_at.is_not(None)))
    return {code: closed for code, closed in rows}


def _content(stmt: Select, max_rank: int | None) -> Select:
    stmt = stmt.where(Document.dossier_code != "", Document.state != DISPOSED)
    return stmt if max_rank is None else stmt.where(Document.classification_rank <= max_rank)


def stats(session: Session, max_rank: int, code: str | None = None) -> list[DossierStats]:
    """Per dossier code its visible documents' count, pages, first and last issue dates and classes (only codes
    with at least one visible document)."""
    totals = _content(select(Document.dossier_code, func.count(), func.coalesce(func.sum(Document.page_count), 0),
                             func.min(Document.issued_date), func.max(Document.issued_date)), max_rank)
    classes = _content(select(Document.dossier_code, Document.retention_class).distinct(), max_rank)
    if code is not None:
        totals, classes = totals.where(Document.dossier_code == code), classes.where(Document.dossier_code == code)
    found: dict[str, set[str]] = {}
    for dossier_code, cls in session.execute(classes):
        found.setdefault(dossier_code, set()).add(cls)
    return [DossierStats(c, n, int(pages), first, last, tuple(sorted(found.get(c, set()) - {""})))
            for c, n, pages, first, last in session.execute(totals.group_by(Document.dossier_code)
                                                            .order_by(Document.dossier_code))]


def record_jsons(session: Session, code: str, max_rank: int) -> list[str]:
    """metadata.json of the visible documents of the dossier ``code``."""
    stmt = _content(select(Document.record_json).where(Document.dossier_code == code), max_rank)
    return list(session.scalars(stmt.order_by(Document.issued_date, Document.id)))


def live_ids(session: Session, code: str | None = None) -> list[str]:
    """Every document not destroyed (of the dossier ``code``, when given), whatever its classification: for the
    system-wide recomputation of retention."""
    stmt = select(Document.id).where(Document.state != DISPOSED)
    if code is not None:
        stmt = stmt.where(Document.dossier_code == code)
    return list(session.scalars(stmt.order_by(Document.id)))
