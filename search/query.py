"""Query planning: user text → an engine-neutral query tree.

Engines only translate these few node types (term, fuzzy, phrase, prefix, range, boolean), so a further
backend (e.g. OpenSearch) needs no knowledge of Vietnamese or of ranking rules. Ranking rules live here:

- every word must match (in the selected fields), folded; the exact spelling adds score, so a query with
  diacritics ranks documents with exactly those diacritics first;
- consecutive words score as a phrase, near words as a sloppy phrase (proximity), and each pair of words
  typed together scores when found together ("quế thanh … Hội An" before "Quế Sơn … thanh tra … Hội An");
- a document number matches whole, by parts or by a leading part, and the whole number in the number field
  ranks first; a cited number OCR damaged in its letters ("45/2020/QĐ-U8ND") still matches at a low score,
  its leading digits kept exactly (:func:`~search.analysis.numeric_lead`);
- fuzzy mode (OCR tolerance) adds edit-distance variants of each folded word.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from itertools import pairwise

from search.analysis import (
    PAIR_JOIN,
    code_parts,
    fold_token,
    fuzzy_distance,
    is_code,
    key,
    normalize,
    numeric_lead,
    words,
)
from search.model import FIELDS


# ---- engine-neutral query tree -----------------------------------------------------------------
@dataclass
class Term:
    field: str
    value: str
    boost: float = 1.0


@dataclass
class Fuzzy:
    field: str
    value: str
    distance: int
    boost: float = 1.0


@dataclass
class Phrase:
    field: str
    words: list[str]
    slop: int = 0  # number of gaps allowed between the words (0 = consecutive)
    boost: float = 1.0


@dataclass
class Prefix:
    field: str
    value: str


@dataclass
class Range:
    field: str  # integer field
    lo: int | None = None
    hi: int | None = None


@dataclass
class Bool:
    must: list[Node] = field(default_factory=list)
    should: list[Node] = field(default_factory=list)  # optional when must/filter exist, else ≥ 1
    must_not: list[Node] = field(default_factory=list)
    filter: list[Node] = field(default_factory=list)  # must match, adds no score
    boost: float = 1.0


@dataclass
class MatchAll:
    pass


Node = Term | Fuzzy | Phrase | Prefix | Range | Bool | MatchAll

# ---- field names shared by all engines ---------------------------------------------------------
# text fields (whitespace-split, positions): *_e exact, *_f folded
TEXT_FIELDS = ("title_e", "title_f", "content_e", "content_f", "number_f")
PAIR_FIELDS = {"title": "title_p", "content": "content_p"}  # word pairs, no positions (search.analysis.pairs)
FACET_FIELDS = {name: f"fc_{name}" for name in ("doc_type", "issuer", "unit", "origin", "year", "signed")}
KEY_FIELDS = {name: f"k_{name}" for name in ("doc_type", "issuer", "unit", "origin", "signed")}

# Boosts: the whole document number first, then title, then body; exact spelling adds to folded.
B_NUMBER_WHOLE = 12.0
B_NUMBER_PART = 4.0
B_TITLE_F = 2.5
B_TITLE_E = 1.5
B_CONTENT_F = 1.0
B_CONTENT_E = 1.2
B_PHRASE_TITLE = 3.0
B_PHRASE_CONTENT = 2.0
B_NEAR = 1.0
B_PAIR = 1.0
B_ALL_EXACT = 3.0  # every word typed with diacritics found spelled so
NEAR_SLOP = 3
B_FUZZY = 0.3
B_LOOSE = 0.5  # a word typed with diacritics found only without them (another word, or OCR damage)
CODE_DAMAGE = 1  # edits allowed in a cited number anchored by its leading digits


@dataclass
class Word:
    exact: str
    folded: str
    code: bool = False
    fuzzy: bool = False  # found nothing as typed: also match near spellings (OCR damage)
    optional: bool = False  # "số" before a number ("Quyết định số 45/2020"): the decision need not say it

    @property
    def marked(self) -> bool:
        return self.exact != self.folded


@dataclass
class Plan:
    """What the user asked for, analyzed: free words and quoted phrases."""

    words: list[Word]
    phrases: list[list[Word]]

    @property
    def empty(self) -> bool:
        return not self.words and not self.phrases

    def all_words(self) -> list[Word]:
        return self.words + [w for p in self.phrases for w in p]


def _word(tok: str) -> Word:
    return Word(tok, fold_token(tok), is_code(tok))


def with_fuzzy(plan: Plan, weak: set[str]) -> Plan:
    """A copy of ``plan`` whose words in ``weak`` (folded) also match near spellings."""

    def mark(ws: list[Word]) -> list[Word]:
        return [Word(w.exact, w.folded, w.code, w.folded in weak, w.optional) for w in ws]

    return Plan(mark(plan.words), [mark(p) for p in plan.phrases])


def parse(text: str) -> Plan:
    """Split quoted phrases from free words; analyze both with the shared analyzer."""
    text = normalize(text)
    phrases = [[_word(t) for t in words(m)] for m in re.findall(r'"([^"]*)"', text)]
    rest = re.sub(r'"[^"]*"', " ", text).replace('"', " ")
    free = [_word(t) for t in words(rest)]
    for before, word in pairwise(free):
        before.optional = word.code and before.folded == NUMBER_WORD
    return Plan(free, [p for p in phrases if p])


NUMBER_WORD = "so"  # "số", the word before a cited number


def _loose(w: Word) -> float:
    return B_LOOSE if w.marked else 1.0


def _word_clause(w: Word, fields: set[str]) -> Node:
    """One word: matches if any selected field has it (folded); exact spelling and title add score."""
    should: list[Node] = []
    if w.code:
        parts = [fold_token(p) for p in code_parts(w.exact)]
        if "number" in fields:
            should.append(Term("number_f", w.folded, B_NUMBER_WHOLE))
            should.append(Bool(must=[Term("number_f", p) for p in parts], boost=B_NUMBER_PART / len(parts)))
        lead = numeric_lead(w.folded)
        for fld, b in (("title_f", B_TITLE_F), ("content_f", B_CONTENT_F)):
            if fld.split("_")[0] in fields:
                should.append(Term(fld, w.folded, b))
                if lead:  # OCR damage in the letters: the leading digits anchor it, so no flood of near numbers
                    should.append(Bool(must=[Term(fld, lead), Fuzzy(fld, w.folded, CODE_DAMAGE)], boost=B_FUZZY))
        return Bool(should=should)
    if "number" in fields:
        should.append(Term("number_f", w.folded, B_NUMBER_PART))
    if "title" in fields:
        should.append(Term("title_f", w.folded, B_TITLE_F * _loose(w)))
        if w.marked:
            should.append(Term("title_e", w.exact, B_TITLE_E))
    if "content" in fields:
        should.append(Term("content_f", w.folded, B_CONTENT_F * _loose(w)))
        if w.marked:
            should.append(Term("content_e", w.exact, B_CONTENT_E))
    dist = fuzzy_distance(w.folded)
    if w.fuzzy and dist and not w.folded.isdigit():
        for fld in ("title_f", "content_f"):
            if fld.split("_")[0] in fields:
                should.append(Fuzzy(fld, w.folded, dist, B_FUZZY))
    return Bool(should=should)


def _phrase_clauses(ws: list[Word], fields: set[str], slop: int, boost: float) -> list[Node]:
    out: list[Node] = []
    folded = [w.folded for w in ws]
    exact = [w.exact for w in ws]
    marked = any(w.marked for w in ws)
    for part, fb in (("title", B_PHRASE_TITLE / B_PHRASE_CONTENT), ("content", 1.0)):
        if part in fields:
            out.append(Phrase(f"{part}_f", folded, slop, boost * fb * (B_LOOSE if marked else 1.0)))
            if marked:
                out.append(Phrase(f"{part}_e", exact, slop, boost * fb))
    return out


def _pair_clauses(ws: list[Word], fields: set[str], boost: float) -> list[Node]:
    """Consecutive words as word-pair terms (``search.analysis.pairs``): a phrase of two words exactly, of more
    words every adjacent pair present. Term lookups, no positions: what ranks phrases on an index with pairs."""
    terms = [f"{a.folded}{PAIR_JOIN}{b.folded}" for a, b in pairwise(ws)]
    out: list[Node] = []
    for part, fb in (("title", B_PHRASE_TITLE / B_PHRASE_CONTENT), ("content", 1.0)):
        if part in fields:
            field_name = PAIR_FIELDS[part]
            out.append(
                Term(field_name, terms[0], boost * fb)
                if len(terms) == 1
                else Bool(must=[Term(field_name, t) for t in terms], boost=boost * fb)
            )
    return out


def _quoted(ws: list[Word], fields: set[str], pairs: bool) -> list[Node]:
    """A quoted phrase: its words adjacent. With pairs: every adjacent pair of it present, by term lookups. From
    three words on that is not quite the phrase ("a b … b c" matches "a b c"), but checking positions costs
    what the pairs save (tantivy's phrase scorer scans on to the next match), and such documents are rare."""
    if not pairs:
        return _phrase_clauses(ws, fields, 0, B_PHRASE_CONTENT)
    return _pair_clauses(ws, fields, B_PHRASE_CONTENT)


def compile_plan(plan: Plan, fields: list[str] | None = None, pairs: bool = False) -> Node:
    """The scoring query for a plan (filters are added by the caller); words flagged fuzzy get variants.
    ``pairs``: the index has word-pair fields; phrases rank by them instead of by positions."""
    sel = set(fields or FIELDS)
    unknown = sel - set(FIELDS)
    if unknown:
        raise ValueError(f"unknown search field(s) {sorted(unknown)}; expected {', '.join(FIELDS)}")
    must: list[Node] = [_word_clause(w, sel) for w in plan.words if not w.optional]
    should: list[Node] = [_word_clause(w, sel) for w in plan.words if w.optional]
    for ph in plan.phrases:
        if len(ph) == 1:
            must.append(_word_clause(ph[0], sel))
            continue
        exact_req = _quoted(ph, sel, pairs)
        if any(w.fuzzy for w in ph):  # a damaged word breaks the phrase: require its words, rank the phrase
            must.append(Bool(must=[_word_clause(w, sel) for w in ph]))
            should.extend(exact_req)
        else:
            must.append(Bool(should=exact_req))
    plain = [w for w in plan.words if not w.code]
    if len(plain) >= 2 and pairs:
        should.extend(_pair_clauses(plain, sel, B_PHRASE_CONTENT))
    elif len(plain) >= 2:
        should.extend(_phrase_clauses(plain, sel, 0, B_PHRASE_CONTENT))
        should.extend(_phrase_clauses(plain, sel, NEAR_SLOP, B_NEAR))
    if len(plain) >= 3:
        for pair in pairwise(plain):
            duo = list(pair)
            should.extend(_pair_clauses(duo, sel, B_PAIR) if pairs else _phrase_clauses(duo, sel, 0, B_PAIR))
    marked = [w for w in plan.all_words() if w.marked and not w.code]  # quoted ones too
    exact_fields = [f"{part}_e" for part in ("title", "content") if part in sel]
    if marked and exact_fields:
        should.append(
            Bool(must=[Bool(should=[Term(f, w.exact) for f in exact_fields]) for w in marked], boost=B_ALL_EXACT)
        )
    return Bool(must=must, should=should)


def any_of(terms: list[str], fields: tuple[str, ...] = ("content_f", "title_f")) -> Node:
    """OR over folded terms (more-like-this)."""
    return Bool(should=[Term(f, t) for t in terms for f in fields])


def filters(
    rank: int,
    doc_type: str | None = None,
    issuer: str | None = None,
    unit: str | None = None,
    origin: str | None = None,
    signed: bool | None = None,
    date_from: int | None = None,
    date_to: int | None = None,
    exclude_id: str | None = None,
) -> Bool:
    """Non-scoring constraints; the clearance range is always first and always present."""
    out = Bool(filter=[Range("rank", None, rank)])
    for name, value in (("doc_type", doc_type), ("issuer", issuer), ("unit", unit), ("origin", origin)):
        if value:
            out.filter.append(Term(KEY_FIELDS[name], key(value)))
    if signed is not None:
        out.filter.append(Term(KEY_FIELDS["signed"], "true" if signed else "false"))
    if date_from is not None or date_to is not None:
        out.filter.append(Range("issued", date_from if date_from is not None else 1, date_to))
    if exclude_id:
        out.must_not.append(Term("id", exclude_id))
    return out


def matching(node: Node) -> Node:
    """The same documents without the clauses that only score (should clauses beside a must or a filter):
    what facets count. Counting over the scoring tree evaluated every phrase and pair a second time."""
    if not isinstance(node, Bool):
        return node
    required = node.must or node.filter
    return Bool(
        must=[matching(n) for n in node.must],
        should=[] if required else [matching(n) for n in node.should],
        must_not=node.must_not,
        filter=node.filter,
    )


def restrict(scoring: Node, constraint: Bool) -> Bool:
    """Scoring query AND constraints, as one engine query (so totals and facets obey them too)."""
    return Bool(must=[scoring], filter=list(constraint.filter), must_not=list(constraint.must_not))
