"""Are the services up? One quick probe per service, each answering within about two seconds with a
one-line reason, so a command can say what to do instead of hanging and printing a traceback.

``check_s3`` and ``check_redis`` return None when the service answers and raise ServiceUnavailable
otherwise: ``Redis at 127.0.0.1:6390 is not reachable: run `archive services up``` for the local services,
``…: check redis.host / redis.port`` for a remote (production) one.
"""

from __future__ import annotations

import logging

import redis
import urllib3
from minio.error import MinioException, S3Error
from redis.backoff import NoBackoff
from redis.retry import Retry

from pipeline.app.errors import AppError
from pipeline.archive.client import http_client, is_loopback, make_client, unreachable_endpoint, unreachable_message
from pipeline.core.settings import Settings

log = logging.getLogger(__name__)

# Connect + read stay under two seconds; one attempt, no back-off.
CONNECT_TIMEOUT_S = 1.0
READ_TIMEOUT_S = 0.9
SERVICES_UP = "run `archive services up`"


class ServiceUnavailable(AppError, RuntimeError):
    """A service the command needs does not answer; the message names it, its address and what to do."""


def _s3_is_local(settings: Settings) -> bool:
    return settings.s3.manage_local and is_loopback(settings.s3.endpoint.rpartition(":")[0] or settings.s3.endpoint)


def check_s3(settings: Settings) -> None:
    """The S3 server answers an authenticated request (does the bucket exist?) within ~2 s."""
    s3 = settings.s3
    if not (s3.access_key and s3.secret_key):
        raise ServiceUnavailable(f"S3 credentials are not set (s3.access_key, s3.secret_key): "
                                 f"{SERVICES_UP} generates them for the local server; in production give "
                                 "ARCHIVE_S3__ACCESS_KEY_FILE / ARCHIVE_S3__SECRET_KEY_FILE")
    http = http_client(CONNECT_TIMEOUT_S, READ_TIMEOUT_S, retries=False)
    client = make_client(s3, http)
    where = f"S3 server at {s3.endpoint}"
    try:
        client.bucket_exists(s3.bucket)
    except S3Error as exc:
        hint = "check s3.access_key / s3.secret_key" if exc.code in {
            "InvalidAccessKeyId", "SignatureDoesNotMatch", "AccessDenied"} else "check s3.endpoint"
        raise ServiceUnavailable(f"{where} refused the request ({exc.code}): {hint}") from exc
    except (MinioException, urllib3.exceptions.HTTPError, OSError, ValueError) as exc:
        if unreachable_endpoint(exc) is not None:
            raise ServiceUnavailable(unreachable_message(s3.endpoint, _s3_is_local(settings))) from exc
        reason = exc.reason if isinstance(exc, urllib3.exceptions.MaxRetryError) and exc.reason else exc
        log.debug("S3 probe failed", exc_info=exc)
        raise ServiceUnavailable(f"{where} does not answer ({type(reason).__name__}): check s3.endpoint") from exc
    finally:
        http.clear()


def check_redis(settings: Settings) -> None:
    """Redis (the task broker) answers PING within ~2 s."""
    host, port = settings.redis.host, settings.redis.port
    where = f"Redis at {host}:{port}"
    hint = SERVICES_UP if is_loopback(host) else "check redis.host / redis.port"
    client = redis.Redis(host=host, port=port, socket_connect_timeout=CONNECT_TIMEOUT_S,
                         socket_timeout=READ_TIMEOUT_S, retry=Retry(NoBackoff(), 0),
                         password=settings.redis.password or None, ssl=settings.redis.tls,
                         ssl_ca_certs=settings.redis.ca_file or None)
    try:
        client.ping()
    except redis.AuthenticationError as exc:
        what = "refused our password" if settings.redis.password else "requires a password"
        raise ServiceUnavailable(f"{where} {what}: check redis.password ({SERVICES_UP} generates it "
                                 "for a local instance)") from exc
    except (redis.ConnectionError, redis.TimeoutError) as exc:
        log.debug("Redis probe failed", exc_info=exc)
        raise ServiceUnavailable(f"{where} is not reachable: {hint}") from exc
    except redis.RedisError as exc:
        raise ServiceUnavailable(f"{where} answered with an error ({type(exc).__name__}): {hint}") from exc
    finally:
        client.close()
