"""Issue 16's judged set: ≥ 200 queries of six classes over ≥ 5,000 distractors, on every engine. Recall@10,
MRR and R-precision per class are printed in the terminal summary; each must reach 0.95."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from search import SearchIndex, SearchQuery, open_index
from tests.search.conftest import record_figure
from tests.search.judged import DISTRACTORS, Judged, build

DOCS, JUDGED = build()
TARGET = 0.95
NUMBERS = ("citation", "ocr_number")  # a number's query finds its documents and nothing else


@pytest.fixture(scope="module")
def judged_index(engine: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[SearchIndex]:
    ix = open_index(engine, Path(tmp_path_factory.mktemp(f"judged-{engine}")))
    ix.add(DOCS)
    yield ix
    ix.close()


def _scores(ranked: list[str], relevant: set[str]) -> tuple[float, float, float]:
    """(recall@10, reciprocal rank, R-precision) of one query."""
    top = ranked[:10]
    recall = len(relevant & set(top)) / len(relevant)
    first = next((i for i, doc in enumerate(top, 1) if doc in relevant), None)
    r_precision = len(relevant & set(ranked[: len(relevant)])) / len(relevant)
    return recall, 1 / first if first else 0.0, r_precision


def test_the_set_is_big_and_hard_enough() -> None:
    assert len(JUDGED) >= 200 and len(DOCS) >= DISTRACTORS >= 5000
    assert len({j.cls for j in JUDGED}) == 6
    ids = {d.id for d in DOCS}
    assert all(j.relevant <= ids for j in JUDGED)


def test_every_class_reaches_the_targets(judged_index: SearchIndex, engine: str) -> None:
    per_class: dict[str, list[tuple[float, float, float]]] = defaultdict(list)
    misses: list[str] = []
    flooded: list[str] = []
    for j in JUDGED:
        ranked = [h.id for h in judged_index.search(SearchQuery(j.text, page_size=20)).hits]
        scores = _scores(ranked, j.relevant)
        per_class[j.cls].append(scores)
        if scores != (1.0, 1.0, 1.0):
            misses.append(f"{j.cls} {j.text!r} -> {ranked[:4]} (relevant {sorted(j.relevant)})")
        if j.cls in NUMBERS and set(ranked) != j.relevant:  # no flood of near numbers
            flooded.append(f"{j.text!r} -> {sorted(set(ranked) - j.relevant)[:5]}")
    failing = []
    for cls, rows in sorted(per_class.items()):
        recall, mrr, rprec = (sum(col) / len(rows) for col in zip(*rows, strict=True))
        line = f"{engine} judged {cls:<10} {len(rows):>3} queries: recall@10 {recall:.3f}, MRR {mrr:.3f}, " \
               f"R-precision {rprec:.3f}"
        record_figure(line)
        if min(recall, mrr, rprec) < TARGET:
            failing.append(line)
    print(*misses, sep="\n  ")
    assert not failing, failing + misses[:20]
    assert not flooded, flooded


def _class(name: str) -> list[Judged]:
    return [j for j in JUDGED if j.cls == name]


def test_the_users_own_spelling_ranks_first(judged_index: SearchIndex) -> None:
    """Both spellings are found; the one typed ranks first (the exact field). t000 writes "chỉnh lý"; its twin,
    otherwise the same, "chỉnh lí", which the query types."""
    original = next(d for d in DOCS if d.id == "t000")
    query = _class("spelling")[0]
    assert query.relevant == {"t000"} and "chỉnh lí" in query.text and "chỉnh lý" in original.title
    twin = replace(original, id="t000-twin", doc_number="1/2024/KH-SNV", title=original.title.replace("lý", "lí"),
                   pages=[p.replace("chỉnh lý", "chỉnh lí") for p in original.pages])
    judged_index.add([twin])
    try:
        ids = [h.id for h in judged_index.search(SearchQuery(query.text)).hits]
        assert ids[:2] == ["t000-twin", "t000"], ids[:4]
        ids = [h.id for h in judged_index.search(SearchQuery(query.text.replace("lí", "lý"))).hits]
        assert ids[:2] == ["t000", "t000-twin"], ids[:4]
    finally:
        judged_index.delete("t000-twin")


def test_constraints_do_not_change_the_scores_of_what_they_keep(judged_index: SearchIndex) -> None:
    """Every search carries the clearance filter; Whoosh scored an optional clause inside a filtered query as
    absent (the rare-word target fell from 128 to 40, below documents missing its rare word)."""
    from search.engine import IndexBase
    from search.query import compile_plan, parse

    assert isinstance(judged_index, IndexBase)
    query = next(j for j in _class("rare") if j.text.startswith("trống đồng"))
    (target,) = query.relevant
    plan = parse(query.text)
    bare = judged_index.backend.execute(compile_plan(plan, None, judged_index.pairs), 0, 5)
    hits = judged_index.search(SearchQuery(query.text, page_size=5)).hits
    assert [stored["id"] for stored, _ in bare.hits] == [h.id for h in hits] and hits[0].id == target
    shifts = {round(h.score - score, 2) for h, (_, score) in zip(hits, bare.hits, strict=True)}
    assert len(shifts) == 1, shifts  # Whoosh's filter adds 1.0 to every hit (a zero constant score reads as 1)


def test_a_damaged_citation_is_found_and_marked_in_its_snippet(judged_index: SearchIndex) -> None:
    from tests.search.judged import LETTER_DAMAGE

    def damaged_in(query: Judged) -> str:
        text = " ".join(p for d in DOCS if d.id in query.relevant for p in d.pages)
        return next((bad for bad in LETTER_DAMAGE.values() if bad in text), "")

    queries = [j for j in _class("ocr_number") if damaged_in(j)]
    assert len(queries) >= 10
    for query in queries:
        hits = {h.id: h for h in judged_index.search(SearchQuery(query.text)).hits}
        assert set(hits) == query.relevant, query.text
        scanned = next(h for doc_id, h in hits.items() if doc_id.startswith("s"))
        assert f"{damaged_in(query)}</b>" in scanned.snippet, scanned.snippet
