from tests.ocr.helpers import cer


def test_cer_counts_lost_diacritics() -> None:
    assert cer("văn bản", "văn bản") == 0
    assert cer("van ban", "văn bản") == 2 / 7
    assert cer("văn\n  bản", "văn bản") == 0
