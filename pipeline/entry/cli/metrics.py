"""`archive metrics`: the Prometheus text exposition of what the workers and the CLI recorded, printed.

No listener: the service rules allow no unauthenticated port. Feed it to node-exporter's textfile collector (a
cron job writing a temporary file, then renaming it), or let the REST service serve it behind sign-in."""

from __future__ import annotations

import sys

from pipeline.entry.cli.common import session


def metrics() -> None:
    """Print the Prometheus metrics (text exposition format): documents by origin and outcome, pages, stage
    durations, failures by stage, quarantine entries. Administrators only."""
    from pipeline.app.metrics import exposition

    with session() as (ctx, actor):
        data = exposition(ctx, actor)
    sys.stdout.buffer.write(data)
    sys.stdout.flush()
