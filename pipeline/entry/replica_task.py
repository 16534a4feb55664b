"""The second copy's beat task (:mod:`pipeline.app.replica_runs`): every ``replica.sync_every_hours`` the beat
worker copies to the replica whatever it lacks (after an outage of the replica), as the system. Registered on
the worker's Celery app, which imports this module; kept apart so the worker module stays readable."""

from __future__ import annotations

from typing import Any

from celery import Task
from celery.beat import BeatLazyFunc

from pipeline.app.messages import MessageRefused, sign_message
from pipeline.entry.worker import _verified, app, context, current_settings, message_key

REPLICA_SYNC = "archive.replica_sync"
app.conf.task_routes = {**(app.conf.task_routes or {}), REPLICA_SYNC: {"queue": "renew"}}  # the beat worker's


@app.task(bind=True, name=REPLICA_SYNC, throws=(MessageRefused,))
def replica_sync_task(self: Task, *args: Any, **kwargs: Any) -> dict[str, Any]:
    """Copy to the replica what it lacks, as the system (nothing to do without a replica). One signed, empty
    message."""
    from pipeline.app.replica_runs import scheduled_sync

    _verified(self, REPLICA_SYNC, args, kwargs)
    return scheduled_sync(context())


def replica_sync_message() -> dict[str, Any]:
    """Signed when beat sends it (evaluated at every run)."""
    return sign_message(message_key(), REPLICA_SYNC, {})


app.conf.beat_schedule = {**app.conf.beat_schedule, "replica-sync": {
    "task": REPLICA_SYNC, "schedule": current_settings().replica.sync_every_hours * 3600.0,
    "args": (BeatLazyFunc(replica_sync_message),)}}
