"""Correct an archived document's metadata (the archivist's "edit metadata"): a mistyped number, a wrong
issuer, a better title. The signed PDF/A is never touched; the record gets a new sealed metadata.json version
(:mod:`pipeline.app.record_versions`) with an Event ``metadata`` naming every change (old → new) and the reason,
sealed by a ``metadata.change`` audit event, then the catalog row and the search index follow.

Not editable here: the classification (declassification is a procedure of its own), the dossier and the order
in it (they move the document between dossiers whose retention is counted from their closing). An edit that
changes what retention depends on (type, issuer, issue date …) recomputes it; one that would bring the end of
retention EARLIER also needs the records-officer role (an archivist alone cannot make a record due sooner),
and storage locks never shorten either way."""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime
from typing import Any

from pydantic import ValidationError

from pipeline.app import documents
from pipeline.app.audit import SEAL_PREVIOUS
from pipeline.app.context import Context
from pipeline.app.errors import Invalid, NotFound
from pipeline.app.indexing import index_record
from pipeline.app.record_versions import one_writer, seal_in_force, store_version
from pipeline.app.reschedule import load_schedule
from pipeline.app.retention_rules import retention_facts
from pipeline.archive.store import metadata_sha256
from pipeline.core.actor import Actor
from pipeline.core.record import DocumentMetadata, DocumentRecord, Event
from pipeline.core.text import has_hidden_characters, nfc
from pipeline.core.vocabulary import Role

log = logging.getLogger("archive.metadata")

ACTION = "metadata.change"  # seals the new metadata.json (pipeline.app.audit.SEALS)
EDITABLE = ("doc_number", "doc_type", "title", "issuer", "issued_date", "signer", "unit", "language",
            "archive_code", "access_regime", "reliability", "autograph", "physical_condition", "keywords", "notes")
MAX_VALUE = 2000


def _shorter(old: DocumentRecord, new: DocumentRecord) -> bool:
    """Whether ``new`` ends retention earlier than ``old`` (a permanent record becoming temporary included)."""
    if old.retention.permanent and not new.retention.permanent:
        return True
    if new.retain_until is None:
        return False
    return old.retain_until is None or new.retain_until < old.retain_until


def _apply(record: DocumentRecord, changes: dict[str, str]) -> tuple[DocumentMetadata, dict[str, list[Any]]]:
    unknown = sorted(set(changes) - set(EDITABLE))
    if unknown:
        raise Invalid(f"cannot edit {', '.join(unknown)}: editable fields are {', '.join(EDITABLE)}")
    current = record.metadata.model_dump()
    wanted = dict(current)
    for name, value in changes.items():
        text = nfc(str(value)).strip()
        if len(text) > MAX_VALUE or has_hidden_characters(text, allowed="\t\n"):
            raise Invalid(f"{name}: at most {MAX_VALUE} characters of text without control or format characters "
                          "(bidirectional overrides would show the records office another text)")
        wanted[name] = text or (None if name == "issued_date" else "")
    try:
        meta = DocumentMetadata.model_validate(wanted)
    except ValidationError as exc:
        first = exc.errors()[0]
        raise Invalid(f"{'.'.join(map(str, first['loc']))}: {first['msg']}") from None
    after = meta.model_dump()
    diff = {k: [_plain(current[k]), _plain(after[k])] for k in EDITABLE if current[k] != after[k]}
    return meta, diff


def _plain(value: Any) -> Any:
    return value.isoformat() if isinstance(value, date) else value


def edit_metadata(ctx: Context, actor: Actor, ident: str, changes: dict[str, str], reason: str) -> DocumentRecord:
    """Change the editable ``changes`` (field → new text; "" clears) of the document ``ident`` for ``reason``;
    the updated record. Invalid when nothing changes, NotFound for a document the actor may not see."""
    actor.require(Role.ARCHIVIST, "edit document metadata")
    reason = nfc(reason).strip()
    if not reason:
        raise Invalid("give the reason for the change (it is kept in the record and the audit trail)")
    record = documents.find(ctx, actor, ident)  # clearance: an unseen document does not exist
    if record.disposal is not None:
        raise NotFound(f"document {record.id} was destroyed: only its record remains")
    with one_writer(record.id):
        expected = seal_in_force(ctx, record.id)
        stored = ctx.store.get_record(record.id)  # storage is the record; the catalog may lag
        meta, diff = _apply(stored, changes)
        if not diff:
            raise Invalid("nothing to change: the values given are those recorded")
        started = datetime.now(UTC)
        updated = stored.model_copy(deep=True)
        updated.metadata = meta
        facts, until = retention_facts(updated, load_schedule(ctx), ctx.store.dossier_closed(meta.dossier_code))
        updated.retention, updated.retain_until = facts, until
        if _shorter(stored, updated):
            actor.require(Role.RECORDS_OFFICER, "shorten a record's retention by editing its metadata")
        detail: dict[str, Any] = {"changes": diff, "reason": reason}
        if (stored.retention.class_code, stored.retain_until) != (facts.class_code, until):
            detail["retention"] = {"old_class": stored.retention.class_code, "new_class": facts.class_code,
                                   "old_retain_until": _plain(stored.retain_until), "new_retain_until": _plain(until)}
        updated.events.append(Event(stage="metadata", started_at=started, finished_at=datetime.now(UTC), detail=detail))
        locks = store_version(ctx, updated, expected)
        # Seal first (S3 is the record; the catalog and index are derived and rebuilt from S3 if this fails later).
        ctx.audit.record(actor.name, ACTION, updated.id, "ok", {
            **detail, "versions_extended": locks.versions_extended, "metadata_sha256": metadata_sha256(updated),
            SEAL_PREVIOUS: expected})
        ctx.catalog.upsert_document(updated)
    try:
        index_record(ctx, updated, ctx.store.page_texts(updated.id))
    except Exception:  # the edit stands (sealed); the index is derived: `archive reindex` repairs it
        log.exception("metadata of %s changed but not re-indexed", updated.id, extra={"doc_id": updated.id})
    return updated
