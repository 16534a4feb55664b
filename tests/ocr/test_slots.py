"""Machine-wide OCR slots (pipeline/ocr/slots.py): never more holders than slots, across processes; a free slot is
taken first; a dead holder's slot is free again."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from pathlib import Path

from pipeline.ocr.slots import Slot

HOLD = """
import sys, time
from pathlib import Path
from pipeline.ocr.slots import Slot
with Slot(Path(sys.argv[1]), 1):
    print("held", flush=True)
    time.sleep(60)
"""


def test_never_more_holders_than_slots(tmp_path: Path) -> None:
    folder = tmp_path / "slots"
    holding, most, lock = [0], [0], threading.Lock()

    def work(n: int) -> None:
        with Slot(folder, 2, n):
            with lock:
                holding[0] += 1
                most[0] = max(most[0], holding[0])
            time.sleep(0.05)
            with lock:
                holding[0] -= 1

    threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert most[0] == 2  # both slots used, never a third
    assert sorted(p.name for p in folder.iterdir()) == ["slot-0", "slot-1"]
    assert all(p.stat().st_mode & 0o777 == 0o600 for p in folder.iterdir())


def test_a_free_slot_is_taken_before_waiting(tmp_path: Path) -> None:
    folder = tmp_path / "slots"
    with Slot(folder, 2, hint=0) as first, Slot(folder, 2, hint=0) as second:  # hint 0 twice: slot 1 still free
        assert first.fd is not None and second.fd is not None


def test_a_killed_holders_slot_is_free_again(tmp_path: Path) -> None:
    folder = tmp_path / "slots"
    holder = subprocess.Popen([sys.executable, "-c", HOLD, str(folder)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        got = threading.Event()

        def take() -> None:
            with Slot(folder, 1):
                got.set()

        waiter = threading.Thread(target=take, daemon=True)
        waiter.start()
        assert not got.wait(0.5)  # the other process holds the only slot
        holder.kill()
        assert got.wait(10)  # the kernel let go of the dead process's lock
    finally:
        holder.kill()
        holder.wait()
