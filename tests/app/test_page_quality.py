"""The per-page OCR-quality signal in the record (issue 15): build_record is a pure function, fed here with the text
and confidence Tesseract (5.3, ``-l vie``, hOCR) really gave for sample pages scanned well and badly."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from pipeline.app.process import build_record
from pipeline.core.record import DocumentMetadata, DocumentRecord, Origin, SignatureFacts, rescan_pages
from pipeline.core.settings import Settings
from pipeline.core.syllables import NO_WORDS
from pipeline.entry.cli.docs import rescan_lines
from pipeline.ocr.types import OcrResult, PageText
from pipeline.scan import IntakeItem

# The THÔNG BÁO sample, 300 dpi: CER 1.2%.
GOOD = ("THÔNG BÁO\nVề việc tạm ngừng tiếp nhận hồ sơ giấy\n\nSở Nội vụ thông báo: từ ngày 02/12/2026 đến\n"
        "ngày 04/12/2026, bộ phận một cửa tạm\nngừng tiếp nhận hồ sơ giấy để nâng cấp hệ\nthống quản lý văn bản "
        "điện tử. Trong thời gian\nnày, tổ chức và công dân nộp hồ sơ qua Cổng\ndịch vụ công trực tuyến.\n\n"
        "- Mọi thắc mắc xin liên hệ số điện thoại 0243\n6251 234\n")
# The GIẤY MỜI sample at 60 dpi: CER 19%, confidence 56.88.
LOW_DPI = ("- GIẦY Một\nỦy ân nhân dân dnh tran rọng kính mới đại\n-đn lãnh 4e các sở, bán, ngành dự hội ngM,\n"
           "tổng kết công tác số ha tà lệu lưu vữ năm\n_\n\n“Thời gian: 08 giy00 ngày 15/12/2026,\n\n"
           "ta đểm Hội tường táng 3,số 12 đường\nTrn ho\n")
# Its second page at 150 dpi with the back page showing through: the mirrored text read as words (CER 170%).
SHOW_THROUGH = ("Đề nghị Icáciđơn vị chuẩn Ibị báo cáo kết\nquả, chuyển đổi số và gửi về V ặprphòng,\nỦy ban trước "
                "ngày 10/12/2026 để tổng,\n\nhợp.\nUuâYy prôrj nầyUXT 6V ni? prôTT 8 pñbU1; ệ8\n\n“Rất mong quý vị đại "
                "biểu đến dự đúng giờ. ,,:..\n\npnồrl ậr nâ11 3 nộib nẽd nšv nệrIn ,ibÐ ;[\n.tnšr† uâ¡b áv' nêd qăv "
                "l:nếup\n\nnậvur5 ôz 13 pnbr2 pnäd-ib nàd nặy ôz ÀI..S\n")
# A clean page read with the wrong model (-l eng): confident, but the diacritics are gone.
NO_DIACRITICS = ("THONG BAO\nVé viéc tam ngting tiép nhan hé so gidy\nSé Ndi vu théng bao: tir ngay 02/12/2026 "
                 "dén ngay 04/12/2026, bé phan mét cira tam ngimg tiép nhan hé so gidy dé nang cap hé théng")


def _record(pages: list[PageText], settings: Settings | None = None, language: str = "vie") -> DocumentRecord:
    item = IntakeItem(source_path="ho-so-01", files=[Path(f"page{p.number}.png") for p in pages], kind="images",
                      origin=Origin.SCANNED, needs_ocr=True, page_count=len(pages), doc_id="ab" * 32,
                      metadata=DocumentMetadata(doc_number="15/TB-SNV", language=language))
    result = OcrResult(pdf_path=Path("pdfa.pdf"), pages=pages, ocr_applied=True, pdfa="2B")
    return build_record(item, "lo-1", datetime.now(UTC), result, SignatureFacts(), [], settings)


def test_bad_pages_are_listed_for_rescan_with_the_reason_and_good_ones_are_not() -> None:
    record = _record([PageText(1, GOOD, 94.21), PageText(2, LOW_DPI, 56.88), PageText(3, SHOW_THROUGH, 57.47),
                      PageText(4, NO_DIACRITICS, 82.21)])
    good, low, through, bare = record.pages
    assert good.syllable_share == 1.0 and good.rescan == ""
    assert low.rescan == "độ tin cậy OCR 57 < 70 / OCR confidence 57 < 70"  # its share (0.89) is fine
    assert through.syllable_share is not None and through.syllable_share < 0.6
    assert "OCR confidence 57 < 70; Vietnamese syllables" in through.rescan
    assert bare.rescan.startswith("âm tiết tiếng Việt") and "OCR confidence" not in bare.rescan
    assert [p.number for p in rescan_pages(record)] == [2, 3, 4]
    lines = rescan_lines(record)
    assert lines[0] == "Re-scan 3 of 4 pages / Cần quét lại 3 trên 4 trang:"
    assert lines[1] == "  page 2: độ tin cậy OCR 57 < 70 / OCR confidence 57 < 70"
    again = DocumentRecord.from_json(record.to_json())  # stored in metadata.json and read back
    assert [p.rescan for p in again.pages] == [p.rescan for p in record.pages]


def test_pages_not_ocrd_or_not_in_vietnamese_get_no_share_and_the_thresholds_come_from_settings() -> None:
    own_text = _record([PageText(1, SHOW_THROUGH, None)])  # a text layer of its own: no signal at all
    assert own_text.pages[0].syllable_share is None and own_text.pages[0].rescan == ""
    assert rescan_lines(own_text) == []
    english = _record([PageText(1, NO_DIACRITICS, 82.21)], language="eng")
    assert english.pages[0].syllable_share is None and english.pages[0].rescan == ""
    mixed = _record([PageText(1, NO_DIACRITICS, 82.21)], language="vie+eng")  # Vietnamese first: judged
    assert mixed.pages[0].rescan
    off = Settings()
    off.scan.rescan_confidence, off.scan.rescan_syllable_share = 0, 0
    assert rescan_pages(_record([PageText(1, LOW_DPI, 56.88), PageText(2, SHOW_THROUGH, 57.47)], off)) == []
    strict = Settings()
    strict.scan.rescan_confidence = 95
    assert _record([PageText(1, GOOD, 94.21)], strict).pages[0].rescan.endswith("OCR confidence 94 < 95")


def test_a_record_written_before_the_signal_reads_with_no_flags() -> None:
    old = _record([PageText(1, GOOD, 94.21)]).model_dump(mode="json")
    for page in old["pages"]:
        del page["syllable_share"], page["rescan"]
    record = DocumentRecord.model_validate(old)
    assert record.pages[0].syllable_share is None and rescan_pages(record) == []


def test_a_page_ocr_found_no_words_on_is_listed_for_rescan() -> None:
    record = _record([PageText(1, GOOD, 94.21), PageText(2, "", None, ocr=True)])
    assert record.pages[1].rescan == NO_WORDS and record.pages[0].rescan == ""
    assert [p.number for p in rescan_pages(record)] == [2]
    off = Settings()
    off.scan.rescan_confidence = 0
    assert _record([PageText(1, "", None, ocr=True)], off).pages[0].rescan == ""
