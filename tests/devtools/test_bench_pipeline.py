"""The pure parts of bench/pipeline.py (the benchmark itself runs by hand): its test pages, the /proc accounting of CPU
and memory it relies on, and the table of figures with a verdict per target. A few seconds."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pikepdf
from PIL import Image

from bench._pages import born_digital_pdf, page_spec, page_text, page_truth, retag, write_page
from bench._procs import RssSampler, Window
from bench.pipeline import error_rate, report, rows

BURN = "import time\nt = time.process_time()\nwhile time.process_time() - t < 0.4: pass"


def test_pages_are_degraded_a4_scans_mostly_at_300_dpi() -> None:
    specs = [page_spec(n) for n in range(1, 13)]
    assert [s.dpi for s in specs].count(300) == 10 and [s.dpi for s in specs].count(200) == 2
    assert all(1.5 <= abs(s.tilt_deg) <= 3.0 for s in specs) and {s.tilt_deg > 0 for s in specs} == {True, False}
    assert sum(s.faded for s in specs) == 4
    assert page_spec(5) == specs[4]  # deterministic


def test_a_page_image_and_its_retagged_copy(tmp_path: Path) -> None:
    spec = page_spec(6)  # the 200-dpi one: the quickest to render
    path = write_page(spec, tmp_path / "page.png")
    copy = retag(path, tmp_path / "copy.png", "profile compact")
    with Image.open(path) as page, Image.open(copy) as other:
        assert page.mode == "L" and page.size == (1654, 2339)  # A4 at 200 dpi
        assert round(page.info["dpi"][0]) == 200 and round(other.info["dpi"][0]) == 200
        assert page.tobytes() == other.tobytes()  # same pixels …
        dark = sum(page.histogram()[:128]) / (page.width * page.height)
        assert 0.02 < dark < 0.3  # a page of text, not a blank one
    assert path.read_bytes() != copy.read_bytes()  # … other bytes, so another document id


def test_the_text_drawn_on_a_page_is_known_and_pooled_error_rates_weigh_by_length() -> None:
    truth = page_truth(page_spec(6))
    assert truth.startswith(page_text(6)[0]) and len(truth) > 1500  # the heading first, then a full page
    assert error_rate([(truth, truth)]) == 0.0 and error_rate([("", truth)]) == 1.0
    assert error_rate([("", "ab"), ("abcdefgh", "abcdefgh")]) == 0.2  # 2 edits over 10 characters, not (1 + 0) / 2


def test_born_digital_letter_is_one_a4_page_with_text(tmp_path: Path) -> None:
    with pikepdf.open(born_digital_pdf(7, tmp_path / "letter.pdf")) as pdf:
        (page,) = pdf.pages
        assert [round(float(v)) for v in page.mediabox] == [0, 0, 595, 842]
        assert "/Font" in page.Resources


def test_cpu_of_children_and_grandchildren_is_counted() -> None:
    with Window() as window:
        subprocess.run([sys.executable, "-c", BURN], check=True)
        subprocess.run(["sh", "-c", f'"{sys.executable}" -c "$0"; true', BURN], check=True)  # a grandchild
    assert window.cpu_s >= 0.75 and window.wall_s >= window.cpu_s * 0.5
    assert 0 <= window.machine_util <= 1


def test_rss_sampler_sees_a_growing_child() -> None:
    code = "import time\ntime.sleep(0.5)\nx = bytearray(80 * 2**20)\nx[::4096] = b'1' * len(x[::4096])\ntime.sleep(1.5)"
    child = subprocess.Popen([sys.executable, "-c", code])
    sampler = RssSampler(lambda: [child.pid], every_s=0.05)
    sampler.start()
    child.wait()
    peaks = sampler.stop()
    assert peaks.samples > 3 and peaks.largest_mb >= 80 and peaks.total_mb >= peaks.largest_mb
    assert peaks.total_pss_mb >= 80 > peaks.first_pss_mb  # the child had not grown yet at the first sample
    assert peaks.largest_name.startswith("python")


def _results(**changes: Any) -> dict[str, Any]:
    res: dict[str, Any] = {
        "machine": {"cores": 2, "load_start": 0.3, "date": "2026-12-01 09:00 +0700", "tesseract": "5.3.0",
                    "ocrmypdf": "17.13.0"},
        "pages": {"count": 12, "dpi300": 10, "faded": 4},
        "tesseract": {"pages": 12, "cer": 0.3758, "levelled": {"wall_s": 27.6, "cpu_s": 27.0, "cer": 0.0017},
                      "serial": {"wall_s": 18.0, "cpu_s": 17.4},
                      "parallel": {"wall_s": 9.6, "cpu_s": 18.0, "machine_util": 0.97}},
        "ocrmypdf": {"pages": 12, "wall_s": 36.0, "cpu_s": 64.8, "jobs": 2, "cer": 0.0101},
        "pipeline": {"pages": 12, "wall_s": 10.2, "cpu_s": 19.0, "documents": 6, "archived": 6,
                     "machine_util": 0.98, "cer": 0.0017},
        "profiles": {"standard": {"kb_per_page": 280.0, "pages": 12}, "archival": {"kb_per_page": 4400.0, "pages": 12}},
        "born_digital": {"documents": 50, "archived": 50, "wall_s": 4.0, "cpu_s": 7.0},
        "big_scan": {"pages_asked": 500, "pages": 500, "archived": 1, "wall_s": 600.0,
                     "rss": {"peak_total_mb": 1200, "peak_total_pss_mb": 900, "peak_largest_mb": 400,
                             "largest": "ocrmypdf", "services_peak_mb": 300}},
    }
    for key, value in changes.items():
        res[key] = value
    return res


def test_every_target_has_its_verdict() -> None:
    verdicts = {figure: verdict for figure, _value, target, verdict in rows(_results()) if target}
    assert verdicts == {
        "pipeline, wall per page (ratio to raw, all cores)": "PASS",  # 0.85 s against 0.80 s: 1.06×
        "pipeline, mean CPU utilisation (ours; machine)": "PASS",  # 19.0 / (10.2 × 2) = 93%
        "character error rate: pipeline (stored text)": "PASS",  # 0.17%
        "stored KB per page, standard": "PASS",
        "born-digital documents per second": "PASS",  # 12.5
        "500-page scan, peak memory, all ingest processes": "PASS",  # PSS 900 MB (RSS sum 1,200 MB)
        "500-page scan, peak RSS, largest process": "PASS",
    }
    text = report(_results())
    assert "2.30 s wall, 2.25 s CPU per page; error rate 0.17%" in text and "(1.09×; 0.70× levelled)" in text
    assert "37.58%" in text and "1.01%" in text and "0.17% (6 documents)" in text
    assert "1.06×" in text and "12.50" in text and "93% of 2 cores" in text and "4,400 KB" in text
    assert "PSS 900 MB (RSS sum 1,200 MB; PSS 0 MB at the start)" in text


def test_missed_targets_and_a_small_memory_run() -> None:
    slow = _results(pipeline={"pages": 12, "wall_s": 80.0, "cpu_s": 95.0, "documents": 6, "archived": 6,
                              "machine_util": 1.0, "cer": 0.0076},
                    profiles={"standard": {"kb_per_page": 4400.0, "pages": 12}},
                    born_digital={"documents": 50, "archived": 50, "wall_s": 52.0, "cpu_s": 80.0},
                    big_scan={"pages_asked": 20, "pages": 20, "archived": 1, "wall_s": 90.0,
                              "rss": {"peak_total_mb": 700, "peak_total_pss_mb": 500, "peak_largest_mb": 300,
                                      "largest": "archive worker", "services_peak_mb": 280}})
    verdicts = [verdict for _figure, _value, target, verdict in rows(slow) if target]
    # 20 pages under 1 GiB say nothing of 500
    assert verdicts == ["FAIL", "FAIL", "FAIL", "FAIL", "FAIL", "n/a (20 p.)", "n/a (20 p.)"]
    over = _results(big_scan=slow["big_scan"] | {"rss": slow["big_scan"]["rss"] | {"peak_total_pss_mb": 1100}})
    assert [verdict for *_, verdict in rows(over)[-3:-1]] == ["FAIL", "n/a (20 p.)"]
