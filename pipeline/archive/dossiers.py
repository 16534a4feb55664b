"""Dossiers in storage: each as ``dossiers/<code>.json``, a new version per change (registration, closing),
locked like every record of no document (the store's retention floor). The catalog's dossier rows are derived
from these and rebuilt by `archive reindex`."""

from __future__ import annotations

import io

from minio import Minio
from minio.error import S3Error

from pipeline.archive.client import is_missing, iter_object, s3_errors
from pipeline.archive.retention import RetentionPolicy
from pipeline.core.dossier import Dossier, code_problem

DOSSIERS = "dossiers"
ROLE = "dossier"


def dossier_key(code: str) -> str:
    problem = code_problem(code)
    if problem:
        raise ValueError(problem)
    return f"{DOSSIERS}/{code}.json"


def put_dossier(client: Minio, bucket: str, dossier: Dossier, retention: RetentionPolicy) -> None:
    data = dossier.model_dump_json(indent=2).encode("utf-8")
    with s3_errors(f"writing dossier {dossier.code}"):
        client.put_object(bucket, dossier_key(dossier.code), io.BytesIO(data), len(data),
                          content_type="application/json", retention=retention.retention_for(None, ROLE))


def read_dossiers(client: Minio, bucket: str) -> list[Dossier]:
    found = []
    with s3_errors("listing dossiers"):
        for obj in client.list_objects(bucket, prefix=f"{DOSSIERS}/"):
            if obj.object_name and obj.object_name.endswith(".json"):
                found.append(Dossier.model_validate_json(b"".join(iter_object(client, bucket, obj.object_name))))
    return sorted(found, key=lambda d: d.code)


def read_dossier(client: Minio, bucket: str, code: str) -> Dossier | None:
    """The registered dossier ``code`` (None: not registered, or not a valid code)."""
    if code_problem(code):
        return None
    try:
        data = b"".join(iter_object(client, bucket, dossier_key(code)))
    except S3Error as exc:
        if is_missing(exc):
            return None
        raise
    return Dossier.model_validate_json(data)
