"""pipeline.tools: the subprocess helper (missing program, timeout, minimal environment) and the
program wrappers, against the real programs installed here."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from pipeline.devtools.samples.pdfs import make_born_digital_pdf
from pipeline.tools import ghostscript, poppler, qpdf, tesseract
from pipeline.tools.run import ToolError, minimal_env, run, version


def test_missing_program_is_one_clear_line() -> None:
    with pytest.raises(ToolError, match=r"^no-such-tool-xyz is not installed"):
        run(["no-such-tool-xyz", "--help"], timeout=5)


def test_missing_known_program_says_what_to_install(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # an empty folder: nothing is installed
    with pytest.raises(ToolError) as info:
        qpdf.check(tmp_path / "x.pdf")
    assert str(info.value) == "qpdf is not installed: apt-get install qpdf"


def test_timeout_kills_the_process() -> None:
    started = time.monotonic()
    with pytest.raises(ToolError, match=r"^sleep timed out after 0.5 s"):
        run(["sleep", "5"], timeout=0.5)
    assert time.monotonic() - started < 3


def test_timeout_kills_the_programs_children_too(tmp_path: Path) -> None:
    marker = tmp_path / "survived"
    with pytest.raises(ToolError, match="timed out"):
        run(["sh", "-c", f"sleep 1.5; touch {marker}"], timeout=0.3)
    time.sleep(2.5)  # had the shell or its sleep survived the kill, the marker would exist now
    assert not marker.exists()


def test_child_environment_has_no_archive_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ARCHIVE_S3__SECRET_KEY", "do-not-leak")
    monkeypatch.setenv("ARCHIVE_SIGN__PIN", "1234")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "nope")
    done = run(["env"], timeout=10, env={"EXTRA": "1"})
    names = {line.split("=", 1)[0] for line in done.stdout.splitlines() if "=" in line}
    assert not {n for n in names if n.startswith(("ARCHIVE_", "AWS_"))}, names
    assert "do-not-leak" not in done.stdout
    assert {"PATH", "LANG", "LC_ALL", "OMP_THREAD_LIMIT", "EXTRA"} <= names
    assert "ARCHIVE_S3__SECRET_KEY" not in minimal_env()


def test_check_raises_on_failure_only_when_asked() -> None:
    assert run(["sh", "-c", "exit 3"], timeout=5).returncode == 3
    with pytest.raises(ToolError, match=r"sh failed \(exit 3\): boom"):
        run(["sh", "-c", "echo boom >&2; exit 3"], timeout=5, check=True)
    assert run(["cat"], timeout=5, input="xin chào").stdout == "xin chào"


def test_qpdf_check_passes_a_good_pdf_and_flags_a_truncated_one(tmp_path: Path) -> None:
    good = make_born_digital_pdf(["Văn bản kiểm tra cấu trúc."], tmp_path / "good.pdf")
    assert qpdf.check(good) == []
    truncated = tmp_path / "cut.pdf"
    truncated.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    problems = qpdf.check(truncated)
    assert problems and any("damaged" in p or "startxref" in p or "trailer" in p for p in problems), problems
    assert all(str(tmp_path) not in p for p in problems)  # paths shortened to the file name


def test_pdffonts_rows(tmp_path: Path) -> None:
    pdf = make_born_digital_pdf(["Phông chữ nhúng."], tmp_path / "fonts.pdf")
    rows = poppler.pdffonts(pdf)
    assert rows and all(r.embedded for r in rows)
    text = (
        "name                                 type              encoding         emb sub uni object ID\n"
        "------------------------------------ ----------------- ---------------- --- --- --- ---------\n"
        "Helvetica                            Type 1            WinAnsi          no  no  no       5  0\n"
        "ABCDEF+AVeryLongFontNameThatOverflowsTheColumn-Bold CID TrueType (OT) Identity-H yes yes yes 12  0\n"
    )
    helv, long = poppler.parse_pdffonts(text)
    assert (helv.name, helv.type, helv.embedded) == ("Helvetica", "Type 1", False)
    assert (long.name, long.type, long.embedded, long.object_id) == (
        "ABCDEF+AVeryLongFontNameThatOverflowsTheColumn-Bold",
        "CID TrueType (OT)",
        True,
        "12 0",
    )


def test_version_probes() -> None:
    assert "vie" in tesseract.languages()
    assert tesseract.version()[0].isdigit()
    assert ghostscript.version()[0].isdigit()
    assert version("qpdf") == qpdf.version()
