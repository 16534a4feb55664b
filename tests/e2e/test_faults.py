"""Fault injection on the real deployment's parts: a batch of 40 born-digital documents through `archive ingest`
on a real Celery worker, Redis and the S3 server, while the worker is killed with SIGKILL (and a new one started),
the S3 server is stopped for 15 s and started again, and Redis is stopped for 20 s and started again. At the end every
document is archived exactly once — metadata.json objects (one version each), catalog rows, index entries and
ingest seals in the audit trail — with nothing half-written, and the CLI said what it was waiting for.

A second test: the CLI exits non-zero while documents are not done, and `archive batch resume` finishes the
batch under the same id without a second copy of anything."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from pipeline.app.context import Context
from pipeline.app.searching import index_size
from pipeline.archive.client import make_client
from pipeline.archive.layout import DOCUMENTS, METADATA
from pipeline.core.settings import Settings
from pipeline.core.vocabulary import DocState
from tests.e2e.conftest import ARCHIVE, Instance, local_instance, running_worker

pytestmark = pytest.mark.slow
DOCS = 40  # 60 in the measurement; 40 keep every fault mid-batch at a third less test time


def _patient(settings: Settings) -> None:
    """Redelivery after 60 s (the shortest allowed), task limits below it, quick retries with a generous cap."""
    settings.redis.visibility_timeout_s = 60
    settings.redis.task_soft_time_limit_s = 40
    settings.redis.task_time_limit_s = 50
    settings.redis.retry_max = 10
    settings.redis.retry_backoff_s = 1.0
    settings.redis.retry_backoff_max_s = 8.0
    settings.redis.lost_check_s = 2.0  # a message the broker lost is submitted again within seconds


@pytest.fixture(scope="module")
def faulty(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Instance]:
    with local_instance(tmp_path_factory, "faults-home", _patient) as inst:
        yield inst


def _batch(root: Path, count: int, tag: str) -> Path:
    from pipeline.devtools.samples.pdfs import make_born_digital_pdf

    root.mkdir(parents=True, exist_ok=True)
    for n in range(1, count + 1):
        make_born_digital_pdf([f"Công văn số {n}/{tag} về việc lưu trữ hồ sơ điện tử, bản {n}."],
                              root / f"cv-{n:03d}.pdf")
    return root


def _journal(ctx: Context, name: str) -> tuple[str, dict[str, int]]:
    """The batch's id and its documents per journal state ("" and {} before it is journalled)."""
    for row in ctx.catalog.list_batches():
        if row.name == name:
            counts: dict[str, int] = {}
            for item in ctx.catalog.batch_items(row.id):
                counts[item.state.value] = counts.get(item.state.value, 0) + 1
            return row.id, counts
    return "", {}


def _wait_until(what: str, ok: Callable[[], bool], ingest: subprocess.Popen[str] | None,
                timeout_s: float = 600) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            if ok():
                return
        except Exception:  # the catalog is local; anything else answering late is retried
            pass
        if ingest is not None and ingest.poll() is not None:
            raise AssertionError(f"ingest ended ({ingest.returncode}) before {what}")
        time.sleep(0.5)
    raise AssertionError(f"timed out waiting for {what}")


def _exactly_once(inst: Instance, ctx: Context, sources: set[str], batch_id: str) -> None:
    client = make_client(inst.settings.s3)
    versions: dict[str, int] = {}
    prefixes: set[str] = set()
    for obj in client.list_objects(inst.settings.s3.bucket, prefix=f"{DOCUMENTS}/", recursive=True,
                                   include_version=True):
        name = obj.object_name or ""
        prefixes.add("/".join(name.split("/")[:2]))
        if name.endswith("/" + METADATA) and not obj.is_delete_marker:
            versions[name] = versions.get(name, 0) + 1
    items = ctx.catalog.batch_items(batch_id)
    assert {i.source_path for i in items} == sources
    assert {i.state for i in items} == {DocState.ARCHIVED}, [(i.source_path, i.state, i.reason) for i in items]
    doc_ids = {i.doc_id for i in items}
    assert len(doc_ids) == len(sources)
    assert len(versions) == len(sources) and set(versions.values()) == {1}, versions  # committed once each
    assert len(prefixes) == len(sources)  # nothing half-written: no document folder without its metadata.json
    assert ctx.catalog.count_documents(99) == len(sources)
    assert index_size(ctx) == len(sources)
    for doc_id in doc_ids:  # one sealed ingest per document: one visible outcome
        seals = [e for e in ctx.catalog.query_audit(object_id=doc_id) if e["action"] == "ingest"]
        assert [e["outcome"] for e in seals] == ["archived"], (doc_id, seals)


def test_sigkill_s3_and_redis_outages_mid_batch(faulty: Instance, tmp_path: Path) -> None:
    from pipeline.devtools.services.redis_server import start_redis, stop_redis
    from pipeline.devtools.services.s3local import start_s3, stop_s3

    batch = _batch(tmp_path / "faults", DOCS, "faults")
    ctx = Context(faulty.settings)
    archived = lambda: _journal(ctx, "faults")[1].get("archived", 0)  # noqa: E731
    out, err = tmp_path / "ingest.out", tmp_path / "ingest.err"
    with out.open("w") as out_fh, err.open("w") as err_fh:
        ingest = subprocess.Popen([ARCHIVE, "ingest", str(batch), "--json"], env=faulty.env, stdout=out_fh,
                                  stderr=err_fh, text=True)
    try:
        with running_worker(faulty, concurrency=1) as first:
            _wait_until("8 documents archived", lambda: archived() >= 8, ingest)
            os.killpg(first.pid, signal.SIGKILL)  # mid-document: its message stays unacknowledged in Redis
            first.wait(timeout=30)
        with running_worker(faulty, concurrency=1) as second:
            _wait_until("16 documents archived", lambda: archived() >= 16, ingest)
            stop_s3(faulty.settings)
            time.sleep(15)
            start_s3(faulty.settings)
            _wait_until("26 documents archived", lambda: archived() >= 26, ingest)
            stop_redis(faulty.settings)
            time.sleep(20)
            start_redis(faulty.settings)
            deadline = time.monotonic() + 900
            while ingest.poll() is None and time.monotonic() < deadline:  # celery 5.7.0's worker died here
                assert second.poll() is None, f"the worker exited ({second.returncode}) after the Redis restart"
                time.sleep(1)
            ingest.wait(timeout=1)
            said = err.read_text()
            worker_log = (faulty.home / "worker.log").read_text(errors="replace")
    finally:
        if ingest.poll() is None:
            ingest.kill()
    report = json.loads(out.read_text())
    assert ingest.returncode == 0, (said, report["summary"])
    assert report["summary"]["archived"] == DOCS and len(report["documents"]) == DOCS, report["summary"]
    # The client waited the Redis outage out and said so; the worker's retries named the S3 server.
    assert "Redis (the task broker) unreachable, retrying 1/10" in said, said
    assert "S3 server unreachable, retrying 1/10" in worker_log
    _exactly_once(faulty, ctx, {f"cv-{n:03d}.pdf" for n in range(1, DOCS + 1)}, report["batch_id"])


def test_cli_fails_while_unfinished_and_resume_completes(faulty: Instance, tmp_path: Path) -> None:
    batch = _batch(tmp_path / "late", 6, "late")
    ctx = Context(faulty.settings)
    with running_worker(faulty, concurrency=1):
        proc = faulty.run("ingest", str(batch), "--json", "--wait", "1", check=False)
        assert proc.stdout.strip(), f"ingest exited {proc.returncode} without a report: {proc.stderr}"
        report = json.loads(proc.stdout)
        assert proc.returncode == 1, proc.stderr
        assert report["summary"]["pending"] >= 1 and "still pending on the workers" in proc.stderr
        batch_id = report["batch_id"]
        status = faulty.run_json("batch", "status", batch_id, check=False)  # exits 1 while unfinished
        assert isinstance(status, dict) and status["state"] == "incomplete"
        # The worker finishes what was submitted; resume then has nothing left but closing the batch.
        _wait_until("the worker finishing the batch", lambda: _journal(ctx, "late")[1] == {"archived": 6}, None)
        resumed = faulty.run("batch", "resume", batch_id, "--json")
        assert json.loads(resumed.stdout)["unfinished"] == 0
        status = faulty.run_json("batch", "status", batch_id)
        assert isinstance(status, dict) and status["state"] == "done"
    items = ctx.catalog.batch_items(batch_id)
    assert len(items) == 6 and {i.state for i in items} == {DocState.ARCHIVED}
    for item in items:
        seals = [e for e in ctx.catalog.query_audit(object_id=item.doc_id) if e["action"] == "ingest"]
        assert len(seals) == 1


def test_messages_the_broker_lost_are_submitted_again(faulty: Instance, tmp_path: Path) -> None:
    """kombu's Redis transport can lose a message popped while its connection drops (pipeline.app.lost_tasks).
    The loss is made here by deleting the queued messages from Redis while no worker consumes the queue: the
    client notices and submits them again, and the batch completes with each document archived once."""
    import redis

    batch = _batch(tmp_path / "lost", 3, "lost")
    ctx = Context(faulty.settings)
    broker = redis.Redis.from_url(faulty.settings.redis.url)
    out, err = tmp_path / "ingest.out", tmp_path / "ingest.err"
    with running_worker(faulty, concurrency=1, queues="index,renew"):  # answers pings; takes no OCR task
        with out.open("w") as out_fh, err.open("w") as err_fh:
            ingest = subprocess.Popen([ARCHIVE, "ingest", str(batch), "--json", "--wait", "300"], env=faulty.env,
                                      stdout=out_fh, stderr=err_fh, text=True)
        try:
            _wait_until("3 messages queued", lambda: broker.llen("ocr") == 3, ingest, timeout_s=120)
            assert broker.delete("ocr") == 1  # all three lost
            with running_worker(faulty, concurrency=1, queues="ocr"):
                ingest.wait(timeout=300)
        finally:
            if ingest.poll() is None:
                ingest.kill()
    said = err.read_text()
    report = json.loads(out.read_text())
    assert ingest.returncode == 0, (said, report["summary"])
    assert report["summary"]["archived"] == 3, report["summary"]
    assert said.count("the broker lost its task; submitted again") == 3, said
    items = ctx.catalog.batch_items(report["batch_id"])
    assert {i.state for i in items} == {DocState.ARCHIVED} and len(items) == 3
    for item in items:
        seals = [e for e in ctx.catalog.query_audit(object_id=item.doc_id) if e["action"] == "ingest"]
        assert len(seals) == 1
