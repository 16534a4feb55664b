"""The archive bucket: created with Object Lock where the server supports it, versioning always on."""

from __future__ import annotations

from typing import Any

from minio import Minio
from minio.commonconfig import ENABLED
from minio.error import S3Error
from minio.versioningconfig import VersioningConfig

from pipeline.archive.client import s3_errors


def ensure_bucket(client: Minio, bucket: str, region: str) -> None:
    """Idempotent. Object Lock can only be chosen when a bucket is created; a server that refuses it
    gets a versioned bucket without lock (reported by :func:`bucket_status`)."""
    with s3_errors(f"creating bucket {bucket}"):
        if not client.bucket_exists(bucket):
            try:
                client.make_bucket(bucket, location=region, object_lock=True)
            except S3Error as exc:
                if exc.code in {"BucketAlreadyOwnedByYou", "BucketAlreadyExists"}:
                    pass
                elif exc.code in {"NotImplemented", "InvalidRequest", "InvalidArgument"}:
                    client.make_bucket(bucket, location=region)
                else:
                    raise
        if client.get_bucket_versioning(bucket).status != ENABLED:
            client.set_bucket_versioning(bucket, VersioningConfig(ENABLED))


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
            if exc.code not in {"ObjectLockConfigurationNotFoundError", "NotImplemented",
                                "InvalidRequest"}:
                raise
            object_lock, default = False, None
    return {"bucket": bucket, "versioning": versioning, "object_lock": object_lock,
            "default_retention": default}
