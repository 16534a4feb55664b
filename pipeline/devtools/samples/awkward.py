"""Born-digital PDFs of the kinds agencies really send and PDF/A forbids: a form, attachments, fonts that are
not embedded, CMYK images, extreme page sizes, JavaScript, text outside the page. Each is small and made
here (fpdf2, pikepdf, Pillow), like the files the real-world corpus in ``tests/corpus/realworld`` holds.
"""

from __future__ import annotations

import io
from pathlib import Path

import pikepdf
from fpdf import FPDF
from PIL import Image, ImageDraw

from pipeline.devtools.samples.fonts import vietnamese_font

TEXT = "Công văn số 07/CV-VPUB về lưu trữ hồ sơ điện tử"


def _helvetica_page(pdf: pikepdf.Pdf, text: str, size: tuple[float, float] = (595, 842),
                    at: tuple[float, float] = (50, 742)) -> pikepdf.Page:
    """A page drawing ASCII ``text`` in Helvetica, not embedded (a standard-14 font by name only)."""
    page = pdf.add_blank_page(page_size=(595, 842))
    page.obj.MediaBox = pikepdf.Array([0, 0, *size])
    font = pdf.make_indirect(pikepdf.Dictionary(Type=pikepdf.Name.Font, Subtype=pikepdf.Name.Type1,
                                                BaseFont=pikepdf.Name.Helvetica,
                                                Encoding=pikepdf.Name.WinAnsiEncoding))
    page.obj.Resources = pikepdf.Dictionary(Font=pikepdf.Dictionary(F1=font))
    page.obj.Contents = pdf.make_stream(f"BT /F1 18 Tf {at[0]} {at[1]} Td ({text}) Tj ET".encode())
    return page


def unembedded_font(out: Path) -> Path:
    """An office export that names Helvetica without embedding it."""
    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("helvetica", size=14)
    pdf.multi_cell(0, 8, text="Bao cao tong hop cong tac van thu nam 2026. So 12/BC-VP.")
    pdf.output(str(out))
    return out


def _vietnamese(out: Path) -> FPDF:
    pdf = FPDF()
    pdf.add_font("viet", fname=str(vietnamese_font()))
    pdf.add_page()
    pdf.set_font("viet", size=14)
    pdf.multi_cell(0, 8, text=TEXT)
    return pdf


def form(out: Path, value: str = "Nguyen Van An") -> Path:
    """A filled AcroForm text field without an appearance stream (NeedAppearances), plus a JavaScript
    button: what a form exported by an office suite or a web service looks like."""
    _vietnamese(out).output(str(out))
    with pikepdf.open(out, allow_overwriting_input=True) as pdf:
        helv = pdf.make_indirect(pikepdf.Dictionary(Type=pikepdf.Name.Font, Subtype=pikepdf.Name.Type1,
                                                    BaseFont=pikepdf.Name.Helvetica))
        field = pdf.make_indirect(pikepdf.Dictionary(
            Type=pikepdf.Name.Annot, Subtype=pikepdf.Name.Widget, FT=pikepdf.Name.Tx, T="ho_ten", V=value,
            Rect=[60, 600, 360, 630], DA="/Helv 12 Tf 0 g", F=4, P=pdf.pages[0].obj))
        button = pdf.make_indirect(pikepdf.Dictionary(
            Type=pikepdf.Name.Annot, Subtype=pikepdf.Name.Widget, FT=pikepdf.Name.Btn, T="gui", Ff=65536,
            Rect=[60, 560, 160, 590], F=4, P=pdf.pages[0].obj,
            A=pikepdf.Dictionary(S=pikepdf.Name.JavaScript, JS="app.alert('sent');")))
        pdf.pages[0].obj.Annots = pdf.make_indirect(pikepdf.Array([field, button]))
        pdf.Root.AcroForm = pikepdf.Dictionary(Fields=[field, button], NeedAppearances=True,
                                               DR=pikepdf.Dictionary(Font=pikepdf.Dictionary(Helv=helv)),
                                               DA="/Helv 12 Tf 0 g")
        pdf.save(out)
    return out


def attachments(out: Path, files: dict[str, bytes] | None = None) -> Path:
    """A letter with embedded files (a spreadsheet and an XML data file), as e-government exports carry."""
    _vietnamese(out).output(str(out))
    files = files or {"so-lieu.csv": "đơn vị,số văn bản\nVP,12\n".encode(),
                      "du-lieu.xml": b"<?xml version='1.0'?><vb so='07/CV-VPUB'/>"}
    with pikepdf.open(out, allow_overwriting_input=True) as pdf:
        for name, data in files.items():
            pdf.attachments[name] = pikepdf.AttachedFileSpec(pdf, data, filename=name)
        pdf.save(out)
    return out


def cmyk_image(out: Path) -> Path:
    """A page with text and a CMYK JPEG (print-shop exports)."""
    image = Image.new("CMYK", (400, 200), (0, 200, 200, 0))
    ImageDraw.Draw(image).rectangle((50, 50, 350, 150), fill=(200, 0, 0, 50))
    data = io.BytesIO()
    image.save(data, format="JPEG")
    pdf = _vietnamese(out)
    pdf.image(data, x=20, y=60, w=120)
    pdf.output(str(out))
    return out


def page_sizes(out: Path) -> Path:
    """Three pages: A4, a 200×200-inch poster page (over the 14 400-unit limit) and a 1×1 pt page."""
    with pikepdf.new() as pdf:
        _helvetica_page(pdf, "Ban do quy hoach", (595, 842))
        _helvetica_page(pdf, "Poster 200 inch", (14_500, 14_500), at=(100, 14_000))
        tiny = pdf.add_blank_page(page_size=(595, 842))
        tiny.obj.MediaBox = pikepdf.Array([0, 0, 1, 1])
        pdf.save(out)
    return out


def text_off_page(out: Path) -> Path:
    """Text drawn outside the page in a font that is not embedded: any rewrite that embeds the font drops
    the invisible words, so no rendition keeps every word and the original must become the archival copy."""
    with pikepdf.new() as pdf:
        _helvetica_page(pdf, "Noi dung hien thi", at=(50, 742))
        page = pdf.pages[0]
        page.contents_add(pdf.make_stream(b"BT /F1 12 Tf -400 -300 Td (Ghi chu an ngoai trang) Tj ET"))
        pdf.save(out)
    return out


MAKERS = {
    "fonts": unembedded_font,
    "form": form,
    "attachments": attachments,
    "cmyk": cmyk_image,
    "page-size": page_sizes,
    "off-page-text": text_off_page,
}
