"""Many readers through the application (issue 16): the writer publishes the index (`archive publish-index`, or
the beat task as the system), a replica process (``search.replica``) serves searches from the newest snapshot,
and sees a new document only once it is published. Real S3 server, real index, real processes."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from pipeline.core.settings import load_settings, update_config
from tests.app.conftest import ARCHIVE, HEADER, Home, keyed_worker


def _replica_search(home: Home, text: str) -> subprocess.CompletedProcess[str]:
    env = dict(home.env) | {"ARCHIVE_SEARCH__REPLICA": "true"}
    return subprocess.run([ARCHIVE, "search", text, "--json"], env=env, capture_output=True, text=True, timeout=300)


def _ids(done: subprocess.CompletedProcess[str]) -> set[str]:
    assert done.returncode == 0, done.stderr
    return {hit["id"] for hit in json.loads(done.stdout)["hits"]}


def test_a_replica_serves_what_the_writer_published(home: Home, ingested: dict[str, str], tmp_path: Path) -> None:
    from pipeline.app.batches import ingest_batch
    from pipeline.app.users import resolve_actor
    from pipeline.devtools.samples.pdfs import make_born_digital_pdf

    shared = tmp_path / "shared-snapshots"
    refused = _replica_search(home, "van ban dien tu")
    assert refused.returncode == 1 and "search.snapshot_dir is empty" in refused.stderr
    update_config(home.settings.home, {"search.snapshot_dir": str(shared)})
    home.settings = load_settings(home.settings.home, environ={})
    assert "no search snapshot published" in _replica_search(home, "van ban dien tu").stderr

    first = home.run("publish-index", "--json")
    assert first.returncode == 0, first.stderr
    assert json.loads(first.stdout)["new"] and _ids(_replica_search(home, "van ban dien tu")) == {
        ingested[next(s for s in ingested if s.endswith("cong-khai.pdf"))]}
    assert not json.loads(home.run("publish-index", "--json").stdout)["new"]  # nothing changed

    batch = tmp_path / "lo-moi"
    make_born_digital_pdf(["Kế hoạch chỉnh lý tài liệu tồn đọng năm 2026."], batch / "chinh-ly.pdf",
                          title="Kế hoạch chỉnh lý")
    (batch / "manifest.csv").write_text(
        HEADER + "chinh-ly.pdf,12/KH-VP,Kế hoạch,Kế hoạch chỉnh lý tài liệu,Văn phòng,2026-11-20,,Văn phòng,public,\n",
        encoding="utf-8")
    with home.context() as ctx:
        report = ingest_batch(ctx, resolve_actor(ctx, None), batch, executor="local")
    assert report.ok, report.to_dict()
    new_id = report.documents[0].id
    assert new_id not in _ids(_replica_search(home, "chỉnh lí tài liệu"))  # not yet published
    with keyed_worker(home.settings) as tasks:
        from pipeline.entry import snapshot_task

        entry = tasks.app.conf.beat_schedule["publish-search-index"]
        assert entry["task"] == snapshot_task.PUBLISH and entry["schedule"] == 60.0
        assert tasks.app.conf.task_routes[snapshot_task.PUBLISH] == {"queue": "index"}  # the one index writer
        result = snapshot_task.publish_index_task.apply(args=[lazy() for lazy in entry["args"]]).get(
            disable_sync_subtasks=False)
    assert result["new"]
    assert new_id in _ids(_replica_search(home, "chỉnh lí tài liệu"))  # the other i/y spelling, too
    with home.context() as ctx:
        events = [e for e in ctx.catalog.query_audit() if e["action"] == "search.publish"]
    assert len(events) == 2 and events[-1]["actor"] == "system"  # the run with nothing new recorded nothing
    assert events[0]["object"] == json.loads(first.stdout)["snapshot"]


def test_only_an_administrator_publishes(home: Home) -> None:
    from pipeline.app.search_snapshots import publish_index
    from pipeline.core.actor import AccessDenied, Actor
    from pipeline.core.vocabulary import Classification, Role

    with home.context() as ctx, pytest.raises(AccessDenied, match="publish the search index"):
        publish_index(ctx, Actor("doc.gia", frozenset({Role.STAFF, Role.ARCHIVIST}), Classification.TUYET_MAT))


def test_a_replica_asks_the_index_writer_instead_of_writing(home: Home, ingested: dict[str, str],
                                                           tmp_path: Path) -> None:
    """A metadata edit or a disposal on a replica (an API process) indexes through the writer: a signed index
    message on the broker, which the writer's task verifies and runs from storage. Real Redis; the task runs
    in-process on the writer's configuration."""
    import base64

    import redis

    from pipeline.app import searching
    from pipeline.app.context import Context
    from pipeline.app.indexing import index_record
    from pipeline.app.users import operator
    from pipeline.devtools.services.redis_server import start_redis, stop_redis
    from pipeline.entry import worker
    from search import SearchQuery
    from tests.conftest import free_port

    doc_id = ingested[next(s for s in ingested if s.endswith("cong-khai.pdf"))]
    writer = home.settings.model_copy(deep=True)
    writer.redis.port, writer.redis.password, writer.redis.message_key = free_port(), "replica-test-pw", "k" * 32
    writer.search.snapshot_dir = ""
    replica = writer.model_copy(deep=True)
    replica.search.replica, replica.search.snapshot_dir = True, str(tmp_path / "shared")

    def found() -> bool:
        with Context(writer) as ctx:
            return doc_id in {h.id for h in searching.search(ctx, operator(ctx), SearchQuery("van ban dien tu")).hits}

    with Context(writer) as ctx:
        index = ctx.open_index()
        index.delete(doc_id)
        index.close()
    assert not found()
    start_redis(writer)
    saved = worker._settings
    try:
        with Context(replica) as ctx:
            index_record(ctx, ctx.store.get_record(doc_id), ctx.store.page_texts(doc_id))
        client = redis.Redis(port=writer.redis.port, password=writer.redis.password)
        (raw,) = client.lrange("index", 0, -1)
        message = json.loads(base64.b64decode(json.loads(raw)["body"]))[0][0]
        worker.configure(writer)
        worker.index_document_task.apply(args=[message]).get(disable_sync_subtasks=False)
    finally:
        stop_redis(writer)
        if saved is not None:
            worker.configure(saved)
    assert found()
