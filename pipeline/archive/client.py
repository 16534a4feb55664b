"""The minio SDK behind small helpers: client construction, error translation, streaming reads and the
one conditional write (``If-None-Match: *``) the commit point needs."""

from __future__ import annotations

import contextlib
import io
import os
from collections.abc import Iterator
from typing import Any

import certifi
import urllib3
from minio import Minio
from minio.error import MinioException, S3Error
from minio.helpers import ObjectWriteResult
from minio.retention import Retention
from minio.time import to_iso8601utc

from pipeline.archive.errors import ArchiveError, NotFoundError
from pipeline.archive.fixity import CHUNK
from pipeline.core.net import is_loopback
from pipeline.core.settings import S3Settings

MISSING_CODES = {"NoSuchKey", "NoSuchObject", "NoSuchVersion", "ResourceNotFound"}
# A server that is down must fail in about a second, not after minio's 5 retries with back-off (~7 s).
CONNECT_TIMEOUT_S = 1.5
READ_TIMEOUT_S = 120.0  # one multipart part (16 MiB) to a busy server


class S3Unreachable(ArchiveError):
    """No connection to the S3 server at all (refused or timed out): the message says what to do."""


def http_client(connect_timeout_s: float = CONNECT_TIMEOUT_S, read_timeout_s: float = READ_TIMEOUT_S,
                retries: bool = True) -> urllib3.PoolManager:
    """minio's own pool settings (CA bundle, 5xx retries), but a short connect timeout and no retries of
    a failed connection: refused or unanswered connects fail at once. ``retries=False``: one attempt."""
    retry = (urllib3.Retry(total=3, connect=0, read=2, redirect=0, backoff_factor=0.2,
                           status_forcelist=[500, 502, 503, 504])
             if retries else urllib3.Retry(total=0, redirect=0, raise_on_status=False))
    return urllib3.PoolManager(
        timeout=urllib3.Timeout(connect=connect_timeout_s, read=read_timeout_s), maxsize=10,
        cert_reqs="CERT_REQUIRED", ca_certs=os.environ.get("SSL_CERT_FILE") or certifi.where(), retries=retry)


def make_client(s3: S3Settings, http: urllib3.PoolManager | None = None) -> Minio:
    return Minio(s3.endpoint, access_key=s3.access_key, secret_key=s3.secret_key, secure=s3.secure,
                 region=s3.region, http_client=http or http_client())




def unreachable_message(endpoint: str, local: bool | None = None) -> str:
    """``S3 server at 127.0.0.1:8333 is not reachable: run `archive services up``` for the local server
    (``local`` None: a loopback endpoint), ``…: check s3.endpoint`` for a remote one."""
    if local is None:
        local = is_loopback(endpoint.rpartition(":")[0] or endpoint)
    hint = "run `archive services up`" if local else "check s3.endpoint"
    return f"S3 server at {endpoint} is not reachable: {hint}"


def unreachable_endpoint(exc: BaseException) -> str | None:
    """``host:port`` when ``exc`` is a failure to connect at all (refused, connect timeout), else None."""
    reason = exc.reason if isinstance(exc, urllib3.exceptions.MaxRetryError) else exc
    if not isinstance(reason, urllib3.exceptions.ConnectTimeoutError | urllib3.exceptions.NewConnectionError):
        return None
    pool = getattr(exc, "pool", None) or getattr(reason, "pool", None)
    conn = getattr(reason, "conn", None)
    where = pool or conn
    return f"{where.host}:{where.port}" if where is not None else "its endpoint"


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
        endpoint = unreachable_endpoint(exc)
        if endpoint is not None:
            raise S3Unreachable(unreachable_message(endpoint)) from exc
        if isinstance(exc, urllib3.exceptions.MaxRetryError) and exc.reason is not None:
            raise ArchiveError(f"{what}: {type(exc.reason).__name__}: {exc.reason}") from exc
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
