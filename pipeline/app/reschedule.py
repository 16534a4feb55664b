"""Recompute retention when what it depends on changes: the schedule (`archive retention recompute`) or the
closing of a dossier (`archive dossier close`, for the classes triggered by it).

For every archived document (never the residual record of a destroyed one) the record class and retain-until
date are computed again under the schedule in force and the closing date of its dossier. Where they changed:

* a NEW version of metadata.json with the new retention facts and an Event ``retention`` (old → new), written
  only over the version the document's seal names (a tampered record is never re-sealed) and sealed into the
  audit trail by a ``retention.change`` event (``previous_metadata_sha256`` the seal it follows), so
  `archive verify ID` accepts it;
* the storage locks of every stored version lengthened to the new retain-until date. Storage locks only
  lengthen: when the new date is EARLIER than the lock in force, the lock stays, and the event says so
  (``storage_lock: kept``). The document may then be listed as due before the storage lets it be destroyed;
* the catalog row, and a summary ``retention.recompute`` event for the run.

A schedule applies to every document, so the run covers documents above the actor's clearance too; the answer
(and a dry run's list) names only those the actor may see. One failing document never stops the others: it
is reported failed and audited. If the run stops half way, running it again completes it (a changed document
no longer differs)."""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from pipeline.app.audit import SEAL_PREVIOUS, SealState
from pipeline.app.context import Context
from pipeline.app.errors import Invalid
from pipeline.app.record_versions import store_version
from pipeline.app.renewal import sealed_hash
from pipeline.app.retention_rules import retention_facts, schedule_for
from pipeline.archive.store import metadata_sha256
from pipeline.core.actor import Actor
from pipeline.core.audit import ChainReport
from pipeline.core.record import DocumentRecord, Event, RetentionFacts
from pipeline.core.schedule import Schedule, ScheduleError, Trigger
from pipeline.core.vocabulary import Classification, Role

log = logging.getLogger("archive.reschedule")

CHANGE = "retention.change"  # the per-document event; it seals the new metadata.json (pipeline.app.audit.SEALS)
SUMMARY = "retention.recompute"
EXTENDED, KEPT, UNCHANGED = "extended", "kept", "unchanged"


@dataclass
class RetentionChange:
    """One document whose retention changed (or would, in a dry run)."""

    id: str
    doc_number: str
    title: str
    old_class: str
    new_class: str
    old_retain_until: date | None
    new_retain_until: date | None
    old_permanent: bool
    new_permanent: bool
    storage_lock: str = ""  # extended | kept (storage locks only lengthen) | unchanged; "" in a dry run
    lock_until: datetime | None = None  # the end of the storage lock afterwards
    rank: int = field(default=0, repr=False)  # the document's classification rank (who may see this line)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        del data["rank"]
        return data

    def detail(self) -> dict[str, Any]:
        """Old and new retention, for the audit event and the record's Event."""
        return {"old_class": self.old_class, "new_class": self.new_class,
                "old_retain_until": _iso(self.old_retain_until), "new_retain_until": _iso(self.new_retain_until),
                "old_permanent": self.old_permanent, "new_permanent": self.new_permanent}


@dataclass
class RecomputeReport:
    schedule: str  # the version (or source) of the schedule in force
    dry_run: bool = False
    checked: int = 0
    changes: list[RetentionChange] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)
    _ranks: dict[str, int] = field(default_factory=dict, repr=False)

    @property
    def lock_kept(self) -> int:
        return sum(c.storage_lock == KEPT for c in self.changes)

    def for_actor(self, actor: Actor) -> RecomputeReport:
        """What ``actor`` may see of the run: documents above their clearance do not exist for them."""
        rank = actor.clearance.rank
        seen = {i for i, r in self._ranks.items() if r <= rank}
        return RecomputeReport(self.schedule, self.dry_run, len(seen), [c for c in self.changes if c.rank <= rank],
                               {i: why for i, why in self.failed.items() if i in seen})

    def to_dict(self) -> dict[str, Any]:
        return {"schedule": self.schedule, "dry_run": self.dry_run, "checked": self.checked,
                "changed": len(self.changes), "lock_kept": self.lock_kept,
                "changes": [c.to_dict() for c in self.changes], "failed": self.failed}


def _iso(value: date | None) -> str | None:
    return value.isoformat() if value is not None else None


def _same(record: DocumentRecord, facts: RetentionFacts, until: date | None) -> bool:
    """Whether ``facts``/``until`` say what the record says (the schedule's version label alone is no change:
    the record keeps the version that set its retention)."""
    exclude = {"schedule"}
    return (record.retain_until == until
            and record.retention.model_dump(exclude=exclude) == facts.model_dump(exclude=exclude))


def load_schedule(ctx: Context) -> Schedule:
    """The schedule in force; a bad file is one Invalid line."""
    try:
        return schedule_for(ctx.settings)
    except ScheduleError as exc:
        raise Invalid(str(exc)) from None


class Recomputation:
    """One run over some documents under one schedule, for ``reason`` (written into every event)."""

    def __init__(self, ctx: Context, actor: Actor, schedule: Schedule, reason: str, dry_run: bool = False) -> None:
        self.ctx, self.actor, self.schedule, self.reason = ctx, actor, schedule, reason
        self.report = RecomputeReport(schedule.version or schedule.source, dry_run)
        self._seals: tuple[ChainReport, dict[str, SealState]] | None = None
        if not dry_run:  # no seal key: refuse the whole run (one line) before anything is written
            ctx.audit.require_seal_key()

    def run(self, doc_ids: list[str], only: Trigger | None = None) -> RecomputeReport:
        """Recompute ``doc_ids`` (only those whose class in force has the trigger ``only``, when given), then
        write the summary event (not for a dry run)."""
        closings = self.ctx.catalog.dossier_closings()
        for doc_id in doc_ids:
            record = self.ctx.catalog.get_record(doc_id, Classification.TUYET_MAT.rank)
            if record is None:  # removed by a concurrent rebuild
                continue
            self.report.checked += 1
            self.report._ranks[doc_id] = record.metadata.classification.rank
            facts, until = retention_facts(record, self.schedule, closings.get(record.metadata.dossier_code))
            if (only is not None and facts.trigger != only.value) or _same(record, facts, until):
                continue
            if self.report.dry_run:
                self.report.changes.append(_change(record, facts, until))
                continue
            try:
                change = self._apply(doc_id, closings)
            except Exception as exc:  # one failing document must not stop the others
                log.warning("retention of %s not recomputed: %s", doc_id, exc, extra={"doc_id": doc_id})
                self.report.failed[doc_id] = str(exc)
                self.ctx.audit.record(self.actor.name, CHANGE, doc_id, "failed",
                                      {"reason": self.reason, "error": str(exc)})
                continue
            if change is not None:
                self.report.changes.append(change)
        if not self.report.dry_run:
            self.ctx.audit.record(self.actor.name, SUMMARY, f"schedule {self.report.schedule}", "ok",
                                  {"reason": self.reason, "schedule": self.schedule.version,
                                   "source": self.schedule.source, "checked": self.report.checked,
                                   "changed": len(self.report.changes), "lock_kept": self.report.lock_kept,
                                   "failed": len(self.report.failed)})
        return self.report

    def _apply(self, doc_id: str, closings: dict[str, date]) -> RetentionChange | None:
        """New sealed metadata.json, longer locks, catalog row for one document; None when storage's record
        already says so (the catalog was behind: it is refreshed)."""
        ctx = self.ctx
        if self._seals is None:
            last = ctx.catalog.last_audit_event()
            self._seals = ctx.audit.latest_seals(int(last["seq"]) if last else None)
        expected = sealed_hash(self._seals, doc_id)  # raises unless the document has one valid seal in force
        stored = ctx.store.get_record(doc_id)
        facts, until = retention_facts(stored, self.schedule, closings.get(stored.metadata.dossier_code))
        if _same(stored, facts, until):
            ctx.catalog.upsert_document(stored)
            return None
        return commit_retention(ctx, self.actor, stored, facts, until, expected,
                                {"reason": self.reason, "schedule": self.schedule.version})


def commit_retention(ctx: Context, actor: Actor, stored: DocumentRecord, facts: RetentionFacts,
                     until: date | None, expected: str, detail: dict[str, Any]) -> RetentionChange:
    """Write ``stored`` with its new retention as a new metadata.json over the sealed version ``expected``,
    lengthen its storage locks (never shorten), seal it (``retention.change``) and update the catalog."""
    started = datetime.now(UTC)
    doc_id = stored.id
    change = _change(stored, facts, until)
    updated = stored.model_copy(deep=True)
    updated.retention, updated.retain_until = facts, until
    updated.events.append(Event(stage="retention", started_at=started, finished_at=datetime.now(UTC),
                                detail={**change.detail(), **detail}))
    locks = store_version(ctx, updated, expected)
    before, after, versions = locks.before, locks.after, locks.versions_extended
    if before is not None and (after is None or after < before):
        change.storage_lock, change.lock_until = KEPT, before
    else:
        change.storage_lock, change.lock_until = (EXTENDED if versions else UNCHANGED), after
    # Seal first (S3 is the record; the catalog is derived and rebuilt from S3 if this fails later).
    ctx.audit.record(actor.name, CHANGE, doc_id, "ok", {
        **change.detail(), **detail, "storage_lock": change.storage_lock,
        "lock_until": change.lock_until.isoformat() if change.lock_until else None, "versions_extended": versions,
        "metadata_sha256": metadata_sha256(updated), SEAL_PREVIOUS: expected})
    ctx.catalog.upsert_document(updated)
    return change


def _change(record: DocumentRecord, facts: RetentionFacts, until: date | None) -> RetentionChange:
    meta = record.metadata
    return RetentionChange(id=record.id, doc_number=meta.doc_number, title=meta.title,
                           old_class=record.retention.class_code, new_class=facts.class_code,
                           old_retain_until=record.retain_until, new_retain_until=until,
                           old_permanent=record.retention.permanent, new_permanent=facts.permanent,
                           rank=meta.classification.rank)


def recompute(ctx: Context, actor: Actor, dry_run: bool = False) -> RecomputeReport:
    """Recompute the retention of every archived document under the schedule in force (see the module
    docstring); ``dry_run`` lists what would change and writes nothing."""
    actor.require(Role.RECORDS_OFFICER, "recompute retention")
    schedule = load_schedule(ctx)
    run = Recomputation(ctx, actor, schedule, f"schedule {schedule.version or schedule.source}", dry_run)
    return run.run(ctx.catalog.live_document_ids()).for_actor(actor)
