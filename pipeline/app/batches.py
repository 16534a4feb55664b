"""Ingest a batch: plan it, quarantine what cannot be a document, run every document through the stages
(in-process or on Celery workers) and report one outcome per document. The CLI and the REST API are thin
shells around :func:`ingest_batch`.
"""

from __future__ import annotations

import logging
import os
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol, get_args

from pipeline.app import metrics
from pipeline.app.archiving import archive_document, quarantine_problem
from pipeline.app.context import Context
from pipeline.app.doc_limits import document_limits
from pipeline.app.errors import Invalid
from pipeline.app.lost_tasks import LostWatch
from pipeline.app.outages import Patience
from pipeline.app.process import (
    ARCHIVED,
    DUPLICATE,
    FAILED,
    PENDING,
    QUARANTINED,
    DocumentOutcome,
    item_to_dict,
)
from pipeline.app.retention_rules import schedule_for
from pipeline.core.actor import Actor
from pipeline.core.settings_scan import Profile
from pipeline.core.vocabulary import DocState, Role
from pipeline.scan import BatchPlan, IntakeItem, plan_batch


class IngestObserver(Protocol):
    def planned(self, plan: BatchPlan) -> None: ...
    def stage(self, source: str, stage: str) -> None: ...
    def done(self, outcome: DocumentOutcome) -> None: ...
    def notice(self, message: str) -> None: ...  # a service outage being waited out ("" once it is over)


class NullObserver:
    def planned(self, plan: BatchPlan) -> None:
        pass

    def stage(self, source: str, stage: str) -> None:
        pass

    def done(self, outcome: DocumentOutcome) -> None:
        pass

    def notice(self, message: str) -> None:
        pass


log = logging.getLogger("archive.ingest")
SKIPPED = DocState.SKIPPED.value  # not a document (OS or office leftovers): reported, never makes ingest fail


@dataclass
class IngestReport:
    batch: str
    batch_id: str = ""
    documents: list[DocumentOutcome] = field(default_factory=list)
    manifest_errors: list[str] = field(default_factory=list)
    manifest: str = ""  # the manifest read (not a document, so no row)
    separators: int = 0  # separator sheets found in the batch's scanned streams
    blank_pages: int = 0  # blank pages dropped from scanned documents

    def count(self, status: str) -> int:
        return sum(1 for d in self.documents if d.status == status)

    @property
    def ok(self) -> bool:
        return not self.manifest_errors and not self.not_archived

    @property
    def not_archived(self) -> int:
        """Documents that are neither archived nor duplicates: quarantined, failed or still pending."""
        return sum(self.count(s) for s in (QUARANTINED, FAILED, PENDING))

    @property
    def unfinished(self) -> int:
        """Documents whose input was not kept anywhere yet (failed) or whose outcome is unknown (pending)."""
        return self.count(FAILED) + self.count(PENDING)

    @property
    def empty(self) -> bool:
        """No document at all: nothing, or only skipped files (which never make the ingest fail)."""
        return self.count(SKIPPED) == len(self.documents) and not self.manifest_errors

    def to_dict(self) -> dict[str, Any]:
        return {
            "batch": self.batch,
            "batch_id": self.batch_id,
            "summary": {s: self.count(s) for s in (ARCHIVED, DUPLICATE, QUARANTINED, SKIPPED, FAILED, PENDING)},
            "documents": [d.to_dict() for d in self.documents],
            "manifest": self.manifest,
            "manifest_errors": self.manifest_errors,
            "separators": self.separators,
            "blank_pages": self.blank_pages,
        }


def _split_in_batch_duplicates(plan: BatchPlan) -> tuple[list[IntakeItem], list[DocumentOutcome]]:
    seen: dict[str, str] = {}
    unique: list[IntakeItem] = []
    dupes: list[DocumentOutcome] = []
    for item in plan.documents:
        if item.doc_id in seen:
            dupes.append(DocumentOutcome(item.source_path, DUPLICATE, item.doc_id,
                                         f"same content as {seen[item.doc_id]} in this batch",
                                         pages=item.page_count, origin=item.origin.value))
        else:
            seen[item.doc_id] = item.source_path
            unique.append(item)
    return unique, dupes


def require_intake_root(roots: list[Path], batch_dir: Path) -> None:
    """Workers read files inside the intake roots only: a batch elsewhere is refused before anything runs."""
    real = Path(os.path.realpath(batch_dir))
    if not any(real.is_relative_to(root) for root in roots):
        raise Invalid(f"{batch_dir} is outside the intake roots ({', '.join(map(str, roots))}): move the batch "
                      "there or add its folder to intake.roots")


def executor_for(ctx: Context, executor: str | None, batch_dir: Path) -> str:
    """``local`` or ``celery`` (the setting unless given); the workers' intake roots checked for ``celery``."""
    mode = executor or ctx.settings.executor
    if mode not in ("local", "celery"):
        raise Invalid(f"unknown executor {mode!r}: expected 'local' or 'celery'")
    if mode == "celery":
        require_intake_root(ctx.settings.intake_roots, batch_dir)
    return mode


def new_batch_id(at: datetime) -> str:
    """A batch id: when it was received (UTC) and a random suffix, e.g. 20261102T081500Z-1a2b3c4d."""
    return f"{at:%Y%m%dT%H%M%SZ}-{uuid.uuid4().hex[:8]}"


def ingest_batch(ctx: Context, actor: Actor, batch_dir: Path, manifest: Path | None = None,
                 executor: str | None = None, observer: IngestObserver | None = None,
                 timeout_s: float = 6 * 3600, batch_id: str | None = None, profile: str = "") -> IngestReport:
    """Plan the batch, journal every entry, then archive each document (in-process or on the workers).
    ``batch_id``: chosen by the caller (an upload answers with it before the batch starts), else made here.
    ``profile``: how this batch's scanned pages are stored (``scan.profile``'s values; "": the configuration's)."""
    actor.require(Role.ARCHIVIST, "ingest batches")
    observer = observer or NullObserver()
    mode = executor_for(ctx, executor, batch_dir)
    schedule_for(ctx.settings)  # a bad retention schedule fails the ingest before any write, with its reason
    # A missing batch or an unreadable manifest fails here, before any write.
    plan = plan_batch(batch_dir, manifest, scan=ctx.settings.scan)
    if profile:
        if profile not in get_args(Profile):
            raise Invalid(f"unknown storage profile {profile!r}: expected {', '.join(get_args(Profile))}")
        for item in plan.documents:
            item.profile = profile
    ctx.store.ensure_bucket()
    batch_id = batch_id or new_batch_id(plan.received_at)
    planned = []
    for entry in [*plan.problems, *plan.documents]:
        meta = getattr(entry, "metadata", None)  # a problem (unreadable input) has no classification: unknown
        planned.append((entry.source_path, getattr(entry, "doc_id", ""),
                        meta.classification.rank if meta is not None else None))
    ctx.catalog.start_batch(batch_id, plan.batch, str(plan.root), actor.name, planned)  # one transaction
    ctx.audit.record(actor.name, "batch.start", batch_id, "ok",
                     {"name": plan.batch, "documents": len(plan.documents), "problems": len(plan.problems),
                      "skipped": len(plan.skipped), "executor": mode})
    log.info("batch %s: %d document(s), %d problem(s)", plan.batch, len(plan.documents), len(plan.problems),
             extra={"batch": batch_id})
    report = run_plan(ctx, actor, batch_id, plan, mode, observer, timeout_s)
    finish_batch(ctx, actor, report, "done" if report.unfinished == 0 else "incomplete")
    return report


def run_plan(ctx: Context, actor: Actor, batch_id: str, plan: BatchPlan, mode: str, observer: IngestObserver,
             timeout_s: float) -> IngestReport:
    """Run a journalled plan (a new batch's, or the unfinished part of one being resumed): skipped entries and
    problems journalled, in-batch duplicates set aside, every document archived; failed and pending ones
    journalled as such. The batch itself is finished by the caller."""
    observer.planned(plan)
    report = IngestReport(batch=plan.batch, batch_id=batch_id, manifest_errors=list(plan.manifest_errors),
                          manifest=plan.manifest, separators=plan.separators, blank_pages=plan.blank_pages)
    for skip in plan.skipped:  # not documents: left in the batch, journalled with their reason
        ctx.catalog.set_item_state(batch_id, skip.source_path, SKIPPED, reason=skip.reason)
        report.documents.append(DocumentOutcome(skip.source_path, SKIPPED, reason=skip.reason))
    for problem in plan.problems:
        outcome = quarantine_problem(ctx, actor.name, batch_id, plan.batch, problem)
        report.documents.append(outcome)
        observer.done(outcome)
    items, dupes = _split_in_batch_duplicates(plan)
    for outcome in dupes:
        ctx.catalog.set_item_state(batch_id, outcome.source, DUPLICATE, reason=outcome.reason, doc_id=outcome.id)
        report.documents.append(outcome)
        observer.done(outcome)
    metrics.documents_done(ctx.settings, dupes)  # never reach archive_document
    run = _run_local if mode == "local" else _run_celery
    report.documents.extend(run(ctx, actor, batch_id, plan, items, observer, timeout_s))
    for outcome in report.documents:
        if outcome.status in (FAILED, PENDING):
            try:
                ctx.catalog.set_item_state(batch_id, outcome.source, outcome.status, reason=outcome.reason)
            except Exception:  # the catalog is down: the journal keeps an unfinished state, resumable all the same
                log.error("could not journal %s as %s", outcome.source, outcome.status, exc_info=True,
                          extra={"batch": batch_id})
    # A refused worker result was counted by the worker that sent it (if any did): not counted twice here.
    metrics.documents_done(ctx.settings, [d for d in report.documents if d.status == FAILED and d.stage != UNCONFIRMED],
                           {d.source_path: d.origin.value for d in plan.documents})
    order = {d.source_path: i for i, d in enumerate(plan.documents)}
    report.documents.sort(key=lambda d: (order.get(d.source, -1), d.source))
    return report


def finish_batch(ctx: Context, actor: Actor, report: IngestReport, final: str) -> None:
    """Journal and audit the end of a run (``done`` or ``incomplete``); a catalog or storage outage here is
    logged: the per-document outcomes already journalled still stand."""
    try:
        ctx.catalog.finish_batch(report.batch_id, final)
        ctx.audit.record(actor.name, "batch.finish", report.batch_id, final, report.to_dict()["summary"])
    except Exception:
        log.error("batch %s finished %s but could not be recorded", report.batch_id, final, exc_info=True,
                  extra={"batch": report.batch_id})


def _run_local(ctx: Context, actor: Actor, batch_id: str, plan: BatchPlan, items: list[IntakeItem],
               observer: IngestObserver, timeout_s: float) -> list[DocumentOutcome]:
    from pipeline.app.indexing import index_record

    outcomes = []
    for item in items:
        observer.stage(item.source_path, "queued")
        try:
            outcome, record, texts = archive_document(
                ctx, actor.name, batch_id, plan.batch, item.received_at or plan.received_at, item,
                progress=lambda stage, src=item.source_path: observer.stage(src, stage))
        except Exception as exc:  # storage or catalog down: the input stays in the batch folder
            log.exception("could not archive or quarantine %s", item.source_path, extra={"batch": batch_id})
            outcome, record, texts = DocumentOutcome(item.source_path, FAILED, item.doc_id,
                                                     f"{exc}; input left in the batch"), None, []
        if record is not None:
            observer.stage(item.source_path, "index")
            started = time.monotonic()
            try:
                index_record(ctx, record, texts)
                metrics.stage_done(ctx.settings, "index", time.monotonic() - started)
            except Exception as exc:  # archived is archived: the index is derived and can be rebuilt
                metrics.stage_failed(ctx.settings, "index")
                outcome.reason = f"archived, but indexing failed ({exc}); run `archive reindex`"
        outcomes.append(outcome)
        observer.done(outcome)
    return outcomes


UNCONFIRMED = "result-refused"  # the stage of a failure made from a worker result storage did not confirm


def _confirmed(ctx: Context, outcome: DocumentOutcome, planned_id: str) -> DocumentOutcome:
    """A result read from the broker is a claim (anyone with the Redis password can write one): "archived"
    or "duplicate" stands only when storage holds the very document planned, else the input stays put."""
    if outcome.status not in (ARCHIVED, DUPLICATE):
        return outcome
    if outcome.id == planned_id and ctx.store.has_document(planned_id):
        return outcome
    log.warning("result for %s claims %s but storage has no document %s", outcome.source, outcome.status,
                planned_id[:12])
    return DocumentOutcome(outcome.source, FAILED, id=planned_id, stage=UNCONFIRMED, reason=(
        f"the worker's result says {outcome.status}, but storage holds no such document; input left in the batch"))


# Following the workers: every task state is read again at each poll. Quickly while things change, then less
# often (a whole batch polled every 0.25 s took 4-5 % of all CPU while the workers OCR'd).
POLL_FIRST_S, POLL_MAX_S = 0.25, 2.0


def _run_celery(ctx: Context, actor: Actor, batch_id: str, plan: BatchPlan, items: list[IntakeItem],
                observer: IngestObserver, timeout_s: float) -> list[DocumentOutcome]:
    """Submit every document to the workers and follow them. An outage of Redis or the S3 server on this side
    is waited out (:class:`~pipeline.app.outages.Patience`, told to the observer); once the retries are used up,
    what is left is reported unfinished (failed: never submitted; pending: submitted) for `archive batch resume`."""
    from pipeline.entry import worker_client as tasks

    tasks.configure(ctx.settings)
    patience = Patience(ctx.settings, observer.notice)
    patience.call(tasks.require_worker)
    pending: dict[str, Any] = {}
    outcomes: list[DocumentOutcome] = []
    planned_ids = {item.source_path: item.doc_id for item in items}
    resume = f"input left in the batch: `archive batch resume {batch_id}`"
    watch = LostWatch(ctx.settings.redis.lost_check_s)
    messages = {}
    for item in items:
        if document_limits(ctx.settings, item.page_count).capped:
            item.warnings.append(f"{item.page_count} pages: more than its task may take before the broker hands it "
                                 "to another worker (redis.visibility_timeout_s); it may time out: raise that")
        received = item.received_at or plan.received_at  # the manifest's received_at: back-loaded paper
        message = messages[item.source_path] = (item_to_dict(item), batch_id, plan.batch, received.isoformat(),
                                                actor.name)
        try:
            pending[item.source_path] = patience.call(lambda m=message: tasks.submit_document(*m))
            watch.changed(item.source_path)
        except Exception:
            outcome = DocumentOutcome(item.source_path, FAILED, item.doc_id, f"not submitted: {patience.last}; "
                                      f"{resume}", stage="submit", origin=item.origin.value)
            outcomes.append(outcome)
            observer.done(outcome)
            continue
        observer.stage(item.source_path, "queued")
    last_stage: dict[str, str] = {}
    deadline = time.monotonic() + timeout_s
    stopped = "still queued or running on the workers when ingest stopped waiting"
    interval = POLL_FIRST_S
    while pending:
        try:
            tasks.check_broker()
            for source, result in list(pending.items()):
                stage = tasks.current_stage(result)
                if stage and stage != last_stage.get(source):
                    last_stage[source] = stage
                    observer.stage(source, stage)
                    watch.changed(source)
                    interval = POLL_FIRST_S
                if result.ready():
                    interval = POLL_FIRST_S
                    outcome = _confirmed(ctx, tasks.collect(result, source), planned_ids[source])
                    del pending[source]
                    outcomes.append(outcome)
                    observer.done(outcome)
            for source in watch.lost(pending, tasks.missing):
                log.warning("%s: the broker lost its task; submitted again", source, extra={"batch": batch_id})
                pending[source] = tasks.submit_document(*messages[source])
                watch.changed(source)
                observer.stage(source, "submitted again (the broker lost its task)")
            patience.recovered()
        except Exception as exc:
            if patience.wait(exc):  # anything but an outage is raised from here
                continue
            stopped = f"{patience.last}; {resume}"
            deadline = 0.0
        if pending:
            if time.monotonic() > deadline:
                for source in pending:
                    outcome = DocumentOutcome(source, PENDING, planned_ids[source], reason=stopped)
                    outcomes.append(outcome)
                    observer.done(outcome)
                break
            time.sleep(interval)
            interval = min(POLL_MAX_S, interval * 1.5)
    return outcomes
