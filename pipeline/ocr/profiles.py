"""Storage profiles: how the page images of a scanned document are stored (issue 15). OCR has already read the
full-quality scan when this runs; only the stored image changes. Content streams, the OCR text layer, fonts and
metadata are never touched, so the text layer of every profile is the archival one, byte for byte.

- ``archival``: nothing is re-encoded (the scan as OCRmyPDF wrote it: lossless Flate, or the input's own JPEG/G4).
- ``standard`` (the default): 8-bit grey and colour page images → JPEG (DCTDecode) at the highest quality of
  :data:`QUALITIES` that fits :data:`BUDGET_PER_MEGAPIXEL` (the lowest one if none does); 1-bit images → CCITT G4
  (lossless). Grey stays grey, colour stays colour (4:2:0 chroma), bitonal stays bitonal; resolution is kept.
- ``compact``: as standard, grey and colour images above 220 dpi first resampled to 200 dpi (the legal minimum of
  Circular 02/2019/TT-BNV; never below), so a page costs about 4/9 of standard. Bitonal images keep their pixels.

Only scanned pages are re-encoded (the caller names them: image pages a scanned or mixed document had no text on,
every page of page images); born-digital pages never are, and neither is an image another page also shows. Images
already stored lossy or as fax (DCT, JPX, JBIG2, CCITT) are left alone (no generation loss), as are masks, images
with a soft mask or a /Decode array, 16-bit and indexed images. A re-encoding is kept only if it is smaller.

Measured on this machine (6 A4 pages at 300 dpi, 2480 × 3496, rendered by pipeline.devtools.samples with paper
grain and speckle, tilted 0.4-3°, two faded; OCRmyPDF deskewed them; KB = 1024 bytes):
- archival (today): 3,758-4,563 KB per grey page (Flate), 10,540 KB for the colour one, 212 KB bitonal (Flate).
- JPEG quality against size on the grainy grey pages: q20 278 KB, q25 334, q30 392, q40 493, q50 595, q75 1,037 KB
  (faded pages about 40% less). So no fixed quality gives ≤ 300 KB on the unfaded pages but q≤20, while cleaner
  scans would afford far more: hence a byte budget per megapixel with the quality chosen per image (a bisection
  over 7 qualities, 3 encodes at 0.04-0.06 CPU s each).
- JPEG 2000 (Pillow/OpenJPEG 2.5.4, 9/7, rate 30:1) gives the same size (282 KB) with less blocking at 300 dpi
  (SSIM 0.848 against JPEG q20's 0.822) but the same at reading scale (SSIM at 150 dpi 0.905 against 0.910) and
  costs 1.1-1.4 CPU s per page against 0.05 s, which alone would nearly double raw Tesseract's time per page (the
  throughput target is 1.10× it). Rejected; so is OCRmyPDF's own optimizer (``-O2``/``-O3``: it turns Flate images
  into pngquant palettes, not JPEG): 2,948 / 2,508 KB per grey page for 5.8-6.9 CPU s.
- Legibility: Tesseract (``vie``) on the stored image against the known text, on 5 small-print A6 pages at a real
  300 dpi (6.5-8 pt, two faded, speckle up to 0.06): CER 1.36% on the lossless image; JPEG q20-q40 0.04%,
  200 dpi JPEG q40 0.09% (compressing away the grain and speckle helps Tesseract). Never worse than lossless.
- CCITT G4 for the bitonal page: 150 KB against Flate's 200 KB, pixel for pixel the same when rendered by poppler.
Figures per profile (KB/page, SSIM, CPU) are in the report of issue 15 and tests/ocr/test_profiles.py checks them.
"""

from __future__ import annotations

import io
import math
import os
from collections.abc import Collection
from dataclasses import dataclass, field
from pathlib import Path
from typing import get_args

import pikepdf
from PIL import Image

from pipeline.ocr.types import StorageProfile

PROFILES: tuple[str, ...] = get_args(StorageProfile)
# JPEG qualities tried (ascending). Below 20 the blocks show at 100% zoom; above 75 nothing visible improves.
QUALITIES = (15, 18, 20, 25, 30, 40, 50, 60, 75)
# At most this many bytes per megapixel for a JPEG page image: an A4 page at 300 dpi (8.7 MP) ≤ 277 KB, at 200 dpi
# (3.9 MP) ≤ 123 KB. The target is ≤ 300 KB per 300-dpi page on average.
BUDGET_PER_MEGAPIXEL = 32 * 1024
COMPACT_DPI = 200  # the legal minimum: compact never stores less
_RESAMPLE_ABOVE = 1.1  # resample only above 220 dpi: 200 → 200 would only blur
_KEPT_FILTERS = frozenset({"/DCTDecode", "/JPXDecode", "/JBIG2Decode", "/CCITTFaxDecode"})  # lossy or fax already
_GENERIC_FILTERS = frozenset({"/FlateDecode", "/RunLengthDecode", "/LZWDecode", "/ASCIIHexDecode", "/ASCII85Decode"})


@dataclass
class Stored:
    """What one profile did to one PDF (for the rendition's notes)."""

    profile: str
    jpeg: list[int] = field(default_factory=list)  # the quality chosen for each image stored as JPEG
    g4: int = 0
    resampled: int = 0
    before: int = 0  # bytes of the re-encoded images' streams, before and after
    after: int = 0

    def note(self) -> str:
        """One line: what was re-encoded and how, and the bytes saved; "" when nothing was."""
        parts = []
        if self.jpeg:
            low, high = min(self.jpeg), max(self.jpeg)
            quality = f"quality {low}" if low == high else f"quality {low}-{high}"
            parts.append(f"{len(self.jpeg)} as JPEG ({quality})")
        if self.g4:
            parts.append(f"{self.g4} as CCITT G4 (lossless)")
        if not parts:
            return ""
        if self.resampled:
            parts.append(f"{self.resampled} resampled to {COMPACT_DPI} dpi")
        return (f"storage profile {self.profile}: page images stored {', '.join(parts)}; "
                f"{_kb(self.before)} → {_kb(self.after)} (OCR read the full-quality scan)")


def _kb(size: int) -> str:
    return f"{round(size / 1024):,} KB"


def check_profile(profile: str) -> None:
    if profile not in PROFILES:
        raise ValueError(f"unknown storage profile {profile!r}; use {', '.join(PROFILES)}")


def store_page_images(pdf_path: Path, profile: str, pages: Collection[int]) -> Stored:
    """Re-encode in place the images of ``pages`` (1-based scanned pages of ``pdf_path``) as ``profile`` says."""
    check_profile(profile)
    stored = Stored(profile)
    if profile == "archival" or not pages:
        return stored
    temporary = pdf_path.with_name(pdf_path.name + ".stored")
    with pikepdf.open(pdf_path) as pdf:
        wanted = {n for n in pages if 1 <= n <= len(pdf.pages)}
        others = {_key(image) for n, page in enumerate(pdf.pages, start=1) if n not in wanted
                  for image in page.get_images().values()}
        done: set[tuple[int, int]] = set()
        for number in sorted(wanted):
            page = pdf.pages[number - 1]
            dpi = _placed_dpi(page) if profile == "compact" else {}
            for name, image in page.get_images().items():
                key = _key(image)
                if key in others or key in done:
                    continue
                done.add(key)
                _reencode(image, stored, dpi.get(str(name)))
        if not stored.jpeg and not stored.g4:
            return stored
        pdf.save(temporary)
    os.replace(temporary, pdf_path)
    return stored


def _key(image: pikepdf.Object) -> tuple[int, int]:
    return image.objgen if image.is_indirect else (id(image), -1)


def _filters(image: pikepdf.Object) -> list[str]:
    value = image.get("/Filter")
    if value is None:
        return []
    return [str(f) for f in value] if isinstance(value, pikepdf.Array) else [str(value)]


def _components(image: pikepdf.Object) -> int:
    """1 or 3 for the grey and RGB colour spaces handled here (Device or ICC-based); 0 for anything else."""
    space = image.get("/ColorSpace")
    if space == pikepdf.Name.DeviceGray:
        return 1
    if space == pikepdf.Name.DeviceRGB:
        return 3
    if isinstance(space, pikepdf.Array) and len(space) == 2 and space[0] == pikepdf.Name.ICCBased:
        components = int(space[1].get("/N", 0))
        return components if components in (1, 3) else 0
    return 0


def _pixels(image: pikepdf.Object) -> Image.Image | None:
    """The image as Pillow sees it ("L", "RGB" or "1"), or None when it is not one this module re-encodes."""
    if image.get("/ImageMask", False) or any(key in image for key in ("/SMask", "/Mask", "/Decode", "/SMaskInData")):
        return None
    filters = _filters(image)
    if any(f in _KEPT_FILTERS for f in filters) or not set(filters) <= _GENERIC_FILTERS:
        return None
    bits, components = int(image.get("/BitsPerComponent", 0)), _components(image)
    mode = {(8, 1): "L", (8, 3): "RGB", (1, 1): "1"}.get((bits, components))
    if mode is None:
        return None
    width, height = int(image.Width), int(image.Height)
    try:
        data = image.read_bytes()
    except pikepdf.PdfError:
        return None
    stride = (width + 7) // 8 if mode == "1" else width * components
    if len(data) < stride * height:
        return None
    return Image.frombytes(mode, (width, height), data[:stride * height])


def _reencode(image: pikepdf.Object, stored: Stored, dpi: float | None) -> None:
    """One image re-encoded in its stream, if this module handles it and the result is smaller. An image Pillow or
    libtiff cannot encode keeps its lossless data: a storage saving is never worth a lost page."""
    try:
        _encode(image, stored, dpi)
    except (OSError, ValueError, pikepdf.PdfError):
        return


def _encode(image: pikepdf.Object, stored: Stored, dpi: float | None) -> None:
    pixels = _pixels(image)
    if pixels is None:
        return
    before = len(image.read_raw_bytes())
    if pixels.mode == "1":
        data, parms = _g4(pixels)
        if len(data) >= before:
            return
        image.write(data, filter=pikepdf.Name.CCITTFaxDecode, decode_parms=parms)
        stored.g4 += 1
    else:
        resampled = False
        if dpi is not None and dpi > COMPACT_DPI * _RESAMPLE_ABOVE:
            scale = COMPACT_DPI / dpi
            size = (max(1, round(pixels.width * scale)), max(1, round(pixels.height * scale)))
            pixels, resampled = pixels.resize(size, Image.Resampling.LANCZOS), True
        data, quality = _jpeg(pixels)
        if len(data) >= before:
            return
        image.write(data, filter=pikepdf.Name.DCTDecode)
        if "/DecodeParms" in image:
            del image["/DecodeParms"]
        image.Width, image.Height = pixels.width, pixels.height
        stored.jpeg.append(quality)
        stored.resampled += resampled
    stored.before += before
    stored.after += len(data)


def _jpeg(pixels: Image.Image) -> tuple[bytes, int]:
    """The highest quality of :data:`QUALITIES` whose JPEG fits the budget (bisection), else the lowest."""
    budget = BUDGET_PER_MEGAPIXEL * pixels.width * pixels.height / 1e6
    encoded: dict[int, bytes] = {}

    def encode(quality: int) -> bytes:
        if quality not in encoded:
            out = io.BytesIO()
            pixels.save(out, "JPEG", quality=quality, optimize=True)  # 4:2:0 chroma for colour
            encoded[quality] = out.getvalue()
        return encoded[quality]

    low, high, best = 0, len(QUALITIES) - 1, QUALITIES[0]
    while low <= high:
        middle = (low + high) // 2
        if len(encode(QUALITIES[middle])) <= budget:
            best, low = QUALITIES[middle], middle + 1
        else:
            high = middle - 1
    return encode(best), best


def _g4(pixels: Image.Image) -> tuple[bytes, pikepdf.Dictionary]:
    """CCITT group 4 data of a 1-bit image (libtiff through Pillow, one strip) and its /DecodeParms."""
    out = io.BytesIO()
    pixels.save(out, "TIFF", compression="group4", strip_size=2**31 - 1)
    out.seek(0)
    with Image.open(out) as tiff:
        offsets, counts = tiff.tag_v2[273], tiff.tag_v2[279]
        photometric = tiff.tag_v2.get(262, 0)
    if len(offsets) != 1:
        raise ValueError("libtiff wrote the G4 image in more than one strip")
    data = out.getvalue()[offsets[0]:offsets[0] + counts[0]]
    # Pillow writes mode "1" as MinIsBlack (1 = white): the coded "black" runs are then the 1 bits.
    parms = pikepdf.Dictionary(K=-1, Columns=pixels.width, Rows=pixels.height, BlackIs1=photometric == 1)
    return data, parms


Matrix = tuple[float, float, float, float, float, float]


def _times(m: Matrix, n: Matrix) -> Matrix:
    """m × n (PDF row-vector convention: ``cm`` concatenates as CTM' = M × CTM)."""
    return (m[0] * n[0] + m[1] * n[2], m[0] * n[1] + m[1] * n[3],
            m[2] * n[0] + m[3] * n[2], m[2] * n[1] + m[3] * n[3],
            m[4] * n[0] + m[5] * n[2] + n[4], m[4] * n[1] + m[5] * n[3] + n[5])


def _placed_dpi(page: pikepdf.Page) -> dict[str, float]:
    """The resolution each image drawn by the page's own content stream is shown at (the lowest of its axes and
    placements). Images drawn only inside form XObjects are missing: compact keeps their resolution."""
    unit = float(page.obj.get("/UserUnit", 1))
    resources = page.obj.get("/Resources")
    xobjects = resources.get("/XObject") if isinstance(resources, pikepdf.Dictionary) else None
    sizes: dict[str, tuple[int, int]] = {}
    if isinstance(xobjects, pikepdf.Dictionary):
        for name, xobject in xobjects.items():
            if isinstance(xobject, pikepdf.Stream) and xobject.get("/Subtype") == pikepdf.Name.Image:
                sizes[str(name)] = (int(xobject.Width), int(xobject.Height))
    dpi: dict[str, float] = {}
    ctm: Matrix = (1, 0, 0, 1, 0, 0)
    stack: list[Matrix] = []
    try:
        instructions = pikepdf.parse_content_stream(page, "q Q cm Do")
    except pikepdf.PdfError:
        return {}
    for operands, operator in instructions:
        op = str(operator)
        if op == "q":
            stack.append(ctm)
        elif op == "Q":
            ctm = stack.pop() if stack else ctm
        elif op == "cm" and len(operands) == 6:
            ctm = _times(tuple(float(v) for v in operands), ctm)  # type: ignore[arg-type]
        elif op == "Do" and operands and str(operands[0]) in sizes:
            name = str(operands[0])
            width_in = math.hypot(ctm[0], ctm[1]) * unit / 72
            height_in = math.hypot(ctm[2], ctm[3]) * unit / 72
            if width_in <= 0 or height_in <= 0:
                continue
            pixels_w, pixels_h = sizes[name]
            shown = min(pixels_w / width_in, pixels_h / height_in)
            dpi[name] = min(dpi.get(name, shown), shown)
    return dpi
