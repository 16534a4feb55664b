"""The engine-independent index: analysis, ranking plan, clearance, near matches, snippets, locking.

An engine (``Backend``) only stores analyzed rows and runs engine-neutral query trees (search.query);
everything that decides *what* is found and *who* may see it lives here, once, for every engine.
"""

from __future__ import annotations

import math
import shutil
from abc import ABC, abstractmethod
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, Protocol

from search import highlight
from search.analysis import (
    TOKEN_RE,
    analyze_with_pairs,
    edit_distance,
    fold,
    fold_token,
    fuzzy_distance,
    key,
    normalize,
    tokens,
)
from search.model import Hit, IndexDoc, SearchQuery, SearchResults, StaleIndexError, clearance_rank
from search.query import (
    FACET_FIELDS,
    KEY_FIELDS,
    PAIR_FIELDS,
    Bool,
    MatchAll,
    Node,
    Phrase,
    Plan,
    Prefix,
    Term,
    Word,
    any_of,
    compile_plan,
    filters,
    parse,
    restrict,
    with_fuzzy,
)
from search.store import LOCK_FILE, PAGES_FILE, PageStore, check_format, has_pairs, write_format, write_lock

NEAR_MIN = 3  # fewer strict hits than this: also try near (fuzzy) matches
LONE_FUZZY_MIN = 5  # a shorter word guessed at alone floods: near matches only beside words found as typed
MLT_TERMS = 25
SUGGEST_LIMIT = 10


class SearchIndex(Protocol):
    def add(self, docs: Iterable[IndexDoc]) -> None: ...
    def delete(self, doc_id: str) -> None: ...
    def search(self, q: SearchQuery) -> SearchResults: ...
    def suggest(self, prefix: str, clearance: str = "public") -> list[str]: ...
    def more_like_this(self, doc_id: str, clearance: str = "public", limit: int = 10) -> list[Hit]: ...
    def count(self) -> int: ...
    def rebuild(self, docs: Iterable[IndexDoc]) -> None: ...
    def close(self) -> None: ...


@dataclass
class RawResults:
    total: int
    hits: list[tuple[dict[str, Any], float]]  # stored fields (id, doc_number, title, origin), score
    facets: dict[str, dict[str, int]] = field(default_factory=dict)


class Backend(ABC):
    """One search engine behind the neutral query tree. Rows hold pre-analyzed, space-joined text."""

    name = ""

    def __init__(self, index_dir: Path):
        self.index_dir = index_dir

    @abstractmethod
    def open(self, create: bool) -> None: ...

    @abstractmethod
    def write(self, rows: Iterable[dict[str, Any]], delete_ids: Iterable[str] = (), wipe: bool = False) -> int:
        """Upsert rows (by ``id``) and delete ids in one commit (after dropping everything if ``wipe``,
        so readers never see an empty index during a rebuild); return rows written."""

    @abstractmethod
    def execute(
        self, node: Node, offset: int, limit: int, by_date: bool = False, facets: bool = False
    ) -> RawResults: ...

    @abstractmethod
    def doc_freq(self, field: str, term: str) -> int: ...

    @abstractmethod
    def num_docs(self) -> int: ...

    def close(self) -> None:  # noqa: B027 - optional hook
        pass


def _ymd(d: date | None) -> int:
    return d.year * 10000 + d.month * 100 + d.day if d else 0


def to_row(doc: IndexDoc, with_pairs: bool = True) -> dict[str, Any]:
    """An IndexDoc as analyzed engine fields (the same for every engine); ``with_pairs``: the word-pair fields."""
    title_e, title_f, title_p = analyze_with_pairs(doc.title)
    content_e, content_f, content_p = analyze_with_pairs("\n".join(doc.pages))
    row: dict[str, Any] = {
        "id": doc.id,
        "doc_number": doc.doc_number.strip(),
        "title": doc.title.strip(),
        "origin": doc.origin,
        "rank": clearance_rank(doc.classification),
        "issued": _ymd(doc.issued_date),
        "title_e": title_e,
        "title_f": title_f,
        "content_e": content_e,
        "content_f": content_f,
        "number_f": " ".join(fold_token(t) for t in tokens(doc.doc_number)),
        "number_whole": fold(normalize(doc.doc_number.strip())),
    }
    if with_pairs:
        row[PAIR_FIELDS["title"]], row[PAIR_FIELDS["content"]] = title_p, content_p
    facet_values = {
        "doc_type": doc.doc_type.strip(),
        "issuer": doc.issuer.strip(),
        "unit": doc.unit.strip(),
        "origin": doc.origin,
        "year": str(doc.issued_date.year) if doc.issued_date else "",
        "signed": "true" if doc.signed else "false",
    }
    for name, value in facet_values.items():
        if value:
            row[FACET_FIELDS[name]] = value
            if name in KEY_FIELDS:
                row[KEY_FIELDS[name]] = key(value)
    return row


class IndexBase:
    """SearchIndex implementation shared by all engines."""

    def __init__(
        self,
        backend: Backend,
        index_dir: Path,
        page_texts: Callable[[str], list[str]] | None = None,
        with_pairs: bool = True,
        read_only: bool = False,
    ):
        self.backend = backend
        self.index_dir = index_dir
        self.page_texts = page_texts
        self.read_only = read_only  # a published snapshot: never locked or written (search.snapshots)
        self.pages = PageStore(index_dir / PAGES_FILE, read_only) if page_texts is None else None
        self._stale: StaleIndexError | None = None
        if read_only:
            check_format(index_dir, backend.name)
            backend.open(create=False)
        else:
            index_dir.mkdir(parents=True, exist_ok=True)
            try:
                with write_lock(index_dir):
                    fresh = check_format(index_dir, backend.name)
                    backend.open(create=fresh)
                    if fresh:
                        write_format(index_dir, backend.name, with_pairs)
            except StaleIndexError as exc:  # usable for rebuild() only
                self._stale = exc
        # An index keeps what it was written with (pairs are used only where every document has them);
        # rebuild() writes what was asked for.
        self._asked_pairs = with_pairs
        self.pairs = has_pairs(index_dir) if self._stale is None else with_pairs

    # ---- writes --------------------------------------------------------------------------------
    def _ready(self) -> None:
        if self._stale is not None:
            raise self._stale

    def _not_snapshot(self) -> None:
        if self.read_only:
            raise PermissionError(f"search index at {self.index_dir} is a read-only snapshot")

    def _writable(self) -> None:
        self._not_snapshot()
        self._ready()

    def _rows(self, docs: Iterable[IndexDoc], batch: list[tuple[str, list[str]]]) -> Iterator[dict[str, Any]]:
        for doc in docs:
            row = to_row(doc, self.pairs)
            if self.pages is not None:
                batch.append((doc.id, list(doc.pages)))
                if len(batch) >= 500:
                    self.pages.put_many(batch)
                    batch.clear()
            yield row

    def add(self, docs: Iterable[IndexDoc]) -> None:
        """Add or replace documents (metadata changes re-add the document)."""
        self._writable()
        with write_lock(self.index_dir):
            self._add_locked(docs)

    def _add_locked(self, docs: Iterable[IndexDoc], wipe: bool = False) -> None:
        batch: list[tuple[str, list[str]]] = []
        self.backend.write(self._rows(docs, batch), wipe=wipe)
        if self.pages is not None and batch:
            self.pages.put_many(batch)

    def delete(self, doc_id: str) -> None:
        self._writable()
        with write_lock(self.index_dir):
            self.backend.write((), [doc_id])
            if self.pages is not None:
                self.pages.delete(doc_id)

    def rebuild(self, docs: Iterable[IndexDoc]) -> None:
        """Drop everything (also a stale index) and index ``docs`` afresh."""
        self._not_snapshot()  # a stale index may be rebuilt; a snapshot never
        with write_lock(self.index_dir):
            if self._stale is not None:
                self.backend.close()
                self._clear_dir()
                self.backend.open(create=True)
                self._stale = None
            if self.pages is not None:
                self.pages.wipe()
            self.pairs = self._asked_pairs
            write_format(self.index_dir, self.backend.name, self.pairs)
            self._add_locked(docs, wipe=True)

    def _clear_dir(self) -> None:
        for p in self.index_dir.iterdir():
            if p.name in (LOCK_FILE, PAGES_FILE) or p.name.startswith(PAGES_FILE):
                continue
            shutil.rmtree(p) if p.is_dir() else p.unlink()

    def count(self) -> int:
        self._ready()
        return self.backend.num_docs()

    def close(self) -> None:
        self.backend.close()
        if self.pages is not None:
            self.pages.close()

    # ---- reads ---------------------------------------------------------------------------------
    def _page_texts(self, doc_id: str) -> list[str]:
        if self.page_texts is not None:
            return self.page_texts(doc_id)
        assert self.pages is not None
        return self.pages.get(doc_id)

    def _hit(self, stored: dict[str, Any], score: float, plan: Plan) -> Hit:
        page, snip = highlight.snippet(self._page_texts(stored["id"]), plan)
        return Hit(
            id=stored["id"],
            doc_number=stored.get("doc_number", ""),
            title=stored.get("title", ""),
            score=round(float(score), 4),
            origin=stored.get("origin", ""),
            page=page,
            snippet=snip,
        )

    def search(self, q: SearchQuery) -> SearchResults:
        self._ready()
        rank = clearance_rank(q.clearance)
        if q.sort not in ("relevance", "date"):
            raise ValueError(f"unknown sort {q.sort!r}; expected relevance or date")
        cons = filters(
            rank,
            q.doc_type,
            q.issuer,
            q.unit,
            q.origin,
            q.signed,
            _ymd(q.date_from) or None,
            _ymd(q.date_to) or None,
        )
        plan = parse(q.text)
        page, size = max(1, q.page), max(1, min(q.page_size, 100))
        # no words: a listing, newest first (relevance would be an arbitrary engine order)
        offset, by_date = (page - 1) * size, q.sort == "date" or plan.empty
        scoring = MatchAll() if plan.empty else compile_plan(plan, q.fields, self.pairs)
        raw = self.backend.execute(restrict(scoring, cons), offset, size, by_date, facets=True)
        near, did_you_mean = False, None
        if not plan.empty and raw.total < NEAR_MIN:
            weak = {
                w.folded
                for w in plan.all_words()
                if not w.code and fuzzy_distance(w.folded) and not self._visible_count(w, q.fields, cons)
            }
            if {w.folded for w in plan.all_words()} <= weak:  # nothing found as typed constrains the guess:
                weak = {f for f in weak if len(f) >= LONE_FUZZY_MIN}  # "thuỷ" matched thu, thực, huy… (27)
            if weak:
                plan = with_fuzzy(plan, weak)
                # No facets over near matches: counting them evaluated every fuzzy term a second time (fuzzy p95
                # 251 ms at 1M), and the user's next step is the suggested spelling, not a filter.
                fuzzy = self.backend.execute(
                    restrict(compile_plan(plan, q.fields, self.pairs), cons), offset, size, by_date, facets=False
                )
                if fuzzy.total > raw.total:
                    raw, near = fuzzy, True
                    raw.facets = {name: {} for name in FACET_FIELDS}
                    did_you_mean = self._did_you_mean(plan, raw)
        hits = [self._hit(stored, score, plan) for stored, score in raw.hits]
        return SearchResults(raw.total, hits, raw.facets, near, did_you_mean)

    def _did_you_mean(self, plan: Plan, raw: RawResults) -> str | None:
        """Replace the words that match nothing visible (flagged fuzzy) by the closest word of the
        visible near-match hits: only text the user may see can be proposed."""
        vocab: Counter[str] = Counter()
        for stored, _ in raw.hits:
            text = " ".join([stored.get("title", ""), *self._page_texts(stored["id"])])
            vocab.update(normalize(m) for m in TOKEN_RE.findall(text))
        changed, out = False, []
        for w in plan.all_words():
            if not w.fuzzy:
                out.append(w.exact)
                continue
            d = fuzzy_distance(w.folded)
            cands = [(c, n) for c, n in vocab.items() if edit_distance(fold(c), w.folded, d) <= d]
            if not cands:
                out.append(w.exact)
                continue
            best = min(cands, key=lambda cn: (edit_distance(fold(cn[0]), w.folded, d), -cn[1], cn[0]))[0]
            changed = changed or best != w.exact
            out.append(best)
        return " ".join(out) if changed else None

    def _visible_count(self, word: Word, fields: list[str] | None, cons: Bool) -> int:
        return self.backend.execute(restrict(compile_plan(Plan([word], []), fields, self.pairs), cons), 0, 1).total

    def suggest(self, prefix: str, clearance: str = "public") -> list[str]:
        """Autocomplete: document numbers, then titles, of visible documents starting with ``prefix``."""
        self._ready()
        cons = filters(clearance_rank(clearance))
        text = fold(normalize(prefix)).strip()
        if not text:
            return []
        out: list[str] = []
        num = self.backend.execute(restrict(Prefix("number_whole", text), cons), 0, SUGGEST_LIMIT)
        out.extend(s["doc_number"] for s, _ in num.hits if s.get("doc_number"))
        toks = [fold(t) for t in TOKEN_RE.findall(text)]
        if toks:
            title: Node = Prefix("title_f", toks[-1])
            if len(toks) > 1:
                title = Bool(must=[Phrase("title_f", toks[:-1]), title])
            res = self.backend.execute(restrict(title, cons), 0, SUGGEST_LIMIT * 2)
            starts = [s["title"] for s, _ in res.hits if fold(normalize(s.get("title", ""))).startswith(text)]
            others = [s["title"] for s, _ in res.hits if s["title"] not in starts]
            out.extend(starts + others)
        return [s for s in dict.fromkeys(out) if s][:SUGGEST_LIMIT]  # each once, in order

    def more_like_this(self, doc_id: str, clearance: str = "public", limit: int = 10) -> list[Hit]:
        """Documents sharing the most distinctive words of ``doc_id``; nothing if it is not visible."""
        self._ready()
        cons = filters(clearance_rank(clearance))
        me = self.backend.execute(restrict(Term("id", doc_id), cons), 0, 1)
        if not me.hits:
            return []
        stored = me.hits[0][0]
        text = " ".join([stored.get("title", ""), stored.get("title", ""), *self._page_texts(doc_id)])
        tf = Counter(fold(t) for t in tokens(text))
        total = max(1, self.backend.num_docs())
        weights = {
            t: n * math.log(1 + total / (1 + self.backend.doc_freq("content_f", t)))
            for t, n in tf.items()
            if len(t) > 1 and not t.isdigit()
        }
        terms = sorted(weights, key=lambda t: (-weights[t], t))[:MLT_TERMS]
        if not terms:
            return []
        cons.must_not.append(Term("id", doc_id))
        res = self.backend.execute(restrict(any_of(terms), cons), 0, limit)
        plan = Plan([], [])
        return [self._hit(s, score, plan) for s, score in res.hits]
