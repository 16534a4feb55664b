"""The Decree 30/2020/NĐ-CP visible agency signature: page 1, top right, seal image, agency name and
signing time in ISO 8601 with the Vietnam offset (+07:00).

The appearance is a pyHanko text stamp whose font is a subset of a real TrueType font embedded in
the file (PDF/A forbids non-embedded fonts), over the seal PNG (transparency kept as a soft mask,
allowed from PDF/A-2 on).
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from datetime import datetime
from pathlib import Path

import pikepdf
from PIL import Image
from pyhanko.pdf_utils import layout
from pyhanko.pdf_utils.font.opentype import GlyphAccumulatorFactory
from pyhanko.pdf_utils.images import PdfImage
from pyhanko.pdf_utils.text import TextBoxStyle
from pyhanko.sign import fields
from pyhanko.stamp import TextStampStyle

from pipeline.core.fonts import REGULAR_FONTS

from .model import SigningError, SignPolicy, StampNotPlaced

MIN_STAMP = 24.0  # pt: below this height or width the stamp's text cannot be laid out

FONT_CANDIDATES = REGULAR_FONTS  # pipeline.core.fonts: shared with the other drawn documents
SEAL_RED = (200, 16, 30, 255)


def stamp_font(policy: SignPolicy) -> Path:
    if policy.stamp_font is not None:
        if not Path(policy.stamp_font).is_file():
            raise SigningError(f"stamp font not found: {policy.stamp_font}")
        return Path(policy.stamp_font)
    for candidate in FONT_CANDIDATES:
        if Path(candidate).is_file():
            return Path(candidate)
    raise SigningError("no Vietnamese-capable TrueType font for the stamp (install fonts-dejavu-core)")


# The characters the stamp's font keeps (Latin with Vietnamese, combining marks, punctuation, currency): a stamp
# font cut to these and without its layout tables (kerning, mark placement: Vietnamese is drawn precomposed, NFC)
# is parsed at each signing in a fraction of the time. Measured: fontTools parsing the whole Noto Sans (512 KB, GPOS)
# took ~0.8 s of each document's 2.7 s of signing.
STAMP_CHARACTERS = frozenset([*range(0x20, 0x7F), *range(0xA0, 0x250), *range(0x300, 0x370), *range(0x1E00, 0x1F00),
                              *range(0x2000, 0x2070), *range(0x20A0, 0x20D0)])
_PREPARED: dict[tuple[str, int, int, bool], Path] = {}


def font_1000_upem(path: Path, cut: bool = False) -> Path:
    """``path`` itself if its design grid is 1000 units/em, else a rescaled copy (cached on disk and in this
    process). ``cut``: always a copy cut to :data:`STAMP_CHARACTERS`, without layout tables.

    pyHanko 0.38 writes glyph widths (/W) and TJ kerning in the font's own units, while PDF
    expects 1000 per em: a 2048-unit font such as DejaVu Sans would be drawn with doubled spacing.
    """
    stat = Path(path).stat()
    key = (str(path), stat.st_mtime_ns, stat.st_size, cut)
    if key not in _PREPARED:
        _PREPARED[key] = _prepared_font(Path(path), cut)
    return _PREPARED[key]


def _prepared_font(path: Path, cut: bool) -> Path:
    from fontTools import subset
    from fontTools.ttLib import TTFont
    from fontTools.ttLib.scaleUpem import scale_upem

    font = TTFont(str(path))
    if font["head"].unitsPerEm == 1000 and not cut:
        return path
    digest = hashlib.sha256(path.read_bytes()).hexdigest()[:16]
    cache = Path(tempfile.gettempdir()) / "archive-stamp-fonts"
    target = cache / f"{path.stem}-{digest}-1000upem{'-cut' if cut else ''}.ttf"
    if not target.is_file():
        cache.mkdir(parents=True, exist_ok=True)
        if cut:
            options = subset.Options()
            options.layout_features = []
            options.notdef_outline = True
            options.name_IDs = ["*"]
            options.name_languages = ["*"]
            cutter = subset.Subsetter(options)
            cutter.populate(unicodes=STAMP_CHARACTERS)
            cutter.subset(font)
        if font["head"].unitsPerEm != 1000:
            scale_upem(font, 1000)
        tmp = target.with_suffix(f".{os.getpid()}.tmp")
        font.save(str(tmp))
        os.replace(tmp, target)
    return target


def stamp_box(src: Path, policy: SignPolicy) -> tuple[int, int, int, int]:
    """The stamp rectangle on page 1: ``policy.stamp_box`` or the top-right corner of the crop box."""
    if policy.stamp_box is not None:
        return tuple(round(v) for v in policy.stamp_box)  # type: ignore[return-value]
    try:
        with pikepdf.open(src) as pdf:
            page = pdf.pages[0]
            box = [float(v) for v in (page.obj.get("/CropBox") or page.mediabox)]
            rotate = int(page.obj.get("/Rotate", 0)) % 360
    except (pikepdf.PdfError, IndexError) as exc:
        raise SigningError(f"cannot read page 1 of {src.name} to place the stamp") from exc
    if rotate:
        raise StampNotPlaced(f"page 1 is turned by /Rotate {rotate}: the visible stamp does not support rotated "
                             "first pages yet")
    x0, y0, x1, y1 = min(box[0], box[2]), min(box[1], box[3]), max(box[0], box[2]), max(box[1], box[3])
    right, top = x1 - policy.stamp_margin, y1 - policy.stamp_margin
    left, bottom = max(x0, right - policy.stamp_width), max(y0, top - policy.stamp_height)
    if right - left < MIN_STAMP or top - bottom < MIN_STAMP:
        raise StampNotPlaced(f"page 1 ({x1 - x0:.0f} × {y1 - y0:.0f} pt) is too small for the visible stamp")
    return round(left), round(bottom), round(right), round(top)


def stamp_template(policy: SignPolicy) -> str:
    lines = ["%(agency)s", "Thời gian ký:", "%(vn_time)s"]
    if policy.stamp_text:
        lines.append("%(extra)s")
    return "\n".join(lines)


def decree30_appearance(
    src: Path, policy: SignPolicy, signed_at: datetime
) -> tuple[TextStampStyle, fields.SigFieldSpec]:
    """Stamp style + field spec for the visible signature (``signed_at`` is shown by the caller's
    ``vn_time`` text parameter, identical to the CMS signing time)."""
    del signed_at  # the time is passed as a text parameter at signing time
    if not policy.agency_name:
        raise SigningError("the visible Decree 30 stamp needs the agency name (agency_name)")  # see signer
    seal = policy.seal_png
    if seal is not None and not Path(seal).is_file():
        raise SigningError(f"seal image not found: {seal}")
    box = stamp_box(src, policy)
    height = box[3] - box[1]
    shown = stamp_template(policy) + policy.agency_name + (policy.stamp_text or "")
    cut = all(ord(c) in STAMP_CHARACTERS for c in shown if c != "\n")  # else the whole font, for its glyphs
    font = GlyphAccumulatorFactory(str(font_1000_upem(stamp_font(policy), cut=cut)))
    if seal is None:
        raise SigningError("no agency seal configured (sign.seal_png): the Decree 30 stamp needs the seal image "
                           "(transparent PNG); `archive cert init-test` sets a TEST seal for trials")
    seal_image = Image.open(seal)
    style = TextStampStyle(
        stamp_text=stamp_template(policy),
        text_box_style=TextBoxStyle(font=font, font_size=8, leading=10, text_color=(0.6, 0.05, 0.1)),
        border_width=0,
        background=PdfImage(seal_image.convert("RGBA")),
        background_opacity=1.0,
        background_layout=layout.SimpleBoxLayoutRule(
            x_align=layout.AxisAlignment.ALIGN_MIN,
            y_align=layout.AxisAlignment.ALIGN_MID,
            margins=layout.Margins.uniform(2),
            inner_content_scaling=layout.InnerScaling.SHRINK_TO_FIT,
        ),
        inner_content_layout=layout.SimpleBoxLayoutRule(
            x_align=layout.AxisAlignment.ALIGN_MAX,
            y_align=layout.AxisAlignment.ALIGN_MID,
            margins=layout.Margins(left=height, right=2, top=2, bottom=2),
            inner_content_scaling=layout.InnerScaling.SHRINK_TO_FIT,
        ),
    )
    spec = fields.SigFieldSpec(sig_field_name=policy.field_name, on_page=0, box=box)
    return style, spec
