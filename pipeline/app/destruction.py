"""Destroy one document under an approved disposal: storage keeps only its residual record (metadata, events
and the disposal facts), the search index forgets it, the catalog marks it disposed, and the residual record is
sealed in the audit trail like any new version of metadata.json, so `archive verify ID` still checks it.

Re-running after a crash is safe: a residual record already in storage is kept, what is left of the content
is deleted, and the seal is only written when it is not the one in force."""

from __future__ import annotations

import hashlib
import logging
from datetime import UTC, datetime

from pipeline.app.audit import SEAL_PREVIOUS
from pipeline.app.context import Context
from pipeline.app.indexing import unindex
from pipeline.archive import layout
from pipeline.archive.errors import ArchiveError
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


def destroy(ctx: Context, actor: Actor, proposal: Proposal, stored: DocumentRecord, in_force: str
            ) -> DocumentRecord:
    """Destroy the document ``stored`` (storage's own record) whose seal in force is ``in_force``: raises
    disposal.StillLocked while the storage protects it (deleting nothing), ArchiveError when its stored
    metadata.json is not the sealed one (never destroyed: a tampered record must not get a valid seal), and
    Held when a hold was placed meanwhile. Returns the residual record."""
    doc_id = stored.id
    if stored.disposal is None:
        actual = hashlib.sha256(ctx.store.get_bytes(layout.metadata_key(doc_id))).hexdigest()
        if actual != in_force:
            raise ArchiveError(f"metadata.json of {doc_id} (SHA-256 {actual}) is not the sealed one ({in_force}): "
                               "not destroyed; verify it")
    elif stored.disposal.proposal != proposal.id:
        raise ArchiveError(f"{doc_id} was destroyed under {stored.disposal.proposal}, not {proposal.id}")
    if ctx.catalog.held_documents([doc_id]):  # the last look before anything is deleted
        raise Held(f"{doc_id} was put on legal hold: kept")
    residual = residual_of(stored, proposal, actor, datetime.now(UTC))
    deleted, kept_sha = ctx.store.destroy_document(residual)
    if kept_sha != in_force:  # a re-run whose residual was sealed already writes no second seal
        ctx.audit.record(actor.name, "disposal.destroy", doc_id, "ok",
                         {"proposal": proposal.id, "decision": proposal.decision, "versions_deleted": deleted,
                          "destroyed": residual.disposal.destroyed if residual.disposal else {},
                          "metadata_sha256": kept_sha, SEAL_PREVIOUS: in_force})
    unindex(ctx, doc_id)
    ctx.catalog.upsert_document(ctx.store.get_record(doc_id))  # the residual as stored
    log.info("destroyed %s (%d versions) under %s", doc_id, deleted, proposal.id, extra={"doc_id": doc_id})
    return residual


class Held(Exception):
    """The document was put on hold after the approval."""
