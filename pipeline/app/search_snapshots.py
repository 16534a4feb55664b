"""Publishing the search index for its replicas (:mod:`search.snapshots`): the index writer's Celery beat task
every ``search.publish_every_s``, and ``archive publish-index`` at once. A snapshot holds the text of every
indexed document, so publishing is the administrator's (or the system's) and audited when something is
published; a run with nothing new publishes nothing and records nothing."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from pipeline.app.context import Context
from pipeline.app.errors import Invalid
from pipeline.core.actor import Actor
from pipeline.core.vocabulary import Role

log = logging.getLogger("archive.search")


@dataclass
class Published:
    snapshot: str  # its directory name in search.snapshot_dir ("" when snapshots are not configured)
    new: bool

    def to_dict(self) -> dict[str, object]:
        return {"snapshot": self.snapshot, "new": self.new}


def publish_index(ctx: Context, actor: Actor, required: bool = True) -> Published:
    """Publish the index as the newest snapshot. Without ``search.snapshot_dir``: an error when ``required`` (the
    command), nothing otherwise (the beat task of a deployment without replicas)."""
    from search.snapshots import publish

    actor.require(Role.ADMIN, "publish the search index for its replicas")
    shared = ctx.settings.search.snapshot_dir
    if not shared:
        if required:
            raise Invalid("no search.snapshot_dir configured: there is nowhere to publish the index for replicas")
        return Published("", False)
    if ctx.settings.search.replica:
        raise Invalid("this process is a search replica (search.replica): only the index writer publishes")
    index = ctx.open_index()  # creates an empty index on a fresh installation; a stale one is refused here
    try:
        index.count()
    finally:
        index.close()
    snapshot, new = publish(ctx.settings.index_dir, Path(shared))
    if new:
        ctx.audit.record(actor.name, "search.publish", snapshot.name, "ok", {"snapshot_dir": shared})
        log.info("search index published as %s", snapshot)
    return Published(snapshot.name, new)
