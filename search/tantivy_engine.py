"""tantivy-py backend (default): Rust engine, fast fields for facets, sorting and clearance ranges."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import tantivy

from search.engine import Backend, RawResults
from search.query import (
    FACET_FIELDS,
    KEY_FIELDS,
    PAIR_FIELDS,
    TEXT_FIELDS,
    Bool,
    Fuzzy,
    MatchAll,
    Node,
    Phrase,
    Prefix,
    Range,
    Term,
    matching,
)

TOKENIZER = "ws"  # text arrives analyzed by search.analysis; the engine only splits on whitespace
STORED = ("id", "doc_number", "title", "origin")
INT_FIELDS = ("rank", "issued")
_REGEX_META = set(r"\.+*?()|[]{}^$#&-~")


def _schema() -> tantivy.Schema:
    sb = tantivy.SchemaBuilder()
    for name in STORED:
        sb.add_text_field(name, stored=True, tokenizer_name="raw", index_option="basic")
    for name in INT_FIELDS:
        sb.add_integer_field(name, indexed=True, fast=True)
    for name in TEXT_FIELDS:
        sb.add_text_field(name, tokenizer_name=TOKENIZER, index_option="position")
    for name in PAIR_FIELDS.values():  # a pair is one term: frequencies, no positions
        sb.add_text_field(name, tokenizer_name=TOKENIZER, index_option="freq")
    sb.add_text_field("number_whole", tokenizer_name="raw", index_option="basic")
    for name in FACET_FIELDS.values():
        sb.add_text_field(name, fast=True, tokenizer_name="raw", index_option="basic")
    for name in KEY_FIELDS.values():
        sb.add_text_field(name, tokenizer_name="raw", index_option="basic")
    return sb.build()


def _regex_escape(text: str) -> str:
    return "".join("\\" + c if c in _REGEX_META else c for c in text)


class TantivyBackend(Backend):
    name = "tantivy"

    def __init__(self, index_dir, heap_size: int = 128_000_000):
        super().__init__(index_dir)
        self.heap_size = heap_size
        self.schema = _schema()
        self.index: tantivy.Index | None = None
        self._meta_mtime = 0

    def open(self, create: bool) -> None:
        path = str(self.index_dir)
        if create or not tantivy.Index.exists(path):
            self.index = tantivy.Index(self.schema, path=path, reuse=False)
        else:
            self.index = tantivy.Index.open(path)
        self.index.register_tokenizer(TOKENIZER, tantivy.TextAnalyzerBuilder(tantivy.Tokenizer.whitespace()).build())
        self.index.reload()

    def _writer(self) -> tantivy.IndexWriter:
        assert self.index is not None
        return self.index.writer(heap_size=self.heap_size)

    def write(self, rows: Iterable[dict[str, Any]], delete_ids: Iterable[str] = (), wipe: bool = False) -> int:
        writer = self._writer()
        n = 0
        try:
            if wipe:
                writer.delete_all_documents()
            for doc_id in delete_ids:
                writer.delete_documents_by_term("id", doc_id)
            for row in rows:
                if not wipe:  # a rebuild starts empty: nothing to replace
                    writer.delete_documents_by_term("id", row["id"])
                writer.add_document(tantivy.Document.from_dict(row, self.schema))
                n += 1
            writer.commit()
        except BaseException:
            writer.rollback()
            raise
        finally:
            writer.wait_merging_threads()
        assert self.index is not None
        self.index.reload()
        return n

    # ---- queries -------------------------------------------------------------------------------
    def _q(self, node: Node) -> tantivy.Query:
        s = self.schema
        Q = tantivy.Query
        if isinstance(node, Term):
            q = Q.term_query(s, node.field, node.value, index_option="freq")
        elif isinstance(node, Phrase) and len(node.words) == 1:
            q = Q.term_query(s, node.field, node.words[0], index_option="freq")
        elif isinstance(node, Phrase):
            words: list[str | tuple[int, str]] = list(node.words)
            q = Q.phrase_query(s, node.field, words, slop=node.slop)
        elif isinstance(node, Fuzzy):
            q = Q.fuzzy_term_query(s, node.field, node.value, distance=node.distance)
        elif isinstance(node, Prefix):
            q = Q.regex_query(s, node.field, _regex_escape(node.value) + ".*")
        elif isinstance(node, Range):
            q = Q.range_query(s, node.field, tantivy.FieldType.Integer, node.lo, node.hi)
        elif isinstance(node, MatchAll):
            q = Q.all_query()
        elif isinstance(node, Bool):
            parts: list[tuple[tantivy.Occur, tantivy.Query]] = []
            parts += [(tantivy.Occur.Must, self._q(n)) for n in node.must]
            parts += [(tantivy.Occur.Must, Q.const_score_query(self._q(n), 0.0)) for n in node.filter]
            parts += [(tantivy.Occur.Should, self._q(n)) for n in node.should]
            parts += [(tantivy.Occur.MustNot, self._q(n)) for n in node.must_not]
            if not (node.must or node.filter or node.should):
                parts.append((tantivy.Occur.Must, Q.all_query()))
            q = Q.boolean_query(parts)
        else:
            raise TypeError(f"unknown query node {node!r}")
        boost = getattr(node, "boost", 1.0)
        return Q.boost_query(q, boost) if boost != 1.0 else q

    def _fresh_searcher(self) -> tantivy.Searcher:
        """A searcher that sees commits of other processes (workers) at once, not after a delay."""
        assert self.index is not None
        try:
            mtime = (self.index_dir / "meta.json").stat().st_mtime_ns
        except FileNotFoundError:
            mtime = 0
        if mtime != self._meta_mtime:
            self._meta_mtime = mtime
            self.index.reload()
        return self.index.searcher()

    def execute(self, node: Node, offset: int, limit: int, by_date: bool = False, facets: bool = False) -> RawResults:
        searcher = self._fresh_searcher()
        query = self._q(node)
        kwargs: dict[str, Any] = {"limit": max(1, limit), "offset": offset, "count": True}
        if by_date:
            kwargs.update(order_by_field="issued", order=tantivy.Order.Desc)
        res = searcher.search(query, **kwargs)
        hits = []
        for score, addr in res.hits[:limit]:
            doc = searcher.doc(addr)
            stored = {name: (doc.get_first(name) or "") for name in STORED}
            hits.append((stored, float(score) if not by_date else 0.0))
        out = RawResults(res.count or 0, hits)  # type: ignore[attr-defined]  # tantivy-py's stub omits count
        if facets and out.total:
            agg = {name: {"terms": {"field": fld, "size": 200}} for name, fld in FACET_FIELDS.items()}
            result = searcher.aggregate(self._q(matching(node)), agg)  # tantivy-py: a second pass, unscored
            out.facets = {
                name: {str(b["key"]): int(b["doc_count"]) for b in result.get(name, {}).get("buckets", [])}
                for name in FACET_FIELDS
            }
        elif facets:
            out.facets = {name: {} for name in FACET_FIELDS}
        return out

    def doc_freq(self, field: str, term: str) -> int:
        assert self.index is not None
        return int(self._fresh_searcher().doc_freq(field, term))

    def num_docs(self) -> int:
        assert self.index is not None
        return int(self._fresh_searcher().num_docs)

    def close(self) -> None:
        self.index = None
