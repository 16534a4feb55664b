"""Retry a quarantined input after a fix: `archive quarantine retry ID [--file FIXED] [--manifest M]`.

The kept bytes (checked against their recorded SHA-256), or the corrected file or folder the user gives, are
copied into a private folder under the work dir and planned as a one-input batch, so every intake check runs
again; a document then runs the stages through :func:`pipeline.app.archiving.archive_document` under the
entry's own batch in the journal, with its manifest row (the batch folder's manifest, or ``--manifest``) or at
least its planned classification. A retry that fails again is NOT quarantined a second time (the same bytes
are kept already; a corrected file stays with the user): its reason is appended to the entry as a retry
object of its own, never by rewriting the locked reason. Every attempt is audited (``quarantine.retry``)."""

from __future__ import annotations

import copy
import logging
import shutil
import tempfile
from contextlib import suppress
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pipeline.app.archiving import archive_document
from pipeline.app.context import Context
from pipeline.app.errors import Invalid
from pipeline.app.quarantine import DONE, MANIFEST_NAME, QuarantineEntry, find, parse_time
from pipeline.archive import ArchiveStore, layout
from pipeline.archive import quarantine as kept
from pipeline.archive.client import s3_errors
from pipeline.archive.fixity import sha256_file
from pipeline.core.actor import Actor
from pipeline.core.record import DocumentMetadata
from pipeline.core.vocabulary import Classification, DocState, Role
from pipeline.scan import IntakeItem, plan_batch, read_manifest

log = logging.getLogger("archive.quarantine")
QUARANTINED = DocState.QUARANTINED.value


@dataclass
class RetryResult:
    entry: str
    source: str
    status: str  # archived | duplicate | quarantined
    reason: str = ""
    stage: str = ""
    doc_id: str = ""
    batch_id: str = ""
    replacement: dict[str, Any] | None = None  # the corrected input given: name, size, sha256

    @property
    def ok(self) -> bool:
        return self.status in DONE

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class _KeptAlready:
    """The store as a retry's stages see it: a failure is not quarantined again (its bytes are kept already);
    the reason is only noted, for the entry's retry record."""

    def __init__(self, store: ArchiveStore) -> None:
        self._store = store
        self.reasons: list[str] = []

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)

    def quarantine(self, batch: str, name: str, source: Path | None, reason: str,
                   details: dict[str, Any] | None = None) -> str:
        self.reasons.append(reason)
        return layout.quarantine_key(batch, name)


def _retry_context(ctx: Context, store: _KeptAlready) -> Context:
    """``ctx`` with the retry's store; the catalog and the audit trail are the very same objects (what the view
    opens itself is handed back to ``ctx`` to close)."""
    _ = ctx.catalog, ctx.audit
    view = copy.copy(ctx)
    view._closers = []
    vars(view)["store"] = store
    return view


def _plain_name(name: str) -> str:
    """The last segment of a stored or given name, usable as a file name."""
    try:
        last = layout.clean_name(name).rsplit("/", 1)[-1]
    except ValueError:
        last = ""
    return last if last not in ("", ".", "..") else "input"


def _stage_input(ctx: Context, entry: QuarantineEntry, replacement: Path | None, folder: Path
                 ) -> dict[str, Any] | None:
    """Put the input to retry into ``folder``; returns the facts of a given replacement."""
    if replacement is not None:
        dest = folder / _plain_name(replacement.name)
        if replacement.is_dir():
            shutil.copytree(replacement, dest, symlinks=True)  # links stay links: intake refuses them
            files = sorted(p for p in dest.rglob("*") if p.is_file() and not p.is_symlink())
            return {"name": replacement.name, "files": len(files), "size": sum(p.stat().st_size for p in files)}
        shutil.copyfile(replacement, dest)
        sha, size = sha256_file(dest)
        return {"name": replacement.name, "size": size, "sha256": sha}
    base = _plain_name(entry.source)
    for found in entry.files:
        single = len(entry.files) == 1 and found["name"] == entry.source
        dest = folder / base if single else folder / base / _plain_name(str(found["name"]))
        dest.parent.mkdir(parents=True, exist_ok=True)
        with s3_errors(f"reading quarantined {found['name']}"):
            kept.download(ctx.store.client, ctx.store.bucket, str(found["key"]), dest, found.get("sha256"))
    return None


def _manifest_row(ctx: Context, entry: QuarantineEntry, manifest: Path | None
                  ) -> tuple[DocumentMetadata | None, datetime | None, str]:
    """(metadata, received_at, problem) from the manifest row of the entry's source: ``manifest`` if given,
    else the batch folder's own manifest if it is still there."""
    if manifest is None and entry.batch_id:
        row = ctx.catalog.get_batch(entry.batch_id)
        implicit = Path(row.root) / MANIFEST_NAME if row is not None else None
        manifest = implicit if implicit is not None and implicit.is_file() and not implicit.is_symlink() else None
    if manifest is None:
        return None, None, ""
    try:
        rows = read_manifest(manifest)
    except Exception as exc:
        raise Invalid(f"manifest {manifest} cannot be read: {exc}") from None
    errors = [message for key, message in rows.errors if key == entry.source]
    if errors:
        return None, None, "; ".join(errors)
    return rows.by_path.get(entry.source), rows.received.get(entry.source), ""


def _metadata(ctx: Context, entry: QuarantineEntry, manifest: Path | None, item: IntakeItem) -> str:
    """Give ``item`` its manifest row, else its planned classification; returns a problem ("" when none)."""
    meta, received, problem = _manifest_row(ctx, entry, manifest)
    if problem:
        return problem
    if meta is not None:
        item.metadata, item.has_manifest_row, item.received_at = meta, True, received
        return ""
    if entry.rank is None:
        raise Invalid(f"the planned classification of {entry.source} is unknown (no manifest row found): give the "
                      "batch's manifest with --manifest")
    item.metadata = DocumentMetadata(classification=list(Classification)[entry.rank])
    item.warnings.append("no manifest row found for the retry: archived with its planned classification only "
                         "(complete it with `archive edit`)")
    return ""


def retry(ctx: Context, actor: Actor, wanted: str, replacement: Path | None = None,
          manifest: Path | None = None) -> RetryResult:
    """Run quarantine entry ``wanted`` through intake and the stages again, from its kept bytes or from
    ``replacement`` (a corrected file or folder). Archivists, for entries within their clearance."""
    actor.require(Role.ARCHIVIST, "retry quarantined inputs")
    entry = find(ctx, actor, wanted)
    if entry.resolved:
        raise Invalid(f"quarantine entry {entry.id} is resolved already ({entry.resolution}): nothing to retry")
    if replacement is not None and not (replacement.is_file() or replacement.is_dir()):
        raise Invalid(f"{replacement}: no such file or folder")
    if replacement is None and not entry.files:
        raise Invalid(f"nothing of {entry.source} was kept ({entry.reason}): give the corrected input with --file")
    if manifest is not None and not manifest.is_file():
        raise Invalid(f"manifest not found: {manifest}")
    ctx.settings.work_dir.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix="quarantine-retry-", dir=ctx.settings.work_dir))  # 0700
    try:
        folder = tmp / "batch"
        folder.mkdir()
        given = _stage_input(ctx, entry, replacement, folder)
        result = _run(ctx, actor, entry, folder, given, manifest)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    _record(ctx, actor, entry, result)
    return result


def _journal_batch(ctx: Context, actor: Actor, entry: QuarantineEntry) -> tuple[str, datetime, bool]:
    """(batch id, when the batch was received, made here): the entry's own batch, else a new journal batch
    of the same name (the catalog lost it, or it predates the journal)."""
    from pipeline.app.batches import new_batch_id

    row = ctx.catalog.get_batch(entry.batch_id) if entry.batch_id else None
    if row is not None:
        return row.id, row.started_at, False
    now = datetime.now(UTC)
    batch_id = new_batch_id(now)
    ctx.catalog.start_batch(batch_id, entry.batch, f"quarantine entry {entry.id}", actor.name)
    ctx.catalog.plan_item(batch_id, entry.source, None, rank=entry.rank)
    return batch_id, parse_time(entry.time) or now, True


def _run(ctx: Context, actor: Actor, entry: QuarantineEntry, folder: Path, given: dict[str, Any] | None,
         manifest: Path | None) -> RetryResult:
    from pipeline.app.indexing import index_record

    # The input given is the one document to retry: never split again at separator sheets.
    plan = plan_batch(folder, batch_name=entry.batch, scan=ctx.settings.scan.model_copy(update={"separators": False}))
    refused = [*plan.problems, *plan.skipped]
    item = plan.documents[0] if plan.documents and not refused else None
    problem = refused[0].reason if refused else "" if item is not None else "nothing to retry in the input given"
    if item is not None:
        item.source_path = entry.source  # the journal's key, whatever the corrected file is called
        problem = _metadata(ctx, entry, manifest, item)
    result = RetryResult(entry.id, entry.source, QUARANTINED, stage="intake", replacement=given)
    batch_id, received_at, made = _journal_batch(ctx, actor, entry)
    result.batch_id = batch_id
    if problem:
        result.reason = f"intake: {problem}"
        ctx.catalog.set_item_state(batch_id, entry.source, QUARANTINED, stage="intake", reason=result.reason)
    else:
        assert item is not None
        item.warnings.append(f"retried from quarantine entry {entry.id}"
                             + (f" with a corrected input {given['name']}" if given else ""))
        view = _retry_context(ctx, _KeptAlready(ctx.store))
        try:
            outcome, record, texts = archive_document(view, actor.name, batch_id, entry.batch,
                                                      item.received_at or received_at, item)
        except Exception:  # a service is down: the input is still in quarantine, and the journal says so
            with suppress(Exception):
                ctx.catalog.set_item_state(batch_id, entry.source, QUARANTINED, stage=entry.stage,
                                           reason=entry.reason)
            raise
        finally:
            ctx._closers.extend(view._closers)  # whatever the view opened is closed with ctx
        result.status, result.reason, result.stage = outcome.status, outcome.reason, outcome.stage
        result.doc_id = outcome.id if result.ok else ""
        if record is not None:
            try:
                index_record(ctx, record, texts)
            except Exception as exc:  # archived is archived: the index is derived and can be rebuilt
                log.warning("retry of %s archived %s but indexing failed", entry.id, outcome.id, exc_info=True)
                result.reason = f"archived, but indexing failed ({exc}); run `archive reindex`"
    if made:
        ctx.catalog.finish_batch(batch_id, "done")
    return result


def _record(ctx: Context, actor: Actor, entry: QuarantineEntry, result: RetryResult) -> None:
    """The attempt as its own storage object (the entry's history, the link to the new document), then the
    audit event."""
    attempt = {"entry": entry.id, "batch": entry.batch, "source": entry.source, "batch_id": result.batch_id,
               "at": datetime.now(UTC).isoformat(), "actor": actor.name, "outcome": result.status,
               "reason": result.reason, "stage": result.stage, "doc_id": result.doc_id,
               "replacement": result.replacement}
    with s3_errors(f"recording the retry of {entry.id}"):
        kept.put_attempt(ctx.store.client, ctx.store.bucket, entry.id, attempt, ctx.store.retention)
    detail = {"entry": entry.id, "batch": result.batch_id, "source": entry.source, "reason": result.reason,
              "stage": result.stage, "doc_id": result.doc_id,
              "replacement_sha256": (result.replacement or {}).get("sha256", "")}
    ctx.audit.record(actor.name, "quarantine.retry", f"quarantine/{entry.id}", result.status,
                     {k: v for k, v in detail.items() if v})
    log.info("quarantine entry %s retried: %s", entry.id, result.status, extra={"batch": result.batch_id})
