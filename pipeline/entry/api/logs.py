"""Request ids in the logs: each request's id (and, once known, its user) rides in context variables, every log
record made while the request runs carries them, and the JSON log lines name the request id."""

from __future__ import annotations

import json
import logging
import re
import uuid
from contextvars import ContextVar

from pipeline.core.logs import JsonLinesFormatter, setup_logging
from pipeline.core.settings import Settings

REQUEST_ID: ContextVar[str] = ContextVar("archive_request_id", default="")
ACTOR: ContextVar[str] = ContextVar("archive_request_actor", default="")
HEADER = "X-Request-ID"
_GOOD_ID = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")  # a caller's id is kept only when it is this tame


def request_id_from(header: str | None) -> str:
    """The caller's X-Request-ID when it is short and plain (so it can be logged as is), else a new one."""
    if header and _GOOD_ID.match(header):
        return header
    return uuid.uuid4().hex


class RequestJsonFormatter(JsonLinesFormatter):
    """The JSON line of :class:`JsonLinesFormatter` plus ``request_id``."""

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        request_id = getattr(record, "request_id", "")
        if not request_id:
            return line
        data = json.loads(line)
        data["request_id"] = request_id
        return json.dumps(data, ensure_ascii=False)


_installed = False


def _install_record_factory() -> None:
    global _installed
    if _installed:
        return
    previous = logging.getLogRecordFactory()

    def factory(*args: object, **kwargs: object) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        request_id = REQUEST_ID.get()
        if request_id:
            record.request_id = request_id
            if not getattr(record, "actor", None) and ACTOR.get():
                record.actor = ACTOR.get()
        return record

    logging.setLogRecordFactory(factory)
    _installed = True


def configure(settings: Settings) -> None:
    """JSON logs in ``<home>/logs/archive.jsonl`` (idempotent), with the request id on every line logged
    while a request runs."""
    setup_logging(settings.log_dir, settings.log.level)
    _install_record_factory()
    for handler in logging.getLogger("archive").handlers:
        if type(handler.formatter) is JsonLinesFormatter:
            handler.setFormatter(RequestJsonFormatter())
