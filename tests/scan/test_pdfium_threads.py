"""PDFium is not thread-safe: PDFs looked at and read on several threads at once (the API ingests uploaded
batches on ``api.batch_workers`` threads) take turns in it (pipeline.core.pdfium_lock). Without the lock the child below
crashed three times out of three (segmentation fault, or glibc's "malloc(): unaligned tcache chunk"); it runs in a
child process so that a crash fails this test instead of killing the test runner."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

CORPUS = Path(__file__).resolve().parents[1] / "corpus" / "realworld"
CHILD = """
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from pipeline.ocr.text import page_texts
from pipeline.scan.origin import inspect_pdf
from pipeline.scan.pages import iter_pages

def look(path):
    try:
        found = inspect_pdf(path)
        return (found.page_count, [view.image.size for view in iter_pages([path], "pdf")], page_texts(path))
    except Exception as exc:
        return type(exc).__name__

pdfs = sorted(Path(sys.argv[1]).glob("*.pdf"))
alone = [look(p) for p in pdfs]
with ThreadPoolExecutor(4) as pool:
    for _ in range(3):
        assert list(pool.map(look, pdfs)) == alone
print("same", len(pdfs))
"""


def test_pdfs_looked_at_on_four_threads_at_once_give_what_one_thread_gives() -> None:
    pdfs = sorted(CORPUS.glob("*.pdf"))
    assert len(pdfs) >= 20
    done = subprocess.run([sys.executable, "-c", CHILD, str(CORPUS)], capture_output=True, text=True, timeout=600,
                          cwd=Path(__file__).resolve().parents[2])
    assert done.returncode == 0, (done.returncode, done.stderr[-2000:])
    assert done.stdout.split() == ["same", str(len(pdfs))]
