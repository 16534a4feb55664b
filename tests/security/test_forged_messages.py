"""Issue 9, finding 2: forged Celery messages. Real Redis (with its password), the real S3 server and TEST
PKI responders from `archive services up`, and the real local worker it starts; the attacker talks to the
broker directly (redis-py, or Celery's own client without the message key) and knows the Redis password.

Every refusal must leave nothing behind: no document, no quarantine upload, no batch journal row — and one
``message.refused`` audit event with the reason."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import redis
from celery import Celery

from pipeline.app.context import Context
from pipeline.app.messages import MAX_AGE_S, MessageRefused, sign_message
from pipeline.app.process import item_to_dict
from pipeline.core.settings import Settings, load_settings, write_settings
from pipeline.core.vocabulary import Classification, Role
from pipeline.devtools.samples.pdfs import make_born_digital_pdf
from pipeline.scan import plan_batch
from tests.conftest import free_s3_ports

pytestmark = pytest.mark.slow
ARCHIVE = str(Path(sys.executable).parent / "archive")
PROCESS, RENEW = "archive.process_document", "archive.renew_timestamps"
WAIT_S = 120


@dataclass
class Instance:
    home: Path
    intake: Path
    settings: Settings

    def context(self) -> Context:
        return Context(load_settings(self.home, environ={}))


@pytest.fixture(scope="module")
def instance(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Instance]:
    from pipeline.devtools import init_test_pki
    from pipeline.devtools.services.manager import services_down, services_up
    from pipeline.devtools.testconfig import use_test_pki

    home = tmp_path_factory.mktemp("forged-home")
    intake = tmp_path_factory.mktemp("forged-intake")  # the only intake root; the home is outside it
    redis_port, s3_port, filer, master, volume, responders = free_s3_ports(6)
    settings = load_settings(home, environ={})
    settings.redis.port = redis_port
    settings.s3.endpoint = f"127.0.0.1:{s3_port}"
    settings.s3.filer_port, settings.s3.master_port, settings.s3.volume_port = filer, master, volume
    settings.sign.responders_port = responders
    settings.intake.roots = [str(intake)]
    settings.services.local_worker = True  # the worker `archive services up` starts (the local worker path)
    settings.services.worker_concurrency = 1
    write_settings(use_test_pki(settings, init_test_pki(home / "pki", port=responders)))
    services_up(load_settings(home, environ={}))
    loaded = load_settings(home, environ={})
    try:
        assert loaded.redis.password and loaded.redis.message_key
        yield Instance(home, intake, loaded)
    finally:
        services_down(loaded)


def _attacker(settings: Settings) -> Celery:
    """A Celery client that knows the broker's password but not the message key."""
    client = Celery("attacker", broker=settings.redis.url, backend=settings.redis.url)
    client.conf.update(task_serializer="json", result_serializer="json", accept_content=["json"],
                       task_default_queue="ocr")  # the queue the workers consume
    return client


def _push_raw(settings: Settings, task: str, args: list[Any], queue: str = "ocr") -> str:
    """A Celery protocol-2 message written straight into the queue with redis-py: no Celery, no kombu."""
    task_id = str(uuid.uuid4())
    body = base64.b64encode(json.dumps([args, {}, {"callbacks": None, "errbacks": None, "chain": None,
                                                    "chord": None}]).encode()).decode()
    message = {
        "body": body, "content-encoding": "utf-8", "content-type": "application/json",
        "headers": {"lang": "py", "task": task, "id": task_id, "root_id": task_id, "parent_id": None,
                    "group": None, "retries": 0, "eta": None, "expires": None, "timelimit": [None, None],
                    "argsrepr": "", "kwargsrepr": "", "origin": "attacker@localhost"},
        "properties": {"correlation_id": task_id, "reply_to": "", "delivery_mode": 2, "priority": 0,
                       "delivery_info": {"exchange": "", "routing_key": queue}, "body_encoding": "base64",
                       "delivery_tag": str(uuid.uuid4())},
    }
    client = redis.Redis(host=settings.redis.host, port=settings.redis.port, password=settings.redis.password)
    client.lpush(queue, json.dumps(message))
    return task_id


def _refusal(instance: Instance, task_id: str) -> str:
    """Wait for the task to fail as refused; returns the reason the worker audited for it."""
    client = _attacker(instance.settings)
    result = client.AsyncResult(task_id)
    error = result.get(timeout=WAIT_S, propagate=False)
    assert result.state == "FAILURE", (result.state, error)
    assert isinstance(error, MessageRefused) or type(error).__name__ == "MessageRefused", repr(error)
    with instance.context() as ctx:
        events = [e for e in ctx.store.read_audit()
                  if getattr(e, "action", "") == "message.refused" and e.detail.get("task_id") == task_id]
    assert len(events) == 1, f"no refusal audited for {task_id}"
    (event,) = events
    assert event.outcome == "refused" and event.actor == "system"
    assert str(error) == event.detail["reason"]
    return str(event.detail["reason"])


def _assert_nothing_left(instance: Instance, *doc_ids: str, secret: Path | None = None) -> None:
    with instance.context() as ctx:
        for doc_id in doc_ids:
            assert not ctx.store.has_document(doc_id), f"{doc_id} was archived"
            assert ctx.catalog.get_record(doc_id, Classification.TUYET_MAT) is None
        entries = ctx.store.list_quarantine()
        assert entries == [], entries
        listed = [o.object_name for o in ctx.store.client.list_objects(ctx.store.bucket, recursive=True)]
        if secret is not None:
            needle = secret.read_bytes()
            for key in listed:
                if not key.startswith("audit/"):
                    assert needle not in ctx.store.get_bytes(key), f"{secret.name} uploaded as {key}"


def _pdf(instance: Instance, name: str, text: str) -> tuple[dict[str, Any], Path]:
    """A real document inside the intake root, planned as the CLI would: its message item."""
    batch = instance.intake / name
    make_born_digital_pdf([text], batch / "van-ban.pdf")
    (item,) = plan_batch(batch).documents
    return item_to_dict(item), batch


def _signed(instance: Instance, item: dict[str, Any], actor: str = "admin", **override: Any) -> dict[str, Any]:
    """What a holder of the leaked message key can send: a correctly signed message."""
    args = {"item": item, "batch_id": "20261102T010203Z-0badc0de", "batch": "lo-tan-cong",
            "received_at": "2026-11-02T01:02:03+00:00", "actor": actor} | override
    return sign_message(instance.settings.redis.message_key, PROCESS, args)


# ---- (a) no key: unsigned and wrongly signed messages ------------------------------------------------
def test_unsigned_message_through_redis_is_refused(instance: Instance) -> None:
    """The original attack: the old positional arguments, pointing at the TEST PKI's password file."""
    secret = instance.home / "pki" / "test-pki.json"
    assert secret.is_file()
    forged = {"source_path": "test-pki.json", "files": [str(secret)], "kind": "pdf", "origin": "born_digital",
              "needs_ocr": False, "page_count": 1, "doc_id": "ab" * 32, "metadata": {},
              "has_manifest_row": False, "warnings": []}
    task_id = _push_raw(instance.settings, PROCESS, [forged, "20261102T010203Z-0badc0de", "lo", "2026-11-02T00:00"
                                                     ":00+00:00", "admin"])
    assert _refusal(instance, task_id).startswith("unsigned message")
    _assert_nothing_left(instance, "ab" * 32, secret=secret)


def test_wrongly_signed_or_altered_message_is_refused(instance: Instance) -> None:
    item, _batch = _pdf(instance, "lo-sai-khoa", "Công văn giả mạo ký bằng khóa đoán.")
    client = _attacker(instance.settings)
    guessed = sign_message("a-guessed-key", PROCESS, {"item": item, "batch_id": "20261102T010203Z-0badc0de",
                                                      "batch": "lo", "received_at": "2026-11-02T00:00:00+00:00",
                                                      "actor": "admin"})
    reason = _refusal(instance, client.send_task(PROCESS, args=[guessed]).id)
    assert reason.startswith("wrong signature")
    altered = _signed(instance, item)
    altered["args"]["actor"] = "system"  # a genuine message, changed after signing
    assert _refusal(instance, client.send_task(PROCESS, args=[altered]).id).startswith("wrong signature")
    stale = sign_message(instance.settings.redis.message_key, RENEW, {"within_days": 36500},
                         now=time.time() - MAX_AGE_S - 60)
    assert _refusal(instance, client.send_task(RENEW, args=[stale]).id).startswith("stale signature")
    replayed = _signed(instance, item)  # signed for process_document, delivered to another task
    assert "delivered to 'archive.renew_timestamps'" in _refusal(instance, client.send_task(
        RENEW, args=[replayed]).id)
    _assert_nothing_left(instance, item["doc_id"])


def test_a_genuine_message_with_longer_time_limits_in_its_headers_is_refused(instance: Instance) -> None:
    """The limits are Celery headers, outside the signature: a captured genuine message sent again with a day's
    limit would hold a worker process for that day."""
    item, _batch = _pdf(instance, "lo-gio-dai", "Công văn gửi lại với thời hạn xử lý dài.")
    client = _attacker(instance.settings)
    sent = client.send_task(PROCESS, args=[_signed(instance, item)], time_limit=86_400, soft_time_limit=86_000)
    reason = _refusal(instance, sent.id)
    assert reason.startswith("time limits in the message headers (86000 s soft, 86400 s hard) exceed"), reason
    _assert_nothing_left(instance, item["doc_id"])


# ---- (b)-(d) a leaked key: correctly signed messages still cannot leave the intake roots ---------------
def test_signed_message_naming_a_file_outside_the_roots_is_refused(instance: Instance) -> None:
    secret = instance.home / "pki" / "test-pki.json"
    client = _attacker(instance.settings)
    for path in (secret, instance.intake / ".." / secret.relative_to(instance.intake.parent)):
        item = {"source_path": "test-pki.json", "files": [str(path)], "kind": "pdf", "doc_id": "cd" * 32,
                "metadata": {}}
        reason = _refusal(instance, client.send_task(PROCESS, args=[_signed(instance, item)]).id)
        assert reason.startswith(f"{path} is outside the intake roots ({instance.intake.resolve()})"), reason
    _assert_nothing_left(instance, "cd" * 32, hashlib.sha256(secret.read_bytes()).hexdigest(), secret=secret)


def test_signed_message_with_a_chosen_doc_id_is_refused(instance: Instance) -> None:
    """Refused, not archived under the recomputed id: the id the submitter planned is what the batch journal,
    the report and any reader of the message rely on; a mismatch means forgery or a file changed since
    planning, and either way the input stays in the batch for a fresh ingest."""
    item, _batch = _pdf(instance, "lo-ma-chon", "Quyết định giả mạo với mã tài liệu do kẻ tấn công chọn.")
    real_id, chosen = item["doc_id"], hashlib.sha256(b"a document the attacker wants to shadow").hexdigest()
    forged = _signed(instance, item | {"doc_id": chosen})
    reason = _refusal(instance, _attacker(instance.settings).send_task(PROCESS, args=[forged]).id)
    assert reason == f"doc_id {chosen} does not match the content (its SHA-256 is {real_id})"
    _assert_nothing_left(instance, chosen, real_id)


def test_signed_message_through_a_symlink_out_of_the_root_is_refused(instance: Instance) -> None:
    secret = instance.home / "pki" / "test-pki.json"
    batch = instance.intake / "lo-lien-ket"
    batch.mkdir()
    (batch / "van-ban.pdf").symlink_to(secret)
    item = {"source_path": "van-ban.pdf", "files": [str(batch / "van-ban.pdf")], "kind": "pdf",
            "doc_id": hashlib.sha256(secret.read_bytes()).hexdigest(), "metadata": {}}
    reason = _refusal(instance, _attacker(instance.settings).send_task(PROCESS, args=[_signed(instance, item)]).id)
    assert reason.startswith(f"{batch / 'van-ban.pdf'} is outside the intake roots"), reason
    _assert_nothing_left(instance, item["doc_id"], secret=secret)


def test_signed_message_through_a_hard_link_out_of_the_root_is_refused(instance: Instance) -> None:
    """A hard link inside the root resolves inside it for every path check: only the link count tells."""
    secret = instance.home / "pki" / "test-pki.json"
    batch = instance.intake / "lo-lien-ket-cung"
    batch.mkdir()
    os.link(secret, batch / "van-ban.pdf")
    item = {"source_path": "van-ban.pdf", "files": [str(batch / "van-ban.pdf")], "kind": "pdf",
            "doc_id": hashlib.sha256(secret.read_bytes()).hexdigest(), "metadata": {}}
    reason = _refusal(instance, _attacker(instance.settings).send_task(PROCESS, args=[_signed(instance, item)]).id)
    assert reason == f"{batch / 'van-ban.pdf'} has 2 hard links: intake files must have one", reason
    _assert_nothing_left(instance, item["doc_id"], secret=secret)


def test_a_flood_of_refusals_is_audited_within_a_budget() -> None:
    from pipeline.app.messages import AUDITED_REFUSALS_PER_MINUTE, _RefusalBudget

    budget = _RefusalBudget()
    admitted = [budget.admit(now=60.0) for _ in range(AUDITED_REFUSALS_PER_MINUTE + 5)]
    assert admitted[:AUDITED_REFUSALS_PER_MINUTE] == [0] * AUDITED_REFUSALS_PER_MINUTE
    assert admitted[AUDITED_REFUSALS_PER_MINUTE:] == [None] * 5  # logged only
    assert budget.admit(now=125.0) == 5  # the next minute's first event says how many were only logged


def test_signed_message_for_an_actor_who_may_not_ingest_is_refused(instance: Instance) -> None:
    from pipeline.app.users import add_user, operator, update_user

    with instance.context() as ctx:
        add_user(ctx, operator(ctx), "doc-gia", frozenset({Role.STAFF}), Classification.PUBLIC)
        add_user(ctx, operator(ctx), "cu-nhan-vien", frozenset({Role.ARCHIVIST}), Classification.PUBLIC)
        update_user(ctx, operator(ctx), "cu-nhan-vien", disabled=True)
    item, _batch = _pdf(instance, "lo-nguoi-dung", "Báo cáo gửi dưới tên người khác.")
    client = _attacker(instance.settings)
    expected = {"ma-quy": "actor 'ma-quy' is not a user of the catalog",
                "doc-gia": "actor 'doc-gia' may not ingest (needs the archivist role)",
                "cu-nhan-vien": "actor 'cu-nhan-vien' is disabled"}
    for actor, reason in expected.items():
        assert _refusal(instance, client.send_task(PROCESS, args=[_signed(instance, item, actor)]).id) == reason
    bad_days = sign_message(instance.settings.redis.message_key, RENEW, {"within_days": "36500; rm -rf"})
    assert _refusal(instance, client.send_task(RENEW, args=[bad_days]).id).startswith("within_days:")
    _assert_nothing_left(instance, item["doc_id"])


# ---- the legitimate paths still work -----------------------------------------------------------------
def test_cli_ingest_refuses_a_batch_outside_the_roots_and_archives_one_inside(instance: Instance,
                                                                              tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ARCHIVE_")}
    env |= {"ARCHIVE_HOME": str(instance.home), "OMP_THREAD_LIMIT": "1"}
    outside = tmp_path / "lo-ngoai"
    make_born_digital_pdf(["Tờ trình nằm ngoài thư mục tiếp nhận."], outside / "to-trinh.pdf")
    proc = subprocess.run([ARCHIVE, "ingest", str(outside)], env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 1
    assert proc.stderr.splitlines() == [
        f"archive: error: {outside} is outside the intake roots ({instance.intake.resolve()}): move the batch "
        "there or add its folder to intake.roots"], proc.stderr
    _item, inside = _pdf(instance, "lo-hop-le", "Kế hoạch số hóa hợp lệ của Văn phòng.")
    proc = subprocess.run([ARCHIVE, "ingest", str(inside), "--json"], env=env, capture_output=True, text=True,
                          timeout=600)
    assert proc.returncode == 0, proc.stderr
    (doc,) = json.loads(proc.stdout)["documents"]
    assert doc["status"] == "archived" and doc["id"] == _item["doc_id"]
    with instance.context() as ctx:
        record = ctx.store.get_record(doc["id"])
        assert record.signature.signed and record.source.files == ["van-ban.pdf"]
        assert ctx.store.verify_fixity(doc["id"]) == []


def test_worker_refuses_to_start_without_a_message_key(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ARCHIVE_")}
    env |= {"ARCHIVE_HOME": str(tmp_path), "ARCHIVE_REDIS__PORT": "1"}
    proc = subprocess.run([ARCHIVE, "worker"], env=env, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 1
    (line,) = proc.stderr.splitlines()
    assert line.startswith("archive: error: redis.message_key is not set: a worker verifies every task message")


def test_beat_signs_its_messages_when_it_sends_them(instance: Instance) -> None:
    """The beat entries carry no frozen message: each is signed at each run and the worker accepts it. The
    daily renewal of document timestamps; the weekly re-lock of permanent records (audited as the system)."""
    from celery.beat import ScheduleEntry, Scheduler

    from pipeline.entry import worker as tasks

    tasks.configure(instance.settings)
    with instance.context() as ctx:
        ctx.store.ensure_bucket()  # when this test runs alone
    scheduler = Scheduler(app=tasks.app, lazy=True)
    entries = {name: ScheduleEntry(name=name, app=tasks.app, **tasks.app.conf.beat_schedule[name])
               for name in ("renew-document-timestamps", "extend-permanent-locks")}
    report = scheduler.apply_async(entries["renew-document-timestamps"], advance=False).get(timeout=WAIT_S)
    assert set(report) == {"checked", "renewed", "failed"} and report["failed"] == {}
    report = scheduler.apply_async(entries["extend-permanent-locks"], advance=False).get(timeout=WAIT_S)
    assert set(report) == {"documents", "versions_extended"} and report["documents"] >= 0
    with instance.context() as ctx:
        events = [e for e in ctx.catalog.query_audit(object_id="permanent") if e["actor"] == "system"]
    assert events and events[-1]["action"] == "retention.extend"
    forged = sign_message("a-guessed-key", tasks.EXTEND, {})
    reason = _refusal(instance, _attacker(instance.settings).send_task(tasks.EXTEND, args=[forged]).id)
    assert reason.startswith("wrong signature")


def test_a_forged_archived_result_is_not_believed(instance: Instance) -> None:
    """Anyone with the Redis password can write a task result; the submitter checks the claim in storage."""
    from pipeline.app.batches import _confirmed
    from pipeline.app.process import ARCHIVED, FAILED, DocumentOutcome

    with instance.context() as ctx:
        forged = DocumentOutcome("van-ban.pdf", ARCHIVED, id="ef" * 32)
        outcome = _confirmed(ctx, forged, "ef" * 32)
        assert outcome.status == FAILED
        assert outcome.reason == ("the worker's result says archived, but storage holds no such document; "
                                  "input left in the batch")
        swapped = _confirmed(ctx, DocumentOutcome("van-ban.pdf", ARCHIVED, id="ef" * 32), "12" * 32)
        assert swapped.status == FAILED and swapped.id == "12" * 32
