"""A scanned page's tilt, found on a small copy before OCR, and the copy Tesseract reads, turned level.

Why before OCR: Tesseract 5.3's layout analysis loses a page tilted clockwise by 2-3° (measured on the benchmark's
pages, ``bench/_pages.py``: no word at all on a clean page turned -3°, 37.6% character error rate over the 12 pages,
every clockwise one failing). Reading the tilt from the hOCR's baselines after OCR, as this road first did, cannot
mend a page that gave no lines. Level first, the same 12 pages read at 0.17% (target ≤ 0.75%).

How: the page's dark pixels (Otsu's threshold) on a copy of about 100 dpi, and the angle whose horizontal projection
is sharpest (sum of squared row counts), coarse then fine: ±0.05° of the truth on those pages, 0.04 s. The full page
is turned for Tesseract with bilinear sampling, measured against the others (CER on the 12 benchmark pages / on 18
sample pages turned -3°, +2°, -1.5° at 200 and 300 dpi; Tesseract CPU s a benchmark page; turning s): nearest
0.64% / 0.77%, 2.39 s, 0.02 s; bilinear 0.17% / 0.14%, 2.84 s, 0.11 s; bicubic 0.47% / 0.55%, 2.52 s, 0.25 s; not
levelled 37.6% / 0.79%. Nearest costs less but sits at the target and read a short clockwise page at 3% CER; bilinear
reads best everywhere, at about 0.5 CPU s a page more than nearest. Only Tesseract reads the levelled copy: the
stored image keeps its pixels, and the page's drawing is turned instead (pagewise._deskew).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

MIN_SKEW_DEG, MAX_SKEW_DEG = 0.1, 10.0  # smaller is left alone; larger is not a tilt but a layout
MIN_GAIN = 1.1  # the best angle's sharpness over the level one's, below which the page is taken as level
MIN_DARK_PIXELS = 500  # fewer on the small copy (a blank page, a few marks): nothing to measure
SMALL_DPI = 100
_COARSE, _FINE = 0.25, 0.02  # degrees


def _dark(grey: np.ndarray) -> np.ndarray:
    """Pixels darker than Otsu's threshold (the ink, on a page lighter than its ink)."""
    counts = np.bincount(grey.ravel(), minlength=256).astype(np.float64)
    share = counts / counts.sum()
    below, mean_below = np.cumsum(share), np.cumsum(share * np.arange(256))
    with np.errstate(divide="ignore", invalid="ignore"):
        between = (mean_below[-1] * below - mean_below) ** 2 / (below * (1 - below))
    return grey <= int(np.nanargmax(np.nan_to_num(between, nan=-1.0)))


def tilt(pixels: Image.Image, dpi: float) -> float:
    """Degrees counter-clockwise the page's text lines are turned (``pixels.rotate(-tilt)`` levels them), 0.0 when
    the page is level, too empty to tell, or tilted beyond MAX_SKEW_DEG (a layout, not a tilt)."""
    factor = max(1, round(dpi / SMALL_DPI))
    grey = pixels.convert("L") if pixels.mode == "1" else pixels
    small = (grey.reduce(factor) if factor > 1 else grey).convert("L")
    ys, xs = np.nonzero(_dark(np.asarray(small, dtype=np.uint8)))
    if len(ys) < MIN_DARK_PIXELS:
        return 0.0
    rows, cols = ys.astype(np.float64), xs.astype(np.float64) - small.width / 2

    def sharpness(degrees: float) -> float:
        t = np.radians(degrees)  # a line turned counter-clockwise rises to the right: y falls as x grows
        at = np.round(rows * np.cos(t) + cols * np.sin(t)).astype(np.int64)
        counts = np.bincount(at - at.min()).astype(np.float64)
        return float(counts @ counts)

    coarse = np.arange(-MAX_SKEW_DEG, MAX_SKEW_DEG + _COARSE / 2, _COARSE)
    best = float(coarse[int(np.argmax([sharpness(d) for d in coarse]))])
    fine = np.arange(best - _COARSE, best + _COARSE + _FINE / 2, _FINE)
    scores = [sharpness(d) for d in fine]
    angle = float(fine[int(np.argmax(scores))])
    if max(scores) < MIN_GAIN * sharpness(0.0) or not MIN_SKEW_DEG <= abs(angle) <= MAX_SKEW_DEG:
        return 0.0
    return round(angle, 2)


def level_copy(pixels: Image.Image, dpi: float, out_base: Path) -> tuple[Path | None, float]:
    """(a levelled copy for Tesseract, the page's tilt) of a page's ``pixels`` ("1", "L" or "RGB"): (None, 0.0)
    when it is level, else the copy written to ``out_base``.pnm (uncompressed: Tesseract reads it undecoded)."""
    degrees = tilt(pixels, dpi)
    if not degrees:
        return None, 0.0
    white = (255, 255, 255) if pixels.mode == "RGB" else 255
    out = out_base.with_suffix(".pnm")
    pixels.rotate(-degrees, resample=Image.Resampling.BILINEAR, fillcolor=white).save(out)
    return out, degrees
