"""PDFs agencies send that PDF/A forbids as they are: a rendition is made and checked (validator, fonts,
qpdf, every word of the original kept), or RenditionFailed says why in Vietnamese and English."""

from __future__ import annotations

from pathlib import Path

import pikepdf
import pytest

from pipeline.devtools.samples import awkward
from pipeline.ocr import OcrRequest, OcrResult, RenditionFailed, check_pdfa, inspect_features, make_pdfa, page_texts
from pipeline.ocr.textcheck import lost_words
from pipeline.tools import poppler


def _render(source: Path, workdir: Path) -> OcrResult:
    result = make_pdfa(OcrRequest(inputs=[source], kind="pdf", needs_ocr=False), workdir)
    assert check_pdfa(result.pdf_path) == []
    assert [row.name for row in poppler.pdffonts(result.pdf_path) if not row.embedded] == []
    assert lost_words(page_texts(source), [p.text for p in result.pages]) == []
    return result


def test_unembedded_standard_font_is_embedded_by_ghostscript(tmp_path: Path) -> None:
    source = awkward.unembedded_font(tmp_path / "bao-cao.pdf")
    assert inspect_features(source).fonts_not_embedded  # the case: Helvetica named, not embedded
    result = _render(source, tmp_path / "w")
    assert any("Ghostscript" in fix for fix in result.fixes)
    assert "12/BC-VP" in result.pages[0].text


def test_form_is_flattened_with_its_values_and_javascript_removed(tmp_path: Path) -> None:
    source = awkward.form(tmp_path / "to-khai.pdf", value="Tran Thi Binh")
    features = inspect_features(source)
    assert features.form and features.javascript
    result = _render(source, tmp_path / "w")
    assert "Tran Thi Binh" in result.pages[0].text  # what the field showed is on the page
    with pikepdf.open(result.pdf_path) as pdf:
        assert "/AcroForm" not in pdf.Root
        assert not any(isinstance(o, pikepdf.Dictionary) and o.get("/S") == "/JavaScript" for o in pdf.objects)
    with pikepdf.open(source) as original:  # the original is never touched
        assert "/AcroForm" in original.Root


def test_attachments_move_out_of_the_rendition_byte_for_byte(tmp_path: Path) -> None:
    files = {"so-lieu.csv": "đơn vị,số\nVP,12\n".encode(), "du-lieu.xml": b"<vb so='07'/>"}
    source = awkward.attachments(tmp_path / "cong-van.pdf", files)
    result = _render(source, tmp_path / "w")
    assert {p.name: p.read_bytes() for p in result.attachments} == files
    with pikepdf.open(result.pdf_path) as pdf:
        assert len(pdf.attachments) == 0


def test_cmyk_image_is_converted_with_an_output_intent(tmp_path: Path) -> None:
    source = awkward.cmyk_image(tmp_path / "in-mau.pdf")
    assert inspect_features(source).cmyk
    result = _render(source, tmp_path / "w")
    assert not inspect_features(result.pdf_path).cmyk
    with pikepdf.open(result.pdf_path) as pdf:
        assert len(pdf.Root.OutputIntents) == 1


def test_extreme_page_sizes_are_brought_into_the_pdfa_limits(tmp_path: Path) -> None:
    source = awkward.page_sizes(tmp_path / "ban-do.pdf")
    assert inspect_features(source).extreme_pages == [2, 3]
    result = _render(source, tmp_path / "w")
    with pikepdf.open(result.pdf_path) as pdf:
        sizes = [(float(p.mediabox[2]) - float(p.mediabox[0]), float(p.obj.get("/UserUnit", 1))) for p in pdf.pages]
    assert all(3 <= width <= 14_400 for width, _ in sizes)
    assert sizes[1][0] * sizes[1][1] == pytest.approx(14_500, rel=1e-3)  # the poster keeps its physical size
    assert result.pages[1].text == "Poster 200 inch"


def test_a_rendition_that_loses_words_is_refused_with_a_bilingual_reason(tmp_path: Path) -> None:
    source = awkward.text_off_page(tmp_path / "ghi-chu.pdf")
    with pytest.raises(RenditionFailed) as info:
        make_pdfa(OcrRequest(inputs=[source], kind="pdf", needs_ocr=False), tmp_path / "w")
    reason = info.value.reason
    assert reason.vi.startswith("PDF có phông chữ không nhúng: đã lưu bản gốc; bản PDF/A chưa tạo được vì")
    assert "lost words" in reason.en and "\n" not in reason.en + reason.vi
    assert "Ghostscript" in reason.detail and "ISO_19005_2" in reason.detail  # the technical part is kept
    assert not (tmp_path / "w" / "pdfa.pdf").exists()


def test_lost_words_compares_words_not_spacing() -> None:
    assert lost_words(["Quyết định số 45/2020/QĐ-UBND"], ["Quyết  định\nsố 45/2020/QĐ-UBND"]) == []
    assert lost_words(["ﬁle hồ sơ"], ["file hồ sơ"]) == []  # ligatures fold
    assert lost_words(["hồ sơ lưu trữ"], ["hồ sơ"]) == ["page 1: lưu", "page 1: trữ"]
    assert lost_words(["a", "b"], ["a"]) == ["page count 2 -> 1"]
    # a dropped negation or a changed amount is a loss even when the word appears elsewhere on the page
    assert lost_words(["Tôi không đồng ý, không phải 100 triệu"], ["Tôi đồng ý, không phải 1000 triệu"]) \
        == ["page 1: không"]
    dropped_line = "Điều 1. Giao Sở Nội vụ chủ trì.\nĐiều 2. Giao Sở Tài chính phối hợp."
    assert {w.split(": ")[1] for w in lost_words([dropped_line], ["Điều 1. Giao Sở Nội vụ chủ trì."])} == {
        "điều", "2", "giao", "sở", "tài", "chính", "phối", "hợp"}  # repeated words count too


def test_attachment_names_fit_the_file_system() -> None:
    from pipeline.ocr.repair import _attachment_name

    long_name = _attachment_name("合" * 300 + ".pdf", set())
    assert len(long_name.encode()) <= 150 and long_name.endswith(".pdf")
    nfd = "tie\u0302\u0301ng Vie\u0323\u0302t.pdf"  # as macOS writes it
    assert _attachment_name(nfd, set()) == "tiếng_Việt.pdf"


def test_hostile_attachments_stay_in_the_original_only(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A name that climbs out of the folder is flattened; a Flate bomb is never inflated past the cap."""
    import zlib

    from pipeline.ocr import repair

    monkeypatch.setattr(repair, "MAX_ATTACHMENT_BYTES", 1024 * 1024)
    pdf = pikepdf.new()
    pdf.add_blank_page()
    pdf.attachments["x"] = pikepdf.AttachedFileSpec(pdf, b"1,2\n", filename="../../etc/passwd")
    bomb = pdf.make_stream(b"")
    bomb.write(zlib.compress(b"\0" * (2 * 1024 * 1024), 9), filter=pikepdf.Name.FlateDecode)
    spec = pdf.make_indirect(pikepdf.Dictionary(Type=pikepdf.Name.Filespec, F="bom.bin",
                                                EF=pikepdf.Dictionary(F=bomb)))
    pdf.Root.Names.EmbeddedFiles.Names.extend([pikepdf.String("bom.bin"), spec])
    written, skipped = repair.extract_attachments(pdf, tmp_path / "att")
    assert [(p.name, p.read_bytes()) for p in written] == [("passwd", b"1,2\n")] and skipped == 1
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["att", "passwd"]
    assert len(pdf.attachments) == 0


def test_an_image_too_large_to_ocr_goes_straight_to_ghostscript_without_ocr(tmp_path: Path) -> None:
    """OCRmyPDF's hugemono.pdf (35 000 × 35 000 px, 1-bit): every OCRmyPDF rung failed after rasterising it
    whole (198 s, then "no rendition"); Ghostscript alone makes the PDF/A, with no text layer and a note."""
    source = Path(__file__).parents[1] / "corpus" / "realworld" / "hugemono.pdf"
    assert inspect_features(source).largest_image == (35_000, 35_000)
    result = make_pdfa(OcrRequest(inputs=[source], kind="pdf", needs_ocr=True), tmp_path / "w")
    assert check_pdfa(result.pdf_path) == []
    assert not result.ocr_applied and result.pdfa.startswith("2")
    assert any("image too large to OCR: 35000 × 35000 px" in fix for fix in result.fixes), result.fixes
