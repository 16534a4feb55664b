"""Container health checks for the archive image (Dockerfile HEALTHCHECK, docker-compose.yml).

    python deploy/healthcheck.py http URL   # exit 0 when URL answers 2xx within 5 s (the API: /healthz, /readyz)
    python deploy/healthcheck.py worker     # exit 0 when THIS container's Celery worker answers a broker ping

The worker check asks the broker, so it proves the worker is alive and connected, not merely that a process
exists. Worker node names are ``archive-<pid>@<hostname>`` (`archive worker`): the reply must come from this
container's hostname, so one healthy replica never vouches for a dead one.
"""

from __future__ import annotations

import socket
import sys
import urllib.error
import urllib.request
from collections.abc import Callable
from typing import Any

TIMEOUT_S = 5.0


def check_http(url: str, timeout_s: float = TIMEOUT_S) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=timeout_s) as response:
            return 200 <= response.status < 300
    except (urllib.error.URLError, OSError, ValueError):
        return False


def _broker_ping(timeout_s: float) -> list[dict[str, Any]]:
    from pipeline.entry.worker import app  # reads the settings and the broker secrets like the worker

    return app.control.ping(timeout=timeout_s) or []


def check_worker(ping: Callable[[float], list[dict[str, Any]]] = _broker_ping, hostname: str | None = None,
                 timeout_s: float = TIMEOUT_S) -> bool:
    suffix = "@" + (hostname or socket.gethostname())
    try:
        replies = ping(timeout_s)
    except Exception:  # broker unreachable, bad credentials: unhealthy, whatever the cause
        return False
    return any(node.endswith(suffix) for reply in replies for node in reply)


def main(argv: list[str]) -> int:
    if len(argv) == 2 and argv[0] == "http":
        return 0 if check_http(argv[1]) else 1
    if argv == ["worker"]:
        return 0 if check_worker() else 1
    sys.stderr.write("usage: healthcheck.py http URL | worker\n")
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
