"""The one Vietnamese analyzer, used identically at index and query time.

Engines receive text that is already analyzed here (tokens joined by single spaces) and only split it on
whitespace, so index and query can never drift apart, whatever the engine.

- NFC, lowercase; every syllable is a token, 1-letter ones included; no stop list (Vietnamese function
  words such as "về", "và", "của" carry meaning in titles).
- An *exact* form (diacritics kept) and a *folded* form (NFD, combining marks dropped, đ→d): people type
  without diacritics and OCR drops or confuses tone marks ("vãn bản", "ƯBND").
- The folded form also joins the two correct spellings of a syllable whose vowel is i or y alone after
  h, k, l, m, qu, s, t, v (kí/ký, lí/lý, mĩ/mỹ, quí/quý, tỉ/tỷ, sĩ/sỹ, hi/hy, vi/vy): "chỉnh lí" finds
  "chỉnh lý". Only there: tai/tay, mai/may, tui/tuy are different words and stay apart.
- Document numbers such as ``07/CT-BTTTT`` or ``28/2018/QĐ-TTg`` are kept whole, by parts (``07``,
  ``ct-btttt``, ``ct``, ``btttt``) and by leading parts (``28/2018``, ``28/2018/qđ``), so a lookup by
  symbol, by number alone or by the number and year a citation gives works.
- In a number's folded form, a piece that is mostly digits has the letters OCR mistakes for digits read
  as those digits (``2O20`` → ``2020``, ``4S`` → ``45``), and Ð (eth, OCR's Đ) folds like Đ.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from itertools import pairwise

# A syllable, or a code joined by "/" or "-" (document numbers, "ND-CP", "2019-2025").
TOKEN_RE = re.compile(r"\w+(?:[/\-]\w+)*")
_JOINERS = re.compile(r"[/\-]")


def normalize(text: str) -> str:
    """NFC + lowercase: the exact form."""
    return unicodedata.normalize("NFC", text).lower()


# The i/y syllables (see the module's docstring): onset + a lone i or y; folded to the y spelling.
_IY_RE = re.compile(r"\b(qu|[hklmstv])[iy]\b", re.IGNORECASE)
_DIGIT_LOOKALIKES = str.maketrans({"o": "0", "l": "1", "i": "1", "s": "5", "b": "8", "z": "2", "g": "9"})


def _y(match: re.Match[str]) -> str:
    return match.group(1) + ("Y" if match.group(0)[-1].isupper() else "y")


def fold(text: str) -> str:
    """Remove diacritics (tone and vowel marks), map đ/ð→d and spell i/y syllables one way; NFC in and out."""
    decomposed = unicodedata.normalize("NFD", text)
    stripped = "".join(ch for ch in decomposed if unicodedata.category(ch) != "Mn")
    plain = stripped.translate(_D)
    return _IY_RE.sub(_y, unicodedata.normalize("NFC", plain))


_D = str.maketrans({"đ": "d", "Đ": "D", "ð": "d", "Ð": "D"})


def _digit_piece(piece: str) -> str:
    """A number's piece that is mostly digits, with OCR's letter-for-digit mistakes read as digits."""
    digits = sum(ch.isdigit() for ch in piece)
    if not digits or digits < len(piece) - digits:
        return piece
    repaired = piece.translate(_DIGIT_LOOKALIKES)
    return repaired if repaired.isdigit() else piece


@lru_cache(maxsize=262_144)
def fold_token(token: str) -> str:
    """``fold`` for one token, and in a token with digits, each piece repaired (:func:`_digit_piece`). Cached:
    a corpus has far fewer distinct tokens than tokens."""
    folded = fold(token)
    if not any(ch.isdigit() for ch in folded):
        return folded
    return "".join(_digit_piece(piece) for piece in _PIECES.split(folded))


_PIECES = re.compile(r"([/\-])")


@lru_cache(maxsize=65_536)
def key(value: str) -> str:
    """Filter key for metadata values (type, issuer, unit): case- and diacritic-insensitive."""
    return " ".join(fold(normalize(value)).split())


def is_code(token: str) -> bool:
    """A token joined by "/" or "-" is a document number or code."""
    return "/" in token or "-" in token  # what _JOINERS matches, without a regex (called for every word)


def code_parts(token: str) -> list[str]:
    """Parts of a code, without the whole: ``07/ct-btttt`` → ``07, ct-btttt, ct, btttt``."""
    parts: list[str] = []
    for piece in token.split("/"):
        if piece and piece != token:
            parts.append(piece)
        if "-" in piece:
            parts.extend(p for p in piece.split("-") if p)
    return list(dict.fromkeys(parts))  # each once, in order


def code_leads(token: str) -> list[str]:
    """The leading parts of a code that are neither a piece nor the whole: ``28/2018/qđ-ttg`` →
    ``28/2018, 28/2018/qđ``; ``07/ct-btttt`` → ``07/ct``. A citation "số 28/2018" finds the decision."""
    cuts = [m.start() for m in _JOINERS.finditer(token)][1:]
    return [token[:cut] for cut in cuts]


def numeric_lead(token: str, shortest: int = 3) -> str:
    """The leading digit pieces of a code ("45/2020" of ``45/2020/qđ-ubnd``): what a tolerant match of an
    OCR-damaged number keeps exactly (a wrong digit is another document). "" without a letter piece after
    them or when shorter than ``shortest`` ("07" is found in too many documents to anchor anything)."""
    pieces = _JOINERS.split(token)
    n = next((i for i, piece in enumerate(pieces) if not piece.isdigit()), len(pieces))
    lead = token[: sum(len(p) + 1 for p in pieces[:n]) - 1] if 0 < n < len(pieces) else ""
    return lead if len(lead) >= shortest else ""


def words(text: str) -> list[str]:
    """Normalized tokens as typed (codes whole, not expanded): the query side's unit."""
    return TOKEN_RE.findall(normalize(text))


def _code_tokens(code: str) -> list[str]:
    """What follows a code among the index tokens: its parts, then its leading parts."""
    return code_parts(code) + code_leads(code)


def tokens(text: str) -> list[str]:
    """Normalized index tokens: every word, and every code followed by its parts."""
    out: list[str] = []
    for tok in words(text):
        out.append(tok)
        if is_code(tok):
            out.extend(_code_tokens(tok))
    return out


PAIR_JOIN = "_"


def pairs(text: str) -> str:
    """Adjacent folded words joined ("van_ban ban_dien dien_tu"), space-separated: one term per pair, so a
    phrase is a few term lookups instead of a position check (issue 16: phrase p95 126 → 20 ms at 1M). A
    document number breaks the chain (its parts follow it in the positional fields)."""
    return analyze_with_pairs(text)[2]


def analyze(text: str) -> tuple[str, str]:
    """(exact, folded) token strings, space-joined, ready for a whitespace-splitting engine field."""
    exact, folded, _ = analyze_with_pairs(text)
    return exact, folded


def analyze_with_pairs(text: str) -> tuple[str, str, str]:
    """``analyze`` and ``pairs`` in one pass over the words (indexing speed: the words are folded by a C-level
    ``map`` over the cache, and only the rare codes are visited one by one)."""
    ws = words(text)
    fs = list(map(fold_token, ws))
    # is_code, inlined: a call per word cost 8% of this function on the benchmark corpus
    codes = [i for i, w in enumerate(ws) if "/" in w or "-" in w] if _JOINERS.search(text) else []
    if not codes:
        return " ".join(ws), " ".join(fs), " ".join(map(PAIR_JOIN.join, pairwise(fs)))
    exact: list[str] = []
    folded: list[str] = []
    joined: list[str] = []
    start = 0
    for i in [*codes, len(ws)]:  # a code's parts follow it, and it breaks the chain of pairs
        run = fs[start:i]
        exact.extend(ws[start:i])
        folded.extend(run)
        joined.extend(map(PAIR_JOIN.join, pairwise(run)))
        if i < len(ws):
            extra = _code_tokens(ws[i])
            exact.append(ws[i])
            exact.extend(extra)
            folded.append(fs[i])
            folded.extend(map(fold_token, extra))
        start = i + 1
    return " ".join(exact), " ".join(folded), " ".join(joined)


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
