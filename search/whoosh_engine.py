"""Whoosh 2.7 backend: the pure-Python engine the design names; slow beyond ~10k documents."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from whoosh import fields as wf
from whoosh import index as windex
from whoosh import query as wq
from whoosh import sorting, writing
from whoosh.analysis import SpaceSeparatedTokenizer

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
)

INDEX_NAME = "archive"


def _schema() -> wf.Schema:
    spec: dict[str, Any] = {
        "id": wf.ID(stored=True, unique=True),
        "doc_number": wf.STORED(),
        "title": wf.STORED(),
        "origin": wf.STORED(),
        "rank": wf.NUMERIC(numtype=int, bits=64, signed=True),
        "issued": wf.NUMERIC(numtype=int, bits=64, signed=True, sortable=True),
        "number_whole": wf.ID(),
    }
    for name in TEXT_FIELDS:  # text arrives analyzed by search.analysis: split on whitespace only
        spec[name] = wf.TEXT(analyzer=SpaceSeparatedTokenizer(), phrase=True)
    for name in PAIR_FIELDS.values():  # a pair is one term: no positions
        spec[name] = wf.TEXT(analyzer=SpaceSeparatedTokenizer(), phrase=False)
    for name in FACET_FIELDS.values():
        spec[name] = wf.ID(sortable=True)
    for name in KEY_FIELDS.values():
        spec[name] = wf.ID()
    return wf.Schema(**spec)


def _flat(node: Node) -> Node:
    """``restrict``'s shape (the scoring Bool as the one must, constraints beside it) as one Bool. Whoosh
    scores an AndMaybe inside an And wrongly: skipping to the filter's next document leaves the optional
    side behind, and a document's should clauses go unscored (measured: 40 instead of 128). An inner Bool
    without must clauses stays apart: beside a filter its should clauses would become optional."""
    if (
        isinstance(node, Bool)
        and len(node.must) == 1
        and isinstance(node.must[0], Bool)
        and not node.should
        and node.must[0].must
    ):
        inner = node.must[0]
        return Bool(
            must=inner.must,
            should=inner.should,
            must_not=inner.must_not + node.must_not,
            filter=inner.filter + node.filter,
            boost=inner.boost * node.boost,
        )
    return node


class WhooshBackend(Backend):
    name = "whoosh"

    def __init__(self, index_dir, limitmb: int = 128):
        super().__init__(index_dir)
        self.limitmb = limitmb
        self.ix: windex.Index | None = None

    def open(self, create: bool) -> None:
        path = str(self.index_dir)
        if create or not windex.exists_in(path, indexname=INDEX_NAME):
            self.ix = windex.create_in(path, _schema(), indexname=INDEX_NAME)
        else:
            self.ix = windex.open_dir(path, indexname=INDEX_NAME)

    def write(self, rows: Iterable[dict[str, Any]], delete_ids: Iterable[str] = (), wipe: bool = False) -> int:
        assert self.ix is not None
        writer = self.ix.writer(limitmb=self.limitmb)
        n = 0
        try:
            for doc_id in delete_ids:
                writer.delete_by_term("id", doc_id)
            for row in rows:
                writer.update_document(**row)
                n += 1
        except BaseException:
            writer.cancel()
            raise
        writer.commit(mergetype=writing.CLEAR if wipe else writing.MERGE_SMALL)
        return n

    # ---- queries -------------------------------------------------------------------------------
    def _q(self, node: Node) -> wq.Query:
        if isinstance(node, Term):
            return wq.Term(node.field, node.value, boost=node.boost)
        if isinstance(node, Phrase) and len(node.words) == 1:
            return wq.Term(node.field, node.words[0], boost=node.boost)
        if isinstance(node, Phrase):  # Whoosh slop 1 = adjacent
            return wq.Phrase(node.field, node.words, slop=node.slop + 1, boost=node.boost)
        if isinstance(node, Fuzzy):
            return wq.FuzzyTerm(node.field, node.value, boost=node.boost, maxdist=node.distance, prefixlength=0)
        if isinstance(node, Prefix):
            return wq.Prefix(node.field, node.value)
        if isinstance(node, Range):
            return wq.NumericRange(node.field, node.lo, node.hi)
        if isinstance(node, MatchAll):
            return wq.Every()
        if isinstance(node, Bool):
            musts = [self._q(n) for n in node.must]
            musts += [wq.ConstantScoreQuery(self._q(n), 0.0) for n in node.filter]
            base: wq.Query | None = None
            if musts:
                base = musts[0] if len(musts) == 1 else wq.And(musts)
            if node.should:
                shoulds = wq.Or([self._q(n) for n in node.should])
                base = wq.AndMaybe(base, shoulds) if base is not None else shoulds
            if base is None:
                base = wq.Every()
            if node.must_not:
                base = wq.AndNot(base, wq.Or([self._q(n) for n in node.must_not]))
            return base.with_boost(node.boost) if node.boost != 1.0 else base
        raise TypeError(f"unknown query node {node!r}")

    def execute(self, node: Node, offset: int, limit: int, by_date: bool = False, facets: bool = False) -> RawResults:
        assert self.ix is not None
        query = self._q(_flat(node))
        groupedby = (
            {name: sorting.FieldFacet(fld, maptype=sorting.Count) for name, fld in FACET_FIELDS.items()}
            if facets
            else None
        )
        kwargs: dict[str, Any] = {"limit": offset + max(1, limit), "groupedby": groupedby}
        if by_date:
            kwargs.update(sortedby="issued", reverse=True)
        with self.ix.searcher() as searcher:
            res = searcher.search(query, **kwargs)
            hits = [
                ({k: hit.get(k, "") for k in ("id", "doc_number", "title", "origin")}, float(hit.score or 0.0))
                for hit in list(res)[offset : offset + limit]
            ]
            out = RawResults(len(res), hits)
            if facets:
                out.facets = {
                    name: {str(k): int(v) for k, v in res.groups(name).items() if k not in (None, "", b"")}
                    for name in FACET_FIELDS
                }
        return out

    def doc_freq(self, field: str, term: str) -> int:
        assert self.ix is not None
        with self.ix.searcher() as searcher:
            return int(searcher.doc_frequency(field, term))

    def num_docs(self) -> int:
        assert self.ix is not None
        with self.ix.searcher() as searcher:
            return int(searcher.doc_count())

    def close(self) -> None:
        if self.ix is not None:
            self.ix.close()
            self.ix = None
