"""`archive watch DIR`: the hot folder (:mod:`pipeline.app.watch`). Lines on stderr as batches are claimed,
documents finish and batches move to done/ or failed/. SIGTERM or Ctrl-C stops after the current batch; a second
one stops at once (the batch stays claimed and is resumed at the next start)."""

from __future__ import annotations

import logging
import os
import signal
import sys
from pathlib import Path
from types import FrameType
from typing import Annotated, Any

import typer

from pipeline.entry.cli.common import EXIT_PARTIAL, session


class _InfoLines(logging.Handler):
    """The watcher's info lines on stderr (warnings and errors reach the terminal through the usual handler)."""

    def __init__(self) -> None:
        from pipeline.core.logs import TerminalFormatter

        super().__init__(logging.INFO)
        self.setFormatter(TerminalFormatter())

    def emit(self, record: logging.LogRecord) -> None:
        if record.levelno < logging.WARNING:
            sys.stderr.write(self.format(record) + "\n")
            sys.stderr.flush()


def watch(
    folder: Annotated[Path, typer.Argument(metavar="DIR", help="The hot folder (inside an intake root): each "
                                                               "sub-folder is one batch.")],
    settle: Annotated[float, typer.Option(min=0, help="Seconds a batch's files must stay unchanged (names, sizes, "
                                                      "times) before it is ingested.")] = 30.0,
    interval: Annotated[float, typer.Option(min=0.05, help="Seconds between looks at the folder.")] = 5.0,
    once: Annotated[bool, typer.Option("--once", help="Ingest the batches stable within one settle time (and "
                                                      "those claimed before), then exit: for cron.")] = False,
    local: Annotated[bool, typer.Option("--local", help="Run the stages in this process, not on workers.")] = False,
    ready: Annotated[str | None, typer.Option(metavar="NAME", help="Also wait for this marker file in a batch "
                                                                   "(removed before the ingest).")] = None,
    attempts: Annotated[int, typer.Option(min=1, help="Runs of a batch whose documents an outage left unfinished, "
                                                      "before it goes to failed/.")] = 3,
    wait: Annotated[float, typer.Option(min=0, help="Seconds to wait for the workers on each batch.")] = 6 * 3600,
) -> None:
    """Ingest every batch that appears in DIR once its files are stable; move it to DIR/done or DIR/failed.
    Exit code with --once: 0, or 3 when a batch went to failed/."""
    from pipeline.app.watch import FAILED, Watcher, WatchOptions

    options = WatchOptions(settle_s=settle, interval_s=interval, executor="local" if local else None, wait_s=wait,
                           attempts=attempts, ready=ready)
    with session() as (ctx, actor), Watcher(ctx, actor, folder, options) as watcher:
        handler = _InfoLines()
        logging.getLogger("archive.watch").addHandler(handler)
        signals = 0

        def on_signal(signum: int, _frame: FrameType | None) -> None:
            nonlocal signals
            signals += 1
            if signals > 1:
                raise KeyboardInterrupt
            watcher.stop()  # a flag; os.write: a handler must not re-enter sys.stderr's buffer
            os.write(2, f"archive: {signal.Signals(signum).name}: stopping after the current batch (again to stop "
                        "now: the batch is resumed at the next start)\n".encode())

        previous: dict[int, Any] = {s: signal.signal(s, on_signal) for s in (signal.SIGINT, signal.SIGTERM)}
        try:
            finished = watcher.run(once=once)
        except KeyboardInterrupt:
            sys.stderr.write("archive: stopped; the batch being ingested is resumed at the next start\n")
            raise typer.Exit(130) from None
        finally:
            for number, old in previous.items():
                signal.signal(number, old)
            logging.getLogger("archive.watch").removeHandler(handler)
    if once and any(f.result == FAILED for f in finished):
        raise typer.Exit(EXIT_PARTIAL)
