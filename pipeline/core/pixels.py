"""Page pixels measured the same way everywhere: the ink of a page (:func:`ink`, on a thumbnail), the full scale of
deep samples (:func:`sample_range`) and an 8-bit view of any image (:func:`to_eight_bit`).

Shared by intake (blank pages dropped, separator codes read: :mod:`pipeline.scan`) and the OCR stage (renditions
checked page by page: :mod:`pipeline.ocr.pagecheck`), so a page intake keeps is never one the page check calls
blank for a different reason.

Ink is the share of thumbnail pixels that differ from the page's background (the median of each colour channel)
by more than :data:`DEVIATION` in some channel: paper grain and scanner noise average out in a thumbnail, text and
lines do not, a white-on-black page counts like a black-on-white one, and colours of equal grey (red on green)
still differ. (Measured on the real-world corpus: a greyscale measure saw a four-colour page as blank.)
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import cast

import numpy as np
from PIL import Image

from pipeline.core.limits import MULTI_PAGE_IMAGE_FORMATS

THUMB = 400  # pixels on the longer side of the thumbnail ink is measured on
DEVIATION = 0.2  # how far from the background (0..1) a thumbnail pixel must be to count as ink
DIRECT_MODES = {"1", "L", "RGB"}  # 8-bit (or bilevel) modes used as they are
_BAND = 1024  # rows converted at a time: a 150-megapixel 16-bit page never exists twice in memory as floats


def ink(pixels: np.ndarray) -> float:
    """Share of pixels of a thumbnail (height × width × channels, or height × width; values 0..1) that stand out
    from its background."""
    if pixels.size == 0:
        return 0.0
    layers = pixels.reshape(pixels.shape[0], pixels.shape[1], -1)
    background = np.median(layers.reshape(-1, layers.shape[2]), axis=0)
    outstanding = (np.abs(layers - background) > DEVIATION).any(axis=2)
    return float(np.count_nonzero(outstanding)) / outstanding.size


def thumb_size(size: tuple[int, int]) -> tuple[int, int]:
    scale = min(1.0, THUMB / max(size))
    return max(1, round(size[0] * scale)), max(1, round(size[1] * scale))


def sample_range(mode: str, top: float) -> float:
    """The full scale of a frame's samples from its largest value: 1 for float samples in 0..1, else the smallest
    of 8, 12 (scanners' 12-bit data in 16-bit files) or 16 bits that holds it."""
    if mode == "F" and top <= 1.0:
        return 1.0
    return next((float(full) for full in (255, 4095, 65535) if top <= full), max(top, 1.0))


def frame_pixels(frame: Image.Image) -> np.ndarray:
    """A frame of any mode as a thumbnail, values 0..1 (grey or RGB), transparency on white, 16-bit and float
    samples scaled from their own range (not clipped at 255 as a plain 8-bit conversion does)."""
    mode = frame.mode
    if mode == "1" or (mode == "P" and "transparency" not in frame.info):
        frame = frame.convert("RGB" if mode == "P" else "L")
    elif mode in ("RGBA", "LA", "PA", "P", "RGBa", "La") or "transparency" in frame.info:
        rgba = frame.convert("RGBA")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        frame = Image.alpha_composite(white, rgba).convert("RGB")
    small = frame.resize(thumb_size(frame.size), Image.Resampling.BOX)
    if mode.startswith("I;16") or mode in ("I", "F"):
        values = np.asarray(small, dtype=np.float64)
        return np.clip(values / sample_range(mode, float(values.max(initial=0.0))), 0.0, 1.0)
    if small.mode not in ("L", "RGB"):
        small = small.convert("RGB")  # CMYK, YCbCr, LAB …
    return np.asarray(small, dtype=np.float64) / 255.0


def to_eight_bit(image: Image.Image) -> tuple[Image.Image, str]:
    """An ``L``, ``RGB`` or ``1`` image showing what ``image`` shows (samples scaled, never clipped), and what was
    done ("" for nothing)."""
    mode = image.mode
    if mode in DIRECT_MODES and "transparency" not in image.info:
        return image, ""
    if mode.startswith("I;16") or mode in ("I", "F"):
        _, high = cast(tuple[float, float], image.getextrema())  # one band: (low, high)
        scale = 255.0 / sample_range(mode, float(high))
        out = np.empty((image.height, image.width), dtype=np.uint8)
        for top in range(0, image.height, _BAND):
            band = np.asarray(image.crop((0, top, image.width, min(image.height, top + _BAND))), dtype=np.float32)
            out[top:top + band.shape[0]] = np.clip(band * scale + 0.5, 0, 255).astype(np.uint8)
        bits = {1.0: "float", 255.0: "8-bit", 4095.0: "12-bit", 65535.0: "16-bit"}.get(255.0 / scale, "wide")
        return Image.fromarray(out, "L"), f"{mode} image ({bits} values) converted to 8-bit L"
    if mode in ("RGBA", "LA", "PA", "P", "RGBa", "La") or "transparency" in image.info:
        rgba = image.convert("RGBA")
        flat = Image.new("RGB", image.size, "white")
        flat.paste(rgba, mask=rgba.getchannel("A"))
        return flat, f"flattened {mode} image onto white (8-bit RGB)"
    return image.convert("RGB"), f"{mode} image converted to 8-bit RGB"  # CMYK, YCbCr, LAB, HSV …


@dataclass
class Frame:
    path: Path
    index: int  # 0-based frame of the file
    count: int  # frames of the file that are pages
    image: Image.Image  # valid until the next frame is asked for


def image_frames(paths: list[Path], *, load: bool = True) -> Iterator[Frame]:
    """Every page of page images in order: all frames of a TIFF, the first of anything else (an animation's frames
    or an MPO photo's preview are not pages). ``load=False`` reads headers only (size, resolution)."""
    for path in paths:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(path) as image:
                frames = getattr(image, "n_frames", 1) if image.format in MULTI_PAGE_IMAGE_FORMATS else 1
                for index in range(frames):
                    image.seek(index)
                    if load:
                        image.load()
                    yield Frame(path, index, frames, image)
