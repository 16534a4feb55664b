"""Find a TrueType font that covers Vietnamese (ă â đ ê ô ơ ư and the five tone marks).

Debian ships DejaVu (fonts-dejavu-core) and Noto (fonts-noto-core) in different places depending on
the package version, so we try known paths first and then ask fontconfig.
"""

from __future__ import annotations

import shutil
import subprocess
from functools import cache
from pathlib import Path

_CANDIDATES = (
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/TTF/DejaVuSans.ttf",
    "/usr/share/fonts/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/truetype/noto/NotoSans-Regular.ttf",
    "/usr/share/fonts/noto/NotoSans-Regular.ttf",
    "/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf",
)


@cache
def vietnamese_font() -> Path:
    """Path of a Vietnamese-capable TTF; raises FileNotFoundError with an install hint."""
    for candidate in _CANDIDATES:
        if Path(candidate).is_file():
            return Path(candidate)
    if shutil.which("fc-match"):
        out = subprocess.run(
            ["fc-match", "-f", "%{file}", "sans-serif:lang=vi"], capture_output=True, text=True, check=False
        ).stdout.strip()
        if out.lower().endswith(".ttf") and Path(out).is_file():
            return Path(out)
    raise FileNotFoundError("no Vietnamese-capable TrueType font found; install fonts-dejavu-core or fonts-noto-core")
