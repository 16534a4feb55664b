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
from pipeline.archive import layout
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
    actor.require_reader("read documents")
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
    texts = [] if record.disposal is not None else ctx.store.page_texts(record.id)
    _audit_read(ctx, actor, record, "read", what="metadata+text")
    return DocumentView(record, texts)


def page_text(ctx: Context, actor: Actor, ident: str, number: int) -> tuple[DocumentRecord, str]:
    """One page's text (NFC), read alone: a page of a 500-page document costs one object, not 500."""
    record = find(ctx, actor, ident)
    page = next((p for p in record.pages if p.number == number), None)
    if record.disposal is not None or page is None:
        raise NotFound(f"document {record.id} has no page {number} text ({record.page_count} page(s))")
    text = ctx.store.get_bytes(page.text_key or layout.key(record.id, layout.text_role(number))).decode("utf-8")
    _audit_read(ctx, actor, record, "read", what=f"text of page {number}")
    return record, text


REPRESENTATIONS = ("preservation", "original")


def download(ctx: Context, actor: Actor, ident: str, dest: Path, force: bool = False,
             representation: str = "preservation") -> tuple[DocumentRecord, list[Path]]:
    """Write a representation to ``dest``: ``preservation`` the archival copy (archive.pdf: the signed
    PDF/A, or the original with the archive's signature when no rendition could be made); ``original`` the
    bytes as received (one file, or a folder ``dest`` for a document of several page images). Refuses to
    overwrite unless ``force``."""
    if representation not in REPRESENTATIONS:
        raise Invalid(f"unknown representation {representation!r}: use {' or '.join(REPRESENTATIONS)}")
    record = find(ctx, actor, ident)
    if record.disposal is not None:
        raise NotFound(f"document {record.id} was destroyed on {record.disposal.executed_at:%Y-%m-%d} under "
                       f"{record.disposal.proposal} ({record.disposal.decision}): only its record remains")
    roles = ["archive.pdf"] if representation == "preservation" else sorted(
        role for role in record.artefacts if role.startswith("original/"))
    if not roles or any(role not in record.artefacts for role in roles):
        raise NotFound(f"document {record.id} has no {representation} representation stored")
    if len(roles) == 1:
        if dest.is_dir():
            raise Invalid(f"{dest} is a folder: give a file name")
        targets = [dest]
    else:  # the page images of a scan: into a folder, each under its own name
        if dest.exists() and not dest.is_dir():
            raise Invalid(f"{dest} is a file: the original has {len(roles)} files, give a folder")
        targets = [dest / role.removeprefix("original/").replace("/", "_") for role in roles]
        if len(set(targets)) != len(targets):
            raise Invalid(f"the original's file names collide in one folder: {', '.join(roles)}")
    for target in targets:
        if target.exists() and (not force or target.is_dir()):
            raise Invalid(f"{target} exists: give --force to overwrite it" if not target.is_dir()
                          else f"{target} is a folder")
    if len(roles) > 1:
        dest.mkdir(parents=True, exist_ok=True)
    for role, target in zip(roles, targets, strict=True):
        tmp = target.with_name(f".{target.name}.part")
        try:
            ctx.store.download(record.artefacts[role].key, tmp)
            tmp.replace(target)
        finally:
            tmp.unlink(missing_ok=True)
    _audit_read(ctx, actor, record, "download", what=", ".join(roles))
    return record, targets
