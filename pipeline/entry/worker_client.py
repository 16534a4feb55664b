"""The submitting side of the workers: send a document's signed message, follow its chain's states, collect
the outcome. Used by :mod:`pipeline.app.batches` (the CLI's ingest and the API's uploads), never by a worker."""

from __future__ import annotations

import json
from typing import Any

from celery import Signature, chain
from celery.result import AsyncResult

from pipeline.app.doc_limits import document_limits
from pipeline.app.messages import sign_message
from pipeline.app.process import FAILED, DocumentOutcome
from pipeline.core.settings import Settings
from pipeline.entry import worker
from pipeline.entry.worker import (
    INDEX,
    PROCESS,
    app,
    current_settings,
    index_document_task,
    message_key,
    process_document_task,
)

__all__ = ["check_broker", "collect", "configure", "current_stage", "missing", "require_worker", "submit_document",
           "submit_index"]


def configure(settings: Settings) -> Settings:
    """The workers' configuration, except that reading a task's state raises at once when Redis is away. The
    workers' backend retries through an outage silently (``result_backend_always_retry``, minutes); a client
    following a batch must say what it is waiting for instead (:class:`~pipeline.app.outages.Patience`).
    Only clients call this (the CLI and the API, which run no task), in the thread that follows the batch: Celery's
    backend is per thread."""
    configured = worker.configure(settings)
    app.backend.always_retry = False
    return configured


def submit_document(item: dict[str, Any], batch_id: str, batch: str, received_at: str, actor: str) -> AsyncResult:
    """Sign the document's message and send it (then the index task, fed by the worker's signed outcome), with
    time limits for its page count (:func:`~pipeline.app.doc_limits.document_limits`)."""
    return chain(process_signature(item, batch_id, batch, received_at, actor), index_document_task.s()).apply_async()


def submit_index(doc_id: str) -> AsyncResult:
    """Ask the index writer to index a document again from storage (a destroyed one leaves the index): what a
    search replica does instead of writing an index of its own."""
    outcome = DocumentOutcome("", "archived", doc_id).to_dict()
    return index_document_task.apply_async(args=(sign_message(message_key(), INDEX, {"outcome": outcome}),))


def process_signature(item: dict[str, Any], batch_id: str, batch: str, received_at: str, actor: str) -> Signature:
    message = sign_message(message_key(), PROCESS, {"item": item, "batch_id": batch_id, "batch": batch,
                                                    "received_at": received_at, "actor": actor})
    limits = document_limits(current_settings(), int(item.get("page_count") or 0))
    return process_document_task.s(message).set(soft_time_limit=limits.soft_s, time_limit=limits.hard_s)


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
    """Raise at once (redis ConnectionError) when Redis does not answer, before the states are read."""
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


# Where kombu's Redis transport keeps messages (its Channel's defaults): a queue is a list per priority step
# (the bare name for priority 0); a message delivered and not yet acknowledged is a field of the "unacked" hash.
QUEUES, PRIORITY_SEP, PRIORITY_STEPS, UNACKED = ("ocr", "index"), "\x06\x16", (0, 3, 6, 9), "unacked"


def _task_id(raw: bytes | str, delivered: bool = False) -> str:
    try:
        message = json.loads(raw)
        if delivered:  # [message, exchange, routing key]
            message = message[0]
        return str(message["headers"]["id"])
    except (ValueError, KeyError, IndexError, TypeError):
        return ""


def _waiting_on(result: AsyncResult) -> AsyncResult | None:
    """The task of a document's chain that has yet to finish (None when the chain is done)."""
    parent = result.parent
    if parent is not None and not parent.ready():
        return parent
    return None if result.ready() else result


def missing(results: dict[str, AsyncResult]) -> list[str]:
    """The documents (keys of ``results``) whose chain waits on a task whose message the broker no longer
    holds: neither queued nor delivered and unacknowledged (see :mod:`pipeline.app.lost_tasks`). The broker is
    read before the states, so a task finishing in between is not taken for lost."""
    redis = app.backend.client  # the broker's Redis (one URL for both)
    held = {_task_id(raw) for queue in QUEUES for step in PRIORITY_STEPS
            for raw in redis.lrange(queue if step == 0 else f"{queue}{PRIORITY_SEP}{step}", 0, -1)}
    held |= {_task_id(raw, delivered=True) for raw in redis.hvals(UNACKED)}
    lost = []
    for source, result in results.items():
        waiting = _waiting_on(result)
        if waiting is not None and waiting.id not in held:
            lost.append(source)
    return lost
