"""No lost words: a rendition is accepted only when every word of the original's text is still in it.

Words (each occurrence) are compared after NFKC (ligatures ``ﬁ`` → ``fi``) and case folding, and looked up in
the rendition's text with all whitespace removed, so a rewrite that only changed spacing or line breaks passes
while one that dropped or garbled a word (Ghostscript 10.0.0 can lose a font's Unicode mapping) fails.
"""

from __future__ import annotations

import re
import unicodedata

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
        haystack = "".join(_fold(after).split())
        # Every occurrence counts, longest words first, each match used up: a dropped "không" (not) or a
        # changed amount fails even when the same word or digits appear elsewhere on the page.
        for word in sorted(_WORD.findall(_fold(before)), key=len, reverse=True):
            if word in haystack:
                haystack = haystack.replace(word, "\0", 1)
            else:
                missing.append(f"page {number}: {word}")
                if len(missing) >= limit:
                    return missing
    return missing
