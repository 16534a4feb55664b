"""Seals: the metadata.json hash of a document in the audit trail (``ingest`` archived, ``renew`` ok), read back
from a verified chain on the real S3 server. `archive verify ID` builds on these (tests/security)."""

from __future__ import annotations

import hashlib
import io

from pipeline.app.audit import AuditTrail, check_seal
from pipeline.archive import ArchiveStore, audit_log

DOC = "ab" * 32
OTHER = "cd" * 32
FIRST = b'{"id": "first"}'
RENEWED = b'{"id": "renewed"}'


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def test_newest_seal_of_the_document_wins(store: ArchiveStore) -> None:
    trail = AuditTrail(store)
    assert check_seal(trail, DOC, FIRST).status == "missing"  # empty trail
    trail.record("lan", "ingest", DOC, "archived", {"metadata_sha256": sha(FIRST)})
    trail.record("lan", "ingest", OTHER, "archived", {"metadata_sha256": sha(b"other")})
    trail.record("lan", "verify", DOC, "valid", {"metadata_sha256": sha(b"not a seal")})
    trail.record("lan", "renew", DOC, "failed", {"metadata_sha256": sha(b"nor this")})

    check = check_seal(trail, DOC, FIRST)
    assert (check.status, check.problem, check.event.seq) == ("match", None, 1)
    assert check.to_dict()["seal_event"]["action"] == "ingest"

    trail.record("system", "renew", DOC, "ok", {"sha256": "x", "metadata_sha256": sha(RENEWED)})
    assert check_seal(trail, DOC, RENEWED).status == "match"
    stale = check_seal(trail, DOC, FIRST)  # the old metadata.json no longer matches the newest seal
    assert stale.status == "MISMATCH" and "event 5 (renew of" in stale.problem
    assert check_seal(trail, DOC, None).status == "MISMATCH"  # metadata.json gone from storage

    report, seals = trail.latest_seals()
    assert report.ok and {k: e.seq for k, e in seals.items()} == {DOC: 5, OTHER: 2}


def test_never_sealed_document_is_missing(store: ArchiveStore) -> None:
    trail = AuditTrail(store)
    trail.record("lan", "ingest", DOC, "duplicate", {})  # a duplicate ingest seals nothing
    check = check_seal(trail, DOC, FIRST)
    assert check.status == "missing" and "no sealed metadata.json hash" in check.problem


def test_a_broken_trail_makes_every_seal_unverified(store: ArchiveStore) -> None:
    trail = AuditTrail(store)
    trail.record("lan", "ingest", DOC, "archived", {"metadata_sha256": sha(FIRST)})
    trail.record("lan", "read", DOC, "ok")
    # Someone re-seals the document by rewriting the ingest event (a new version of segment 1).
    forged = store.get_bytes(audit_log.segment_key(1)).replace(sha(FIRST).encode(), sha(RENEWED).encode())
    store.client.put_object(store.bucket, audit_log.segment_key(1), io.BytesIO(forged), len(forged))
    check = check_seal(AuditTrail(store), DOC, RENEWED)
    assert check.status == "UNVERIFIED" and "the audit trail is broken" in check.problem
    assert "event 1" in check.problem
