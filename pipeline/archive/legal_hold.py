"""Holds in storage: each hold as ``holds/<id>.json`` (a new version per change, under the store's retention),
and the S3 legal-hold flag on every version of every object of a held document, so the storage itself refuses
to delete them while any hold remains (legal hold outlasts retention and needs no date)."""

from __future__ import annotations

import io

from minio import Minio

from pipeline.archive.client import iter_object, s3_errors
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
    data = hold.model_dump_json(indent=2).encode("utf-8")
    with s3_errors(f"writing hold {hold.id}"):
        client.put_object(bucket, hold_key(hold.id), io.BytesIO(data), len(data), content_type="application/json",
                          retention=retention.retention_for(None, ROLE))


def read_holds(client: Minio, bucket: str) -> list[Hold]:
    holds = []
    with s3_errors("listing holds"):
        for obj in client.list_objects(bucket, prefix=f"{HOLDS}/"):
            if obj.object_name and obj.object_name.endswith(".json"):
                holds.append(Hold.model_validate_json(b"".join(iter_object(client, bucket, obj.object_name))))
    return sorted(holds, key=lambda h: h.created_at)


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
