"""The audit mirror: the hash-chained trail kept in S3, copied here event by event for querying.

An event is a dict: seq, at (ISO 8601 UTC), actor, action, object, outcome, detail (dict), prev, hash.
``at`` comes back as ``datetime.isoformat()`` of the UTC-aware instant (``…+00:00``, microseconds when non-zero):
the writer should produce it in that form so the chain can be re-verified from the mirror byte for byte."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from pipeline.catalog._sql import insert_for
from pipeline.catalog.errors import AuditConflict
from pipeline.catalog.models import AuditEvent, to_utc


def _parse_at(value: datetime | str) -> datetime:
    return to_utc(value if isinstance(value, datetime) else datetime.fromisoformat(value))


def to_dict(event: AuditEvent) -> dict[str, Any]:
    return {"seq": event.seq, "at": to_utc(event.at).isoformat(), "actor": event.actor, "action": event.action,
            "object": event.object, "outcome": event.outcome, "detail": json.loads(event.detail_json),
            "prev": event.prev_hash, "hash": event.hash}


def add(session: Session, event: dict[str, Any]) -> bool:
    """Store ``event``; True when new, False when the same (seq, hash) was there. A different hash raises."""
    values = {"seq": int(event["seq"]), "at": _parse_at(event["at"]), "actor": str(event.get("actor", "")),
              "action": str(event.get("action", "")), "object": str(event.get("object", "")),
              "outcome": str(event.get("outcome", "")),
              "detail_json": json.dumps(event.get("detail") or {}, ensure_ascii=False, sort_keys=True),
              "prev_hash": str(event.get("prev") or ""), "hash": str(event["hash"])}
    stmt = insert_for(session, AuditEvent.__table__).values(**values).on_conflict_do_nothing(index_elements=["seq"])
    if session.execute(stmt.returning(AuditEvent.seq)).first() is not None:  # rowcount is unreliable here
        return True
    stored = session.scalar(select(AuditEvent.hash).where(AuditEvent.seq == values["seq"]))
    if stored != values["hash"]:
        raise AuditConflict(f"audit event {values['seq']} is in the catalog with hash {stored!r}, "
                            f"not {values['hash']!r}")
    return False


def last(session: Session) -> dict[str, Any] | None:
    event = session.scalar(select(AuditEvent).order_by(AuditEvent.seq.desc()).limit(1))
    return None if event is None else to_dict(event)


def query(session: Session, object_id: str | None = None, actor: str | None = None,
          date_from: datetime | None = None, date_to: datetime | None = None,
          limit: int | None = None) -> list[dict[str, Any]]:
    """Events in seq order; ``date_from`` inclusive, ``date_to`` exclusive (half-open, aware datetimes)."""
    stmt = select(AuditEvent)
    if object_id is not None:
        stmt = stmt.where(AuditEvent.object == object_id)
    if actor is not None:
        stmt = stmt.where(AuditEvent.actor == actor)
    if date_from is not None:
        stmt = stmt.where(AuditEvent.at >= to_utc(date_from))
    if date_to is not None:
        stmt = stmt.where(AuditEvent.at < to_utc(date_to))
    return [to_dict(e) for e in session.scalars(stmt.order_by(AuditEvent.seq).limit(limit))]


def delete_all(session: Session) -> int:
    return session.execute(delete(AuditEvent)).rowcount or 0
