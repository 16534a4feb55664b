"""The PDF report: an A4 fpdf2 document (Vietnamese-capable embedded font, real text) with the report's tables
and its charts as PNG images, then made PDF/A-2b by the OCR stage as a born-digital PDF (no OCR: its own text
is kept) and signed with the agency certificate by the sign stage, exactly as an archived born-digital document
is (:mod:`pipeline.app.process`), so `archive verify FILE` checks it. The report itself is not archived."""

from __future__ import annotations

import io
import shutil
import tempfile
from datetime import datetime
from pathlib import Path
from typing import Any

from fpdf import FPDF
from PIL import Image

from pipeline import ocr, sign
from pipeline.app.errors import AppError
from pipeline.app.report import charts
from pipeline.app.report.data import Report, Table, clearance_note, scope_rows, tables
from pipeline.app.signing import sign_policy, signer_config
from pipeline.core.settings import Settings
from pipeline.core.text import nfc
from pipeline.core.vocabulary import Origin

WIDTH = 190.0  # mm between the margins of A4 portrait


def _fonts(pdf: FPDF) -> None:
    font = charts.font_path()
    bold = font.with_name(font.name.replace("-Regular", "-Bold").replace("Sans.ttf", "Sans-Bold.ttf"))
    pdf.add_font("VN", fname=str(font))
    pdf.add_font("VN", style="B", fname=str(bold if bold.is_file() else font))


def _heading(pdf: FPDF, text: str) -> None:
    pdf.ln(3)
    pdf.set_font("VN", style="B", size=11)
    pdf.multi_cell(0, 6, nfc(text), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("VN", size=8)


def _table(pdf: FPDF, table: Table) -> None:
    if pdf.will_page_break(12 + 5 * min(len(table.rows), 3)):
        pdf.add_page()
    _heading(pdf, table.title)
    if len(table.headers) > 4:  # the key column as wide as its longest entry, the others sharing the rest
        longest = max([pdf.get_string_width(nfc(row[0])) for row in table.rows] or [0.0])
        first = min(max(longest + 4.0, 18.0), 60.0)
    else:
        first = 110.0
    rest = (WIDTH - first) / (len(table.headers) - 1)
    with pdf.table(col_widths=(first, *[rest] * (len(table.headers) - 1)), text_align="LEFT",
                   line_height=4.2) as grid:
        grid.row([nfc(h) for h in table.headers])
        for row in table.rows:
            grid.row([nfc(cell) for cell in row])


def _chart(pdf: FPDF, title: str, png: bytes) -> None:
    image = Image.open(io.BytesIO(png)).convert("RGB")  # PDF/A: an opaque image, no soft mask
    height = WIDTH * image.height / image.width
    if pdf.will_page_break(height + 10):
        pdf.add_page()
    _heading(pdf, title)
    pdf.image(image, w=WIDTH)


def render(report: Report, out: Path, when: datetime) -> Path:
    """Write the (not yet PDF/A, unsigned) report PDF."""
    pdf = FPDF(orientation="P", format="A4")
    pdf.set_lang(report.lang)
    pdf.set_title(nfc(report.t("title").capitalize()))
    pdf.set_author(nfc(report.agency or report.actor.name))
    pdf.set_creator("archive report")
    pdf.set_creation_date(when)
    _fonts(pdf)
    pdf.set_margins(10, 12, 10)
    pdf.set_auto_page_break(True, margin=12)
    pdf.add_page()
    if report.agency:
        pdf.set_font("VN", size=10)
        pdf.multi_cell(0, 5, nfc(report.agency.upper()), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("VN", style="B", size=14)
    pdf.multi_cell(0, 7, nfc(report.t("title")), align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("VN", size=9)
    pdf.multi_cell(0, 5, nfc(report.t("subtitle")), align="C", new_x="LMARGIN", new_y="NEXT")
    _heading(pdf, report.t("scope"))
    with pdf.table(col_widths=(50, WIDTH - 50), text_align="LEFT", line_height=4.2, first_row_as_headings=False
                   ) as grid:
        for name, value in scope_rows(report):
            grid.row([nfc(name), nfc(value)])
    pdf.ln(2)
    pdf.set_font("VN", size=8)
    pdf.multi_cell(0, 4.2, nfc(clearance_note(report)), new_x="LMARGIN", new_y="NEXT")
    pdf.multi_cell(0, 4.2, nfc(report.t("not_archived")), new_x="LMARGIN", new_y="NEXT")
    for table in tables(report):
        _table(pdf, table)
    pdf.add_page()
    _heading(pdf, report.t("charts"))
    for chart, png in charts.render(report, "png"):
        _chart(pdf, chart.title, png)
    out.parent.mkdir(parents=True, exist_ok=True)
    pdf.output(str(out))
    return out


def archival(settings: Settings, raw: Path, output: Path, workdir: Path) -> dict[str, Any]:
    """``raw`` made PDF/A (as a born-digital PDF: no OCR) and signed with the agency key into ``output``."""
    request = ocr.OcrRequest(inputs=[raw], kind="pdf", needs_ocr=False, language=settings.ocr.language,
                             deskew=False, rotate_pages=False, pdfa_part=settings.ocr.pdfa_part,
                             timeout_s=settings.ocr.timeout_s)
    try:
        result = ocr.make_pdfa(request, workdir / "pdfa")
    except ocr.OcrError as exc:
        raise AppError(f"the report could not be made PDF/A: {exc}") from exc
    if not result.pdfa:
        raise AppError("the report could not be made PDF/A")
    try:
        info = sign.sign_pdf(result.pdf_path, output, signer_config(settings),
                             sign_policy(settings, Origin.BORN_DIGITAL))
    except sign.SigningError as exc:
        raise AppError(f"the report could not be signed: {exc}") from exc
    return {"pdfa": result.pdfa, "level": info.level, "signer": info.signer_subject,
            "signed_at": info.signed_at.isoformat()}


def write(settings: Settings, report: Report, output: Path, when: datetime) -> dict[str, Any]:
    """Render, convert and sign the report into ``output``; the signing facts."""
    settings.work_dir.mkdir(parents=True, exist_ok=True)
    workdir = Path(tempfile.mkdtemp(prefix="report-", dir=settings.work_dir))
    try:
        raw = render(report, workdir / "report.pdf", when)
        return archival(settings, raw, output, workdir)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
