"""`archive services up|down|status`: the local services of a single-machine instance, all on loopback.

Redis (broker), the S3 server (SeaweedFS locally; a MinIO deployment sets ``s3.manage_local = false``) and,
when the signer is the TEST PKI, its OCSP/CRL/TSA responders.
"""

from __future__ import annotations

from typing import Any

from pipeline.core.settings import Settings
from pipeline.devtools.services.pki_responders import responders_status, start_responders, stop_responders
from pipeline.devtools.services.redis_server import redis_status, start_redis, stop_redis
from pipeline.devtools.services.s3local import s3_status, start_s3, stop_s3


def services_up(settings: Settings) -> dict[str, Any]:
    settings.home.mkdir(parents=True, exist_ok=True)
    start_redis(settings)
    if settings.s3.manage_local:
        start_s3(settings)
    start_responders(settings)
    return services_status(settings)


def services_down(settings: Settings) -> dict[str, Any]:
    stop_responders(settings)
    if settings.s3.manage_local:
        stop_s3(settings)
    stop_redis(settings)
    return services_status(settings)


def services_status(settings: Settings) -> dict[str, Any]:
    status: dict[str, Any] = {"redis": redis_status(settings)}
    status["s3"] = s3_status(settings) if settings.s3.manage_local else {
        "running": None, "endpoint": settings.s3.endpoint, "managed": False}
    responders = responders_status(settings)
    if responders.get("managed") is not False:
        status["pki"] = responders
    return status
