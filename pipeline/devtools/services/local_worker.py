"""A local Celery worker, started by `archive services up` when ``services.local_worker`` is on, so
`archive ingest` works on one machine without a second terminal running `archive worker`.

The worker is the `archive` console script next to the running interpreter (``archive worker --loglevel
warning``), daemonized in its own session so it outlives the CLI call that started it; pid file
``services/worker.pid``, log ``logs/worker.log``. It is up once it answers a Celery ping over Redis.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from pipeline.core import secrets
from pipeline.core.settings import Settings
from pipeline.devtools.services.procs import alive, file_lock

log = logging.getLogger(__name__)

START_TIMEOUT_S = 60.0
STOP_GRACE_S = 30.0  # a warm shutdown lets running tasks finish (they are acked late, so none is lost)

_children: dict[int, subprocess.Popen[bytes]] = {}  # started by this process: reaped, never zombies


class WorkerError(RuntimeError):
    """The local worker cannot be started or stopped."""


def _pid_file(settings: Settings) -> Path:
    return settings.services_dir / "worker.pid"


def _log_file(settings: Settings) -> Path:
    return settings.log_dir / "worker.log"


def worker_command(settings: Settings) -> list[str]:
    command = [str(Path(sys.executable).parent / "archive"), "worker", "--loglevel", "warning"]
    if settings.services.worker_concurrency > 0:
        command += ["--concurrency", str(settings.services.worker_concurrency)]
    return command


def _alive(pid: int) -> bool:
    return alive(pid, _children)
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return True


def _is_our_worker(pid: int, settings: Settings) -> bool:
    """Guard against pid reuse: an `archive worker` process of this home."""
    try:
        argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        environ = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
    except OSError:
        return True  # no /proc: trust the pid file
    home = f"ARCHIVE_HOME={settings.home}".encode()
    return any(a.endswith(b"/archive") for a in argv) and b"worker" in argv and home in environ


def worker_pid(settings: Settings) -> int | None:
    """The pid of this home's local worker, if it runs."""
    try:
        pid = int(_pid_file(settings).read_text().strip())
    except (OSError, ValueError):
        return None
    return pid if _alive(pid) and _is_our_worker(pid, settings) else None


def worker_answers(settings: Settings, timeout_s: float = 1.0) -> bool:
    """A worker consuming from this instance's Redis answers a Celery ping."""
    from celery import Celery

    probe = Celery("archive-probe", broker=settings.redis.url)
    try:
        return bool(probe.control.ping(timeout=timeout_s, limit=1))
    except Exception as exc:  # kombu/redis errors while Redis restarts: not an answer
        log.debug("worker ping failed: %s", exc)
        return False
    finally:
        probe.close()


def _last_line(path: Path) -> str:
    try:
        lines = [ln.strip() for ln in path.read_text(encoding="utf-8", errors="replace").splitlines() if ln.strip()]
    except OSError:
        return ""
    return lines[-1][:200] if lines else ""


def start_worker(settings: Settings, timeout_s: float = START_TIMEOUT_S) -> int:
    """Start the local worker unless it runs; returns its pid once it answers a ping."""
    with file_lock(settings.services_dir / "worker.lock"):
        pid = worker_pid(settings)
        if pid is None:
            pid = _spawn(settings)
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if not _alive(pid):
                _pid_file(settings).unlink(missing_ok=True)
                last = _last_line(_log_file(settings))
                raise WorkerError(f"the worker exited during start-up (log {_log_file(settings)})"
                                  + (f": {last}" if last else ""))
            if worker_answers(settings):
                return pid
            time.sleep(0.2)
        _stop(settings, pid)
        raise WorkerError(f"the worker did not answer within {timeout_s:.0f} s (log {_log_file(settings)})")


def _spawn(settings: Settings) -> int:
    command = worker_command(settings)
    if not Path(command[0]).is_file():
        raise WorkerError(f"{command[0]} not found (pip install the project into this environment)")
    log_file = _log_file(settings)
    log_file.parent.mkdir(parents=True, exist_ok=True)
    # The worker reads config.toml itself; home and broker are passed so it serves this very instance.
    # Secrets travel in its environment (readable by this user only); the worker scrubs them at start.
    env = {**os.environ, "ARCHIVE_HOME": str(settings.home), "ARCHIVE_REDIS__HOST": settings.redis.host,
           "ARCHIVE_REDIS__PORT": str(settings.redis.port), "OMP_THREAD_LIMIT": "1",
           **secrets.as_environment(settings.model_dump())}
    with log_file.open("ab") as out:
        out.write(f"\n==== start {time.strftime('%Y-%m-%dT%H:%M:%S%z')} ====\n".encode())
        out.flush()
        proc = subprocess.Popen(command, cwd=settings.home, env=env, stdin=subprocess.DEVNULL, stdout=out,
                                stderr=subprocess.STDOUT, start_new_session=True, close_fds=True, umask=0o077)
    _children[proc.pid] = proc
    _pid_file(settings).write_text(f"{proc.pid}\n", encoding="utf-8")
    log.info("started the local worker (pid %d)", proc.pid)
    return proc.pid


def _signal_group(pid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, sig)  # the worker leads its own session: its pool processes go too


def _wait_gone(pid: int, timeout_s: float) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if not _alive(pid):
            return True
        time.sleep(0.2)
    return not _alive(pid)


def _stop(settings: Settings, pid: int) -> None:
    _signal_group(pid, signal.SIGTERM)
    if not _wait_gone(pid, STOP_GRACE_S):
        log.warning("the local worker (pid %d) did not stop within %.0f s; killing it", pid, STOP_GRACE_S)
        _signal_group(pid, signal.SIGKILL)
        if not _wait_gone(pid, 10):
            raise WorkerError(f"the worker (pid {pid}) did not stop")
    _pid_file(settings).unlink(missing_ok=True)


def stop_worker(settings: Settings) -> None:
    """Stop the local worker if it runs (warm shutdown, then SIGKILL after a grace period)."""
    with file_lock(settings.services_dir / "worker.lock"):
        pid = worker_pid(settings)
        if pid is not None:
            _stop(settings, pid)
        _pid_file(settings).unlink(missing_ok=True)


def worker_status(settings: Settings) -> dict[str, Any]:
    pid = worker_pid(settings)
    return {"running": pid is not None, "pid": pid, "managed": settings.services.local_worker,
            "log": str(_log_file(settings))}
