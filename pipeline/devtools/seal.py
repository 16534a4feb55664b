"""A generated red TEST seal (transparent PNG) for the demo and the tests: never for a real record."""

from __future__ import annotations

import math
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

from pipeline.sign.stamp import FONT_CANDIDATES, SEAL_RED


def make_test_seal(path: Path, size: int = 480, font: Path | None = None) -> Path:
    """Draw a red round TEST seal (transparent PNG): two rings, a star, "MẪU / TEST" in the middle."""
    img = Image.new("RGBA", (size, size), (0, 0, 0, 0))
    draw = ImageDraw.Draw(img)
    c, r = size / 2, size / 2 - 4
    draw.ellipse((c - r, c - r, c + r, c + r), outline=SEAL_RED, width=max(6, size // 40))
    inner = r * 0.78
    draw.ellipse((c - inner, c - inner, c + inner, c + inner), outline=SEAL_RED, width=max(3, size // 90))
    star_r, points = inner * 0.32, []
    for i in range(10):
        angle = -math.pi / 2 + i * math.pi / 5
        radius = star_r if i % 2 == 0 else star_r * 0.42
        points.append((c + radius * math.cos(angle), c - inner * 0.3 + radius * math.sin(angle)))
    draw.polygon(points, fill=SEAL_RED)
    font_path = font or next((Path(p) for p in FONT_CANDIDATES if Path(p).is_file()), None)
    if font_path is not None:
        big = ImageFont.truetype(str(font_path), size // 9)
        small = ImageFont.truetype(str(font_path), size // 14)
        draw.text((c, c + inner * 0.22), "MẪU DẤU", font=small, fill=SEAL_RED, anchor="mm")
        draw.text((c, c + inner * 0.5), "TEST", font=big, fill=SEAL_RED, anchor="mm")
    path.parent.mkdir(parents=True, exist_ok=True)
    img.save(path)
    return path
