"""Bridge from the system of record to what is derived from it: the search index and the catalog. Both can
always be rebuilt from storage alone (`archive reindex`)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pipeline.app.context import Context
from pipeline.app.users import replay_user_event
from pipeline.core.actor import Actor
from pipeline.core.record import DocumentRecord
from pipeline.core.vocabulary import Classification, Role
from search import IndexDoc, SearchIndex

log = logging.getLogger("archive.indexing")


def to_index_doc(record: DocumentRecord, pages: list[str]) -> IndexDoc:
    meta = record.metadata
    return IndexDoc(
        id=record.id,
        doc_number=meta.doc_number,
        title=meta.title,
        doc_type=meta.doc_type,
        issuer=meta.issuer,
        unit=meta.unit,
        signer=meta.signer,
        origin=record.origin.value,
        classification=meta.classification.value,
        issued_date=meta.issued_date,
        signed=record.signature.signed,
        pages=pages,
    )


def index_record(ctx: Context, record: DocumentRecord, pages: list[str]) -> None:
    """Index a document as stored (a destroyed one leaves the index)."""
    if record.disposal is not None:
        unindex(ctx, record.id)  # a destroyed document is not searchable
    else:
        _write_index(ctx, record.id, lambda index: index.add([to_index_doc(record, pages)]))


def unindex(ctx: Context, doc_id: str) -> None:
    """Drop a destroyed document from the index."""
    _write_index(ctx, doc_id, lambda index: index.delete(doc_id))


def _write_index(ctx: Context, doc_id: str, change: Callable[[SearchIndex], None]) -> None:
    """Apply ``change`` to the index. A search replica (``search.replica``) has no index to write: it asks the
    index writer, which reads the document back from storage (and drops it when destroyed)."""
    if ctx.settings.search.replica:
        from pipeline.entry import worker_client

        worker_client.configure(ctx.settings)
        worker_client.submit_index(doc_id)
        log.info("asked the index writer to index %s again", doc_id, extra={"doc_id": doc_id})
        return
    index = ctx.open_index()
    try:
        change(index)
    finally:
        index.close()


def index_archived(ctx: Context, doc_id: str) -> None:
    """Index a committed document, reading it back from storage (the system of record)."""
    record = ctx.store.get_record(doc_id)
    index_record(ctx, record, ctx.store.page_texts(doc_id))


@dataclass
class RebuildReport:
    documents: int
    indexed: int
    audit_events: int
    users: int

    def to_dict(self) -> dict[str, int]:
        return {"documents": self.documents, "indexed": self.indexed, "audit_events": self.audit_events,
                "users": self.users}


def rebuild(ctx: Context, actor: Actor) -> RebuildReport:
    """Rebuild the catalog (documents, holds, dossiers, audit mirror, users replayed from the trail) and the search
    index from S3 alone. The batch journal is operational state, not rebuilt."""
    actor.require(Role.ADMIN, "rebuild the catalog and the index")
    catalog, store = ctx.catalog, ctx.store
    catalog.delete_all_documents()
    records = 0
    for record in store.iter_records():
        catalog.upsert_document(record)
        records += 1
    for hold in store.read_holds():  # holds are records in storage too (holds/<id>.json)
        catalog.upsert_hold(hold)
    for dossier in store.read_dossiers():  # and dossiers (dossiers/<code>.json)
        catalog.upsert_dossier(dossier)
    catalog.delete_all_audit()

    def replay(event: dict[str, Any]) -> None:
        catalog.add_audit_event(event)
        if str(event["action"]).startswith("user."):
            replay_user_event(ctx, event)

    events = ctx.audit.rebuild_mirror(replay)
    index = ctx.open_index()
    try:
        index.rebuild(to_index_doc(r, store.page_texts(r.id)) for r in catalog.iter_records(Classification.TUYET_MAT)
                      if r.disposal is None)  # a destroyed document is not searchable
        indexed = index.count()
    finally:
        index.close()
    users = len(catalog.list_users())
    ctx.audit.record(actor.name, "reindex", "catalog+index", "ok",
                     {"documents": records, "indexed": indexed, "audit_events": events})
    log.info("rebuilt catalog (%d documents, %d events) and index (%d)", records, events, indexed)
    return RebuildReport(records, indexed, events, users)
