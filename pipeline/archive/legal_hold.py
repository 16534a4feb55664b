"""Holds in storage: each hold as ``holds/<id>.json`` (a new version per change, under the store's retention),
and the S3 legal-hold flag on every version of every object of a held document, so the storage itself refuses
to delete them while any hold remains (legal hold outlasts retention and needs no date)."""

from __future__ import annotations

from minio import Minio

from pipeline.archive.client import s3_errors
from pipeline.archive.json_records import put_record, read_records
from pipeline.archive.locks import document_versions
from pipeline.archive.retention import RetentionPolicy
from pipeline.core.hold import Hold

HOLDS = "holds"
ROLE = "hold"


def hold_key(hold_id: str) -> str:
    if not hold_id.replace("-", "").isalnum():
        raise ValueError(f"invalid hold id {hold_id!r}")
    return f"{HOLDS}/{hold_id}.json"


def put_hold(client: Minio, bucket: str, hold: Hold, retention: RetentionPolicy) -> None:
    put_record(client, bucket, hold_key(hold.id), hold, retention.retention_for(None, ROLE), f"hold {hold.id}")


def read_holds(client: Minio, bucket: str) -> list[Hold]:
    return sorted(read_records(client, bucket, HOLDS, Hold, "holds", lambda h: hold_key(h.id)),
                  key=lambda h: h.created_at)


def set_document_hold(client: Minio, bucket: str, doc_id: str, on: bool) -> int:
    """Set (or clear) the legal-hold flag on every version of every object of ``doc_id``; returns how many."""
    count = 0
    with s3_errors(f"{'setting' if on else 'clearing'} the legal hold of {doc_id}"):
        for obj in document_versions(client, bucket, doc_id):
            if on:
                client.enable_object_legal_hold(bucket, obj.object_name, obj.version_id)
            else:
                client.disable_object_legal_hold(bucket, obj.object_name, obj.version_id)
            count += 1
    return count


def is_held(client: Minio, bucket: str, key: str, version_id: str | None = None) -> bool:
    with s3_errors(f"reading the legal hold of {key}"):
        return bool(client.is_object_legal_hold_enabled(bucket, key, version_id))
