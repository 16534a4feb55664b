"""Snippets and best page, computed from page texts (not from the index's stored fields).

Keeping full text out of the engine's stored fields keeps the index small; the text comes from a page
store under the index directory or from archive storage. Matching uses the same analyzer as the index,
so a folded query marks every spelling, and near matches (fuzzy mode) are marked as well.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from itertools import pairwise

from search.analysis import TOKEN_RE, code_parts, edit_distance, fold_token, fuzzy_distance, is_code, numeric_lead
from search.query import CODE_DAMAGE, Plan

WINDOW = 28  # tokens in a snippet
MARK_OPEN, MARK_CLOSE = "<b>", "</b>"


@dataclass
class _Tok:
    start: int
    end: int
    word: int | None  # index of the matched query word, or None
    exact: bool


def _matcher(plan: Plan):
    qwords = plan.all_words()
    folded = [w.folded for w in qwords]
    index = {f: i for i, f in reversed(list(enumerate(folded)))}

    memo: dict[str, tuple[int | None, bool]] = {}

    def match(token: str) -> tuple[int | None, bool]:
        found = memo.get(token)
        if found is None:
            found = memo[token] = _match(token)
        return found

    def _match(token: str) -> tuple[int | None, bool]:
        low = token.lower()
        f = fold_token(low)
        if f in index:
            i = index[f]
            return i, qwords[i].exact == low
        if is_code(f):
            for part in code_parts(f):
                if part in index:
                    return index[part], False
            for i, q in enumerate(folded):  # a cited number damaged by OCR, as the query matched it
                lead = numeric_lead(q) if qwords[i].code else ""
                if lead and f.startswith(lead) and edit_distance(f, q, CODE_DAMAGE) <= CODE_DAMAGE:
                    return i, False
        for i, q in enumerate(folded):
            d = fuzzy_distance(q) if qwords[i].fuzzy else 0
            if d and not q.isdigit() and edit_distance(f, q, d) <= d:
                return i, False
        return None, False

    return match


def _tokens(text: str, match) -> list[_Tok]:
    out = []
    for m in TOKEN_RE.finditer(text):
        word, exact = match(m.group())
        out.append(_Tok(m.start(), m.end(), word, exact))
    return out


def _score(toks: list[_Tok]) -> float:
    hits = [t for t in toks if t.word is not None]
    distinct = len({t.word for t in hits})
    adjacent = sum(1 for a, b in pairwise(toks) if a.word is not None and b.word == a.word + 1)
    return 10 * distinct + 3 * adjacent + sum(1 for t in hits if t.exact) + 0.1 * len(hits)


def _best_window(toks: list[_Tok]) -> tuple[int, int]:
    if len(toks) <= WINDOW:
        return 0, len(toks)
    best, best_at = -1.0, 0
    for i in range(0, len(toks) - WINDOW + 1):
        if toks[i].word is None and i and toks[i - 1].word is None:
            continue  # windows worth scoring start at or right after a match
        s = _score(toks[i : i + WINDOW])
        if s > best:
            best, best_at = s, i
    start = max(0, best_at - 3)  # a little left context
    return start, min(len(toks), start + WINDOW)


def _render(text: str, toks: list[_Tok], lo: int, hi: int) -> str:
    if not toks:
        return html.escape(text[:200])
    start = toks[lo].start if lo else 0
    end = toks[hi - 1].end if hi < len(toks) else len(text)
    parts = ["…" if start > 0 else ""]
    pos = start
    for t in toks[lo:hi]:
        if t.word is None:
            continue
        parts.append(html.escape(text[pos : t.start]))
        parts.append(MARK_OPEN + html.escape(text[t.start : t.end]) + MARK_CLOSE)
        pos = t.end
    parts.append(html.escape(text[pos:end]))
    if end < len(text.rstrip()):  # more text follows
        parts.append("…")
    return " ".join("".join(parts).split())


def snippet(pages: list[str], plan: Plan) -> tuple[int | None, str]:
    """(1-based page of the best match or None, snippet with matches in <b>…</b>, HTML-escaped).

    Words of the plan flagged fuzzy also mark their near spellings.
    """
    match = _matcher(plan)
    best: tuple[float, int, list[_Tok]] | None = None
    for no, text in enumerate(pages, 1):
        toks = _tokens(text, match)
        s = _score(toks)
        if s > 0 and (best is None or s > best[0]):
            best = (s, no, toks)
    if best is None:
        first = pages[0] if pages else ""
        toks = _tokens(first, lambda _t: (None, False))
        return None, _render(first, toks, 0, min(len(toks), WINDOW))
    _, no, toks = best
    lo, hi = _best_window(toks)
    return no, _render(pages[no - 1], toks, lo, hi)
