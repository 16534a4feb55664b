"""The shared analyzer: the same function at index and query time, so these properties hold for both."""

from __future__ import annotations

import unicodedata

import pytest

from search.analysis import analyze, code_parts, edit_distance, fold, fuzzy_distance, key, tokens
from search.query import parse


def test_fold_removes_marks_and_maps_d():
    assert fold("Văn bản điện tử ĐÀ NẴNG") == "Van ban dien tu DA NANG"
    assert fold("ƯBND") == "UBND"


def test_nfc_and_nfd_inputs_analyze_identically():
    text = "Quyết định về chữ ký số"
    assert analyze(unicodedata.normalize("NFD", text)) == analyze(text)


def test_single_letter_syllables_and_no_stop_words():
    assert tokens("Ô nhiễm ở A và B của tôi") == ["ô", "nhiễm", "ở", "a", "và", "b", "của", "tôi"]


@pytest.mark.parametrize(
    ("number", "whole", "parts"),
    [
        ("07/CT-BTTTT", "07/ct-btttt", ["07", "ct-btttt", "ct", "btttt"]),
        ("2256/QĐ-BTTTT", "2256/qđ-btttt", ["2256", "qđ-btttt", "qđ", "btttt"]),
        ("28/2018/QĐ-TTg", "28/2018/qđ-ttg", ["28", "2018", "qđ-ttg", "qđ", "ttg"]),
    ],
)
def test_document_numbers_whole_and_parts(number, whole, parts):
    toks = tokens(number)
    assert toks[0] == whole
    assert toks[1:] == parts == code_parts(whole)
    assert analyze(number)[1].split()[0] == fold(whole)


def test_query_parse_phrases_words_and_codes():
    plan = parse('"Chữ ký số" 2256/QĐ-BTTTT van ban')
    assert [w.exact for w in plan.phrases[0]] == ["chữ", "ký", "số"]
    assert [(w.exact, w.folded, w.code) for w in plan.words] == [
        ("2256/qđ-btttt", "2256/qd-btttt", True),
        ("van", "van", False),
        ("ban", "ban", False),
    ]


def test_fuzzy_distance_grows_with_length_and_edit_distance():
    assert [fuzzy_distance(w) for w in ("la", "huyet", "truyenthong")] == [0, 1, 2]
    assert edit_distance("huyct", "huyet") == 1
    assert edit_distance("tial", "tail") == 1  # transposition
    assert edit_distance("abc", "xyz", limit=1) == 2  # early exit above the limit


def test_filter_keys_ignore_case_and_marks():
    assert key("  Chỉ  thị ") == key("chi thi") == "chi thi"
