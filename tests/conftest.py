"""Shared session fixtures: real local services on free loopback ports under a temporary ARCHIVE_HOME."""

from __future__ import annotations

import os
import random
import socket
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from pipeline.core.settings import Settings, load_settings

# ======================================================================================================
# S3 server (SeaweedFS `weed mini`), owned by the archive stage. Self-contained: needs nothing else here.
# ======================================================================================================

S3_GRPC_OFFSET = 10000  # SeaweedFS gRPC port = HTTP port + 10000 (pipeline.devtools.services.s3local.GRPC_OFFSET)


def _port_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def worker_band(low: int, high: int) -> tuple[int, int]:
    """This test process's share of the ports ``low``..``high``: pytest-xdist runs several processes, and a port
    one picks as free (a PKI's responders, a service) may be taken by another before it binds it. Disjoint bands
    per process keep them apart; one process has the whole range."""
    count = max(1, int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1") or 1))
    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0")
    index = int(worker[2:]) % count if worker[2:].isdigit() else 0
    width = (high - low + 1) // count
    return low + index * width, low + (index + 1) * width - 1


def free_port(low: int = 32768, high: int = 60999) -> int:
    """A free loopback port in this process's band (see :func:`worker_band`)."""
    band = worker_band(low, high)
    rng = random.Random()
    for _ in range(10_000):
        port = rng.randint(*band)
        if _port_free(port):
            return port
    raise RuntimeError(f"no free port in {band}")


def free_s3_ports(count: int = 4, low: int = 21000, high: int = 29999) -> list[int]:
    """``count`` distinct free ports whose gRPC neighbour (+10000) is free too. Random in this process's band
    (:func:`worker_band`) below the kernel's ephemeral range, so parallel sessions rarely even try the same
    ones."""
    low, high = worker_band(low, high)
    rng = random.Random()
    chosen: list[int] = []
    for _ in range(10_000):
        port = rng.randint(low, high)
        taken = {p for c in chosen for p in (c, c + S3_GRPC_OFFSET)}
        if port in taken or port + S3_GRPC_OFFSET in taken:
            continue
        if _port_free(port) and _port_free(port + S3_GRPC_OFFSET):
            chosen.append(port)
            if len(chosen) == count:
                return chosen
    raise RuntimeError("no free ports for the S3 server")


def s3_test_settings(home: Path) -> Settings:
    """Settings for a throwaway instance: its own home, free S3 ports, test credentials."""
    s3_port, filer, master, volume = free_s3_ports(4)
    environ = {
        "ARCHIVE_S3__ENDPOINT": f"127.0.0.1:{s3_port}",
        "ARCHIVE_S3__FILER_PORT": str(filer),
        "ARCHIVE_S3__MASTER_PORT": str(master),
        "ARCHIVE_S3__VOLUME_PORT": str(volume),
        "ARCHIVE_S3__ACCESS_KEY": "test-access",
        "ARCHIVE_S3__SECRET_KEY": "test-secret-" + "".join(random.choices("abcdef0123456789", k=16)),
        "ARCHIVE_S3__BUCKET": "archive-test",
        "ARCHIVE_AUDIT__SEAL_KEY": "test-seal-" + "".join(random.choices("abcdef0123456789", k=16)),
    }
    return load_settings(home, environ=environ)


@contextmanager
def running_s3(home: Path, tweak: Callable[[Settings], None] | None = None) -> Iterator[Settings]:
    """A real SeaweedFS S3 server of its own under ``home`` (:func:`s3_test_settings`); stopped afterwards.
    ``tweak`` adjusts the settings first, which are then written to the home (for the CLI and workers)."""
    from pipeline.core.settings import write_settings
    from pipeline.devtools.services.s3local import start_s3, stop_s3

    settings = s3_test_settings(home)
    if tweak is not None:
        tweak(settings)
        write_settings(settings)
    start_s3(settings)
    try:
        yield settings
    finally:
        stop_s3(settings)


@pytest.fixture(scope="session")
def s3_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Settings]:
    """A real SeaweedFS S3 server for the whole session; yields its Settings; stopped at the end."""
    with running_s3(tmp_path_factory.mktemp("s3-home")) as settings:
        yield settings


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """The slow end-to-end files first (a stable sort): with two processes each taking whole files, a long file
    collected last would run alone at the end while the other process idles."""
    items.sort(key=lambda item: item.get_closest_marker("slow") is None)
