"""Test helpers: a small PDF/A-2b input made here (fpdf2 + pikepdf, not the OCR stage), free ports."""

from __future__ import annotations

import socket
from pathlib import Path

import pikepdf
import pikepdf.pdfa
from fpdf import FPDF

FONT_CANDIDATES = (
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/truetype/noto/NotoSans-Regular.ttf",
)
TEXT = (
    "ỦY BAN NHÂN DÂN TỈNH THỬ NGHIỆM\n"
    "THÔNG BÁO\n"
    "Về việc số hóa văn bản lưu trữ và ký số bản sao điện tử.\n"
    "Các đơn vị gửi văn bản điện tử có chữ ký số của cơ quan trước ngày 30/6."
)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def font_path() -> Path:
    for candidate in FONT_CANDIDATES:
        if Path(candidate).is_file():
            return Path(candidate)
    raise FileNotFoundError("install fonts-dejavu-core")


def make_pdfa(path: Path, pages: int = 2) -> Path:
    """Write a born-digital Vietnamese PDF/A-2b (validated by pikepdf) to ``path``."""
    doc = FPDF(format="A4")
    doc.add_font("DejaVu", fname=str(font_path()))
    for number in range(1, pages + 1):
        doc.add_page()
        doc.set_font("DejaVu", size=13)
        doc.multi_cell(0, 8, TEXT + f"\nTrang {number}/{pages}")
    raw = path.with_suffix(".raw.pdf")
    doc.output(str(raw))
    with pikepdf.open(raw) as pdf:
        if "/OpenAction" in pdf.Root:  # fpdf2 adds one; PDF/A validation rejects it
            del pdf.Root.OpenAction
        report = pikepdf.pdfa.save(pdf, path, "2b")
    raw.unlink()
    assert report.passed, report
    return path
