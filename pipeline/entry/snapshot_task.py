"""The search index's publishing beat task (:mod:`pipeline.app.search_snapshots`): every
``search.publish_every_s`` the index writer (the ``index`` queue, one writer) publishes a snapshot for the
search replicas, as the system, when the index changed; nothing without ``search.snapshot_dir``. Registered
on the worker's Celery app, which imports this module."""

from __future__ import annotations

from typing import Any

from celery import Task
from celery.beat import BeatLazyFunc

from pipeline.app.messages import MessageRefused, sign_message
from pipeline.core.actor import SYSTEM
from pipeline.entry.worker import _verified, app, context, current_settings, message_key

PUBLISH = "archive.publish_index"
app.conf.task_routes = {**(app.conf.task_routes or {}), PUBLISH: {"queue": "index"}}  # the index writer's


@app.task(bind=True, name=PUBLISH, throws=(MessageRefused,))
def publish_index_task(self: Task, *args: Any, **kwargs: Any) -> dict[str, object]:
    """Publish the index when it changed since the last snapshot. One signed, empty message."""
    from pipeline.app.search_snapshots import publish_index

    _verified(self, PUBLISH, args, kwargs)
    return publish_index(context(), SYSTEM, required=False).to_dict()


def publish_message() -> dict[str, Any]:
    """Signed when beat sends it (evaluated at every run)."""
    return sign_message(message_key(), PUBLISH, {})


app.conf.beat_schedule = {**app.conf.beat_schedule, "publish-search-index": {  # a no-op without snapshot_dir
    "task": PUBLISH, "schedule": current_settings().search.publish_every_s,
    "args": (BeatLazyFunc(publish_message),)}}
