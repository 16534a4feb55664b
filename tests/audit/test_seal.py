"""Seals: the metadata.json hash of a document in the audit trail (``ingest`` archived, ``renew`` ok), MACed with
``audit.seal_key`` and read back from a verified chain on the real S3 server. A seal someone appended with the S3
keys alone (no MAC, a MAC under another key) or a genuine seal replayed later is refused and the document's
seal is FORGED. `archive verify ID` builds on these (tests/security/test_sealed_record.py)."""

from __future__ import annotations

import hashlib
import hmac
import io
import json
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from pipeline.app.audit import (
    NO_SEAL_KEY,
    SEAL_MAC,
    SEAL_PREVIOUS,
    AuditTrail,
    SealKeyMissing,
    SealState,
    check_seal,
    seal_mac,
)
from pipeline.archive import ArchiveStore, audit_log
from pipeline.core.audit import GENESIS, AuditEvent, seal
from pipeline.core.settings import Settings, load_settings

KEY = "seal-key-for-tests"
DOC = "ab" * 32
OTHER = "cd" * 32
FIRST = b'{"id": "first"}'
RENEWED = b'{"id": "renewed"}'
DECLASSIFIED = b'{"id": "first", "classification": "public"}'
T0 = datetime(2026, 11, 29, 3, 0, tzinfo=UTC)


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def sealed(trail: AuditTrail, data: bytes, previous: bytes | None = None, doc: str = DOC) -> AuditEvent:
    """Ingest (``previous`` None) or renew seal of ``data`` through the trail (the application's path)."""
    if previous is None:
        return trail.record("lan", "ingest", doc, "archived", {"metadata_sha256": sha(data)})
    return trail.record("system", "renew", doc, "ok", {"metadata_sha256": sha(data), SEAL_PREVIOUS: sha(previous)})


def append_raw(store: ArchiveStore, action: str, outcome: str, detail: dict[str, Any],
               at: datetime | None = None, actor: str = "system") -> AuditEvent:
    """What the S3 keys alone allow: a correctly chained new segment after the current head."""
    head = store.audit_head()
    seq, prev = (head.seq, head.hash) if head else (0, GENESIS)
    event = seal(seq + 1, at or datetime.now(UTC), actor, action, DOC, outcome, detail, prev)
    audit_log.append(store.client, store.bucket, [event])
    return event


def test_newest_seal_of_the_document_wins(store: ArchiveStore) -> None:
    trail = AuditTrail(store, seal_key=KEY)
    assert check_seal(trail, DOC, FIRST).status == "missing"  # empty trail
    sealed(trail, FIRST)
    sealed(trail, b"other", doc=OTHER)
    trail.record("lan", "verify", DOC, "valid", {"metadata_sha256": sha(b"not a seal")})
    trail.record("lan", "renew", DOC, "failed", {"metadata_sha256": sha(b"nor this")})

    check = check_seal(trail, DOC, FIRST)
    assert (check.status, check.problem, check.event.seq) == ("match", None, 1)
    assert check.to_dict()["seal_event"]["action"] == "ingest" and "forged_seals" not in check.to_dict()

    sealed(trail, RENEWED, previous=FIRST)
    assert check_seal(trail, DOC, RENEWED).status == "match"
    stale = check_seal(trail, DOC, FIRST)  # the old metadata.json no longer matches the newest seal
    assert stale.status == "MISMATCH" and "event 5 (renew of" in stale.problem
    assert check_seal(trail, DOC, None).status == "MISMATCH"  # metadata.json gone from storage

    report, seals = trail.latest_seals()
    assert report.ok and {k: s.accepted.seq for k, s in seals.items()} == {DOC: 5, OTHER: 2}
    assert not any(s.refused for s in seals.values())


def test_a_seal_carries_a_mac_over_document_action_hash_time_and_previous(store: ArchiveStore) -> None:
    """Recomputed here from the documented canonical form, independently of the implementation."""
    trail = AuditTrail(store, seal_key=KEY)
    first, renewed = sealed(trail, FIRST), sealed(trail, RENEWED, previous=FIRST)
    for event, previous in ((first, ""), (renewed, sha(FIRST))):
        assert event.detail[SEAL_PREVIOUS] == previous
        message = json.dumps({"action": event.action, "at": event.at.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
                              "metadata_sha256": event.detail["metadata_sha256"], "object": DOC,
                              "previous": previous}, separators=(",", ":")).encode()
        assert event.detail[SEAL_MAC] == hmac.new(KEY.encode(), message, hashlib.sha256).hexdigest()
    # The MAC binds each field: another key, document, action, hash, time or previous gives another MAC.
    args = (DOC, "ingest", sha(FIRST), first.at, "")
    assert seal_mac(KEY, *args) == first.detail[SEAL_MAC]
    assert len({seal_mac("other key", *args), seal_mac(KEY, OTHER, *args[1:]),
                seal_mac(KEY, DOC, "renew", *args[2:]), seal_mac(KEY, DOC, "ingest", sha(RENEWED), first.at, ""),
                seal_mac(KEY, *args[:3], first.at + timedelta(microseconds=1), ""),
                seal_mac(KEY, *args[:4], sha(RENEWED)), first.detail[SEAL_MAC]}) == 7


def test_without_a_seal_key_nothing_is_sealed_and_nothing_verifies(store: ArchiveStore) -> None:
    keyless = AuditTrail(store)
    with pytest.raises(SealKeyMissing, match=r"^audit\.seal_key is not set"):
        sealed(keyless, FIRST)
    assert store.audit_head() is None  # refused before anything was written
    keyless.record("lan", "ingest", DOC, "duplicate", {})  # events that seal nothing need no key
    sealed(AuditTrail(store, seal_key=KEY), FIRST)
    check = check_seal(keyless, DOC, FIRST)
    assert (check.status, check.problem) == ("UNVERIFIED", NO_SEAL_KEY)
    with pytest.raises(SealKeyMissing):
        keyless.latest_seals()


def test_never_sealed_document_is_missing(store: ArchiveStore) -> None:
    trail = AuditTrail(store, seal_key=KEY)
    trail.record("lan", "ingest", DOC, "duplicate", {})  # a duplicate ingest seals nothing
    check = check_seal(trail, DOC, FIRST)
    assert check.status == "missing" and "no sealed metadata.json hash" in check.problem


def test_a_broken_trail_makes_every_seal_unverified(store: ArchiveStore) -> None:
    trail = AuditTrail(store, seal_key=KEY)
    sealed(trail, FIRST)
    trail.record("lan", "read", DOC, "ok")
    # Someone re-seals the document by rewriting the ingest event (a new version of segment 1).
    forged = store.get_bytes(audit_log.segment_key(1)).replace(sha(FIRST).encode(), sha(RENEWED).encode())
    store.client.put_object(store.bucket, audit_log.segment_key(1), io.BytesIO(forged), len(forged))
    check = check_seal(AuditTrail(store, seal_key=KEY), DOC, RENEWED)
    assert check.status == "UNVERIFIED" and "the audit trail is broken" in check.problem
    assert "event 1" in check.problem


@pytest.mark.parametrize("mac", [None, "wrong key"], ids=["no-mac", "mac-under-another-key"])
def test_a_seal_appended_with_the_s3_keys_alone_is_forged(store: ArchiveStore, mac: str | None) -> None:
    trail = AuditTrail(store, seal_key=KEY)
    sealed(trail, FIRST)
    detail = {"metadata_sha256": sha(DECLASSIFIED), SEAL_PREVIOUS: sha(FIRST)}
    at = datetime.now(UTC)
    if mac is not None:
        detail[SEAL_MAC] = seal_mac(mac, DOC, "renew", sha(DECLASSIFIED), at, sha(FIRST))
    forged = append_raw(store, "renew", "ok", detail, at)
    assert AuditTrail(store, seal_key=KEY).verify().ok  # the chain itself is intact …

    check = check_seal(trail, DOC, DECLASSIFIED)  # … but the seal is refused
    assert check.status == "FORGED" and check.forged == (forged.seq,) == (2,)
    why = "carries no seal_mac" if mac is None else "seal_mac does not verify under audit.seal_key"
    assert "event 2 (renew of ab" in check.problem and why in check.problem
    assert check.event.seq == 1  # the genuine seal stays in force
    assert check.to_dict()["forged_seals"] == [2] and check.to_dict()["sealed_sha256"] == sha(FIRST)
    assert check_seal(trail, DOC, FIRST).status == "FORGED"  # even the genuine bytes: the trail was tampered


def test_a_replayed_genuine_seal_is_refused(store: ArchiveStore) -> None:
    """The ingest seal of FIRST, copied byte for byte (time, detail, MAC) into a new segment after the renewal:
    it would bring the older metadata.json back in force."""
    trail = AuditTrail(store, seal_key=KEY)
    first = sealed(trail, FIRST)
    sealed(trail, RENEWED, previous=FIRST)
    replay = append_raw(store, first.action, first.outcome, first.detail, first.at, first.actor)
    check = check_seal(trail, DOC, FIRST)
    assert check.status == "FORGED" and check.forged == (replay.seq,)
    assert "not later than the seal in force, event 2 (renew of" in check.problem and "replayed" in check.problem
    assert check.event.seq == 2


def test_a_repeat_of_the_seal_in_force_changes_nothing(store: ArchiveStore) -> None:
    """Two workers that raced to archive one document both seal the one committed metadata.json."""
    trail = AuditTrail(store, seal_key=KEY)
    sealed(trail, FIRST)
    sealed(trail, FIRST)
    check = check_seal(trail, DOC, FIRST)
    assert (check.status, check.event.seq, check.forged) == ("match", 1, ())
    sealed(trail, RENEWED, previous=FIRST)
    assert check_seal(trail, DOC, RENEWED).status == "match"


def event(seq: int, at: datetime, action: str, data: bytes, previous: str, key: str = KEY) -> AuditEvent:
    outcome = "archived" if action == "ingest" else "ok"
    detail = {"metadata_sha256": sha(data), SEAL_PREVIOUS: previous,
              SEAL_MAC: seal_mac(key, DOC, action, sha(data), at, previous)}
    return seal(seq, at, "lan", action, DOC, outcome, detail, GENESIS)


def judged(*events: AuditEvent) -> SealState:
    state = SealState()
    for item in events:
        state.judge(KEY, item)
    return state


def test_seals_must_follow_each_other_in_time_and_by_previous_hash() -> None:
    ingest = event(1, T0, "ingest", FIRST, "")
    renew = event(2, T0 + timedelta(days=300), "renew", RENEWED, sha(FIRST))
    again = event(3, T0 + timedelta(days=600), "renew", b"third", sha(RENEWED))
    state = judged(ingest, renew, again)
    assert (state.accepted, state.refused, state.sealed) == (again, [], sha(b"third"))

    # A renew seal that does not follow the seal in force (it names FIRST, but RENEWED is in force).
    fork = event(3, T0 + timedelta(days=600), "renew", b"third", sha(FIRST))
    state = judged(ingest, renew, fork)
    assert state.accepted is renew and state.refused[0][0] is fork and "follows the sealed hash" in state.refused[0][1]
    # A renew seal as the first seal, and a second ingest seal of other bytes: no previous to follow / wrong one.
    assert judged(renew).accepted is None
    assert judged(ingest, event(2, T0 + timedelta(days=1), "ingest", RENEWED, "")).accepted is ingest
    # Not later than the seal in force (equal time too), whatever it names.
    same_time = event(2, T0, "renew", RENEWED, sha(FIRST))
    assert "not later than" in judged(ingest, same_time).refused[0][1]
    earlier = event(2, T0 - timedelta(seconds=1), "renew", RENEWED, sha(FIRST))
    assert "not later than" in judged(ingest, earlier).refused[0][1]
    # A MAC over other fields than the event's own (a previous edited after sealing).
    edited = renew.model_copy(update={"detail": {**renew.detail, SEAL_PREVIOUS: ""}})
    assert judged(ingest, edited).refused[0][1] == "its seal_mac does not verify under audit.seal_key"
    # Another key: refused even as the first seal.
    assert judged(event(1, T0, "ingest", FIRST, "", key="other")).accepted is None


def test_an_ingest_without_a_seal_key_archives_nothing(s3_server: Settings, tmp_path: Path) -> None:
    """No silent unsealed archive: each document fails with the one-line reason, its input left in the batch."""
    from pipeline.app.batches import ingest_batch
    from pipeline.app.context import Context
    from pipeline.app.users import operator
    from pipeline.devtools.samples.pdfs import make_born_digital_pdf

    settings = load_settings(tmp_path / "home", environ={})
    settings.s3 = s3_server.s3.model_copy(update={"bucket": f"nokey-{uuid.uuid4().hex[:10]}"})
    settings.sign.enabled = False
    assert settings.audit.seal_key == ""
    batch = tmp_path / "lo-khong-khoa"
    make_born_digital_pdf(["Công văn số 12 về lưu trữ điện tử."], batch / "cong-van.pdf")
    with Context(settings) as ctx:
        report = ingest_batch(ctx, operator(ctx), batch, executor="local")
        (outcome,) = report.documents
        assert outcome.status == "failed" and outcome.reason.startswith("audit.seal_key is not set")
        assert not ctx.store.has_document(outcome.id) and (batch / "cong-van.pdf").is_file()
