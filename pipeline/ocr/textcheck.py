"""No lost words: a rendition is accepted only when every word of the original's text is still in it.

Words (each occurrence) are compared after NFKC (ligatures ``ﬁ`` → ``fi``) and case folding, and looked up in
the rendition's text with all whitespace removed, so a rewrite that only changed spacing or line breaks passes
while one that dropped or garbled a word (Ghostscript 10.0.0 can lose a font's Unicode mapping) fails.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter

_WORD = re.compile(r"\w+", re.UNICODE)


def _fold(text: str) -> str:
    return unicodedata.normalize("NFKC", text).casefold()


def lost_words(original: list[str], rendition: list[str], limit: int = 10) -> list[str]:
    """Words of ``original`` (page texts) missing from ``rendition`` on the same page; [] = nothing lost.
    A page count that differs is itself a loss (reported as ``page N``)."""
    missing: list[str] = []
    if len(original) != len(rendition):
        return [f"page count {len(original)} -> {len(rendition)}"]
    for number, (before, after) in enumerate(zip(original, rendition, strict=True), start=1):
        have = Counter(_WORD.findall(_fold(after)))
        haystack = "".join(_fold(after).split())
        # Every occurrence counts: a word the original has n times must be in the rendition n times, as a
        # word or, where the rewrite only moved spaces, inside the whitespace-free text (so a dropped
        # "không" (not) fails even when the page has another "không").
        for word, count in Counter(_WORD.findall(_fold(before))).items():
            if have[word] < count and haystack.count(word) < count:
                missing.append(f"page {number}: {word}")
                if len(missing) >= limit:
                    return missing
    return missing
    return missing
