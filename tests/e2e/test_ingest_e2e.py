"""One batch through every stage on real services: Celery worker on Redis, Tesseract/OCRmyPDF, pyHanko,
the S3 server; then the archive is checked with independent tools (qpdf, pdfsig, pikepdf)."""

from __future__ import annotations

import hashlib
import shutil
import subprocess
from pathlib import Path

import pikepdf
import pytest

from pipeline.archive import ArchiveStore
from pipeline.devtools.pdfsig import pdfsig_check
from pipeline.devtools.samples.pdfs import make_born_digital_pdf, make_corrupt_pdf
from pipeline.devtools.samples.render import render_scanned_pages
from pipeline.sign import signed_pdfa_problems, verify_pdf

from .conftest import Instance

pytestmark = pytest.mark.slow

NOTICE = ("THÔNG BÁO\nVề việc triển khai văn bản điện tử\n"
          "Ủy ban nhân dân tỉnh thông báo: từ tháng sau, các phòng ban gửi văn bản điện tử có chữ ký số.")
DIRECTIVE = ["CHỈ THỊ Số 07/CT-BTTTT về tăng cường sử dụng văn bản điện tử trong hoạt động cơ quan nhà nước.",
             "Các đơn vị số hóa tài liệu lưu trữ để tra cứu trên mạng."]
HEADER = "path,doc_number,doc_type,title,issuer,issued_date,signer,unit,classification,language\n"


@pytest.fixture(scope="module")
def batch(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("batches") / "lo-2026-11"
    render_scanned_pages([NOTICE], root / "thong-bao-15", dpi=200, rotate_deg=1.5, seed=3)
    make_born_digital_pdf(DIRECTIVE, root / "chi-thi-07.pdf", title="Chỉ thị 07/CT-BTTTT", with_open_action=True)
    make_corrupt_pdf(root / "hong.pdf")
    (root / "manifest.csv").write_text(
        HEADER
        + "thong-bao-15,15/TB-UBND,Thông báo,Triển khai văn bản điện tử,UBND tỉnh Hà Nam,2026-11-02,"
          "Trần Văn An,Văn phòng,public,vie\n"
        + "chi-thi-07.pdf,07/CT-BTTTT,Chỉ thị,Tăng cường sử dụng văn bản điện tử,Bộ Thông tin và Truyền thông,"
          "2013-08-21,Nguyễn Bắc Son,Văn phòng,public,\n",
        encoding="utf-8")
    return root


@pytest.fixture(scope="module")
def first_ingest(instance: Instance, batch: Path) -> dict:
    proc = instance.run("ingest", str(batch), "--json", check=False)
    assert proc.returncode == 3, proc.stderr  # one document quarantined: partial success
    import json

    return json.loads(proc.stdout)


def _by_source(report: dict) -> dict[str, dict]:
    return {d["source"]: d for d in report["documents"]}


def test_batch_outcomes(first_ingest: dict) -> None:
    docs = _by_source(first_ingest)
    assert set(docs) == {"thong-bao-15", "chi-thi-07.pdf", "hong.pdf"}
    assert docs["thong-bao-15"]["status"] == "archived"
    assert docs["chi-thi-07.pdf"]["status"] == "archived"
    assert docs["hong.pdf"]["status"] == "quarantined"
    assert "PDF" in docs["hong.pdf"]["reason"]
    assert first_ingest["summary"] == {"archived": 2, "duplicate": 0, "quarantined": 1, "skipped": 0, "failed": 0,
                                       "pending": 0}


def test_corrupt_file_kept_in_quarantine_with_reason(instance: Instance, first_ingest: dict, batch: Path) -> None:
    store = ArchiveStore(instance.settings.s3)
    entries = store.list_quarantine("lo-2026-11")
    assert entries, "nothing in quarantine"
    text = repr(entries)
    assert "hong.pdf" in text and "PDF" in text


def test_stored_pdfs_are_signed_pdfa(instance: Instance, first_ingest: dict, tmp_path: Path) -> None:
    store = ArchiveStore(instance.settings.s3)
    roots = instance.settings.trust_roots
    for doc in first_ingest["documents"]:
        if doc["status"] != "archived":
            continue
        record = store.get_record(doc["id"])
        pdf = store.download(record.artefacts["archive.pdf"].key, tmp_path / f"{doc['id']}.pdf")
        with pikepdf.open(pdf) as opened:
            assert opened.open_metadata().pdfa_status == "2B"
            assert "/OpenAction" not in opened.Root
        assert signed_pdfa_problems(pdf) == []
        subprocess.run(["qpdf", "--check", str(pdf)], check=True, capture_output=True)
        report = verify_pdf(pdf, roots)
        assert report.valid and report.intact and report.trusted, report.problems
        checked = pdfsig_check(pdf, roots, tmp_path / f"nss-{doc['id'][:8]}")
        assert checked.all_valid_and_trusted, checked
        assert record.signature.signed and record.pdfa == "2B"
        assert store.verify_fixity(doc["id"]) == []
        for artefact in record.artefacts.values():
            assert hashlib.sha256(store.get_bytes(artefact.key)).hexdigest() == artefact.sha256


def test_record_keeps_provenance_and_origin(instance: Instance, first_ingest: dict) -> None:
    docs = _by_source(first_ingest)
    shown = instance.run_json("show", docs["thong-bao-15"]["id"])
    assert shown["origin"] == "scanned" and shown["ocr_applied"] is True
    assert shown["source"]["batch"] == "lo-2026-11" and shown["source"]["files"] == ["page1.png"]
    assert shown["metadata"]["doc_number"] == "15/TB-UBND"
    assert "văn bản điện tử" in shown["page_texts"][0]
    assert {e["stage"] for e in shown["events"]} >= {"intake", "ocr", "sign", "store"}
    born = instance.run_json("show", docs["chi-thi-07.pdf"]["id"])
    assert born["origin"] == "born_digital" and born["ocr_applied"] is False
    assert "07/CT-BTTTT" in born["page_texts"][0]
    pdfa_event = next(e for e in born["events"] if e["stage"] == "pdfa")
    assert any("OpenAction" in fix for fix in pdfa_event["detail"]["fixes"])


def test_show_gives_each_ocrd_page_its_quality_signal(instance: Instance, first_ingest: dict) -> None:
    """Issue 15: a well scanned page gets its syllable share and no re-scan line; a born-digital one no signal."""
    docs = _by_source(first_ingest)
    (page,) = instance.run_json("show", docs["thong-bao-15"]["id"])["pages"]
    assert page["confidence"] > 70 and page["syllable_share"] >= 0.9 and page["rescan"] == ""
    (born,) = instance.run_json("show", docs["chi-thi-07.pdf"]["id"])["pages"]
    assert born["syllable_share"] is None and born["rescan"] == ""
    shown = instance.run("show", docs["thong-bao-15"]["id"]).stdout
    assert "Vietnamese syllables" in shown and "Re-scan" not in shown


def test_search_without_diacritics_finds_vietnamese(instance: Instance, first_ingest: dict) -> None:
    docs = _by_source(first_ingest)
    result = instance.run_json("search", "trien khai van ban dien tu")
    assert result["hits"], result
    assert result["hits"][0]["id"] == docs["thong-bao-15"]["id"]
    number = instance.run_json("search", "07/CT-BTTTT")
    assert number["hits"][0]["doc_number"] == "07/CT-BTTTT"
    human = instance.run("search", "van ban dien tu")
    assert "07/CT-BTTTT" in human.stdout and "15/TB-UBND" in human.stdout


def test_stats_count_origins(instance: Instance, first_ingest: dict) -> None:
    stats = instance.run_json("stats")
    assert stats["documents"] == {"total": 2, "scanned": 1, "born_digital": 1, "mixed": 0}
    assert stats["signed"] == {"count": 2, "share": 1.0}
    assert stats["pages"] == {"total": 2, "scanned": 1, "born_digital": 1, "mixed": 0}


def test_verify_and_get_commands(instance: Instance, first_ingest: dict, tmp_path: Path) -> None:
    doc_id = _by_source(first_ingest)["chi-thi-07.pdf"]["id"]
    report = instance.run_json("verify", doc_id)
    assert report["valid"] and report["checksum"] == "match"
    out = tmp_path / "copy.pdf"
    instance.run("get", doc_id[:12], "--output", str(out))
    tampered = tmp_path / "tampered.pdf"
    data = bytearray(out.read_bytes())
    middle = len(data) // 3
    data[middle] ^= 0x01
    tampered.write_bytes(bytes(data))
    bad = instance.run("verify", str(tampered), "--json", check=False)
    assert bad.returncode != 0


def test_second_ingest_stores_nothing_new(instance: Instance, first_ingest: dict, batch: Path) -> None:
    store = ArchiveStore(instance.settings.s3)
    def versions() -> list[tuple[str, str]]:
        return sorted((key, v["version_id"]) for d in first_ingest["documents"] if d["status"] == "archived"
                      for key in [a.key for a in store.get_record(d["id"]).artefacts.values()]
                      + [f"documents/{d['id']}/metadata.json"] for v in store.object_versions(key))

    before = versions()
    again = instance.run_json("ingest", str(batch), check=False)
    docs = _by_source(again)
    assert docs["thong-bao-15"]["status"] == "duplicate"
    assert docs["chi-thi-07.pdf"]["status"] == "duplicate"
    assert versions() == before


def test_reindex_from_storage_gives_same_hits(instance: Instance, first_ingest: dict) -> None:
    before = instance.run_json("search", "van ban dien tu")
    shutil.rmtree(instance.settings.index_dir)
    instance.run("reindex")
    after = instance.run_json("search", "van ban dien tu")
    assert [h["id"] for h in after["hits"]] == [h["id"] for h in before["hits"]]


def test_archived_documents_are_b_lta_with_stamp_on_scans(instance: Instance, first_ingest: dict) -> None:
    docs = _by_source(first_ingest)
    scanned = instance.run_json("show", docs["thong-bao-15"]["id"])
    born = instance.run_json("show", docs["chi-thi-07.pdf"]["id"])
    assert scanned["signature"]["level"] == "B-LTA" and scanned["signature"]["visible"] is True
    assert born["signature"]["level"] == "B-LTA" and born["signature"]["visible"] is False
    report = instance.run_json("verify", docs["thong-bao-15"]["id"])
    assert report["valid"] and report["level"] == "B-LTA" and report["ltv"] is True


def test_renewal_adds_a_timestamp_as_new_version(instance: Instance, first_ingest: dict, tmp_path: Path) -> None:
    store = ArchiveStore(instance.settings.s3)
    doc_id = _by_source(first_ingest)["chi-thi-07.pdf"]["id"]
    before = store.get_record(doc_id)
    key = before.artefacts["archive.pdf"].key
    versions_before = len(store.object_versions(key))
    # Expiry of the test TSA certificate is years away: a horizon beyond it forces a renewal now.
    result = instance.run_json("renew", "--within-days", "36500")
    assert doc_id in result["renewed"] and result["failed"] == {}
    after = store.get_record(doc_id)
    assert len(store.object_versions(key)) == versions_before + 1
    assert after.artefacts["archive.pdf"].sha256 != before.artefacts["archive.pdf"].sha256
    assert after.events[-1].stage == "renew-timestamp"
    assert store.verify_fixity(doc_id) == []
    report = instance.run_json("verify", doc_id)
    assert report["valid"] and report["level"] == "B-LTA" and report["checksum"] == "match"
    assert report["document_timestamps"] >= 2


def test_bad_arguments_give_one_line_errors(instance: Instance, tmp_path: Path) -> None:
    missing = instance.run("ingest", str(tmp_path / "no-such-batch"), check=False)
    assert missing.returncode == 1
    assert missing.stderr.strip().startswith("archive: error:") and len(missing.stderr.strip().splitlines()) == 1
    unknown = instance.run("show", "ffffffffffff", check=False)
    assert unknown.returncode == 1 and "no archived document" in unknown.stderr
    bad_date = instance.run("search", "x", "--from", "31/02/2013", check=False)
    assert bad_date.returncode == 1 and "YYYY-MM-DD" in bad_date.stderr
    assert instance.run("search", "x", "--from", "21/08/2013").returncode == 0  # the Vietnamese form is a date


def test_local_executor_runs_the_same_stages(instance: Instance, tmp_path: Path) -> None:
    batch = tmp_path / "lo-local"
    make_born_digital_pdf(["Kế hoạch số hóa tài liệu lưu trữ năm 2027 của Sở Nội vụ."], batch / "ke-hoach.pdf")
    report = instance.run_json("ingest", str(batch), "--local")
    (doc,) = report["documents"]
    assert doc["status"] == "archived"
    hits = instance.run_json("search", "ke hoach so hoa tai lieu luu tru")["hits"]
    assert hits and hits[0]["id"] == doc["id"]
