"""Intake never drops a file silently: hidden inputs are processed, OS and office leftovers are skipped with a
reason (Vietnamese / English), the manifest is accounted for. Real files, real PDF parsing."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.devtools.samples.pdfs import make_born_digital_pdf
from pipeline.devtools.samples.render import render_scanned_pages
from pipeline.scan import plan_batch

APPLEDOUBLE = b"\x00\x05\x16\x07\x00\x02\x00\x00" + b"Mac OS X        " + b"\x00" * 64
HEADER = "path,doc_number,doc_type,title,issuer,issued_date,signer,unit,classification,language\n"


@pytest.fixture(scope="module")
def pages(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    return render_scanned_pages(["Trang một của công văn.", "Trang hai."], tmp_path_factory.mktemp("p"), dpi=100)


def test_hidden_inputs_are_documents_and_leftovers_are_skipped(tmp_path: Path, pages: list[Path]) -> None:
    batch = tmp_path / "lo-an"
    make_born_digital_pdf(["Quyết định số 5 về lưu trữ."], batch / ".an.pdf")
    make_born_digital_pdf(["Công văn thường."], batch / "cong-van.pdf")
    make_born_digital_pdf(["Tên lạ nhưng là PDF thật."], batch / "._that.pdf")  # not AppleDouble: a document
    (batch / ".scans").mkdir()
    for src, name in zip(pages, ["page1.png", "page2.png"], strict=True):
        (batch / ".scans" / name).write_bytes(src.read_bytes())
    (batch / ".scans" / "Thumbs.db").write_bytes(b"\xd0\xcf\x11\xe0 thumbnail cache")
    (batch / "Thumbs.db").write_bytes(b"\xd0\xcf\x11\xe0 thumbnail cache")
    (batch / ".DS_Store").write_bytes(b"\x00\x00\x00\x01Bud1")
    (batch / "Desktop.ini").write_text("[.ShellClassInfo]\n")
    (batch / "~$bao-cao.docx").write_bytes(b"\x07operator")
    (batch / ".~lock.bao-cao.odt#").write_text("operator,host,01.01.2026;")
    (batch / "._cong-van.pdf").write_bytes(APPLEDOUBLE)
    (batch / "__MACOSX").mkdir()
    (batch / "__MACOSX" / "._cong-van.pdf").write_bytes(APPLEDOUBLE)
    (batch / "manifest.csv").write_text(HEADER + ".an.pdf,05/QĐ,Quyết định,Lưu trữ,UBND,2026-01-02,,VP,public,\n",
                                        encoding="utf-8")

    plan = plan_batch(batch)

    docs = {d.source_path: d for d in plan.documents}
    assert set(docs) == {".an.pdf", "cong-van.pdf", "._that.pdf", ".scans"}
    assert docs[".an.pdf"].has_manifest_row and docs[".an.pdf"].metadata.doc_number == "05/QĐ"
    assert [p.name for p in docs[".scans"].files] == ["page1.png", "page2.png"]
    assert plan.problems == [] and plan.manifest_errors == []
    skipped = {s.source_path: s.reason for s in plan.skipped}
    assert set(skipped) == {"Thumbs.db", ".scans/Thumbs.db", ".DS_Store", "Desktop.ini", "~$bao-cao.docx",
                            ".~lock.bao-cao.odt#", "._cong-van.pdf", "__MACOSX"}
    assert skipped["Thumbs.db"] == ("tệp hệ thống của hệ điều hành (Thumbs.db): bỏ qua / "
                                    "operating-system file (Thumbs.db): skipped")
    assert "AppleDouble" in skipped["._cong-van.pdf"] and "Office" in skipped["~$bao-cao.docx"]
    assert "1 tệp" in skipped["__MACOSX"] and "1 file(s)" in skipped["__MACOSX"]
    assert all(" / " in r and "\n" not in r for r in skipped.values())  # one line, Vietnamese then English
    assert plan.manifest == "manifest.csv"


def test_hidden_page_keeps_its_place_and_stray_hidden_file_is_not_ignored(tmp_path: Path, pages: list[Path]) -> None:
    batch = tmp_path / "lo-trang"
    (batch / "ho-so").mkdir(parents=True)
    (batch / "ho-so" / "page1.png").write_bytes(pages[0].read_bytes())
    (batch / "ho-so" / ".page2.png").write_bytes(pages[1].read_bytes())
    (batch / ".ghi-chu.txt").write_text("ghi chú")

    plan = plan_batch(batch)

    (doc,) = plan.documents
    assert [p.name for p in doc.files] == ["page1.png", ".page2.png"]
    (problem,) = plan.problems  # a stray file, hidden or not, is quarantined, not dropped
    assert problem.source_path == ".ghi-chu.txt" and problem.files == [batch / ".ghi-chu.txt"]
    assert plan.skipped == [] and plan.manifest == ""


def test_manifest_row_naming_a_skipped_file_is_an_error(tmp_path: Path) -> None:
    batch = tmp_path / "lo-sai"
    batch.mkdir()
    (batch / "Thumbs.db").write_bytes(b"cache")
    (batch / "manifest.csv").write_text(HEADER + "Thumbs.db,1,,,,,,,,\n", encoding="utf-8")
    plan = plan_batch(batch)
    assert [s.source_path for s in plan.skipped] == ["Thumbs.db"]
    assert plan.manifest_errors == ["manifest.csv row 2: 'Thumbs.db' names a file that is not a document (skipped)"]
