"""Disposal in storage: proposals as ``disposals/<id>.json`` (a new version per state change, locked like every
other object), and the destruction of one document: every version of every object under ``documents/<id>/``
is deleted, except the residual ``metadata.json`` (metadata, events and the disposal facts) written first.

Nothing is deleted while any version is still under an Object Lock retention or a legal hold: the whole
document is checked first, so a refusal leaves it complete rather than half destroyed. The storage would
refuse anyway (COMPLIANCE); the check turns that into one clear reason."""

from __future__ import annotations

import hashlib
import io
import json
import re
from datetime import UTC, datetime

from minio import Minio
from minio.error import S3Error

from pipeline.archive import layout
from pipeline.archive.client import (
    is_precondition_failed,
    iter_object,
    lock_headers,
    put_bytes_if_absent,
    s3_errors,
)
from pipeline.archive.errors import ArchiveError
from pipeline.archive.json_records import put_record, read_record, read_records
from pipeline.archive.locks import NO_LOCK_CODES, current_lock, document_versions
from pipeline.archive.retention import PROOF, RetentionPolicy
from pipeline.core.disposal import Proposal
from pipeline.core.record import DocumentRecord

DISPOSALS = "disposals"
_PROPOSAL_ID = re.compile(r"^P-\d{8}-[0-9a-f]{8}$")


class StillLocked(ArchiveError):
    """A version of the document is still under retention or legal hold: nothing was deleted."""


class RunClaimed(ArchiveError):
    """Another execution of the proposal claimed this run first."""


def proposal_key(proposal_id: str) -> str:
    if not _PROPOSAL_ID.match(proposal_id):
        raise ValueError(f"invalid disposal proposal id {proposal_id!r}")
    return f"{DISPOSALS}/{proposal_id}.json"


def put_proposal(client: Minio, bucket: str, proposal: Proposal, retention: RetentionPolicy) -> None:
    put_record(client, bucket, proposal_key(proposal.id), proposal, retention.retention_for(None, PROOF),
               f"disposal proposal {proposal.id}")


def get_proposal(client: Minio, bucket: str, proposal_id: str) -> Proposal | None:
    """The proposal stored under its own id's key (None when there is none)."""
    try:
        key = proposal_key(proposal_id)
    except ValueError:
        return None
    try:
        found = read_record(client, bucket, key, Proposal, f"disposal proposal {proposal_id}")
    except ValueError as exc:
        raise ArchiveError(f"disposal proposal {proposal_id} is unreadable: {exc}") from exc
    if found is not None and found.id != proposal_id:
        raise ArchiveError(f"{key} holds proposal {found.id!r}: refused")
    return found


def read_proposals(client: Minio, bucket: str) -> list[Proposal]:
    """Every readable proposal; an unreadable file is logged and left out, never fatal for the others."""
    return sorted(read_records(client, bucket, DISPOSALS, Proposal, "disposal proposals",
                               lambda p: proposal_key(p.id)), key=lambda p: (p.created_at, p.id))


def claim_run(client: Minio, bucket: str, proposal_id: str, run: int, actor: str,
              retention: RetentionPolicy) -> None:
    """Claim execution ``run`` of the proposal (put-if-absent ``disposals/<id>/run-<n>.json``): of two
    executions started at once exactly one goes on; the other gets RunClaimed."""
    key = f"{DISPOSALS}/{proposal_id}/run-{run:04d}.json"
    data = json.dumps({"proposal": proposal_id, "run": run, "actor": actor, "at": datetime.now(UTC).isoformat()})
    try:
        with s3_errors(f"claiming execution {run} of {proposal_id}"):
            put_bytes_if_absent(client, bucket, key, data.encode("utf-8"), "application/json",
                                lock_headers(retention.retention_for(None, PROOF), False))
    except ArchiveError as exc:
        if isinstance(exc.__cause__, S3Error) and is_precondition_failed(exc.__cause__):
            raise RunClaimed(f"proposal {proposal_id} is being executed by another run (run {run} is taken): "
                             "wait for it, then show the proposal") from None
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
        lock = current_lock(client, bucket, key, version_id)
        if lock is not None and lock.retain_until_date is not None and lock.retain_until_date > now:
            raise StillLocked(f"{key} is locked by the storage until {lock.retain_until_date:%Y-%m-%d %H:%M} UTC "
                              f"({lock.mode}): nothing was deleted")
        if _legal_hold_of(client, bucket, key, version_id):
            raise StillLocked(f"{key} is under a legal hold in the storage: nothing was deleted")


def destroy_document(client: Minio, bucket: str, residual: DocumentRecord, residual_json: bytes,
                     retention: RetentionPolicy) -> tuple[int, str]:
    """Write ``residual`` as the new metadata.json (unless the current one already is a residual record: a
    re-run after a crash), then delete every other version of every object of the document. Returns how many
    versions were deleted and the SHA-256 of the residual bytes kept. Raises StillLocked (nothing deleted)
    while any version is locked or held, and ArchiveError when anything but the residual is left."""
    doc_id = residual.id
    meta_key = layout.metadata_key(doc_id)
    with s3_errors(f"destroying the content of {doc_id}"):
        stat = client.stat_object(bucket, meta_key)
        current_bytes = b"".join(iter_object(client, bucket, meta_key, stat.version_id))
        current = DocumentRecord.from_json(current_bytes)
        keep = stat.version_id if current.disposal is not None else None
        kept_sha = hashlib.sha256(current_bytes).hexdigest() if keep else hashlib.sha256(residual_json).hexdigest()
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
            client.remove_object(bucket, key, version_id=version_id)
            deleted += 1
        left = [f"{o.object_name}@{o.version_id}" for o in client.list_objects(
            bucket, prefix=layout.document_prefix(doc_id), recursive=True, include_version=True)
            if not (o.object_name == meta_key and o.version_id == keep)]
    if left:
        raise ArchiveError(f"content of {doc_id} left behind after deletion: {', '.join(left[:5])}")
    return deleted, kept_sha
