"""Hold queries (rows derived from ``holds/<id>.json``). A document is held while any hold covering it has
no release time."""

from __future__ import annotations

from sqlalchemy import Select, delete, select
from sqlalchemy.orm import Session

from pipeline.catalog._sql import insert_for
from pipeline.catalog.models import HoldItem, HoldRow
from pipeline.core.hold import Hold


def upsert(session: Session, hold: Hold) -> None:
    values = {"id": hold.id, "title": hold.title, "case_ref": hold.case_ref, "reason": hold.reason,
              "created_by": hold.created_by, "created_at": hold.created_at, "released_at": hold.released_at,
              "hold_json": hold.model_dump_json()}
    stmt = insert_for(session, HoldRow.__table__).values(**values)
    session.execute(stmt.on_conflict_do_update(index_elements=["id"],
                                               set_={k: stmt.excluded[k] for k in values if k != "id"}))
    session.execute(delete(HoldItem).where(HoldItem.hold_id == hold.id))
    if hold.documents:
        session.execute(HoldItem.__table__.insert(), [{"hold_id": hold.id, "doc_id": d}
                                                      for d in dict.fromkeys(hold.documents)])


def active_held_ids() -> Select:
    """A subquery: ids of the documents under at least one active hold."""
    return select(HoldItem.doc_id).join(HoldRow, HoldRow.id == HoldItem.hold_id).where(HoldRow.released_at.is_(None))


def held(session: Session, doc_ids: list[str]) -> set[str]:
    return set(session.scalars(active_held_ids().where(HoldItem.doc_id.in_(doc_ids)))) if doc_ids else set()


def all_holds(session: Session) -> list[Hold]:
    texts = session.scalars(select(HoldRow.hold_json).order_by(HoldRow.created_at, HoldRow.id))
    return [Hold.model_validate_json(t) for t in texts]


def get(session: Session, hold_id: str) -> Hold | None:
    text = session.scalar(select(HoldRow.hold_json).where(HoldRow.id == hold_id))
    return Hold.model_validate_json(text) if text else None
