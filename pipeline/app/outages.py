"""Outages in the user's terms, and the client's patience with them.

A service the batch needs may be away for a while (the S3 server restarting, Redis failing over, the catalog's
database rebooting). Work waits and retries instead of failing the documents; the CLI and the API say what is
happening ("S3 server unreachable, retrying 3/8"), and when the retries are used up, what is left is reported
unfinished (the CLI exits non-zero) for `archive batch resume`.
"""

from __future__ import annotations

import errno
import logging
import time
from collections.abc import Callable
from typing import TypeVar

import urllib3
from minio.error import S3Error

from pipeline.app.audit import AuditUnavailable
from pipeline.app.errors import causes
from pipeline.app.process import is_transient
from pipeline.archive.client import S3Unreachable
from pipeline.core.settings import Settings

log = logging.getLogger("archive.outages")
T = TypeVar("T")

S3, BROKER, CATALOG, AUDIT, DISK = ("S3 server", "Redis (the task broker)", "catalog database",
                                    "audit trail", "disk")
_FOREIGN = {"redis": BROKER, "kombu": BROKER, "sqlalchemy": CATALOG, "psycopg": CATALOG, "psycopg2": CATALOG}


class ServiceOutage(Exception):
    """Raised by a worker task that will be retried: its message is what the client shows while it waits
    (Celery keeps it as the RETRY state's result). Importable by name, so the result backend rebuilds it."""


def _service_one(exc: BaseException) -> str | None:
    if isinstance(exc, OSError) and exc.errno == errno.ENOSPC:
        return DISK
    if isinstance(exc, AuditUnavailable):
        return AUDIT
    if isinstance(exc, S3Unreachable | S3Error | urllib3.exceptions.HTTPError):
        return S3
    for cls in type(exc).__mro__:
        service = _FOREIGN.get(cls.__module__.split(".")[0])
        if service is not None:
            return service
    return None


def service_of(exc: BaseException) -> str:
    """The service an outage is of, from the exception or its causes: "S3 server", "Redis (the task broker)",
    "catalog database", "audit trail", "disk" — or "a service" when nothing names it."""
    return next((s for s in map(_service_one, causes(exc)) if s is not None), "a service")


def _full(exc: BaseException) -> bool:
    """The disk, or the S3 server's own storage, out of space (here or in the chain of causes)."""
    return any((isinstance(e, OSError) and e.errno == errno.ENOSPC)
               or (isinstance(e, S3Error) and e.code == "XMinioStorageFull") for e in causes(exc))


def describe(exc: BaseException, attempt: int, attempts: int) -> str:
    """One line: "S3 server unreachable, retrying 3/8" ("disk full, …", "S3 server full, …" when out of space)."""
    return f"{service_of(exc)} {'full' if _full(exc) else 'unreachable'}, retrying {attempt}/{attempts}"


class Patience:
    """The client side of an outage: how often and how long to wait for a service before giving up.
    ``redis.retry_max`` waits, ``redis.retry_backoff_s`` doubled each time up to ``redis.retry_backoff_max_s``
    (the same policy the worker's tasks follow). Any success starts the count again."""

    def __init__(self, settings: Settings, tell: Callable[[str], None],
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.attempts = max(0, settings.redis.retry_max)
        self.first, self.cap = settings.redis.retry_backoff_s, settings.redis.retry_backoff_max_s
        self.tell, self.sleep = tell, sleep
        self.failures = 0
        self.last = ""

    def recovered(self) -> None:
        if self.failures:
            log.info("service back after %d failed attempt(s)", self.failures)
            self.tell("")
        self.failures = 0

    def wait(self, exc: BaseException) -> bool:
        """After an outage: say so, wait, and return True to try again; False once the retries are used up.
        Anything not an outage (:func:`is_transient`) is raised again: it is a bug or a bad input."""
        if not is_transient(exc):
            raise exc
        self.failures += 1
        if self.failures > self.attempts:
            self.last = f"{service_of(exc)} unreachable after {self.attempts} retries: {exc}"
            log.error("%s", self.last)
            return False
        message = describe(exc, self.failures, self.attempts)
        log.info("%s (%s)", message, exc)  # the observer tells the user; the log keeps the cause
        self.tell(message)
        self.sleep(min(self.cap, self.first * 2 ** (self.failures - 1)))
        return True

    def call(self, fn: Callable[[], T]) -> T:
        """``fn()``, retried through outages; raises the last outage once the retries are used up."""
        while True:
            try:
                result = fn()
            except Exception as exc:
                if not self.wait(exc):
                    raise
                continue
            self.recovered()
            return result
