"""Character error rate of OCR text against the text known to be on the page: for tests and benchmarks.

The edit distance runs one numpy row at a time (the insertions along a row are a running minimum), so a full A4
page (2,500 characters) takes ~20 ms instead of ~4 s of pure Python."""

from __future__ import annotations

import re
import unicodedata

import numpy as np


def normalise(text: str) -> str:
    """NFC and single spaces: layout (line breaks) is not what OCR quality is about."""
    return re.sub(r"\s+", " ", unicodedata.normalize("NFC", text)).strip()


def levenshtein(a: str, b: str) -> int:
    """Insertions, deletions and substitutions turning ``a`` into ``b``."""
    if not a or not b:
        return len(a) + len(b)
    target = np.array([ord(c) for c in b], dtype=np.int64)
    steps = np.arange(len(b) + 1, dtype=np.int64)
    previous = steps.copy()
    for i, char in enumerate(a, start=1):
        # deletion (previous[j] + 1) or substitution (previous[j - 1] + cost), then insertions left to right:
        # current[j] = min over k <= j of best[k] + (j - k)
        best = np.empty_like(previous)
        best[0] = i
        best[1:] = np.minimum(previous[1:] + 1, previous[:-1] + (target != ord(char)))
        previous = np.minimum.accumulate(best - steps) + steps
    return int(previous[-1])


def cer(got: str, expected: str) -> float:
    """Character error rate of ``got`` against ``expected`` (edit distance / expected length), both normalised."""
    g, e = normalise(got), normalise(expected)
    return levenshtein(g, e) / max(1, len(e))
