"""The one Vietnamese analyzer, used identically at index and query time.

Engines receive text that is already analyzed here (tokens joined by single spaces) and only split it on
whitespace, so index and query can never drift apart, whatever the engine.

- NFC, lowercase; every syllable is a token, 1-letter ones included; no stop list (Vietnamese function
  words such as "về", "và", "của" carry meaning in titles).
- An *exact* form (diacritics kept) and a *folded* form (NFD, combining marks dropped, đ→d): people type
  without diacritics and OCR drops or confuses tone marks ("vãn bản", "ƯBND").
- Document numbers such as ``07/CT-BTTTT`` or ``28/2018/QĐ-TTg`` are kept whole *and* by parts
  (``07``, ``ct-btttt``, ``ct``, ``btttt``), so a lookup by symbol or by number alone works.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

# A syllable, or a code joined by "/" or "-" (document numbers, "ND-CP", "2019-2025").
TOKEN_RE = re.compile(r"\w+(?:[/\-]\w+)*")
_JOINERS = re.compile(r"[/\-]")


def normalize(text: str) -> str:
    """NFC + lowercase: the exact form."""
    return unicodedata.normalize("NFC", text).lower()


def fold(text: str) -> str:
    """Remove diacritics (tone and vowel marks) and map đ→d; input and output NFC."""
    decomposed = unicodedata.normalize("NFD", text)
    stripped = "".join(ch for ch in decomposed if unicodedata.category(ch) != "Mn")
    return unicodedata.normalize("NFC", stripped.replace("đ", "d").replace("Đ", "D"))


@lru_cache(maxsize=262_144)
def fold_token(token: str) -> str:
    """``fold`` for one token, cached: a corpus has far fewer distinct tokens than tokens."""
    return fold(token)


def key(value: str) -> str:
    """Filter key for metadata values (type, issuer, unit): case- and diacritic-insensitive."""
    return " ".join(fold(normalize(value)).split())


def is_code(token: str) -> bool:
    """A token joined by "/" or "-" is a document number or code."""
    return bool(_JOINERS.search(token))


def code_parts(token: str) -> list[str]:
    """Parts of a code, without the whole: ``07/ct-btttt`` → ``07, ct-btttt, ct, btttt``."""
    parts: list[str] = []
    for piece in token.split("/"):
        if piece and piece != token:
            parts.append(piece)
        if "-" in piece:
            parts.extend(p for p in piece.split("-") if p)
    seen: set[str] = set()
    return [p for p in parts if not (p in seen or seen.add(p))]


def words(text: str) -> list[str]:
    """Normalized tokens as typed (codes whole, not expanded): the query side's unit."""
    return TOKEN_RE.findall(normalize(text))


def tokens(text: str) -> list[str]:
    """Normalized index tokens: every word, and every code followed by its parts."""
    out: list[str] = []
    for tok in words(text):
        out.append(tok)
        if is_code(tok):
            out.extend(code_parts(tok))
    return out


def analyze(text: str) -> tuple[str, str]:
    """(exact, folded) token strings, space-joined, ready for a whitespace-splitting engine field."""
    toks = tokens(text)
    return " ".join(toks), " ".join(fold_token(t) for t in toks)


def fuzzy_distance(term: str) -> int:
    """Edit distance allowed for an OCR-damaged term, by length (short terms would match everything)."""
    n = len(term)
    if n <= 2:
        return 0
    if n <= 5:
        return 1
    return 2


def edit_distance(a: str, b: str, limit: int = 3) -> int:
    """Damerau-Levenshtein (adjacent transpositions), stopping early above ``limit``."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    prev2: list[int] = []
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i] + [0] * len(b)
        for j, cb in enumerate(b, 1):
            cost = 0 if ca == cb else 1
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost)
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                cur[j] = min(cur[j], prev2[j - 2] + 1)
        if min(cur) > limit:
            return limit + 1
        prev2, prev = prev, cur
    return prev[-1]
