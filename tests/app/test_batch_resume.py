"""Exactly-once archiving across outages and killed runs, on a real S3 server of this module's own (stopped and
started again mid-batch): a service that does not answer leaves the document `failed` in its batch, never
quarantined; `archive batch resume` finishes the batch under the same id, archiving each document exactly once
(metadata.json objects and their versions, catalog rows), and `archive batch status` / `list` read the journal."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import redis

from pipeline.app.batch_resume import resume_batch, unfinished_count
from pipeline.app.batches import ingest_batch
from pipeline.app.context import Context
from pipeline.app.process import process_document
from pipeline.app.users import operator
from pipeline.archive.client import make_client
from pipeline.archive.layout import METADATA
from pipeline.core.settings import Settings
from pipeline.core.vocabulary import Classification, DocState
from pipeline.scan import plan_batch
from tests.conftest import free_port, running_s3

ARCHIVE = str(Path(sys.executable).parent / "archive")


@pytest.fixture(scope="module")
def own_s3(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Settings]:
    """A home with its own S3 server (so a test may stop and restart it), signing off, in-process ingest."""

    def tweak(settings: Settings) -> None:
        settings.sign.enabled = False
        settings.executor = "local"

    with running_s3(tmp_path_factory.mktemp("resume-home"), tweak) as settings:
        yield settings


def _batch(root: Path, name: str, count: int) -> Path:
    from pipeline.devtools.samples.pdfs import make_born_digital_pdf

    folder = root / name
    for n in range(1, count + 1):
        make_born_digital_pdf([f"Công văn số {n} của lô {name} về lưu trữ điện tử."], folder / f"cv-{n}.pdf")
    return folder


class Outage:
    """Observer that, when ``source`` reaches ``stage``, calls ``action`` once (a real outage)."""

    def __init__(self, source: str, stage: str, action: Callable[[], object]) -> None:
        self.source, self.at, self.action, self.fired = source, stage, action, False

    def planned(self, plan: object) -> None:
        pass

    def stage(self, source: str, stage: str) -> None:
        if source == self.source and stage == self.at and not self.fired:
            self.fired = True
            self.action()

    def done(self, outcome: object) -> None:
        pass


def _stored(settings: Settings, ids: set[str]) -> dict[str, int]:
    """Versions of metadata.json (the commit point) per document id, as the S3 server lists them."""
    client = make_client(settings.s3)
    counts: dict[str, int] = {}
    for obj in client.list_objects(settings.s3.bucket, recursive=True, include_version=True):
        name = obj.object_name or ""
        if name.endswith("/" + METADATA):
            owner = next((i for i in ids if i in name), None)
            if owner is not None and not obj.is_delete_marker:
                counts[owner] = counts.get(owner, 0) + 1
    return counts


def _cli(settings: Settings, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ARCHIVE_")}
    env.update({"ARCHIVE_HOME": str(settings.home), "OMP_THREAD_LIMIT": "1", "COLUMNS": "200"})
    return subprocess.run([ARCHIVE, *args], env=env, capture_output=True, text=True, timeout=300)


def test_redis_refused_mid_document_is_failed_not_quarantined(own_s3: Settings, tmp_path: Path) -> None:
    """The measured bug: the stage chain reports progress to Redis; Redis refusing the connection quarantined
    good documents with "ConnectionError" as the reason. Now: failed, input kept, nothing in quarantine."""
    closed = free_port()  # nothing listens there: a real connection refused
    refuse = redis.Redis(host="127.0.0.1", port=closed, socket_connect_timeout=1).ping
    folder = _batch(tmp_path, "lo-redis", 2)
    with Context(own_s3) as ctx:
        report = ingest_batch(ctx, operator(ctx), folder, observer=Outage("cv-2.pdf", "store", refuse))
        journal = {i.source_path: i for i in ctx.catalog.batch_items(report.batch_id)}
        quarantined = ctx.store.list_quarantine(report.batch)
    states = {d.source: d.status for d in report.documents}
    assert states == {"cv-1.pdf": "archived", "cv-2.pdf": "failed"}, report.to_dict()
    failed = next(d for d in report.documents if d.status == "failed")
    assert "left in the batch" in failed.reason and "quarantin" not in failed.reason
    assert journal["cv-2.pdf"].state is DocState.FAILED and quarantined == []
    assert (folder / "cv-2.pdf").is_file()

    status = _cli(own_s3, "batch", "status", report.batch_id, "--json")
    assert status.returncode == 1, status.stderr  # something unfinished
    shown = {d["source"]: d for d in json.loads(status.stdout)["documents"]}
    assert shown["cv-2.pdf"]["state"] == "failed" and shown["cv-1.pdf"]["doc_id"] == journal["cv-1.pdf"].doc_id

    resumed = _cli(own_s3, "batch", "resume", report.batch_id, "--json")
    assert resumed.returncode == 0, resumed.stderr
    body = json.loads(resumed.stdout)
    assert body["batch_id"] == report.batch_id and body["unfinished"] == 0
    assert [(d["source"], d["status"]) for d in body["documents"]] == [("cv-2.pdf", "archived")]
    ids = {journal["cv-1.pdf"].doc_id, journal["cv-2.pdf"].doc_id}
    assert _stored(own_s3, ids) == dict.fromkeys(ids, 1)


def test_resume_after_storage_outage_and_a_killed_run_archives_each_exactly_once(
        own_s3: Settings, tmp_path: Path) -> None:
    from pipeline.devtools.services.s3local import start_s3, stop_s3

    folder = _batch(tmp_path, "lo-sap-nguon", 5)
    with Context(own_s3) as ctx:
        actor = operator(ctx)
        # S3 server stopped while cv-2 is being stored: cv-1 archived, cv-2 … cv-5 failed (retryable).
        report = ingest_batch(ctx, actor, folder, observer=Outage("cv-2.pdf", "store", lambda: stop_s3(own_s3)))
        assert {d.source: d.status for d in report.documents} == {
            "cv-1.pdf": "archived", **{f"cv-{n}.pdf": "failed" for n in range(2, 6)}}, report.to_dict()
        start_s3(own_s3)
        batch_id, name = report.batch_id, report.batch
        # A run killed mid-document: cv-4 left `processing`; cv-3 committed to storage, then the worker died
        # before its seal, its catalog row and its journal entry.
        ctx.catalog.set_item_state(batch_id, "cv-4.pdf", DocState.PROCESSING)
        item = next(d for d in plan_batch(folder).documents if d.source_path == "cv-3.pdf")
        started = ctx.catalog.get_batch(batch_id).started_at
        stored, record, _texts = process_document(item, name, started, own_s3, ctx.store)
        assert stored.status == "archived" and record is not None
        assert unfinished_count(ctx, batch_id) == 4

        resumed = resume_batch(ctx, actor, batch_id)
        assert resumed.unfinished == 0 and resumed.report.batch_id == batch_id
        outcomes = {d.source: d for d in resumed.report.documents}
        assert {s: d.status for s, d in outcomes.items()} == {f"cv-{n}.pdf": "archived" for n in range(2, 6)}
        assert "interrupted" in outcomes["cv-3.pdf"].reason
        journal = ctx.catalog.batch_items(batch_id)
        assert {i.state for i in journal} == {DocState.ARCHIVED} and len(journal) == 5
        ids = {i.doc_id for i in journal if i.doc_id}
        assert len(ids) == 5
        assert all(ctx.catalog.get_record(i, Classification.TUYET_MAT) is not None for i in ids)  # one catalog row each
        assert ctx.catalog.get_batch(batch_id).state == "done"

        again = resume_batch(ctx, actor, batch_id)  # nothing left: nothing run, nothing written
        assert again.unfinished == 0 and again.report.documents == []
    assert _stored(own_s3, ids) == dict.fromkeys(ids, 1)  # exactly once: one metadata.json, one version

    verify = _cli(own_s3, "verify", record.id, "--json")  # the document stored by the killed run got its seal
    assert json.loads(verify.stdout)["seal"] == "match", verify.stdout + verify.stderr
    listed = _cli(own_s3, "batch", "list", "--json")
    assert listed.returncode == 0, listed.stderr
    row = next(b for b in json.loads(listed.stdout) if b["batch_id"] == batch_id)
    assert row["state"] == "done" and row["summary"]["archived"] == 5 and row["total"] == 5
    table = _cli(own_s3, "batch", "list")
    assert table.returncode == 0 and batch_id in table.stdout
    status = _cli(own_s3, "batch", "status", batch_id)
    assert status.returncode == 0 and "cv-3.pdf" in status.stdout and "archived" in status.stdout


def test_resume_of_an_unknown_batch_is_one_line(own_s3: Settings) -> None:
    done = _cli(own_s3, "batch", "resume", "20260101T000000Z-00000000")
    assert done.returncode == 1 and done.stderr.strip() == "archive: error: no batch '20260101T000000Z-00000000'"
