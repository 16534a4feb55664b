"""Audit-trail fixtures: a fresh versioned, Object-Lock bucket per test on the session S3 server."""

from __future__ import annotations

import uuid

import pytest

from pipeline.archive import ArchiveStore
from pipeline.core.settings import Settings


def fresh_store(s3_server: Settings) -> ArchiveStore:
    store = ArchiveStore(s3_server.s3.model_copy(update={"bucket": f"audit-{uuid.uuid4().hex[:12]}"}))
    store.ensure_bucket()
    return store


@pytest.fixture
def store(s3_server: Settings) -> ArchiveStore:
    return fresh_store(s3_server)
