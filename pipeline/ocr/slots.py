"""At most one Tesseract per core on this machine, whatever runs them: lock files, one per slot, in a folder every
OCR on the machine shares (``flock``: released by the kernel when a process dies, so a killed worker never keeps
one). A document's pages then run on every core while it is alone, and documents share the cores when several run
at once (the Celery pool has one process per core: without slots, pages in parallel inside each would put two
Tesseracts on every core).

Waiting for a slot blocks in the kernel (``flock`` without LOCK_NB), never in a polling loop: a page first tries
every slot, then waits on the one its number points at."""

from __future__ import annotations

import fcntl
import os
from pathlib import Path
from types import TracebackType


class Slot:
    """``with Slot(folder, count, hint):`` holds one of ``count`` slots of ``folder`` (None: no limit)."""

    def __init__(self, folder: Path | None, count: int, hint: int = 0) -> None:
        self.folder, self.count, self.hint = folder, max(1, count), hint
        self.fd: int | None = None

    def _open(self, index: int) -> int:
        assert self.folder is not None
        return os.open(self.folder / f"slot-{index}", os.O_CREAT | os.O_RDWR | os.O_CLOEXEC, 0o600)

    def __enter__(self) -> Slot:
        if self.folder is None:
            return self
        self.folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        for index in range(self.count):
            fd = self._open(index)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)
                continue
            self.fd = fd
            return self
        fd = self._open(self.hint % self.count)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
        except BaseException:
            os.close(fd)
            raise
        self.fd = fd
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        if self.fd is not None:
            fcntl.flock(self.fd, fcntl.LOCK_UN)
            os.close(self.fd)
            self.fd = None
