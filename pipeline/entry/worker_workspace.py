"""The worker's part in cleaning up work folders (:mod:`pipeline.app.workspace`): a pool process killed outright
(SIGKILL, the kernel's OOM killer, a hard time limit) leaves its document's folder behind; the next worker to start
on this host removes the folders of processes that are gone, before its pool forks. Imported by
:mod:`pipeline.entry.worker`, which it must not import at load time (it is imported from there)."""

from __future__ import annotations

import logging
from typing import Any

from celery.signals import worker_init

log = logging.getLogger("archive.worker")


@worker_init.connect
def sweep_work_folders(**_: Any) -> None:
    from pipeline.app.workspace import sweep
    from pipeline.entry.worker import current_settings

    try:
        sweep(current_settings())  # logs what it removed
    except OSError as exc:  # an unreadable work disk is reported by the first document, with its reason
        log.warning("work folders not swept: %s", exc)
