"""Reading archived documents: id lookup, metadata and page texts, the archival copy, verification.

Every read goes through :func:`find`, which asks the catalog with the actor's clearance inside the query:
a document above the actor's clearance does not exist for that actor (same message as a missing one).
Reads of classified documents are audit events.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pipeline.app.context import Context
from pipeline.app.errors import Invalid, NotFound
from pipeline.core.actor import Actor
from pipeline.core.record import DocumentRecord
from pipeline.core.vocabulary import Classification

HEX_ID = re.compile(r"^[0-9a-f]{6,64}$")


@dataclass
class DocumentView:
    record: DocumentRecord
    page_texts: list[str]

    def to_dict(self) -> dict[str, Any]:
        data = self.record.model_dump(mode="json")
        data["page_texts"] = self.page_texts
        return data


def resolve_id(ctx: Context, actor: Actor, ident: str) -> str:
    """A full id or a unique prefix (≥ 6 hex characters) of a document the actor may see."""
    ident = ident.strip().lower()
    if not HEX_ID.match(ident):
        raise Invalid(f"{ident!r} is not a document id (hex, at least 6 characters)")
    matches = ctx.catalog.resolve_prefix(ident, actor.clearance.rank)
    if not matches:
        what = "with id" if len(ident) == 64 else "with an id starting"
        raise NotFound(f"no archived document {what} {ident}")
    if len(matches) > 1:
        raise Invalid(f"id prefix {ident} is ambiguous ({len(matches)} documents): give more characters")
    return matches[0]


def find(ctx: Context, actor: Actor, ident: str) -> DocumentRecord:
    doc_id = resolve_id(ctx, actor, ident)
    record = ctx.catalog.get_record(doc_id, actor.clearance.rank)
    if record is None:  # raced with a rebuild: same answer as absent
        raise NotFound(f"no archived document with id {doc_id}")
    return record


def _audit_read(ctx: Context, actor: Actor, record: DocumentRecord, action: str, **detail: Any) -> None:
    level = record.metadata.classification
    if level.rank >= Classification.parse(ctx.settings.audit.read_audit_from).rank:
        ctx.audit.record(actor.name, action, record.id, "ok", {"classification": level.value, **detail})


def show(ctx: Context, actor: Actor, ident: str) -> DocumentView:
    record = find(ctx, actor, ident)
    texts = ctx.store.page_texts(record.id)
    _audit_read(ctx, actor, record, "read", what="metadata+text")
    return DocumentView(record, texts)


def download(ctx: Context, actor: Actor, ident: str, dest: Path, force: bool = False) -> tuple[DocumentRecord, Path]:
    """Write the signed PDF/A to ``dest`` (refuses to overwrite unless ``force``)."""
    record = find(ctx, actor, ident)
    if dest.exists() and not force:
        raise Invalid(f"{dest} exists: give --force to overwrite it")
    if dest.is_dir():
        raise Invalid(f"{dest} is a folder: give a file name")
    tmp = dest.with_name(f".{dest.name}.part")
    ctx.store.download(record.artefacts["archive.pdf"].key, tmp)
    tmp.replace(dest)
    _audit_read(ctx, actor, record, "download", what="archive.pdf")
    return record, dest
