"""The REST API against the real services of a deployment: a PostgreSQL catalog, Redis, the S3 server and a
Celery worker process (``executor = "celery"``). A born-digital batch uploaded through the API is ingested by
the worker, followed to the end through the status endpoint, found by search and downloaded."""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from pipeline.core.settings import Settings, load_settings, write_settings
from tests.app.conftest import HEADER
from tests.catalog.conftest import start_postgres
from tests.conftest import free_s3_ports
from tests.e2e.conftest import Instance, running_worker

pytestmark = pytest.mark.slow
URL = "https://testserver"


@dataclass
class Deployment:
    settings: Settings
    token: str


@pytest.fixture(scope="module")
def deployment(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    """A home with Redis, the S3 server and the TEST PKI responders (`archive services up`), a PostgreSQL catalog
    and one worker process; an archivist with an API token."""
    from pipeline.app.auth_tokens import issue_token
    from pipeline.app.context import Context
    from pipeline.app.users import add_user, operator
    from pipeline.core.vocabulary import Classification, Role
    from pipeline.devtools import init_test_pki
    from pipeline.devtools.services.manager import services_down, services_up
    from pipeline.devtools.testconfig import use_test_pki

    home = tmp_path_factory.mktemp("api-worker-home")
    pg_url, stop_pg = start_postgres(tmp_path_factory.mktemp("api-worker-pg"))
    try:
        redis_port, s3_port, filer, master, volume, responders = free_s3_ports(6)
        settings = load_settings(home, environ={})
        settings.redis.port = redis_port
        settings.s3.endpoint = f"127.0.0.1:{s3_port}"
        settings.s3.filer_port, settings.s3.master_port, settings.s3.volume_port = filer, master, volume
        settings.sign.responders_port = responders
        settings.services.local_worker = False  # the worker below, with one process (two shared cores)
        settings.executor = "celery"
        scheme, rest = pg_url.split("://", 1)
        userinfo, host = rest.split("@", 1)
        user, password = userinfo.split(":", 1)
        settings.catalog.url, settings.catalog.password = f"{scheme}://{user}@{host}", password
        pki = init_test_pki(home / "pki", port=responders)
        write_settings(use_test_pki(settings, pki))
        services_up(load_settings(home, environ={}))
        settings = load_settings(home, environ={})
        env = {k: v for k, v in os.environ.items() if not k.startswith("ARCHIVE_")}
        env.update({"ARCHIVE_HOME": str(home), "OMP_THREAD_LIMIT": "1"})
        try:
            with running_worker(Instance(home, settings, env), concurrency=1):
                with Context(settings) as ctx:
                    ctx.store.ensure_bucket()
                    admin = operator(ctx)
                    add_user(ctx, admin, "an", frozenset({Role.ARCHIVIST}), Classification.MAT)
                    token = issue_token(ctx, admin, "an", "tests").token
                yield Deployment(settings, token)
        finally:
            services_down(settings)
    finally:
        stop_pg()


@pytest.fixture(scope="module")
def api(deployment: Deployment) -> Iterator[TestClient]:
    from pipeline.entry.api import create_app

    with TestClient(create_app(deployment.settings), base_url=URL, raise_server_exceptions=False) as client:
        client.headers["Authorization"] = f"Bearer {deployment.token}"
        yield client


def test_an_upload_is_ingested_by_the_worker_then_found_and_downloaded(api: TestClient, deployment: Deployment,
                                                                       tmp_path: Path) -> None:
    from pipeline.devtools.samples.pdfs import make_born_digital_pdf

    assert deployment.settings.catalog_url.startswith("postgresql")
    text = "Thông báo kết luận giao ban lưu trữ quý bốn"
    body = make_born_digital_pdf([text], tmp_path / "tb.pdf", title=text).read_bytes()
    rows = HEADER + "thong-bao.pdf,21/TB-VP,Thông báo,Kết luận giao ban,Văn phòng,2026-12-01,,Văn phòng,public,\n"
    sent = api.post("/api/v1/batches", data={"name": "Lô qua worker"},
                    files=[("files", ("thong-bao.pdf", body)), ("manifest", ("lo.csv", rows.encode()))])
    assert sent.status_code == 202, sent.text
    seen: list[tuple[str, str]] = []
    deadline = time.monotonic() + 600
    while True:
        status: dict[str, Any] = api.get(sent.json()["status_url"]).json()
        seen.extend((status["state"], d["stage"]) for d in status["documents"])
        if status["state"] in ("done", "incomplete") or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert status["state"] == "done" and status["kept_at"] is None, status
    assert status["summary"]["archived"] == 1 and status["finished"] == status["total"] == 1
    doc = status["documents"][0]
    assert doc["source"] == "thong-bao.pdf" and doc["state"] == "archived", status
    assert not (deployment.settings.intake_roots[0] / "uploads" / sent.json()["batch_id"]).exists()
    found = api.get("/api/v1/search", params={"q": "21/TB-VP"}).json()
    assert [h["id"] for h in found["hits"]] == [doc["doc_id"]]
    shown = api.get(f"/api/v1/documents/{doc['doc_id']}").json()
    assert shown["metadata"]["doc_number"] == "21/TB-VP"
    download = api.get(f"/api/v1/documents/{doc['doc_id']}/pdf")
    assert download.status_code == 200 and download.content.startswith(b"%PDF-")
    assert hashlib.sha256(download.content).hexdigest() == shown["artefacts"]["archive.pdf"]["sha256"]
    original = api.get(f"/api/v1/documents/{doc['doc_id']}/pdf", params={"representation": "original"})
    assert original.content == body  # the uploaded bytes, kept as the original
    listed = api.get("/api/v1/batches").json()["items"]
    assert listed[0]["batch_id"] == sent.json()["batch_id"] and listed[0]["name"] == "Lô qua worker"
