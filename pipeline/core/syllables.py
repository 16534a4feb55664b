"""Vietnamese syllables, and the per-page OCR-quality signal built on them (issue 15).

Written Vietnamese is a closed set of syllables, each ``onset + rhyme + tone``, so a word an OCR engine read can
be checked without a dictionary: :func:`is_syllable` is a structural validator of the standard orthography.

- **Onset**: b c ch d đ g gh gi h k kh l m n ng ngh nh p ph qu r s t th tr v x, or none, with the spelling rules
  c/k, g/gh, ng/ngh (k, gh, ngh only before e ê i y; c, g, ng never there) and gi (``gì``, ``giếng`` write the
  i once); ``qu`` carries the glide, so ``qua``, ``quy``, ``quốc`` but no ``quoa``.
- **Rhyme**: one of the vowel clusters of :data:`RHYMES` (medial o/u, nucleus, off-glide: ``oai``, ``uyê``,
  ``ươu`` …) with a coda allowed after it (c ch m n ng nh p t or none); ``iê`` after an onset, ``yê`` without.
- **Tone**: at most one mark (huyền, sắc, hỏi, ngã, nặng), on the nucleus: on the vowel with a quality mark
  (ă â ê ô ơ ư; ``ơ`` in ``ươ``), else the last vowel before a coda (``hoàn``, ``huỳnh``), else the first of
  ``ai ao au ay eo ia iu oi ua ui`` (``mùa``, ``gửi``), the middle of ``oai oay oeo uya uyu``, and either vowel
  of open ``oa oe uy``: old style ``hòa thủy khỏe`` and new style ``hoà thuỷ khoẻ`` are both right. A stop
  coda (c ch p t) takes only sắc or nặng, so ``quyêt`` (a dropped tone) is not a syllable.

Input is NFC-normalised and case-folded, so NFD text and capitals are judged alike. The validator accepts 6,590
of the 6,631 entries of Debian's ``hunspell-vi`` word list (Vietnamese syllables, one an entry); the 41 it rejects
are abbreviations and loanwords (``UBND``, ``email``, ``gen``, ``tivi``, ``basoi``) and ``têt``. It accepts
18,144 forms in all, about three times what the list attests: well-formed syllables nobody writes, never a
misspelt one. The list itself was measured as the judge and not kept: with the confidence it flags about as many
bad pages (75 against 74 of the 136 below), but it has one tone placement only (``uỷ huỷ hoá``), so the most
frequent words of administrative text written the other way (``Ủy``, ``hủy``, ``hóa``) drop its share on good
pages to 0.89 (the validator's: 0.96), and it would have to ship with the project. Misreads that make another
real syllable (``tài liệu`` → ``tải liễu``) pass either way: those are for the confidence to catch.

:func:`syllable_share` is the share of a page's words that are syllables. Numbers, document numbers
(``07/CT-BTTTT``), single letters (list items ``a)``, ``đ)``), numbers with units or codes (``500đ``, ``m2``,
``A4``) and capitalised abbreviations of up to 6 letters (``UBND``, ``HĐND``) are not judged; a letter outside
the Vietnamese alphabet (``Ä``, ``ß``) or a digit inside a word (``cl1``, ``1ập``) makes a word wrong; foreign
words (``email``) count as wrong too, which the threshold allows for.

Measured for the defaults of ``[scan] rescan_confidence`` (70) and ``rescan_syllable_share`` (0.8), tesseract 5.3
``-l vie`` with the confidence of :mod:`pipeline.ocr.hocr`, on 280 renderings of 14 administrative pages (this
project's samples and 8 more) in 20 conditions from a clean 300-dpi scan to 50 dpi, blur, speckle, JPEG, fading,
show-through, stamps and a 6° tilt, each page's CER against its text:

- 108 pages with CER ≤ 5%: confidence 83.8-96.2, share 0.957-1.000 (real English scans from the test corpus,
  ``-l eng``: 89-94). None is flagged at 70 / 0.8: 14 points and 0.16 of room for seals, signatures and
  handwritten notes on real pages.
- 136 pages with CER ≥ 10%: 74 flagged at 70 / 0.8 (61 of the 75 with CER ≥ 30%); 65 at the former 60 / 0.6,
  108 at 80 / 0.9, which leaves no room (it flags 6 of the 19 pages in between).
- Confidence is the stronger signal; the share is the one that sees a page that lost its diacritics: the same
  clean pages read with ``-l eng`` have confidence 79-85 but a share of 0.59-0.74.
- Neither sees text the engine did not find at all (a stamp over a paragraph, a page read as noise: 17 pages
  with no word have no confidence and no flag; a 6° tilt that drops lines keeps 78-83 on the lines it read).
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from pipeline.core.text import nfc

# Tone marks (combining, as NFD writes them) and the quality marks that make ă â ê ô ơ ư.
TONES = {"\u0300": "huyền", "\u0301": "sắc", "\u0309": "hỏi", "\u0303": "ngã", "\u0323": "nặng"}
QUALITY = frozenset("\u0302\u0306\u031b")  # circumflex, breve, horn
STOP_TONES = frozenset("\u0301\u0323")  # the only tones after c ch p t
VOWELS = frozenset("aăâeêioôơuưy")
CONSONANTS = frozenset("bcdđghklmnpqrstvx")
ONSETS = ("ngh", "ng", "nh", "ch", "gh", "gi", "kh", "ph", "qu", "th", "tr",
          "b", "c", "d", "đ", "g", "h", "k", "l", "m", "n", "p", "r", "s", "t", "v", "x", "")
STOPS = frozenset({"c", "ch", "p", "t"})
MARKED = frozenset("ăâêôơư")
FRONT = ("e", "ê", "i", "y")  # k, gh, ngh before these; c, g, ng never

# Vowel cluster (without tone) -> the codas it takes ("-": none, an open syllable).
RHYMES: dict[str, frozenset[str]] = {cluster: frozenset(codas.split()) for cluster, codas in {
    "a": "- c ch m n ng nh p t", "ai": "-", "ao": "-", "au": "-", "ay": "-",
    "ă": "c m n ng p t", "â": "c m n ng p t", "âu": "-", "ây": "-",
    "e": "- c m n ng p t", "eo": "-", "ê": "- ch m n nh p t", "êu": "-",
    "i": "- ch m n nh p t", "ia": "-", "iu": "-", "iê": "c m n ng p t", "iêu": "-", "yê": "m n ng t", "yêu": "-",
    "o": "- c m n ng p t", "oi": "-", "oo": "c ng", "ô": "- c m n ng p t", "ôi": "-",
    "ơ": "- m n p t", "ơi": "-",
    "oa": "- c ch m n ng nh p t", "oai": "-", "oao": "-", "oay": "-", "oă": "c m n ng t", "oe": "- m n t", "oeo": "-",
    "u": "- c m n ng p t", "ua": "-", "ui": "-", "uâ": "n ng t", "uây": "-", "uê": "- ch n nh t",
    "uô": "c m n ng t", "uôi": "-", "uơ": "-",
    "uy": "- ch n nh p t", "uya": "-", "uyu": "-", "uyê": "n t",
    "ư": "- c m n ng t", "ưa": "-", "ưi": "-", "ưu": "-", "ươ": "c m n ng p t", "ươi": "-", "ươu": "-",
    "y": "- ch n nh p t",  # with a coda after qu only: quýt, quỳnh (else uy: huỳnh)
}.items()}
GLIDE_FIRST = frozenset({"oa", "oe", "uy"})  # open: the tone on either vowel (hòa / hoà)
MIDDLE = frozenset({"oai", "oao", "oay", "oeo", "uya", "uyu"})  # the tone on the middle vowel


def _split(word: str) -> tuple[str, int, str] | None:
    """``(letters without tone, index of the toned letter or -1, tone mark)``; None: not Vietnamese letters, or
    more than one tone."""
    letters: list[str] = []
    tone, at = "", -1
    for char in unicodedata.normalize("NFD", word):
        if char in TONES:
            if tone or not letters:
                return None
            tone, at = char, len(letters) - 1
        elif char in QUALITY:
            if not letters:
                return None
            letters[-1] = unicodedata.normalize("NFC", letters[-1] + char)
        else:
            letters.append(char)
    if any(c not in VOWELS and c not in CONSONANTS for c in letters):
        return None
    return "".join(letters), at, tone


def _spelling_fits(onset: str, cluster: str, coda: str) -> bool:
    """The spelling rules between an onset and its rhyme."""
    if cluster.startswith("iê") and onset in ("", "qu"):  # yên, quyết: never iên alone
        return False
    if cluster.startswith("yê") and onset not in ("", "qu"):  # tiến, khuyên (uyê)
        return False
    if cluster == "y" and coda and onset != "qu":  # quýt, quỳnh; elsewhere uy: huỳnh
        return False
    first = cluster[0]
    if onset == "qu":  # the u is the glide: qua, quy, quê, quốc, quơ; never quoa, quuy
        return first not in "ouư"
    if onset == "gi":  # gi + i is written once: gì, giếng (onset g below)
        return first != "i"
    if onset == "g":
        return cluster in ("i", "iê") or first not in FRONT
    if onset in ("k", "gh", "ngh"):
        return first in FRONT
    if onset in ("c", "ng"):
        return first not in FRONT
    return True


def _tone_slots(cluster: str, coda: str) -> tuple[int, ...]:
    marked = [i for i, c in enumerate(cluster) if c in MARKED]
    if marked:
        return (marked[-1],)  # ươ: on the ơ
    if len(cluster) == 1:
        return (0,)
    if coda:
        return (len(cluster) - 1,)
    if cluster in GLIDE_FIRST:
        return (0, 1)
    if cluster in MIDDLE:
        return (1,)
    return (0,)


@lru_cache(maxsize=65536)
def is_syllable(word: str) -> bool:
    """Whether ``word`` (any case, NFC or NFD) is one well-formed Vietnamese syllable."""
    split = _split(nfc(word).lower())
    if split is None:
        return False
    letters, at, tone = split
    for onset in ONSETS:
        if not letters.startswith(onset):
            continue
        rest = letters[len(onset):]
        size = 0
        while size < len(rest) and rest[size] in VOWELS:
            size += 1
        cluster, coda = rest[:size], rest[size:]
        if not cluster or (coda or "-") not in RHYMES.get(cluster, ()):
            continue
        if not _spelling_fits(onset, cluster, coda):
            continue
        if coda in STOPS and tone not in STOP_TONES:
            continue
        if tone and at - len(onset) not in _tone_slots(cluster, coda):
            continue
        return True
    return False


_TOKEN = re.compile(r"[^\W_]+")
_LETTERS = re.compile(r"[^\W\d_]+")
UNITS = frozenset({"đ", "m", "km", "cm", "mm", "dm", "ha", "kg", "ml", "kw", "kwh", "mw", "gb", "mb"})
MIN_WORDS = 5  # fewer judged words on a page: no share (a heading, a signature block)
MAX_ABBREVIATION = 6  # UBND, HĐND, BTTTT, THCS …


def _latin_letters(token: str) -> bool:
    """Only a-z, đ and Vietnamese tone and quality marks (f j w z of foreign words and abbreviations too)."""
    return all("a" <= c <= "z" or c == "đ" or c in TONES or c in QUALITY
               for c in unicodedata.normalize("NFD", token.lower()))


def judge(token: str) -> bool | None:
    """One token of a page: True a syllable, False a wrong word, None not judged (a number, a code, a single
    letter, an abbreviation)."""
    if token.isnumeric():
        return None
    if any(c.isdigit() for c in token):  # 500đ, 10km, m2, A4, H5N1, 15a; not cl1, 1ập
        runs = _LETTERS.findall(token)
        return None if all(r.isupper() or r.lower() in UNITS or len(r) == 1 for r in runs) else False
    if not _latin_letters(token):
        return False  # Ä (UTF-8 read as Latin-1), ß, Cyrillic …
    if len(token) == 1:
        return None
    if is_syllable(token):
        return True
    return None if token.isupper() and len(token) <= MAX_ABBREVIATION else False


def syllable_counts(text: str) -> tuple[int, int]:
    """``(syllables, judged words)`` of ``text``."""
    verdicts = [v for v in map(judge, _TOKEN.findall(nfc(text))) if v is not None]
    return sum(verdicts), len(verdicts)


def syllable_share(text: str, min_words: int = MIN_WORDS) -> float | None:
    """Share (0-1, 3 decimals) of the judged words of ``text`` that are Vietnamese syllables; None with fewer than
    ``min_words`` judged words (too little text to say)."""
    good, judged = syllable_counts(text)
    if judged < max(1, min_words):
        return None
    return round(good / judged, 3)


NO_WORDS = "OCR không tìm thấy chữ nào / OCR found no words"


def rescan_reason(confidence: float | None, share: float | None, min_confidence: float, min_share: float,
                  ocr_applied: bool = False) -> str:
    """Why a page should be scanned again, one line in Vietnamese / English; "" when it need not be. A page with no
    confidence was not OCR'd ("") or, ``ocr_applied``, OCR'd without a word found (:data:`NO_WORDS`: a page
    scanned face down, too faint, or a picture; a person looks). A threshold of 0 turns its signal off."""
    if confidence is None:
        return NO_WORDS if ocr_applied and min_confidence > 0 else ""
    vi: list[str] = []
    en: list[str] = []
    if min_confidence > 0 and confidence < min_confidence:
        figures = _below(confidence, min_confidence, "")
        vi.append(f"độ tin cậy OCR {figures}")
        en.append(f"OCR confidence {figures}")
    if min_share > 0 and share is not None and share < min_share:
        figures = _below(share * 100, min_share * 100, "%")
        vi.append(f"âm tiết tiếng Việt {figures}")
        en.append(f"Vietnamese syllables {figures}")
    return f"{'; '.join(vi)} / {'; '.join(en)}" if vi else ""


def _below(value: float, limit: float, unit: str) -> str:
    """``41 < 60``; with a decimal where rounding would hide the difference (``69.6 < 70``)."""
    digits = 0 if round(value) < round(limit) else 1
    return f"{value:.{digits}f}{unit} < {limit:g}{unit}"
