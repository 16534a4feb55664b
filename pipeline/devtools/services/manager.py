"""`archive services up|down|status`: the local services of a single-machine instance, all on loopback.

Redis (broker), the S3 server (SeaweedFS locally; a MinIO deployment sets ``s3.manage_local = false``), the
replica's S3 server (a second SeaweedFS on the ``[replica]`` ports, data under ``<home>/replica``) when
``replica.enabled`` and ``replica.manage_local``,
when the signer is the TEST PKI its OCSP/CRL/TSA responders, and (``services.local_worker``, on by default)
a Celery worker, so `archive ingest` needs no second terminal.

`up` is all or nothing: when a service fails to start, the ones this call started are stopped again and
ServicesError says which service failed and why, in one line.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pipeline.core import secrets
from pipeline.core.settings import Settings
from pipeline.devtools.services.local_worker import start_worker, stop_worker, worker_pid, worker_status
from pipeline.devtools.services.pki_responders import responders_status, start_responders, stop_responders
from pipeline.devtools.services.redis_server import redis_running, redis_status, start_redis, stop_redis
from pipeline.devtools.services.s3local import s3_status, start_s3, stop_s3

log = logging.getLogger(__name__)


class ServicesError(RuntimeError):
    """A local service did not start (the others this call started were stopped again)."""


@dataclass(frozen=True)
class _Service:
    name: str
    running: Callable[[Settings], bool]
    start: Callable[[Settings], object]
    stop: Callable[[Settings], None]


def replica_server(settings: Settings) -> Settings:
    """The local replica server, keyed like the primary one (:mod:`.s3local`): a home of its own,
    ``<home>/replica`` (data, configuration, logs), and the ``[replica]`` endpoint, ports and keys as its ``s3``."""
    return settings.model_copy(update={"home": settings.home / "replica",
                                       "s3": settings.replica.as_s3(settings.s3.retention_days)})


def _replica_managed(settings: Settings) -> bool:
    return settings.replica.enabled and settings.replica.manage_local


def _services(settings: Settings) -> list[_Service]:
    """In start order: the broker and the store first, the worker that needs them last."""
    services = [_Service("Redis", redis_running, start_redis, stop_redis)]
    if settings.s3.manage_local:
        services.append(_Service("S3 server", lambda s: bool(s3_status(s)["running"]), start_s3, stop_s3))
    if _replica_managed(settings):
        services.append(_Service("replica S3 server", lambda s: bool(s3_status(replica_server(s))["running"]),
                                 lambda s: start_s3(replica_server(s)), lambda s: stop_s3(replica_server(s))))
    services.append(_Service("TEST PKI responders", lambda s: responders_status(s).get("running") is True,
                             start_responders, stop_responders))
    if settings.services.local_worker:
        services.append(_Service("worker", lambda s: worker_pid(s) is not None, start_worker, stop_worker))
    return services


def _one_line(exc: BaseException) -> str:
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    return lines[0].rstrip(":") if lines else type(exc).__name__


def _roll_back(settings: Settings, started: list[_Service]) -> list[str]:
    stopped = []
    for service in reversed(started):
        try:
            service.stop(settings)
            stopped.append(service.name)
        except Exception as exc:  # keep stopping the others; say what is left running
            log.warning("could not stop %s again: %s", service.name, _one_line(exc))
    return stopped


def with_local_secrets(settings: Settings) -> Settings:
    """Give the settings (in place, and returned) the local instance's credentials: each one no source sets
    (the Redis password, the task-message key, the audit seal key, the S3 keys of a managed S3 server) is generated into
    ``<home>/secrets``, so the caller, the services and every later process agree on them."""
    names = ["redis.password", "redis.message_key", "audit.seal_key"]
    if settings.s3.manage_local:
        names += ["s3.access_key", "s3.secret_key"]
    if _replica_managed(settings):
        names += ["replica.access_key", "replica.secret_key"]
    current = settings
    present = {name: getattr(getattr(current, name.split(".")[0]), name.split(".")[1]) for name in names}
    for name in secrets.generate_missing(settings.home, present, names):
        section, key = name.split(".")
        value = (settings.secrets_dir / name).read_text(encoding="utf-8").rstrip("\n")
        setattr(getattr(current, section), key, value)
        log.info("generated %s in %s", name, settings.secrets_dir)
    return current


def services_up(settings: Settings) -> dict[str, Any]:
    """Start every local service that is not running; returns services_status(). On a failure, stops
    what this call started and raises ServicesError (one line naming the service and the reason).
    The home is owner-only (0700) and missing credentials are generated first."""
    settings.home.mkdir(mode=0o700, parents=True, exist_ok=True)
    settings.home.chmod(0o700)
    with_local_secrets(settings)
    started: list[_Service] = []
    for service in _services(settings):
        was_running = service.running(settings)
        try:
            service.start(settings)
        except BaseException as exc:
            stopped = _roll_back(settings, started)
            if not isinstance(exc, Exception):
                raise  # Ctrl-C: rolled back, re-raised as is
            undone = f" (stopped again: {', '.join(stopped)})" if stopped else ""
            raise ServicesError(f"{service.name} failed to start: {_one_line(exc)}{undone}") from exc
        if not was_running:
            started.append(service)
            log.info("started %s", service.name)
    return services_status(settings)


def services_down(settings: Settings) -> dict[str, Any]:
    stop_worker(settings)  # also when services.local_worker was switched off after it was started
    stop_responders(settings)
    if settings.s3.manage_local:
        stop_s3(settings)
    if _replica_managed(settings):
        stop_s3(replica_server(settings))
    stop_redis(settings)
    return services_status(settings)


def services_status(settings: Settings) -> dict[str, Any]:
    status: dict[str, Any] = {"redis": redis_status(settings)}
    status["s3"] = s3_status(settings) if settings.s3.manage_local else {
        "running": None, "endpoint": settings.s3.endpoint, "managed": False}
    if settings.replica.enabled:
        status["replica"] = s3_status(replica_server(settings)) if settings.replica.manage_local else {
            "running": None, "endpoint": settings.replica.endpoint, "managed": False}
    responders = responders_status(settings)
    if responders.get("managed") is not False:
        status["pki"] = responders
    worker = worker_status(settings)
    if worker["managed"] or worker["running"]:
        status["worker"] = worker
    return status
