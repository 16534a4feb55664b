"""A document's stored versions (the legal-hold flags walk them too), and extending their Object Lock
retention (a lock can be lengthened, never shortened): how permanent records stay locked beyond the horizon
they were written with."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

from minio import Minio
from minio.datatypes import Object
from minio.error import S3Error
from minio.retention import Retention

from pipeline.archive import layout
from pipeline.archive.client import s3_errors


def document_versions(client: Minio, bucket: str, doc_id: str) -> Iterator[Object]:
    """Every stored version (no delete markers) of every object of ``doc_id``."""
    for obj in client.list_objects(bucket, prefix=layout.document_prefix(doc_id), recursive=True,
                                   include_version=True):
        if not obj.is_delete_marker and obj.object_name is not None:
            yield obj


NO_LOCK_CODES = {"NoSuchObjectLockConfiguration", "ObjectLockConfigurationNotFoundError", "NoSuchObjectLegalHold"}


def current_lock(client: Minio, bucket: str, key: str, version_id: str | None) -> Retention | None:
    """The version's Object Lock retention; None when it has none (S3 answers that with an error)."""
    try:
        return client.get_object_retention(bucket, key, version_id)
    except S3Error as exc:
        if exc.code in NO_LOCK_CODES:
            return None
        raise


def extend_document_lock(client: Minio, bucket: str, doc_id: str, mode: str, until: datetime) -> int:
    """Lock every version of every object of ``doc_id`` until at least ``until``; returns how many changed."""
    changed = 0
    with s3_errors(f"extending the retention of {doc_id}"):
        for obj in document_versions(client, bucket, doc_id):
            current = current_lock(client, bucket, obj.object_name, obj.version_id)
            if current is not None and current.retain_until_date is not None and current.retain_until_date >= until:
                continue
            client.set_object_retention(bucket, obj.object_name, Retention(mode, until), obj.version_id)
            changed += 1
    return changed
