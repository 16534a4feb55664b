"""Separator sheets: the QR payload (round trip, hostile input), detection on sheets printed by
:mod:`pipeline.scan.separator_sheet` and rasterized by poppler like a scan (200/300 dpi, grey, skewed, noisy,
bitonal), pages carrying someone else's QR code, and splitting page streams. Real zxing-cpp, no mocks."""

from __future__ import annotations

import contextlib
import json
import random
import subprocess
import time
import unicodedata
import weakref
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest
import zxingcpp
from PIL import Image, ImageFilter

from pipeline.core.record import DocumentMetadata
from pipeline.core.vocabulary import Classification
from pipeline.devtools.samples.render import render_page
from pipeline.scan.separator import (
    MAX_PAYLOAD_BYTES,
    PREFIX,
    SeparatorHit,
    SeparatorMeta,
    SeparatorPayloadError,
    encode_payload,
    find_separator,
    parse_payload,
    split_stream,
)
from pipeline.scan.separator_sheet import render_sheet

A = SeparatorMeta(doc_number="45/2020/QĐ-UBND", title="Quyết định về việc ban hành quy chế lưu trữ điện tử",
                  doc_type="Quyết định", unit="Văn phòng Ủy ban nhân dân tỉnh", classification=Classification.MAT,
                  dossier_code="G01.2020.05", order_in_dossier=3)
B = SeparatorMeta(doc_number="12/TB-VP", title="Thông báo kết luận cuộc họp giao ban", doc_type="Thông báo")
C = SeparatorMeta(doc_number="7/BC-SNV", title="Báo cáo tình hình số hóa tài liệu năm 2024",
                  classification=Classification.TUYET_MAT, dossier_code="G01.2024.11", order_in_dossier=1)
# As long as a payload may be: the densest QR code a sheet carries.
LONGEST = SeparatorMeta(doc_number="1234/2024/QĐ-UBND-VP", doc_type="Quyết định", unit="Sở Nội vụ tỉnh Thừa Thiên Huế",
                        title="Quyết định phê duyệt kế hoạch số hóa tài liệu lưu trữ của các cơ quan, tổ chức "
                              "thuộc nguồn nộp lưu vào Lưu trữ lịch sử tỉnh giai đoạn 2024 – 2030 và các năm sau",
                        classification=Classification.TOI_MAT, dossier_code="G01.2024.11", order_in_dossier=12)


# ---- images as a scanner makes them -------------------------------------------------------------------
def rasterize(pdf: bytes, dpi: int, folder: Path, name: str) -> Image.Image:
    """Poppler renders the printed sheet as a greyscale scan at ``dpi``."""
    source = folder / f"{name}.pdf"
    source.write_bytes(pdf)
    subprocess.run(["pdftoppm", "-r", str(dpi), "-gray", "-png", "-singlefile", str(source), str(folder / name)],
                   check=True, timeout=60)
    with Image.open(folder / f"{name}.png") as image:
        return image.convert("L")


def scanned(image: Image.Image, angle: float = 2.0, noise: float = 18.0, blur: float = 0.0, seed: int = 1
            ) -> Image.Image:
    """Skewed by ``angle`` degrees, softened, greyed paper and ink, Gaussian grain."""
    page = image.rotate(angle, resample=Image.Resampling.BICUBIC, expand=True, fillcolor=255)
    if blur:
        page = page.filter(ImageFilter.GaussianBlur(blur))
    values = np.asarray(page, dtype=np.float32) * (200 / 255) + 30  # ink ~30, paper ~230
    values += np.random.default_rng(seed).normal(0, noise, values.shape)
    return Image.fromarray(np.clip(values, 0, 255).astype(np.uint8))


def bitonal(image: Image.Image) -> Image.Image:
    return image.point(lambda v: 255 if v > 128 else 0).convert("1")


@pytest.fixture(scope="module")
def sheets(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Image.Image]:
    folder = tmp_path_factory.mktemp("sheets")
    found = {f"{name}@{dpi}": rasterize(render_sheet(meta).pdf, dpi, folder, f"{name}-{dpi}")
             for name, meta in (("A", A), ("B", B), ("C", C), ("longest", LONGEST)) for dpi in (200, 300)
             if dpi == 200 or name == "A"}
    return found


@pytest.fixture(scope="module")
def text_page() -> Image.Image:
    return render_page("ỦY BAN NHÂN DÂN TỈNH\nCăn cứ Luật Lưu trữ ngày 21 tháng 6 năm 2024; xét đề nghị của "
                       "Giám đốc Sở Nội vụ, Quyết định ban hành quy chế số hóa tài liệu.", dpi=200, rotate_deg=1.5)


def foreign_qr_page(text_page: Image.Image, content: str) -> Image.Image:
    """A normal page carrying another system's QR code (a public-service portal's lookup link)."""
    page = text_page.copy()
    code = zxingcpp.create_barcode(content, zxingcpp.BarcodeFormat.QRCode)
    symbol = Image.fromarray(np.asarray(code.to_image(scale=6)))
    page.paste(symbol, (page.width - symbol.width - 40, page.height - symbol.height - 40))
    return page


# ---- the payload --------------------------------------------------------------------------------------
def test_payload_round_trips_vietnamese_metadata_in_nfc() -> None:
    decomposed = SeparatorMeta(doc_number=" 45/2020/QĐ-UBND ", title=unicodedata.normalize("NFD", A.title),
                               doc_type="Quyết định", unit=unicodedata.normalize("NFD", A.unit),
                               classification="mat", dossier_code="G01.2020.05", order_in_dossier=3)
    assert decomposed == A  # stripped, NFC, the classification on the ladder
    text = encode_payload(A)
    assert text.startswith(PREFIX) and ", " not in text and ": " not in text
    assert json.loads(text.removeprefix(PREFIX))["classification"] == "mat"
    assert parse_payload(text) == A
    assert parse_payload(text.encode("utf-8")) == A
    assert parse_payload(encode_payload(SeparatorMeta())) == SeparatorMeta()
    assert encode_payload(SeparatorMeta()) == PREFIX + "{}"


def test_separator_metadata_overrides_only_what_it_gives() -> None:
    manifest = DocumentMetadata(doc_number="sai", title="Tiêu đề trong manifest", issuer="UBND tỉnh",
                                classification=Classification.PUBLIC)
    merged = B.apply(manifest)
    assert merged.doc_number == "12/TB-VP" and merged.title == B.title and merged.doc_type == "Thông báo"
    assert merged.issuer == "UBND tỉnh" and merged.classification is Classification.PUBLIC
    assert C.apply(manifest).classification is Classification.TUYET_MAT
    assert C.apply(manifest).export_name() == "G01.2024.11.1"


HOSTILE = [
    (PREFIX + '{"title":"' + "a" * MAX_PAYLOAD_BYTES + '"}', "bytes"),
    (PREFIX + '{"title":', "not valid JSON"),
    (PREFIX + "[1, 2]", "not a JSON object"),
    (PREFIX + '"title"', "not a JSON object"),
    (PREFIX + "[" * 700 + "]" * 70, "not valid JSON"),
    (PREFIX + '{"issuer":"UBND"}', "unknown field(s) 'issuer'"),
    (PREFIX + '{"title":"a","title":"b"}', "appears twice"),
    (PREFIX + '{"title":5}', "title must be text"),
    (PREFIX + '{"title":null}', "title must be text"),
    (PREFIX + '{"dossier_code":"G01.2020.05","order_in_dossier":"3"}', "whole number"),
    (PREFIX + '{"dossier_code":"G01.2020.05","order_in_dossier":true}', "whole number"),
    (PREFIX + '{"dossier_code":"G01.2020.05","order_in_dossier":0}', "whole number"),
    (PREFIX + '{"dossier_code":"G01.2020.05","order_in_dossier":NaN}', "not a JSON value"),
    (PREFIX + '{"order_in_dossier":2}', "without dossier_code"),
    (PREFIX + '{"dossier_code":"../etc"}', "not a dossier code"),
    (PREFIX + '{"classification":"secret"}', "not on the ladder"),
    (PREFIX + '{"classification":["mat"]}', "classification must be one of"),
    (PREFIX + '{"title":"=HYPERLINK(\\"http://x\\",\\"y\\")"}', "formula"),
    (PREFIX + '{"unit":"@SUM(A1:A9)"}', "formula"),
    (PREFIX + '{"doc_number":"+1-2"}', "formula"),
    (PREFIX + '{"title":"abc\\u202eexe.pdf"}', "invisible"),
    (PREFIX + '{"title":"a\\u0000b"}', "invisible"),
    (PREFIX + '{"doc_number":"' + "9" * 65 + '"}', "characters long"),
    ("LUUTRU-SEP/2 {}", "version 2"),
    ("LUUTRU-SEP/1{}", "version (unreadable)"),
    ("LUUTRU-SEP/", "version (unreadable)"),
    ("https://dichvucong.gov.vn/", "no LUUTRU-SEP/ prefix"),
    (PREFIX.encode() + b'{"title":"\xff\xfe"}', "not UTF-8"),
    (PREFIX + '{"title":"\ud800"}', "not UTF-8"),
]


@pytest.mark.parametrize(("payload", "reason"), HOSTILE)
def test_hostile_payloads_are_refused_with_one_line(payload: str | bytes, reason: str) -> None:
    with pytest.raises(SeparatorPayloadError) as caught:
        parse_payload(payload)
    assert reason in caught.value.reason and str(caught.value) == caught.value.reason
    assert "\n" not in caught.value.reason and len(caught.value.reason) < 300


def test_random_garbage_after_the_prefix_never_escapes_as_another_error() -> None:
    rng = random.Random(15)
    alphabet = '{}[]":,0123456789.-+eEtrufalsn \\u"abcđ'
    for _ in range(2000):
        body = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 60)))
        with contextlib.suppress(SeparatorPayloadError):  # valid or refused, nothing else
            parse_payload(PREFIX + body)
        raw = PREFIX.encode() + rng.randbytes(rng.randint(0, 40))
        with pytest.raises(SeparatorPayloadError):
            parse_payload(raw + b"\xff")


def test_metadata_too_long_for_the_code_is_refused_when_printing() -> None:
    with pytest.raises(SeparatorPayloadError, match="shorten the title"):
        encode_payload(SeparatorMeta(doc_number="1", title="Ữ" * 290, unit="ữ" * 120))
    assert len(encode_payload(LONGEST).encode()) <= MAX_PAYLOAD_BYTES


# ---- detection ----------------------------------------------------------------------------------------
SCANS: dict[str, Callable[[Image.Image], Image.Image]] = {
    "clean grey": lambda image: image,
    "skewed 2° with noise": lambda image: scanned(image, 2.0),
    "skewed -2.5°, blurred, noisier": lambda image: scanned(image, -2.5, noise=25, blur=1.0, seed=2),
    "bitonal, skewed 1.8°": lambda image: bitonal(scanned(image, 1.8, noise=12, seed=3)),
    "upside down": lambda image: scanned(image, 181.5, seed=4),
}


@pytest.mark.parametrize("scan", list(SCANS))
@pytest.mark.parametrize("sheet", ["A@200", "A@300", "longest@200"])
def test_a_scanned_sheet_is_found_with_its_metadata(sheets: dict[str, Image.Image], sheet: str, scan: str) -> None:
    hit = find_separator(SCANS[scan](sheets[sheet]))
    assert hit is not None and hit.ok, hit
    assert hit.meta == (LONGEST if sheet.startswith("longest") else A)


def test_decoding_a_page_is_cheap(sheets: dict[str, Image.Image], text_page: Image.Image) -> None:
    """The measured figures are in pipeline.scan.separator's docstring; this only guards against a regression
    by an order of magnitude (the machine may be busy)."""
    pages = [scanned(sheets["A@300"]), scanned(sheets["A@200"]), text_page]
    started = time.process_time()
    for page in pages * 3:
        find_separator(page)
    assert (time.process_time() - started) / 9 < 0.5


def test_a_page_with_someone_elses_qr_code_is_not_a_separator(text_page: Image.Image) -> None:
    page = foreign_qr_page(text_page, "https://dichvucong.gov.vn/p/home/dvc-tra-cuu-ho-so.html?ma=H01-240101-0001")
    assert [b.text[:8] for b in zxingcpp.read_barcodes(page)] == ["https://"]  # the code is there, and readable
    assert find_separator(page) is None
    assert find_separator(foreign_qr_page(text_page, "LUUTRU-SE")) is None  # a prefix is the whole stem
    assert find_separator(text_page) is None
    assert find_separator(Image.new("1", (1654, 2339), 1)) is None  # a blank bitonal page
    assert find_separator(Image.new("L", (0, 0))) is None


def test_our_prefix_with_a_bad_payload_is_a_separator_carrying_the_reason(text_page: Image.Image) -> None:
    hit = find_separator(foreign_qr_page(text_page, PREFIX + '{"classification":"secret"}'))
    assert hit is not None and not hit.ok and hit.meta is None
    assert "not on the ladder" in hit.error and hit.payload.startswith(PREFIX)


def test_two_different_separator_codes_on_one_page_trust_neither(text_page: Image.Image) -> None:
    page = foreign_qr_page(text_page, encode_payload(B))
    code = zxingcpp.create_barcode(encode_payload(C), zxingcpp.BarcodeFormat.QRCode)
    page.paste(Image.fromarray(np.asarray(code.to_image(scale=6))), (40, page.height - 600))
    hit = find_separator(page)
    assert hit is not None and not hit.ok and "two different separator codes" in hit.error


# ---- streams ------------------------------------------------------------------------------------------
def _pages(sheets: dict[str, Image.Image], text_page: Image.Image, layout: str) -> Callable[[], Iterator[Image.Image]]:
    """``layout``: one letter per page, A/B/C a scanned separator, p a text page, q a page with a foreign QR."""

    def generate() -> Iterator[Image.Image]:
        for number, kind in enumerate(layout):
            if kind == "p":
                yield scanned(text_page, 0.7, seed=number)
            elif kind == "q":
                yield foreign_qr_page(text_page, f"https://example.gov.vn/tra-cuu?so={number}")
            else:
                yield scanned(sheets[f"{kind}@200"], 2.0 if number % 2 else -2.0, seed=number)

    return generate


def test_a_three_document_stream_splits_at_its_separators(sheets: dict[str, Image.Image],
                                                          text_page: Image.Image) -> None:
    split = split_stream(_pages(sheets, text_page, "AppqBpCppp"))
    assert [d.pages for d in split.documents] == [[1, 2, 3], [5], [7, 8, 9]]
    assert [d.meta for d in split.documents] == [A, B, C]
    assert [d.separator for d in split.documents] == [0, 4, 6]
    assert (split.separators, split.pages, split.empty) == (3, 10, [])
    assert all(not d.error for d in split.documents)


def test_pages_before_the_first_separator_are_a_document_without_metadata(sheets: dict[str, Image.Image],
                                                                         text_page: Image.Image) -> None:
    split = split_stream(list(_pages(sheets, text_page, "ppBp")()))  # a plain sequence works too
    assert [(d.pages, d.meta, d.separator) for d in split.documents] == [([0, 1], None, None), ([3], B, 2)]


def test_consecutive_separators_and_a_final_one_make_no_document(sheets: dict[str, Image.Image],
                                                                 text_page: Image.Image) -> None:
    split = split_stream(_pages(sheets, text_page, "ABppC"))
    assert [(d.pages, d.meta) for d in split.documents] == [([2, 3], B)]
    assert split.separators == 3
    assert [(e.index, e.meta) for e in split.empty] == [(0, A), (4, C)]
    assert "followed by another separator" in split.empty[0].reason
    assert "followed by the end of the stream" in split.empty[1].reason


def test_a_stream_without_separator_is_one_document(text_page: Image.Image) -> None:
    split = split_stream(_pages({}, text_page, "pqp"))
    assert [(d.pages, d.meta, d.separator) for d in split.documents] == [([0, 1, 2], None, None)]
    assert (split.separators, split.pages) == (0, 3)
    assert split_stream([]).documents == []


def test_a_document_after_a_malformed_separator_carries_the_reason(text_page: Image.Image) -> None:
    bad = foreign_qr_page(text_page, PREFIX + '{"title":"=cmd|\' /C calc\'!A0"}')
    split = split_stream([text_page, bad, text_page, text_page])
    assert [d.pages for d in split.documents] == [[0], [2, 3]]  # not merged into the document before it
    assert split.documents[1].meta is None and "formula" in split.documents[1].error
    assert split.documents[1].error.startswith("the separator on page 2 of the stream cannot be used: title")


def test_a_long_stream_holds_one_page_at_a_time() -> None:
    alive: list[weakref.ref[Image.Image]] = []

    def pages() -> Iterator[Image.Image]:
        for _ in range(40):
            page = Image.new("L", (1654, 2339), 255)
            alive.append(weakref.ref(page))
            yield page

    def detect(page: Image.Image) -> SeparatorHit | None:
        assert all(ref() is None for ref in alive[:-1])  # every earlier page is already released
        return SeparatorHit(B) if len(alive) % 10 == 1 else None

    split = split_stream(pages, detect)
    assert split.separators == 4 and [len(d.pages) for d in split.documents] == [9, 9, 9, 9]
