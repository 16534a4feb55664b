"""Shared helpers for the OCR tests: character error rate against the known source text."""

from __future__ import annotations

import re
import unicodedata


def normalise(text: str) -> str:
    """NFC and single spaces: layout (line breaks) is not what OCR quality is about."""
    return re.sub(r"\s+", " ", unicodedata.normalize("NFC", text)).strip()


def levenshtein(a: str, b: str) -> int:
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, start=1):
        current = [i]
        for j, cb in enumerate(b, start=1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb)))
        previous = current
    return previous[-1]


def cer(got: str, expected: str) -> float:
    """Character error rate of ``got`` against ``expected`` (edit distance / expected length)."""
    g, e = normalise(got), normalise(expected)
    return levenshtein(g, e) / max(1, len(e))
