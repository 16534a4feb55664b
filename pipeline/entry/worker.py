"""Celery tasks: thin wrappers that chain the stage functions.

Queues: ``ocr`` (OCR, PDF/A, signing, storage; prefork, one process per core) and ``index`` (the single
index writer; run it with concurrency 1 in production — the search package also locks its writer).

Workers trust no message (:mod:`pipeline.app.messages`): each task takes one envelope signed with
``redis.message_key`` and verifies it before anything else; a worker without the key does not start.
Only the submitter, the process task (its own outcome, for the index task) and beat sign messages.
"""

from __future__ import annotations

import logging
import os
import ssl
import sys
import time
from contextlib import suppress
from typing import Any

from celery import Celery, Task
from celery.beat import BeatLazyFunc
from celery.signals import worker_init, worker_process_init, worker_process_shutdown

from pipeline.app.context import Context
from pipeline.app.messages import DOC_ID, MessageRefused, open_message, refuse, sign_message
from pipeline.app.process import FAILED, DocumentOutcome
from pipeline.core.actor import SYSTEM
from pipeline.core.secrets import scrub_environment
from pipeline.core.settings import Settings, load_settings
from pipeline.entry import worker_workspace  # noqa: F401  (worker_init: sweeps dead processes' work folders)

os.umask(0o077)  # work files hold classified pages: the owner's only
scrub_environment()  # secrets stay in this process: OCRmyPDF, Ghostscript, Tesseract never inherit them
os.environ.setdefault("OMP_THREAD_LIMIT", "1")  # measured: 9.1 CPU s/page without it, 1.9 with it

log = logging.getLogger("archive.worker")
app = Celery("archive")
app.conf.update(
    task_serializer="json",
    result_serializer="json",
    accept_content=["json"],
    task_acks_late=True,  # a worker killed mid-task leaves the message for another worker
    task_reject_on_worker_lost=True,
    worker_prefetch_multiplier=1,
    task_track_started=True,
    # Redis away for a while (a restart, a failover): results and chained tasks wait for it instead of being
    # lost (a result not stored fails the document; a chained index task not sent leaves it unindexed).
    result_backend_always_retry=True,
    result_backend_max_retries=30,  # ~10 s apart at most: about 4 minutes
    task_publish_retry_policy={"max_retries": 12, "interval_start": 0, "interval_step": 1, "interval_max": 5},
    result_expires=7 * 24 * 3600,
    broker_connection_retry_on_startup=True,
    worker_hijack_root_logger=False,
    task_routes={
        "archive.process_document": {"queue": "ocr"},
        "archive.index_document": {"queue": "index"},
        "archive.renew_timestamps": {"queue": "renew"},  # the beat worker's own queue (no intake files)
        "archive.extend_permanent_locks": {"queue": "renew"},
        "archive.fixity_audit": {"queue": "renew"},
    },
)
_settings: Settings | None = None
_context: Context | None = None


def configure(settings: Settings | None = None) -> Settings:
    global _settings, _context
    _settings = settings or load_settings()
    _context = None
    from pipeline.app.retention_rules import schedule_for

    schedule_for(_settings)  # a worker with a bad retention schedule does not start (never quarantines for it)
    _limits(_settings)
    if app.conf.broker_url == _settings.redis.url:
        return _settings  # the same broker (an API process configures per batch): its pools stay usable
    # Re-configured in one process (tests, another home): forget connections to the previous broker.
    # Celery caches a connection pool, a producer pool and the result backend; close() drops the first
    # only when it exists, and the other two have no public reset. (Closing them for the same broker would
    # break the next call: kombu's pool registry hands the closed pools back for an equal connection.)
    app.close()
    amqp = app.__dict__.get("amqp")
    if amqp is not None and amqp._producer_pool is not None:
        amqp._producer_pool.force_close_all()
        amqp._producer_pool = None
    app._backend_cache = None
    app._local.backend = None
    app.conf.broker_url = _settings.redis.url
    app.conf.result_backend = _settings.redis.url
    if _settings.redis.tls:
        tls = {"ssl_cert_reqs": ssl.CERT_REQUIRED, "ssl_ca_certs": _settings.redis.ca_file or None}
        app.conf.broker_use_ssl = tls
        app.conf.redis_backend_use_ssl = tls
    return _settings


def _limits(settings: Settings) -> None:
    """Redelivery from ``[redis]``: a message of a killed worker comes back after the visibility timeout
    (minutes, not Celery's hour). The document tasks' time limits (below) keep each under it, so none runs
    twice at once."""
    redis = settings.redis
    transport = {"visibility_timeout": redis.visibility_timeout_s}
    app.conf.broker_transport_options = transport
    app.conf.result_backend_transport_options = transport
    app.conf.worker_max_memory_per_child = redis.worker_max_memory_mb * 1024 or None  # KiB: a bigger one is replaced


def retry_delay(settings: Settings, retries: int) -> float:
    """Exponential back-off for a service outage: ``retry_backoff_s`` doubled per retry, capped."""
    return min(settings.redis.retry_backoff_max_s, settings.redis.retry_backoff_s * 2 ** retries)


def _outage_retry(task: Task, exc: Exception) -> Exception | None:
    """The retry after a service outage, after :func:`retry_delay`; its ServiceOutage says which service and how
    often ("S3 server unreachable, retrying 3/8": the RETRY state a client shows). None once used up."""
    from pipeline.app.outages import ServiceOutage, describe

    settings, tries = current_settings(), task.request.retries
    if tries >= settings.redis.retry_max:
        return None
    said = describe(exc, tries + 1, settings.redis.retry_max)
    return task.retry(exc=ServiceOutage(said), countdown=retry_delay(settings, tries),
                      max_retries=settings.redis.retry_max, throw=False)


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


PROCESS, INDEX, RENEW = "archive.process_document", "archive.index_document", "archive.renew_timestamps"
EXTEND = "archive.extend_permanent_locks"
FIXITY = "archive.fixity_audit"


def message_key() -> str:
    return current_settings().redis.message_key


def require_message_key(settings: Settings) -> None:
    """A worker without the key could verify no message: it refuses to start (one line)."""
    if not settings.redis.message_key:
        raise RuntimeError("redis.message_key is not set: a worker verifies every task message with it and "
                           "would accept none (`archive services up` generates it; or set "
                           "ARCHIVE_REDIS__MESSAGE_KEY or <home>/secrets/redis.message_key)")


def _verified(task: Task, name: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> dict[str, Any]:
    """Every task starts here: the signed arguments, or the message is refused (logged, audited, raised)."""
    try:
        return open_message(message_key(), name, args, kwargs)
    except MessageRefused as exc:
        refuse(context(), name, task.request.id, exc.reason, args, kwargs)
        raise


def _within_limits(task: Task, fields: dict[str, Any], args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
    """Celery's time limits travel in the message's headers, outside the signed envelope: a document whose limits
    exceed those its signed page count allows is refused (someone with broker access could otherwise keep a
    worker process busy for days with a genuine message). No limits in the headers: the task's defaults."""
    from pipeline.app.doc_limits import document_limits

    item = fields.get("item") if isinstance(fields.get("item"), dict) else {}
    try:
        pages = int(item.get("page_count") or 0)
    except (TypeError, ValueError):
        pages = 0
    allowed = document_limits(current_settings(), pages)
    hard, soft = task.request.timelimit or (None, None)
    if (hard is not None and hard > allowed.hard_s) or (soft is not None and soft > allowed.soft_s):
        reason = (f"time limits in the message headers ({soft} s soft, {hard} s hard) exceed those its signed "
                  f"page count allows ({allowed.soft_s} s, {allowed.hard_s} s)")
        refuse(context(), PROCESS, task.request.id, reason, args, kwargs)
        raise MessageRefused(reason)


@worker_init.connect
def _refuse_to_start_without_key(**_: Any) -> None:
    """Also for a worker started with ``celery -A pipeline.entry.worker worker`` instead of `archive worker`."""
    try:
        require_message_key(current_settings())
    except RuntimeError as exc:
        sys.stderr.write(f"archive: error: {exc}\n")
        raise SystemExit(1) from None


@worker_init.connect
def _prepare_metrics(**_: Any) -> None:
    """Before the pool forks: ``<home>/metrics`` (0700), where each pool process writes its own files
    (:mod:`pipeline.app.metrics`)."""
    from pipeline.app.metrics_files import prepare_dir

    try:
        prepare_dir(current_settings())
    except OSError as exc:  # metrics never stop a worker: recording logs its own failures
        sys.stderr.write(f"archive: warning: metrics directory: {exc}\n")


@worker_process_init.connect
def _forget_dead_pool_processes(**_: Any) -> None:
    """Each pool process starting (also one replacing a process killed mid-document: OOM, time limit) drops the
    in-progress gauges of this host's processes that died without saying so."""
    from pipeline.app.metrics_files import forget_dead_processes, metrics_dir

    with suppress(OSError):
        forget_dead_processes(metrics_dir(current_settings()))


@worker_process_shutdown.connect
def _metrics_process_dead(**_: Any) -> None:
    """A pool process leaving (billiard ends it without atexit): its in-progress gauge goes with it."""
    from pipeline.app.metrics_files import forget_process, metrics_dir, process_ident

    with suppress(OSError):
        forget_process(metrics_dir(current_settings()), process_ident())


# Per document task, not global: a periodic audit may rightly run longer than one document.
LIMITS = {"soft_time_limit": current_settings().redis.task_soft_time_limit_s,
          "time_limit": current_settings().redis.task_time_limit_s}


@app.task(bind=True, name=PROCESS, throws=(MessageRefused,), **LIMITS)
def process_document_task(self: Task, *args: Any, **kwargs: Any) -> dict[str, Any]:
    """One signed message ``{item, batch_id, batch, received_at, actor}``: archive the document; returns the
    outcome signed for the index task."""
    from pipeline.app.archiving import archive_document
    from pipeline.app.messages import admitted_document
    from pipeline.app.process import is_transient

    fields = _verified(self, PROCESS, args, kwargs)
    _within_limits(self, fields, args, kwargs)

    def progress(stage: str) -> None:
        if self.request.id:
            try:
                self.update_state(state="PROGRESS", meta={"stage": stage})
            except Exception as exc:  # Redis away: the live stage is lost, never the document
                log.warning("stage %s not reported: %s", stage, exc)

    ctx = context()
    try:
        with admitted_document(ctx, fields) as doc:
            outcome, _record, _texts = archive_document(ctx, doc.actor.name, doc.batch_id, doc.batch,
                                                        doc.received_at, doc.item, progress=progress)
    except MessageRefused as exc:
        refuse(ctx, PROCESS, self.request.id, exc.reason, args, kwargs)
        raise
    except Exception as exc:
        if not is_transient(exc):
            raise
        retry = _outage_retry(self, exc)  # archive_document journalled it failed; retried from the start
        if retry is not None:
            raise retry from exc
        item = fields.get("item") if isinstance(fields.get("item"), dict) else {}
        outcome = DocumentOutcome(str(item.get("source_path", "")), FAILED, str(item.get("doc_id", "")),
                                  f"{exc}; retried {self.request.retries} times; input left in the batch",
                                  stage="retry")
    return sign_message(message_key(), INDEX, {"outcome": outcome.to_dict()})


@app.task(bind=True, name=INDEX, max_retries=5, throws=(MessageRefused,), **LIMITS)
def index_document_task(self: Task, *args: Any, **kwargs: Any) -> dict[str, Any]:
    """Index an archived document, reading it back from storage (the system of record)."""
    fields = _verified(self, INDEX, args, kwargs)
    try:
        outcome = DocumentOutcome(**fields["outcome"]).to_dict()
        if outcome["status"] == "archived" and not DOC_ID.match(str(outcome["id"])):
            raise TypeError("malformed document id")
    except (KeyError, TypeError):
        refuse(context(), INDEX, self.request.id, "outcome: missing or malformed", args, kwargs)
        raise MessageRefused("outcome: missing or malformed") from None
    if outcome.get("status") != "archived":
        return outcome
    from pipeline.app import metrics
    from pipeline.app.indexing import index_archived
    from pipeline.app.process import is_transient

    if self.request.id:
        with suppress(Exception):  # Redis away: the live stage is lost, never the indexing
            self.update_state(state="PROGRESS", meta={"stage": "index"})
    started = time.monotonic()
    try:
        index_archived(context(), outcome["id"])
        metrics.stage_done(current_settings(), "index", time.monotonic() - started)
    except Exception as exc:
        retry = _outage_retry(self, exc) if is_transient(exc) else None  # as patient as for storing
        if retry is not None:
            raise retry from exc
        if self.request.retries < self.max_retries:
            raise self.retry(exc=exc, countdown=2**self.request.retries) from exc
        metrics.stage_failed(current_settings(), "index")
        outcome["reason"] = f"archived, but indexing failed ({exc}); run `archive reindex`"
    return outcome


@app.task(bind=True, name=RENEW, throws=(MessageRefused,))
def renew_timestamps_task(self: Task, *args: Any, **kwargs: Any) -> dict[str, Any]:
    """Periodic (Celery beat, daily): fresh document timestamps on B-LTA documents nearing expiry.
    One signed message ``{within_days}`` (none: ``sign.renewal_within_days``)."""
    from pipeline.app.messages import checked_days
    from pipeline.app.renewal import renew_timestamps

    fields = _verified(self, RENEW, args, kwargs)
    try:
        within_days = checked_days(fields)
    except MessageRefused as exc:
        refuse(context(), RENEW, self.request.id, exc.reason, args, kwargs)
        raise
    return renew_timestamps(context(), SYSTEM, within_days).to_dict()


def renewal_message(within_days: int | None = None) -> dict[str, Any]:
    """A signed renew_timestamps message, signed when sent (beat evaluates it at every run)."""
    return sign_message(message_key(), RENEW, {"within_days": within_days})


@app.task(bind=True, name=EXTEND, throws=(MessageRefused,))
def extend_permanent_locks_task(self: Task, *args: Any, **kwargs: Any) -> dict[str, int]:
    """Periodic (Celery beat, weekly): lock every permanent record again for ``retention.permanent_lock_years``
    from now, so the rolling horizon never runs out. One signed, empty message."""
    from pipeline.app.retention import extend_permanent_locks

    _verified(self, EXTEND, args, kwargs)
    return extend_permanent_locks(context(), SYSTEM)


def extension_message() -> dict[str, Any]:
    return sign_message(message_key(), EXTEND, {})


@app.task(bind=True, name=FIXITY, throws=(MessageRefused,))
def fixity_audit_task(self: Task, *args: Any, **kwargs: Any) -> dict[str, int]:
    """Periodic (Celery beat, every ``fixity.every_hours``): re-read the ``fixity.batch`` documents checked
    longest ago and compare their stored objects with the recorded SHA-256 (audited as the system), as many as
    fit in the task's time limit (the rest come first next time). One signed, empty message."""
    from pipeline.app.fixity import check

    _verified(self, FIXITY, args, kwargs)
    budget = current_settings().redis.task_soft_time_limit_s * 0.75  # stop taking documents well before the limit
    run = check(context(), SYSTEM, until=time.monotonic() + budget)
    return {"checked": len(run.results), "failed": len(run.failed)}


def fixity_message() -> dict[str, Any]:
    return sign_message(message_key(), FIXITY, {})


app.conf.beat_schedule = {
    "renew-document-timestamps": {"task": RENEW, "schedule": 24 * 3600.0,
                                  "args": (BeatLazyFunc(renewal_message),)},
    "extend-permanent-locks": {"task": EXTEND, "schedule": 7 * 24 * 3600.0,
                               "args": (BeatLazyFunc(extension_message),)},
    "fixity-audit": {"task": FIXITY, "schedule": current_settings().fixity.every_hours * 3600.0,
                     "args": (BeatLazyFunc(fixity_message),)},
}
# The beat tasks kept in their own modules: the second copy's, and the search index's publishing.
from pipeline.entry import replica_task, snapshot_task  # noqa: E402, F401

