"""Memory benchmark: peak RSS of ingesting one scanned document, per page count, against a baseline.

Each page count runs in a fresh child process (so its peak is its own): the child plans a batch holding one
document of N page images (or one N-page scanned PDF with ``--kind pdf``) and runs it through the stage chain
(`process_document`: OCR/PDF/A, page check, signing at B-B with the TEST PKI, storage on a local S3 server).
A sampling thread reads the child's RSS every 50 ms and files it under the stage being run, and reads the peak
RSS (VmHWM) of every program running below it (OCRmyPDF, Tesseract, Ghostscript, qpdf, pdftoppm; short-lived ones
may be missed). Printed per run: the RSS before the document (the baseline of that run), the ingest process's peak
and per-stage peaks, each helper program's peak, and the growth per page between the smallest and the largest page
count. (ru_maxrss is no use here: Linux counts in it the pages of the process a child was forked from.)

    .venv/bin/python -m bench.memory --pages 20,200                 # pages A4 at 200 dpi, about 7 min on 2 cores
    .venv/bin/python -m bench.memory --pages 20,200 --no-ocr         # every stage but Tesseract: minutes
    .venv/bin/python -m bench.memory --pages 5,40 --kind pdf --no-sign
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import random
import subprocess
import sys
import tempfile
import threading
import time
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from bench._instance import port_free

log = logging.getLogger("bench.memory")
UNIQUE_PAGES = 6  # rendered once, then repeated: rendering is not what is measured
TEXT = ("UỶ BAN NHÂN DÂN TỈNH LÂM ĐỒNG\nCông văn số {n}/CV-VP về việc lưu trữ hồ sơ điện tử.\n"
        "Căn cứ Luật Lưu trữ, các cơ quan, tổ chức có trách nhiệm số hóa tài liệu lưu trữ giấy, "
        "bảo đảm tính toàn vẹn, xác thực và sử dụng lâu dài của tài liệu lưu trữ điện tử. ") * 3


def _rss_mb() -> float:
    with open("/proc/self/statm", encoding="ascii") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def _hwm_mb() -> float:
    """This process's peak resident size since it started its program (VmHWM)."""
    for line in Path("/proc/self/status").read_text(encoding="ascii").splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def _descendants() -> dict[str, float]:
    """Peak resident size (VmHWM, MB) of each program running below this process, by program name."""
    parents: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat", encoding="ascii", errors="replace") as fh:
                    parents.setdefault(int(fh.read().rsplit(")", 1)[1].split()[1]), []).append(int(entry))
            except (OSError, IndexError, ValueError):
                continue
    found: dict[str, float] = {}
    todo = list(parents.get(os.getpid(), []))
    ours = Path("/proc/self/cmdline").read_text(encoding="utf-8", errors="replace").split("\0")
    while todo:
        pid = todo.pop()
        todo += parents.get(pid, [])
        try:
            lines = Path(f"/proc/{pid}/status").read_text(encoding="ascii", errors="replace").splitlines()
            status = dict(line.split(":", 1) for line in lines if ":" in line)
            cmd = Path(f"/proc/{pid}/cmdline").read_text(encoding="utf-8", errors="replace").split("\0")
        except OSError:
            continue
        if "VmHWM" not in status or cmd == ours:  # forked, not yet exec'd: it counts our pages as its own
            continue
        name = status["Name"].strip()
        if name.startswith("python") and len(cmd) > 2 and cmd[1] == "-m":
            name = cmd[2]  # python -m ocrmypdf
        found[name] = max(found.get(name, 0.0), int(status["VmHWM"].split()[0]) / 1024)
    return found


def _free_port() -> int:
    for _ in range(1000):
        port = random.randint(21000, 29999)
        if all(port_free(p) for p in (port, port + 10000)):  # SeaweedFS: gRPC on port + 10000
            return port
    raise RuntimeError("no free port")


# ---- the child: one document, measured -------------------------------------------------------------------
def child(home: Path, folder: Path, ocr: bool) -> dict[str, Any]:
    from pipeline.app.process import process_document
    from pipeline.archive import ArchiveStore
    from pipeline.core.settings import load_settings
    from pipeline.scan import plan_batch

    settings = load_settings(home, environ={})
    store = ArchiveStore(settings.s3)
    plan = plan_batch(folder)
    (item,) = plan.documents
    item.needs_ocr = item.needs_ocr and ocr  # --no-ocr: PDF/A without Tesseract, every other stage as usual
    baseline = _rss_mb()
    stage, peaks, helpers, running = ["start"], {}, {}, True

    def sample() -> None:
        while running:
            peaks[stage[0]] = max(peaks.get(stage[0], 0.0), _rss_mb())
            for name, mb in _descendants().items():
                helpers[name] = max(helpers.get(name, 0.0), mb)
            time.sleep(0.05)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    started = time.monotonic()
    outcome, _record, _texts = process_document(item, plan.batch, plan.received_at, settings, store,
                                                progress=lambda s: stage.__setitem__(0, s))
    running = False
    sampler.join()
    # VmHWM, not ru_maxrss: Linux keeps in ru_maxrss the size of the parent this process was forked from
    own = max(_hwm_mb(), *peaks.values())
    return {"pages": item.page_count, "status": outcome.status, "reason": outcome.reason,
            "seconds": round(time.monotonic() - started, 1), "baseline_mb": round(baseline, 1),
            "peak_mb": round(own, 1), "helper_peak_mb": round(max(helpers.values(), default=0.0), 1),
            "stages_mb": {k: round(v, 1) for k, v in peaks.items()},
            "helpers_mb": {k: round(v, 1) for k, v in sorted(helpers.items())}}


# ---- the parent: services, inputs, one child per page count ----------------------------------------------
def _pages(out: Path) -> list[Path]:
    from pipeline.devtools.samples.render import render_page

    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for n in range(1, UNIQUE_PAGES + 1):  # A6 at 400 dpi is A4 at 200 dpi in pixels (1654 x 2331)
        path = out / f"page{n}.png"
        render_page(TEXT.format(n=n), dpi=400, seed=n).save(path, "PNG", dpi=(200, 200))
        paths.append(path)
    return paths


def _document(root: Path, pages: list[Path], count: int, kind: str) -> Path:
    folder = root / f"lo-{kind}-{count}"
    if kind == "images":  # one sub-folder of page images is one document
        for n in range(1, count + 1):
            target = folder / "ho-so" / f"page{n:04d}.png"
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(pages[(n - 1) % len(pages)].read_bytes())
    else:
        from pipeline.devtools.samples.pdfs import make_scanned_pdf

        make_scanned_pdf([pages[(n - 1) % len(pages)] for n in range(count)], folder / "ho-so.pdf")
    return folder


def _setup(home: Path, sign: bool, stack: ExitStack) -> None:
    from pipeline.core.settings import load_settings, write_settings
    from pipeline.devtools.services.s3local import start_s3, stop_s3

    ports = [_free_port() for _ in range(4)]
    settings = load_settings(home, environ={
        "ARCHIVE_S3__ENDPOINT": f"127.0.0.1:{ports[0]}", "ARCHIVE_S3__FILER_PORT": str(ports[1]),
        "ARCHIVE_S3__MASTER_PORT": str(ports[2]), "ARCHIVE_S3__VOLUME_PORT": str(ports[3]),
        "ARCHIVE_S3__ACCESS_KEY": "bench-access", "ARCHIVE_S3__SECRET_KEY": os.urandom(12).hex(),
        "ARCHIVE_S3__BUCKET": "bench-memory", "ARCHIVE_AUDIT__SEAL_KEY": os.urandom(12).hex()})
    settings.sign.enabled = sign
    if sign:
        from pipeline.devtools import init_test_pki
        from pipeline.devtools.responders import Responders
        from pipeline.devtools.testconfig import use_test_pki

        pki = init_test_pki(home / "pki", port=_free_port())
        use_test_pki(settings, pki)
        settings.sign.level, settings.sign.tsa_url = "B-B", ""
        stack.enter_context(Responders(pki.directory))
    write_settings(settings)
    start_s3(settings)
    stack.callback(stop_s3, settings)
    from pipeline.archive import ArchiveStore

    ArchiveStore(settings.s3).ensure_bucket()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", default="20,200", help="page counts, comma-separated")
    parser.add_argument("--kind", choices=("images", "pdf"), default="images")
    parser.add_argument("--no-sign", action="store_true", help="skip the signing stage (no TEST PKI)")
    parser.add_argument("--no-ocr", action="store_true",
                        help="no Tesseract (OCRmyPDF --ocr-engine none): measures every other stage quickly")
    parser.add_argument("--child", nargs=2, metavar=("HOME", "FOLDER"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(Path(args.child[0]), Path(args.child[1]), not args.no_ocr)))
        return
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    counts = sorted(int(c) for c in args.pages.split(","))
    with tempfile.TemporaryDirectory(prefix="bench-memory-") as tmp, ExitStack() as stack:
        root = Path(tmp)
        _setup(root / "home", not args.no_sign, stack)
        pages = _pages(root / "pages")
        env = {k: v for k, v in os.environ.items() if not k.startswith("ARCHIVE_")} | {"OMP_THREAD_LIMIT": "1"}
        runs = []
        for count in counts:
            folder = _document(root, pages, count, args.kind)
            argv = [sys.executable, "-m", "bench.memory", "--child", str(root / "home"), str(folder)]
            done = subprocess.run(argv + ["--no-ocr"] * args.no_ocr, env=env, capture_output=True, text=True,
                                  check=False)
            if done.returncode != 0:
                raise SystemExit(f"child failed for {count} pages:\n{done.stderr[-3000:]}")
            runs.append(json.loads(done.stdout.strip().splitlines()[-1]))
            log.info("%s", json.dumps(runs[-1], ensure_ascii=False))
    _report(runs, args.kind)


def _report(runs: list[dict[str, Any]], kind: str) -> None:
    log.info("\n%-6s %-9s %7s %9s %9s %11s  %s", "pages", "status", "secs", "base MB", "peak MB", "helper MB",
             "stage peaks (MB)")
    for run in runs:
        stages = ", ".join(f"{k} {v:.0f}" for k, v in run["stages_mb"].items())
        programs = ", ".join(f"{k} {v:.0f}" for k, v in run["helpers_mb"].items())
        log.info("%-6d %-9s %7.1f %9.0f %9.0f %11.0f  %s | helpers: %s", run["pages"], run["status"],
                 run["seconds"], run["baseline_mb"], run["peak_mb"], run["helper_peak_mb"], stages, programs)
    if len(runs) >= 2:
        first, last = runs[0], runs[-1]
        span = last["pages"] - first["pages"]
        own = (last["peak_mb"] - last["baseline_mb"] - first["peak_mb"] + first["baseline_mb"]) / span
        helper = (last["helper_peak_mb"] - first["helper_peak_mb"]) / span
        log.info("growth per page (%s): ingest process %+.2f MB, largest helper %+.2f MB", kind, own, helper)


if __name__ == "__main__":
    main()
