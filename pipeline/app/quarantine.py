"""Quarantined inputs as archivists work them: `archive quarantine list` and `retry` (CLI and REST).

An entry is one quarantined input (a file, or the page files of an image folder) named by a short stable id,
the SHA-256 of its batch and source path. Storage is the system of record: the reason files under
``quarantine/`` and one object per retry under ``quarantine-retries/`` (a locked reason is never rewritten).
The batch journal links an entry to its batch and its planned classification. An entry classified above the
caller's clearance is neither listed nor found; one whose classification is unknown (an input that could not
be read, whose manifest row cannot be read either) only by the highest clearance, as in the backlog
statistics. An entry is *resolved* once a retry archived it, a later run of its batch archived its source, or
the same content is in the archive."""

from __future__ import annotations

import hashlib
import logging
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pipeline.app.context import Context
from pipeline.app.errors import Invalid, NotFound
from pipeline.archive import quarantine as kept
from pipeline.archive.client import s3_errors
from pipeline.catalog.rows import BatchItemRow, BatchRow
from pipeline.core.actor import Actor
from pipeline.core.record import nfc
from pipeline.core.vocabulary import Classification, DocState, Role

log = logging.getLogger("archive.quarantine")
ID_LENGTH = 12
MIN_PREFIX = 6
MANIFEST_NAME = "manifest.csv"  # the batch folder's own manifest (pipeline.scan.batch.MANIFEST_NAME)
DONE = (DocState.ARCHIVED.value, DocState.DUPLICATE.value)
TOP = Classification.TUYET_MAT.rank
_NEVER = datetime.max.replace(tzinfo=UTC)  # an entry without a time: no run is "after" it


@dataclass
class QuarantineEntry:
    """One quarantined input as the caller may see it."""

    id: str
    batch: str  # the batch name it was quarantined under
    source: str  # its path in the batch
    stage: str  # the stage that refused it (intake, ocr, pdfa, sign, store …)
    reason: str  # the latest reason: the last failed retry's, else the first
    time: str  # when it was quarantined (ISO 8601, UTC)
    size: int  # bytes kept
    stored: bool  # whether bytes were kept (not for e.g. a dangling link: nothing to keep)
    files: list[dict[str, Any]] = field(default_factory=list)  # key, name, size, sha256 of each kept file
    reasons: list[str] = field(default_factory=list)  # the first reason, then each failed retry's
    batch_id: str = ""  # its batch in the journal, when the journal knows it
    classification: str = ""  # planned classification ("" unknown)
    resolved: bool = False
    resolution: str = ""  # how it was resolved, in words
    doc_id: str = ""  # the document it became (only when the caller may see it)
    attempts: list[dict[str, Any]] = field(default_factory=list)  # retries, oldest first
    rank: int | None = field(default=None, repr=False)

    def to_dict(self) -> dict[str, Any]:
        found = asdict(self)
        found.pop("rank")
        return found


def entry_id(batch: str, source: str) -> str:
    """The short stable id of the input ``source`` of batch ``batch`` (the same on every listing)."""
    return hashlib.sha256(f"{nfc(batch)}\n{nfc(source)}".encode()).hexdigest()[:ID_LENGTH]


# ---- where an entry's facts come from ------------------------------------------------------------------
def _grouped(raw: list[dict[str, Any]]) -> dict[tuple[str, str], list[dict[str, Any]]]:
    """Reason files by input: the page files of one image folder share their source."""
    groups: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for found in raw:
        details = found.get("details") or {}
        source = str(details.get("source") or found.get("name") or "")
        groups.setdefault((str(found.get("batch", "")), source), []).append(found)
    return groups


def _journal(ctx: Context, names: set[str]) -> dict[tuple[str, str], tuple[BatchRow, BatchItemRow]]:
    """The newest journal item of each (batch name, source path) among batches of these names."""
    found: dict[tuple[str, str], tuple[BatchRow, BatchItemRow]] = {}
    for row in ctx.catalog.list_batches():  # newest first
        if row.name in names:
            for item in ctx.catalog.batch_items(row.id):
                found.setdefault((row.name, item.source_path), (row, item))
    return found


def _manifest_rank(root: str, source: str, cache: dict[str, Any]) -> int | None:
    """The classification the batch folder's manifest plans for ``source`` (an input quarantined at intake has
    none in the journal): its row's; the default (public) when the folder has no manifest or no row for it, as
    its ingest planned; None (unknown) when the folder is gone, or the manifest or its row cannot be read.
    Limit: a batch ingested with a manifest from elsewhere (``--manifest``) is read as if it had none."""
    from pipeline.scan import read_manifest

    if root not in cache:
        path = Path(root) / MANIFEST_NAME
        try:
            cache[root] = (read_manifest(path) if path.is_file() and not path.is_symlink()
                           else "none" if Path(root).is_dir() else None)
        except Exception as exc:  # unreadable now: unknown, only the highest clearance sees the entry
            log.info("manifest %s not readable for quarantine ranks: %s", path, exc)
            cache[root] = None
    rows = cache[root]
    if rows == "none":
        return Classification.PUBLIC.rank
    if rows is None or any(key == source for key, _ in rows.errors):
        return None
    meta = rows.by_path.get(source)
    return meta.classification.rank if meta is not None else Classification.PUBLIC.rank


def _visible(actor: Actor, rank: int | None) -> bool:
    return rank <= actor.clearance.rank if rank is not None else actor.clearance.rank >= TOP


def parse_time(text: str) -> datetime | None:
    """An entry's ISO time as an aware datetime (None when it recorded none)."""
    try:
        found = datetime.fromisoformat(text)
    except ValueError:
        return None
    return found if found.tzinfo is not None else found.replace(tzinfo=UTC)


def _resolution(ctx: Context, actor: Actor, entry: QuarantineEntry, item: BatchItemRow | None,
                candidates: set[str]) -> None:
    """Mark ``entry`` resolved when a retry or a later run archived it, or its content is in the archive."""
    done = [a for a in entry.attempts if a.get("outcome") in DONE]
    if done:
        entry.resolved, entry.doc_id = True, str(done[-1].get("doc_id") or "")
        entry.resolution = f"retried by {done[-1].get('actor', '?')}: {done[-1]['outcome']}"
    elif item is not None and item.state.value in DONE and item.updated_at >= (parse_time(entry.time) or _NEVER):
        entry.resolved, entry.doc_id = True, item.doc_id or ""
        entry.resolution = f"a later run of batch {item.batch_id}: {item.state.value}"
    else:
        for doc_id in sorted(candidates):
            if ctx.catalog.get_record(doc_id, TOP) is not None:
                entry.resolved, entry.doc_id, entry.resolution = True, doc_id, "the same content is archived"
                break
    if entry.doc_id and ctx.catalog.get_record(entry.doc_id, actor.clearance.rank) is None:
        entry.doc_id = ""  # archived above the caller's clearance: resolved, but not named


def _entry(batch: str, source: str, files: list[dict[str, Any]], tries: list[dict[str, Any]]) -> QuarantineEntry:
    first = files[0]
    details = first.get("details") or {}
    failed = [str(a.get("reason", "")) for a in tries if a.get("outcome") not in DONE and a.get("reason")]
    reasons = [str(first.get("reason", "")), *failed]
    return QuarantineEntry(
        id=entry_id(batch, source), batch=batch, source=source, stage=str(details.get("stage") or "intake"),
        reason=reasons[-1], reasons=reasons, time=min(str(f.get("time", "")) for f in files),
        size=sum(int(f.get("size") or 0) for f in files), stored=any(f.get("stored") for f in files),
        files=[{"key": f.get("key"), "name": f.get("name"), "size": f.get("size"), "sha256": f.get("sha256")}
               for f in files if f.get("stored")],
        attempts=tries)


def _candidates(files: list[dict[str, Any]], item: BatchItemRow | None) -> set[str]:
    """Document ids this input would have: the planned one, or the SHA-256 of a single kept file."""
    found = {str((f.get("details") or {}).get("doc_id") or "") for f in files}
    if item is not None and item.doc_id:
        found.add(item.doc_id)
    if len(files) == 1 and files[0].get("sha256"):
        found.add(str(files[0]["sha256"]))
    return {f for f in found if len(f) == 64}


def entries(ctx: Context, actor: Actor, batch: str | None = None) -> list[QuarantineEntry]:
    """Every quarantined input the caller may see, oldest first. ``batch``: a batch id or name."""
    actor.require(Role.ARCHIVIST, "work the quarantine")
    name = None
    if batch:
        row = ctx.catalog.get_batch(batch)
        name = row.name if row is not None else nfc(batch)
    raw = ctx.store.list_quarantine(name)
    with s3_errors("listing quarantine retries"):
        tries = kept.attempts(ctx.store.client, ctx.store.bucket)
    groups = _grouped(raw)
    journal = _journal(ctx, {b for b, _ in groups})
    manifests: dict[str, Any] = {}
    out: list[QuarantineEntry] = []
    for (batch_name, source), files in groups.items():
        if name is not None and batch_name != name:
            continue
        row, item = journal.get((batch_name, source), (None, None))
        entry = _entry(batch_name, source, files, tries.get(entry_id(batch_name, source), []))
        rank = item.classification_rank if item is not None else None
        if rank is None and row is not None:
            rank = _manifest_rank(row.root, source, manifests)
        if not _visible(actor, rank):
            continue
        entry.rank, entry.batch_id = rank, row.id if row is not None else ""
        entry.classification = list(Classification)[rank].value if rank is not None else ""
        _resolution(ctx, actor, entry, item, _candidates(files, item))
        out.append(entry)
    return sorted(out, key=lambda e: (e.time, e.batch, e.source))


def find(ctx: Context, actor: Actor, wanted: str) -> QuarantineEntry:
    """The entry with id ``wanted`` (or a unique prefix of at least 6 characters) that the caller may see."""
    key = wanted.strip().lower()
    if not (MIN_PREFIX <= len(key) <= ID_LENGTH) or any(c not in "0123456789abcdef" for c in key):
        raise Invalid(f"{wanted!r} is not a quarantine entry id (see `archive quarantine list`)")
    found = [e for e in entries(ctx, actor) if e.id.startswith(key)]
    if not found:
        raise NotFound(f"no quarantine entry {wanted!r} (see `archive quarantine list`)")
    if len(found) > 1:
        raise Invalid(f"{wanted!r} names {len(found)} quarantine entries: give more of the id")
    return found[0]
