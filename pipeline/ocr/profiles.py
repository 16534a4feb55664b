"""Storage profiles: how the page images of a scanned document are stored (issue 15). OCR has already read the
full-quality scan when this runs; only the stored image changes. Content streams, the OCR text layer, fonts and
metadata are never touched, so the text layer of every profile is the archival one, byte for byte.

- ``archival``: nothing is re-encoded (the scan as OCRmyPDF wrote it: lossless Flate, or the input's own JPEG/G4).
- ``standard`` (the default): 8-bit grey and colour images → JPEG (DCTDecode) within :data:`BUDGET` bytes per square
  inch of page (≤ 236 KB an A4 page): the highest quality from 75 down to 20 that fits; if even 20 does not, a lower
  resolution at quality 20 (never below 200 dpi), then quality 18 or 15. 1-bit images → CCITT G4 (lossless). Grey
  stays grey, colour stays colour (4:2:0 chroma), bitonal stays bitonal.
- ``compact``: grey and colour resampled to 200 dpi (above 220; the legal minimum of Circular 02/2019/TT-BNV),
  ≤ 123 KB an A4 page, then the quality down to 15. Bitonal as standard.

Only scanned pages are re-encoded (the caller names them: every page of page images, the pages a scanned or mixed
PDF had no text on); born-digital pages never are, nor an image another page also shows. Images already stored
lossy or as fax (DCT, JPX, JBIG2, CCITT) are left alone (no generation loss), as are masks, images with a soft mask
or a /Decode array, 16-bit and indexed ones. A re-encoding is kept only if it is smaller.

Measured (KB = 1024 bytes; SSIM against the lossless image, both seen at 150 dpi, a page on a screen, uniform 7 × 7
window; CPU of this module per page). The set: bench/_pages.py's 12 A4 pages (Vietnamese directives at 13 pt,
300 dpi, two at 200 dpi, tilted 1.5-3°, blurred, grained, speckled, four faded), deskewed by OCRmyPDF as configured:
- archival (today): 2,297-4,712 KB a page, mean 4,098 (Flate).
- standard: 228-252 KB a page, mean 242 (PDF/A with its text layer, unsigned): quality 20, at 218-232 dpi for the
  unfaded 300-dpi pages, 261-284 dpi for the faded ones, 200 dpi (kept) for the 200-dpi ones. SSIM 0.882-0.940, mean
  0.908. CPU 0.09-0.66 s, mean 0.44 (3.5% of the page's 12.4 CPU s in OCRmyPDF today).
- compact: 132-196 KB a page, mean 174 (quality 15 at 200 dpi: grainy pages miss the 123 KB budget at the floor).
  SSIM 0.843-0.917. CPU 0.15-0.36 s.
- 6 more A4 pages of pipeline.devtools.samples' renderer, without deskew (the scan's own grain: 4,486-5,428 KB
  lossless): standard 223-225 KB (quality 20 at 252 dpi, or 25 at 300 dpi), SSIM 0.841-0.926; compact 117-125 KB.
  The same page in colour with a red seal: standard 246 KB; bitonal: G4 171 KB of image against Flate's 195 KB,
  rendered by poppler pixel for pixel the same (JBIG2 would be smaller; jbig2enc is not installed).
- Why this budget: the issue's target is ≤ 300 KB a page of the signed archival copy, and signing adds 55 KB a
  document (PAdES B-LTA with the visible seal; B-B 13 KB), the text layer ~17 KB a page: 236 KB of image keeps a
  one-page document at ~300 KB.
- Why quality first, then resolution: on a grainy deskewed page quality 20 costs 353 KB, 15 300 KB (SSIM 0.880), 12
  255 KB (0.840), while 250 dpi at quality 20 costs 267 KB for 0.894; on an unresampled grainy page the two are
  even (272 dpi at 20: 0.852; 300 dpi at 15: 0.862). No fixed quality would do: q20 353 KB, q30 484, q50 701 KB on
  one page, while faded and cleaner scans afford far more.
- Rejected: JPEG 2000 (Pillow/OpenJPEG 2.5.4, 9/7 wavelet at the same bytes): as good as this at 150 dpi (0.894 at
  249 KB), better at 300 dpi, 1.1-1.4 CPU s a page; but pikepdf's PDF/A validator, the only one here (no veraPDF),
  answers "JPEG 2000 images are not supported", so no rendition with one could be checked (and PDF/A-1 forbids it).
  OCRmyPDF's own optimizer (``-O2``/``-O3``) turns Flate images into pngquant palettes, never JPEG: 2,948 / 2,508 KB
  a grey page for 5.8-6.9 CPU s.
- Legibility: Tesseract (``vie``) on the stored image against the known text, 5 small-print A6 pages at a real
  300 dpi (two faded, speckle up to 0.06): CER 1.36% on the lossless images, 0.06% standard, 0.30% compact; the
  test's A4 page 2.3% lossless, 0% standard. Dropping grain and speckle helps Tesseract: never worse.
Limits: the quality floor (15) wins over the budget (compact on grainy pages; a scan noisier than these would exceed
standard's too); colour has the same budget as grey, so a little less resolution or quality (4:2:0 chroma costs
~7%); re-encoded images stay in memory until the PDF is saved (~0.3 MB a page).
"""

from __future__ import annotations

import io
import math
import os
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import get_args

import pikepdf
from PIL import Image, TiffImagePlugin

from pipeline.ocr.types import StorageProfile

PROFILES: tuple[str, ...] = get_args(StorageProfile)
# JPEG qualities tried (ascending). Down to GOOD_QUALITY the resolution is kept; below it a lower resolution at
# GOOD_QUALITY looks better for the same bytes (measured), down to MIN_DPI; only then the quality goes to 15 (SSIM
# falls fast below it). 75 is the usual "visually lossless" setting.
QUALITIES = (15, 18, 20, 25, 30, 40, 50, 60, 75)
GOOD_QUALITY = 20
MIN_DPI = 200  # Circular 02/2019/TT-BNV: no stored page image below it
# Bytes of JPEG per square inch of page: standard ≤ 236 KB for an A4 page (96.7 in²), whatever its resolution;
# compact ≤ 123 KB. (The target: ≤ 300 KB a 300-dpi page of the signed copy, text layer included.)
BUDGET = {"standard": 2_500, "compact": 1_300}
STORED_DPI = {"compact": 200}  # compact resamples above 220 dpi to this first; standard starts at the scan's own
_RESAMPLE_ABOVE = 1.1  # 210 → 200 dpi would only blur
_ASSUMED_DPI = 300.0  # an image whose placement is unknown (drawn inside a form XObject) is costed as 300 dpi
_KEPT_FILTERS = frozenset({"/DCTDecode", "/JPXDecode", "/JBIG2Decode", "/CCITTFaxDecode"})  # lossy or fax already
_GENERIC_FILTERS = frozenset({"/FlateDecode", "/RunLengthDecode", "/LZWDecode", "/ASCIIHexDecode", "/ASCII85Decode"})


@dataclass
class Stored:
    """What one profile did to one PDF (for the rendition's notes)."""

    profile: str
    jpeg: list[int] = field(default_factory=list)  # the quality chosen for each image stored as JPEG
    resampled: list[int] = field(default_factory=list)  # the resolution of each image stored at a lower one
    g4: int = 0
    before: int = 0  # bytes of the re-encoded images' streams, before and after
    after: int = 0

    def note(self, ocr: bool = False) -> str:
        """One line: what was re-encoded and how, and the bytes saved; "" when nothing was. ``ocr``: the pages were
        OCR'd (on the full-quality scan, before this)."""
        parts = []
        if self.jpeg:
            parts.append(f"{len(self.jpeg)} as JPEG (quality {_span(self.jpeg)})")
        if self.resampled:
            parts.append(f"{len(self.resampled)} of them resampled to {_span(self.resampled)} dpi")
        if self.g4:
            parts.append(f"{self.g4} as CCITT G4 (lossless)")
        if not parts:
            return ""
        return (f"storage profile {self.profile}: page images stored {', '.join(parts)}; "
                f"{_kb(self.before)} → {_kb(self.after)}" + (" (OCR read the full-quality scan)" if ocr else ""))


def _span(values: list[int]) -> str:
    return f"{min(values)}" if min(values) == max(values) else f"{min(values)}-{max(values)}"


def _kb(size: int) -> str:
    return f"{round(size / 1024):,} KB"


def check_profile(profile: str) -> None:
    if profile not in PROFILES:
        raise ValueError(f"unknown storage profile {profile!r}; use {', '.join(PROFILES)}")


def store_page_images(pdf_path: Path, profile: str, pages: Collection[int]) -> Stored:
    """Re-encode in place the images of ``pages`` (1-based scanned pages of ``pdf_path``) as ``profile`` says."""
    check_profile(profile)
    if profile == "archival" or not pages:
        return Stored(profile)
    temporary = pdf_path.with_name(pdf_path.name + ".stored")
    with pikepdf.open(pdf_path) as pdf:
        stored = reencode_images(pdf, profile, pages)
        if not stored.jpeg and not stored.g4:
            return stored
        pdf.save(temporary)
    os.replace(temporary, pdf_path)
    return stored


def reencode_images(pdf: pikepdf.Pdf, profile: str, pages: Collection[int],
                    ready: Mapping[int, Encoded] | None = None) -> Stored:
    """:func:`store_page_images` on an open PDF (saved by the caller). ``ready``: pages whose only image was already
    encoded from the same pixels (the scanned road does it beside OCR, from the pixels it read)."""
    check_profile(profile)
    stored = Stored(profile)
    if profile == "archival" or not pages:
        return stored
    wanted = {n for n in pages if 1 <= n <= len(pdf.pages)}
    others = {image.objgen for n, page in enumerate(pdf.pages, start=1) if n not in wanted
              for image in page.get_images().values()}
    done: set[tuple[int, int]] = set()
    for number in sorted(wanted):
        page = pdf.pages[number - 1]
        dpi = _placed_dpi(page)
        for image in page.get_images().values():
            if image.objgen in others or image.objgen in done:
                continue
            done.add(image.objgen)
            made = ready.get(number) if ready and len(page.get_images()) == 1 else None
            if made is not None and made.mode == reencodable(image) and made.source == (image.Width, image.Height):
                put_encoded(image, made, stored)
            else:
                _reencode(image, stored, profile, dpi.get(image.objgen))
    return stored


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


def reencodable(image: pikepdf.Object) -> str | None:
    """The Pillow mode ("L", "RGB" or "1") of an image this module re-encodes, from its dictionary alone; None for
    one it leaves alone (a mask, lossy or fax already, 16-bit, indexed, …)."""
    if image.get("/ImageMask", False) or any(key in image for key in ("/SMask", "/Mask", "/Decode", "/SMaskInData")):
        return None
    filters = _filters(image)
    if any(f in _KEPT_FILTERS for f in filters) or not set(filters) <= _GENERIC_FILTERS:
        return None
    bits, components = int(image.get("/BitsPerComponent", 0)), _components(image)
    return {(8, 1): "L", (8, 3): "RGB", (1, 1): "1"}.get((bits, components))


def _pixels(image: pikepdf.Object) -> Image.Image | None:
    """The image as Pillow sees it ("L", "RGB" or "1"), or None when it is not one this module re-encodes."""
    mode = reencodable(image)
    if mode is None:
        return None
    components = 3 if mode == "RGB" else 1
    width, height = int(image.Width), int(image.Height)
    try:
        data = image.read_bytes()
    except pikepdf.PdfError:
        return None
    stride = (width + 7) // 8 if mode == "1" else width * components
    if len(data) < stride * height:
        return None
    return Image.frombytes(mode, (width, height), data[:stride * height])


def _reencode(image: pikepdf.Object, stored: Stored, profile: str, dpi: float | None) -> None:
    """One image re-encoded in its stream, if this module handles it and the result is smaller. An image Pillow or
    libtiff cannot encode keeps its lossless data: a storage saving is never worth a lost page."""
    try:
        _encode(image, stored, profile, dpi)
    except (OSError, ValueError, pikepdf.PdfError):
        return


def _encode(image: pikepdf.Object, stored: Stored, profile: str, dpi: float | None) -> None:
    pixels = _pixels(image)
    if pixels is not None:
        put_encoded(image, encode_pixels(pixels, profile, dpi), stored)


@dataclass(frozen=True)
class Encoded:
    """An image as a profile stores it: JPEG (``quality``) or CCITT G4 (``g4_parms``), maybe resampled; ``mode``
    and ``source`` (width, height) are those of the pixels it was made from."""

    data: bytes
    mode: str
    source: tuple[int, int]
    width: int
    height: int
    quality: int | None = None
    resampled_dpi: float | None = None
    g4_parms: pikepdf.Dictionary | None = None


def encode_pixels(pixels: Image.Image, profile: str, dpi: float | None) -> Encoded:
    """``pixels`` ("L", "RGB" or "1") as ``profile`` stores them (not archival), shown at ``dpi`` (None: unknown)."""
    if pixels.mode == "1":  # bitonal: G4 keeps every pixel, whatever the profile
        data, parms = _g4(pixels)
        return Encoded(data, "1", pixels.size, pixels.width, pixels.height, g4_parms=parms)
    shown = dpi or _ASSUMED_DPI
    budget = BUDGET[profile] * (pixels.width / shown) * (pixels.height / shown)
    target = STORED_DPI.get(profile) if dpi is not None else None
    small, data, quality, stored_dpi = _jpeg_within(pixels, budget, dpi, target)
    return Encoded(data, pixels.mode, pixels.size, small.width, small.height, quality, stored_dpi)


def put_encoded(image: pikepdf.Object, encoded: Encoded, stored: Stored) -> None:
    """``encoded`` written into ``image``'s stream when it is smaller than what the stream holds."""
    before = len(image.read_raw_bytes())
    if len(encoded.data) >= before:
        return
    if encoded.g4_parms is not None:
        image.write(encoded.data, filter=pikepdf.Name.CCITTFaxDecode, decode_parms=encoded.g4_parms)
        stored.g4 += 1
    else:
        image.write(encoded.data, filter=pikepdf.Name.DCTDecode)
        if "/DecodeParms" in image:
            del image["/DecodeParms"]
        image.Width, image.Height = encoded.width, encoded.height
        stored.jpeg.append(encoded.quality or 0)
        if encoded.resampled_dpi is not None:
            stored.resampled.append(round(encoded.resampled_dpi))
    stored.before += before
    stored.after += len(encoded.data)


def _resampled(pixels: Image.Image, dpi: float, to_dpi: float) -> Image.Image:
    scale = to_dpi / dpi
    size = (max(1, round(pixels.width * scale)), max(1, round(pixels.height * scale)))
    return pixels.resize(size, Image.Resampling.LANCZOS)


def _jpeg_within(pixels: Image.Image, budget: float, dpi: float | None, target: float | None
                 ) -> tuple[Image.Image, bytes, int, float | None]:
    """The stored image, its JPEG, its quality and its resolution if resampled (else None): at ``target`` dpi if
    the scan is finer (compact), the highest quality ≥ GOOD_QUALITY within ``budget``; if none fits, a lower
    resolution at that quality (standard, down to MIN_DPI; the placement ``dpi`` must be known); then the quality
    down to the lowest."""
    current, now = pixels, dpi
    if target is not None and dpi is not None and dpi > target * _RESAMPLE_ABOVE:
        current, now = _resampled(pixels, dpi, target), target
    data, quality = _jpeg(current, budget, GOOD_QUALITY)
    for _ in range(3):  # JPEG bytes fall a little slower than the pixel count: at most 3 steps, mostly 1
        if len(data) <= budget or now is None or dpi is None or now <= MIN_DPI * 1.02:
            break
        now = max(MIN_DPI, now * math.sqrt(budget / len(data)) * 0.97)
        current = _resampled(pixels, dpi, now)
        # Sized for GOOD_QUALITY: a higher one would not fit (each trial it took cost an encoding of the page).
        data, quality = _jpeg(current, budget, GOOD_QUALITY, top=GOOD_QUALITY)
    if len(data) > budget:
        data, quality = _jpeg(current, budget, QUALITIES[0])
    return current, data, quality, (now if current is not pixels else None)


def _jpeg(pixels: Image.Image, budget: float, floor: int, top: int = QUALITIES[-1]) -> tuple[bytes, int]:
    """The highest quality of :data:`QUALITIES` from ``floor`` to ``top`` whose JPEG fits ``budget`` bytes
    (bisection), else ``floor``. The trials are encoded without optimised Huffman tables and the kept one with
    them: measured on a 300-dpi A4 grey page, 0.026 s against 0.112 s an encoding, 7% larger, so a trial that
    fits means the kept JPEG fits (a quality that fits only once optimised is passed over)."""
    qualities = [q for q in QUALITIES if floor <= q <= top]
    sizes: dict[int, int] = {}

    def encode(quality: int, optimize: bool = False) -> bytes:
        out = io.BytesIO()
        pixels.save(out, "JPEG", quality=quality, optimize=optimize)  # 4:2:0 chroma for colour
        return out.getvalue()

    def size(quality: int) -> int:
        if quality not in sizes:
            sizes[quality] = len(encode(quality))
        return sizes[quality]

    low, high, best = 0, len(qualities) - 1, qualities[0]
    while low <= high:
        middle = (low + high) // 2
        if size(qualities[middle]) <= budget:
            best, low = qualities[middle], middle + 1
        else:
            high = middle - 1
    return encode(best, optimize=True), best


def _g4(pixels: Image.Image) -> tuple[bytes, pikepdf.Dictionary]:
    """CCITT group 4 data of a 1-bit image (libtiff through Pillow, one strip) and its /DecodeParms."""
    out = io.BytesIO()
    pixels.save(out, "TIFF", compression="group4", strip_size=2**31 - 1)
    out.seek(0)
    with Image.open(out) as tiff:
        assert isinstance(tiff, TiffImagePlugin.TiffImageFile)
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


def _placed_dpi(page: pikepdf.Page) -> dict[tuple[int, int], float]:
    """The resolution each image drawn by the page's own content stream is shown at (the lowest of its axes and
    placements), by image object. Images drawn only inside form XObjects are missing: compact keeps their
    resolution."""
    unit = float(page.obj.get("/UserUnit", 1))
    resources = page.obj.get("/Resources")
    xobjects = resources.get("/XObject") if isinstance(resources, pikepdf.Dictionary) else None
    images: dict[str, pikepdf.Object] = {}
    if isinstance(xobjects, pikepdf.Dictionary):
        for name, xobject in xobjects.items():
            if isinstance(xobject, pikepdf.Stream) and xobject.get("/Subtype") == pikepdf.Name.Image:
                images[str(name)] = xobject
    dpi: dict[tuple[int, int], float] = {}
    ctm: Matrix = (1, 0, 0, 1, 0, 0)
    stack: list[Matrix] = []
    try:
        instructions = pikepdf.parse_content_stream(page, "q Q cm Do")
    except pikepdf.PdfError:
        return {}
    for instruction in instructions:
        operands, operator = instruction.operands, instruction.operator
        op = str(operator)
        if op == "q":
            stack.append(ctm)
        elif op == "Q":
            ctm = stack.pop() if stack else ctm
        elif op == "cm" and len(operands) == 6:
            ctm = _times(tuple(float(v) for v in operands), ctm)  # type: ignore[arg-type]
        elif op == "Do" and operands and str(operands[0]) in images:
            image = images[str(operands[0])]
            width_in = math.hypot(ctm[0], ctm[1]) * unit / 72
            height_in = math.hypot(ctm[2], ctm[3]) * unit / 72
            if width_in <= 0 or height_in <= 0:
                continue
            shown = min(int(image.Width) / width_in, int(image.Height) / height_in)
            dpi[image.objgen] = min(dpi.get(image.objgen, shown), shown)
    return dpi
