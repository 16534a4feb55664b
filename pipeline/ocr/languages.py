"""Manifest language values → Tesseract language codes.

Archivists write ``vi``, ``vi-VN``, ``vie`` or ``Tiếng Việt``; Tesseract only knows its own codes
(``vie``, ``eng``). Unknown values pass through unchanged so Tesseract's own check reports them.
"""

from __future__ import annotations

import re
import unicodedata

_ALIASES = {
    "vi": "vie",
    "vi-vn": "vie",
    "vi_vn": "vie",
    "vie": "vie",
    "vietnamese": "vie",
    "tiếng việt": "vie",
    "tieng viet": "vie",
    "en": "eng",
    "en-us": "eng",
    "en-gb": "eng",
    "eng": "eng",
    "english": "eng",
    "tiếng anh": "eng",
    "tieng anh": "eng",
}


def tesseract_languages(language: str, default: str = "vie") -> str:
    """``"vi, en"`` → ``"vie+eng"``; empty → ``default``. Order is kept (put ``vie`` first)."""
    parts = [p.strip() for p in re.split(r"[+,;/]", unicodedata.normalize("NFC", language)) if p.strip()]
    codes: list[str] = []
    for part in parts:
        code = _ALIASES.get(part.lower(), part)
        if code not in codes:
            codes.append(code)
    return "+".join(codes) or default
