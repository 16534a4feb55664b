"""Text normalisation shared by every stage: Unicode NFC everywhere, and a diacritic fold for matching."""

from __future__ import annotations

import unicodedata


def nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


def fold(text: str) -> str:
    """Lowercase without diacritics (đ→d): 'Tối mật' → 'toi mat'. For matching names, never for storage."""
    decomposed = unicodedata.normalize("NFD", text.strip().lower()).replace("đ", "d")
    return "".join(c for c in decomposed if unicodedata.category(c) != "Mn")
