"""What a born-digital PDF carries that PDF/A forbids or restricts, read once before any conversion.

The findings choose the repairs (:mod:`pipeline.ocr.repair`) and word the reason an archivist reads when no
rendition can be made (:mod:`pipeline.ocr.reasons`). Reading only: the original is never changed.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from pathlib import Path

import pikepdf

from pipeline.tools import poppler
from pipeline.tools.run import ToolError

# PDF/A-2 (ISO 19005-2, 6.1.13 via PDF 1.7 annex C): page boxes between 3 and 14 400 default units.
MIN_PAGE_UNITS = 3.0
MAX_PAGE_UNITS = 14_400.0


@dataclass
class PdfFeatures:
    form: bool = False  # AcroForm fields
    xfa: bool = False
    needs_rendering: bool = False  # /NeedsRendering: a dynamic XFA form, drawn only by an XFA viewer
    javascript: bool = False
    attachments: list[str] = field(default_factory=list)  # embedded file names
    fonts_not_embedded: list[str] = field(default_factory=list)
    cid_fonts: bool = False
    type3_fonts: bool = False
    cmyk: bool = False
    extreme_pages: list[int] = field(default_factory=list)  # 1-based pages outside 3..14400 units
    user_unit: bool = False  # a page scales its units (/UserUnit ≠ 1): big plans and posters
    largest_image: tuple[int, int] = (0, 0)  # width, height in pixels of the image with the most pixels

    def labels(self) -> list[str]:
        """Short English keys of what was found, in a fixed order (for records and reasons)."""
        flags = [("xfa", self.xfa), ("form", self.form and not self.xfa), ("javascript", self.javascript),
                 ("attachments", bool(self.attachments)), ("fonts", bool(self.fonts_not_embedded)),
                 ("cid-fonts", self.cid_fonts), ("type3-fonts", self.type3_fonts), ("cmyk", self.cmyk),
                 ("page-size", bool(self.extreme_pages))]
        return [name for name, present in flags if present]


def _annotation_files(pdf: pikepdf.Pdf) -> list[str]:
    """Names of files carried by file-attachment annotations (not in the /EmbeddedFiles tree)."""
    names = []
    for page in pdf.pages:
        for annot in page.obj.get("/Annots", pikepdf.Array()):
            if isinstance(annot, pikepdf.Dictionary) and annot.get("/Subtype") == "/FileAttachment":
                spec = annot.get("/FS")
                if isinstance(spec, pikepdf.Dictionary):
                    names.append(str(spec.get("/UF", spec.get("/F", "attachment"))))
    return names


def _images(pdf: pikepdf.Pdf, found: PdfFeatures) -> None:
    """Whether an image uses DeviceCMYK (or an ICC profile with 4 components), and the largest image's size."""
    for obj in pdf.objects:
        if not isinstance(obj, pikepdf.Stream) or obj.get("/Subtype") != "/Image":
            continue
        with contextlib.suppress(TypeError, ValueError):
            size = (int(obj.get("/Width", 0)), int(obj.get("/Height", 0)))
            if size[0] * size[1] > found.largest_image[0] * found.largest_image[1]:
                found.largest_image = size
        space = obj.get("/ColorSpace")
        if space == "/DeviceCMYK":
            found.cmyk = True
        if isinstance(space, pikepdf.Array) and len(space) > 1 and space[0] == "/ICCBased":
            profile = space[1]
            if isinstance(profile, pikepdf.Stream) and int(profile.get("/N", 0)) == 4:
                found.cmyk = True


def _extreme_pages(pdf: pikepdf.Pdf) -> list[int]:
    bad = []
    for number, page in enumerate(pdf.pages, start=1):
        box = page.mediabox  # the limits are in user units: /UserUnit is how PDF/A-2 makes big pages
        width, height = abs(float(box[2]) - float(box[0])), abs(float(box[3]) - float(box[1]))
        if min(width, height) < MIN_PAGE_UNITS or max(width, height) > MAX_PAGE_UNITS:
            bad.append(number)
    return bad


def _javascript(pdf: pikepdf.Pdf) -> bool:
    names = pdf.Root.get("/Names")
    if isinstance(names, pikepdf.Dictionary) and "/JavaScript" in names:
        return True
    for obj in pdf.objects:  # indirect objects; an annotation's action is often a direct dictionary in /A
        if not isinstance(obj, pikepdf.Dictionary):
            continue
        action = obj.get("/A")
        if obj.get("/S") == "/JavaScript" or "/AA" in obj or (
                isinstance(action, pikepdf.Dictionary) and action.get("/S") == "/JavaScript"):
            return True
    return False


def inspect_features(path: Path) -> PdfFeatures:
    """Findings for ``path`` (readable PDF; intake refused unreadable ones). Never raises for odd content."""
    found = PdfFeatures()
    try:
        with pikepdf.open(path) as pdf:
            form = pdf.Root.get("/AcroForm")
            if isinstance(form, pikepdf.Dictionary):
                fields = form.get("/Fields")
                found.form = isinstance(fields, pikepdf.Array) and len(fields) > 0
                found.xfa = "/XFA" in form
            found.needs_rendering = bool(pdf.Root.get("/NeedsRendering", False))
            with contextlib.suppress(pikepdf.PdfError, ValueError, TypeError, KeyError):  # a broken tree: none
                found.attachments = list(pdf.attachments)  # the /EmbeddedFiles name tree, read by pikepdf
            found.javascript = _javascript(pdf)
            _images(pdf, found)
            found.extreme_pages = _extreme_pages(pdf)
            found.user_unit = any(float(p.obj.get("/UserUnit", 1)) != 1 for p in pdf.pages)
            found.attachments += _annotation_files(pdf)
    except (pikepdf.PdfError, pikepdf.PasswordError, OSError, ValueError, TypeError):
        return found  # unreadable: prepare_pdf refuses it with the reason
    try:
        rows = poppler.pdffonts(path)
    except ToolError:
        rows = []
    found.fonts_not_embedded = sorted({row.name for row in rows if not row.embedded})
    found.cid_fonts = any(row.type.startswith("CID") for row in rows)
    found.type3_fonts = any(row.type == "Type 3" for row in rows)
    return found
