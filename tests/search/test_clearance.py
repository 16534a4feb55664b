"""Secret documents never show through hits, totals, facets, snippets, suggestions, more-like-this or
"did you mean": results with them in the index equal results of an index that never held them."""

from __future__ import annotations

import pytest

from search import CLASSIFICATIONS, SearchQuery, clearance_rank, open_index
from tests.search.corpus import DOCS, SECRET_WORDS

QUERIES = [
    *SECRET_WORDS.values(),
    "ten lua phong khong",
    "mat ma quoc gia",
    "van ban dien tu",
    "chu ky so chuyen dung",
    "ke hoach",
    "Công an tỉnh",
    "trinh sat dac biet",
    "01/KH-BCHQS",
    "KH-CAT",
    '"tên lửa"',
    "",
]
PREFIXES = ["0", "01/", "ke hoach", "bao cao", "phuong an", "k"]
LEVELS = ["public", "internal", "mat"]


@pytest.fixture(scope="module")
def visible_only(engine, tmp_path_factory):
    """Per clearance level, an index holding only what that level may see."""
    out = {}
    for level in LEVELS:
        ix = open_index(engine, tmp_path_factory.mktemp(f"vis-{engine}-{level}"))
        ix.add(d for d in DOCS if clearance_rank(d.classification) <= clearance_rank(level))
        out[level] = ix
    yield out
    for ix in out.values():
        ix.close()


def _view(res):
    return (
        res.total,
        res.facets,
        res.near_matches,
        res.did_you_mean,
        {h.id: (h.page, h.snippet, h.doc_number, h.title) for h in res.hits},
    )


@pytest.mark.parametrize("level", LEVELS)
def test_search_equals_index_without_documents_above_clearance(index, visible_only, level):
    for text in QUERIES:
        q = SearchQuery(text, clearance=level, page_size=100)
        assert _view(index.search(q)) == _view(visible_only[level].search(q)), text


@pytest.mark.parametrize("level", LEVELS)
def test_suggestions_equal_index_without_documents_above_clearance(index, visible_only, level):
    for prefix in PREFIXES:
        assert set(index.suggest(prefix, level)) == set(visible_only[level].suggest(prefix, level)), prefix


def test_secret_words_reveal_nothing_to_public(index):
    secret_ids = {d.id for d in DOCS if d.classification != "public"}
    secret_issuers = {"Ban Cơ yếu Chính phủ", "Bộ Chỉ huy Quân sự tỉnh"}
    for word in SECRET_WORDS.values():
        res = index.search(SearchQuery(word, page_size=100))
        assert not secret_ids & {h.id for h in res.hits}
        assert all(word not in h.snippet.lower() for h in res.hits)
        assert not secret_issuers & set(res.facets["issuer"])
        assert sum(res.facets["origin"].values()) == (0 if res.near_matches else res.total)  # none over near ones
        assert res.did_you_mean is None or word not in res.did_you_mean
    assert all("tên lửa" not in s.lower() for s in index.suggest("ke hoach bo"))
    assert index.suggest("01/KH") == []


def test_cleared_user_sees_secret_document(index):
    res = index.search(SearchQuery("tên lửa", clearance="mat"))
    assert res.hits[0].id == "d29" and "<b>tên</b> <b>lửa</b>" in res.hits[0].snippet
    assert index.suggest("01/KH", "mat") == ["01/KH-BCHQS"]
    assert index.search(SearchQuery("mật mã", clearance="toi-mat")).hits[0].id != "d30"


def test_more_like_this_respects_clearance(index):
    assert index.more_like_this("d29", "public") == []  # a secret source is not even acknowledged
    for level in CLASSIFICATIONS:
        rank = clearance_rank(level)
        allowed = {d.id for d in DOCS if clearance_rank(d.classification) <= rank}
        for doc in DOCS:
            hits = index.more_like_this(doc.id, level)
            assert {h.id for h in hits} <= allowed - {doc.id}
    similar = [h.id for h in index.more_like_this("d01", "public", limit=5)]
    assert similar and similar[0] in {"d05", "d03"}


def test_unknown_clearance_is_an_error_not_public(index):
    with pytest.raises(ValueError, match="clearance"):
        index.search(SearchQuery("van ban", clearance="secret"))
    assert clearance_rank("Tối mật") == clearance_rank("toi-mat") == 3
