"""`archive services up` is all or nothing, and can run a local worker. Real Redis, real SeaweedFS, a real
worker process, each instance on its own free loopback ports under its own home."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from pipeline.core.settings import Settings
from pipeline.devtools.services.manager import ServicesError, services_down, services_status, services_up
from pipeline.devtools.services.redis_server import redis_running, start_redis, stop_redis
from tests.conftest import free_s3_ports, s3_test_settings


def _instance(home: Path, local_worker: bool = False) -> Settings:
    settings = s3_test_settings(home)
    settings.redis.port = free_s3_ports(1, low=30000, high=32000)[0]
    settings.services.local_worker = local_worker
    settings.services.worker_concurrency = 1
    settings.redis.password = "services-test-pw"
    return settings


def _s3_fails_to_start(settings: Settings) -> str:
    """Occupy the S3 server's filer port, run `services up`, return its one-line error."""
    with socket.socket() as squatter:
        squatter.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        squatter.bind(("127.0.0.1", settings.s3.filer_port))
        squatter.listen()
        with pytest.raises(ServicesError) as caught:
            services_up(settings)
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith("S3 server failed to start: ")
    assert f"filer={settings.s3.filer_port}" in message
    return message


def test_failed_start_stops_what_this_call_started(tmp_path: Path) -> None:
    settings = _instance(tmp_path)
    try:
        message = _s3_fails_to_start(settings)
        assert message.endswith("(stopped again: Redis)")
        assert not redis_running(settings)
        assert services_status(settings)["s3"]["running"] is False
    finally:
        services_down(settings)


def test_failed_start_leaves_services_it_did_not_start(tmp_path: Path) -> None:
    settings = _instance(tmp_path)
    start_redis(settings)  # already up before `services up`: not this call's to stop
    try:
        assert "stopped again" not in _s3_fails_to_start(settings)
        assert redis_running(settings)
    finally:
        stop_redis(settings)


def test_local_worker_is_started_reported_and_stopped(tmp_path: Path) -> None:
    settings = _instance(tmp_path, local_worker=True)
    settings.s3.manage_local = False  # the worker needs only the broker to answer a ping
    try:
        status = services_up(settings)
        worker = status["worker"]
        assert worker["running"] is True and isinstance(worker["pid"], int)
        assert services_up(settings)["worker"]["pid"] == worker["pid"]  # idempotent
        status = services_down(settings)
        assert status["worker"]["running"] is False and status["redis"]["running"] is False
    finally:
        services_down(settings)
