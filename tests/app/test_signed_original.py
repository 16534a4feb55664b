"""Issue 10, signed originals: a PDF that arrives signed by its sender is archived, never re-written: archive.pdf
is the original byte for byte plus the archive's DSS and document timestamp, the sender's signature still
validates (pyHanko and poppler's pdfsig), its text is searchable, and the record says what was received."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path

import pytest
from pyhanko.sign import fields

from pipeline.core.settings import Settings
from tests.app.conftest import HEADER, Home, build_home
from tests.sign.helpers import pyhanko_sign

TEXT = "Công văn số 321/UBND-VP về việc triển khai chữ ký số chuyên dùng trong cơ quan nhà nước."


@pytest.fixture(scope="module")
def home(s3_server: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Home]:
    with build_home(s3_server, tmp_path_factory.mktemp("signed-home"), "signed", "B-LTA") as made:
        yield made


@pytest.fixture(scope="module")
def received(home: Home, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """A batch holding one PDF signed by its sender (the TEST agency key, plain pyHanko, B-B)."""
    from pipeline.devtools.samples.pdfs import make_born_digital_pdf

    batch = tmp_path_factory.mktemp("signed-batch") / "lo-van-ban-den"
    batch.mkdir()
    plain = make_born_digital_pdf([TEXT], tmp_path_factory.mktemp("unsigned") / "cong-van.pdf",
                                  title="Công văn 321")
    pki = home.settings.pkcs12_path
    signed = pyhanko_sign(plain, batch / "cong-van-321.pdf", pki, home.settings.sign.pkcs12_password,
                          subfilter=fields.SigSeedSubFilter.PADES)
    (batch / "manifest.csv").write_text(
        HEADER + "cong-van-321.pdf,321/UBND-VP,Công văn,Triển khai chữ ký số,UBND tỉnh,2026-11-20,,Văn phòng,"
        "public,\n", encoding="utf-8")
    return signed, hashlib.sha256(signed.read_bytes()).hexdigest()


def test_a_signed_original_is_preserved_not_rewritten(home: Home, received: tuple[Path, str], tmp_path: Path
                                                      ) -> None:
    from pipeline.app.batches import ingest_batch
    from pipeline.app.users import resolve_actor
    from pipeline.devtools import pdfsig_check
    from pipeline.sign import verify_pdf

    original, doc_id = received
    with home.context() as ctx:
        report = ingest_batch(ctx, resolve_actor(ctx, None), original.parent, executor="local")
        (doc,) = report.documents
        assert doc.status == "archived" and doc.id == doc_id, report.to_dict()
        record = ctx.store.get_record(doc_id)
        archived = ctx.store.download(record.artefacts["archive.pdf"].key, tmp_path / "archive.pdf")
        kept = ctx.store.download(record.artefacts["original/cong-van-321.pdf"].key, tmp_path / "original.pdf")
        texts = [ctx.store.get_bytes(record.artefacts[k].key).decode() for k in sorted(record.artefacts)
                 if k.startswith("text/")]
    data, sent = archived.read_bytes(), original.read_bytes()
    assert kept.read_bytes() == sent  # the original as received
    assert data.startswith(sent) and len(data) > len(sent)  # only appended: DSS + document timestamp
    assert record.representation == "signed-original" and record.ocr_applied is False
    (incoming,) = record.incoming_signatures
    assert incoming.status == "valid" and "TEST" in incoming.signer_subject
    assert record.signature.signed and record.signature.timestamped and record.signature.level == "B-LTA"
    assert any(e.stage == "preserve" and e.detail.get("augmented") == "B-LTA" for e in record.events)
    assert "chữ ký số chuyên dùng" in " ".join(" ".join(texts).split())  # searchable, the file untouched
    roots = [p for p in home.settings.trust_roots if p.is_file()]
    report = verify_pdf(archived, roots)
    assert report.valid and report.status == "valid", report.problems
    poppler = pdfsig_check(archived, roots, tmp_path / "nss")
    assert poppler.all_valid_and_trusted and len(poppler.signer_signatures) == 1, poppler.output
    assert any(s.is_document_timestamp for s in poppler.signatures), poppler.output


def test_the_archived_signed_original_verifies_with_its_seal(home: Home, received: tuple[Path, str]) -> None:
    proc = home.run("verify", received[1][:12], "--json")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert '"seal": "match"' in proc.stdout and '"status": "valid"' in proc.stdout


def test_a_signed_scan_is_preserved_and_its_pages_ocrd_for_search(home: Home, tmp_path: Path) -> None:
    """A scanner that signs its PDF export: the pages have no text layer, so they are OCR'd on a throw-away
    copy (OCRmyPDF would refuse the signed file itself); the archived bytes still start with the original."""
    from pipeline.app.batches import ingest_batch
    from pipeline.app.users import resolve_actor
    from pipeline.devtools.samples.pdfs import make_scanned_pdf
    from pipeline.devtools.samples.render import render_scanned_pages

    pages = render_scanned_pages(["Quyết định về việc lưu trữ hồ sơ điện tử của cơ quan"], tmp_path / "img",
                                 dpi=300, noise=0.0)
    plain = make_scanned_pdf(pages, tmp_path / "scan.pdf")
    batch = tmp_path / "lo-scan-ky-so"
    batch.mkdir()
    signed = pyhanko_sign(plain, batch / "quyet-dinh.pdf", home.settings.pkcs12_path,
                          home.settings.sign.pkcs12_password, subfilter=fields.SigSeedSubFilter.PADES)
    with home.context() as ctx:
        report = ingest_batch(ctx, resolve_actor(ctx, None), batch, executor="local")
        (doc,) = report.documents
        assert doc.status == "archived", report.to_dict()
        record = ctx.store.get_record(doc.id)
        archived = ctx.store.get_bytes(record.artefacts["archive.pdf"].key)
        text = ctx.store.get_bytes(record.artefacts["text/0001.txt"].key).decode()
    assert record.representation == "signed-original" and record.ocr_applied
    assert archived.startswith(signed.read_bytes())
    assert "lưu trữ hồ sơ" in " ".join(text.split()), text
    assert record.pages[0].confidence is not None
