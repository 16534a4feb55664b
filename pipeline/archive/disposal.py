"""Disposal in storage: proposals as ``disposals/<id>.json`` (a new version per state change, locked like every
other object), and the destruction of one document: every version of every object under ``documents/<id>/``
is deleted, except the residual ``metadata.json`` (metadata, events and the disposal facts) written first.

Nothing is deleted while any version is still under an Object Lock retention or a legal hold: the whole
document is checked first, so a refusal leaves it complete rather than half destroyed. The storage would
refuse anyway (COMPLIANCE); the check turns that into one clear reason."""

from __future__ import annotations

import io
import re
from datetime import UTC, datetime

from minio import Minio
from minio.error import S3Error
from minio.retention import Retention

from pipeline.archive import layout
from pipeline.archive.client import iter_object, s3_errors
from pipeline.archive.errors import ArchiveError
from pipeline.archive.locks import document_versions
from pipeline.archive.retention import RetentionPolicy
from pipeline.core.disposal import Proposal
from pipeline.core.record import DocumentRecord

DISPOSALS = "disposals"
ROLE = "disposal"
_PROPOSAL_ID = re.compile(r"^P-\d{8}-[0-9a-f]{8}$")
NO_LOCK_CODES = {"NoSuchObjectLockConfiguration", "ObjectLockConfigurationNotFoundError", "NoSuchObjectLegalHold"}


class StillLocked(ArchiveError):
    """A version of the document is still under retention or legal hold: nothing was deleted."""


def proposal_key(proposal_id: str) -> str:
    if not _PROPOSAL_ID.match(proposal_id):
        raise ValueError(f"invalid disposal proposal id {proposal_id!r}")
    return f"{DISPOSALS}/{proposal_id}.json"


def put_proposal(client: Minio, bucket: str, proposal: Proposal, retention: RetentionPolicy) -> None:
    data = proposal.model_dump_json(indent=2).encode("utf-8")
    with s3_errors(f"writing disposal proposal {proposal.id}"):
        client.put_object(bucket, proposal_key(proposal.id), io.BytesIO(data), len(data),
                          content_type="application/json", retention=retention.retention_for(None, ROLE))


def read_proposals(client: Minio, bucket: str) -> list[Proposal]:
    found = []
    with s3_errors("listing disposal proposals"):
        for obj in client.list_objects(bucket, prefix=f"{DISPOSALS}/"):
            if obj.object_name and obj.object_name.endswith(".json"):
                found.append(Proposal.model_validate_json(b"".join(iter_object(client, bucket, obj.object_name))))
    return sorted(found, key=lambda p: (p.created_at, p.id))


def _lock_of(client: Minio, bucket: str, key: str, version_id: str | None) -> Retention | None:
    try:
        return client.get_object_retention(bucket, key, version_id)
    except S3Error as exc:
        if exc.code in NO_LOCK_CODES:
            return None
        raise


def _legal_hold_of(client: Minio, bucket: str, key: str, version_id: str | None) -> bool:
    try:
        return bool(client.is_object_legal_hold_enabled(bucket, key, version_id))
    except S3Error as exc:
        if exc.code in NO_LOCK_CODES:
            return False
        raise


def _check_unlocked(client: Minio, bucket: str, versions: list[tuple[str, str | None]]) -> None:
    now = datetime.now(UTC)
    for key, version_id in versions:
        lock = _lock_of(client, bucket, key, version_id)
        if lock is not None and lock.retain_until_date is not None and lock.retain_until_date > now:
            raise StillLocked(f"{key} is locked by the storage until {lock.retain_until_date:%Y-%m-%d %H:%M} UTC "
                              f"({lock.mode}): nothing was deleted")
        if _legal_hold_of(client, bucket, key, version_id):
            raise StillLocked(f"{key} is under a legal hold in the storage: nothing was deleted")


def destroy_document(client: Minio, bucket: str, residual: DocumentRecord, residual_json: bytes,
                     retention: RetentionPolicy) -> int:
    """Write ``residual`` as the new metadata.json (unless the current one already is a residual record: a
    re-run after a crash), then delete every other version of every object of the document. Returns how many
    versions were deleted. Raises StillLocked (nothing deleted) while any version is locked or held."""
    doc_id = residual.id
    meta_key = layout.metadata_key(doc_id)
    with s3_errors(f"destroying the content of {doc_id}"):
        current = DocumentRecord.from_json(b"".join(iter_object(client, bucket, meta_key)))
        stat = client.stat_object(bucket, meta_key)
        keep = stat.version_id if current.disposal is not None else None
        versions = [(o.object_name, o.version_id) for o in document_versions(client, bucket, doc_id)
                    if o.object_name is not None and not (o.object_name == meta_key and o.version_id == keep)]
        _check_unlocked(client, bucket, versions)
        if keep is None:
            written = client.put_object(bucket, meta_key, io.BytesIO(residual_json), len(residual_json),
                                        content_type="application/json",
                                        retention=retention.retention_for(residual, layout.METADATA))
            keep = written.version_id
        deleted = 0
        for key, version_id in versions:
            if key == meta_key and version_id == keep:
                continue
            client.remove_object(bucket, key, version_id=version_id)
            deleted += 1
    return deleted
