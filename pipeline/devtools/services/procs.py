"""Small process and port helpers shared by the local services (S3 server, Redis, responders, worker)."""

from __future__ import annotations

import contextlib
import fcntl
import os
import signal
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path


def _os_free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def split_endpoint(endpoint: str) -> tuple[str, int]:
    """``host:port`` → (host, port); the port defaults to 80 like an S3 client would."""
    host, _, port = endpoint.rpartition(":")
    if not host:
        return endpoint, 80
    return host.strip("[]"), int(port)



def _busy_ports(ports: dict[str, int]) -> list[str]:
    busy = []
    for name, port in ports.items():
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            # Like Go's listeners: TIME_WAIT leftovers of a previous run do not count as busy.
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                busy.append(f"{name}={port}")
    return busy


def _write_private(path: Path, text: str) -> None:
    """Secrets are never readable by others, not even for a moment."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(fd, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(text)


def _signal_group(pid: int, sig: signal.Signals) -> None:
    """The server leads its own session (start_new_session), so its group is its pid."""
    with contextlib.suppress(ProcessLookupError):
        try:
            os.killpg(pid, sig)
        except PermissionError:
            os.kill(pid, sig)


def alive(pid: int, children: dict[int, subprocess.Popen[bytes]]) -> bool:
    """Alive and not a zombie (a zombie has exited; it only waits to be reaped). ``children``: the processes
    this process started, reaped here when they have exited."""
    child = children.get(pid)
    if child is not None and child.poll() is not None:
        children.pop(pid, None)
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return True


@contextlib.contextmanager
def file_lock(path: Path) -> Iterator[None]:
    """One start/stop at a time per home: two racing CLI calls must not spawn a service twice."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)
