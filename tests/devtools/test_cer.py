"""The character error rate used by the OCR tests and the pipeline benchmark (pipeline/devtools/cer.py): its numpy
edit distance equals the textbook one, and text is compared NFC with spaces collapsed."""

from __future__ import annotations

import random
import unicodedata

from pipeline.devtools.cer import cer, levenshtein


def _textbook(a: str, b: str) -> int:
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, start=1):
        current = [i]
        for j, cb in enumerate(b, start=1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb)))
        previous = current
    return previous[-1]


def test_edit_distance_equals_the_textbook_one() -> None:
    rng = random.Random(5)
    for _ in range(400):
        a = "".join(rng.choice("aăâđ ơ1") for _ in range(rng.randint(0, 25)))
        b = "".join(rng.choice("aăâđ ơ1") for _ in range(rng.randint(0, 25)))
        assert levenshtein(a, b) == _textbook(a, b), (a, b)
    assert levenshtein("kitten", "sitting") == 3 and levenshtein("", "abc") == 3 and levenshtein("abc", "") == 3


def test_error_rate_ignores_layout_and_unicode_form() -> None:
    truth = "Quyết định số 07/CT-BTTTT\nvề lưu trữ"
    assert cer(unicodedata.normalize("NFD", truth).replace("\n", "  "), truth) == 0.0
    assert cer("Quyet dinh so 07/CT-BTTTT ve luu tru", truth) == 7 / len("Quyết định số 07/CT-BTTTT về lưu trữ")
    assert cer("", truth) == 1.0
