"""Local Redis (Celery broker and result store), loopback only, data under ARCHIVE_HOME."""

from __future__ import annotations

import contextlib
import shutil
import subprocess
import time
from pathlib import Path

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from pipeline.core.settings import Settings


def _dir(settings: Settings) -> Path:
    return settings.services_dir / "redis"


def _client(settings: Settings) -> redis.Redis:
    # One attempt: redis-py's default retries with back-off make a stopped server cost ~4 s per probe.
    return redis.Redis(host=settings.redis.host, port=settings.redis.port, socket_connect_timeout=1,
                       socket_timeout=2, retry=Retry(NoBackoff(), 0))


def redis_running(settings: Settings) -> bool:
    try:
        return bool(_client(settings).ping())
    except redis.RedisError:
        return False


def _pid(settings: Settings) -> int | None:
    pidfile = _dir(settings) / "redis.pid"
    try:
        return int(pidfile.read_text().strip())
    except (OSError, ValueError):
        return None


def start_redis(settings: Settings, timeout_s: float = 30) -> None:
    if redis_running(settings):
        return
    binary = shutil.which("redis-server")
    if binary is None:
        raise RuntimeError("redis-server is not installed (apt-get install redis-server)")
    data = _dir(settings)
    data.mkdir(parents=True, exist_ok=True)
    settings.log_dir.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [binary, "--port", str(settings.redis.port), "--bind", settings.redis.host, "--protected-mode", "yes",
         "--daemonize", "yes", "--dir", str(data), "--pidfile", str(data / "redis.pid"),
         "--logfile", str(settings.log_dir / "redis.log"), "--appendonly", "yes", "--save", ""],
        check=True,
    )
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if redis_running(settings):
            return
        time.sleep(0.1)
    raise RuntimeError(f"Redis did not answer on {settings.redis.host}:{settings.redis.port} "
                       f"within {timeout_s:.0f}s (see {settings.log_dir / 'redis.log'})")


def stop_redis(settings: Settings, timeout_s: float = 15) -> None:
    if not redis_running(settings):
        return
    with contextlib.suppress(redis.ConnectionError):  # shutdown closes the connection
        _client(settings).shutdown(nosave=True)
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline and redis_running(settings):
        time.sleep(0.1)


def redis_status(settings: Settings) -> dict[str, object]:
    return {"running": redis_running(settings), "pid": _pid(settings), "url": settings.redis.url}
