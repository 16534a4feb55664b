"""Issue 9: `archive services up` on a fresh home leaves nothing in it that others can read, and no
listener that serves anyone without credentials.

The real CLI starts everything (Redis, the S3 server, the TEST PKI responders, the local worker) on free
ports under a temporary ARCHIVE_HOME. Every TCP listener of every process it started is found from
/proc (not from our list of ports) and tried without credentials; `archive services down` always runs.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import urllib3

from pipeline.devtools.services.s3security import client_tls
from tests.conftest import free_s3_ports
from tests.procnet import listeners as tcp_listeners
from tests.security.test_s3_internals import assert_tls_refuses, owner_only_offenders

ARCHIVE = Path(sys.executable).parent / "archive"
# Public by nature: the TEST PKI's OCSP, CRL and TSA responders serve only public revocation data and
# timestamps, to anyone who validates a signature (as a real CA's responders do). Allowed, by name.
PUBLIC = {"pki": "TEST PKI OCSP/CRL/TSA responders: public revocation data and timestamps only"}
GRPC_OFFSET = 10000


@dataclass(frozen=True)
class Instance:
    home: Path
    env: dict[str, str]
    ports: dict[str, int]  # what we configured: s3, filer, master, volume, redis, pki


def _cli(instance_env: dict[str, str], *args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(ARCHIVE), *args], env=instance_env, capture_output=True, text=True,
                          timeout=timeout, cwd="/")


@pytest.fixture(scope="module")
def instance(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Instance]:
    home = tmp_path_factory.mktemp("listeners") / "home"
    s3, filer, master, volume, redis, pki = free_s3_ports(6)
    ports = {"s3": s3, "filer": filer, "master": master, "volume": volume, "redis": redis, "pki": pki}
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ARCHIVE_", "WEED_"))}
    env |= {"ARCHIVE_HOME": str(home), "ARCHIVE_S3__ENDPOINT": f"127.0.0.1:{s3}",
            "ARCHIVE_S3__FILER_PORT": str(filer), "ARCHIVE_S3__MASTER_PORT": str(master),
            "ARCHIVE_S3__VOLUME_PORT": str(volume), "ARCHIVE_REDIS__PORT": str(redis),
            "ARCHIVE_SIGN__RESPONDERS_PORT": str(pki)}
    instance = Instance(home, env, ports)
    try:
        init = _cli(env, "cert", "init-test")  # TEST signer: `services up` then starts its responders too
        assert init.returncode == 0, init.stdout + init.stderr
        up = _cli(env, "services", "up")
        assert up.returncode == 0, up.stdout + up.stderr
        yield instance
    finally:
        down = _cli(env, "services", "down")
        assert down.returncode == 0, down.stdout + down.stderr


# ---- processes and their listeners, from /proc ------------------------------------------------------------


def _started_by(home: Path) -> dict[int, str]:
    """pid → command line of every process of this instance: its cwd, an open file, its command line or
    its ARCHIVE_HOME lies in the home (Redis chdirs into its data dir; weed, the responders and the worker
    keep their logs open there)."""
    found = {}
    marker, env_marker = str(home), f"ARCHIVE_HOME={home}".encode()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace").strip()
            cwd = os.readlink(entry / "cwd")
            targets = []
            for fd in (entry / "fd").iterdir():
                try:
                    targets.append(os.readlink(fd))
                except OSError:
                    continue
            environ = (entry / "environ").read_bytes()
        except OSError:
            continue  # gone, or a kernel thread
        if (cwd == marker or cwd.startswith(marker + "/") or marker in cmdline
                or any(t.startswith(marker + "/") for t in targets) or env_marker in environ.split(b"\0")):
            found[int(entry.name)] = cmdline
    return found


# ---- the probes -------------------------------------------------------------------------------------------


def _redis_refuses(port: int) -> str:
    with socket.create_connection(("127.0.0.1", port), timeout=3) as sock:
        sock.sendall(b"PING\r\n")
        reply = sock.recv(200)
    assert reply.startswith(b"-NOAUTH"), f"Redis on {port} answered {reply!r} without a password"
    return reply.decode().strip()


def _s3_refuses(port: int) -> str:
    resp = urllib3.PoolManager(retries=False, timeout=5).request("GET", f"http://127.0.0.1:{port}/")
    assert resp.status == 403 and b"AccessDenied" in resp.data, (port, resp.status, resp.data[:300])
    return "403 AccessDenied"


def _internal_refuses(name: str, port: int, config: Path) -> str:
    assert_tls_refuses(port)  # plaintext dropped or 400; TLS without our client certificate: alert
    if name in {"volume", "filer"}:  # and with our certificate, reads still need a JWT
        ours = urllib3.PoolManager(retries=False, timeout=5, **client_tls(config))
        path = "/1,01637037d6" if name == "volume" else "/buckets/"
        resp = ours.request("GET", f"https://127.0.0.1:{port}{path}")
        assert resp.status == 401 and b"jwt" in resp.data, (name, port, resp.status, resp.data[:300])
        return "mutual TLS required; with our certificate, 401 without a JWT"
    return "mutual TLS required (certificate required)"


# ---- the tests --------------------------------------------------------------------------------------------


def test_home_is_owner_only(instance: Instance) -> None:
    assert instance.home.stat().st_mode & 0o777 == 0o700
    offenders = owner_only_offenders(instance.home)
    assert not offenders, "readable by group/others after `archive services up`:\n" + "\n".join(offenders)


def test_no_listener_serves_without_credentials(instance: Instance) -> None:
    pids = _started_by(instance.home)
    listeners = tcp_listeners(pids)
    weed = json.loads((instance.home / "services" / "s3" / "ports.json").read_text(encoding="utf-8"))
    expected = {p for n, p in instance.ports.items() if n != "pki"} | set(weed.values()) | {instance.ports["pki"]}
    expected |= {instance.ports[n] + GRPC_OFFSET for n in ("s3", "filer", "master", "volume")}
    assert expected <= set(listeners), f"not found listening: {sorted(expected - set(listeners))}; {listeners}"
    assert {addr for addr, _pid, _cmd in listeners.values()} == {"127.0.0.1"}, listeners

    by_port = {port: name for name, port in weed.items()}
    config = instance.home / "services" / "s3" / "config"
    tried: dict[int, str] = {}
    for port, (_addr, pid, cmdline) in sorted(listeners.items()):
        if port == instance.ports["redis"]:
            tried[port] = "redis: " + _redis_refuses(port)
        elif port == instance.ports["pki"]:
            tried[port] = "allowed public: " + PUBLIC["pki"]
        elif by_port.get(port) == "s3":
            tried[port] = "s3: " + _s3_refuses(port)
        elif port in by_port:
            tried[port] = f"{by_port[port]}: " + _internal_refuses(by_port[port], port, config)
        else:
            pytest.fail(f"unexpected listener 127.0.0.1:{port} of pid {pid} ({cmdline}): nothing says it is safe")
    assert set(tried) == set(listeners), (tried, listeners)
    print("\n".join(f"{port}: {what}" for port, what in sorted(tried.items())))
