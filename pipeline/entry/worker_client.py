"""The submitting side of the workers: send a document's signed message, follow its chain's states, collect
the outcome. Used by :mod:`pipeline.app.batches` (the CLI's ingest and the API's uploads), never by a worker."""

from __future__ import annotations

from typing import Any

from celery import chain
from celery.result import AsyncResult

from pipeline.app.messages import sign_message
from pipeline.app.process import FAILED, DocumentOutcome
from pipeline.entry.worker import (
    PROCESS,
    app,
    configure,
    current_settings,
    index_document_task,
    message_key,
    process_document_task,
)

__all__ = ["check_broker", "collect", "configure", "current_stage", "require_worker", "submit_document"]


def submit_document(item: dict[str, Any], batch_id: str, batch: str, received_at: str, actor: str) -> AsyncResult:
    """Sign the document's message and send it (then the index task, fed by the worker's signed outcome)."""
    message = sign_message(message_key(), PROCESS, {"item": item, "batch_id": batch_id, "batch": batch,
                                                    "received_at": received_at, "actor": actor})
    return chain(process_document_task.s(message), index_document_task.s()).apply_async()


def current_stage(result: AsyncResult) -> str:
    """The stage a submitted document is in, from the task states of its chain (each read once: a state and
    its info read apart may belong to two different moments)."""
    for node in (result, result.parent):
        if node is None:
            continue
        meta = node.backend.get_task_meta(node.id)
        state, info = meta.get("status"), meta.get("result")
        if state == "PROGRESS" and isinstance(info, dict):
            return str(info.get("stage", ""))
        if state == "STARTED" and node is result.parent:
            return "started"
        if state == "RETRY" and node is result.parent:  # the task's ServiceOutage says which and how often
            said = str(info) if isinstance(info, Exception) else ""
            return said if ", retrying " in said else "service unavailable, waiting to retry"
    return ""


def check_broker() -> None:
    """Raise at once (redis ConnectionError) when Redis does not answer. Reading results retries through an
    outage silently (``result_backend_always_retry``, for the workers' sake); a client following a batch pings
    first, so it can say what it is waiting for."""
    app.backend.client.ping()


def collect(result: AsyncResult, source: str) -> DocumentOutcome:
    if result.successful():
        return DocumentOutcome(**result.result)
    parent = result.parent
    failed = parent if parent is not None and parent.failed() else result
    return DocumentOutcome(source, FAILED, reason=f"task failed: {failed.result!r}; input left in the batch")


def require_worker(timeout_s: float = 5.0) -> None:
    """Raise RuntimeError when no worker answers a ping. After a Redis restart the first ping on a pooled
    connection raises a connection error and the next one reconnects: callers retry through
    :class:`~pipeline.app.outages.Patience`. (Never ``app.pool.force_close_all()``: it closes the pool for
    good, and every later call fails with "Acquire on closed pool".)"""
    replies = app.control.ping(timeout=timeout_s, limit=1)  # limit: answer at the first reply, not after 5 s
    if not replies:
        raise RuntimeError("no Celery worker answers on the broker "
                           f"{current_settings().redis.display_url}: start one with `archive worker` "
                           "(or ingest with --local)")
