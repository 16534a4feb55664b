"""Hostile and broken inputs, made here (Pillow, pikepdf, fpdf2), as scanners and senders really produce them:
truncated and zero-byte files, broken cross-reference tables, passwords, scripts and actions, odd image modes
(16-bit, CMYK, G4, multi-frame TIFFs, EXIF-rotated JPEGs), decompression bombs, extreme pages and names that
tools mistake for options or paths. Small on purpose: the whole corpus is ingested by one test
(``tests/app/test_hostile_corpus.py``), OCR costing seconds a page.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pikepdf
from fpdf import FPDF
from PIL import Image, ImageDraw, ImageFont

from pipeline.devtools.samples.fonts import vietnamese_font
from pipeline.devtools.samples.pdfs import make_born_digital_pdf

LINES = ("UBND TỈNH LÂM ĐỒNG", "Công văn số 12/CV-VP", "về lưu trữ hồ sơ điện tử")


def page_image(lines: tuple[str, ...] = LINES, size: tuple[int, int] = (620, 300), mode: str = "L") -> Image.Image:
    """A small page: a frame and a few lines of Vietnamese text, black on white (a few words keep OCR fast)."""
    image = Image.new("L", size, 255)
    draw = ImageDraw.Draw(image)
    font = ImageFont.truetype(str(vietnamese_font()), max(12, size[1] // 10))
    draw.rectangle((8, 8, size[0] - 9, size[1] - 9), outline=0, width=4)
    for number, line in enumerate(lines):
        draw.text((30, 30 + number * size[1] // 4), line, font=font, fill=0)
    return image.convert(mode) if mode != "L" else image


def scan_tones(image: Image.Image) -> Image.Image:
    """The page as a scanner sees it: ink and paper never pure black or white (ink ~15 %, paper ~89 %)."""
    return image.convert("L").point(lambda v: 38 + v * (226 - 38) // 255)


def to_16bit(image: Image.Image) -> Image.Image:
    """The page as 16-bit greyscale (``I;16``) with a scanner's tones, as archival scanners write TIFFs. Every
    sample is above 255: a conversion that clips 16-bit samples to 8 bits turns the whole page white."""
    return Image.fromarray(np.asarray(scan_tones(image), dtype=np.uint16) * 257)


def tiff_16bit(out: Path, frames: int = 1) -> Path:
    pages = [to_16bit(page_image((*LINES[:2], f"trang {n}"))) for n in range(1, frames + 1)]
    out.parent.mkdir(parents=True, exist_ok=True)
    pages[0].save(out, save_all=frames > 1, append_images=pages[1:], dpi=(200, 200))
    return out


def tiff(out: Path, *, mode: str = "L", frames: int = 1, compression: str = "tiff_lzw") -> Path:
    """A TIFF of ``frames`` pages in ``mode`` (``1`` with ``group4`` is a fax/G4 scan, ``CMYK`` a print shop's)."""
    pages = [page_image((*LINES[:2], f"trang {n}"), mode=mode) for n in range(1, frames + 1)]
    out.parent.mkdir(parents=True, exist_ok=True)
    pages[0].save(out, save_all=frames > 1, append_images=pages[1:], dpi=(200, 200), compression=compression)
    return out


def exif_rotated_jpeg(out: Path) -> Path:
    """A phone photo: a landscape page stored on its side, EXIF orientation 6 (turn 90° clockwise to view it)."""
    upright = page_image()
    stored = upright.transpose(Image.Transpose.ROTATE_90)  # what the camera wrote
    exif = Image.Exif()
    exif[0x0112] = 6
    out.parent.mkdir(parents=True, exist_ok=True)
    stored.convert("RGB").save(out, "JPEG", quality=90, exif=exif, dpi=(200, 200))
    return out


def scan(out: Path, dpi: int = 200, lines: tuple[str, ...] = LINES, fmt: str = "PNG",
         size: tuple[int, int] = (620, 300)) -> Path:
    out.parent.mkdir(parents=True, exist_ok=True)
    page_image(lines, size).save(out, fmt, dpi=(dpi, dpi))
    return out


def strip(out: Path, size: tuple[int, int] = (4000, 48)) -> Path:
    """An extreme aspect ratio (83:1): one line of text on a long strip, as a scale bar or a receipt."""
    image = Image.new("L", size, 255)
    font = ImageFont.truetype(str(vietnamese_font()), size[1] * 2 // 3)
    ImageDraw.Draw(image).text((10, size[1] // 8), "Thước tỉ lệ 1:500 — dải đo dài " * 4, font=font, fill=0)
    out.parent.mkdir(parents=True, exist_ok=True)
    image.save(out, dpi=(200, 200))
    return out


def blank(out: Path, size: tuple[int, int] = (620, 300)) -> Path:
    out.parent.mkdir(parents=True, exist_ok=True)
    Image.new("L", size, 255).save(out, dpi=(200, 200))
    return out


def bomb_png(out: Path) -> Path:
    """200 megapixels of one colour in a few tens of KB."""
    out.parent.mkdir(parents=True, exist_ok=True)
    Image.new("1", (20000, 10000), 1).save(out)
    return out


def truncated(source: Path, out: Path, keep: float = 0.5) -> Path:
    data = source.read_bytes()
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(data[: int(len(data) * keep)])
    return out


# ---- PDFs ------------------------------------------------------------------------------------------------
def born_digital(out: Path, text: str = "Công văn về lưu trữ hồ sơ điện tử của cơ quan.", *,
                 with_open_action: bool = False) -> Path:
    return make_born_digital_pdf([text], out, with_open_action=with_open_action)


def broken_xref(out: Path, text: str) -> Path:
    """A born-digital PDF whose ``startxref`` points into the middle of nowhere (readers rebuild the table)."""
    born_digital(out, text)
    data = out.read_bytes()
    at = data.rindex(b"startxref")
    out.write_bytes(data[:at] + b"startxref\n999\n%%EOF\n")
    return out


def hopeless(out: Path) -> Path:
    """A PDF header, then noise: no objects, no trailer, nothing to rebuild."""
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(b"%PDF-1.7\n" + bytes((i * 73 + 41) % 256 for i in range(4096)) + b"\n%%EOF\n")
    return out


def encrypted(out: Path, user: str, owner: str = "chu-so-huu") -> Path:
    plain = born_digital(out.with_suffix(".plain"), "Văn bản mật được bảo vệ bằng mật khẩu.")
    with pikepdf.open(plain) as pdf:
        pdf.save(out, encryption=pikepdf.Encryption(user=user, owner=owner, R=6,
                                                    allow=pikepdf.Permissions(extract=False, modify_other=False)))
    plain.unlink()
    return out


def _edit(path: Path, text: str, change: Callable[[pikepdf.Pdf], None]) -> Path:
    born_digital(path, text)
    with pikepdf.open(path, allow_overwriting_input=True) as pdf:
        change(pdf)
        pdf.save(path)
    return path


def javascript(out: Path) -> Path:
    def add(pdf: pikepdf.Pdf) -> None:
        action = pdf.make_indirect(pikepdf.Dictionary(S=pikepdf.Name.JavaScript, JS=pikepdf.String("app.alert(1)")))
        pdf.Root.Names = pikepdf.Dictionary(JavaScript=pikepdf.Dictionary(Names=["mo", action]))
    return _edit(out, "Văn bản có mã JavaScript ở cấp tài liệu.", add)


def launch(out: Path) -> Path:
    """A link that launches a program, and a page action that does the same when the page opens."""
    def add(pdf: pikepdf.Pdf) -> None:
        act = pikepdf.Dictionary(S=pikepdf.Name.Launch, F=pikepdf.String("cmd.exe"),
                                 Win=pikepdf.Dictionary(F=pikepdf.String("cmd.exe"), P=pikepdf.String("/c calc")))
        link = pdf.make_indirect(pikepdf.Dictionary(Type=pikepdf.Name.Annot, Subtype=pikepdf.Name.Link,
                                                    Rect=[20, 20, 200, 60], Border=[0, 0, 0], A=act))
        page = pdf.pages[0].obj
        page.Annots = pdf.make_indirect(pikepdf.Array([link]))
        page.AA = pikepdf.Dictionary(O=act)
    return _edit(out, "Văn bản có liên kết chạy chương trình.", add)


def zero_pages(out: Path) -> Path:
    with pikepdf.new() as pdf:
        pdf.save(out)
    return out


def _fpdf_page(out: Path, size_mm: tuple[float, float], text: str, font_pt: float = 14) -> Path:
    pdf = FPDF(unit="mm", format=size_mm)
    pdf.set_auto_page_break(False)
    pdf.add_font("VN", fname=str(vietnamese_font()))
    pdf.add_page()
    pdf.set_font("VN", size=font_pt)
    pdf.set_xy(min(5, size_mm[0] / 10), min(5, size_mm[1] / 3))
    pdf.cell(text=text)
    pdf.rect(0, 0, size_mm[0], size_mm[1], style="D")
    pdf.output(str(out))
    return out


def tiny_page(out: Path) -> Path:
    """A 1×1 pt page, filled black (something to see)."""
    with pikepdf.new() as pdf:
        page = pdf.add_blank_page(page_size=(3, 3))
        page.obj.MediaBox = pikepdf.Array([0, 0, 1, 1])
        page.obj.Contents = pdf.make_stream(b"0 g 0 0 1 1 re f")
        pdf.save(out)
    return out


def huge_page(out: Path) -> Path:
    """A 200×200-inch page (14 400 pt: the PDF/A limit itself) with embedded text."""
    return _fpdf_page(out, (5080.0, 5080.0), "Bản đồ quy hoạch khổ 200 inch", font_pt=400)


def extreme_aspect(out: Path) -> Path:
    """A 5 m × 1 cm strip (a plan's scale bar, a till receipt)."""
    return _fpdf_page(out, (5000.0, 10.0), "Dải thước tỉ lệ bản đồ dài năm mét", font_pt=20)


def many_pages(out: Path, pages: int = 1000) -> Path:
    """``pages`` born-digital pages, each with its number (fpdf2 subsets the font once)."""
    pdf = FPDF(format="A5")
    pdf.add_font("VN", fname=str(vietnamese_font()))
    pdf.set_font("VN", size=12)
    for number in range(1, pages + 1):
        pdf.add_page()
        pdf.cell(text=f"Sổ đăng ký văn bản đến, trang {number}")
    pdf.output(str(out))
    return out


def not_an_image(out: Path, data: bytes = b"Day khong phai la anh, chi la van ban.\n") -> Path:
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(data)
    return out


# ---- the batch -------------------------------------------------------------------------------------------
MANIFEST_HEADER = "path,doc_number,doc_type,title,issuer,issued_date,signer,unit,classification,notes\n"
# Spreadsheet formulas typed into metadata (CSV injection): data to keep verbatim, never to evaluate.
FORMULAS = {"doc_number": "=1+1", "title": "=cmd|' /C calc'!A0", "issuer": "+84 263 3822 111",
            "signer": "-Nguyễn Văn An", "notes": "@SUM(1+1)*cmd|' /C calc'!A0"}
VIETNAMESE_NAME = "Quyết định số 5 ngày 6.pdf"
NFD_NAME = unicodedata.normalize("NFD", "Tờ trình về lưu trữ.pdf")
TEXT = "Quyết định về việc ban hành quy chế lưu trữ số {}."


def build_batch(root: Path, outside: Path, *, pages: int = 1000) -> Path:
    """The hostile batch in ``root`` (``outside``: a folder beside it that links point into). Each entry is named
    for what it is; the outcome expected of each is written in the test that ingests it."""
    from pipeline.devtools.samples import awkward

    root.mkdir(parents=True, exist_ok=True)
    outside.mkdir(parents=True, exist_ok=True)
    (root / "rong.pdf").write_bytes(b"")
    truncated(born_digital(outside / "full.pdf", TEXT.format(1)), root / "cat-cut.pdf", 0.6)
    broken_xref(root / "xref-hong-sua-duoc.pdf", TEXT.format(2))
    hopeless(root / "xref-hong-nat.pdf")
    encrypted(root / "mat-khau-mo.pdf", user="mo-tep")
    encrypted(root / "mat-khau-chu.pdf", user="")
    javascript(root / "javascript.pdf")
    born_digital(root / "open-action.pdf", TEXT.format(3), with_open_action=True)
    launch(root / "launch.pdf")
    awkward.attachments(root / "dinh-kem.pdf")
    awkward.form(root / "bieu-mau.pdf")
    awkward.unembedded_font(root / "phong-chua-nhung.pdf")
    zero_pages(root / "khong-trang.pdf")
    tiny_page(root / "trang-1pt.pdf")
    huge_page(root / "trang-200-inch.pdf")
    extreme_aspect(root / "ti-le-cuc-doan.pdf")
    many_pages(root / "nghin-trang.pdf", pages)
    (root / "van-ban.docx").write_bytes(b"PK\x03\x04 not really a document")
    (root / "Thumbs.db").write_bytes(b"\xd0\xcf\x11\xe0 thumbnail cache")
    born_digital(root / VIETNAMESE_NAME, TEXT.format(5))
    born_digital(root / NFD_NAME, TEXT.format(8))
    born_digital(root / "--help.pdf", TEXT.format(10))
    born_digital(root / "..\\..\\thoat-ra.pdf", TEXT.format(12))
    (root / "trung-lap.pdf").write_bytes((root / "javascript.pdf").read_bytes())  # the same document twice
    (root / "lien-ket-trong.pdf").symlink_to(root / "launch.pdf")
    (root / "lien-ket-ngoai.pdf").symlink_to(born_digital(outside / "bi-mat.pdf", "Tài liệu ngoài lô."))
    (root / "lien-ket-hong.pdf").symlink_to(outside / "khong-ton-tai.pdf")
    born_digital(root / "ngay-sai.pdf", TEXT.format(15))
    _images(root, outside)
    rows = [
        f"{VIETNAMESE_NAME},{csv_field(FORMULAS['doc_number'])},Quyết định,{csv_field(FORMULAS['title'])},"
        f"{csv_field(FORMULAS['issuer'])},2024-05-06,{csv_field(FORMULAS['signer'])},Văn phòng,public,"
        f"{csv_field(FORMULAS['notes'])}",
        "ngay-sai.pdf,15/QĐ,Quyết định,Ngày sai,UBND,31/02/2024,,Văn phòng,public,",
        "khong-co-tep.pdf,16/QĐ,Quyết định,Không có tệp,UBND,2024-05-06,,Văn phòng,public,",
        "../ngoai-lo.pdf,17/QĐ,Quyết định,Ngoài lô,UBND,2024-05-06,,Văn phòng,public,",
    ]
    (root / "manifest.csv").write_text(MANIFEST_HEADER + "\n".join(rows) + "\n", encoding="utf-8")
    return root


def _images(root: Path, outside: Path) -> None:
    tiff_16bit(root / "anh-16bit" / "page1.tif")
    tiff_16bit(root / "anh-16bit-3-trang" / "page1.tif", frames=3)
    tiff(root / "anh-cmyk" / "page1.tif", mode="CMYK")
    tiff(root / "anh-g4-2-trang" / "page1.tif", mode="1", frames=2, compression="group4")
    exif_rotated_jpeg(root / "anh-exif-xoay" / "page1.jpg")
    scan(root / "anh-150dpi" / "page1.png", dpi=150)
    scan(root / "anh-trang-trang" / "page1.png")
    blank(root / "anh-trang-trang" / "page2.png")
    strip(root / "anh-ti-le" / "page1.png")
    not_an_image(root / "anh-gia" / "page1.png")
    not_an_image(root / "anh-la-pdf" / "page1.jpg", (root / "launch.pdf").read_bytes())
    not_an_image(root / "anh-rong" / "page1.png", b"")
    bomb_png(root / "anh-bom" / "page1.png")
    truncated(scan(outside / "full.png"), root / "anh-cut" / "page1.png", 0.5)
    truncated(scan(outside / "full.jpg", fmt="JPEG"), root / "anh-jpeg-cut" / "page1.jpg", 0.5)
    (root / "thu-muc-rong").mkdir()
    scan(root / "anh-lan-tep" / "page1.png")
    (root / "anh-lan-tep" / "ghi-chu.txt").write_text("ghi chú\n", encoding="utf-8")


def csv_field(value: str) -> str:
    """One CSV field, quoted when it must be (values are written as they are: formulas included)."""
    return '"' + value.replace('"', '""') + '"' if any(c in value for c in ',"\n') else value


def to_cp1258(text: str) -> bytes:
    """``text`` as Excel on Vietnamese Windows saves it: Windows-1258, tone marks as combining characters."""
    out = bytearray()
    for char in unicodedata.normalize("NFC", text):
        try:
            out += char.encode("cp1258")
            continue
        except UnicodeEncodeError:
            pass
        base, *marks = unicodedata.normalize("NFD", char)
        tones = [m for m in marks if m in "\u0300\u0301\u0303\u0309\u0323"]
        letter = unicodedata.normalize("NFC", base + "".join(m for m in marks if m not in tones))
        out += letter.encode("cp1258") + "".join(tones).encode("cp1258")
    return bytes(out)
