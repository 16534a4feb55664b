"""The Vietnamese syllable validator and the page-quality signal built on it (pipeline.core.syllables)."""

from __future__ import annotations

import unicodedata

import pytest

from pipeline.core.syllables import is_syllable, judge, rescan_reason, syllable_counts, syllable_share
from pipeline.devtools.samples.texts import SAMPLE_DOCUMENTS

HARD = ("Quyết định nghiêng khuya quốc giữ Chỉ thị thuỷ thủy Hoà hòa gì gìn giếng giết ngoằn ngoèo khuỷu ngoài "
        "xoáy thuở người hươu Nguyễn Việt quýt quỳnh huỳnh khuyên truyện yêu yên ỉa kìa chìa của mùa gửi ngửi "
        "đường phượng buýt xoong boóng ghế ghi nghề kỹ kĩ quý quí khoẻ khỏe toán hoàn uể oải nguệch ngoạc "
        "khuấy huơ giặt rượu ngoáo")


@pytest.mark.parametrize("word", HARD.split())
def test_real_syllables_are_accepted_in_every_case_and_normal_form(word: str) -> None:
    for form in (word, word.upper(), word.capitalize(), unicodedata.normalize("NFD", word)):
        assert is_syllable(form), form


@pytest.mark.parametrize("word", [
    "tlieo",  # no onset tl
    "quyêt",  # a stop coda (t) without sắc or nặng: the tone was dropped
    "ngưòi",  # ư before a plain o: ươ lost its horn
    "Ä",  # đ written in UTF-8 and read as Latin-1 (Ä‘)
    "rn", "vvà", "cl1", "1ập",  # m read as rn, doubled letters, digits for letters
    "hùynh", "hòan", "toàǹ",  # the tone on the wrong vowel before a coda, or two tones
    "qúa", "gìa",  # the tone on the onset's u / i
    "tién", "yén",  # iê / yê without the circumflex
    "ge", "ngi", "ce", "ka", "ghà",  # c/k, g/gh, ng/ngh spelling
    "iên", "tyên",  # iê only after an onset, yê only without one
    "hynh", "bướu̇", "ñam",
])
def test_ocr_garbage_is_rejected(word: str) -> None:
    assert not is_syllable(word)
    assert judge(word) is False


def test_old_and_new_tone_placement_are_both_right_and_nothing_else() -> None:
    for old, new in (("hòa", "hoà"), ("thủy", "thuỷ"), ("khỏe", "khoẻ"), ("lõa", "loã"), ("túy", "tuý")):
        assert is_syllable(old) and is_syllable(new)
    assert is_syllable("hoàng") and not is_syllable("hòang")  # before a coda only on the last vowel
    assert is_syllable("mùa") and not is_syllable("muà")  # ua is a diphthong: on the u
    assert is_syllable("người") and not is_syllable("ngừơi")  # ươ: on the ơ
    assert is_syllable("ngoài") and not is_syllable("ngòai")  # oai: on the a


def test_numbers_codes_single_letters_and_abbreviations_are_not_judged() -> None:
    for token in ("07", "2026", "CT", "BTTTT", "UBND", "HĐND", "a", "đ", "A4", "500đ", "m2", "H5N1", "15a"):
        assert judge(token) is None, token
    assert syllable_counts("Số: 07/CT-BTTTT ngày 05/3/2026 của UBND tỉnh, điểm a khoản 2") == (6, 6)
    assert judge("email") is False and judge("TLIEOXYZ") is False  # foreign words, long capitalised garbage


def test_every_sample_text_is_almost_all_syllables() -> None:
    for document in SAMPLE_DOCUMENTS.values():
        for page in document.pages:
            share = syllable_share(page)
            assert share is not None and share >= 0.98, (document.key, share)  # "dpi" is the one foreign word


def test_share_of_a_garbled_page_and_too_few_words() -> None:
    garbled = "Tlieo quyêt đinh sô 15, Ủy ban nhân dân tỉnh giao cl1o các sở rn ngưòi thực hiện"
    good, judged = syllable_counts(garbled)
    assert (good, judged) == (12, 17)  # đinh, sô: real syllables with the wrong tone, for the confidence to catch
    assert syllable_share(garbled) == pytest.approx(12 / 17, abs=0.001)
    assert syllable_share("CỘNG HÒA XÃ HỘI") is None  # four words: too few to judge
    assert syllable_share("") is None


def test_rescan_reason_is_one_bilingual_line_and_zero_turns_a_signal_off() -> None:
    assert rescan_reason(41.2, 0.95, 60, 0.6) == "độ tin cậy OCR 41 < 60 / OCR confidence 41 < 60"
    both = rescan_reason(41.2, 0.45, 60, 0.6)
    assert both == ("độ tin cậy OCR 41 < 60; âm tiết tiếng Việt 45% < 60% / "
                    "OCR confidence 41 < 60; Vietnamese syllables 45% < 60%")
    assert "\n" not in both
    assert rescan_reason(69.6, 0.795, 70, 0.8) == ("độ tin cậy OCR 69.6 < 70; âm tiết tiếng Việt 79.5% < 80% / "
                                                   "OCR confidence 69.6 < 70; Vietnamese syllables 79.5% < 80%")
    assert rescan_reason(95, 0.99, 60, 0.6) == ""
    assert rescan_reason(None, 0.1, 60, 0.6) == ""  # not OCR'd: no signal
    assert rescan_reason(95, None, 60, 0.6) == ""  # too few words: confidence alone
    assert rescan_reason(41, 0.45, 0, 0) == ""  # both signals off
