"""Build the PDFs the tests and the demo need: born-digital, image-only, mixed and corrupt.

Born-digital PDFs embed a Vietnamese-capable TTF (fpdf2 subsets it), so their text layer is exact and
can be compared with what the OCR stage keeps. Creation dates are fixed so output is reproducible.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import img2pdf
import pikepdf
from fpdf import FPDF
from PIL import Image

from pipeline.core.record import nfc
from pipeline.devtools.samples.fonts import vietnamese_font

_FIXED_DATE = datetime(2026, 1, 1, tzinfo=UTC)


def _new_fpdf(title: str) -> FPDF:
    pdf = FPDF(format=(148.0, 210.0))  # A5 in mm (the "A5" name warns in fpdf2 2.8.5+)
    pdf.set_creation_date(_FIXED_DATE)
    pdf.set_lang("vi")
    pdf.set_title(nfc(title))
    pdf.set_creator("archive-pipeline samples")
    font = vietnamese_font()
    pdf.add_font("VN", fname=str(font))
    bold = font.with_name(font.name.replace("Sans.ttf", "Sans-Bold.ttf"))
    pdf.add_font("VN", style="B", fname=str(bold if bold.is_file() else font))
    pdf.set_auto_page_break(True, margin=12)
    return pdf


def _write_text_page(pdf: FPDF, paragraphs: list[str], title: str) -> None:
    pdf.add_page()
    if title:
        pdf.set_font("VN", style="B", size=13)
        pdf.multi_cell(0, 7, nfc(title), align="C", new_x="LMARGIN", new_y="NEXT")
        pdf.ln(3)
    pdf.set_font("VN", size=11)
    for paragraph in paragraphs:
        pdf.multi_cell(0, 6, nfc(paragraph), new_x="LMARGIN", new_y="NEXT")
        pdf.ln(2)


def _set_open_action(path: Path, wanted: bool) -> None:
    """fpdf2 always writes a zoom /OpenAction; drop it, or replace it with a JavaScript one
    (print on open: seen in office exports, forbidden in PDF/A) so the flag really decides."""
    with pikepdf.open(path, allow_overwriting_input=True) as pdf:
        if "/OpenAction" in pdf.Root:
            del pdf.Root["/OpenAction"]
        if wanted:
            pdf.Root.OpenAction = pdf.make_indirect(
                pikepdf.Dictionary(S=pikepdf.Name.JavaScript, JS=pikepdf.String("this.print({bUI: true});"))
            )
        pdf.save(path, deterministic_id=True)


def make_born_digital_pdf(paragraphs: list[str], out: Path, *, title: str = "", with_open_action: bool = False) -> Path:
    """One A5 page (more if the text overflows) with a real, embedded-font text layer."""
    pdf = _new_fpdf(title)
    _write_text_page(pdf, paragraphs, title)
    out.parent.mkdir(parents=True, exist_ok=True)
    pdf.output(str(out))
    _set_open_action(out, with_open_action)
    return out


def make_scanned_pdf(image_paths: list[Path], out: Path) -> Path:
    """A PDF of page images only (no text layer), as a scanner's PDF export would be."""
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(img2pdf.convert([str(p) for p in image_paths], nodate=True))
    with pikepdf.open(out, allow_overwriting_input=True) as pdf:  # img2pdf's /ID is random
        del pdf.trailer["/ID"]
        pdf.save(out, deterministic_id=True)
    return out


def make_mixed_pdf(paragraphs: list[str], image_path: Path, out: Path, *, title: str = "") -> Path:
    """Page 1 born-digital text, page 2 a scanned image without text: a 'mixed' document."""
    pdf = _new_fpdf(title)
    _write_text_page(pdf, paragraphs, title)
    with Image.open(image_path) as image:
        dpi = image.info.get("dpi", (200, 200))[0] or 200
        w_mm, h_mm = image.width / dpi * 25.4, image.height / dpi * 25.4
    pdf.add_page(format=(w_mm, h_mm))
    pdf.image(str(image_path), x=0, y=0, w=w_mm, h=h_mm)
    out.parent.mkdir(parents=True, exist_ok=True)
    pdf.output(str(out))
    _set_open_action(out, False)
    return out


def make_corrupt_pdf(out: Path) -> Path:
    """A file named .pdf that is not a readable PDF: a header, then a truncated body and garbage."""
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R\n" + bytes(range(256)) * 4)
    return out
