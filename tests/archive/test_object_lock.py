"""What this SeaweedFS supports of S3 versioning and Object Lock, through the plain S3 API (minio SDK), and the
archive's own use of it: every object written under COMPLIANCE retention for ``s3.retention_days`` by default.

These pin the facts the retention work builds on; if a SeaweedFS upgrade changes them, they fail. (The attacks
with the application's own keys are in tests/security/test_worm.py.)
"""

from __future__ import annotations

import io
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from minio.commonconfig import COMPLIANCE, GOVERNANCE
from minio.error import S3Error
from minio.objectlockconfig import DAYS, ObjectLockConfig
from minio.retention import Retention

from pipeline.archive import ArchiveError, ArchiveStore
from pipeline.archive.retention import MinimumRetention, policy_for
from pipeline.core.record import DocumentRecord, Event
from pipeline.core.settings import S3Settings, Settings
from tests.archive.helpers import make_inputs, make_pdf


def test_bucket_has_versioning_and_object_lock(store: ArchiveStore) -> None:
    store.ensure_bucket()  # idempotent
    status = store.bucket_status()
    assert status["versioning"] == "Enabled"
    assert status["object_lock"] is True
    assert status["default_retention"] is None  # no bucket default: every PUT carries its own lock


def _locked_for(store: ArchiveStore, key: str, days: int, version_id: str | None = None) -> None:
    retention = store.client.get_object_retention(store.bucket, key, version_id=version_id)
    assert retention is not None and retention.mode == COMPLIANCE, key
    left = retention.retain_until_date - datetime.now(UTC)
    assert timedelta(days=days) - timedelta(minutes=10) < left <= timedelta(days=days), (key, left)


def test_default_policy_locks_every_object_compliance(s3_server: Settings, tmp_path: Path) -> None:
    """No policy given: the store still writes every object under COMPLIANCE for s3.retention_days — the
    originals, the texts, archive.pdf, the conditional metadata.json commit, a renewal's new versions and
    quarantine entries (audit segments: tests/audit/test_trail.py)."""
    s3 = s3_server.s3.model_copy(update={"bucket": f"worm-{uuid.uuid4().hex[:10]}", "retention_days": 30})
    store = ArchiveStore(s3)
    assert isinstance(store.retention, MinimumRetention) and store.retention.days == 30
    store.ensure_bucket()
    inputs = make_inputs(tmp_path, "worm-default")
    stored = store.store_document(inputs.record, inputs.originals, inputs.pdf, inputs.texts)
    keys = [a.key for a in stored.artefacts.values()] + [f"documents/{stored.id}/metadata.json"]
    assert len(keys) == 6  # two originals, two texts, archive.pdf, metadata.json
    for key in keys:
        _locked_for(store, key, 30)

    renewed = make_pdf(tmp_path / "renewed.pdf", "renewed")
    event = Event(stage="renew-timestamp", started_at=datetime.now(UTC), finished_at=datetime.now(UTC))
    store.replace_archive_pdf(stored.id, renewed, event)
    for key in (stored.artefacts["archive.pdf"].key, f"documents/{stored.id}/metadata.json"):
        versions = store.object_versions(key)
        assert len(versions) == 2
        for version in versions:
            _locked_for(store, key, 30, version["version_id"])

    bad = tmp_path / "hỏng.pdf"
    bad.write_bytes(b"%PDF-1.7 broken")
    key = store.quarantine("lô-worm", "hỏng.pdf", bad, "hỏng")
    _locked_for(store, key, 30)
    _locked_for(store, key + ".reason.json", 30)


def test_retention_policy_is_one_place() -> None:
    """The configured minimum (ten years by default) in COMPLIANCE mode, whole seconds, for any role."""
    assert S3Settings().retention_days == 3653
    now = datetime(2026, 11, 29, 10, 0, 0, 123456, tzinfo=UTC)
    policy = policy_for(S3Settings(retention_days=3653))
    assert isinstance(policy, MinimumRetention)
    policy.clock = lambda: now
    for role in ("archive.pdf", "metadata.json", "original/trang1.png", "text/0001.txt", "quarantine", "audit"):
        retention = policy.retention_for(None, role)
        assert retention.mode == COMPLIANCE
        assert retention.retain_until_date == datetime(2036, 11, 29, 10, 0, 0, tzinfo=UTC)
        assert policy.legal_hold_for(None, role) is False
    with pytest.raises(ValueError):
        MinimumRetention(0)


def test_a_bucket_without_object_lock_is_refused(s3_server: Settings) -> None:
    """Object Lock can only be chosen at creation: an old bucket without it cannot hold locked objects, so
    the store says so instead of writing unprotected objects."""
    name = f"nolock-{uuid.uuid4().hex[:10]}"
    store = ArchiveStore(s3_server.s3.model_copy(update={"bucket": name}))
    store.client.make_bucket(name)  # no Object Lock
    with pytest.raises(ArchiveError, match=f"bucket {name} has no Object Lock"):
        store.ensure_bucket()
    assert store.bucket_status()["object_lock"] is False
    with pytest.raises(S3Error) as refused:  # and the server itself refuses a locked PUT there
        store.client.put_object(name, "x", io.BytesIO(b"x"), 1,
                                retention=store.retention.retention_for(None, "archive.pdf"))
    assert refused.value.code == "InvalidRequest"


class _HoldEverything:
    """A retention policy as the retention issue will supply one: GOVERNANCE for a day, PDF on hold."""

    def __init__(self) -> None:
        self.until = datetime.now(UTC).replace(microsecond=0) + timedelta(days=1)

    def retention_for(self, record: DocumentRecord | None, role: str) -> Retention | None:
        return Retention(GOVERNANCE, self.until)

    def legal_hold_for(self, record: DocumentRecord | None, role: str) -> bool:
        return role == "archive.pdf"


def test_retention_hook_locks_objects(s3_server: Settings, tmp_path: Path) -> None:
    locked = ArchiveStore(s3_server.s3.model_copy(update={"bucket": "archive-lock-test"}),
                          retention=_HoldEverything())
    locked.ensure_bucket()
    inputs = make_inputs(tmp_path, "locked")
    stored = locked.store_document(inputs.record, inputs.originals, inputs.pdf, inputs.texts)
    client, bucket = locked.client, locked.bucket

    pdf_key = stored.artefacts["archive.pdf"].key
    retention = client.get_object_retention(bucket, pdf_key)
    assert retention is not None and retention.mode == GOVERNANCE
    assert client.is_object_legal_hold_enabled(bucket, pdf_key)
    meta_key = f"documents/{stored.id}/metadata.json"  # the conditional commit PUT carries the lock too
    meta_retention = client.get_object_retention(bucket, meta_key)
    assert meta_retention is not None and meta_retention.mode == GOVERNANCE

    # WORM: a locked version cannot be deleted; an overwrite only adds a version.
    text_key = stored.artefacts["text/0001.txt"].key
    version = locked.object_versions(text_key)[0]["version_id"]
    with pytest.raises(S3Error) as denied:
        client.remove_object(bucket, text_key, version_id=version)
    assert denied.value.code == "AccessDenied"
    assert locked.verify_fixity(stored.id) == []


def test_compliance_retention_and_bucket_default(s3_server: Settings) -> None:
    """PutObjectLockConfiguration (bucket default) and COMPLIANCE retention on an object."""
    lab = ArchiveStore(s3_server.s3.model_copy(update={"bucket": "archive-lock-lab"}))
    lab.ensure_bucket()
    lab.client.set_object_lock_config(lab.bucket, ObjectLockConfig(COMPLIANCE, 1, DAYS))
    assert lab.bucket_status()["default_retention"] == {"mode": COMPLIANCE, "duration": 1, "unit": DAYS}

    result = lab.client.put_object(lab.bucket, "probe.txt", io.BytesIO(b"x"), 1)
    stat = lab.client.stat_object(lab.bucket, "probe.txt")
    assert stat.metadata.get("x-amz-object-lock-mode") == COMPLIANCE  # bucket default applied
    with pytest.raises(S3Error) as denied:
        lab.client.remove_object(lab.bucket, "probe.txt", version_id=result.version_id)
    assert denied.value.code == "AccessDenied"
    # A delete without version id only adds a delete marker; the locked version survives.
    lab.client.remove_object(lab.bucket, "probe.txt")
    assert lab.client.get_object(lab.bucket, "probe.txt", version_id=result.version_id).read() == b"x"


def test_retention_and_legal_hold_after_write(s3_server: Settings) -> None:
    """PutObjectRetention / PutObjectLegalHold on existing versions, as a disposal workflow needs them:
    COMPLIANCE can be extended but never shortened or bypassed; GOVERNANCE yields to the bypass header;
    a legal hold blocks deletion until released."""
    lab = ArchiveStore(s3_server.s3.model_copy(update={"bucket": "archive-lock-ops"}))
    lab.ensure_bucket()
    c, bucket = lab.client, lab.bucket
    now = datetime.now(UTC).replace(microsecond=0)

    def denied(call) -> bool:  # type: ignore[no-untyped-def]
        try:
            call()
        except S3Error as exc:
            return exc.code == "AccessDenied"
        return False

    gov = c.put_object(bucket, "gov", io.BytesIO(b"g"), 1).version_id
    c.set_object_retention(bucket, "gov", Retention(GOVERNANCE, now + timedelta(days=2)), version_id=gov)
    assert c.get_object_retention(bucket, "gov", version_id=gov).mode == GOVERNANCE
    assert denied(lambda: c.remove_object(bucket, "gov", version_id=gov))
    bypass = c._execute("DELETE", bucket, "gov", headers={"x-amz-bypass-governance-retention": "true"},
                        query_params={"versionId": gov})
    assert bypass.status == 204

    comp = c.put_object(bucket, "comp", io.BytesIO(b"c"), 1,
                        retention=Retention(COMPLIANCE, now + timedelta(days=2))).version_id
    assert denied(lambda: c.set_object_retention(bucket, "comp", Retention(COMPLIANCE, now + timedelta(days=1)),
                                                 version_id=comp))
    c.set_object_retention(bucket, "comp", Retention(COMPLIANCE, now + timedelta(days=3)), version_id=comp)
    assert denied(lambda: c._execute("DELETE", bucket, "comp", query_params={"versionId": comp},
                                     headers={"x-amz-bypass-governance-retention": "true"}))

    held = c.put_object(bucket, "held", io.BytesIO(b"h"), 1).version_id
    c.enable_object_legal_hold(bucket, "held", version_id=held)
    assert c.is_object_legal_hold_enabled(bucket, "held", version_id=held)
    assert denied(lambda: c.remove_object(bucket, "held", version_id=held))
    c.disable_object_legal_hold(bucket, "held", version_id=held)
    c.remove_object(bucket, "held", version_id=held)
    assert lab.object_versions("held") == []
