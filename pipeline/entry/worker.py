"""Celery tasks: thin wrappers that chain the stage functions.

Queues: ``ocr`` (OCR, PDF/A, signing, storage; prefork, one process per core) and ``index`` (the single
index writer; run it with concurrency 1 in production — the search package also locks its writer).
"""

from __future__ import annotations

import os
from datetime import datetime
from typing import Any

from celery import Celery, Task, chain
from celery.result import AsyncResult

from pipeline.app.context import Context
from pipeline.app.process import FAILED, DocumentOutcome, item_from_dict
from pipeline.core.actor import SYSTEM
from pipeline.core.settings import Settings, load_settings

os.environ.setdefault("OMP_THREAD_LIMIT", "1")  # measured: 9.1 CPU s/page without it, 1.9 with it

app = Celery("archive")
app.conf.update(
    task_serializer="json",
    result_serializer="json",
    accept_content=["json"],
    task_acks_late=True,  # a worker killed mid-task leaves the message for another worker
    task_reject_on_worker_lost=True,
    worker_prefetch_multiplier=1,
    task_track_started=True,
    result_expires=7 * 24 * 3600,
    broker_connection_retry_on_startup=True,
    worker_hijack_root_logger=False,
    task_routes={
        "archive.process_document": {"queue": "ocr"},
        "archive.index_document": {"queue": "index"},
        "archive.renew_timestamps": {"queue": "ocr"},
    },
)
_settings: Settings | None = None
_context: Context | None = None


def configure(settings: Settings | None = None) -> Settings:
    global _settings, _context
    _settings = settings or load_settings()
    _context = None
    app.conf.broker_url = _settings.redis.url
    app.conf.result_backend = _settings.redis.url
    return _settings


def current_settings() -> Settings:
    return _settings or configure()


def context() -> Context:
    """One composition root per worker process (built lazily, after the prefork)."""
    global _context
    if _context is None:
        from pipeline.core.logs import setup_logging

        settings = current_settings()
        setup_logging(settings.log_dir, settings.log.level, terminal=False)
        _context = Context(settings)
    return _context


configure()


@app.task(bind=True, name="archive.process_document")
def process_document_task(self: Task, item: dict[str, Any], batch_id: str, batch: str, received_at: str,
                          actor: str = "") -> dict[str, Any]:
    from pipeline.app.archiving import archive_document

    def progress(stage: str) -> None:
        if self.request.id:
            self.update_state(state="PROGRESS", meta={"stage": stage})

    outcome, _record, _texts = archive_document(context(), actor or SYSTEM.name, batch_id, batch,
                                                datetime.fromisoformat(received_at), item_from_dict(item),
                                                progress=progress)
    return outcome.to_dict()


@app.task(bind=True, name="archive.index_document", max_retries=5)
def index_document_task(self: Task, outcome: dict[str, Any]) -> dict[str, Any]:
    """Index an archived document, reading it back from storage (the system of record)."""
    if outcome.get("status") != "archived":
        return outcome
    from pipeline.app.indexing import index_archived

    if self.request.id:
        self.update_state(state="PROGRESS", meta={"stage": "index"})
    try:
        index_archived(context(), outcome["id"])
    except Exception as exc:
        if self.request.retries < self.max_retries:
            raise self.retry(exc=exc, countdown=2**self.request.retries) from exc
        outcome["reason"] = f"archived, but indexing failed ({exc}); run `archive reindex`"
    return outcome


@app.task(name="archive.renew_timestamps")
def renew_timestamps_task(within_days: int | None = None) -> dict[str, Any]:
    """Periodic (Celery beat, daily): fresh document timestamps on B-LTA documents nearing expiry."""
    from pipeline.app.renewal import renew_timestamps

    return renew_timestamps(context(), SYSTEM, within_days).to_dict()


app.conf.beat_schedule = {
    "renew-document-timestamps": {"task": "archive.renew_timestamps", "schedule": 24 * 3600.0},
}


def submit_document(item: dict[str, Any], batch_id: str, batch: str, received_at: str, actor: str) -> AsyncResult:
    return chain(process_document_task.s(item, batch_id, batch, received_at, actor),
                 index_document_task.s()).apply_async()


def current_stage(result: AsyncResult) -> str:
    """The stage a submitted document is in, from the task states of its chain."""
    for node in (result, result.parent):
        if node is None:
            continue
        state = node.state
        if state == "PROGRESS" and isinstance(node.info, dict):
            return str(node.info.get("stage", ""))
        if state == "STARTED" and node is result.parent:
            return "started"
    return ""


def collect(result: AsyncResult, source: str) -> DocumentOutcome:
    if result.successful():
        return DocumentOutcome(**result.result)
    parent = result.parent
    failed = parent if parent is not None and parent.failed() else result
    return DocumentOutcome(source, FAILED, reason=f"task failed: {failed.result!r}; input left in the batch")


def require_worker(timeout_s: float = 5.0) -> None:
    replies = app.control.ping(timeout=timeout_s, limit=1)  # limit: answer at the first reply, not after 5 s
    if not replies:
        raise RuntimeError("no Celery worker answers on the broker "
                           f"{current_settings().redis.url}: start one with `archive worker` "
                           "(or ingest with --local)")
