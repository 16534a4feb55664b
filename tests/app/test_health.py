"""Service probes: a service that is down is reported within two seconds, in one line that names the
service, its address and what to do."""

from __future__ import annotations

import socket
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from pipeline.app.health import ServiceUnavailable, check_redis, check_s3
from pipeline.core.settings import Settings, load_settings

BOUND_S = 2.0  # a behaviour bound, generous: today's clients take ~4-7 s


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A port that accepts connections (kernel backlog) but never answers."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(8)
        yield int(sock.getsockname()[1])


def _settings(tmp_path: Path, **environ: str) -> Settings:
    base = {"ARCHIVE_REDIS__PASSWORD": "health-test-pw", "ARCHIVE_S3__ACCESS_KEY": "k", "ARCHIVE_S3__SECRET_KEY": "s"}
    return load_settings(tmp_path, environ=base | environ)


def _timed_failure(check: Callable[[Settings], None], settings: Settings) -> str:
    start = time.monotonic()
    with pytest.raises(ServiceUnavailable) as caught:
        check(settings)
    assert time.monotonic() - start < BOUND_S
    message = str(caught.value)
    assert "\n" not in message
    return message


def test_redis_down_is_reported_quickly(tmp_path: Path) -> None:
    port = _free_port()
    settings = _settings(tmp_path, ARCHIVE_REDIS__PORT=str(port))
    assert _timed_failure(check_redis, settings) == (
        f"Redis at 127.0.0.1:{port} is not reachable: run `archive services up`")


def test_s3_down_is_reported_quickly(tmp_path: Path) -> None:
    port = _free_port()
    settings = _settings(tmp_path, ARCHIVE_S3__ENDPOINT=f"127.0.0.1:{port}")
    assert _timed_failure(check_s3, settings) == (
        f"S3 server at 127.0.0.1:{port} is not reachable: run `archive services up`")


def test_remote_services_get_no_services_hint(tmp_path: Path) -> None:
    port = _free_port()
    settings = _settings(tmp_path, ARCHIVE_S3__ENDPOINT=f"127.0.0.1:{port}", ARCHIVE_S3__MANAGE_LOCAL="false")
    assert _timed_failure(check_s3, settings) == f"S3 server at 127.0.0.1:{port} is not reachable: check s3.endpoint"


def test_a_service_that_never_answers_is_reported_quickly(tmp_path: Path, silent_port: int) -> None:
    settings = _settings(tmp_path, ARCHIVE_REDIS__PORT=str(silent_port),
                         ARCHIVE_S3__ENDPOINT=f"127.0.0.1:{silent_port}")
    assert f"Redis at 127.0.0.1:{silent_port}" in _timed_failure(check_redis, settings)
    assert f"S3 server at 127.0.0.1:{silent_port}" in _timed_failure(check_s3, settings)


def test_running_services_pass(s3_server: Settings, tmp_path: Path) -> None:
    from pipeline.archive import ArchiveStore
    from pipeline.devtools.services.redis_server import start_redis, stop_redis

    check_s3(s3_server)
    ArchiveStore(s3_server.s3).ensure_bucket()  # the store's short-timeout client works on a live server
    settings = _settings(tmp_path, ARCHIVE_REDIS__PORT=str(_free_port()))
    start_redis(settings)
    try:
        check_redis(settings)
        settings.redis.password = "wrong"
        with pytest.raises(ServiceUnavailable, match=r"refused our password: check redis\.password"):
            check_redis(settings)
        settings.redis.password = ""
        with pytest.raises(ServiceUnavailable, match="requires a password"):
            check_redis(settings)
        settings.redis.password = "health-test-pw"
    finally:
        stop_redis(settings)


def test_missing_s3_credentials_say_where_to_get_them(tmp_path: Path) -> None:
    settings = load_settings(tmp_path, environ={})
    with pytest.raises(ServiceUnavailable, match=r"S3 credentials are not set .*archive services up"):
        check_s3(settings)
