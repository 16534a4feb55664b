"""Shared session fixtures: real local services on free loopback ports under a temporary ARCHIVE_HOME."""

from __future__ import annotations

import random
import socket
from collections.abc import Iterator
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


def free_s3_ports(count: int = 4, low: int = 21000, high: int = 29999) -> list[int]:
    """``count`` distinct free ports whose gRPC neighbour (+10000) is free too. Random in a band below
    the kernel's ephemeral range, so parallel sessions rarely even try the same ones."""
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


@pytest.fixture(scope="session")
def s3_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Settings]:
    """A real SeaweedFS S3 server for the whole session; yields its Settings; stopped at the end."""
    from pipeline.devtools.services.s3local import start_s3, stop_s3

    settings = s3_test_settings(tmp_path_factory.mktemp("s3-home"))
    start_s3(settings)
    try:
        yield settings
    finally:
        stop_s3(settings)
