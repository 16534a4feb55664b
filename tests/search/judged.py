"""A judged query set over a distractor archive, built the way staff search (issue 16's relevance set).

Documents are built from the same administrative vocabulary, so every query word is found in hundreds of
documents and ranking decides: each target is the only document holding its (action, object, place) together;
the ~5,000 distractors hold other combinations, and the same words apart. Numbers of targets (9xx) are never
given to a distractor, so a citation's relevant documents are known exactly. Classes:

- ``spelling``: the query uses the other correct i/y spelling (lí/lý, kĩ/kỹ, quí/quý, tỉ/tỷ…) or the other
  tone placement (thuỷ/thủy, hoà/hòa);
- ``citation``: a decision cited by its number and year only ("quyet dinh 945/2021"): the decision and the
  documents citing it are relevant;
- ``ocr_number``: the whole number typed correctly; a scanned citation of it reads ``2O21``, ``Ð`` or ``U8ND``;
- ``no_marks``: the topic typed without diacritics;
- ``phrase``: a quoted phrase;
- ``rare``: a rare word and the place.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date

from search import IndexDoc
from search.analysis import fold

DISTRACTORS = 5000
PER_CLASS = 36

ACTIONS = [
    "kiểm kê", "bảo quản", "tiêu hủy", "thẩm định", "phê duyệt", "nghiệm thu", "giao nộp", "sắp xếp",
    "thống kê", "rà soát", "thanh lý", "tu bổ", "khôi phục", "lập danh mục", "xác minh", "chuyển giao",
]
OBJECTS = [
    "hồ sơ địa chính", "tài liệu tồn đọng", "sổ hộ tịch", "bản đồ quy hoạch", "hồ sơ cán bộ", "hồ sơ đất đai",
    "chứng từ kế toán", "hồ sơ dự án", "tài liệu phông lưu trữ", "hồ sơ thanh tra", "sổ đăng ký đất",
    "hồ sơ xây dựng", "tài liệu khoa học", "hồ sơ thi đua", "hồ sơ bảo hiểm", "bản vẽ thiết kế", "hồ sơ mời thầu",
    "tài liệu nghe nhìn", "hồ sơ tố cáo", "hồ sơ công chứng",
]
PLACES = [
    "Đại Lộc", "Điện Bàn", "Duy Xuyên", "Thăng Bình", "Quế Sơn", "Hiệp Đức", "Tiên Phước", "Bắc Trà My",
    "Nam Trà My", "Phú Ninh", "Núi Thành", "Nông Sơn", "Đông Giang", "Tây Giang", "Nam Giang", "Phước Sơn",
    "Hội An", "Tam Kỳ", "Hòa Vang", "Cẩm Lệ", "Sơn Trà", "Liên Chiểu", "Ngũ Hành Sơn", "Thanh Khê", "Hải Châu",
    "Bình Sơn", "Sơn Tịnh", "Tư Nghĩa", "Mộ Đức", "Đức Phổ", "Ba Tơ", "Minh Long", "Sơn Hà", "Trà Bồng",
    "Lý Sơn", "Nghĩa Hành", "An Nhơn", "Tuy Phước", "Phù Cát", "Hoài Nhơn",
]
# (the spelling in the document, the other correct spelling the query uses)
VARIANTS = [
    ("chỉnh lý", "chỉnh lí"), ("kỹ thuật", "kĩ thuật"), ("quý", "quí"), ("tỷ lệ", "tỉ lệ"), ("mỹ thuật", "mĩ thuật"),
    ("lý lịch", "lí lịch"), ("sỹ quan", "sĩ quan"), ("hy sinh", "hi sinh"), ("ký kết", "kí kết"),
    ("quy chế", "qui chế"), ("địa lý", "địa lí"), ("công ty", "công ti"), ("kỷ luật", "kỉ luật"),
    ("thủy lợi", "thuỷ lợi"), ("hòa giải", "hoà giải"), ("kỹ năng", "kĩ năng"), ("lý luận", "lí luận"),
    ("thủy sản", "thuỷ sản"),
]
RARE = [  # one per target of the class: a word no other document has
    "cồng chiêng", "ghe bầu", "yến sào", "san hô", "mộc bản", "sắc phong", "gốm Thanh Hà", "chiếu cói",
    "trống đồng", "bia tiến sĩ", "hát bội", "bài chòi", "nhã nhạc", "đình làng", "lăng Ông", "tháp Chăm",
    "rùa biển", "quế thanh", "sâm Ngọc Linh", "đèn lồng", "nước mắm", "tơ lụa", "nón lá", "đá mỹ nghệ",
    "gỗ trầm", "khăn piêu", "hò khoan", "múa lân", "giếng cổ", "thuyền thúng", "đồng bạc cổ", "tượng gỗ",
    "gia phả", "địa bạ", "châu bản", "hương ước",
]
ISSUERS = [("UBND", "Ủy ban nhân dân"), ("STC", "Sở Tài chính"), ("SNV", "Sở Nội vụ"), ("STP", "Sở Tư pháp"),
           ("SXD", "Sở Xây dựng"), ("SYT", "Sở Y tế")]
TYPES = [("QĐ", "Quyết định"), ("KH", "Kế hoạch"), ("TB", "Thông báo"), ("BC", "Báo cáo"), ("CT", "Chỉ thị")]
FILLER = [
    "Giao các phòng chuyên môn phối hợp thực hiện và báo cáo kết quả trước ngày cuối tháng.",
    "Kinh phí thực hiện từ nguồn ngân sách nhà nước được giao trong năm.",
    "Các cơ quan, đơn vị nghiêm túc triển khai, định kỳ báo cáo tiến độ về Văn phòng.",
    "Trong quá trình thực hiện, nếu có vướng mắc, đề nghị phản ánh kịp thời để xem xét giải quyết.",
    "Quyết định này có hiệu lực kể từ ngày ký; Chánh Văn phòng chịu trách nhiệm thi hành.",
    "Nơi nhận: như trên; lưu VT, lưu trữ cơ quan.",
]


@dataclass
class Judged:
    cls: str
    text: str
    relevant: set[str]


def _sentence(action: str, obj: str, place: str) -> str:
    return f"Tổ chức {action} {obj} tại {place}."


def _doc(doc_id: str, number: str, title: str, body: list[str], origin: str = "born_digital",
         year: int = 2021) -> IndexDoc:
    code = number.split("/")[-1]
    typ = next((name for abbr, name in TYPES if code.startswith(abbr)), "Công văn")
    return IndexDoc(id=doc_id, doc_number=number, title=title, doc_type=typ, issuer=code.split("-")[-1],
                    origin=origin, issued_date=date(year, 1 + int(doc_id[-2:]) % 12, 1 + int(doc_id[-1]) * 2),
                    signed=origin != "scanned", pages=[" ".join(body)])


def _damaged(number: str, n: int) -> str:
    """A scanned citation's OCR damage, a different one by n: 0→O in the year, Đ→Ð, a letter of the issuer."""
    if n % 3 == 0:
        head, year, rest = number.split("/", 2)
        return f"{head}/{year.replace('0', 'O', 1)}/{rest}"
    if n % 3 == 1:
        return number.replace("Đ", "Ð")
    head, issuer = number.rsplit("-", 1)
    return f"{head}-{LETTER_DAMAGE[issuer]}"


# One wrong character in the issuer's code, as OCR makes them: caught by the tolerant match, not by folding.
LETTER_DAMAGE = {"UBND": "U8ND", "STC": "5TC", "SNV": "SMV", "STP": "STF", "SXD": "5XD", "SYT": "SY7"}


def build(seed: int = 16) -> tuple[list[IndexDoc], list[Judged]]:
    """The archive (targets, citing documents, distractors) and its judged queries, the same for every seed
    run (deterministic)."""
    rng = random.Random(seed)
    triples = [(a, o, p) for a in ACTIONS for o in OBJECTS for p in PLACES]
    rng.shuffle(triples)
    classes = ("spelling", "citation", "ocr_number", "no_marks", "phrase", "rare")
    taken = triples[: PER_CLASS * len(classes)]
    docs: list[IndexDoc] = []
    judged: list[Judged] = []
    for k, (action, obj, place) in enumerate(taken):
        cls = classes[k // PER_CLASS]
        tid = f"t{k:03d}"
        abbr, typ = TYPES[k % len(TYPES)] if cls not in ("citation", "ocr_number") else TYPES[0]
        issuer = ISSUERS[k % len(ISSUERS)][0]
        number = f"{900 + k % 100}/{2015 + k % 9}/{abbr}-{issuer}"
        year = 2015 + k % 9
        topic = f"{action} {obj} tại {place}"
        body = [_sentence(action, obj, place), rng.choice(FILLER), rng.choice(FILLER)]
        title = f"{typ} về việc {topic}"
        if cls == "spelling":
            doc_word, query_word = VARIANTS[k % len(VARIANTS)]
            title = f"{typ} về {doc_word} {obj} tại {place}"
            body.insert(0, f"Về công tác {doc_word} {obj} tại {place} năm {year}.")
            judged.append(Judged(cls, f"{query_word} {obj} {place}", {tid}))
        elif cls == "citation":
            citer = f"c{k:03d}"
            docs.append(_doc(citer, f"{k + 3}/{year}/CV-SNV", f"Công văn triển khai {obj}",
                             [f"Căn cứ {typ} số {number} của {ISSUERS[k % len(ISSUERS)][1]}.", rng.choice(FILLER)]))
            head = "/".join(number.split("/")[:2])
            query = [f"quyet dinh {head}", f"Quyết định số {head}", f"{head}/QĐ"][k % 3]
            judged.append(Judged(cls, query, {tid, citer}))
        elif cls == "ocr_number":
            citer = f"s{k:03d}"
            docs.append(_doc(citer, f"{k + 3}/{year}/CV-STP", f"Công văn thực hiện {obj}",
                             [f"Thực hiện {typ} số {_damaged(number, k)} về {obj}.", rng.choice(FILLER)],
                             origin="scanned"))
            judged.append(Judged(cls, number, {tid, citer}))
        elif cls == "no_marks":
            judged.append(Judged(cls, fold(f"{action} {obj} {place}").lower(), {tid}))
        elif cls == "phrase":
            judged.append(Judged(cls, f'"{action} {obj}" {place}', {tid}))
        else:
            rare = RARE[k % PER_CLASS]
            body.insert(1, f"Hồ sơ gồm tư liệu về {rare} của địa phương.")
            judged.append(Judged(cls, f"{rare} {place}", {tid}))
        docs.append(_doc(tid, number, title, body, year=year))
    rest = triples[len(taken):]
    for n in range(DISTRACTORS):
        action, obj, place = rest[n % len(rest)]
        others = [rest[rng.randrange(len(rest))] for _ in range(3)]
        body = [_sentence(action, obj, place)] + [f"Đồng thời {a} {o} ở {p}." for a, o, p in others]
        body += [f"Căn cứ Quyết định số {rng.randrange(1, 800)}/{rng.randrange(2015, 2024)}/QĐ-"
                 f"{ISSUERS[rng.randrange(len(ISSUERS))][0]}.", rng.choice(FILLER), rng.choice(FILLER)]
        abbr, typ = TYPES[n % len(TYPES)]
        number = f"{rng.randrange(1, 800)}/{rng.randrange(2015, 2024)}/{abbr}-{ISSUERS[n % len(ISSUERS)][0]}"
        docs.append(_doc(f"x{n:05d}", number, f"{typ} về việc {action} {obj} tại {place}", body,
                         origin=("scanned", "born_digital")[n % 2]))
    return docs, judged
