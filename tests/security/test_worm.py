"""Finding 5 of issue 9, "nothing is retained": every archival object is now written under Object Lock COMPLIANCE
retention from its first PUT, so the application's OWN S3 keys (the attacker who stole config and secrets)
can neither delete a version nor shorten, downgrade or bypass its retention. Each attack is sent raw to the
real SeaweedFS S3 server (minio SDK, plain S3 requests) and must be refused by the storage itself; afterwards
the version is still there, byte for byte, with its retention unchanged.

What SeaweedFS 4.48 answers, pinned here: every refusal below is ``AccessDenied`` (HTTP 403), including the
bulk DeleteObjects API (per-key ``AccessDenied``); suspending versioning on a locked bucket is
``InvalidBucketState`` (409). What S3 allows under COMPLIANCE, by design, is also pinned: a DELETE without a
version id adds a delete marker (the locked version stays readable by version id), and a PUT adds a version.
"""

from __future__ import annotations

import base64
import hashlib
import io
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from minio import Minio
from minio.commonconfig import COMPLIANCE, GOVERNANCE
from minio.deleteobjects import DeleteObject
from minio.error import S3Error
from minio.retention import Retention
from minio.versioningconfig import SUSPENDED, VersioningConfig
from minio.xml import marshal

from pipeline.app.context import Context
from pipeline.archive import NotFoundError, audit_log, layout
from pipeline.archive.retention import ScheduleRetention
from pipeline.core.record import Event
from pipeline.core.settings import Settings, load_settings
from tests.archive.helpers import make_inputs, make_pdf

SLACK = timedelta(minutes=10)


@dataclass(frozen=True)
class Stored:
    """One object version the application wrote: where, and what it must still be."""

    key: str
    version_id: str
    sha256: str


@pytest.fixture(scope="module")
def ctx(s3_server: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Context]:
    """The production composition root on a fresh bucket, with the application's own S3 keys."""
    settings = load_settings(tmp_path_factory.mktemp("worm-home"), environ={})
    settings.s3 = s3_server.s3.model_copy(update={"bucket": f"worm-{uuid.uuid4().hex[:10]}"})
    settings.audit.seal_key = s3_server.audit.seal_key  # the ingest seal below is MACed
    assert settings.s3.retention_days == 3653  # the default minimum: ten years
    with Context(settings) as context:
        context.store.ensure_bucket()
        yield context


def _version(ctx: Context, key: str, index: int = 0) -> Stored:
    """The ``index``-th newest version of ``key`` and the SHA-256 of its bytes."""
    version_id = ctx.store.object_versions(key)[index]["version_id"]
    return Stored(key, version_id, _sha(ctx.store.client, ctx.store.bucket, key, version_id))


def _sha(client: Minio, bucket: str, key: str, version_id: str) -> str:
    response = client.get_object(bucket, key, version_id=version_id)
    try:
        return hashlib.sha256(response.read()).hexdigest()
    finally:
        response.close()
        response.release_conn()


@pytest.fixture(scope="module")
def written(ctx: Context, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Stored]:
    """Every kind of archival object, written by the application's own code paths."""
    tmp = tmp_path_factory.mktemp("worm-inputs")
    inputs = make_inputs(tmp, "worm")
    store = ctx.store
    record = store.store_document(inputs.record, inputs.originals, inputs.pdf, inputs.texts)
    objects = {role: _version(ctx, artefact.key) for role, artefact in record.artefacts.items()}
    objects["metadata.json"] = _version(ctx, layout.metadata_key(record.id))
    # A timestamp renewal: new versions of archive.pdf and metadata.json, the first ones kept.
    event = Event(stage="renew-timestamp", started_at=datetime.now(UTC), finished_at=datetime.now(UTC))
    store.replace_archive_pdf(record.id, make_pdf(tmp / "renewed.pdf", "renewed"), event)
    objects["archive.pdf (renewed)"] = _version(ctx, record.artefacts["archive.pdf"].key)
    objects["metadata.json (renewed)"] = _version(ctx, layout.metadata_key(record.id))
    bad = tmp / "hỏng.pdf"
    bad.write_bytes(b"%PDF-1.7 \x00\xff truncated")
    key = store.quarantine("lô-worm", "hỏng.pdf", bad, "PDF bị hỏng")
    objects["quarantine"] = _version(ctx, key)
    objects["quarantine reason.json"] = _version(ctx, key + layout.REASON_SUFFIX)
    ctx.audit.record("lan.nguyen", "ingest", record.id, "archived", {"metadata_sha256": "0" * 64})
    objects["audit segment"] = _version(ctx, audit_log.segment_key(1))
    assert set(objects) == {"original/trang1.png", "original/trang2.png", "text/0001.txt", "text/0002.txt",
                            "archive.pdf", "metadata.json", "archive.pdf (renewed)", "metadata.json (renewed)",
                            "quarantine", "quarantine reason.json", "audit segment"}
    # the renewal's first versions are the older ones now
    objects["archive.pdf"] = _version(ctx, record.artefacts["archive.pdf"].key, 1)
    objects["metadata.json"] = _version(ctx, layout.metadata_key(record.id), 1)
    return objects


ROLES = ["original/trang1.png", "text/0001.txt", "archive.pdf", "metadata.json", "archive.pdf (renewed)",
         "metadata.json (renewed)", "quarantine", "quarantine reason.json", "audit segment"]


def test_the_context_writes_with_the_schedules_retention_over_the_floor(ctx: Context) -> None:
    """Documents: the schedule's retain-until (tests/app/test_retention.py); everything else the floor."""
    assert isinstance(ctx.store.retention, ScheduleRetention) and ctx.store.retention.floor.days == 3653
    assert ctx.store.retention.mode == COMPLIANCE
    assert ctx.audit.store is ctx.store  # audit segments go through the same policy


@pytest.mark.parametrize("role", sorted(set(ROLES) | {"original/trang2.png", "text/0002.txt"}))
def test_every_archival_object_is_compliance_locked_for_ten_years(ctx: Context, written: dict[str, Stored],
                                                                  role: str) -> None:
    obj = written[role]
    retention = ctx.store.client.get_object_retention(ctx.store.bucket, obj.key, version_id=obj.version_id)
    assert retention is not None and retention.mode == COMPLIANCE
    floor = datetime.now(UTC) + timedelta(days=ctx.settings.s3.retention_days) - SLACK
    assert floor <= retention.retain_until_date <= floor + 2 * SLACK


def _refused(call: object) -> S3Error:
    with pytest.raises(S3Error) as caught:
        call()  # type: ignore[operator]
    return caught.value


def _put_retention_raw(client: Minio, bucket: str, obj: Stored, retention: Retention) -> object:
    """PutObjectRetention with ``x-amz-bypass-governance-retention: true`` (the SDK never sends that header)."""
    body = marshal(retention)
    headers = {"Content-MD5": base64.b64encode(hashlib.md5(body).digest()).decode(),
               "x-amz-bypass-governance-retention": "true"}
    return client._execute("PUT", bucket, obj.key, body=body, headers=headers,
                           query_params={"retention": "", "versionId": obj.version_id})


@pytest.mark.parametrize("role", ROLES)
def test_the_apps_own_keys_cannot_delete_or_unlock_a_version(ctx: Context, written: dict[str, Stored],
                                                             role: str) -> None:
    client, bucket, obj = ctx.store.client, ctx.store.bucket, written[role]
    before = client.get_object_retention(bucket, obj.key, version_id=obj.version_id)
    earlier = datetime.now(UTC).replace(microsecond=0) + timedelta(days=1)
    attacks = {
        "DeleteObject with versionId": lambda: client.remove_object(bucket, obj.key, version_id=obj.version_id),
        "DeleteObject with versionId and bypass-governance": lambda: client._execute(
            "DELETE", bucket, obj.key, headers={"x-amz-bypass-governance-retention": "true"},
            query_params={"versionId": obj.version_id}),
        "PutObjectRetention COMPLIANCE, earlier date": lambda: client.set_object_retention(
            bucket, obj.key, Retention(COMPLIANCE, earlier), version_id=obj.version_id),
        "PutObjectRetention GOVERNANCE, same date": lambda: client.set_object_retention(
            bucket, obj.key, Retention(GOVERNANCE, before.retain_until_date), version_id=obj.version_id),
        "PutObjectRetention GOVERNANCE, earlier date, bypass-governance": lambda: _put_retention_raw(
            client, bucket, obj, Retention(GOVERNANCE, earlier)),
        "PutObjectRetention COMPLIANCE, earlier date, bypass-governance": lambda: _put_retention_raw(
            client, bucket, obj, Retention(COMPLIANCE, earlier)),
    }
    for name, attack in attacks.items():
        error = _refused(attack)
        assert (error.code, error.response.status) == ("AccessDenied", 403), name
    (bulk,) = list(client.remove_objects(bucket, [DeleteObject(obj.key, obj.version_id)]))  # DeleteObjects
    assert (bulk.code, bulk.version_id) == ("AccessDenied", obj.version_id)

    # The version is still there, byte for byte, under the same retention.
    assert obj.version_id in {v["version_id"] for v in ctx.store.object_versions(obj.key)}
    assert _sha(client, bucket, obj.key, obj.version_id) == obj.sha256
    after = client.get_object_retention(bucket, obj.key, version_id=obj.version_id)
    assert (after.mode, after.retain_until_date) == (COMPLIANCE, before.retain_until_date)


def test_versioning_cannot_be_suspended_on_the_locked_bucket(ctx: Context) -> None:
    error = _refused(lambda: ctx.store.client.set_bucket_versioning(ctx.store.bucket, VersioningConfig(SUSPENDED)))
    assert (error.code, error.response.status) == ("InvalidBucketState", 409)
    assert ctx.store.bucket_status()["versioning"] == "Enabled"
    error = _refused(lambda: ctx.store.client.remove_bucket(ctx.store.bucket))
    assert error.code == "BucketNotEmpty"


def test_delete_without_version_id_only_hides_the_locked_version(ctx: Context, tmp_path: Path) -> None:
    """S3 semantics, allowed under COMPLIANCE: a delete marker. The quarantined file disappears from listings
    (the app then reports it missing), but the locked version stays readable by its version id."""
    bad = tmp_path / "khác.png"
    bad.write_bytes(b"\x89PNG broken")
    key = ctx.store.quarantine("lô-worm-2", "khác.png", bad, "ảnh hỏng")
    obj = _version(ctx, key)
    ctx.store.client.remove_object(ctx.store.bucket, key)  # no version id
    versions = ctx.store.object_versions(key)
    assert sorted((v["delete_marker"], v["is_latest"]) for v in versions) == [(False, False), (True, True)]
    with pytest.raises(NotFoundError):  # hidden from the application's reads
        ctx.store.get_bytes(key)
    assert _sha(ctx.store.client, ctx.store.bucket, key, obj.version_id) == obj.sha256
    error = _refused(lambda: ctx.store.client.remove_object(ctx.store.bucket, key, version_id=obj.version_id))
    assert error.code == "AccessDenied"


def test_an_overwrite_only_adds_a_version(ctx: Context, written: dict[str, Stored]) -> None:
    """A PUT over a locked key is a new version (S3 allows it); the sealed chain and the seal in
    `archive verify` (tests/security/test_sealed_record.py) catch the swap; the locked original is kept."""
    obj = written["text/0002.txt"]
    forged = "đã bị sửa".encode()
    ctx.store.client.put_object(ctx.store.bucket, obj.key, io.BytesIO(forged), len(forged))
    versions = ctx.store.object_versions(obj.key)
    assert len(versions) == 2 and versions[1]["version_id"] == obj.version_id
    assert _sha(ctx.store.client, ctx.store.bucket, obj.key, obj.version_id) == obj.sha256
