"""Destroy one document under an approved disposal: storage keeps only its residual record (metadata, events
and the disposal facts), the search index forgets it, the catalog marks it disposed, and the residual record is
sealed in the audit trail like any new version of metadata.json, so `archive verify ID` still checks it.

Re-running after a crash is safe: a residual record already in storage is kept, what is left of the content
is deleted, and the seal is only written when it is not the one in force."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from pipeline.app.audit import SEAL_PREVIOUS
from pipeline.app.context import Context
from pipeline.app.renewal import sealed_hash
from pipeline.archive.store import metadata_sha256
from pipeline.core.actor import Actor
from pipeline.core.disposal import Proposal
from pipeline.core.record import DisposalFacts, DocumentRecord, Event

log = logging.getLogger("archive.disposal")


def residual_of(record: DocumentRecord, proposal: Proposal, actor: Actor, now: datetime) -> DocumentRecord:
    """The record that remains: same metadata and history, no content, the checksums of what went."""
    if record.disposal is not None:
        return record
    residual = record.model_copy(deep=True)
    residual.disposal = DisposalFacts(
        proposal=proposal.id, decision=proposal.decision, council=proposal.council,
        approved_by=proposal.approved_by, executed_by=actor.name, executed_at=now,
        destroyed={role: art.sha256 for role, art in sorted(record.artefacts.items())})
    residual.artefacts = {}
    residual.pages = []  # page texts are content too
    residual.events.append(Event(stage="disposal", started_at=now, finished_at=datetime.now(UTC),
                                 detail={"proposal": proposal.id, "decision": proposal.decision}))
    return residual


def destroy(ctx: Context, actor: Actor, proposal: Proposal, record: DocumentRecord) -> DocumentRecord:
    """Destroy ``record``'s content (raises disposal.StillLocked while the storage protects it, deleting
    nothing) and return its residual record."""
    last = ctx.catalog.last_audit_event()
    chain, seals = ctx.audit.latest_seals(int(last["seq"]) if last else None, record.id)
    previous = sealed_hash((chain, seals), record.id)  # refuses a document whose seal is broken or forged
    stored = ctx.store.get_record(record.id)  # storage's own record: a residual there means a re-run
    residual = residual_of(stored, proposal, actor, datetime.now(UTC))
    deleted = ctx.store.destroy_document(residual)
    residual_hash = metadata_sha256(residual)
    if residual_hash != previous:
        ctx.audit.record(actor.name, "disposal.destroy", record.id, "ok",
                         {"proposal": proposal.id, "decision": proposal.decision, "versions_deleted": deleted,
                          "destroyed": residual.disposal.destroyed if residual.disposal else {},
                          "metadata_sha256": residual_hash, SEAL_PREVIOUS: previous})
    index = ctx.open_index()
    try:
        index.delete(record.id)
    finally:
        index.close()
    ctx.catalog.upsert_document(residual)
    log.info("destroyed %s (%d versions) under %s", record.id, deleted, proposal.id,
             extra={"doc_id": record.id})
    return residual
