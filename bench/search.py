"""Search benchmark: synthetic Vietnamese archive, per engine and corpus size.

Prints indexing docs/s, index size and warm query latency (p50/p95/p99, whole API call: engine query,
facets and highlighted snippets of the first 10 hits) per query type. One process, sequential queries.

    .venv/bin/python -m bench.search --sizes 10000,100000 --engines tantivy,whoosh --whoosh-max 10000
    .venv/bin/python -m bench.search --sizes 1000 --queries 50          # quick smoke run
    .venv/bin/python -m bench.search --sizes 100000 --million            # adds 1M docs for tantivy

Each size runs twice, side by side: with the word-pair fields (phrases as term lookups) and without them
(phrases by positions); ``--pairs on`` or ``off`` runs one.

The corpus: ~400 syllables per document over two pages, words of 1–3 syllables drawn from a
Zipf distribution (s=1.1) over a vocabulary built from real Vietnamese syllables; metadata fields
(type, issuer, unit, origin, classification, date, signed) and document numbers like ``123/QĐ-UBND``.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import statistics
import tempfile
import time
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

from search import IndexDoc, SearchQuery, open_index
from search.analysis import fold

_SYLLABLE_TEXT = (
    "văn bản điện tử số hóa tài liệu lưu trữ hồ sơ quyết định chỉ thị thông báo công văn kế hoạch báo cáo "
    "giấy mời nghị định thông tư ủy ban nhân dân tỉnh huyện xã phường sở ban ngành cơ quan đơn vị tổ chức "
    "cá nhân công dân doanh nghiệp nhà nước chính phủ bộ trưởng chủ tịch phó giám đốc phòng trung tâm "
    "thực hiện triển khai tăng cường quản lý giám sát kiểm tra thanh tra xử lý vi phạm hành chính cải cách "
    "thủ tục dịch vụ công trực tuyến một cửa liên thông chữ ký chứng thư bảo mật an toàn thông tin mạng "
    "dữ liệu hệ thống phần mềm ứng dụng công nghệ chuyển đổi nền tảng đầu tư xây dựng giao thông vận tải "
    "y tế giáo dục đào tạo văn hóa thể thao du lịch nông nghiệp phát triển nông thôn tài nguyên môi trường "
    "đất đai khoáng sản nước biển đảo khí hậu thiên tai phòng chống dịch bệnh an ninh quốc phòng trật tự "
    "ngân sách thu chi tài chính thuế kho bạc vốn dự án đấu thầu mua sắm tài sản bàn giao nghiệm thu "
    "lao động việc làm thương binh xã hội trẻ em bình đẳng giới dân tộc tôn giáo thi đua khen thưởng kỷ "
    "luật cán bộ công chức viên chức tuyển dụng đánh giá bổ nhiệm nghỉ hưu chế độ chính sách tiền lương "
    "năm tháng ngày quý kỳ họp hội nghị tổng kết sơ kết đề nghị yêu cầu hướng dẫn quy định ban hành sửa "
    "đổi bổ sung bãi bỏ hiệu lực căn cứ luật điều khoản mục nội dung phạm vi đối tượng trách nhiệm nhiệm "
    "vụ giải pháp mục tiêu chỉ tiêu kết quả tồn tại hạn chế nguyên nhân kiến nghị đề xuất phối hợp các "
    "những của và với cho trong trên dưới về theo tại từ đến để được đã đang sẽ không có là này đó như "
    "hơn rất cũng còn nhiều ít mới cũ lớn nhỏ cao thấp tốt xấu nhanh chậm đúng sai rõ ràng cụ thể chung "
    "riêng toàn bộ từng mỗi hai ba bốn năm sáu bảy tám chín mười trăm nghìn triệu tỷ phần trăm người dân"
)
SYLLABLES = _SYLLABLE_TEXT.split()
TYPES = [
    ("Quyết định", "QĐ"),
    ("Chỉ thị", "CT"),
    ("Công văn", "CV"),
    ("Thông báo", "TB"),
    ("Báo cáo", "BC"),
    ("Kế hoạch", "KH"),
    ("Giấy mời", "GM"),
    ("Tờ trình", "TTr"),
]
ISSUERS = [
    ("UBND tỉnh", "UBND"),
    ("Sở Tài chính", "STC"),
    ("Sở Y tế", "SYT"),
    ("Sở Nội vụ", "SNV"),
    ("Sở Giáo dục và Đào tạo", "SGDĐT"),
    ("Sở Xây dựng", "SXD"),
    ("Sở Tư pháp", "STP"),
    ("Bộ Thông tin và Truyền thông", "BTTTT"),
    ("Sở Kế hoạch và Đầu tư", "SKHĐT"),
    ("Công an tỉnh", "CAT"),
]
UNITS = ["Văn phòng", "Phòng Tổng hợp", "Phòng Kế hoạch", "Phòng Pháp chế", "Phòng Tổ chức", "Thanh tra"]
ORIGINS = ["scanned", "born_digital", "mixed"]
LEVELS = ["public"] * 16 + ["internal"] * 2 + ["mat", "toi-mat"]
WORDS_PER_DOC = 400


class Corpus:
    """Deterministic synthetic corpus; documents are generated on the fly (1M do not fit in memory)."""

    def __init__(self, seed: int = 7, vocab_size: int = 8000):
        rnd = random.Random(seed)
        vocab: list[str] = []
        seen: set[str] = set()
        while len(vocab) < vocab_size:
            n = rnd.choices((1, 2, 3), (0.45, 0.45, 0.10))[0]
            w = " ".join(rnd.choices(SYLLABLES, k=n))
            if w not in seen:
                seen.add(w)
                vocab.append(w)
        self.vocab = vocab
        weights = [1 / (r + 1) ** 1.1 for r in range(vocab_size)]
        self.cum = list(_accumulate(weights))
        self.seed = seed

    def doc(self, i: int) -> IndexDoc:
        rnd = random.Random(self.seed * 1_000_003 + i)
        words = rnd.choices(self.vocab, cum_weights=self.cum, k=WORDS_PER_DOC // 2)
        text = " ".join(words).split()[:WORDS_PER_DOC]
        half = len(text) // 2
        typ, tabbr = rnd.choice(TYPES)
        issuer, iabbr = rnd.choice(ISSUERS)
        day = date(2010, 1, 1) + timedelta(days=rnd.randrange(16 * 365))
        title = " ".join(rnd.choices(self.vocab, cum_weights=self.cum, k=rnd.randint(4, 8)))
        return IndexDoc(
            id=f"doc{i:07d}",
            doc_number=f"{i % 5000 + 1}/{day.year}/{tabbr}-{iabbr}",
            title=title[:1].upper() + title[1:],
            doc_type=typ,
            issuer=issuer,
            unit=rnd.choice(UNITS),
            origin=rnd.choice(ORIGINS),
            classification=rnd.choice(LEVELS),
            issued_date=day,
            signed=rnd.random() < 0.6,
            pages=[" ".join(text[:half]) + ".", " ".join(text[half:]) + "."],
        )

    def docs(self, n: int) -> Iterator[IndexDoc]:
        return (self.doc(i) for i in range(n))


def _accumulate(xs):
    total = 0.0
    for x in xs:
        total += x
        yield total


def _queries(corpus: Corpus, n_docs: int, count: int, seed: int = 11) -> dict[str, list[SearchQuery]]:
    rnd = random.Random(seed)
    mid = corpus.vocab[20:400]  # frequent but not the very top
    out: dict[str, list[SearchQuery]] = {k: [] for k in ("term", "phrase", "number", "filtered", "fuzzy")}
    for _ in range(count):
        out["term"].append(SearchQuery(fold(rnd.choice(mid).split()[0])))
        doc = corpus.doc(rnd.randrange(n_docs))
        words = doc.pages[0].rstrip(".").split()
        at = rnd.randrange(len(words) - 3)
        out["phrase"].append(SearchQuery('"' + fold(" ".join(words[at : at + 3])) + '"'))
        number = doc.doc_number if rnd.random() < 0.5 else fold(doc.doc_number)
        out["number"].append(SearchQuery(number))
        typ = rnd.choice(TYPES)[0]
        y = rnd.randint(2010, 2024)
        out["filtered"].append(
            SearchQuery(
                fold(rnd.choice(mid)),
                doc_type=typ,
                date_from=date(y, 1, 1),
                date_to=date(y + 1, 12, 31),
                origin=rnd.choice(ORIGINS),
                clearance="internal",
            )
        )
        word = rnd.choice([w for w in corpus.vocab[:300] if len(w) >= 4])
        damaged = word[:1] + "x" + word[2:]  # one OCR-confused letter
        out["fuzzy"].append(SearchQuery(damaged))
    return out


def _pct(values: list[float], p: float) -> float:
    values = sorted(values)
    k = max(0, min(len(values) - 1, round(p / 100 * (len(values) - 1))))
    return values[k]


def _dir_size(path: Path, exclude: str = "") -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file() and not f.name.startswith(exclude or "\0"))


def _index_path(workdir: Path, engine: str, n_docs: int, pairs: bool) -> Path:
    return workdir / f"{engine}-{n_docs}-{'pairs' if pairs else 'positions'}"


def run(engine: str, n_docs: int, n_queries: int, workdir: Path, corpus: Corpus, pairs: bool = True) -> dict:
    path = _index_path(workdir, engine, n_docs, pairs)
    shutil.rmtree(path, ignore_errors=True)
    ix = open_index(engine, path, with_pairs=pairs)
    t0 = time.perf_counter()
    chunk = 20_000
    for start in range(0, n_docs, chunk):
        ix.add(corpus.doc(i) for i in range(start, min(n_docs, start + chunk)))
    index_s = time.perf_counter() - t0
    result: dict = {
        "engine": engine,
        "docs": n_docs,
        "pairs": pairs,
        "index_s": round(index_s, 1),
        "docs_per_s": round(n_docs / index_s),
        "index_mb": round(_dir_size(path, "pages.sqlite") / 1e6, 1),
        "page_store_mb": round(sum(f.stat().st_size for f in path.glob("pages.sqlite*")) / 1e6, 1),
        "queries": {},
    }
    queries = _queries(corpus, n_docs, n_queries)
    for q in [*queries["term"][:10], *queries["phrase"][:10]]:  # warm up caches
        ix.search(q)
    everything: list[float] = []
    for kind, qs in queries.items():
        times, totals, near = [], [], 0
        for q in qs:
            t = time.perf_counter()
            res = ix.search(q)
            times.append((time.perf_counter() - t) * 1000)
            totals.append(res.total)
            near += res.near_matches
        everything += times
        result["queries"][kind] = {
            "p50_ms": round(_pct(times, 50), 1),
            "p95_ms": round(_pct(times, 95), 1),
            "p99_ms": round(_pct(times, 99), 1),
            "mean_hits": round(statistics.mean(totals)),
            "near_share": round(near / len(qs), 2),
        }
    result["queries"]["all"] = {
        "p50_ms": round(_pct(everything, 50), 1),
        "p95_ms": round(_pct(everything, 95), 1),
        "p99_ms": round(_pct(everything, 99), 1),
    }
    t = time.perf_counter()
    for i in range(min(20, n_docs)):
        ix.suggest(corpus.doc(i).doc_number[:4])
    result["suggest_ms"] = round((time.perf_counter() - t) * 1000 / min(20, n_docs), 1)
    ix.close()
    return result


def _print(r: dict) -> None:
    phrases = "word-pair fields" if r["pairs"] else "positions only (no word-pair fields)"
    print(f"\n## {r['engine']} — {r['docs']:,} documents — phrases by {phrases}")
    print(
        f"indexing: {r['docs_per_s']:,} docs/s ({r['index_s']} s); index {r['index_mb']} MB "
        f"+ page store {r['page_store_mb']} MB; suggest {r['suggest_ms']} ms"
    )
    print(f"{'query type':<10} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'hits':>8} {'near':>5}")
    for kind, s in r["queries"].items():
        print(
            f"{kind:<10} {s['p50_ms']:>8} {s['p95_ms']:>8} {s['p99_ms']:>8} "
            f"{s.get('mean_hits', ''):>8} {s.get('near_share', ''):>5}"
        )


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--engines", default="tantivy,whoosh")
    ap.add_argument("--sizes", default="10000,100000", help="comma-separated corpus sizes")
    ap.add_argument("--whoosh-max", type=int, default=10_000, help="largest size run on Whoosh")
    ap.add_argument("--million", action="store_true", help="also 1,000,000 documents (tantivy only)")
    ap.add_argument("--queries", type=int, default=200, help="queries per type")
    ap.add_argument("--workdir", type=Path, default=None, help="index directory (default: a temp dir)")
    ap.add_argument("--keep", action="store_true", help="keep the indexes")
    ap.add_argument("--json", action="store_true", help="print results as JSON lines too")
    ap.add_argument("--pairs", choices=("both", "on", "off"), default="both",
                    help="word-pair fields for phrases: both side by side (default), or one")
    args = ap.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",") if s]
    if args.million:
        sizes.append(1_000_000)
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="search-bench-"))
    workdir.mkdir(parents=True, exist_ok=True)
    corpus = Corpus()
    print(f"# search benchmark: cpus={os.cpu_count()} queries/type={args.queries} workdir={workdir}")
    try:
        for n in sizes:
            for engine in args.engines.split(","):
                if engine == "whoosh" and n > args.whoosh_max:
                    continue
                if engine != "tantivy" and n >= 1_000_000:
                    continue
                for pairs in {"both": (True, False), "on": (True,), "off": (False,)}[args.pairs]:
                    r = run(engine, n, args.queries, workdir, corpus, pairs)
                    _print(r)
                    if args.json:
                        print(json.dumps(r, ensure_ascii=False))
                    if not args.keep:
                        shutil.rmtree(_index_path(workdir, engine, n, pairs), ignore_errors=True)
    finally:
        if not args.keep and args.workdir is None:
            shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
