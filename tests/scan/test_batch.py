"""Intake: grouping a batch into documents, manifest rows, origin decisions. Real files, real PDF parsing."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from PIL import Image

from pipeline.core.record import Classification, Origin
from pipeline.devtools.samples.pdfs import make_born_digital_pdf, make_corrupt_pdf, make_mixed_pdf, make_scanned_pdf
from pipeline.devtools.samples.render import render_scanned_pages
from pipeline.scan import plan_batch
from pipeline.scan.batch import content_id, natural_key
from pipeline.scan.manifest import read_manifest
from pipeline.scan.pages import low_resolution

TEXT = "Thông báo về việc số hóa văn bản điện tử của cơ quan."

HEADER = "path,doc_number,doc_type,title,issuer,issued_date,signer,unit,classification,language\n"


@pytest.fixture(scope="module")
def page_images(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    return render_scanned_pages([TEXT, "Trang hai của văn bản."], tmp_path_factory.mktemp("pages"), dpi=100)


def _copy_pages(pages: list[Path], folder: Path, names: list[str]) -> None:
    folder.mkdir(parents=True)
    for src, name in zip(pages, names, strict=True):
        (folder / name).write_bytes(src.read_bytes())


def test_natural_order_puts_page2_before_page10() -> None:
    names = ["page10.png", "page2.png", "page1.png"]
    assert sorted(names, key=natural_key) == ["page1.png", "page2.png", "page10.png"]


def test_batch_groups_folders_and_pdfs_and_decides_origin(tmp_path: Path, page_images: list[Path]) -> None:
    batch = tmp_path / "lo-01"
    _copy_pages(page_images, batch / "cong-van-12", ["page10.png", "page2.png"])
    make_born_digital_pdf([TEXT], batch / "chi-thi.pdf", title="Chỉ thị")
    make_scanned_pdf(page_images[:1], batch / "scan.pdf")
    make_mixed_pdf([TEXT], page_images[0], batch / "mixed.pdf")
    plan = plan_batch(batch)
    by_path = {d.source_path: d for d in plan.documents}
    assert set(by_path) == {"cong-van-12", "chi-thi.pdf", "scan.pdf", "mixed.pdf"}
    assert plan.problems == []
    folder = by_path["cong-van-12"]
    assert [p.name for p in folder.files] == ["page2.png", "page10.png"]
    assert (folder.kind, folder.origin, folder.needs_ocr, folder.page_count) == ("images", Origin.SCANNED, True, 2)
    assert (by_path["chi-thi.pdf"].origin, by_path["chi-thi.pdf"].needs_ocr) == (Origin.BORN_DIGITAL, False)
    assert (by_path["scan.pdf"].origin, by_path["scan.pdf"].needs_ocr) == (Origin.SCANNED, True)
    assert by_path["mixed.pdf"].origin is Origin.MIXED
    assert by_path["mixed.pdf"].page_count == 2


def test_document_id_is_the_content_not_the_name(tmp_path: Path, page_images: list[Path]) -> None:
    a, b = tmp_path / "a.png", tmp_path / "b.png"
    a.write_bytes(page_images[0].read_bytes())
    b.write_bytes(page_images[0].read_bytes())
    assert content_id([a]) == content_id([b])
    assert content_id([a, b]) != content_id([a])
    assert len(content_id([a])) == 64


def test_manifest_applies_metadata_nfc(tmp_path: Path) -> None:
    batch = tmp_path / "b"
    make_born_digital_pdf([TEXT], batch / "ct.pdf")
    decomposed = "Chi\u0309 thi\u0323"  # "Chỉ thị" in NFD
    (batch / "manifest.csv").write_text(
        HEADER + f"ct.pdf,07/CT-BTTTT,{decomposed},Tăng cường sử dụng văn bản điện tử,Bộ TT&TT,2013-08-21,"
        "Nguyễn Bắc Son,Văn phòng,Mật,vi\n", encoding="utf-8")
    plan = plan_batch(batch)
    (doc,) = plan.documents
    meta = doc.metadata
    assert doc.has_manifest_row
    assert meta.doc_number == "07/CT-BTTTT"
    assert meta.doc_type == "Chỉ thị" and meta.doc_type != decomposed
    assert meta.issued_date == date(2013, 8, 21)
    assert meta.classification is Classification.MAT
    assert meta.language == "vie"


def test_bad_manifest_rows_are_clear_errors_and_quarantine_the_document(tmp_path: Path) -> None:
    batch = tmp_path / "b"
    make_born_digital_pdf([TEXT], batch / "good.pdf")
    make_born_digital_pdf([TEXT, "khác"], batch / "baddate.pdf")
    (batch / "manifest.csv").write_text(
        HEADER
        + "good.pdf,1/TB-UBND,Thông báo,Tiêu đề,UBND,2024-01-05,,,,\n"
        + "baddate.pdf,2/TB-UBND,Thông báo,Tiêu đề,UBND,2024/01/05,,,,\n"
        + "missing.pdf,3/TB-UBND,Thông báo,Tiêu đề,UBND,2024-01-05,,,,\n",
        encoding="utf-8")
    plan = plan_batch(batch)
    assert [d.source_path for d in plan.documents] == ["good.pdf"]
    (problem,) = plan.problems
    assert problem.source_path == "baddate.pdf"
    assert "row 3" in problem.reason and "YYYY-MM-DD" in problem.reason
    assert problem.files == [batch / "baddate.pdf"]
    assert any("missing.pdf" in e and "names no file" in e for e in plan.manifest_errors)


def test_unknown_classification_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "m.csv"
    path.write_text(HEADER + "x.pdf,,,,,,,,bí mật quốc gia,\n", encoding="utf-8")
    rows = read_manifest(path)
    assert rows.by_path == {}
    assert "unknown classification" in rows.errors[0][1]


def test_bad_inputs_become_problems_with_reasons(tmp_path: Path, page_images: list[Path]) -> None:
    batch = tmp_path / "b"
    make_corrupt_pdf(batch / "hong.pdf")
    (batch / "notes.txt").parent.mkdir(parents=True, exist_ok=True)
    (batch / "notes.txt").write_text("ghi chú", encoding="utf-8")
    (batch / "empty").mkdir()
    broken = batch / "broken-scan"
    broken.mkdir()
    (broken / "page1.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 40)
    _copy_pages(page_images[:1], batch / "ok", ["page1.png"])
    plan = plan_batch(batch)
    reasons = {p.source_path: p.reason for p in plan.problems}
    assert [d.source_path for d in plan.documents] == ["ok"]
    assert "corrupt" in reasons["hong.pdf"] or "not a PDF" in reasons["hong.pdf"]
    assert "not a document" in reasons["notes.txt"]
    assert "empty" in reasons["empty"]
    assert "unreadable image" in reasons["broken-scan"]
    files = {p.source_path: p.files for p in plan.problems}
    assert files["hong.pdf"] == [batch / "hong.pdf"]


def test_encrypted_pdf_is_refused_with_reason(tmp_path: Path) -> None:
    import pikepdf

    plain = make_born_digital_pdf([TEXT], tmp_path / "plain.pdf")
    batch = tmp_path / "b"
    batch.mkdir()
    with pikepdf.open(plain) as pdf:
        pdf.save(batch / "secret.pdf", encryption=pikepdf.Encryption(user="mat-khau", owner="mat-khau"))
    plan = plan_batch(batch)
    (problem,) = plan.problems
    assert "encrypted" in problem.reason


def test_low_resolution_pages_are_flagged(tmp_path: Path) -> None:
    """Each page below the minimum is named as the archivist finds it; pages that do not say are not counted."""
    folder = tmp_path / "doc"
    folder.mkdir()
    Image.new("L", (300, 400), 255).save(folder / "page1.png", dpi=(96, 96))
    Image.new("L", (300, 400), 255).save(folder / "page2.png", dpi=(300, 300))
    Image.new("L", (300, 400), 255).save(folder / "page3.png")
    frames = [Image.new("L", (300, 400), 255) for _ in range(2)]
    frames[0].save(folder / "scan.tif", save_all=True, append_images=frames[1:], dpi=(150, 150))
    files = [folder / n for n in ("page1.png", "page2.png", "page3.png", "scan.tif")]
    assert low_resolution(files, "images", 200) == [("page1.png", 96), ("scan.tif page 1", 150),
                                                     ("scan.tif page 2", 150)]
    assert low_resolution(files, "images", 0) == []
    img2pdf_pdf = tmp_path / "low.pdf"
    Image.new("L", (1240, 1754), 200).save(img2pdf_pdf, resolution=150)  # A4 at 150 dpi
    assert low_resolution([img2pdf_pdf], "pdf", 200) == [("page 1", 150)]
    assert low_resolution([img2pdf_pdf], "pdf", 150) == []
