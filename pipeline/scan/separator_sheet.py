"""The printable separator sheet: an A4 page with a big "TỜ PHÂN CÁCH — SEPARATOR" heading (so a person sorting
paper recognises it), one large QR code carrying :func:`pipeline.scan.separator.encode_payload`, and the
metadata it carries printed under it in Vietnamese.

The QR code is drawn as vector squares (one filled path, so no seams between modules), at error correction
level H (30 % of the symbol may be lost to a fold, a staple or a pen mark) and 120 mm wide: a module is ≥ 0.8 mm,
≥ 4 pixels once a 200-dpi scan is reduced for decoding. The text uses the Vietnamese-capable fonts the
signature stamp uses (Noto Sans, DejaVu Sans from Debian), embedded. The sheet is printed, never archived."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from pathlib import Path

import numpy as np
import zxingcpp
from fpdf import FPDF

from pipeline.core.fonts import VIETNAMESE_FONTS
from pipeline.core.text import nfc
from pipeline.scan.separator import SeparatorMeta, encode_payload

log = logging.getLogger(__name__)

HEADING = "TỜ PHÂN CÁCH — SEPARATOR"
HINT = ("Đặt tờ này ngay trước trang đầu của văn bản. Máy quét tách văn bản tại đây; tờ này không được lưu trữ. / "
        "Put this sheet before the first page of the document; it is removed from the archived document.")
LABELS = (  # field, Vietnamese label / English
    ("doc_number", "Số, ký hiệu / Number"),
    ("title", "Trích yếu / Title"),
    ("doc_type", "Loại văn bản / Type"),
    ("unit", "Đơn vị / Unit"),
    ("classification", "Độ mật / Classification"),
    ("dossier_code", "Mã hồ sơ / Dossier"),
    ("order_in_dossier", "Số thứ tự trong hồ sơ / Order"),
)
QR_WIDTH_MM = 120.0
EC_LEVEL = "H"
PAGE_W = 210.0
MARGIN = 18.0


class SheetError(Exception):
    """The sheet cannot be drawn (no usable font)."""


@dataclass(frozen=True)
class Sheet:
    pdf: bytes  # one A4 page
    payload: str  # what its QR code carries
    modules: int  # the QR symbol's width in modules (21 + 4 per version step)
    ec_level: str


def qr_modules(payload: str) -> np.ndarray:
    """The QR symbol for ``payload`` as a boolean matrix, True for a dark module (no quiet zone)."""
    code = zxingcpp.create_barcode(payload, zxingcpp.BarcodeFormat.QRCode, ec_level=EC_LEVEL)
    return np.asarray(code.to_image(scale=1, add_quiet_zones=False)) < 128


def _values(meta: SeparatorMeta) -> list[tuple[str, str]]:
    shown = []
    for name, label in LABELS:
        value = getattr(meta, name)
        if name == "classification" and value is not None:
            value = value.label_vi
        if value not in ("", None):
            shown.append((label, nfc(str(value))))
    return shown


@lru_cache(maxsize=8)
def _coverage(path: str) -> frozenset[int]:
    from fontTools.ttLib import TTFont

    with TTFont(path, lazy=True) as font:
        return frozenset((font.getBestCmap() or {}).keys())


def pick_fonts(text: str, candidates: Sequence[tuple[str, str]] = VIETNAMESE_FONTS) -> tuple[str, str]:
    """(regular, bold) of the first candidate that has a glyph for every character of ``text``; else the one
    missing the fewest (logged: those characters print as blanks)."""
    found = [(r, b if Path(b).is_file() else r) for r, b in candidates if Path(r).is_file()]
    if not found:
        raise SheetError("no Vietnamese-capable TrueType font for the separator sheet (install fonts-noto-core "
                         "or fonts-dejavu-core)")
    wanted = {ord(c) for c in text if not c.isspace()}
    missing = [len(wanted - (_coverage(r) & _coverage(b))) for r, b in found]
    best = missing.index(min(missing))
    if missing[best]:
        log.warning("separator sheet: %d character(s) have no glyph in %s", missing[best], found[best][0])
    return found[best]


def _draw_qr(pdf: FPDF, modules: np.ndarray, x: float, y: float, width: float) -> None:
    """Dark modules as rectangles (runs of a row merged) in one filled path."""
    size = width / modules.shape[0]
    with pdf.new_path() as path:
        path.style.fill_color = "#000000"
        path.style.stroke_color = None
        for row, line in enumerate(modules):
            padded = np.concatenate(([False], line, [False])).astype(np.int8)
            edges = np.flatnonzero(np.diff(padded))
            for start, end in zip(edges[::2], edges[1::2], strict=True):
                path.rectangle(x + start * size, y + row * size, (end - start) * size, size)


def render_sheet(meta: SeparatorMeta, *, now: datetime | None = None) -> Sheet:
    """The separator sheet for ``meta``. Raises SeparatorPayloadError (metadata too long for the QR code) or
    SheetError."""
    payload = encode_payload(meta)
    modules = qr_modules(payload)
    rows = _values(meta)
    regular, bold = pick_fonts(HEADING + HINT + "".join(a + b for a, b in rows) + "(không có siêu dữ liệu)")
    pdf = FPDF(orientation="P", unit="mm", format="A4")
    pdf.set_title(nfc(f"Tờ phân cách {meta.doc_number}".strip()))
    pdf.set_creator("archive separator")
    if now is not None:
        pdf.set_creation_date(now)
    pdf.add_font("VN", fname=regular)
    pdf.add_font("VN", style="B", fname=bold)
    pdf.set_margins(MARGIN, 14, MARGIN)
    pdf.set_auto_page_break(False)
    pdf.add_page()
    pdf.set_font("VN", style="B", size=26)
    pdf.cell(0, 14, HEADING, align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_line_width(1.2)
    pdf.line(MARGIN, pdf.get_y() + 1, PAGE_W - MARGIN, pdf.get_y() + 1)
    pdf.ln(4)
    pdf.set_font("VN", size=8.5)
    pdf.multi_cell(0, 4.2, HINT, align="C", new_x="LMARGIN", new_y="NEXT")
    top = pdf.get_y() + 6
    _draw_qr(pdf, modules, (PAGE_W - QR_WIDTH_MM) / 2, top, QR_WIDTH_MM)
    pdf.set_y(top + QR_WIDTH_MM + 8)
    label_w = 62.0
    for label, value in rows or [("", "(không có siêu dữ liệu / no metadata)")]:
        pdf.set_font("VN", size=10)
        pdf.cell(label_w, 7, label, new_x="RIGHT", new_y="TOP")
        pdf.set_font("VN", style="B", size=12 if len(value) < 60 else 10)
        pdf.multi_cell(0, 7 if len(value) < 60 else 5.5, value, align="L", new_x="LMARGIN", new_y="NEXT")
    pdf.set_y(-16)
    pdf.set_font("VN", size=7)
    pdf.cell(0, 5, f"{payload.split(' ', 1)[0]} · QR {modules.shape[0]}×{modules.shape[0]} · EC {EC_LEVEL}",
             align="C")
    return Sheet(bytes(pdf.output()), payload, int(modules.shape[0]), EC_LEVEL)
