"""Filters, facets, sorting, paging, fields; index maintenance: update, delete, rebuild, format version,
concurrent writers, page texts from storage. Every test runs on every engine."""

from __future__ import annotations

import json
import multiprocessing
from collections import Counter
from dataclasses import replace
from datetime import date

import pytest

from search import IndexDoc, SearchQuery, StaleIndexError, open_index
from search.store import FORMAT_FILE, PAGES_FILE
from tests.search.corpus import DOCS

PUBLIC = [d for d in DOCS if d.classification == "public"]


def _ids(index, text="", **kw):
    kw.setdefault("page_size", 100)
    return [h.id for h in index.search(SearchQuery(text, **kw)).hits]


def test_filters_by_metadata(index):
    assert set(_ids(index, doc_type="chi thi")) == {d.id for d in PUBLIC if d.doc_type == "Chỉ thị"}
    assert set(_ids(index, "", issuer="Bộ Thông tin và Truyền thông")) == {"d01", "d02", "d04"}
    assert set(_ids(index, "so hoa", issuer="bo thong tin va truyen thong")) == {"d02"}
    assert set(_ids(index, unit="cuc van thu va luu tru nha nuoc")) == {"d07", "d08"}
    scanned = {d.id for d in PUBLIC if d.origin == "scanned"}
    assert set(_ids(index, origin="scanned")) == scanned
    assert set(_ids(index, signed=False)) == {d.id for d in PUBLIC if not d.signed}
    in_2023 = {d.id for d in PUBLIC if d.issued_date and d.issued_date.year == 2023}
    assert set(_ids(index, date_from=date(2023, 1, 1), date_to=date(2023, 12, 31))) == in_2023
    assert set(_ids(index, date_from=date(2025, 1, 1))) == {"d07"}


def test_facets_count_the_whole_result_set(index):
    res = index.search(SearchQuery("", page_size=3))
    assert res.total == len(PUBLIC) and len(res.hits) == 3
    assert res.facets["doc_type"] == dict(Counter(d.doc_type for d in PUBLIC))
    assert res.facets["origin"] == dict(Counter(d.origin for d in PUBLIC))
    assert res.facets["year"] == dict(Counter(str(d.issued_date.year) for d in PUBLIC))
    assert res.facets["signed"] == dict(Counter("true" if d.signed else "false" for d in PUBLIC))
    filtered = index.search(SearchQuery("van ban dien tu", doc_type="Chỉ thị"))
    assert filtered.facets["doc_type"] == {"Chỉ thị": filtered.total}


def test_sort_by_date_and_paging(index):
    dated = index.search(SearchQuery("", sort="date", page_size=100)).hits
    by_id = {d.id: d.issued_date for d in DOCS}
    days = [by_id[h.id] for h in dated]
    assert days == sorted(days, reverse=True) and len(days) == len(PUBLIC)
    page1 = _ids(index, "", sort="date")[:5]
    p1 = [h.id for h in index.search(SearchQuery("", sort="date", page=1, page_size=5)).hits]
    p2 = [h.id for h in index.search(SearchQuery("", sort="date", page=2, page_size=5)).hits]
    assert p1 == page1 and p2 == [h.id for h in dated][5:10]
    rel = _ids(index, "van ban")
    assert _ids(index, "van ban", page=2, page_size=2) == rel[2:4]
    assert index.search(SearchQuery("van ban", page=99)).hits == []


def test_search_fields(index):
    assert _ids(index, "lăng quăng", fields=["content"]) == ["d12"]
    assert "d12" not in _ids(index, "lăng quăng", fields=["title"])  # only in d12's text
    assert _ids(index, "sốt xuất huyết", fields=["title"]) == ["d12"]
    with pytest.raises(ValueError, match="field"):
        index.search(SearchQuery("x", fields=["body"]))


def test_suggest_numbers_and_titles(index):
    assert index.suggest("07/ct") == ["07/CT-BTTTT"]
    assert index.suggest("2256/QD") == ["2256/QĐ-BTTTT"]
    assert "Ban hành kế hoạch chuyển đổi số năm 2020" in index.suggest("ban hanh ke")
    assert index.suggest("") == []


@pytest.fixture
def small(engine, tmp_path):
    ix = open_index(engine, tmp_path / "ix")
    ix.add(DOCS[:12])
    yield ix
    ix.close()


def test_update_and_delete(small):
    assert small.count() == 12
    small.add([replace(DOCS[0], title="Về lưu trữ hồ sơ điện tử", doc_type="Công văn")])
    assert small.count() == 12
    assert "d01" not in _ids(small, "tang cuong", fields=["title"])
    assert "d01" in _ids(small, "luu tru ho so", fields=["title"])
    assert small.search(SearchQuery("", doc_type="Công văn")).total == 1
    small.delete("d01")
    assert small.count() == 11
    assert "d01" not in _ids(small, "van ban dien tu")
    assert small.suggest("07/") == []
    small.delete("d01")  # deleting again is harmless
    assert small.count() == 11


def test_rebuild_gives_same_results(index, engine, tmp_path):
    fresh = open_index(engine, tmp_path / "fresh")
    fresh.add(DOCS[5:])
    fresh.add(DOCS[:5])
    fresh.delete("d03")
    fresh.rebuild(DOCS)
    try:
        assert fresh.count() == index.count() == len(DOCS)
        for text in ["van ban dien tu", "07/CT-BTTTT", "sot xuat huyct", "", "ke hoach"]:
            for level in ("public", "mat"):
                a = index.search(SearchQuery(text, clearance=level))
                b = fresh.search(SearchQuery(text, clearance=level))
                assert (a.total, a.facets, a.did_you_mean) == (b.total, b.facets, b.did_you_mean)
                assert [(h.id, h.page, h.snippet) for h in a.hits] == [(h.id, h.page, h.snippet) for h in b.hits]
        fresh.rebuild(DOCS[:5])  # documents missing from storage leave the index
        assert fresh.count() == 5 and "d12" not in _ids(fresh, "sot xuat huyet")
    finally:
        fresh.close()


def test_stale_format_is_a_clear_error_and_rebuild_fixes_it(engine, tmp_path):
    ix = open_index(engine, tmp_path / "ix")
    ix.add(DOCS[:3])
    ix.close()
    fmt = tmp_path / "ix" / FORMAT_FILE
    fmt.write_text(json.dumps({"format": 0, "engine": engine}))
    stale = open_index(engine, tmp_path / "ix")
    with pytest.raises(StaleIndexError, match="archive reindex"):
        stale.search(SearchQuery("van ban"))
    with pytest.raises(StaleIndexError):
        stale.add(DOCS[3:4])
    stale.rebuild(DOCS[:4])
    assert stale.count() == 4 and stale.search(SearchQuery("van ban dien tu")).hits[0].id == "d01"
    stale.close()
    assert open_index(engine, tmp_path / "ix").count() == 4


def test_index_of_other_engine_is_stale(engine, tmp_path):
    other = "whoosh" if engine == "tantivy" else "tantivy"
    open_index(other, tmp_path / "ix").close()
    with pytest.raises(StaleIndexError, match=other):
        open_index(engine, tmp_path / "ix").count()


def _worker(args):
    engine, path, start = args
    ix = open_index(engine, path)
    for doc in DOCS[start : start + 6]:
        ix.add([doc])  # one commit per document: maximal contention
    ix.close()


def test_concurrent_writers_serialize_on_the_lock(engine, tmp_path):
    path = tmp_path / "ix"
    open_index(engine, path).close()
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(2) as pool:
        pool.map(_worker, [(engine, path, 0), (engine, path, 6)])
    ix = open_index(engine, path)
    assert ix.count() == 12
    assert set(_ids(ix, "")) == {d.id for d in DOCS[:12] if d.classification == "public"}
    ix.close()


def test_reader_sees_commits_of_another_writer(engine, tmp_path):
    reader = open_index(engine, tmp_path / "ix")
    writer = open_index(engine, tmp_path / "ix")
    assert reader.count() == 0
    writer.add(DOCS[:3])
    assert reader.count() == 3 and _ids(reader, "07/CT-BTTTT")[0] == "d01"
    writer.delete("d01")
    assert "d01" not in _ids(reader, "07/CT-BTTTT")
    writer.close()
    reader.close()


def test_page_texts_from_storage_instead_of_page_store(engine, tmp_path):
    calls: list[str] = []
    pages = {d.id: d.pages for d in DOCS}

    def from_storage(doc_id: str) -> list[str]:
        calls.append(doc_id)
        return pages[doc_id]

    ix = open_index(engine, tmp_path / "ix", page_texts=from_storage)
    ix.add(DOCS)
    hit = ix.search(SearchQuery("chứng thư số chuyên dùng")).hits[0]
    assert hit.id == "d03" and hit.page == 2 and "<b>chứng</b>" in hit.snippet
    assert "d03" in calls
    assert not (tmp_path / "ix" / PAGES_FILE).exists()
    ix.close()


def test_snippets_are_html_escaped(engine, tmp_path):
    ix = open_index(engine, tmp_path / "ix")
    ix.add([IndexDoc(id="x", title="Mẫu", pages=["Điều <1> & chữ ký số <script>"])])
    snip = ix.search(SearchQuery("chu ky so")).hits[0].snippet
    assert "<script>" not in snip and "&lt;script&gt;" in snip
    assert "<b>chữ</b> <b>ký</b> <b>số</b>" in snip
    ix.close()


def test_word_pairs_on_and_off_find_the_same_documents(index, engine, tmp_path):
    """Phrases by word-pair terms (the default) or by positions: the same documents for the same queries; an
    index keeps the mode it was written with until rebuilt."""
    from search.store import has_pairs
    from tests.search.corpus import RELEVANCE

    plain = open_index(engine, tmp_path / "positions", with_pairs=False)
    plain.add(DOCS)
    assert has_pairs(index.index_dir) and not has_pairs(tmp_path / "positions")
    queries = [text for text, _, _ in RELEVANCE] + ['"văn bản điện tử"', '"chu ky so"', '"ky so chu"']
    for text in queries:
        on, off = index.search(SearchQuery(text, page_size=100)), plain.search(SearchQuery(text, page_size=100))
        assert {h.id for h in on.hits} == {h.id for h in off.hits} and on.facets == off.facets, text
    assert not _ids(index, '"ky so chu"')  # the words are there, not in this order
    plain.close()
    reopened = open_index(engine, tmp_path / "positions")  # asks for pairs: the index has none yet
    assert not reopened.pairs and _ids(reopened, '"chữ ký số"')
    reopened.rebuild(DOCS)
    assert reopened.pairs and has_pairs(tmp_path / "positions") and _ids(reopened, '"chữ ký số"')
    reopened.close()


def test_facets_of_a_ranked_query_count_exactly_its_hits(index):
    """Facets are counted over the query without its ranking-only clauses (phrases, pairs, exact spelling):
    the same documents."""
    res = index.search(SearchQuery("văn bản điện tử cơ quan", page_size=100))
    assert res.total == len(res.hits) > 3
    by_type = Counter(next(d.doc_type for d in DOCS if d.id == h.id) for h in res.hits)
    assert res.facets["doc_type"] == dict(by_type)
