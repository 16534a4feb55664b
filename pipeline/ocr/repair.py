"""Structural repairs on the rendition's working copy (never on the original): what PDF/A-2b forbids is
turned into what it allows, and every change is recorded.

- **Forms** (AcroForm, XFA): appearance streams are generated for fields that lack them, then the fields are
  flattened into page content (what the form showed stays visible) and the form machinery is removed. The
  original, with its live form, is kept as received.
- **Attachments** (embedded files): PDF/A-2 allows only PDF/A attachments, so they are written out as separate
  files of the record (``attachment/<name>``) and removed from the rendition.
- **Actions** PDF/A-2 forbids (JavaScript, launch, submit, hide, sound …) anywhere: removed; links stay.
- **Page size** outside 3..14 400 units: tiny pages are padded to 3 units; huge ones are scaled down into the
  limit with ``/UserUnit`` giving back their physical size (PDF/A-2 allows UserUnit).
"""

from __future__ import annotations

import contextlib
import re
import unicodedata
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import pikepdf

from pipeline.ocr.features import MAX_PAGE_UNITS, MIN_PAGE_UNITS, PdfFeatures

_ALLOWED_ACTIONS = ("/GoTo", "/GoToR", "/GoToE", "/URI", "/Thread")
_NAMED_ALLOWED = ("/NextPage", "/PrevPage", "/FirstPage", "/LastPage")
_SAFE_NAME = re.compile(r"[^\w.\-]+", re.UNICODE)
BOXES = ("/MediaBox", "/CropBox", "/BleedBox", "/TrimBox", "/ArtBox")
MAX_ATTACHMENTS = 200
MAX_ATTACHMENT_BYTES = 256 * 1024 * 1024


@dataclass
class _Budget:
    """One budget for the whole document: files, bytes, and each embedded stream extracted once."""

    files: int = MAX_ATTACHMENTS
    bytes: int = MAX_ATTACHMENT_BYTES
    seen: set[tuple[int, int]] = field(default_factory=set)
    skipped: int = 0


@dataclass
class Repairs:
    fixes: list[str] = field(default_factory=list)
    attachments: list[Path] = field(default_factory=list)  # files written out of the PDF


def _fit(name: str, limit: int = 150) -> str:
    """At most ``limit`` UTF-8 bytes (file systems allow 255), keeping the extension."""
    stem, dot, ext = name.rpartition(".") if "." in name[1:] else (name, "", "")
    ext = f"{dot}{ext}"[:20]
    budget = limit - len(ext.encode())
    return stem.encode()[:budget].decode(errors="ignore") + ext


def _attachment_name(name: str, used: set[str]) -> str:
    name = unicodedata.normalize("NFC", name)  # macOS writes NFD; storage keys are NFC
    base = _fit(_SAFE_NAME.sub("_", Path(name.replace("\\", "/")).name).strip("._") or "attachment")
    candidate, n = base, 1
    while candidate in used:
        n += 1
        candidate = f"{n}-{_fit(base, 140)}"
    used.add(candidate)
    return candidate


def extract_attachments(pdf: pikepdf.Pdf, outdir: Path) -> tuple[list[Path], int]:
    """Write the embedded files out, then drop them (name tree and file-attachment annotations). Returns the
    files written and how many were left in the original only (broken, over the budget)."""
    written: list[Path] = []
    used: set[str] = set()
    budget = _Budget()
    outdir.mkdir(parents=True, exist_ok=True)
    for name, spec in pdf.attachments.items():
        if (path := _spec_file(spec.obj, name, outdir, used, budget)) is not None:
            written.append(path)
    names = pdf.Root.get("/Names")
    if isinstance(names, pikepdf.Dictionary) and "/EmbeddedFiles" in names:
        del names["/EmbeddedFiles"]
    for page in pdf.pages:
        annots = page.obj.get("/Annots")
        if isinstance(annots, pikepdf.Array):
            files = [a for a in annots if _is_file_annotation(a)]
            for annot in files:
                if (path := _spec_file(annot.get("/FS"), "attachment", outdir, used, budget)) is not None:
                    written.append(path)
            if files:
                page.obj.Annots = pikepdf.Array([a for a in annots if not _is_file_annotation(a)])
    if "/AF" in pdf.Root:
        del pdf.Root["/AF"]
    return written, budget.skipped


def _is_file_annotation(annot: object) -> bool:
    return isinstance(annot, pikepdf.Dictionary) and annot.get("/Subtype") == "/FileAttachment"


def _bounded_bytes(stream: pikepdf.Stream) -> bytes | None:
    """The decoded stream, or None beyond MAX_ATTACHMENT_BYTES: a Flate stream is inflated in bounded steps,
    so a compression bomb never reaches memory whole."""
    raw = stream.read_raw_bytes()
    filters = stream.get("/Filter")
    if filters is None:
        return raw if len(raw) <= MAX_ATTACHMENT_BYTES else None
    if filters in ("/FlateDecode", pikepdf.Array([pikepdf.Name.FlateDecode])) and "/DecodeParms" not in stream:
        inflate = zlib.decompressobj()
        try:
            data = inflate.decompress(raw, MAX_ATTACHMENT_BYTES + 1)
        except zlib.error:
            return None
        return data if len(data) <= MAX_ATTACHMENT_BYTES else None
    if len(raw) > MAX_ATTACHMENT_BYTES // 64:  # other filters: only small ones are decoded whole
        return None
    data = stream.read_bytes()
    return data if len(data) <= MAX_ATTACHMENT_BYTES else None


def _spec_file(spec: object, fallback: str, outdir: Path, used: set[str], budget: _Budget) -> Path | None:
    """Write the file a file specification embeds; None when it is missing, broken or too large (it then
    stays in the original only)."""
    embedded = spec.get("/EF") if isinstance(spec, pikepdf.Dictionary) else None
    stream = embedded.get("/UF", embedded.get("/F")) if isinstance(embedded, pikepdf.Dictionary) else None
    if not isinstance(stream, pikepdf.Stream) or stream.objgen in budget.seen:
        return None
    budget.seen.add(stream.objgen)
    try:
        data = _bounded_bytes(stream) if budget.files > 0 else None
    except pikepdf.PdfError:
        data = None
    if data is None or len(data) > budget.bytes:
        budget.skipped += 1
        return None
    budget.files, budget.bytes = budget.files - 1, budget.bytes - len(data)
    assert isinstance(spec, pikepdf.Dictionary)
    target = outdir / _attachment_name(str(spec.get("/UF", spec.get("/F", fallback))), used)
    target.write_bytes(data)
    return target


def flatten_form(pdf: pikepdf.Pdf) -> None:
    """Draw every field as it shows into its page, then remove the form (and XFA)."""
    form = pdf.Root.get("/AcroForm")
    if isinstance(form, pikepdf.Dictionary) and "/XFA" in form:
        del form["/XFA"]
    with contextlib.suppress(pikepdf.PdfError):  # a field without a usable appearance is dropped below
        pdf.generate_appearance_streams()
    pdf.flatten_annotations(mode="all")
    if "/AcroForm" in pdf.Root:
        del pdf.Root["/AcroForm"]
    if "/NeedsRendering" in pdf.Root:
        del pdf.Root["/NeedsRendering"]


def remove_actions(pdf: pikepdf.Pdf) -> int:
    """Keep only the actions PDF/A-2 allows (6.6.1: go-to, links, the four standard named page moves) on
    annotations, outline items and the catalog; drop additional actions and action chains. Returns how many."""
    removed = 0
    for obj in pdf.objects:
        if not isinstance(obj, pikepdf.Dictionary):
            continue
        if "/AA" in obj:
            del obj["/AA"]
            removed += 1
        action = obj.get("/A")
        if isinstance(action, pikepdf.Dictionary) and not _allowed_action(action):
            del obj["/A"]
            removed += 1
        elif isinstance(action, pikepdf.Dictionary) and "/Next" in action:
            del action["/Next"]
            removed += 1
    return removed


def _allowed_action(action: pikepdf.Dictionary) -> bool:
    kind = action.get("/S")
    if kind == "/Named":
        return action.get("/N") in _NAMED_ALLOWED
    return kind in _ALLOWED_ACTIONS


def _scale_page(pdf: pikepdf.Pdf, page: pikepdf.Page, factor: float) -> None:
    for box in BOXES:
        value = page.obj.get(box)
        if isinstance(value, pikepdf.Array):
            page.obj[box] = pikepdf.Array([float(v) * factor for v in value])
    page.contents_coalesce()
    page.contents_add(pdf.make_stream(f"q {factor:.6f} 0 0 {factor:.6f} 0 0 cm\n".encode()), prepend=True)
    page.contents_add(pdf.make_stream(b"\nQ\n"), prepend=False)
    annots = page.obj.get("/Annots")
    if isinstance(annots, pikepdf.Array):
        for annot in annots:
            rect = annot.get("/Rect") if isinstance(annot, pikepdf.Dictionary) else None
            if isinstance(rect, pikepdf.Array):
                annot.Rect = pikepdf.Array([float(v) * factor for v in rect])
    page.obj.UserUnit = float(page.obj.get("/UserUnit", 1)) / factor


def normalise_pages(pdf: pikepdf.Pdf, pages: list[int]) -> list[str]:
    notes = []
    for number in pages:
        page = pdf.pages[number - 1]
        box = [float(v) for v in page.mediabox]
        width, height = abs(box[2] - box[0]), abs(box[3] - box[1])
        if max(width, height) > MAX_PAGE_UNITS:
            factor = MAX_PAGE_UNITS / max(width, height)
            _scale_page(pdf, page, factor)
            notes.append(f"page {number}: {width:.0f}x{height:.0f} units scaled by {factor:.4f} with /UserUnit")
        elif min(width, height) < MIN_PAGE_UNITS:
            x0, y0 = min(box[0], box[2]), min(box[1], box[3])
            grown = [x0, y0, x0 + max(width, MIN_PAGE_UNITS), y0 + max(height, MIN_PAGE_UNITS)]
            for name in BOXES:
                if name in page.obj:
                    page.obj[name] = pikepdf.Array(grown)
            notes.append(f"page {number}: {width:g}x{height:g} units padded to the 3-unit minimum")
    return notes


def normal_appearances_only(pdf: pikepdf.Pdf) -> int:
    """PDF/A-2 (6.3.3) allows an annotation only its normal appearance (/N): drop rollover and down ones."""
    changed = 0
    for page in pdf.pages:
        for annot in page.obj.get("/Annots", pikepdf.Array()):
            ap = annot.get("/AP") if isinstance(annot, pikepdf.Dictionary) else None
            if isinstance(ap, pikepdf.Dictionary) and ("/D" in ap or "/R" in ap) and "/N" in ap:
                annot.AP = pikepdf.Dictionary(N=ap.N)
                changed += 1
    return changed


def repair(pdf: pikepdf.Pdf, features: PdfFeatures, attachments_dir: Path) -> Repairs:
    """Apply the repairs ``features`` call for, in place, on the working copy."""
    done = Repairs()
    if appearances := normal_appearances_only(pdf):
        done.fixes.append(f"kept only the normal appearance of {appearances} annotation(s)")
    if features.attachments:
        done.attachments, skipped = extract_attachments(pdf, attachments_dir)
        done.fixes.append(f"moved {len(done.attachments)} attachment(s) out of the PDF into the record")
        if skipped:
            done.fixes.append(f"{skipped} attachment(s) broken or over the size budget: kept in the original only")
    if features.form or features.xfa:
        flatten_form(pdf)
        done.fixes.append("flattened the form (fields drawn as shown; XFA removed)" if features.xfa
                          else "flattened the form (fields drawn as shown)")
    if removed := remove_actions(pdf):
        done.fixes.append(f"removed {removed} action(s) PDF/A forbids (JavaScript, launch, submit …)")
    if features.extreme_pages:
        done.fixes.extend(normalise_pages(pdf, features.extreme_pages))
    return done
