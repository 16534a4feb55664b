"""Finding 5 of issue 9, the second half: "after swapping a document's archive.pdf and patching its checksum in
metadata.json, `archive verify` said valid, checksum match". The metadata.json hash is sealed into the
hash-chained audit trail at ingest (and again by each timestamp renewal), and `archive verify ID` now checks
the stored metadata.json against the newest seal of a verified chain, then every artefact against that
metadata. The attack is run for real with the application's own S3 keys on a document ingested (B-LTA, TEST
PKI and TSA) by the local executor, through the use case and through the `archive` command.

The chain alone is unkeyed, so the S3 keys could append a correctly chained segment with a forged seal: seals are
MACed with ``audit.seal_key`` (not an S3 credential). The reviewer's attack — declassify a `mat` document by a new
metadata.json version plus an appended `renew` seal without a MAC or with a MAC under a guessed key — and the
replay of an older genuine seal are run for real with the S3 keys alone, and refused (``seal: FORGED``); the
renewal never seals a document that has no valid seal."""

from __future__ import annotations

import hashlib
import io
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from minio.commonconfig import COMPLIANCE

from pipeline.app.audit import SEAL_PREVIOUS, seal_mac
from pipeline.app.batches import ingest_batch
from pipeline.app.renewal import renew_timestamps
from pipeline.app.users import resolve_actor
from pipeline.app.verification import verify_archived
from pipeline.archive import ArchiveStore, audit_log, layout
from pipeline.archive.store import metadata_bytes, metadata_sha256
from pipeline.core.audit import AuditEvent, seal
from pipeline.core.record import DocumentRecord
from pipeline.core.settings import Settings
from pipeline.core.vocabulary import Classification
from tests.app.conftest import HEADER, Home, build_home

SOURCES = {"intact": "nguyen-ven.pdf", "tampered": "bi-sua.pdf", "donor": "ban-khac.pdf", "declassified": "mat.pdf"}
LEGACY = "0e" * 32  # a document stored without a seal (see test_a_document_without_a_seal_is_not_valid)


@pytest.fixture(scope="module")
def home(s3_server: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Home]:
    """A home signing at B-LTA with the TEST PKI, its responders (OCSP, CRL, TSA) running for the module."""
    with build_home(s3_server, tmp_path_factory.mktemp("sealed-home"), "sealed", "B-LTA") as made:
        yield made


@pytest.fixture(scope="module")
def ids(home: Home, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    from pipeline.devtools.samples.pdfs import make_born_digital_pdf

    batch = tmp_path_factory.mktemp("sealed-batch") / "lo-niem-phong"
    for name, source in SOURCES.items():
        make_born_digital_pdf([f"Công văn {name}: tăng cường bảo đảm an toàn hồ sơ lưu trữ điện tử."],
                              batch / source, title=f"Công văn {name}")
    (batch / "manifest.csv").write_text(HEADER + "mat.pdf,12/CV-VP,Công văn,Công văn mật,Văn phòng,2026-11-02,,"
                                                 "Văn phòng,mat,\n", encoding="utf-8")
    with home.context() as ctx:
        report = ingest_batch(ctx, resolve_actor(ctx, None), batch, executor="local")
    assert report.ok, report.to_dict()
    by_source = {d.source: d.id for d in report.documents}
    return {name: by_source[source] for name, source in SOURCES.items()}


def verify(home: Home, doc_id: str) -> dict[str, Any]:
    with home.context() as ctx:
        return verify_archived(ctx, resolve_actor(ctx, None), doc_id)


def verify_cli(home: Home, doc_id: str) -> tuple[int, dict[str, Any]]:
    done = home.run("verify", doc_id, "--json")
    return done.returncode, json.loads(done.stdout)


def test_an_untampered_document_verifies_with_its_seal(home: Home, ids: dict[str, str]) -> None:
    report = verify(home, ids["intact"])
    assert report["valid"], report.get("problems")
    assert (report["seal"], report["checksum"], report["artefacts"]) == ("match", "match", "match")
    assert report["seal_event"]["action"] == "ingest" and report["sealed_sha256"] == report["metadata_sha256"]
    assert report["level"] == "B-LTA"
    code, cli = verify_cli(home, ids["intact"])
    assert code == 0 and cli["valid"] and cli["seal"] == "match"


def test_swapped_pdf_with_patched_metadata_is_caught_by_the_seal(home: Home, ids: dict[str, str]) -> None:
    """The attack of the issue with the app's own keys: a different, validly signed archive.pdf (another
    document's) uploaded as a new version, and a new metadata.json version carrying its checksum."""
    doc_id = ids["tampered"]
    with home.context() as ctx:
        store, client, bucket = ctx.store, ctx.store.client, ctx.store.bucket
        donor = store.get_record(ids["donor"]).artefacts["archive.pdf"]
        forged_pdf = store.get_bytes(donor.key)
        record = store.get_record(doc_id)
        pdf_key = record.artefacts["archive.pdf"].key
        client.put_object(bucket, pdf_key, io.BytesIO(forged_pdf), len(forged_pdf), content_type="application/pdf")
        record.artefacts["archive.pdf"].sha256, record.artefacts["archive.pdf"].size = donor.sha256, donor.size
        patched = record.to_json().encode()
        client.put_object(bucket, layout.metadata_key(doc_id), io.BytesIO(patched), len(patched))
        # The originals are still there, locked: each key now has the locked first version and the forgery.
        for key in (pdf_key, layout.metadata_key(doc_id)):
            first = store.object_versions(key)[-1]["version_id"]
            assert len(store.object_versions(key)) == 2
            assert client.get_object_retention(bucket, key, version_id=first).mode == COMPLIANCE

    report = verify(home, doc_id)
    assert report["checksum"] == "match" and report["artefacts"] == "match"  # the forgery is self-consistent …
    assert report["intact"] is True and report["trusted"] is True  # … and carries a real, trusted signature
    assert report["valid"] is False and report["seal"] == "MISMATCH"  # … but not what was sealed
    (problem,) = [p for p in report["problems"] if "sealed in the audit trail" in p]
    assert f"stored metadata.json SHA-256 {report['metadata_sha256']} differs" in problem
    assert "(ingest of" in problem and report["sealed_sha256"] != report["metadata_sha256"]

    code, cli = verify_cli(home, doc_id)
    assert code == 1 and cli["valid"] is False and cli["seal"] == "MISMATCH"
    with home.context() as ctx:  # the failed verification is itself on the record
        last = ctx.catalog.query_audit(object_id=doc_id)[-1]
    assert (last["action"], last["outcome"], last["detail"]["seal"]) == ("verify", "invalid", "MISMATCH")


def test_a_document_without_a_seal_is_not_valid(home: Home, ids: dict[str, str], tmp_path: Path) -> None:
    """A document archived before sealing existed: stored and catalogued, but no seal in the trail."""
    with home.context() as ctx:
        donor = ctx.store.get_record(ids["intact"])
        pdf = ctx.store.download(donor.artefacts["archive.pdf"].key, tmp_path / "archive.pdf")
        legacy = DocumentRecord.from_json(donor.to_json())
        legacy.id, legacy.artefacts, legacy.archived_at = "0e" * 32, {}, None
        legacy.pages = [p.model_copy(update={"text_key": None}) for p in legacy.pages]
        stored = ctx.store.store_document(legacy, [], pdf, ctx.store.page_texts(donor.id))
        ctx.catalog.upsert_document(stored)
    report = verify(home, stored.id)
    assert report["checksum"] == "match" and report["seal"] == "missing" and report["valid"] is False
    assert any("no sealed metadata.json hash" in p for p in report["problems"])


def attacker(home: Home) -> ArchiveStore:
    """The application's S3 keys and nothing else (no seal key, no catalog)."""
    return ArchiveStore(home.settings.s3)


def append_segment(store: ArchiveStore, at: datetime, actor: str, action: str, object_id: str, outcome: str,
                   detail: dict[str, Any]) -> AuditEvent:
    """A correctly chained new audit segment after the current head, as the S3 keys allow."""
    head = store.audit_head()
    assert head is not None
    event = seal(head.seq + 1, at, actor, action, object_id, outcome, detail, head.hash)
    audit_log.append(store.client, store.bucket, [event])
    return event


def put_version(store: ArchiveStore, key: str, data: bytes) -> None:
    store.client.put_object(store.bucket, key, io.BytesIO(data), len(data))


def test_a_declassification_sealed_with_the_s3_keys_alone_is_forged(home: Home, ids: dict[str, str]) -> None:
    """The reviewer's attack: classification mat → public by a new metadata.json version, then a `renew` seal of
    its hash appended as a correctly chained segment: first without a MAC, then with one under a guessed key."""
    doc_id, store = ids["declassified"], attacker(home)
    stored = store.get_bytes(layout.metadata_key(doc_id))
    record = DocumentRecord.from_json(stored)
    assert record.metadata.classification == Classification.MAT
    record.metadata.classification = Classification.PUBLIC
    forged = metadata_bytes(record)
    put_version(store, layout.metadata_key(doc_id), forged)
    sealed, claimed = metadata_sha256(DocumentRecord.from_json(stored)), metadata_sha256(record)
    appended: list[int] = []
    for guessed_key, why in ((None, "it carries no seal_mac"),
                             ("guessed-seal-key", "its seal_mac does not verify under audit.seal_key")):
        at = datetime.now(UTC)
        detail = {"sha256": record.artefacts["archive.pdf"].sha256, "metadata_sha256": claimed, SEAL_PREVIOUS: sealed}
        if guessed_key:
            detail["seal_mac"] = seal_mac(guessed_key, doc_id, "renew", claimed, at, sealed)
        event = append_segment(store, at, "system", "renew", doc_id, "ok", detail)
        appended.append(event.seq)
        report = verify(home, doc_id)
        assert report["checksum"] == "match" and report["artefacts"] == "match"  # the forgery is self-consistent
        assert report["valid"] is False and report["seal"] == "FORGED" and report["forged_seals"] == appended
        (problem,) = [p for p in report["problems"] if "FORGED seal" in p]
        assert f"event {event.seq} (renew of {doc_id[:4]}…" in problem and why in problem
        assert report["seal_event"]["action"] == "ingest" and report["sealed_sha256"] == sealed  # still in force
    with home.context() as ctx:
        assert ctx.audit.verify().ok  # the chain itself is intact: only the MAC tells the forgery
    code, cli = verify_cli(home, doc_id)
    assert code == 1 and cli["valid"] is False and cli["seal"] == "FORGED"
    assert cli["forged_seals"] == appended and any("FORGED seal" in p for p in cli["problems"])
    with home.context() as ctx:  # the failed verification is itself on the record
        last = ctx.catalog.query_audit(object_id=doc_id)[-1]
    assert (last["action"], last["outcome"], last["detail"]["seal"]) == ("verify", "invalid", "FORGED")


def test_renewal_seals_the_new_version_and_never_a_tampered_one(home: Home, ids: dict[str, str]) -> None:
    with home.context() as ctx:
        before = ctx.store.get_record(ids["intact"])
        legacy = ctx.store.get_bytes(layout.metadata_key(LEGACY))
        # The TEST TSA certificate expires years from now: a horizon beyond it makes every document due.
        result = renew_timestamps(ctx, resolve_actor(ctx, None), within_days=36500)
        assert ids["intact"] in result.renewed and ids["donor"] in result.renewed
        assert "does not match its seal" in result.failed[ids["tampered"]]  # no laundering of the forgery
        # Nor of a document without a valid seal: never sealed as it stands.
        assert result.failed[LEGACY] == "no valid seal: it has no seal in the audit trail; verify and re-ingest"
        assert result.failed[ids["declassified"]].startswith("no valid seal: the audit trail holds a forged seal")
        assert result.failed[ids["declassified"]].endswith("; verify and re-ingest")
        assert ctx.store.get_bytes(layout.metadata_key(LEGACY)) == legacy
        assert not [e for e in ctx.catalog.query_audit(object_id=LEGACY) if e["action"] == "renew"
                    and e["outcome"] == "ok"]
        after = ctx.store.get_record(ids["intact"])
        assert after.artefacts["archive.pdf"].sha256 != before.artefacts["archive.pdf"].sha256
        assert after.events[-1].stage == "renew-timestamp"
        renew = [e for e in ctx.catalog.query_audit(object_id=ids["intact"]) if e["action"] == "renew"][-1]
        assert renew["detail"]["metadata_sha256"] == metadata_sha256(after)
        # Both versions of archive.pdf and metadata.json are locked (COMPLIANCE), the renewed ones too.
        for key in (after.artefacts["archive.pdf"].key, layout.metadata_key(ids["intact"])):
            versions = ctx.store.object_versions(key)
            assert len(versions) == 2
            for version in versions:
                retention = ctx.store.client.get_object_retention(ctx.store.bucket, key,
                                                                  version_id=version["version_id"])
                assert retention.mode == COMPLIANCE

    report = verify(home, ids["intact"])
    assert report["valid"], report.get("problems")
    assert report["seal"] == "match" and report["seal_event"]["action"] == "renew"
    assert report["document_timestamps"] >= 2
    assert verify(home, ids["tampered"])["seal"] == "MISMATCH"  # still caught after the renewal run
    code, cli = verify_cli(home, ids["intact"])
    assert code == 0 and cli["seal"] == "match"


def test_a_replayed_genuine_seal_is_refused(home: Home, ids: dict[str, str]) -> None:
    """Roll the renewed document back with the S3 keys alone: its pre-renewal archive.pdf and metadata.json as
    new versions, and its genuine ingest seal (time, detail and MAC as written) replayed as a new segment."""
    doc_id, store = ids["donor"], attacker(home)
    (ingest,) = [e for e in store.read_audit() if isinstance(e, AuditEvent) and e.object == doc_id
                 and e.action == "ingest" and e.outcome == "archived"]
    record = store.get_record(doc_id)
    for key in (record.artefacts["archive.pdf"].key, layout.metadata_key(doc_id)):
        versions = store.object_versions(key)
        assert len(versions) == 2  # the ingest one and the renewal's
        response = store.client.get_object(store.bucket, key, version_id=versions[-1]["version_id"])
        try:
            put_version(store, key, response.read())
        finally:
            response.close()
            response.release_conn()
    assert hashlib.sha256(store.get_bytes(layout.metadata_key(doc_id))).hexdigest() == ingest.detail["metadata_sha256"]
    replay = append_segment(store, ingest.at, ingest.actor, ingest.action, doc_id, ingest.outcome, ingest.detail)

    report = verify(home, doc_id)
    assert report["checksum"] == "match" and report["artefacts"] == "match"
    assert report["valid"] is False and report["seal"] == "FORGED" and report["forged_seals"] == [replay.seq]
    (problem,) = [p for p in report["problems"] if "FORGED seal" in p]
    assert f"event {replay.seq} (ingest of" in problem and "not later than the seal in force" in problem
    assert report["seal_event"]["action"] == "renew"  # the renewal's seal stays in force

    with home.context() as ctx:  # and a renewal refuses to seal the rolled-back document
        result = renew_timestamps(ctx, resolve_actor(ctx, None), within_days=36500)
    assert result.failed[doc_id].startswith("no valid seal: the audit trail holds a forged seal")
    assert f"event {replay.seq} (ingest of" in result.failed[doc_id]
