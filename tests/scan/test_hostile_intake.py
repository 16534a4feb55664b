"""Intake of broken inputs and manifests, with reasons a person can act on: empty files, a PDF without pages,
pages counted as the conversion will make them, fax resolutions, a manifest saved in Windows-1258 (named as
such, never read as mojibake), rows that leave the batch or name nothing, formulas kept as text."""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image

from pipeline.devtools.samples import hostile
from pipeline.scan import ManifestError, plan_batch, read_manifest
from pipeline.scan.images import inspect_images
from pipeline.scan.pages import low_resolution

ROW = "a.pdf,01/QĐ-UBND,Quyết định,Về việc lưu trữ hồ sơ,Ủy ban nhân dân tỉnh,2024-05-06,,Văn phòng,public,\n"


def test_empty_files_and_a_pdf_without_pages_say_so(tmp_path: Path) -> None:
    batch = tmp_path / "b"
    (batch / "anh").mkdir(parents=True)
    (batch / "rong.pdf").write_bytes(b"")
    (batch / "anh" / "page1.png").write_bytes(b"")
    hostile.zero_pages(batch / "khong-trang.pdf")
    reasons = {p.source_path: p.reason for p in plan_batch(batch).problems}
    assert reasons == {"rong.pdf": "rong.pdf: empty file (0 bytes)", "anh": "page1.png: empty file (0 bytes)",
                       "khong-trang.pdf": "khong-trang.pdf: PDF has no pages"}


def test_pages_are_counted_as_they_will_be_converted(tmp_path: Path) -> None:
    tif = hostile.tiff_16bit(tmp_path / "a.tif", frames=3)
    apng = tmp_path / "b.png"
    hostile.page_image().save(apng, save_all=True, append_images=[Image.new("L", (620, 300), 255)])
    assert inspect_images([tif]).page_count == 3
    assert inspect_images([apng]).page_count == 1  # an animation's frames are not pages


def test_resolution_warning_uses_the_lower_axis(tmp_path: Path) -> None:
    fax = tmp_path / "page1.tif"
    hostile.page_image(mode="1").save(fax, compression="group4", dpi=(204, 98))
    assert low_resolution([fax], "images", 200) == [("page1.tif", 98)]


def test_a_damaged_later_frame_is_found_at_intake(tmp_path: Path) -> None:
    tif = hostile.tiff(tmp_path / "page1.tif", frames=3, compression="raw")
    data = tif.read_bytes()
    tif.write_bytes(data[: len(data) - 20_000])  # the last frame's strips cut off
    batch = tmp_path / "b"
    (batch / "doc").mkdir(parents=True)
    (batch / "doc" / "page1.tif").write_bytes(tif.read_bytes())
    (problem,) = plan_batch(batch).problems
    assert problem.source_path == "doc" and "unreadable image" in problem.reason


@pytest.mark.parametrize(("data", "hint"), [
    (hostile.to_cp1258(hostile.MANIFEST_HEADER + ROW), "it looks like Windows-1258 (Vietnamese Windows; read that "
                                                        "way it says '01/QĐ-UBND')"),
    ((hostile.MANIFEST_HEADER + ROW).encode("utf-16"), "it is UTF-16 (Excel's 'Unicode text')"),
    ((hostile.MANIFEST_HEADER + "a.pdf,1,Công văn,,,,,,,\n").encode("cp1258", errors="replace")[:-5] + b"\x81\n",
     "it is in an unknown 8-bit encoding"),
])
def test_a_manifest_that_is_not_utf8_is_refused_in_one_line_naming_what_it_is(tmp_path: Path, data: bytes,
                                                                                hint: str) -> None:
    manifest = tmp_path / "manifest.csv"
    manifest.write_bytes(data)
    with pytest.raises(ManifestError) as info:
        read_manifest(manifest)
    message = str(info.value)
    assert message.startswith(f"manifest.csv is not UTF-8 text: {hint}; nothing was read from it")
    assert message.endswith("Save it as 'CSV UTF-8' and ingest again") and "\n" not in message


def test_rows_that_leave_the_batch_or_name_nothing_are_reported_with_their_row(tmp_path: Path) -> None:
    batch = tmp_path / "b"
    hostile.born_digital(batch / "a.pdf")
    rows = ["a.pdf,1,,,,,,,,", "../ngoai.pdf,2,,,,,,,,", "/etc/passwd,3,,,,,,,,", "C:\\Windows\\x.pdf,4,,,,,,,,",
            "khong-co.pdf,5,,,,,,,,"]
    (batch / "manifest.csv").write_text(hostile.MANIFEST_HEADER + "\n".join(rows) + "\n", encoding="utf-8")
    plan = plan_batch(batch)
    assert [d.source_path for d in plan.documents] == ["a.pdf"]
    assert plan.manifest_errors == [
        "manifest.csv row 3: path '../ngoai.pdf' leaves the batch folder: ignored",
        "manifest.csv row 4: path '/etc/passwd' leaves the batch folder: ignored",
        "manifest.csv row 5: path 'C:/Windows/x.pdf' leaves the batch folder: ignored",
        "manifest.csv row 6: 'khong-co.pdf' names no file or folder in the batch"]


def test_formulas_are_kept_verbatim(tmp_path: Path) -> None:
    f = hostile.FORMULAS
    manifest = tmp_path / "manifest.csv"
    values = ("a.pdf", f["doc_number"], "", f["title"], f["issuer"], "", f["signer"], "", "", f["notes"])
    row = ",".join(hostile.csv_field(v) for v in values)
    manifest.write_text(hostile.MANIFEST_HEADER + row + "\n", encoding="utf-8")
    meta = read_manifest(manifest).by_path["a.pdf"]
    assert (meta.doc_number, meta.title, meta.issuer, meta.signer, meta.notes) == (
        f["doc_number"], f["title"], f["issuer"], f["signer"], f["notes"])
