"""Pipeline benchmark: the scanned path against raw Tesseract, born-digital throughput, storage per profile, memory.

One run, the same rendered pages and the same cores for every figure (bench/_pages.py: Vietnamese A4 directives,
300 dpi greyscale, every sixth page 200 dpi, tilted 1.5–3°, blurred, grained, speckled, every third one faded):

1. raw ``tesseract PAGE out -l vie`` (OMP_THREAD_LIMIT=1, as the pipeline runs it): one page at a time (wall and
   CPU seconds per page), then one per core at once (wall per page, pages per minute);
1b. raw Tesseract again on the levelled copies the pipeline's OCR reads (pipeline/ocr/skew.py), one page at a time:
   the recognition work the pipeline cannot avoid (raw Tesseract gives up early on pages it cannot read);
2. OCRmyPDF alone on the same pages as one image PDF (img2pdf), with the options the pipeline gives it
   (pipeline/ocr/runner.py: PDF/A-2, --deskew, --rotate-pages, fpdf2 renderer …) and ``--jobs`` = cores;
3. the whole pipeline: a throw-away instance (`archive services up`: Redis, SeaweedFS, the TEST PKI responders, the
   local Celery worker with one pool process per core) and ``archive ingest`` of the pages as documents of
   ``--doc-pages`` pages: intake → OCR → PDF/A → page check → sign (PAdES B-LTA, TEST TSA) → S3 → catalog → index.
   Wall time of the ingest command; CPU of every process involved (the CLI, the worker and everything it runs,
   Redis, the S3 server, the responders) from /proc; mean CPU utilisation = CPU / (wall × cores);
4. KB per page of the stored archive.pdf per storage profile (``ARCHIVE_SCAN__PROFILE``; the instance's default
   profile is read from the run above, the others are ingested again with ``--local``, same pixels);
5. born-digital documents per second: ``--born-digital`` one-page A4 letters (fpdf2, embedded font) through the worker;
6. peak memory while ingesting one ``--big-pages`` scan, sampled every 0.2 s: the sum over the ingest processes (the
   CLI, the worker, its pool and all they run) of their PSS (shared pages once) and of their RSS, the largest single
   process's RSS, the services' RSS apart. Under the default limits, which grow with a document's pages
   (pipeline/app/doc_limits.py).

    .venv/bin/python -m bench.pipeline                                       # 12 pages, 50 PDFs, 500-page scan
    .venv/bin/python -m bench.pipeline --pages 4 --born-digital 10 --big-pages 20      # minutes
    .venv/bin/python -m bench.pipeline --big-pages 0 --json figures.json             # no memory run

With 1-3 the character error rate of what each read against the text drawn on the pages (edit distance over the
pages' characters, NFC, spaces collapsed): raw Tesseract's text, OCRmyPDF's text layer, the stored page texts.

The pipeline's wall time per page is compared with raw Tesseract's with one process per core (all cores busy in
both). Only a quiet machine gives stable figures: every other job's CPU slows the wall times (the report prints the
load and the whole machine's utilisation next to ours).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from importlib.metadata import version
from pathlib import Path
from typing import Any

from bench._instance import Instance, clean_env, running_instance
from bench._pages import born_digital_pdf, page_spec, page_truth, retag, write_page
from bench._procs import Window
from pipeline.devtools.cer import levenshtein, normalise

log = logging.getLogger("bench.pipeline")
PROFILES = ("archival", "standard", "compact")
GIB_MB = 1024.0
ROTATE_THRESHOLD = "3.0"


# ---- inputs ----------------------------------------------------------------------------------------------
def error_rate(pairs: list[tuple[str, str]]) -> float:
    """Character error rate over many pages: edits over characters, (read, truth) pairs pooled."""
    edits = chars = 0
    for got, truth in pairs:
        expected = normalise(truth)
        edits, chars = edits + levenshtein(normalise(got), expected), chars + len(expected)
    return round(edits / max(1, chars), 5)


def render(folder: Path, count: int) -> list[Path]:
    started = time.monotonic()
    with ThreadPoolExecutor(os.cpu_count() or 1) as pool:  # PIL releases the GIL while it filters and encodes
        pages = list(pool.map(lambda n: write_page(page_spec(n), folder / f"page{n:04d}.png"), range(1, count + 1)))
    log.info("rendered %d pages in %.1f s", count, time.monotonic() - started)
    return pages


def copy(source: Path, target: Path) -> None:
    """A copy, not a link: intake refuses a file with more than one hard link."""
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source, target)


# ---- 1. raw Tesseract ------------------------------------------------------------------------------------
def _tesseract(page: Path, out: Path, language: str) -> None:
    subprocess.run(["tesseract", str(page), str(out / page.stem), "-l", language], env=clean_env(),
                   check=True, capture_output=True)


def raw_tesseract(pages: list[Path], out: Path, language: str, cores: int) -> dict[str, Any]:
    out.mkdir(parents=True, exist_ok=True)
    serial_wall = serial_cpu = 0.0
    for page in pages:
        with Window() as window:
            _tesseract(page, out, language)
        serial_wall, serial_cpu = serial_wall + window.wall_s, serial_cpu + window.cpu_s
    log.info("raw tesseract, one page at a time: %.1f s wall, %.1f s CPU", serial_wall, serial_cpu)
    with Window() as window, ThreadPoolExecutor(cores) as pool:
        list(pool.map(lambda p: _tesseract(p, out, language), pages))
    log.info("raw tesseract, %d at once: %.1f s wall, %.1f s CPU", cores, window.wall_s, window.cpu_s)
    read = [((out / page.stem).with_suffix(".txt").read_text(encoding="utf-8"), page_truth(page_spec(number)))
            for number, page in enumerate(pages, start=1)]
    return {"pages": len(pages), "cer": error_rate(read), "levelled": levelled_tesseract(pages, out, language),
            "serial": {"wall_s": round(serial_wall, 2), "cpu_s": round(serial_cpu, 2)},
            "parallel": {"wall_s": round(window.wall_s, 2), "cpu_s": round(window.cpu_s, 2),
                         "machine_util": round(window.machine_util, 3), "processes": cores}}


def levelled_tesseract(pages: list[Path], out: Path, language: str) -> dict[str, Any]:
    """Raw Tesseract again, one page at a time, on the levelled copies the pipeline's OCR reads (pipeline.ocr.skew):
    the recognition work the pipeline cannot avoid. (Raw Tesseract gives up early on the pages it cannot read.)"""
    from PIL import Image

    from pipeline.ocr.skew import level_copy

    folder = out / "levelled"
    folder.mkdir(parents=True, exist_ok=True)
    wall = cpu = 0.0
    read = []
    for number, page in enumerate(pages, start=1):
        with Image.open(page) as pixels:
            pixels.load()
            copy, _ = level_copy(pixels, page_spec(number).dpi, folder / page.stem)
        with Window() as window:
            _tesseract(copy or page, folder, language)
        wall, cpu = wall + window.wall_s, cpu + window.cpu_s
        read.append(((folder / (copy or page).stem).with_suffix(".txt").read_text(encoding="utf-8"),
                     page_truth(page_spec(number))))
    log.info("raw tesseract on levelled copies, one page at a time: %.1f s wall, %.1f s CPU", wall, cpu)
    return {"wall_s": round(wall, 2), "cpu_s": round(cpu, 2), "cer": error_rate(read)}


# ---- 2. OCRmyPDF alone -----------------------------------------------------------------------------------
def ocrmypdf_argv(settings: Any, source: Path, target: Path, jobs: int) -> list[str]:
    """The command the pipeline's OCR stage runs for a scanned PDF (its own builder when it still has one)."""
    ocr = settings.ocr
    try:
        from pipeline.ocr.runner import RunSpec, build_args

        return build_args(RunSpec(input_pdf=source, output_pdf=target, language=ocr.language, ocr=True,
                                  deskew=ocr.deskew, rotate_pages=ocr.rotate_pages, pdfa_part=ocr.pdfa_part,
                                  has_text=False, timeout_s=ocr.timeout_s, jobs=jobs))
    except (ImportError, TypeError) as exc:  # the OCR stage changed: today's options
        log.warning("pipeline.ocr.runner.build_args unusable (%s): using the options of OCRmyPDF as of 2026", exc)
        argv = [sys.executable, "-m", "ocrmypdf", "--output-type", f"pdfa-{ocr.pdfa_part}", "--jobs", str(jobs),
                "--optimize", "1", "--no-progress-bar", "--language", ocr.language, "--pdf-renderer", "fpdf2"]
        argv += ["--deskew"] * ocr.deskew + ["--rotate-pages", "--rotate-pages-threshold", ROTATE_THRESHOLD]
        return [*argv, str(source), str(target)]


def ocrmypdf_alone(pages: list[Path], out: Path, settings: Any, cores: int) -> dict[str, Any]:
    from pipeline.devtools.samples.pdfs import make_scanned_pdf

    out.mkdir(parents=True, exist_ok=True)
    source = make_scanned_pdf(pages, out / "scan.pdf")
    argv = ocrmypdf_argv(settings, source, out / "ocr.pdf", cores)
    with Window() as window:
        done = subprocess.run(argv, env=clean_env(TMPDIR=str(out)), capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"OCRmyPDF exited {done.returncode}:\n{done.stderr[-3000:]}")
    log.info("OCRmyPDF --jobs %d: %.1f s wall, %.1f s CPU", cores, window.wall_s, window.cpu_s)
    from pipeline.ocr.text import page_texts

    read = [(text, page_truth(page_spec(n))) for n, text in enumerate(page_texts(out / "ocr.pdf"), start=1)]
    return {"pages": len(pages), "wall_s": round(window.wall_s, 2), "cpu_s": round(window.cpu_s, 2),
            "cer": error_rate(read),
            "machine_util": round(window.machine_util, 3), "jobs": cores, "argv": argv[2:-2],
            "kb_per_page": round((out / "ocr.pdf").stat().st_size / 1024 / len(pages), 1)}


# ---- 3-6. the whole pipeline -----------------------------------------------------------------------------
def scanned_batch(folder: Path, pages: list[Path], doc_pages: int) -> Path:
    """Documents of ``doc_pages`` consecutive pages, one sub-folder each (the very files rendered above)."""
    for index, page in enumerate(pages):
        copy(page, folder / f"ho-so-{index // doc_pages + 1:03d}" / f"page{index % doc_pages + 1}.png")
    return folder


def stored_cer(inst: Instance, run: Any, doc_pages: int) -> float:
    """The error rate of the stored page texts of ``run``'s archived documents (ho-so-NNN: pages from NNN)."""
    from pipeline.archive import ArchiveStore

    store, read = ArchiveStore(inst.settings().s3), []
    for doc in run.archived:
        first = (int(re.findall(r"ho-so-(\d+)", doc["source"])[-1]) - 1) * doc_pages
        read += [(text, page_truth(page_spec(first + n))) for n, text in enumerate(store.page_texts(doc["id"]), 1)]
    return error_rate(read)


def born_digital_batch(folder: Path, first: int, count: int) -> Path:
    for number in range(first, first + count):
        born_digital_pdf(number, folder / f"van-ban-{number:05d}.pdf")
    return folder


def pipeline_runs(inst: Instance, pages: list[Path], args: argparse.Namespace, cores: int) -> dict[str, Any]:
    results: dict[str, Any] = {}
    warm = inst.ingest(born_digital_batch(inst.intake / "warm-up", 90_000, cores))  # pool processes import
    log.info("warm-up (%d born-digital documents): %.1f s", cores, warm.wall_s)

    run = inst.ingest(scanned_batch(inst.intake / "scanned", pages, args.doc_pages))
    results["pipeline"] = run.to_dict() | {"doc_pages": args.doc_pages, "cer": stored_cer(inst, run, args.doc_pages)}
    log.info("pipeline: %s", json.dumps(results["pipeline"]))
    default = inst.settings().scan.profile
    results["profiles"] = {default: inst.stored_kb_per_page(run) | {"how": "the pipeline run (worker)"}}
    for profile in (p for p in PROFILES if p != default):
        batch = inst.intake / f"profile-{profile}"
        for index, page in enumerate(pages):  # other bytes (a PNG text chunk), same pixels: not a duplicate
            name = f"ho-so-{index // args.doc_pages + 1:03d}/page{index % args.doc_pages + 1}.png"
            retag(page, batch / name, f"profile {profile}")
        again = inst.ingest(batch, local=True, ARCHIVE_SCAN__PROFILE=profile)
        results["profiles"][profile] = inst.stored_kb_per_page(again) | {"how": "ingest --local"}
        log.info("profile %s: %s", profile, results["profiles"][profile])

    if args.born_digital:
        born = inst.ingest(born_digital_batch(inst.intake / "born-digital", 1, args.born_digital))
        results["born_digital"] = born.to_dict()
        log.info("born-digital: %s", json.dumps(results["born_digital"]))
    if args.big_pages:
        big = inst.intake / "big-scan"
        unique = [retag(page, big / "unique" / page.name, "big scan") for page in pages]
        for number in range(args.big_pages):
            copy(unique[number % len(unique)], big / "batch" / "so-luu-tru" / f"page{number + 1:04d}.png")
        log.info("ingesting one %d-page scan (memory sampled every 0.2 s)", args.big_pages)
        scan = inst.ingest(big / "batch", rss=True)
        results["big_scan"] = scan.to_dict() | {"pages_asked": args.big_pages}
        log.info("big scan: %s", json.dumps(results["big_scan"]))
    return results


# ---- figures ---------------------------------------------------------------------------------------------
def rows(res: dict[str, Any]) -> list[tuple[str, str, str, str]]:
    """(figure, value, target, verdict) for the report; verdict PASS, FAIL or '' (no target)."""
    cores = res["machine"]["cores"]
    raw, out = res["tesseract"], []
    raw_wall, raw_cpu = raw["serial"]["wall_s"] / raw["pages"], raw["serial"]["cpu_s"] / raw["pages"]
    raw_all = raw["parallel"]["wall_s"] / raw["pages"]
    out.append(("raw tesseract, one page at a time", f"{raw_wall:.2f} s wall, {raw_cpu:.2f} s CPU per page", "", ""))
    out.append(("character error rate: raw tesseract", f"{raw['cer']:.2%}", "", ""))
    if (level := raw.get("levelled")) is not None:
        out.append(("raw tesseract on levelled copies, one at a time", f"{level['wall_s'] / raw['pages']:.2f} s wall, "
                    f"{level['cpu_s'] / raw['pages']:.2f} s CPU per page; error rate {level['cer']:.2%}", "", ""))
    out.append((f"raw tesseract, {cores} at once", f"{raw_all:.2f} s wall per page, {60 / raw_all:.1f} pages/min, "
                f"CPU {raw['parallel']['cpu_s'] / (raw['parallel']['wall_s'] * cores):.0%} of {cores} cores; machine "
                f"{raw['parallel']['machine_util']:.0%}", "", ""))
    if (ocr := res.get("ocrmypdf")) is not None:
        wall, cpu = ocr["wall_s"] / ocr["pages"], ocr["cpu_s"] / ocr["pages"]
        out.append((f"OCRmyPDF alone (--jobs {ocr['jobs']})", f"{wall:.2f} s wall ({wall / raw_all:.2f}×), "
                    f"{cpu:.2f} s CPU ({cpu / raw_cpu:.2f}×) per page", "", ""))
        out.append(("character error rate: OCRmyPDF alone", f"{ocr['cer']:.2%}", "", ""))
    pipe = res.get("pipeline")
    if pipe and pipe["pages"]:
        wall, cpu = pipe["wall_s"] / pipe["pages"], pipe["cpu_s"] / pipe["pages"]
        ratio, util = wall / raw_all, pipe["cpu_s"] / (pipe["wall_s"] * cores)
        out.append(("pipeline, wall per page (ratio to raw, all cores)", f"{wall:.2f} s ({ratio:.2f}×)", "≤ 1.10×",
                    _verdict(ratio <= 1.10)))
        levelled = f"; {cpu / (level['cpu_s'] / raw['pages']):.2f}× levelled" if level is not None else ""
        out.append(("pipeline, CPU per page, every process", f"{cpu:.2f} s ({cpu / raw_cpu:.2f}×{levelled})", "", ""))
        out.append(("character error rate: pipeline (stored text)", f"{pipe['cer']:.2%} ({pipe['archived']} "
                    f"documents)", "≤ 0.75%", _verdict(pipe["cer"] <= 0.0075)))
        out.append(("pipeline, pages per minute", f"{60 / wall:.1f} ({pipe['archived']}/{pipe['documents']} "
                    f"documents archived)", "", ""))
        out.append(("pipeline, mean CPU utilisation (ours; machine)",
                    f"{util:.0%} of {cores} cores; machine {pipe['machine_util']:.0%}", "≥ 90%", _verdict(util >= 0.9)))
    for profile, got in res.get("profiles", {}).items():
        target = "≤ 300 KB" if profile == "standard" else ""
        out.append((f"stored KB per page, {profile}", f"{got['kb_per_page']:,.0f} KB ({got['pages']} pages)", target,
                    _verdict(got["kb_per_page"] <= 300) if target and got["pages"] else ""))
    if (born := res.get("born_digital")) is not None:
        rate = born["archived"] / born["wall_s"]
        out.append(("born-digital documents per second", f"{rate:.2f} ({born['archived']}/{born['documents']} "
                    f"archived, {born['cpu_s'] / max(1, born['archived']):.2f} CPU s each)", "≥ 10",
                    _verdict(rate >= 10)))
    if (big := res.get("big_scan")) is not None:
        rss, pages = big["rss"], big["pages_asked"]
        out.append((f"{pages}-page scan, peak memory, all ingest processes",
                    f"PSS {rss['peak_total_pss_mb']:,} MB (RSS sum {rss['peak_total_mb']:,} MB; PSS "
                    f"{rss.get('start_pss_mb', 0):,} MB at the start)", "< 1 GiB",
                    _memory_verdict(rss["peak_total_pss_mb"], pages, big["archived"])))
        largest = f"{rss['peak_largest_mb']:,} MB ({rss['largest']})"
        out.append((f"{pages}-page scan, peak RSS, largest process", largest, "< 1 GiB",
                    _memory_verdict(rss["peak_largest_mb"], pages, big["archived"])))
        rate = big["pages"] / big["wall_s"] * 60
        out.append((f"{pages}-page scan, services; speed", f"{rss['services_peak_mb']:,} MB RSS; {rate:.1f} pages/min",
                    "", ""))
    return out


def _verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


def _memory_verdict(mb: float, pages: int, archived: int) -> str:
    """Below 1 GiB with fewer than 500 pages says nothing of 500 pages; above it, or not archived, fails."""
    if mb >= GIB_MB or not archived:
        return "FAIL"
    return "PASS" if pages >= 500 else f"n/a ({pages} p.)"


def report(res: dict[str, Any]) -> str:
    m, p = res["machine"], res["pages"]
    lines = [f"# pipeline benchmark {m['date']}: {m['cores']} cores, load average {m['load_start']} at the start, "
             f"{m.get('load_end', '?')} at the end; {p['count']} A4 pages ({p['dpi300']} at 300 dpi, "
             f"{p['count'] - p['dpi300']} at 200, {p['faded']} faded, tilted 1.5–3°) in documents of "
             f"{p.get('doc_pages', '?')}; tesseract {m['tesseract']}, OCRmyPDF {m['ocrmypdf']}"]
    table = [("figure", "value", "target", "verdict"), *rows(res)]
    widths = [max(len(r[i]) for r in table) for i in range(3)]
    for figure, value, target, verdict in table:
        lines.append(f"{figure:<{widths[0]}}  {value:<{widths[1]}}  {target:<{widths[2]}}  {verdict}".rstrip())
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pages", type=int, default=12, help="scanned pages rendered and measured")
    ap.add_argument("--doc-pages", type=int, default=2, help="pages per scanned document in the pipeline run")
    ap.add_argument("--born-digital", type=int, default=50, help="one-page born-digital PDFs (0: skip)")
    ap.add_argument("--big-pages", type=int, default=500, help="pages of the memory run's scan (0: skip)")
    ap.add_argument("--json", type=Path, default=None, help="also write every figure to this JSON file")
    ap.add_argument("--keep", action="store_true", help="keep the work folder (pages, outputs, the instance)")
    args = ap.parse_args(argv)
    if args.pages < 1 or args.doc_pages < 1:
        ap.error("--pages and --doc-pages must be at least 1")
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(message)s", datefmt="%H:%M:%S")
    log.setLevel(logging.INFO)  # fpdf2's font subsetter logs every glyph at INFO
    for name in [k for k in os.environ if k.startswith("ARCHIVE_")]:  # the services inherit this environment
        del os.environ[name]
    cores = os.cpu_count() or 1
    specs = [page_spec(n) for n in range(1, args.pages + 1)]
    tesseract = subprocess.run(["tesseract", "--version"], capture_output=True, text=True, check=True)
    res: dict[str, Any] = {
        "machine": {"cores": cores, "load_start": round(os.getloadavg()[0], 1),
                    "date": datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %z"),
                    "tesseract": tesseract.stdout.split()[1], "ocrmypdf": version("ocrmypdf")},
        "pages": {"count": args.pages, "dpi300": sum(s.dpi == 300 for s in specs),
                  "faded": sum(s.faded for s in specs), "doc_pages": args.doc_pages},
        "args": {k: str(v) for k, v in vars(args).items()}}
    work = Path(tempfile.mkdtemp(prefix="bench-pipeline-"))
    try:
        from pipeline.core.settings import load_settings

        pages = render(work / "pages", args.pages)
        settings = load_settings(work / "home", environ={})  # the defaults: what the instance below runs with
        # raw Tesseract and OCRmyPDF before the services start: nothing else of ours runs meanwhile
        res["tesseract"] = raw_tesseract(pages, work / "tesseract", settings.ocr.language, cores)
        res["ocrmypdf"] = ocrmypdf_alone(pages, work / "ocrmypdf", settings, cores)
        with running_instance(work / "home") as inst:
            res |= pipeline_runs(inst, pages, args, cores)
        res["machine"]["load_end"] = round(os.getloadavg()[0], 1)
    finally:
        if args.keep:
            log.info("work folder kept: %s", work)
        else:
            shutil.rmtree(work, ignore_errors=True)
    if args.json:
        args.json.write_text(json.dumps(res, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    print(report(res))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
