"""Scanned streams at intake: split at separator sheets into documents carrying the sheets' metadata (over the
manifest's), blank pages dropped, ids stable and shared with the same pages put in a folder of their own, and each
document's pages picked out. Real zxing-cpp, pdfium, pikepdf and Pillow on streams written like a scanner's."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pikepdf
import pytest
import zxingcpp
from PIL import Image

from pipeline.core.settings_scan import ScanSettings
from pipeline.core.vocabulary import Classification
from pipeline.scan import plan_batch
from pipeline.scan.items import IntakeItem, content_id
from pipeline.scan.pages import page_map, select_pages
from pipeline.scan.separator import PREFIX
from tests.scan.streams_helpers import META, blank_page, stream_pages, write_stream

LAYOUT = "App_BpCpp"  # three documents; the first has a blank back between its pages


@pytest.fixture(scope="module")
def streams(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("streams")
    made = {}
    for form, name in (("pdf", "luong.pdf"), ("tiff", "luong.tif"), ("folder", "luong")):
        batch = root / form
        batch.mkdir()
        write_stream(LAYOUT, batch / name, form)
        made[form] = batch
    return made


def _parts(batch: Path, **scan: object) -> list[IntakeItem]:
    plan = plan_batch(batch, scan=ScanSettings(**scan))  # type: ignore[arg-type]
    assert not plan.problems and not plan.manifest_errors
    return plan.documents


@pytest.mark.parametrize("form", ["pdf", "tiff", "folder"])
def test_a_three_document_stream_splits_into_documents_with_the_sheets_metadata(streams: dict[str, Path],
                                                                                form: str) -> None:
    plan = plan_batch(streams[form])
    name = {"pdf": "luong.pdf", "tiff": "luong.tif", "folder": "luong"}[form]
    assert [d.source_path for d in plan.documents] == [f"{name}#1", f"{name}#2", f"{name}#3"]
    assert (plan.separators, plan.blank_pages, plan.problems, plan.skipped) == (3, 1, [], [])
    first, second, third = plan.documents
    assert first.metadata.doc_number == "45/2020/QĐ-UBND" and first.metadata.classification is Classification.MAT
    assert (first.metadata.dossier_code, first.metadata.order_in_dossier) == ("G01.2020.05", 3)
    assert second.metadata.title == META["B"].title and third.metadata.doc_type == "Báo cáo"
    assert [d.page_count for d in plan.documents] == [2, 1, 2]
    assert [d.separator_page for d in plan.documents] == [1, 5, 7]
    assert len({d.doc_id for d in plan.documents}) == 3
    assert [d.doc_id for d in plan_batch(streams[form]).documents] == [d.doc_id for d in plan.documents]
    if form == "folder":  # only its own page images, the blank back kept as part of its original
        assert [[f.name for f in d.files] for d in plan.documents] == [
            ["page02.png", "page03.png", "page04.png"], ["page06.png"], ["page08.png", "page09.png"]]
        assert (first.pages, first.dropped) == ([0, 1], [2])
        assert second.pages is None and second.doc_id == content_id(second.files)  # as if in a folder of its own
    else:  # the whole stream, with the pages each document is made of
        assert (first.pages, first.dropped, second.pages, third.pages) == ([1, 2], [3], [5], [7, 8])


@pytest.mark.parametrize("form", ["pdf", "tiff"])
def test_each_documents_pages_are_picked_out(streams: dict[str, Path], form: str, tmp_path: Path) -> None:
    first, _, third = plan_batch(streams[form]).documents
    assert first.pages is not None and third.pages is not None
    picked = select_pages(first.files, first.kind, first.pages, tmp_path / "a", name="luong-1.pdf")
    if form == "pdf":
        with pikepdf.open(picked[0]) as pdf:
            assert len(pdf.pages) == 2
        with pikepdf.open(first.files[0]) as stream, pikepdf.open(picked[0]) as pdf:  # the same image, not redone
            assert next(iter(pdf.pages[0].get_images().values())).read_raw_bytes() == \
                next(iter(stream.pages[1].get_images().values())).read_raw_bytes()
    else:
        assert len(picked) == 2
        with Image.open(first.files[0]) as stream, Image.open(picked[1]) as page:
            stream.seek(2)
            assert page.tobytes() == stream.tobytes() and page.info["dpi"] == (200, 200)
    assert len(page_map(select_pages(third.files, third.kind, third.pages, tmp_path / "c"), third.kind)) == 2


def test_the_separator_is_put_over_the_manifest_row(streams: dict[str, Path], tmp_path: Path) -> None:
    manifest = tmp_path / "m.csv"
    manifest.write_text("path,doc_number,title,issuer,unit,classification\n"
                        "luong.pdf,1/XX,Tiêu đề chung,Sở Nội vụ,Văn phòng,public\n"
                        "luong.pdf#2,,Tiêu đề riêng của văn bản thứ hai,,,\n", encoding="utf-8")
    first, second, third = plan_batch(streams["pdf"], manifest).documents
    assert all(d.has_manifest_row for d in (first, second, third))
    assert (first.metadata.doc_number, first.metadata.issuer, first.metadata.unit) == \
        ("45/2020/QĐ-UBND", "Sở Nội vụ", "Văn phòng")  # the sheet's number, the row's issuer and unit
    assert first.metadata.classification is Classification.MAT  # the sheet's, over the row's public
    assert third.metadata.classification is Classification.PUBLIC  # C says none: the row's stays
    assert second.metadata.title == META["B"].title  # the sheet wins over the document's own row too


def test_with_separators_off_a_stream_is_one_document_its_blank_page_dropped(streams: dict[str, Path]) -> None:
    (doc,) = _parts(streams["pdf"], separators=False)
    assert doc.source_path == "luong.pdf" and doc.part == 0 and doc.doc_id == content_id(doc.files)
    assert doc.dropped == [3] and doc.page_count == 8  # the sheets stay pages; the blank one goes
    (whole,) = _parts(streams["pdf"], separators=False, blank_ink_share=0)
    assert (whole.pages, whole.dropped, whole.page_count, whole.doc_id) == (None, [], 9, doc.doc_id)


def test_blank_pages_are_dropped_but_never_a_stroke_nor_every_page(tmp_path: Path) -> None:
    batch = tmp_path / "b"
    doc = batch / "cong-van"
    doc.mkdir(parents=True)
    text, blank = stream_pages("p", tmp_path / "w")[0], blank_page(7)
    signed = blank_page(8)
    signed.paste(0, (300, 500, 420, 503))  # one pen stroke: a signature, an initial
    for number, page in enumerate((text, blank, signed, blank_page(9)), start=1):
        page.save(doc / f"page{number}.png", dpi=(200, 200))
    (item,) = plan_batch(batch).documents
    assert (item.pages, item.dropped, item.page_count) == ([0, 2], [1, 3], 2)
    empty = batch / "trang-trang"
    empty.mkdir()
    blank_page(3).save(empty / "page1.png", dpi=(200, 200))
    only_blank = next(d for d in plan_batch(batch).documents if d.source_path == "trang-trang")
    assert (only_blank.pages, only_blank.dropped, only_blank.page_count) == (None, [], 1)  # kept, not emptied


def test_a_bad_sheet_quarantines_its_document_and_an_empty_one_is_reported(tmp_path: Path) -> None:
    batch = tmp_path / "b"
    batch.mkdir()
    write_stream("pAApp", batch / "s.tif", "tiff")
    plan = plan_batch(batch)
    assert [d.source_path for d in plan.documents] == ["s.tif#1", "s.tif#2"]
    assert plan.documents[0].separator is None  # pages before the first sheet: the manifest's metadata only
    assert [(s.source_path, "followed by another separator" in s.reason) for s in plan.skipped] == \
        [("s.tif (page 2)", True)]
    bad = tmp_path / "bad"
    bad.mkdir()
    code = zxingcpp.create_barcode(PREFIX + '{"title":"=cmd|calc"}', zxingcpp.BarcodeFormat.QRCode)
    sheet = Image.new("L", (1654, 2339), 235)  # A4 at 200 dpi: a sheet whose code refuses a formula
    sheet.paste(Image.fromarray(np.asarray(code.to_image(scale=8))), (200, 200))
    pages = [*stream_pages("p", tmp_path / "w2"), sheet, *stream_pages("pp", tmp_path / "w3")]
    pages[0].save(bad / "s.tif", save_all=True, append_images=pages[1:], dpi=(200, 200))
    plan = plan_batch(bad)
    assert [d.source_path for d in plan.documents] == ["s.tif#1"]
    (problem,) = plan.problems
    assert problem.source_path == "s.tif#2" and "formula" in problem.reason and problem.files == [bad / "s.tif"]


def test_born_digital_and_signed_pdfs_are_never_split(tmp_path: Path) -> None:
    from pipeline.devtools.samples.pdfs import make_born_digital_pdf

    batch = tmp_path / "b"
    batch.mkdir()
    make_born_digital_pdf(["Công văn số 12/UBND-VP về việc số hóa tài liệu"], batch / "a.pdf")
    (doc,) = plan_batch(batch).documents
    assert (doc.pages, doc.part) == (None, 0)
    stream = write_stream("ApBp", tmp_path / "signed.pdf", "pdf")
    with pikepdf.open(stream, allow_overwriting_input=True) as pdf:
        pdf.Root.AcroForm = pdf.make_indirect(pikepdf.Dictionary(Fields=pikepdf.Array(), SigFlags=3))
        pdf.save(batch / "ky-so.pdf")
    signed = next(d for d in plan_batch(batch).documents if d.source_path.startswith("ky-so"))
    assert (signed.source_path, signed.pages, signed.page_count) == ("ky-so.pdf", None, 4)


def test_a_page_metres_wide_is_looked_at_small(tmp_path: Path) -> None:
    """A hostile page size (200 × 200 inches, the PDF maximum) is rendered at most 5,000 pixels wide, not 20,000."""
    import img2pdf

    from pipeline.scan.pages import MAX_LOOK_SIDE, iter_pages

    page = tmp_path / "p.png"
    Image.new("L", (400, 400), 255).save(page, dpi=(200, 200))
    pdf_path = tmp_path / "big.pdf"
    pdf_path.write_bytes(img2pdf.convert(str(page)))
    with pikepdf.open(pdf_path, allow_overwriting_input=True) as pdf:
        pdf.pages[0].MediaBox = pikepdf.Array([0, 0, 14400, 14400])
        pdf.save(pdf_path)
    (view,) = list(iter_pages([pdf_path], "pdf"))
    assert max(view.image.size) <= MAX_LOOK_SIDE and view.density == round(MAX_LOOK_SIDE / 14400 * 72)


def test_entries_looked_at_in_parallel_give_the_plan_of_one_at_a_time(streams: dict[str, Path], tmp_path: Path,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """plan_batch looks at a batch's entries one per core: the same documents, in the same order, with the same
    counts as one at a time, whatever finishes first (a stream of each form, an unreadable image, a skipped
    file)."""
    from pipeline.scan import batch as planner

    mixed = tmp_path / "mixed"
    mixed.mkdir()
    for form, name in (("tiff", "luong.tif"), ("pdf", "luong.pdf")):
        (mixed / f"a-{name}").write_bytes((streams[form] / name).read_bytes())
    (mixed / "b-hong").mkdir()
    (mixed / "b-hong" / "page1.png").write_bytes(b"\x89PNG\r\n\x1a\n not an image")
    (mixed / "Thumbs.db").write_bytes(b"junk")
    write_stream(LAYOUT, mixed / "c-luong", "folder")

    def summary(threads: int) -> tuple:
        monkeypatch.setattr(planner, "PLAN_THREADS", threads)
        plan = plan_batch(mixed)
        return ([(d.source_path, d.doc_id, d.page_count, d.metadata.doc_number) for d in plan.documents],
                [p.source_path for p in plan.problems], [s.source_path for s in plan.skipped],
                plan.separators, plan.blank_pages)

    one, parallel = summary(1), summary(4)
    assert parallel == one
    documents, problems, skipped, separators, blank = one
    assert [d[0] for d in documents] == [f"a-luong.pdf#{n}" for n in (1, 2, 3)] + [
        f"a-luong.tif#{n}" for n in (1, 2, 3)] + [f"c-luong#{n}" for n in (1, 2, 3)]
    assert problems == ["b-hong"] and skipped == ["Thumbs.db"] and (separators, blank) == (9, 3)
