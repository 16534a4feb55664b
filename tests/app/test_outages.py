"""Outages said in the user's terms, and the client's patience: which service, how often retried, when to stop.
(The whole story on real services: tests/e2e/test_faults.py.)"""

from __future__ import annotations

import errno
import time
from pathlib import Path

import pytest
import redis
import sqlalchemy.exc
import urllib3
from minio.error import S3Error

from pipeline.app.outages import Patience, describe, service_of
from pipeline.archive.client import S3Unreachable
from pipeline.core.settings import load_settings


def _caused(outer: Exception, cause: Exception) -> Exception:
    try:
        try:
            raise cause
        except Exception as inner:
            raise outer from inner
    except Exception as exc:
        return exc


@pytest.mark.parametrize(("exc", "service"), [
    (S3Unreachable("S3 server at 127.0.0.1:9000 is not reachable"), "S3 server"),
    (redis.ConnectionError("Error 111 connecting"), "Redis (the task broker)"),
    (sqlalchemy.exc.OperationalError("SELECT 1", {}, Exception("server closed the connection")), "catalog database"),
    (OSError(errno.ENOSPC, "No space left on device"), "disk"),
    (_caused(RuntimeError("storing document"), S3Unreachable("down")), "S3 server"),
    (ValueError("nothing to do with services"), "a service"),
])
def test_the_service_is_named(exc: Exception, service: str) -> None:
    assert service_of(exc) == service


def test_description_says_which_and_how_often() -> None:
    assert describe(S3Unreachable("x"), 3, 10) == "S3 server unreachable, retrying 3/10"
    assert describe(OSError(errno.ENOSPC, "full"), 1, 8) == "disk full, retrying 1/8"
    full = S3Error(urllib3.HTTPResponse(status=507), "XMinioStorageFull",
                   "Storage backend has reached its minimum free drive threshold", "/b/k", "r", "h")
    assert describe(full, 2, 8) == "S3 server full, retrying 2/8"


def _patience(tmp_path: Path, retries: int) -> tuple[Patience, list[str], list[float]]:
    settings = load_settings(tmp_path, environ={})
    settings.redis.retry_max, settings.redis.retry_backoff_s, settings.redis.retry_backoff_max_s = retries, 1.0, 3.0
    told: list[str] = []
    slept: list[float] = []
    return Patience(settings, told.append, slept.append), told, slept


def test_an_outage_is_waited_out_and_said(tmp_path: Path) -> None:
    patience, told, slept = _patience(tmp_path, 4)
    failures = [redis.ConnectionError("refused"), redis.ConnectionError("refused"), redis.ConnectionError("r")]

    def flaky() -> str:
        if failures:
            raise failures.pop()
        return "answered"

    assert patience.call(flaky) == "answered"
    assert told == [f"Redis (the task broker) unreachable, retrying {n}/4" for n in (1, 2, 3)] + [""]
    assert slept == [1.0, 2.0, 3.0]  # doubled, capped at retry_backoff_max_s


def test_retries_used_up_raise_the_outage(tmp_path: Path) -> None:
    patience, told, _slept = _patience(tmp_path, 2)

    def down() -> None:
        raise S3Unreachable("S3 server at 127.0.0.1:1 is not reachable")

    with pytest.raises(S3Unreachable):
        patience.call(down)
    assert len(told) == 2 and patience.last.startswith("S3 server unreachable after 2 retries")


def test_no_retries_configured_gives_up_at_once(tmp_path: Path) -> None:
    patience, told, slept = _patience(tmp_path, 0)
    assert patience.wait(redis.ConnectionError("refused")) is False
    assert told == [] and slept == []


def test_anything_but_an_outage_is_raised_at_once(tmp_path: Path) -> None:
    patience, told, _slept = _patience(tmp_path, 5)
    with pytest.raises(KeyError):
        patience.call(lambda: {}["missing"])
    assert told == []


def test_a_client_reading_states_is_told_at_once_that_redis_is_away(tmp_path: Path) -> None:
    """The workers' backend retries through an outage for minutes; the client following a batch must raise at
    once instead (then Patience says what it waits for). Seen in CI: a Redis stop that fell between the ping and
    the reads left the CLI silent for the whole outage."""
    from celery.result import AsyncResult

    from pipeline.devtools.services.redis_server import start_redis, stop_redis
    from pipeline.entry import worker_client
    from tests.conftest import free_port

    settings = load_settings(tmp_path, environ={"ARCHIVE_REDIS__PASSWORD": "outage-test-pw",
                                                "ARCHIVE_REDIS__PORT": str(free_port())})
    start_redis(settings)
    try:
        worker_client.configure(settings)
        result = AsyncResult("no-such-task", app=worker_client.app)
        assert worker_client.current_stage(result) == ""  # PENDING: nothing to say yet
    finally:
        stop_redis(settings)
    started = time.monotonic()
    with pytest.raises(redis.ConnectionError):
        worker_client.current_stage(result)
    assert time.monotonic() - started < 30  # redis-py's own reconnects (~5 s), not the backend's minutes
