"""The minio SDK behind small helpers: client construction, error translation, streaming reads and the
one conditional write (``If-None-Match: *``) the commit point needs."""

from __future__ import annotations

import contextlib
import io
from collections.abc import Iterator
from typing import Any

import urllib3
from minio import Minio
from minio.error import MinioException, S3Error
from minio.helpers import ObjectWriteResult
from minio.retention import Retention
from minio.time import to_iso8601utc

from pipeline.archive.errors import ArchiveError, NotFoundError
from pipeline.archive.fixity import CHUNK
from pipeline.core.settings import S3Settings

MISSING_CODES = {"NoSuchKey", "NoSuchObject", "NoSuchVersion", "ResourceNotFound"}


def make_client(s3: S3Settings) -> Minio:
    return Minio(s3.endpoint, access_key=s3.access_key, secret_key=s3.secret_key, secure=s3.secure,
                 region=s3.region)


def is_missing(exc: BaseException) -> bool:
    return isinstance(exc, S3Error) and exc.code in MISSING_CODES


def is_precondition_failed(exc: BaseException) -> bool:
    return isinstance(exc, S3Error) and (exc.code == "PreconditionFailed" or exc.response.status == 412)


@contextlib.contextmanager
def s3_errors(what: str) -> Iterator[None]:
    """Translate SDK and network errors into ArchiveError (NotFoundError for a missing object)."""
    try:
        yield
    except ArchiveError:
        raise
    except S3Error as exc:
        cls = NotFoundError if is_missing(exc) else ArchiveError
        raise cls(f"{what}: {exc.code}: {exc.message}") from exc
    except (MinioException, urllib3.exceptions.HTTPError, OSError, ValueError) as exc:
        raise ArchiveError(f"{what}: {type(exc).__name__}: {exc}") from exc


def iter_object(client: Minio, bucket: str, key: str, version_id: str | None = None) -> Iterator[bytes]:
    """The object's bytes in chunks; the connection is released even if the caller stops early."""
    response = client.get_object(bucket, key, version_id=version_id)
    try:
        yield from response.stream(CHUNK)
    finally:
        response.close()
        response.release_conn()


def lock_headers(retention: Retention | None, legal_hold: bool) -> dict[str, str]:
    headers: dict[str, str] = {}
    if retention is not None and retention.mode:
        headers["x-amz-object-lock-mode"] = retention.mode
        headers["x-amz-object-lock-retain-until-date"] = to_iso8601utc(retention.retain_until_date) or ""
    if legal_hold:
        headers["x-amz-object-lock-legal-hold"] = "ON"
    return headers


def put_bytes_if_absent(client: Minio, bucket: str, key: str, data: bytes, content_type: str,
                        extra_headers: dict[str, Any] | None = None) -> ObjectWriteResult:
    """PUT that succeeds only if the key has no current object (``If-None-Match: *``, honoured by
    SeaweedFS and MinIO). Raises S3Error PreconditionFailed otherwise.

    minio-py's public ``put_object`` would turn ``If-None-Match`` into user metadata, so this calls
    ``Minio._put_object`` — the very method ``put_object`` uses for a single-part upload (pinned minio).
    """
    headers: dict[str, Any] = {"Content-Type": content_type, "If-None-Match": "*"}
    headers.update(extra_headers or {})
    with io.BytesIO(data) as buf:
        return client._put_object(bucket, key, buf.getvalue(), headers)
