"""Documents whose task the broker lost. kombu's Redis transport pops a message (``BRPOP``) and only then
records it as unacknowledged, from the client: a worker whose connection drops between the two (a Redis
restart, a failover) loses the message, and its document would wait on the client until the batch's deadline
(seen once in the fault test: a retry published with an 8 s countdown, Redis stopped, never delivered).

A client following a batch therefore looks, every ``redis.lost_check_s``, at the documents whose state has
not changed for that long, and asks the broker whether it still holds the message each one waits on (queued,
or delivered and unacknowledged). One missing at two looks in a row, with no change of state in between, is
submitted again. That is safe: the same document of the same batch archived already is answered from the
journal (no second seal, count or journal entry), and of two copies running at once exactly one commits
its metadata.json (:meth:`~pipeline.archive.store.ArchiveStore.store_document`)."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any


class LostWatch:
    def __init__(self, every_s: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.every_s = every_s
        self.clock = clock
        self.last_change: dict[str, float] = {}
        self.suspects: set[str] = set()  # missing at the last look
        self.next_look = clock() + every_s

    def changed(self, source: str) -> None:
        """``source`` was submitted or its state moved: it is alive."""
        self.last_change[source] = self.clock()
        self.suspects.discard(source)

    def lost(self, pending: Mapping[str, Any], missing: Callable[[dict[str, Any]], list[str]]) -> list[str]:
        """The pending documents lost by the broker (missing twice in a row); ``missing`` asks the broker which
        of the documents it is given wait on a message it does not hold."""
        now = self.clock()
        if now < self.next_look:
            return []
        self.next_look = now + self.every_s
        quiet = {source: result for source, result in pending.items()
                 if now - self.last_change.get(source, now) >= self.every_s}
        gone = set(missing(quiet)) if quiet else set()
        confirmed = sorted(gone & self.suspects)
        self.suspects = gone - self.suspects
        return confirmed
