"""Scanned pages OCR'd by Tesseract one page per run and assembled by pikepdf: the short road for a document that
is only page images (every page one image drawn over the whole page, no text), which is what a scanner writes.

Why not OCRmyPDF for these: on the benchmark's pages (bench/pipeline.py) OCRmyPDF took 4.9× raw Tesseract's wall
time a page. It rasterises every page again, deskews at full resolution (1.5–2.3 CPU s a page) and asks for the
orientation of every page (0.5–1.3 s). Here:

- Tesseract reads the page's own image (a JPEG as stored; anything else decoded once into an uncompressed PNM) and
  writes hOCR. Pages run ``jobs`` at a time (one Tesseract each, one OpenMP thread).
- Skew is found on a small copy before OCR (:mod:`pipeline.ocr.skew`: Tesseract loses whole pages tilted clockwise
  by 2-3°) and Tesseract reads a levelled copy; the stored page keeps its pixels and its drawing is turned level by
  one ``cm``, under the text layer (which was read level): no stored pixel is resampled, the text sits on its words.
- Orientation is asked of Tesseract's OSD only for a page whose words came out poor (mean confidence under
  ``SUSPECT_CONFIDENCE``, or none): a page OSD finds turned is turned (pixels transposed, lossless) and OCR'd again,
  and kept turned only when its words are better.
- The invisible text layer is Tesseract's own text-only PDF page from the same run (its glyphless font, as
  OCRmyPDF's "sandwich" renderer used), laid over each page. OCRmyPDF's fpdf2 renderer cost 0.17 s a page more
  (text shaping in Python) and 0.3 s of imports.
- PDF/A-2b by ``pikepdf.pdfa`` (sRGB output intent, XMP); the caller validates it like every rendition and falls
  back to OCRmyPDF when anything here fails.
"""

from __future__ import annotations

import contextlib
import contextvars
import dataclasses
import io
import math
import time
from collections.abc import Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import cast

import img2pdf
import pikepdf
from PIL import Image

from pipeline.core.syllables import syllable_share
from pipeline.ocr.hocr import mean_word_confidence, words
from pipeline.ocr.images import MERGE_TIMEOUT_S
from pipeline.ocr.profiles import Encoded, encode_pixels, reencodable, reencode_images
from pipeline.ocr.runner import ROTATE_THRESHOLD
from pipeline.ocr.skew import level_copy
from pipeline.ocr.slots import Slot
from pipeline.ocr.types import OcrError
from pipeline.tools import qpdf, tesseract
from pipeline.tools.run import ToolError

SUSPECT_CONFIDENCE = 50.0  # below this mean word confidence a page's orientation is checked
SUSPECT_SYLLABLES = 0.5  # ... or below this share of Vietnamese syllables (a turned page reads as garbage)
_DRAWING = {"q", "Q", "cm", "Do"}
_TURN = {90: Image.Transpose.ROTATE_270, 180: Image.Transpose.ROTATE_180, 270: Image.Transpose.ROTATE_90}


@dataclass
class ScanPage:
    number: int  # 1-based
    image: Path  # the page's pixels as stored, and what Tesseract reads when level (maybe the input file itself:
    # never written beside)
    dpi: float
    work: Path  # the base name of what is written for this page, in the document's scratch folder
    hocr: Path | None = None
    layer: Path | None = None  # Tesseract's text-only PDF of the page
    confidence: float | None = None
    turned: int = 0  # degrees clockwise the pixels were turned to stand upright
    skew: float = 0.0  # degrees counter-clockwise the page's pixels are tilted (its drawing is turned back by as much)
    store_mode: str | None = None  # the mode of the page's image when the storage profile re-encodes it
    stored: tuple[Path, Encoded] | None = None  # its stored form, encoded beside OCR: (the data's file, the rest)


@dataclass
class _Reading:
    hocr: Path
    layer: Path
    tilt: float
    stored: tuple[Path, Encoded] | None


@dataclass
class Assembled:
    pages: list[ScanPage]
    notes: list[str] = field(default_factory=list)


def _only_image(page: pikepdf.Page) -> pikepdf.Object | None:
    """The page's image when the page draws exactly that one image over its whole MediaBox, at one resolution
    both ways (a 204 × 98 dpi fax page is not), and nothing else."""
    images = dict(page.get_images(recursive=False).items())
    if len(images) != 1 or "/Annots" in page.obj or int(page.obj.get("/Rotate", 0)) % 360:
        return None
    (name, image), = images.items()
    if not _plain_colour(image):
        return None
    matrices, drawn = [], []
    for instruction in pikepdf.parse_content_stream(page):
        operator = str(instruction.operator)
        if operator not in _DRAWING:
            return None
        if operator == "cm":
            matrices.append([float(v) for v in instruction.operands])
        elif operator == "Do":
            drawn.append(str(instruction.operands[0]))
    if drawn != [name] or len(matrices) != 1:
        return None
    a, b, c, d, e, f = matrices[0]
    x0, y0, x1, y1 = (float(v) for v in page.mediabox)
    fits = abs(b) < 1e-6 and abs(c) < 1e-6 and abs(a - (x1 - x0)) < 1 and abs(d - (y1 - y0)) < 1
    x_dpi, y_dpi = int(image.Width) * 72 / (x1 - x0), int(image.Height) * 72 / (y1 - y0)
    square = abs(x_dpi - y_dpi) <= 0.01 * x_dpi
    return image if fits and square and abs(e - x0) < 1 and abs(f - y0) < 1 else None


def _plain_colour(image: pikepdf.Object) -> bool:
    """Grey or RGB samples (device or ICC-based), or bilevel: what PDF/A takes under an sRGB output intent. CMYK,
    Lab, separations go to OCRmyPDF, whose Ghostscript converts them."""
    space = image.get("/ColorSpace")
    if space is None:
        return bool(image.get("/ImageMask", False))
    if isinstance(space, pikepdf.Name):
        return space in (pikepdf.Name.DeviceGray, pikepdf.Name.DeviceRGB)
    if isinstance(space, pikepdf.Array) and len(space) == 2 and space[0] == pikepdf.Name.ICCBased:
        return int(space[1].get("/N", 0)) in (1, 3)
    return False


def eligible(pdf_path: Path) -> bool:
    """True when every page of ``pdf_path`` is one image over the whole page (this module's road). A page this
    cannot make sense of (a broken content stream, odd operands) is not: OCRmyPDF's ladder and its checks decide."""
    try:
        with pikepdf.open(pdf_path) as pdf:
            return len(pdf.pages) > 0 and all(_only_image(page) is not None for page in pdf.pages)
    except (pikepdf.PdfError, ValueError, TypeError, KeyError, AttributeError, ZeroDivisionError):
        return False


def _page_image(image: pikepdf.Object, base: Path) -> Path:
    """The image where Tesseract can read it: a plain JPEG as stored, anything else decoded into a PNM."""
    pdf_image = pikepdf.PdfImage(cast(pikepdf.Stream, image))  # an image XObject is a stream
    if pdf_image.filters == ["/DCTDecode"] and pdf_image.mode in ("L", "RGB") and "/Decode" not in image:
        return Path(pdf_image.extract_to(fileprefix=str(base)))
    pixels = pdf_image.as_pil_image()
    if pixels.mode not in ("1", "L", "RGB"):
        pixels = pixels.convert("RGB")
    out = base.with_suffix(".pnm")
    pixels.save(out)
    return out


def _read(image: Path, work: Path, page: ScanPage, language: str, timeout: float, deskew: bool, profile: str
          ) -> _Reading:
    """The page image ``image`` read by Tesseract, level when ``deskew``; decoded once, and then also encoded as
    ``profile`` stores it, beside the OCR (on every core) rather than after it (one core, one document)."""
    read, tilt, stored = image, 0.0, None
    if deskew or page.store_mode:
        with Image.open(image) as opened:
            opened.load()
            if page.store_mode and opened.mode == page.store_mode:
                stored = _encoded(opened, profile, page.dpi, work.with_name(work.name + "-stored"))
            if deskew:
                pixels = opened if opened.mode in ("1", "L", "RGB") else opened.convert("RGB")
                level, tilt = level_copy(pixels, page.dpi, work.with_name(work.name + "-level"))
                read = level or image
    hocr, layer = tesseract.hocr(read, work, language, round(page.dpi), timeout)
    if read != image:
        read.unlink(missing_ok=True)
    return _Reading(hocr, layer, tilt, stored)


def _encoded(pixels: Image.Image, profile: str, dpi: float, out: Path) -> tuple[Path, Encoded] | None:
    """The pixels as ``profile`` stores them, their data in ``out`` (a 500-page scan would otherwise hold 120 MB
    of it in memory); None when they cannot be encoded (the page keeps its lossless image, as profiles says)."""
    try:
        encoded = encode_pixels(pixels, profile, dpi)
    except (OSError, ValueError):
        return None
    out.write_bytes(encoded.data)
    return out, dataclasses.replace(encoded, data=b"")


class _Spilled(Mapping[int, Encoded]):
    """Pages' stored images read from their files one at a time, as they are written into the PDF (all at once,
    a 500-page scan's would sit in memory twice over while pikepdf holds them too)."""

    def __init__(self, spilled: dict[int, tuple[Path, Encoded]]) -> None:
        self._spilled = spilled

    def __getitem__(self, number: int) -> Encoded:
        path, encoded = self._spilled[number]
        return dataclasses.replace(encoded, data=path.read_bytes())

    def __iter__(self) -> Iterator[int]:
        return iter(self._spilled)

    def __len__(self) -> int:
        return len(self._spilled)


def _ocr(page: ScanPage, language: str, timeout: float, rotate: bool, deskew: bool, profile: str) -> None:
    reading = _read(page.image, page.work, page, language, timeout, deskew, profile)
    page.hocr, page.layer, page.skew, page.stored = reading.hocr, reading.layer, reading.tilt, reading.stored
    page.confidence = mean_word_confidence(page.hocr)
    if rotate and _suspect(page, language):
        _try_turning(page, language, timeout, deskew, profile)


def _suspect(page: ScanPage, language: str) -> bool:
    """Whether the page's words came out poor enough that it may be turned: no words, a mean confidence under
    SUSPECT_CONFIDENCE, or (Vietnamese) under SUSPECT_SYLLABLES of them Vietnamese syllables. Tesseract reads an
    upside-down Vietnamese page at a mean confidence of 55 ("uạ|| uIx 2euI"): the syllables tell."""
    if page.confidence is None or page.confidence < SUSPECT_CONFIDENCE:
        return True
    if not language.startswith("vie") or page.hocr is None:
        return False
    share = syllable_share(" ".join(words(page.hocr)))
    return share is not None and share < SUSPECT_SYLLABLES


def _try_turning(page: ScanPage, language: str, timeout: float, deskew: bool, profile: str) -> None:
    turn, confidence = tesseract.orientation(page.image, round(page.dpi), timeout)
    if turn not in _TURN or confidence < ROTATE_THRESHOLD:  # the OSD confidence OCRmyPDF is given too
        return
    turned = page.work.with_name(page.work.name + "-turned.png")
    with Image.open(page.image) as pixels:
        pixels.transpose(_TURN[turn]).save(turned, compress_level=1)
    reading = _read(turned, page.work.with_name(page.work.name + "-turned"), page, language, timeout, deskew,
                    profile)
    better = mean_word_confidence(reading.hocr)
    if better is not None and (page.confidence is None or better > page.confidence):
        page.image, page.hocr, page.layer, page.confidence, page.turned = turned, reading.hocr, reading.layer, \
            better, turn
        page.skew, page.stored = reading.tilt, reading.stored


def _upright(page: ScanPage) -> pikepdf.Pdf:
    """A one-page PDF of the turned image at the page's resolution (kept open until the document is saved)."""
    dpi = (page.dpi, page.dpi)
    data = img2pdf.convert(str(page.image), layout_fun=img2pdf.get_fixed_dpi_layout_fun(dpi))
    return pikepdf.open(io.BytesIO(data))


def _deskew(pdf: pikepdf.Pdf, page: pikepdf.Page, degrees: float) -> None:
    """Turn everything the page draws by ``degrees`` (counter-clockwise) about the page's centre."""
    x0, y0, x1, y1 = (float(v) for v in page.mediabox)
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    t = math.radians(degrees)
    cos, sin = math.cos(t), math.sin(t)
    matrix = [cos, sin, -sin, cos, cx - cx * cos + cy * sin, cy - cx * sin - cy * cos]
    numbers = " ".join(f"{Decimal(v):.6f}".rstrip("0").rstrip(".") if v else "0" for v in matrix)
    page.contents_add(pikepdf.Stream(pdf, f"q {numbers} cm\n".encode()), prepend=True)
    page.contents_add(pikepdf.Stream(pdf, b"\nQ"))


def ocr_pages(source: Path, scratch: Path, language: str, jobs: int, timeout: float, *, rotate: bool,
              deskew: bool, files: list[Path | None] | None = None, slot_dir: Path | None = None,
              slots: int = 1, profile: str = "archival") -> list[ScanPage]:
    """Every page of ``source`` OCR'd, ``jobs`` pages at a time, or with ``slot_dir`` up to ``slots`` at a time
    and each holding a machine-wide slot (:mod:`pipeline.ocr.slots`). ``files`` may name, per page, the image file
    the page was made from (read by Tesseract as it is when its size matches; else taken out of the PDF). Each
    page's image is also encoded as the storage ``profile`` says, for :func:`assemble`."""
    pages = []
    with pikepdf.open(source) as pdf:
        for number, page in enumerate(pdf.pages, start=1):
            image = _only_image(page)
            if image is None:
                raise ValueError(f"page {number} is not a single page image")
            width = float(page.mediabox[2]) - float(page.mediabox[0])
            given = files[number - 1] if files and len(files) == len(pdf.pages) else None
            if given is None or _size(given) != (int(image.Width), int(image.Height)):
                given = _page_image(image, scratch / f"p{number:05d}")
            pages.append(ScanPage(number, given, int(image.Width) * 72.0 / width, scratch / f"ocr{number:05d}",
                                  store_mode=reencodable(image) if profile != "archival" else None))
    deadline = time.monotonic() + timeout  # for the whole document, as OCRmyPDF's run had

    def one(page: ScanPage) -> None:
        left = deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError
        with Slot(slot_dir, slots, page.number):
            _ocr(page, language, max(0.1, deadline - time.monotonic()), rotate, deskew, profile)

    at_once = min(len(pages), max(1, slots if slot_dir is not None else jobs))
    with ThreadPoolExecutor(max_workers=at_once) as pool:  # each thread in a copy of our context (TMPDIR)
        futures = [pool.submit(contextvars.copy_context().run, one, page) for page in pages]
        try:
            for future in futures:
                future.result()
        except (TimeoutError, ToolError) as exc:
            for future in futures:
                future.cancel()
            if isinstance(exc, TimeoutError) or "timed out" in str(exc):
                raise OcrError(f"OCR timed out after {timeout:g} s") from None
            raise
    if time.monotonic() > deadline:
        raise OcrError(f"OCR timed out after {timeout:g} s")
    return pages


def _size(path: Path) -> tuple[int, int] | None:
    try:
        with Image.open(path) as image:
            return image.size
    except (OSError, ValueError):
        return None


def assemble(source: Path, pages: list[ScanPage], out: Path, scratch: Path, profile: str, part: str) -> Assembled:
    """``source``'s pages (turned where OCR found them turned), their images stored as ``profile`` says, the text
    layer over each, deskewed, saved as PDF/A-``part``b to ``out``: one pikepdf session, one save."""
    from pikepdf.pdfa import PdfaError
    from pikepdf.pdfa import save as save_pdfa

    notes = []
    missing = [page.number for page in pages if page.layer is None]
    if missing:
        raise ValueError(f"page {missing[0]} was not OCR'd")
    layers = scratch / "text-layers.pdf"  # one file: a thousand open ones would exhaust the descriptors
    qpdf.merge([page.layer for page in pages if page.layer is not None], layers, timeout=MERGE_TIMEOUT_S)
    with contextlib.ExitStack() as opened:
        pdf = opened.enter_context(pikepdf.open(source))
        text = opened.enter_context(pikepdf.open(layers))
        for page in pages:
            if page.turned:
                upright = opened.enter_context(_upright(page))
                pdf.pages[page.number - 1] = upright.pages[0]
                notes.append(f"page {page.number}: turned {page.turned}° to stand upright (Tesseract OSD)")
        ready = _Spilled({page.number: page.stored for page in pages if page.stored is not None})
        stored = reencode_images(pdf, profile, range(1, len(pages) + 1), ready)  # before the drawing is turned
        for page in pages:
            target = pdf.pages[page.number - 1]
            if "/Thumb" in target.obj:  # a thumbnail the scanner drew: derived, and not checkable as PDF/A
                del target.obj["/Thumb"]
            if page.skew:  # the drawing turned level; then the text layer, read on the levelled copy, over it
                _deskew(pdf, target, -page.skew)
            target.add_overlay(text.pages[page.number - 1], pikepdf.Rectangle(*target.mediabox))
        try:
            save_pdfa(pdf, out, f"{part}b", output_intent="sRGB")
        except PdfaError as exc:  # e.g. a CMYK scan: the caller turns to OCRmyPDF (Ghostscript converts colour)
            out.unlink(missing_ok=True)
            raise OcrError(f"not PDF/A as assembled: {str(exc).splitlines()[0]}") from exc
    skewed = [f"{p.number} ({p.skew:+.1f}°)" for p in pages if p.skew]
    if skewed:
        notes.append(f"deskewed (the page drawing turned, pixels untouched): page {', '.join(skewed)}")
    return Assembled(pages, [*notes, *filter(None, [stored.note(True)])])
