"""Finding 5 of issue 9, the second half: "after swapping a document's archive.pdf and patching its checksum in
metadata.json, `archive verify` said valid, checksum match". The metadata.json hash is sealed into the
hash-chained audit trail at ingest (and again by each timestamp renewal), and `archive verify ID` now checks
the stored metadata.json against the newest seal of a verified chain, then every artefact against that
metadata. The attack is run for real with the application's own S3 keys on a document ingested (B-LTA, TEST
PKI and TSA) by the local executor, through the use case and through the `archive` command."""

from __future__ import annotations

import io
import json
import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from minio.commonconfig import COMPLIANCE

from pipeline.app.batches import ingest_batch
from pipeline.app.renewal import renew_timestamps
from pipeline.app.users import resolve_actor
from pipeline.app.verification import verify_archived
from pipeline.archive import layout
from pipeline.archive.store import metadata_sha256
from pipeline.core.record import DocumentRecord
from pipeline.core.settings import Settings, load_settings, write_settings
from tests.app.conftest import Home
from tests.sign.helpers import free_port

SOURCES = {"intact": "nguyen-ven.pdf", "tampered": "bi-sua.pdf", "donor": "ban-khac.pdf"}


@pytest.fixture(scope="module")
def home(s3_server: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Home]:
    """A home signing at B-LTA with the TEST PKI, its responders (OCSP, CRL, TSA) running for the module."""
    from pipeline.devtools import init_test_pki
    from pipeline.devtools.responders import Responders
    from pipeline.devtools.testconfig import use_test_pki

    root = tmp_path_factory.mktemp("sealed-home")
    pki = init_test_pki(root / "pki", port=free_port())
    settings = load_settings(root, environ={})
    settings.s3 = s3_server.s3.model_copy(update={"bucket": f"sealed-{uuid.uuid4().hex[:10]}"})
    settings.s3.manage_local = False
    use_test_pki(settings, pki)
    settings.sign.level = "B-LTA"
    settings.executor = "local"
    write_settings(settings)
    env = {k: v for k, v in os.environ.items() if not k.startswith("ARCHIVE_")}
    env.update({"ARCHIVE_HOME": str(root), "OMP_THREAD_LIMIT": "1"})
    with Responders(pki.directory):
        yield Home(load_settings(root, environ={}), env)


@pytest.fixture(scope="module")
def ids(home: Home, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    from pipeline.devtools.samples.pdfs import make_born_digital_pdf

    batch = tmp_path_factory.mktemp("sealed-batch") / "lo-niem-phong"
    for name, source in SOURCES.items():
        make_born_digital_pdf([f"Công văn {name}: tăng cường bảo đảm an toàn hồ sơ lưu trữ điện tử."],
                              batch / source, title=f"Công văn {name}")
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


def test_renewal_seals_the_new_version_and_never_a_tampered_one(home: Home, ids: dict[str, str]) -> None:
    with home.context() as ctx:
        before = ctx.store.get_record(ids["intact"])
        # The TEST TSA certificate expires years from now: a horizon beyond it makes every document due.
        result = renew_timestamps(ctx, resolve_actor(ctx, None), within_days=36500)
        assert ids["intact"] in result.renewed and ids["donor"] in result.renewed
        assert "does not match its seal" in result.failed[ids["tampered"]]  # no laundering of the forgery
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
