"""Fixity audits: re-read a document's stored objects and compare them with what was recorded, so silent
corruption (a bit flipped on a disk, an object rewritten behind the archive's back) is found while a good copy
can still be found, not years later when someone opens the file.

One check of a document is what `archive verify ID` does to its bytes, without the signature validation: the
stored metadata.json against its seal in force in the (verified) audit trail, then every artefact it lists
(archive.pdf, originals, attachments, page texts) re-hashed against its recorded SHA-256
(:meth:`pipeline.archive.ArchiveStore.verify_fixity`). A destroyed document is checked as verification does:
its residual record against its seal, and nothing else left under its id.

A run without ids takes the ``fixity.batch`` documents checked longest ago (never-checked first), so the beat
covers a big archive in turn. Every check is recorded in the catalog; a failure is an audit event
(``fixity.check``, outcome ``failed``, with the problems), an error in the log and counted in the metrics; a
document whose previous check failed and that is intact again (repaired) gets a ``fixity.check`` ``ok`` event.
Each run ends with a ``fixity.run`` summary event. A run covers every document whatever its classification
(like a retention recompute); what it answers names only documents the actor may see. Storage unreachable is
not a fixity failure: the run stops there (what was checked stays recorded) and says so.

With a replica (``[replica]``, :mod:`pipeline.app.replicas`) each document's objects are first compared on both
sides and a side whose copy fails is rewritten from the intact one: reported (``repaired``), audited
(``replica.repair``, and ``fixity.check`` outcome ``repaired``) and counted; a document whose damage could be
repaired is intact again. An unreachable replica is logged and the primary checked alone.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from pipeline.app import documents, metrics, replicas
from pipeline.app.audit import SEALS, SealState, judge_seal
from pipeline.app.context import Context
from pipeline.app.errors import AppError
from pipeline.app.verification import residual_leftovers
from pipeline.archive import layout
from pipeline.archive.errors import ArchiveError, NotFoundError
from pipeline.catalog.fixity import FixityRow
from pipeline.core.actor import Actor
from pipeline.core.record import DocumentRecord
from pipeline.core.vocabulary import Classification, Role

log = logging.getLogger("archive.fixity")

CHECK = "fixity.check"  # one document: outcome failed (with the problems), or ok once repaired
RUN = "fixity.run"  # the summary of one run
MAX_AUDITED_PROBLEMS = 20


class StorageUnavailable(AppError):
    """Storage could not be read: the run stopped; nothing was recorded as a fixity failure for it."""


@dataclass
class FixityResult:
    """One document's check."""

    id: str
    ok: bool
    checked_at: datetime
    problems: list[str] = field(default_factory=list)
    disposed: bool = False
    rank: int = field(default=0, repr=False)  # the document's classification rank (who may see this line)
    repaired: list[str] = field(default_factory=list)  # damage found and repaired from the other copy

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "ok": self.ok, "checked_at": self.checked_at.isoformat(), "disposed": self.disposed,
                "problems": self.problems, "repaired": self.repaired}


@dataclass
class FixityRun:
    results: list[FixityResult] = field(default_factory=list)

    @property
    def failed(self) -> list[FixityResult]:
        return [r for r in self.results if not r.ok]

    def for_actor(self, actor: Actor) -> FixityRun:
        """What ``actor`` may see of the run: documents above their clearance do not exist for them."""
        return FixityRun([r for r in self.results if r.rank <= actor.clearance.rank])

    def to_dict(self) -> dict[str, Any]:
        return {"checked": len(self.results), "failed": len(self.failed),
                "repaired": sum(bool(r.repaired) for r in self.results),
                "documents": [r.to_dict() for r in self.results]}


@dataclass
class FixityReport:
    """Coverage over the documents the reader may see, and every one whose last check failed."""

    documents: int
    days: int
    recent: int
    never: int
    oldest: FixityRow | None
    failing: list[FixityRow]

    def to_dict(self) -> dict[str, Any]:
        return {"documents": self.documents, "days": self.days, "checked_recently": self.recent,
                "never_checked": self.never, "oldest_check": _row(self.oldest) if self.oldest else None,
                "failing": [_row(r) for r in self.failing]}


def _row(row: FixityRow) -> dict[str, Any]:
    return {"id": row.doc_id, "doc_number": row.doc_number, "title": row.title,
            "checked_at": row.checked_at.isoformat(), "ok": row.ok, "problems": row.problems}


class _Seals:
    """The seals of every document, judged in one verified pass over the trail (not one pass per document)."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.refresh()

    def refresh(self) -> None:
        last = self.ctx.catalog.last_audit_event()
        self.head = int(last["seq"]) if last else None
        self.report, self.states = self.ctx.audit.latest_seals(self.head)

    def resealed(self, doc_id: str) -> bool:
        """Whether ``doc_id`` was sealed again since these seals were read (a renewal, an edit during the run)."""
        return any(e["action"] in SEALS and int(e["seq"]) > (self.head or 0)
                   for e in self.ctx.catalog.query_audit(object_id=doc_id))

    def sealed(self, doc_id: str) -> str | None:
        """The metadata.json hash of the document's seal in force, when the trail can be trusted."""
        state = self.states.get(doc_id)
        return state.sealed if self.report.ok and state is not None and not state.refused else None

    def judge(self, doc_id: str, raw: bytes | None) -> tuple[str, str | None]:
        check = judge_seal(self.report, self.states.get(doc_id, SealState()), doc_id, raw)
        return check.status, check.problem


def _replica(ctx: Context, actor_name: str, doc_id: str, seals: _Seals) -> tuple[list[str], list[str]]:
    """Both copies compared and a damaged side repaired from the intact one, before the primary is checked:
    (what was repaired, what is still wrong on the replica or on both sides)."""
    if ctx.replica is None or ctx.replica.paused:  # paused: unreachable moments ago, not waited for again
        return [], []
    try:
        found = replicas.check_document(ctx, actor_name, doc_id, seals.sealed(doc_id), True, seals.head)
    except replicas.ReplicaUnavailable as exc:
        ctx.replica.pause()
        log.warning("fixity of %s: the replica was not checked: %s", doc_id, exc, extra={"doc_id": doc_id})
        return [], []
    return found.repaired, [f.problem for f in found.findings
                            if f.status in replicas.PROBLEMS and f.side in ("replica", "both")]


def _check(ctx: Context, doc_id: str, seals: _Seals, actor_name: str = "system") -> FixityResult | None:
    """One document's stored objects against its seal and checksums; None if it left the catalog meanwhile."""
    known = ctx.catalog.get_record(doc_id, Classification.TUYET_MAT.rank)
    if known is None:
        return None
    repaired, problems = _replica(ctx, actor_name, doc_id, seals)
    try:
        raw: bytes | None = ctx.store.get_bytes(layout.metadata_key(doc_id))
    except NotFoundError:
        raw = None
    stored: DocumentRecord = known  # the artefacts to check: storage's metadata.json (what the seal covers)
    if raw is not None:
        try:
            stored = DocumentRecord.from_json(raw)
        except ValueError as exc:
            problems.append(f"stored metadata.json is unreadable: {exc}")
    status, problem = seals.judge(doc_id, raw)
    if status == "MISMATCH" and seals.resealed(doc_id):  # not damaged: re-read the seals, judge again
        seals.refresh()
        status, problem = seals.judge(doc_id, raw)
    problems += [problem] if problem else []
    disposed = stored.disposal is not None
    problems += residual_leftovers(ctx, stored) if disposed else ctx.store.verify_fixity(doc_id, stored)
    return FixityResult(doc_id, not problems, datetime.now(UTC), problems, disposed,
                        known.metadata.classification.rank, repaired)


def _record(ctx: Context, actor: Actor, result: FixityResult, was_ok: bool | None) -> None:
    ctx.catalog.record_fixity(result.id, result.checked_at, result.ok, result.problems, actor.name)
    if not result.ok:
        log.error("fixity check of %s failed: %s", result.id, "; ".join(result.problems),
                  extra={"doc_id": result.id})
        ctx.audit.record(actor.name, CHECK, result.id, "failed",
                         {"problems": result.problems[:MAX_AUDITED_PROBLEMS], "count": len(result.problems),
                          "disposed": result.disposed})
    elif result.repaired:
        ctx.audit.record(actor.name, CHECK, result.id, "repaired", {"repaired": result.repaired[:MAX_AUDITED_PROBLEMS],
                                                                    "count": len(result.repaired)})
    elif was_ok is False:
        log.info("fixity of %s restored: its last check had failed", result.id, extra={"doc_id": result.id})
        ctx.audit.record(actor.name, CHECK, result.id, "ok", {"previously": "failed"})


def _run(ctx: Context, actor: Actor, doc_ids: list[str], requested: bool, until: float | None) -> FixityRun:
    run = FixityRun()
    try:
        seals = _Seals(ctx)
        before = ctx.catalog.fixity_last_ok(doc_ids)
        for doc_id in doc_ids:
            if until is not None and time.monotonic() >= until:  # the rest wait for the next run (oldest first)
                log.warning("fixity run stopped at its time budget: %d of %d document(s) checked",
                            len(run.results), len(doc_ids))
                break
            result = _check(ctx, doc_id, seals, actor.name)
            if result is not None:
                _record(ctx, actor, result, before.get(doc_id))
                run.results.append(result)
    except ArchiveError as exc:  # unreachable or refusing: the documents are not known to be damaged
        log.warning("fixity run stopped after %d document(s): %s", len(run.results), exc)
        raise StorageUnavailable(f"fixity run stopped after {len(run.results)} document(s): {exc}") from exc
    finally:
        failed = len(run.failed)
        metrics.fixity_checked(ctx.settings, len(run.results) - failed, failed)
    ctx.audit.record(actor.name, RUN, "fixity", "failed" if run.failed else "ok",
                     {"checked": len(run.results), "failed": len(run.failed), "requested": requested,
                      "repaired": sum(bool(r.repaired) for r in run.results),
                      "left_for_later": len(doc_ids) - len(run.results)})
    return run


def check(ctx: Context, actor: Actor, idents: list[str] | None = None, batch: int | None = None,
          until: float | None = None) -> FixityRun:
    """Check the documents ``idents`` (ids or unique prefixes the actor may see), or else the next
    ``batch`` (default ``fixity.batch``) documents of the whole archive, the oldest-checked first. ``until``: a
    ``time.monotonic()`` deadline after which no further document is started (a worker's time limit)."""
    actor.require(Role.RECORDS_OFFICER, "check the fixity of stored documents")
    if idents:
        doc_ids = list(dict.fromkeys(documents.resolve_id(ctx, actor, i) for i in idents))
    else:
        doc_ids = ctx.catalog.fixity_due(batch or ctx.settings.fixity.batch)
    return _run(ctx, actor, doc_ids, bool(idents), until).for_actor(actor)


def report(ctx: Context, actor: Actor, days: int | None = None) -> FixityReport:
    """Coverage (checked within ``days``, default ``fixity.report_days``; never checked; the oldest check) and
    the documents whose last check failed, among those the actor may see."""
    actor.require(Role.RECORDS_OFFICER, "read the fixity report")
    window = days or ctx.settings.fixity.report_days
    since = datetime.now(UTC) - timedelta(days=window)
    covered = ctx.catalog.fixity_coverage(actor.clearance.rank, since)
    return FixityReport(covered.documents, window, covered.recent, covered.never, covered.oldest,
                        ctx.catalog.fixity_failing(actor.clearance.rank))
