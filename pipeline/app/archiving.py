"""Archive one document of a batch: the stage chain (:mod:`pipeline.app.process`), then the catalog row, the
batch journal and the audit trail. Called in-process by the local executor and by the Celery worker, so both
paths record exactly the same facts."""

from __future__ import annotations

import logging
from contextlib import suppress
from datetime import UTC, datetime

from pipeline.app import metrics
from pipeline.app.audit import SEAL_KEY
from pipeline.app.context import Context
from pipeline.app.process import (
    ARCHIVED,
    DUPLICATE,
    FAILED,
    DocumentOutcome,
    ProgressCallback,
    is_transient,
    process_document,
    quarantine_item,
)
from pipeline.app.replica_runs import replicate_document
from pipeline.archive.store import metadata_sha256
from pipeline.core.record import DocumentRecord
from pipeline.core.vocabulary import Classification, DocState
from pipeline.scan import IntakeItem, IntakeProblem

log = logging.getLogger("archive.ingest")


def archive_document(ctx: Context, actor_name: str, batch_id: str, batch_name: str, received_at: datetime,
                     item: IntakeItem, progress: ProgressCallback | None = None
                     ) -> tuple[DocumentOutcome, DocumentRecord | None, list[str]]:
    """Archive (or quarantine) one planned document and journal it. A service outage (:func:`is_transient`)
    journals it ``failed`` (best effort: the catalog may be the one down) and is raised for the caller to retry."""
    ids = {"batch": batch_id, "doc_id": item.doc_id}
    ctx.audit.require_seal_key()  # never archive a document that cannot be sealed (one-line SealKeyMissing)
    try:
        return _archive(ctx, actor_name, batch_id, batch_name, received_at, item, progress)
    except Exception as exc:
        if is_transient(exc):
            with suppress(Exception):
                ctx.catalog.set_item_state(batch_id, item.source_path, FAILED, stage="retry",
                                           reason=f"{exc}; input left in the batch", doc_id=item.doc_id)
            log.warning("%s: service unavailable, left in the batch: %s", item.source_path, exc, extra=ids)
        raise


def _archive(ctx: Context, actor_name: str, batch_id: str, batch_name: str, received_at: datetime,
             item: IntakeItem, progress: ProgressCallback | None
             ) -> tuple[DocumentOutcome, DocumentRecord | None, list[str]]:
    ids = {"batch": batch_id, "doc_id": item.doc_id}
    replayed = _replayed(ctx, batch_id, item)
    if replayed is not None:
        log.info("%s: archived already by this batch (message delivered again)", item.source_path, extra=ids)
        return replayed
    ctx.catalog.set_item_state(batch_id, item.source_path, DocState.PROCESSING.value, doc_id=item.doc_id)
    log.info("processing %s", item.source_path, extra=ids)
    with metrics.in_progress(ctx.settings):
        outcome, record, texts = process_document(item, batch_name, received_at, ctx.settings, ctx.store, progress)
    finished_at = datetime.now(UTC)  # the end of the store stage (its event is written before the upload)
    if outcome.status == DUPLICATE:
        stored = ctx.store.get_record(item.doc_id)
        if ctx.catalog.get_record(item.doc_id, Classification.TUYET_MAT) is None:
            ctx.catalog.upsert_document(stored)  # archived earlier, catalog lost it
        # Stored from this batch's own input but never sealed: the run died between the upload and the seal, so
        # it is archived now (sealed, catalogued, indexed once). Sealed already, it is a plain duplicate (a second
        # ingest of the same folder).
        if _interrupted_here(stored, batch_name, item) and not any(
                SEAL_KEY in e.get("detail", {}) for e in ctx.catalog.query_audit(object_id=item.doc_id)):
            outcome.status, outcome.reason = ARCHIVED, "archived (its run was interrupted after storing it)"
            record, texts = stored, ctx.store.page_texts(item.doc_id)
    detail = {"batch": batch_id, "source": item.source_path, "reason": outcome.reason, "stage": outcome.stage}
    if outcome.status == ARCHIVED and record is not None:
        # The seal `archive verify ID` checks against; the trail adds its seal_mac (audit.seal_key) and
        # previous_metadata_sha256 "" (a document's first seal).
        detail["metadata_sha256"] = record_hash(record)
        detail["classification"] = record.metadata.classification.value
    action = "quarantine" if outcome.status == DocState.QUARANTINED.value else "ingest"
    # Sealed right after the S3 commit, before the (derived) catalog row, so a catalog failure cannot leave
    # a committed document without its seal.
    ctx.audit.record(actor_name, action, item.doc_id, outcome.status,
                     {k: v for k, v in detail.items() if v})
    if record is not None:
        ctx.catalog.upsert_document(record)
    ctx.catalog.set_item_state(batch_id, item.source_path, outcome.status, stage=outcome.stage,
                               reason=outcome.reason, doc_id=item.doc_id)
    if outcome.status == ARCHIVED and record is not None:  # the second copy; a replica outage never fails it
        replicate_document(ctx, record, detail.get("metadata_sha256"))
    log.info("%s: %s", item.source_path, outcome.status, extra=ids)
    metrics.document_done(ctx.settings, outcome, record, finished_at)  # counted once journalled, as reported
    return outcome, record, texts


def quarantine_problem(ctx: Context, actor_name: str, batch_id: str, batch_name: str,
                       problem: IntakeProblem) -> DocumentOutcome:
    """An input that cannot become a document: kept byte for byte with its reason, journalled, audited."""
    outcome = quarantine_item(ctx.store, batch_name, problem)
    ctx.audit.record(actor_name, "quarantine", f"{batch_id}:{problem.source_path}", outcome.status,
                     {"batch": batch_id, "source": problem.source_path, "reason": problem.reason})
    ctx.catalog.set_item_state(batch_id, problem.source_path, outcome.status, stage=outcome.stage,
                               reason=outcome.reason)
    log.warning("quarantined %s: %s", problem.source_path, problem.reason, extra={"batch": batch_id})
    metrics.document_done(ctx.settings, outcome)
    return outcome


def _replayed(ctx: Context, batch_id: str, item: IntakeItem
              ) -> tuple[DocumentOutcome, DocumentRecord, list[str]] | None:
    """The same document of the same batch again, journalled archived already: a message delivered twice (the
    worker died after archiving it but before the broker heard so; a submission retried after a lost answer).
    The same outcome again — no second seal, journal entry or count — so a batch reports each document once."""
    done = next((i for i in ctx.catalog.batch_items(batch_id) if i.source_path == item.source_path), None)
    if done is None or done.state is not DocState.ARCHIVED or done.doc_id != item.doc_id:
        return None
    if not ctx.store.has_document(item.doc_id):
        return None
    record = ctx.store.get_record(item.doc_id)
    outcome = DocumentOutcome(item.source_path, ARCHIVED, item.doc_id, done.reason or "", pages=record.page_count,
                              origin=item.origin.value)
    return outcome, record, ctx.store.page_texts(item.doc_id)


def _interrupted_here(stored: DocumentRecord, batch_name: str, item: IntakeItem) -> bool:
    """Storage holds this document from this batch's own input (same batch, same path), not destroyed: an
    earlier run of the batch stored it and died before journalling it, so it is this batch's archived one."""
    return (stored.disposal is None and stored.source.batch == batch_name
            and stored.source.path == item.source_path)


def record_hash(record: DocumentRecord) -> str:
    """SHA-256 of the committed metadata.json (the record's canonical JSON), sealed into the audit trail."""
    return metadata_sha256(record)
