"""The audit trail on the real S3 server: writing, concurrent writers, and tampering done for real with the raw
minio client against the stored segments (the verification must name the first break)."""

from __future__ import annotations

import io
import json
import logging
import threading
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from minio.commonconfig import COMPLIANCE
from minio.error import S3Error

from pipeline.app.audit import AuditEntry, AuditTrail
from pipeline.archive import ArchiveStore, audit_log
from pipeline.archive.retention import MinimumRetention
from pipeline.core.audit import AuditEvent, seal

DOC = "5e2f" + "b" * 60


def write_chain(store: ArchiveStore, n: int = 6, **kwargs: Any) -> list[AuditEvent]:
    """``n`` events, one segment each."""
    trail = AuditTrail(store, **kwargs)
    return [trail.record("lan.nguyen", "ingest", f"{DOC[:-2]}{i:02d}", "archived", {"batch": "lô-01", "i": i})
            for i in range(1, n + 1)]


def raw(store: ArchiveStore, seq: int) -> bytes:
    return store.get_bytes(audit_log.segment_key(seq))


def overwrite(store: ArchiveStore, seq: int, data: bytes) -> None:
    """A new version of the segment starting at ``seq`` (allowed even under Object Lock)."""
    store.client.put_object(store.bucket, audit_log.segment_key(seq), io.BytesIO(data), len(data))


def edit_line(data: bytes, line: int, **changes: Any) -> bytes:
    lines = data.decode().splitlines()
    event = json.loads(lines[line])
    event.update(changes)
    lines[line] = json.dumps(event, ensure_ascii=False)
    return ("\n".join(lines) + "\n").encode()


def test_chain_written_and_verified(store: ArchiveStore) -> None:
    trail = AuditTrail(store)
    assert trail.head() is None and trail.verify().ok and trail.verify().checked == 0
    events = write_chain(store, 5)
    more = trail.record_many([AuditEntry("system", "reindex", "all", "ok", {"n": 5}),
                              AuditEntry("system", "verify", DOC, "ok"),
                              AuditEntry("Trần Thị Hoà", "read", DOC, "denied")])
    assert [e.seq for e in events + more] == list(range(1, 9))
    assert more[0].prev == events[-1].hash
    keys = audit_log.segment_keys(store.client, store.bucket)
    assert keys == [audit_log.segment_key(s) for s in (1, 2, 3, 4, 5, 6)]
    assert len(raw(store, 6).splitlines()) == 3

    report = AuditTrail(store).verify(known_head=8)
    assert report.ok and report.checked == 8 and report.head == 8
    assert list(store.read_audit()) == events + more
    assert store.audit_head() == more[-1]
    assert store.audit_head(known=events[1]) == more[-1]  # lists only after the cached head
    assert store.audit_head(known=more[-1]) == more[-1]


def test_concurrent_writers_make_one_gap_free_chain(store: ArchiveStore) -> None:
    written: list[AuditEvent] = []
    errors: list[BaseException] = []
    lock = threading.Lock()
    start = threading.Barrier(4)

    def worker(n: int) -> None:
        trail = AuditTrail(store)
        try:
            start.wait()
            for i in range(10):
                event = trail.record(f"worker-{n}", "ingest", f"doc-{n}-{i}")
                with lock:
                    written.append(event)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert sorted(e.seq for e in written) == list(range(1, 41))
    stored = list(store.read_audit())
    assert [e.seq for e in stored] == list(range(1, 41))
    assert {e.hash for e in stored} == {e.hash for e in written}  # every writer's event, none lost, no fork
    report = AuditTrail(store).verify(known_head=40)
    assert report.ok and report.checked == 40
    assert store.audit_history() == []


def test_lost_race_rereads_head_and_retries(store: ArchiveStore) -> None:
    a, b = AuditTrail(store), AuditTrail(store)
    assert a.record("a", "read", "x").seq == 1
    assert b.record("b", "read", "x").seq == 2
    # a's cached head is event 1: its 3-event segment would start at 2 like b's 1-event one -> conflict.
    batch = a.record_many([AuditEntry("a", "read", f"y{i}") for i in range(3)])
    assert [e.seq for e in batch] == [3, 4, 5]
    assert AuditTrail(store).verify().checked == 5
    # re-sending an identical segment (response lost) is not a conflict
    assert audit_log.append(store.client, store.bucket, batch) == audit_log.segment_key(3)
    with pytest.raises(audit_log.ChainConflict):
        audit_log.append(store.client, store.bucket,
                         [seal(3, datetime.now(UTC), "c", "read", "z", "ok", {}, batch[0].prev)])


def test_changed_outcome_is_reported(store: ArchiveStore) -> None:
    write_chain(store, 6)
    overwrite(store, 3, edit_line(raw(store, 3), 0, outcome="ok"))
    report = AuditTrail(store).verify()
    assert (report.ok, report.kind, report.seq, report.checked) == (False, "changed", 3, 2)
    assert report.message.startswith("event 3 (ingest of 5e2f…, ") and "+07:00)" in report.message


def test_changed_line_inside_a_segment(store: ArchiveStore) -> None:
    trail = AuditTrail(store)
    trail.record("a", "ingest", "one")
    trail.record_many([AuditEntry("a", "ingest", f"n{i}") for i in range(4)])  # segment 2..5
    overwrite(store, 2, edit_line(raw(store, 2), 2, detail={"forged": True}))  # event 4
    report = trail.verify()
    assert (report.kind, report.seq) == ("changed", 4)


def test_changed_with_recomputed_hash_breaks_the_next_link(store: ArchiveStore) -> None:
    events = write_chain(store, 6)
    e = events[2]
    forged = seal(e.seq, e.at, e.actor, e.action, e.object, "failed", e.detail, e.prev)
    overwrite(store, 3, (audit_log.encode_segment([forged])))
    report = AuditTrail(store).verify()
    assert (report.kind, report.seq) == ("changed", 3)
    assert "event 4 no longer links" in report.message


def test_removed_middle_segment(store: ArchiveStore) -> None:
    write_chain(store, 6)
    store.client.remove_object(store.bucket, audit_log.segment_key(3))  # a delete marker
    assert [v["delete_marker"] for v in store.object_versions(audit_log.segment_key(3))].count(True) == 1
    report = AuditTrail(store).verify()
    assert (report.kind, report.seq, report.checked) == ("removed", 3, 2)
    assert report.message.startswith("event 3 is missing")


def test_removed_last_segment_is_caught_by_history_and_known_head(store: ArchiveStore) -> None:
    write_chain(store, 6)
    store.client.remove_object(store.bucket, audit_log.segment_key(6))
    trail = AuditTrail(store)
    assert [e.seq for e in store.read_audit()] == [1, 2, 3, 4, 5]  # the chain itself still looks whole
    report = trail.verify()
    assert (report.kind, report.seq, report.checked) == ("removed", 6, 5)
    report = AuditTrail(store).verify(known_head=6)
    assert (report.kind, report.seq) == ("removed", 6)
    # The next writer sees head 5 and writes event 6 again: If-None-Match treats a delete marker as absent.
    again = trail.record("system", "read", "x")
    assert again.seq == 6 and trail.verify(known_head=6).seq == 6
    report = trail.verify()
    assert (report.kind, report.seq) == ("changed", 6) and "deleted and written again" in report.message


def test_reordered_segments(store: ArchiveStore) -> None:
    write_chain(store, 6)
    two, four = raw(store, 2), raw(store, 4)
    overwrite(store, 2, four)
    overwrite(store, 4, two)
    report = AuditTrail(store).verify()
    assert (report.kind, report.seq, report.checked) == ("reordered", 4, 1)
    assert "appears where event 2 belongs" in report.message


def test_garbage_segment_is_changed_not_a_crash(store: ArchiveStore) -> None:
    write_chain(store, 6)
    overwrite(store, 3, b"\x00\xffnot json at all\n{\"seq\": 3}\n")
    trail = AuditTrail(store)
    report = trail.verify()
    assert (report.kind, report.seq) == ("changed", 3)
    assert "audit/000000000003.jsonl line 1 is unreadable" in report.message
    replayed: list[dict[str, Any]] = []
    assert trail.rebuild_mirror(replayed.append) == 5  # the readable events still replay


def test_overwritten_identical_copy_is_still_reported(store: ArchiveStore) -> None:
    """A rewrite that restores the same bytes leaves no trace in the chain, but a second version."""
    write_chain(store, 4)
    overwrite(store, 2, raw(store, 2))
    report = AuditTrail(store).verify()
    assert (report.kind, report.seq) == ("changed", 2) and "overwritten (2 versions)" in report.message


def test_segments_are_locked_compliance_for_the_configured_days(store: ArchiveStore) -> None:
    write_chain(store, 1)  # the default policy: s3.retention_days (ten years)
    retention = store.client.get_object_retention(store.bucket, audit_log.segment_key(1))
    assert retention is not None and retention.mode == COMPLIANCE
    days = store.settings.retention_days
    assert timedelta(days=days) - timedelta(minutes=5) < retention.retain_until_date - datetime.now(UTC) \
        <= timedelta(days=days)

    store = ArchiveStore(store.settings, retention=MinimumRetention(1))  # the policy decides, nothing else
    second, _third = write_chain(store, 2)
    key = audit_log.segment_key(2)
    retention = store.client.get_object_retention(store.bucket, key)
    assert retention is not None and retention.mode == COMPLIANCE
    until = retention.retain_until_date
    assert timedelta(hours=23) < until - datetime.now(UTC) <= timedelta(days=1)

    version = store.object_versions(key)[0]["version_id"]
    with pytest.raises(S3Error) as denied:
        store.client.remove_object(store.bucket, key, version_id=version)
    assert denied.value.code == "AccessDenied"
    # A new version can be put over it (S3 allows that under a lock) — the locked original stays readable by
    # version id, and the verification reports the rewrite.
    overwrite(store, 2, edit_line(raw(store, 2), 0, actor="someone-else"))
    original = store.client.get_object(store.bucket, key, version_id=version)
    try:
        assert audit_log.parse_event_line(original.read().splitlines()[0]) == second
    finally:
        original.close()
        original.release_conn()
    report = AuditTrail(store).verify()
    assert (report.kind, report.seq) == ("changed", 2)


def test_mirror_failure_never_loses_the_s3_write(store: ArchiveStore, caplog: pytest.LogCaptureFixture) -> None:
    mirrored: list[dict[str, Any]] = []

    def flaky(event: dict[str, Any]) -> None:
        if event["seq"] == 2:
            raise RuntimeError("catalog is down")
        mirrored.append(event)

    trail = AuditTrail(store, mirror=flaky)
    with caplog.at_level(logging.ERROR, logger="archive.audit"):
        events = [trail.record("lan", "user.add", f"user{i}", "ok", {"roles": ["staff"]}) for i in range(3)]
    assert [m["seq"] for m in mirrored] == [1, 3]
    assert "event 2 is in S3 but could not be mirrored" in caplog.text
    assert [e.seq for e in store.read_audit()] == [1, 2, 3]
    assert mirrored[0]["at"] == events[0].at and mirrored[0]["detail"] == {"roles": ["staff"]}

    rebuilt: list[dict[str, Any]] = []
    assert trail.rebuild_mirror(rebuilt.append) == 3
    assert rebuilt == [e.model_dump() for e in events]
