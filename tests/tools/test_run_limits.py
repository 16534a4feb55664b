"""The per-document limits :func:`pipeline.tools.run.run` applies to the programs it starts: their temporary files
in the document's folder (TMPDIR), and an address-space cap (RLIMIT_AS) — in this thread only. Real programs."""

from __future__ import annotations

import sys
import threading
from pathlib import Path

import pytest

from pipeline.tools.run import ToolError, memory_limit, run, scratch_dir

GREEDY = [sys.executable, "-c", "b = bytearray(600 * 2**20); b[::4096] = b'x' * len(b[::4096])"]  # 600 MB touched


def test_a_program_over_the_memory_limit_fails_and_says_so() -> None:
    with memory_limit(300), pytest.raises(ToolError) as failed:
        run(GREEDY, timeout=60, check=True)
    said = str(failed.value)
    assert said.startswith("python failed (exit 1): ")
    assert said.endswith("(stopped at the memory limit of 300 MB per program: [ocr] tool_max_memory_mb)")
    with memory_limit(0):  # no limit
        assert run(GREEDY, timeout=60).returncode == 0
    assert run(GREEDY, timeout=60).returncode == 0  # outside any block


def test_scratch_folder_is_the_programs_tmpdir_in_this_thread_only(tmp_path: Path) -> None:
    echo = ["sh", "-c", 'echo "${TMPDIR:-unset}"']
    outside = run(echo, timeout=10).stdout.strip()
    seen: list[str] = []
    with scratch_dir(tmp_path):
        assert run(echo, timeout=10).stdout.strip() == str(tmp_path)
        other = threading.Thread(target=lambda: seen.append(run(echo, timeout=10).stdout.strip()))
        other.start()
        other.join()
        made = Path(run(["sh", "-c", "mktemp"], timeout=10, check=True).stdout.strip())
        assert made.parent == tmp_path
    assert seen == [outside] and run(echo, timeout=10).stdout.strip() == outside
