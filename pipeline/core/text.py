"""Text normalisation shared by every stage: Unicode NFC everywhere, and a diacritic fold for matching."""

from __future__ import annotations

import unicodedata


def nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


HIDDEN_CATEGORIES = ("Cc", "Cf", "Cs")  # control, format (bidi overrides, zero-width) and surrogate characters


def has_hidden_characters(text: str, allowed: str = "") -> bool:
    """Whether ``text`` holds characters a reader does not see as written (except those in ``allowed``): a bidi
    override shows another text than the one stored, in a file name or a record."""
    return any(unicodedata.category(c) in HIDDEN_CATEGORIES and c not in allowed for c in text)


def fold(text: str) -> str:
    """Lowercase without diacritics (đ→d): 'Tối mật' → 'toi mat'. For matching names, never for storage."""
    decomposed = unicodedata.normalize("NFD", text.strip().lower()).replace("đ", "d")
    return "".join(c for c in decomposed if unicodedata.category(c) != "Mn")
