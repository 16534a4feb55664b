"""The archive bucket: versioning and Object Lock, both required.

Every archival object is written under COMPLIANCE retention (:mod:`pipeline.archive.retention`), which S3
accepts only in a bucket created with Object Lock (and so with versioning, which can then never be
suspended). A server that cannot create such a bucket, or an existing bucket without Object Lock, is an
error here rather than a silent fall-back to unprotected storage.
"""

from __future__ import annotations

from typing import Any

from minio import Minio
from minio.commonconfig import ENABLED
from minio.error import S3Error
from minio.versioningconfig import VersioningConfig

from pipeline.archive.client import s3_errors
from pipeline.archive.errors import ArchiveError

NO_LOCK_CODES = {"ObjectLockConfigurationNotFoundError", "NotImplemented", "InvalidRequest"}


def ensure_bucket(client: Minio, bucket: str, region: str) -> None:
    """Idempotent: create the bucket with Object Lock if it is missing, make sure versioning is on, and
    refuse (ArchiveError) a bucket without Object Lock: Object Lock can only be chosen at creation, so the
    objects must be copied to a new bucket made with it."""
    with s3_errors(f"creating bucket {bucket}"):
        if not client.bucket_exists(bucket):
            try:
                client.make_bucket(bucket, location=region, object_lock=True)
            except S3Error as exc:
                if exc.code not in {"BucketAlreadyOwnedByYou", "BucketAlreadyExists"}:
                    raise
        if client.get_bucket_versioning(bucket).status != ENABLED:
            client.set_bucket_versioning(bucket, VersioningConfig(ENABLED))
    if not bucket_status(client, bucket)["object_lock"]:
        raise ArchiveError(f"bucket {bucket} has no Object Lock: archival objects are written under COMPLIANCE "
                           f"retention, which needs a bucket created with Object Lock (create one and copy the "
                           f"objects into it, or point s3.bucket at one)")


def bucket_status(client: Minio, bucket: str) -> dict[str, Any]:
    """``{"bucket", "versioning": "Enabled"|..., "object_lock": bool, "default_retention": ...}``."""
    with s3_errors(f"reading bucket {bucket}"):
        versioning = client.get_bucket_versioning(bucket).status
        try:
            config = client.get_object_lock_config(bucket)
            object_lock = True
            default = ({"mode": config.mode, "duration": config.duration,
                        "unit": config.duration_unit} if config.mode else None)
        except S3Error as exc:
            if exc.code not in NO_LOCK_CODES:
                raise
            object_lock, default = False, None
    return {"bucket": bucket, "versioning": versioning, "object_lock": object_lock,
            "default_retention": default}
