"""Retention use cases for the records office: the schedule in force, and what is due (its retention ended,
not permanent). Only a records officer (or an admin) may ask; the answer stays within the actor's clearance.
Holds, disposal and transfer build on these (issue 11)."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date, datetime
from typing import Any

from pipeline.app.context import Context
from pipeline.app.retention_rules import schedule_for
from pipeline.core.actor import Actor
from pipeline.core.dates import VIETNAM
from pipeline.core.schedule import Schedule
from pipeline.core.vocabulary import Role


def today() -> date:
    return datetime.now(VIETNAM).date()


@dataclass(frozen=True)
class DueDocument:
    id: str
    doc_number: str
    title: str
    doc_type: str
    issued_date: date | None
    retention_class: str
    retain_until: date | None
    action: str  # destroy | transfer | review

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def schedule(ctx: Context, actor: Actor) -> Schedule:
    """The schedule in force (validated: a bad file raises ScheduleError with the reason)."""
    actor.require(Role.RECORDS_OFFICER, "read the retention schedule")
    return schedule_for(ctx.settings)


def due(ctx: Context, actor: Actor, on: date | None = None) -> list[DueDocument]:
    """Documents whose retention ended before ``on`` (default: today in Vietnam), oldest first."""
    actor.require(Role.RECORDS_OFFICER, "list documents due for disposal")
    found = []
    for doc_id in ctx.catalog.due_documents(actor.clearance.rank, on or today()):
        record = ctx.catalog.get_record(doc_id, actor.clearance.rank)
        if record is None:
            continue
        meta = record.metadata
        found.append(DueDocument(id=record.id, doc_number=meta.doc_number, title=meta.title, doc_type=meta.doc_type,
                                 issued_date=meta.issued_date, retention_class=record.retention.class_code,
                                 retain_until=record.retain_until, action=record.retention.action))
    return found


def extend_permanent_locks(ctx: Context, actor: Actor) -> dict[str, int]:
    """Re-lock every permanent record for the configured horizon from now (run it yearly, or from the beat):
    storage only lengthens locks, so this can never shorten one. Audited."""
    actor.require(Role.RECORDS_OFFICER, "extend the locks of permanent records")
    documents = versions = 0
    for doc_id in ctx.catalog.permanent_documents():
        versions += ctx.store.extend_lock(ctx.store.get_record(doc_id))
        documents += 1
    ctx.audit.record(actor.name, "retention.extend", "permanent", "ok",
                     {"documents": documents, "versions": versions,
                      "years": ctx.settings.retention.permanent_lock_years})
    return {"documents": documents, "versions_extended": versions}
