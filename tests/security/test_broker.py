"""The local Redis asks every client for the password, and the password is nowhere another user can read."""

from __future__ import annotations

import socket
import stat
from pathlib import Path

from pipeline.core.settings import load_settings
from pipeline.devtools.services.redis_server import start_redis, stop_redis
from tests.conftest import free_s3_ports

PASSWORD = 'pw-"with\\quotes-' + "x" * 20


def _raw(port: int, command: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=3) as sock:
        sock.sendall(command)
        return sock.recv(200)


def test_redis_refuses_clients_without_the_password(tmp_path: Path) -> None:
    port = free_s3_ports(1, low=30000, high=32000)[0]
    settings = load_settings(tmp_path, environ={"ARCHIVE_REDIS__PORT": str(port),
                                                "ARCHIVE_REDIS__PASSWORD": PASSWORD})
    start_redis(settings)
    try:
        # What an attacker forging Celery messages does first: talk to the broker directly.
        assert _raw(port, b"PING\r\n").startswith(b"-NOAUTH Authentication required")
        assert _raw(port, b"LPUSH ocr forged\r\n").startswith(b"-NOAUTH")
        assert _raw(port, b"AUTH default guess\r\n").startswith(b"-WRONGPASS")
        import redis

        assert redis.Redis(port=port, password=PASSWORD).ping() is True  # quotes survive redis.conf
        pid = int((settings.services_dir / "redis" / "redis.pid").read_text())
        assert PASSWORD.encode() not in Path(f"/proc/{pid}/cmdline").read_bytes()
        conf = settings.services_dir / "redis" / "redis.conf"
        assert stat.S_IMODE(conf.stat().st_mode) == 0o600
        redis.Redis(port=port, password=PASSWORD).set("probe", "x")  # make the AOF grow
        data = [*(settings.services_dir / "redis").rglob("*"), settings.log_dir / "redis.log"]
        readable = [str(p) for p in data if p.stat().st_mode & 0o077]
        assert readable == []
    finally:
        stop_redis(settings)
