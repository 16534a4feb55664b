"""Resume a batch from its journal, and list batches: after a killed worker, a killed `archive ingest` or a
service outage, every document whose journal state is not final (planned, processing, pending, failed) is
planned again from the batch's folder and run under the same batch id. Nothing is archived twice: a document
storage already holds is a duplicate by content hash, and one this very batch stored before it died is reported
archived (:func:`pipeline.app.archiving.archive_document`). Who may see a batch, and what of it, is
:mod:`pipeline.app.batch_runs`'s rule (the submitter or an administrator; items above the caller's clearance
unnamed), reused here."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pipeline.app.batch_runs import _state, _summary, _visible, batch_status
from pipeline.app.batches import (
    IngestObserver,
    IngestReport,
    NullObserver,
    executor_for,
    finish_batch,
    run_plan,
)
from pipeline.app.context import Context
from pipeline.app.errors import NotFound
from pipeline.app.process import FAILED, DocumentOutcome
from pipeline.app.retention_rules import schedule_for
from pipeline.catalog.rows import BatchRow
from pipeline.core.actor import Actor
from pipeline.core.vocabulary import DocState, Role
from pipeline.scan import plan_batch

log = logging.getLogger("archive.ingest")
UNFINISHED = frozenset({DocState.PLANNED, DocState.PROCESSING, DocState.PENDING, DocState.FAILED})
__all__ = ["UNFINISHED", "Resumed", "batch_status", "recent_batches", "resume_batch", "unfinished_count"]


@dataclass
class Resumed:
    """What a resume ran (``report``) and how many documents of the whole batch are still not final."""

    report: IngestReport
    unfinished: int

    def to_dict(self) -> dict[str, Any]:
        return {**self.report.to_dict(), "unfinished": self.unfinished}


def _batch(ctx: Context, actor: Actor, batch_id: str) -> BatchRow:
    row = ctx.catalog.get_batch(batch_id)
    if row is None or not _visible(actor, row.actor):
        raise NotFound(f"no batch {batch_id!r}")
    return row


def unfinished_count(ctx: Context, batch_id: str) -> int:
    """Documents of the batch whose journal state is not final (the CLI's exit code)."""
    return sum(1 for item in ctx.catalog.batch_items(batch_id) if item.state in UNFINISHED)


def recent_batches(ctx: Context, actor: Actor, limit: int = 50) -> list[dict[str, Any]]:
    """The newest batches the caller may follow (their own; every batch for an administrator), with counts."""
    actor.require(Role.ARCHIVIST, "follow batches")
    out: list[dict[str, Any]] = []
    for row in ctx.catalog.list_batches():
        if not _visible(actor, row.actor):
            continue
        summary = _summary(row.counts)
        total = sum(row.counts.values())
        out.append({"batch_id": row.id, "name": row.name, "actor": row.actor, "state": _state(None, row),
                    "total": total, "finished": total - summary["pending"], "summary": summary,
                    "started_at": row.started_at, "finished_at": row.finished_at})
        if len(out) >= limit:
            break
    return out


def resume_batch(ctx: Context, actor: Actor, batch_id: str, manifest: Path | None = None,
                 executor: str | None = None, observer: IngestObserver | None = None,
                 timeout_s: float = 6 * 3600) -> Resumed:
    """Run again every unfinished document of ``batch_id`` from its folder, journalled under the same id.
    A journalled document no longer in the folder is set ``failed`` with what to do."""
    actor.require(Role.ARCHIVIST, "resume batches")
    row = _batch(ctx, actor, batch_id)
    todo = {i.source_path for i in ctx.catalog.batch_items(batch_id) if i.state in UNFINISHED}
    report = IngestReport(batch=row.name, batch_id=batch_id)
    if not todo:  # finished meanwhile (the workers went on after the ingest stopped waiting): close the batch
        if row.state != "done":
            finish_batch(ctx, actor, report, "done")
        return Resumed(report, 0)
    root = Path(row.root)
    mode = executor_for(ctx, executor, root)
    schedule_for(ctx.settings)
    plan = plan_batch(root, manifest, scan=ctx.settings.scan)  # a folder gone fails here, one line, nothing written
    ctx.store.ensure_bucket()
    plan.batch, plan.received_at = row.name, row.started_at  # the batch as first received
    plan.documents = [d for d in plan.documents if d.source_path in todo]
    plan.problems = [p for p in plan.problems if p.source_path in todo]
    plan.skipped = [s for s in plan.skipped if s.source_path in todo]
    found = {e.source_path for e in (*plan.documents, *plan.problems, *plan.skipped)}
    ctx.audit.record(actor.name, "batch.resume", batch_id, "ok",
                     {"name": row.name, "unfinished": len(todo), "found": len(found), "executor": mode})
    log.info("resuming batch %s: %d unfinished document(s)", batch_id, len(todo), extra={"batch": batch_id})
    report = run_plan(ctx, actor, batch_id, plan, mode, observer or NullObserver(), timeout_s)
    for source in sorted(todo - found):
        reason = f"no longer in {root}: put it back and resume the batch"
        ctx.catalog.set_item_state(batch_id, source, FAILED, reason=reason)
        report.documents.append(DocumentOutcome(source, FAILED, reason=reason))
    left = unfinished_count(ctx, batch_id)
    finish_batch(ctx, actor, report, "done" if left == 0 else "incomplete")
    return Resumed(report, left)
