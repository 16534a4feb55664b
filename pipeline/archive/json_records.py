"""Records kept as JSON objects under a prefix (holds, dossiers, disposal proposals): each change is a new version
of ``<prefix>/<id>.json``, written under the retention the caller gives; reading lists the prefix. An unreadable
file is logged and left out, never fatal for the others."""

from __future__ import annotations

import io
import logging
from collections.abc import Callable
from typing import TypeVar

from minio import Minio
from minio.error import S3Error
from minio.retention import Retention
from pydantic import BaseModel

from pipeline.archive.client import is_missing, iter_object, s3_errors

log = logging.getLogger("archive.records")
M = TypeVar("M", bound=BaseModel)


def put_record(client: Minio, bucket: str, key: str, record: BaseModel, retention: Retention | None,
               what: str) -> None:
    data = record.model_dump_json(indent=2).encode("utf-8")
    with s3_errors(f"writing {what}"):
        client.put_object(bucket, key, io.BytesIO(data), len(data), content_type="application/json",
                          retention=retention)


def read_record(client: Minio, bucket: str, key: str, model: type[M], what: str) -> M | None:
    """The record at ``key`` (None when there is none)."""
    with s3_errors(f"reading {what}"):
        try:
            data = b"".join(iter_object(client, bucket, key))
        except S3Error as exc:
            if is_missing(exc):
                return None
            raise
        return model.model_validate_json(data)


def read_records(client: Minio, bucket: str, prefix: str, model: type[M], what: str,
                 key_of: Callable[[M], str]) -> list[M]:
    """Every readable record directly under ``prefix`` whose own id names its key (``key_of``)."""
    found = []
    with s3_errors(f"listing {what}"):
        for obj in client.list_objects(bucket, prefix=f"{prefix}/"):
            name = obj.object_name or ""
            if not name.endswith(".json"):
                continue
            try:
                record = model.model_validate_json(b"".join(iter_object(client, bucket, name)))
                if key_of(record) != name:
                    raise ValueError(f"it holds the record of {key_of(record)}")
            except ValueError as exc:
                log.warning("%s left out: %s", name, exc)
                continue
            found.append(record)
    return found
