"""The shared analyzer: the same function at index and query time, so these properties hold for both."""

from __future__ import annotations

import unicodedata

import pytest

from search.analysis import (
    analyze,
    code_leads,
    code_parts,
    edit_distance,
    fold,
    fold_token,
    fuzzy_distance,
    key,
    numeric_lead,
    tokens,
)
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
    ("number", "whole", "parts", "leads"),
    [
        ("07/CT-BTTTT", "07/ct-btttt", ["07", "ct-btttt", "ct", "btttt"], ["07/ct"]),
        ("2256/QĐ-BTTTT", "2256/qđ-btttt", ["2256", "qđ-btttt", "qđ", "btttt"], ["2256/qđ"]),
        ("28/2018/QĐ-TTg", "28/2018/qđ-ttg", ["28", "2018", "qđ-ttg", "qđ", "ttg"], ["28/2018", "28/2018/qđ"]),
    ],
)
def test_document_numbers_whole_by_parts_and_by_leading_parts(number, whole, parts, leads):
    toks = tokens(number)
    assert toks[0] == whole
    assert toks[1:] == parts + leads
    assert parts == code_parts(whole) and leads == code_leads(whole)
    assert analyze(number)[1].split()[0] == fold(whole)


@pytest.mark.parametrize(
    ("one", "other"),
    [("kí", "ký"), ("lí", "lý"), ("mĩ", "mỹ"), ("quí", "quý"), ("tỉ", "tỷ"), ("sĩ", "sỹ"), ("hi", "hy"), ("Vi", "Vy"),
     ("KÍ", "KÝ")],
)
def test_i_and_y_spellings_fold_together(one, other):
    assert fold(one) == fold(other)
    assert analyze(f"chỉnh {one}")[0] != analyze(f"chỉnh {other}")[0]  # the exact form keeps the user's spelling


@pytest.mark.parametrize(("one", "other"), [("tai", "tay"), ("mai", "may"), ("tui", "tuy"), ("khi", "khy"),
                                            ("thi", "thy"), ("gi", "gy"), ("i", "y")])
def test_other_i_and_y_words_stay_apart(one, other):
    assert fold(one) != fold(other)


@pytest.mark.parametrize(
    ("scanned", "typed"),
    [("45/2O20/QÐ-UBND", "45/2020/QĐ-UBND"), ("4S/2020/QĐ-UBND", "45/2020/QĐ-UBND"), ("l5/CT-TTg", "15/CT-TTg")],
)
def test_ocr_letters_for_digits_in_a_number_fold_to_the_digits(scanned, typed):
    assert analyze(scanned)[1] == analyze(typed)[1]


def test_words_with_letters_keep_them():
    assert [fold_token(t) for t in ("so", "covid19", "ubnd", "2019-2025", "qđ-ubnd")] == [
        "so", "covid19", "ubnd", "2019-2025", "qd-ubnd"]


def test_numeric_lead_anchors_only_long_enough_digits():
    assert numeric_lead("45/2020/qd-ubnd") == "45/2020"
    assert numeric_lead("2256/qd-btttt") == "2256"
    assert numeric_lead("07/ct-btttt") == ""  # too common a token to anchor a tolerant match
    assert numeric_lead("2019-2025") == ""  # no letters: nothing to tolerate


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


def test_word_pairs_follow_the_words_and_stop_at_numbers():
    from search.analysis import analyze_with_pairs, pairs

    text = "Quyết định số 28/2018/QĐ-TTg về chữ ký số"
    exact, folded, joined = analyze_with_pairs(text)
    assert (exact, folded) == analyze(text)
    assert joined == pairs(text) == "quyet_dinh dinh_so ve_chu chu_ky ky_so"
    assert pairs("chỉnh lí") == pairs("chỉnh lý") == "chinh_ly"
