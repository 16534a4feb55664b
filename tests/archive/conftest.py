"""Archive-stage fixtures on the session S3 server (``s3_server`` in tests/conftest.py)."""

from __future__ import annotations

import pytest

from pipeline.archive import ArchiveStore
from pipeline.core.settings import Settings


@pytest.fixture(scope="session")
def store(s3_server: Settings) -> ArchiveStore:
    archive = ArchiveStore(s3_server.s3)
    archive.ensure_bucket()
    return archive
