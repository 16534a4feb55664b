"""Keep B-LTA documents verifiable: before the last document timestamp (or its TSA certificate) expires,
add a fresh document timestamp with new validation data and store it as a new object version (locked like
the first one). The new metadata.json's hash is sealed into the audit trail by the ``renew`` event, so
`archive verify ID` follows the latest seal.

A renewal never re-seals a tampered document: the stored metadata.json must match the document's seal in force
(MACed with ``audit.seal_key``) in a verified audit trail, and the archive.pdf timestamped must be the one that
metadata.json records. A document with no valid seal (archived before sealing existed, or one whose trail holds
a forged or replayed seal) is never renewed, so never sealed as it stands: it is reported failed ("no valid
seal: verify and re-ingest"). The renew seal names the hash it follows (``previous_metadata_sha256``)."""

from __future__ import annotations

import logging
import tempfile
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from pipeline import sign
from pipeline.app.audit import SEAL_PREVIOUS, SealState
from pipeline.app.context import Context
from pipeline.app.errors import AppError
from pipeline.archive.fixity import sha256_file
from pipeline.archive.store import metadata_sha256
from pipeline.core.actor import Actor
from pipeline.core.audit import ChainReport, describe
from pipeline.core.record import Event
from pipeline.core.vocabulary import Classification, Role
from pipeline.sign.versions import tool_versions

log = logging.getLogger("archive.renewal")


@dataclass
class RenewalReport:
    checked: int = 0
    renewed: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, object]:
        return {"checked": self.checked, "renewed": self.renewed, "failed": self.failed}


def renew_timestamps(ctx: Context, actor: Actor, within_days: int | None = None) -> RenewalReport:
    actor.require(Role.ARCHIVIST, "renew document timestamps")
    settings = ctx.settings
    days = settings.sign.renewal_within_days if within_days is None else within_days
    tsa_url = settings.sign.tsa_url
    roots = [p for p in settings.trust_roots if p.is_file()]
    report = RenewalReport()
    settings.work_dir.mkdir(parents=True, exist_ok=True)
    seals: tuple[ChainReport, dict[str, SealState]] | None = None  # read once, when a renewal is due
    for doc_id in ctx.catalog.documents_with_level("B-LTA"):
        record = ctx.catalog.get_record(doc_id, Classification.TUYET_MAT)
        if record is None:  # removed by a concurrent rebuild
            continue
        report.checked += 1
        with tempfile.TemporaryDirectory(dir=settings.work_dir) as tmp:
            current = ctx.store.download(record.artefacts["archive.pdf"].key, Path(tmp) / "current.pdf")
            if not sign.needs_renewal(current, within_days=days):
                continue
            if not tsa_url:
                report.failed[record.id] = "no time-stamping authority configured (sign.tsa_url)"
                continue
            started = datetime.now(UTC)
            if seals is None:  # no seal key: the whole run refuses (one line), before any renewal
                ctx.audit.require_seal_key()
            try:
                if seals is None:
                    last = ctx.catalog.last_audit_event()
                    seals = ctx.audit.latest_seals(int(last["seq"]) if last else None)
                in_force = sealed_hash(seals, record.id)
                renewed = sign.add_document_timestamp(current, Path(tmp) / "renewed.pdf", tsa_url, roots)
                updated = ctx.store.replace_archive_pdf(record.id, renewed, Event(
                    stage="renew-timestamp", started_at=started, finished_at=datetime.now(UTC),
                    tools=tool_versions(), detail={"tsa": tsa_url, "within_days": days}),
                    expected_metadata_sha256=in_force,
                    expected_pdf_sha256=sha256_file(current)[0])
            except Exception as exc:  # one failing document must not stop the others
                log.warning("renewal of %s failed: %s", record.id, exc, extra={"doc_id": record.id})
                report.failed[record.id] = str(exc)
                ctx.audit.record(actor.name, "renew", record.id, "failed", {"reason": str(exc)})
                continue
            # Seal first (S3 is the record; the catalog is derived and rebuilt from S3 if this fails later).
            ctx.audit.record(actor.name, "renew", record.id, "ok",
                             {"sha256": updated.artefacts["archive.pdf"].sha256,
                              "metadata_sha256": metadata_sha256(updated), SEAL_PREVIOUS: in_force})
            ctx.catalog.upsert_document(updated)
            if ctx.catalog.held_documents([record.id]):  # the new versions are held like the old ones
                ctx.store.set_legal_hold(record.id, True)
            report.renewed.append(record.id)
    return report


def sealed_hash(seals: tuple[ChainReport, dict[str, SealState]], doc_id: str) -> str:
    """The metadata.json hash a renewal must find in storage: the document's seal in force, which must be
    the only kind of seal event the trail holds for it (raises AppError otherwise)."""
    chain, sealed = seals
    if not chain.ok:
        raise AppError(f"not renewed: the audit trail is broken, so its seals cannot be trusted ({chain.message})")
    state = sealed.get(doc_id, SealState())
    if state.refused:
        event, why = state.refused[0]
        raise AppError(f"no valid seal: the audit trail holds a forged seal of it ({describe(event)}: {why}); "
                       f"verify and re-ingest")
    if state.sealed is None:
        raise AppError("no valid seal: it has no seal in the audit trail; verify and re-ingest")
    return state.sealed
