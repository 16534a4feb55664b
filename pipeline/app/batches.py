"""Ingest a batch: plan it, quarantine what cannot be a document, run every document through the stages
(in-process or on Celery workers) and report one outcome per document. The CLI and the REST API are thin
shells around :func:`ingest_batch`.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from pipeline.app.process import (
    ARCHIVED,
    DUPLICATE,
    PENDING,
    QUARANTINED,
    DocumentOutcome,
    item_to_dict,
    process_document,
    quarantine_item,
)
from pipeline.archive import ArchiveStore
from pipeline.core.settings import Settings
from pipeline.scan import BatchPlan, IntakeItem, plan_batch


class IngestObserver(Protocol):
    def planned(self, plan: BatchPlan) -> None: ...
    def stage(self, source: str, stage: str) -> None: ...
    def done(self, outcome: DocumentOutcome) -> None: ...


class NullObserver:
    def planned(self, plan: BatchPlan) -> None:
        pass

    def stage(self, source: str, stage: str) -> None:
        pass

    def done(self, outcome: DocumentOutcome) -> None:
        pass


@dataclass
class IngestReport:
    batch: str
    documents: list[DocumentOutcome] = field(default_factory=list)
    manifest_errors: list[str] = field(default_factory=list)

    def count(self, status: str) -> int:
        return sum(1 for d in self.documents if d.status == status)

    @property
    def ok(self) -> bool:
        return not self.manifest_errors and self.count(QUARANTINED) == 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "batch": self.batch,
            "summary": {s: self.count(s) for s in (ARCHIVED, DUPLICATE, QUARANTINED)},
            "documents": [d.to_dict() for d in self.documents],
            "manifest_errors": self.manifest_errors,
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


def ingest_batch(settings: Settings, batch_dir: Path, manifest: Path | None = None,
                 executor: str | None = None, observer: IngestObserver | None = None,
                 timeout_s: float = 6 * 3600) -> IngestReport:
    observer = observer or NullObserver()
    plan = plan_batch(batch_dir, manifest)  # a missing batch or unreadable manifest fails before any write
    store = ArchiveStore(settings.s3)
    store.ensure_bucket()
    observer.planned(plan)
    report = IngestReport(batch=plan.batch, manifest_errors=list(plan.manifest_errors))
    for problem in plan.problems:
        outcome = quarantine_item(store, plan.batch, problem)
        report.documents.append(outcome)
        observer.done(outcome)
    items, dupes = _split_in_batch_duplicates(plan)
    for outcome in dupes:
        report.documents.append(outcome)
        observer.done(outcome)
    mode = executor or settings.executor
    if mode == "local":
        run = _run_local
    elif mode == "celery":
        run = _run_celery
    else:
        raise ValueError(f"unknown executor {mode!r}: expected 'local' or 'celery'")
    report.documents.extend(run(settings, store, plan, items, observer, timeout_s))
    order = {d.source_path: i for i, d in enumerate(plan.documents)}
    report.documents.sort(key=lambda d: (order.get(d.source, -1), d.source))
    return report


def _run_local(settings: Settings, store: ArchiveStore, plan: BatchPlan, items: list[IntakeItem],
               observer: IngestObserver, timeout_s: float) -> list[DocumentOutcome]:
    from pipeline.app.indexing import index_record

    outcomes = []
    for item in items:
        observer.stage(item.source_path, "queued")
        outcome, record, texts = process_document(
            item, plan.batch, plan.received_at, settings, store,
            progress=lambda stage, src=item.source_path: observer.stage(src, stage))
        if record is not None:
            observer.stage(item.source_path, "index")
            try:
                index_record(settings, record, texts)
            except Exception as exc:  # archived is archived: the index is derived and can be rebuilt
                outcome.reason = f"archived, but indexing failed ({exc}); run `archive reindex`"
        outcomes.append(outcome)
        observer.done(outcome)
    return outcomes


def _run_celery(settings: Settings, store: ArchiveStore, plan: BatchPlan, items: list[IntakeItem],
                observer: IngestObserver, timeout_s: float) -> list[DocumentOutcome]:
    from pipeline.entry import worker as tasks

    tasks.configure(settings)
    tasks.require_worker()
    pending: dict[str, Any] = {}
    for item in items:
        result = tasks.submit_document(item_to_dict(item), plan.batch, plan.received_at.isoformat())
        pending[item.source_path] = result
        observer.stage(item.source_path, "queued")
    outcomes: list[DocumentOutcome] = []
    last_stage: dict[str, str] = {}
    deadline = time.monotonic() + timeout_s
    while pending:
        for source, result in list(pending.items()):
            stage = tasks.current_stage(result)
            if stage and stage != last_stage.get(source):
                last_stage[source] = stage
                observer.stage(source, stage)
            if result.ready():
                outcome = tasks.collect(result, source)
                del pending[source]
                outcomes.append(outcome)
                observer.done(outcome)
        if pending:
            if time.monotonic() > deadline:
                for source in pending:
                    reason = "still queued or running on the workers when ingest stopped waiting"
                    outcome = DocumentOutcome(source, PENDING, reason=reason)
                    outcomes.append(outcome)
                    observer.done(outcome)
                break
            time.sleep(0.25)
    return outcomes

