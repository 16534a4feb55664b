"""A new sealed version of a document's metadata.json: the one way a retention recomputation
(:mod:`pipeline.app.reschedule`) and a metadata edit (:mod:`pipeline.app.metadata_edit`) change an archived record.

The new version is written only over the version the document's seal names (a tampered record is never
re-sealed), held when the document is held, and every stored version's storage lock is lengthened to what the
new record asks (locks never shorten). The caller then seals it with its own audit action (one of
:data:`pipeline.app.audit.SEALS`) and updates the catalog."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime

from pipeline.app.context import Context
from pipeline.app.renewal import sealed_hash
from pipeline.archive import layout
from pipeline.core.record import DocumentRecord

_STRIPES = [threading.Lock() for _ in range(64)]


@contextmanager
def one_writer(doc_id: str) -> Iterator[None]:
    """Hold while reading the seal in force, writing the new version and sealing it: two changes of one
    document at once (a double click, a retried request) would both seal over the same version, and the trail
    would refuse the second seal as a replay, leaving the document unverifiable. Per process: changes made at
    the same moment from two processes (the API and a CLI run) are not serialised."""
    with _STRIPES[int(doc_id[:8] or "0", 16) % len(_STRIPES)]:
        yield


@dataclass(frozen=True)
class LockOutcome:
    before: datetime | None  # the lock of the version written over
    after: datetime | None  # the lock the new record asks for (None: none)
    versions_extended: int


def seal_in_force(ctx: Context, doc_id: str) -> str:
    """The metadata.json hash the document's seal in force names (raises unless it has exactly one valid)."""
    ctx.audit.require_seal_key()
    last = ctx.catalog.last_audit_event()
    return sealed_hash(ctx.audit.latest_seals(int(last["seq"]) if last else None, doc_id), doc_id)


def store_version(ctx: Context, updated: DocumentRecord, expected: str) -> LockOutcome:
    """Write ``updated`` as the new metadata.json over the sealed version ``expected`` and lengthen the locks."""
    before = ctx.store.put_metadata_version(updated, expected)
    if ctx.catalog.held_documents([updated.id]):  # the new version is held like the others
        ctx.store.set_legal_hold(updated.id, True)
    wanted = ctx.store.retention.retention_for(updated, layout.ARCHIVE_PDF)
    after = wanted.retain_until_date if wanted is not None else None
    versions = ctx.store.extend_lock(updated)  # lengthens only: never shortens a lock
    return LockOutcome(before, after, versions)
