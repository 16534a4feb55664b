"""Issue 10, representations: every PDF keeps its original byte for byte; the archival copy is a checked PDF/A
rendition when one can be made (attachments kept as files of the record), else the original itself with the
agency signature appended, and the record says which and why in Vietnamese and English. `archive get`
returns either representation."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from pipeline.core.settings import Settings
from pipeline.devtools.samples import awkward
from tests.app.conftest import HEADER, Home, build_home


@pytest.fixture(scope="module")
def home(s3_server: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Home]:
    with build_home(s3_server, tmp_path_factory.mktemp("repr-home"), "repr", "B-LTA") as made:
        yield made


@pytest.fixture(scope="module")
def ingested(home: Home, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """A batch of a PDF with attachments and one no converter can make PDF/A: file name → document id."""
    from pipeline.app.batches import ingest_batch
    from pipeline.app.users import resolve_actor

    batch = tmp_path_factory.mktemp("repr-batch") / "lo-bat-thuong"
    batch.mkdir()
    import pikepdf

    made = {"dinh-kem.pdf": awkward.attachments(batch / "dinh-kem.pdf"),
            "ghi-chu.pdf": awkward.text_off_page(batch / "ghi-chu.pdf")}
    with pikepdf.open(awkward.text_off_page(tmp_path_factory.mktemp("owner") / "x.pdf")) as pdf:
        # opens without a password, but pyHanko needs the owner password to append a signature
        pdf.save(batch / "khoa-chu.pdf", encryption=pikepdf.Encryption(owner="chủ", user=""))
    made["khoa-chu.pdf"] = batch / "khoa-chu.pdf"
    (batch / "manifest.csv").write_text(
        HEADER + "dinh-kem.pdf,07/CV-VPUB,Công văn,Gửi số liệu,UBND tỉnh,2026-11-20,,Văn phòng,public,\n"
        "ghi-chu.pdf,08/CV-VPUB,Công văn,Ghi chú,UBND tỉnh,2026-11-21,,Văn phòng,public,\n"
        "khoa-chu.pdf,09/CV-VPUB,Công văn,Hạn chế quyền,UBND tỉnh,2026-11-22,,Văn phòng,public,\n", encoding="utf-8")
    with home.context() as ctx:
        report = ingest_batch(ctx, resolve_actor(ctx, None), batch, executor="local")
    assert {d.source: d.status for d in report.documents} == dict.fromkeys(made, "archived"), report.to_dict()
    return {name: hashlib.sha256(path.read_bytes()).hexdigest() for name, path in made.items()} | {
        f"{name}:path": str(path) for name, path in made.items()}


def test_a_pdf_without_rendition_is_archived_as_its_signed_original(home: Home, ingested: dict[str, str],
                                                                    tmp_path: Path) -> None:
    from pipeline.devtools import pdfsig_check
    from pipeline.sign import verify_pdf

    doc_id, sent = ingested["ghi-chu.pdf"], Path(ingested["ghi-chu.pdf:path"]).read_bytes()
    with home.context() as ctx:
        record = ctx.store.get_record(doc_id)
        archived = ctx.store.download(record.artefacts["archive.pdf"].key, tmp_path / "archive.pdf").read_bytes()
    assert record.representation == "original" and record.pdfa == ""
    note = record.representation_note
    assert note.vi.startswith("PDF có phông chữ không nhúng: đã lưu bản gốc; bản PDF/A chưa tạo được vì")
    assert note.en.startswith("PDF with fonts that are not embedded: the original is kept")
    assert "Ghostscript" in note.detail
    assert archived.startswith(sent) and len(archived) > len(sent)  # only the agency signature appended
    assert record.signature.signed and record.signature.level == "B-LTA" and not record.signature.visible
    roots = [p for p in home.settings.trust_roots if p.is_file()]
    assert verify_pdf(tmp_path / "archive.pdf", roots).valid
    assert pdfsig_check(tmp_path / "archive.pdf", roots, tmp_path / "nss").all_valid_and_trusted
    show = home.run("show", doc_id[:12])
    assert show.returncode == 0 and "archival copy" in show.stdout and "original" in show.stdout
    shown = json.loads(home.run("show", doc_id[:12], "--json").stdout)
    assert shown["representation"] == "original" and shown["representation_note"]["vi"] == note.vi


def test_get_returns_either_representation(home: Home, ingested: dict[str, str], tmp_path: Path) -> None:
    doc_id, sent = ingested["ghi-chu.pdf"], Path(ingested["ghi-chu.pdf:path"]).read_bytes()
    got = home.run("get", doc_id[:12], "--representation", "original", "-o", str(tmp_path / "goc.pdf"))
    assert got.returncode == 0, got.stderr
    assert (tmp_path / "goc.pdf").read_bytes() == sent
    got = home.run("get", doc_id[:12], "-o", str(tmp_path / "luu-tru.pdf"))
    assert got.returncode == 0 and "no PDF/A rendition" in got.stdout, got.stdout + got.stderr
    assert (tmp_path / "luu-tru.pdf").read_bytes().startswith(sent)
    bad = home.run("get", doc_id[:12], "--representation", "ban-sao", "-o", str(tmp_path / "x.pdf"))
    assert bad.returncode != 0 and "ban-sao" in bad.stderr and "Traceback" not in bad.stderr


def test_attachments_are_files_of_the_record_beside_the_rendition(home: Home, ingested: dict[str, str],
                                                                  tmp_path: Path) -> None:
    import pikepdf

    doc_id = ingested["dinh-kem.pdf"]
    with home.context() as ctx:
        record = ctx.store.get_record(doc_id)
        csv = ctx.store.get_bytes(record.artefacts["attachment/so-lieu.csv"].key)
        rendition = ctx.store.download(record.artefacts["archive.pdf"].key, tmp_path / "a.pdf")
    assert record.representation == "pdfa" and record.pdfa == "2B"
    assert csv == "đơn vị,số văn bản\nVP,12\n".encode()
    assert "attachment/du-lieu.xml" in record.artefacts
    assert any("attachment" in change for change in record.representation_note.changes)
    with pikepdf.open(rendition) as pdf:
        assert len(pdf.attachments) == 0
    verify = home.run("verify", doc_id[:12], "--json")
    assert verify.returncode == 0 and '"artefacts": "match"' in verify.stdout, verify.stdout


def test_an_owner_password_original_is_signed_as_its_resave(home: Home, ingested: dict[str, str]) -> None:
    with home.context() as ctx:
        record = ctx.store.get_record(ingested["khoa-chu.pdf"])
        kept = ctx.store.get_bytes(record.artefacts["original/khoa-chu.pdf"].key)
    assert record.representation == "original" and record.signature.signed
    assert any("re-save" in change for change in record.representation_note.changes)
    assert kept == Path(ingested["khoa-chu.pdf:path"]).read_bytes()  # the received bytes, encryption and all
