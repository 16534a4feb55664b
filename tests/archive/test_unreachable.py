"""A storage operation against an S3 server that is down fails at once, in one line saying what to do
(not after minio's retries, not with a page of urllib3 errors)."""

from __future__ import annotations

import socket
import time

import pytest

from pipeline.archive import ArchiveError, ArchiveStore
from pipeline.core.settings import S3Settings


def test_store_operation_against_a_stopped_server() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = int(sock.getsockname()[1])
    store = ArchiveStore(S3Settings(endpoint=f"127.0.0.1:{port}"))
    for operation in (store.ensure_bucket, lambda: store.get_record("0" * 26)):
        start = time.monotonic()
        with pytest.raises(ArchiveError) as caught:
            operation()
        assert time.monotonic() - start < 2.0
        assert str(caught.value) == f"S3 server at 127.0.0.1:{port} is not reachable: run `archive services up`"


def test_remote_endpoint_points_at_the_setting() -> None:
    from pipeline.archive.client import unreachable_message

    assert unreachable_message("minio:9000") == "S3 server at minio:9000 is not reachable: check s3.endpoint"
