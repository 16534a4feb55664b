"""Read the PDF/A claim (XMP ``pdfaid``) of a file: signing must leave it in place."""

from __future__ import annotations

from pathlib import Path

import pikepdf
import pikepdf.pdfa


def pdfa_claim(path: Path) -> str:
    """``"2B"`` for a file that declares PDF/A-2b in its XMP metadata; ``""`` when none is declared."""
    try:
        with pikepdf.open(path) as pdf:
            meta = pdf.open_metadata()
            part = str(meta.get("pdfaid:part", "") or "").strip()
            conformance = str(meta.get("pdfaid:conformance", "") or "").strip().upper()
    except (pikepdf.PdfError, OSError, ValueError):
        return ""
    return f"{part}{conformance}" if part else ""


def signed_pdfa_problems(path: Path, flavour: str = "2b") -> list[str]:
    """PDF/A check of a signed file, as far as pikepdf's validator can go.

    pikepdf answers "not_checked" for files with forms, a DSS or the ESIC extension, i.e. for every
    signed file. So the check runs on a copy where the signature's visible appearance is drawn into
    page content (its fonts, images and transparency are what the signature adds) and the
    signature machinery (AcroForm, widgets, DSS, extension) is removed. Returns problems; [] = pass.
    """
    import tempfile

    problems: list[str] = []
    claim = pdfa_claim(path)
    if claim.lower() != flavour.lower():
        problems.append(f"XMP declares PDF/A {claim or 'nothing'}, expected {flavour.upper()}")
    with pikepdf.open(path) as pdf:
        for key in ("/AcroForm", "/DSS", "/Extensions", "/Perms"):
            if key in pdf.Root:
                del pdf.Root[key]
        for page in pdf.pages:
            annots = page.obj.get("/Annots")
            if annots is None:
                continue
            keep = pikepdf.Array()
            for annot in annots:
                if annot.get("/Subtype") != "/Widget" or annot.get("/FT") != "/Sig":
                    keep.append(annot)
                    continue
                flags = int(annot.get("/F", 0))
                if not flags & 4 or flags & (1 | 2 | 32):
                    problems.append("signature widget lacks the Print flag or is hidden")
                _draw_appearance(pdf, page, annot)
            page.obj["/Annots"] = keep
        with tempfile.TemporaryDirectory() as tmp:
            copy = Path(tmp) / "flat.pdf"
            pdf.save(copy)
            report = pikepdf.pdfa.validate_written(copy, flavour)
    if not report.passed:
        problems.extend(f"{f.kind}: {f.rule} {f.where}: {f.message}" for f in report.findings)
    return problems


def _draw_appearance(pdf: pikepdf.Pdf, page: pikepdf.Page, annot: pikepdf.Object) -> None:
    ap = annot.get("/AP")
    appearance = ap.get("/N") if isinstance(ap, pikepdf.Dictionary) else None
    if appearance is None or not isinstance(appearance, pikepdf.Stream):
        return
    x1, y1, x2, y2 = (float(v) for v in annot.Rect)
    bbox = [float(v) for v in appearance.get("/BBox", [0, 0, x2 - x1, y2 - y1])]
    width, height = bbox[2] - bbox[0], bbox[3] - bbox[1]
    sx = (x2 - x1) / width if width else 1.0
    sy = (y2 - y1) / height if height else 1.0
    name = page.add_resource(appearance, pikepdf.Name.XObject, prefix="SigAP")
    draw = f"q {sx:g} 0 0 {sy:g} {x1 - bbox[0] * sx:g} {y1 - bbox[1] * sy:g} cm {name} Do Q".encode()
    page.contents_add(pikepdf.Stream(pdf, draw), prepend=False)
